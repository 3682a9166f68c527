#!/usr/bin/env python3
"""Soak test (not in CI): a burst of didChange notifications at a fixed rate against the real
server over stdio, with a hover request every second, then prints peak RSS, RSS over time and
publication counts.

    cargo build --release && python3 scripts/soak.py [--rate 100] [--seconds 60] [--bin PATH]
    python3 scripts/soak.py --documents 1000      # memory per open document instead

What it checks and prints:
- RSS (VmRSS) sampled every 0.5 s, and the kernel's peak (VmHWM): memory must stay flat.
- publishDiagnostics: how many, for how many distinct versions, never out of order, and the
  last change's version is published (only the newest versions are published).
- hover requests sent between changes: answered from the text current when each arrived (the
  finding under the cursor exists exactly when the word just sent is `get`).
Exit status 1 when an ordering or correctness check fails.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
VIEWS = (ROOT / "tests/demo/shop/views.py").read_text()
HEAD = "from .models import Book\n\n\nasync def view():\n    return Book.objects.get(pk=1)\n"
LINE, COL = 4, 24  # the `get` in HEAD


def frame(msg):
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def rss_kb(pid, field="VmRSS:"):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=100, help="didChange per second")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--bin", default=str(ROOT / "target/release/awaitguard"))
    ap.add_argument("--documents", type=int, default=0,
                    help="instead of the burst: open this many copies of views.py, report RSS per open document, close them")
    a = ap.parse_args()

    proc = subprocess.Popen([a.bin, "lsp", "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    lock = threading.Lock()
    publishes = []  # versions, in arrival order
    responses = {}
    done = threading.Event()

    def reader():
        out = proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    done.set()
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            msg = json.loads(out.read(length))
            with lock:
                if msg.get("method") == "textDocument/publishDiagnostics":
                    publishes.append((msg["params"].get("version"), len(msg["params"]["diagnostics"])))
                elif "id" in msg and "method" not in msg:
                    responses[msg["id"]] = msg
                elif "id" in msg and "method" in msg:  # server->client request: answer null
                    send({"jsonrpc": "2.0", "id": msg["id"], "result": None})

    wlock = threading.Lock()

    def send(msg):
        with wlock:
            proc.stdin.write(frame(msg))
            proc.stdin.flush()

    threading.Thread(target=reader, daemon=True).start()
    uri = "file:///soak/views.py"
    send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {
        "general": {"positionEncodings": ["utf-16"]}, "textDocument": {"publishDiagnostics": {"versionSupport": True}}}}})
    while 0 not in responses:  # the client must wait for the answer to initialize
        if done.is_set():
            print("server exited during initialize")
            return 1
        time.sleep(0.01)
    send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    # A realistic file: the burst edits the head, the rest is re-analysed every time.
    text = HEAD + "\n" + VIEWS * 4
    send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}})
    time.sleep(1.0)
    rss0 = rss_kb(proc.pid)
    if a.documents:
        return documents(a.documents, proc, send, lock, publishes, rss0)

    samples = []
    words = {}
    hovers = []  # (id, word at send time)
    interval = 1.0 / a.rate
    total = a.rate * a.seconds
    start = time.monotonic()
    next_sample = start
    next_id = 1
    for i in range(total):
        version = i + 2
        word = "get" if i % 3 == 0 else "gex"
        words[version] = word
        send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": LINE, "character": COL}, "end": {"line": LINE, "character": COL + 3}}, "text": word}]}})
        if i % a.rate == a.rate // 2:
            send({"jsonrpc": "2.0", "id": next_id, "method": "textDocument/hover", "params": {
                "textDocument": {"uri": uri}, "position": {"line": LINE, "character": COL + 1}}})
            hovers.append((next_id, word))
            next_id += 1
        now = time.monotonic()
        if now >= next_sample:
            samples.append((round(now - start, 1), rss_kb(proc.pid)))
            next_sample += 0.5
        delay = start + (i + 1) * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    sent_for = time.monotonic() - start
    last = total + 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with lock:
            if any(v == last for v, _ in publishes) and len(responses) >= len(hovers):
                break
        time.sleep(0.05)
    peak = rss_kb(proc.pid, "VmHWM:")
    rss_end = rss_kb(proc.pid)
    send({"jsonrpc": "2.0", "id": 10**9, "method": "shutdown", "params": None})
    time.sleep(0.5)
    send({"jsonrpc": "2.0", "method": "exit", "params": None})
    code = proc.wait(timeout=10)

    ok = True
    with lock:
        versions = [v for v, _ in publishes if v and v > 1]
        ordered = all(b > a_ for a_, b in zip(versions, versions[1:]))
        # Each publication is right for its version: one finding more when the word is `get`.
        counts = {w: {n for v, n in publishes if v in words and words[v] == w} for w in ("get", "gex")}
        consistent = len(counts["get"]) <= 1 and len(counts["gex"]) <= 1 and counts["get"] != counts["gex"]
        # A hover answers from the text current when it arrived: the finding under the cursor
        # exists exactly when the word sent just before it is `get` (null otherwise).
        hover_right = hover_null = hover_wrong = 0
        for hid, word in hovers:
            r = responses.get(hid, {}).get("result")
            if r is None and word == "get":
                hover_null += 1
            elif (r is not None and "AG101" in r["contents"]["value"]) == (word == "get"):
                hover_right += 1
            else:
                hover_wrong += 1
    rss_values = [r for _, r in samples if r]
    print(f"changes sent: {total} in {sent_for:.1f} s ({total / sent_for:.0f}/s) on a {len(text)}-byte document")
    print(f"publications: {len(versions)} for {len(set(versions))} distinct versions; in order: {ordered}; "
          f"last version {last} published: {last in versions}; results consistent per version: {consistent}")
    print(f"hover between changes: {hover_right} answered from the current text, {hover_null} null where a finding was expected, {hover_wrong} wrong")
    print(f"RSS: after open {rss0} kB; during burst min {min(rss_values)} kB, max {max(rss_values)} kB; at end {rss_end} kB; peak (VmHWM) {peak} kB")
    print("RSS every 10 s:", ", ".join(f"{t:.0f}s={r}" for t, r in samples if abs(t - round(t / 10) * 10) < 0.26))
    print(f"exit code after shutdown/exit: {code}")
    ok = ordered and (last in versions) and consistent and hover_wrong == 0 and hover_null == 0 and code == 0
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def documents(n, proc, send, lock, publishes, rss0):
    """Opens n documents (views.py, 2 KB, with findings), waits for every publication, reports
    RSS; closes them all and reports RSS again (no tree is kept for a closed document)."""
    def wait_count(k):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with lock:
                if len(publishes) >= k:
                    return True
            time.sleep(0.05)
        return False
    with lock:
        start = len(publishes)
    t0 = time.monotonic()
    for i in range(n):
        send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": f"file:///soak/doc{i}.py", "languageId": "python", "version": 1, "text": VIEWS}}})
    ok = wait_count(start + n)
    opened = rss_kb(proc.pid)
    print(f"{n} documents of {len(VIEWS)} bytes opened and published in {time.monotonic() - t0:.1f} s (all published: {ok})")
    for i in range(n):
        send({"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {"textDocument": {"uri": f"file:///soak/doc{i}.py"}}})
    wait_count(start + 2 * n)  # push clients get an empty publication per closed document
    time.sleep(0.5)
    closed = rss_kb(proc.pid)
    print(f"RSS: one document open {rss0} kB; {n} open {opened} kB (+{(opened - rss0) / n:.1f} kB per document); "
          f"all closed {closed} kB; peak {rss_kb(proc.pid, 'VmHWM:')} kB")
    send({"jsonrpc": "2.0", "id": 10**9, "method": "shutdown", "params": None})
    time.sleep(0.3)
    send({"jsonrpc": "2.0", "method": "exit", "params": None})
    return 0 if ok and proc.wait(timeout=10) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
