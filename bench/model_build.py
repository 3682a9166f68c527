#!/usr/bin/env python3
"""Time from `initialized` to a complete project model in `awaitguard lsp`, as an editor sees
it: the server reports reading the workspace with `$/progress` (begin … end) when the client
supports `window.workDoneProgress`. Prints the median of RUNS fresh servers, the number of
Python files read, and the server's peak RSS (VmHWM) after the model is complete, as one JSON
object.

    python3 bench/model_build.py --server target/release/awaitguard --root DIR [--runs 5]
"""
import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path

from lsp_latency import peak_rss_kb, read, send


def once(server, root):
    proc = subprocess.Popen([server, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    uri = Path(root).resolve().as_uri()
    send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "processId": None, "rootUri": uri, "workspaceFolders": [{"uri": uri, "name": "w"}],
        "capabilities": {"window": {"workDoneProgress": True}}}})
    while "id" not in (m := read(proc)) or m.get("id") != 1:
        pass
    t0 = time.perf_counter()
    send(proc, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
    token, message = None, ""
    while True:
        m = read(proc)
        if "id" in m and "method" in m:  # window/workDoneProgress/create and others
            send(proc, {"jsonrpc": "2.0", "id": m["id"], "result": None})
            continue
        if m.get("method") == "$/progress":
            v = m["params"]["value"]
            if v.get("kind") == "begin" and "reading the project" in v.get("title", ""):
                token = m["params"]["token"]
            elif v.get("kind") == "end" and m["params"]["token"] == token:
                message = v.get("message", "")
                break
    elapsed = time.perf_counter() - t0
    rss = peak_rss_kb(proc.pid)
    send(proc, {"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    send(proc, {"jsonrpc": "2.0", "method": "exit"})
    proc.wait(timeout=10)
    return elapsed, message, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    results = [once(a.server, a.root) for _ in range(a.runs)]
    print(json.dumps({
        "root": a.root,
        "runs": a.runs,
        "median_s": round(statistics.median(r[0] for r in results), 3),
        "min_s": round(min(r[0] for r in results), 3),
        "files": results[-1][1],
        "peak_rss_mb": round(max(r[2] for r in results) / 1024, 1),
    }))


if __name__ == "__main__":
    main()
