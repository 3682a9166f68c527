#!/usr/bin/env python3
"""Wall and CPU time of `check` for several awaitguard binaries against ruff, alternated.

    python3 bench/compare.py RUNS DIR BINARY... [RUFF]

A path ending in `ruff` runs `ruff check --no-cache --select ASYNC --exit-zero -q DIR`; any
other runs `BINARY check --exit-zero --format concise DIR`. Each round runs every command once,
in the order given; the first round warms the page cache and is dropped. Prints, per command,
the median and minimum wall time and the median CPU time (user + system of the child) in ms:
CPU time is the steadier signal on a shared machine.
"""
import resource
import statistics
import subprocess
import sys
import time


def main():
    runs, tree, binaries = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    cmds = {}
    for b in binaries:
        if b.endswith("ruff"):
            cmds[b] = [b, "check", "--no-cache", "--select", "ASYNC", "--exit-zero", "-q", tree]
        else:
            cmds[b] = [b, "check", "--exit-zero", "--format", "concise", tree]
    wall = {k: [] for k in cmds}
    cpu = {k: [] for k in cmds}
    for i in range(runs + 1):
        for k, cmd in cmds.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            elapsed = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if i:
                wall[k].append(elapsed * 1000)
                cpu[k].append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    for k in cmds:
        print(f"{k}: wall median {statistics.median(wall[k]):.0f} ms, min {min(wall[k]):.0f} ms; "
              f"CPU median {statistics.median(cpu[k]):.0f} ms")


if __name__ == "__main__":
    main()
