#!/usr/bin/env python3
"""Per-keystroke latency of `awaitguard lsp` over stdio, as an editor sees it.

Opens FILE (with ROOT as the workspace), then sends EDITS incremental didChange
notifications of one character each (typing a character into a comment line, then deleting
it, alternately), and times each one from the write of didChange to the arrival of the
publishDiagnostics carrying that version. Edits are sequential: the next is sent once the
previous version's diagnostics arrived. Prints p50/p99/max in ms and the server's peak RSS
(VmHWM) at the end, as one JSON object.
"""
import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path


def send(proc, msg):
    body = json.dumps(msg).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()


def read(proc):
    length = None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("server closed stdout")
        line = line.strip()
        if not line:
            break
        k, _, v = line.partition(b":")
        if k.lower() == b"content-length":
            length = int(v)
    return json.loads(proc.stdout.read(length))


def wait_for(proc, pred):
    while True:
        m = read(proc)
        if "id" in m and "method" in m:  # a server->client request: answer it
            send(proc, {"jsonrpc": "2.0", "id": m["id"], "result": None})
            continue
        if pred(m):
            return m


def peak_rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--edits", type=int, default=1000)
    a = ap.parse_args()
    path = Path(a.file).resolve()
    uri = path.as_uri()
    text = path.read_text()
    proc = subprocess.Popen([a.server, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "processId": os.getpid(), "rootUri": Path(a.root).resolve().as_uri(),
        "workspaceFolders": [{"uri": Path(a.root).resolve().as_uri(), "name": "corpus"}],
        "capabilities": {"general": {"positionEncodings": ["utf-16"]},
                         "textDocument": {"publishDiagnostics": {"versionSupport": True}}}}})
    wait_for(proc, lambda m: m.get("id") == 1)
    send(proc, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
    send(proc, {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": text}}})
    is_diag = lambda v: lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"].get("version") == v
    first = wait_for(proc, is_diag(1))
    # Edit inside the body of the middle line that holds code: a realistic place to type.
    lines = text.split("\n")
    line = len(lines) // 2
    while not lines[line].strip():
        line += 1
    col = len(lines[line].encode("utf-16-le")) // 2
    times = []
    for i in range(a.edits):
        version = i + 2
        if i % 2 == 0:
            change = {"range": {"start": {"line": line, "character": col}, "end": {"line": line, "character": col}}, "text": " "}
        else:
            change = {"range": {"start": {"line": line, "character": col}, "end": {"line": line, "character": col + 1}}, "text": ""}
        t0 = time.perf_counter()
        send(proc, {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}})
        wait_for(proc, is_diag(version))
        times.append((time.perf_counter() - t0) * 1000)
    rss = peak_rss_kb(proc.pid)
    send(proc, {"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    wait_for(proc, lambda m: m.get("id") == 2)
    send(proc, {"jsonrpc": "2.0", "method": "exit"})
    proc.wait(timeout=10)
    times.sort()
    q = lambda p: times[min(len(times) - 1, int(p * len(times)))]
    print(json.dumps({
        "file": str(path), "bytes": len(text.encode()), "edits": len(times),
        "diagnostics": len(first["params"]["diagnostics"]),
        "p50_ms": round(statistics.median(times), 3), "p99_ms": round(q(0.99), 3), "max_ms": round(times[-1], 3),
        "peak_rss_mb": round(rss / 1024, 1) if rss else None,
    }))


if __name__ == "__main__":
    main()
