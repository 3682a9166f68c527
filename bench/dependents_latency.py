#!/usr/bin/env python3
"""Latency of cross-file re-publication in `awaitguard lsp`: a helper module on which N open
documents depend is edited so that what it returns changes (a lazy queryset / a list), which
changes the finding in every dependent (AG102: the lazy queryset is iterated on the loop /
AG108: the helper evaluates it on the loop); each edit is timed from the write of didChange
to the arrival of the last dependent's publishDiagnostics that reflects it. Prints p50/p99/max
in ms over EDITS edits, as one JSON object.

    python3 bench/dependents_latency.py --server target/release/awaitguard [--docs 50] [--edits 40]
"""
import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
import subprocess

from lsp_latency import read, send

HELPER = '''from .models import Book


def books_by(author):
    return {ret}
'''

VIEW = '''from .helpers import books_by


async def view_{i}(request, author):
    for b in books_by(author):
        print(b.title)
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--docs", type=int, default=50)
    ap.add_argument("--edits", type=int, default=40)
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp())
    app = root / "app"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text("from django.db import models\n\n\nclass Book(models.Model):\n    title = models.CharField(max_length=9)\n")
    lazy, eager = "Book.objects.filter(author=author)", "list(Book.objects.filter(author=author))"
    (app / "helpers.py").write_text(HELPER.format(ret=lazy))
    views = []
    for i in range(a.docs):
        p = app / f"view_{i}.py"
        p.write_text(VIEW.format(i=i))
        views.append(p)
    proc = subprocess.Popen([a.server, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "processId": None, "rootUri": root.as_uri(), "workspaceFolders": [{"uri": root.as_uri(), "name": "w"}],
        "capabilities": {"textDocument": {"publishDiagnostics": {"versionSupport": True}}}}})
    while read(proc).get("id") != 1:
        pass
    send(proc, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
    uris = {p.as_uri() for p in views}
    state = {}  # uri -> the codes last published

    def pump_until(pred):
        while not pred():
            m = read(proc)
            if "id" in m and "method" in m:
                send(proc, {"jsonrpc": "2.0", "id": m["id"], "result": None})
            elif m.get("method") == "textDocument/publishDiagnostics":
                state[m["params"]["uri"]] = sorted(d.get("code") for d in m["params"]["diagnostics"])

    helper_uri = (app / "helpers.py").as_uri()
    send(proc, {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": helper_uri, "languageId": "python", "version": 1, "text": HELPER.format(ret=lazy)}}})
    for p in views:
        send(proc, {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": p.as_uri(), "languageId": "python", "version": 1, "text": p.read_text()}}})
    pump_until(lambda: all(state.get(u) == ["AG102"] for u in uris))
    times = []
    for k in range(a.edits):
        ret = eager if k % 2 == 0 else lazy
        want = ["AG108"] if k % 2 == 0 else ["AG102"]
        t0 = time.perf_counter()
        send(proc, {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": helper_uri, "version": k + 2}, "contentChanges": [{"text": HELPER.format(ret=ret)}]}})
        pump_until(lambda: all(state.get(u) == want for u in uris))
        times.append((time.perf_counter() - t0) * 1000)
    send(proc, {"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    send(proc, {"jsonrpc": "2.0", "method": "exit"})
    proc.wait(timeout=10)
    times.sort()
    print(json.dumps({"docs": a.docs, "edits": a.edits, "p50_ms": round(statistics.median(times), 2),
                      "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2), "max_ms": round(times[-1], 2)}))


if __name__ == "__main__":
    main()
