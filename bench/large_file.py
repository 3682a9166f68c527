#!/usr/bin/env python3
"""Peak RSS and CPU time of `check --format json` on one large Python file: the demo views
(tests/demo/shop/views.py) repeated to SIZE MB. Prints one line per size; with two binaries,
also whether their JSON outputs are identical.

    python3 bench/large_file.py BINARY [OTHER_BINARY] [--sizes 1,2,6,10]
"""
import argparse, os, subprocess, sys, tempfile

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--sizes", default="1,2,6,10")
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    src = open(os.path.join(here, "..", "tests", "demo", "shop", "views.py")).read()
    with tempfile.TemporaryDirectory() as d:
        for mb in [int(s) for s in a.sizes.split(",")]:
            path = os.path.join(d, f"big{mb}.py")
            with open(path, "w") as f:
                f.write(src * (mb * 1024 * 1024 // len(src) + 1))
            outs = []
            for b in a.binaries:
                # Each measurement in its own interpreter: children's ru_maxrss is the largest
                # so far, so a shared parent would report the previous run's peak.
                r = subprocess.run([sys.executable, "-c",
                    "import resource,subprocess,sys,time;t=time.monotonic();"
                    "p=subprocess.run(sys.argv[1:],capture_output=True);"
                    "u=resource.getrusage(resource.RUSAGE_CHILDREN);"
                    "sys.stdout.buffer.write(b'%.2f %.2f %d\\n'%(u.ru_utime+u.ru_stime,time.monotonic()-t,u.ru_maxrss)+p.stdout)",
                    b, "check", "--format", "json", "--max-file-size", "0", path], capture_output=True)
                head, _, body = r.stdout.partition(b"\n")
                cpu, wall, rss = head.decode().split()
                outs.append(body)
                print(f"{mb} MB  {b}: cpu {cpu} s  wall {wall} s  peak RSS {int(rss)//1024} MB", flush=True)
            if len(outs) > 1:
                print(f"{mb} MB  outputs identical: {all(o == outs[0] for o in outs)}", flush=True)

if __name__ == "__main__":
    main()
