#!/usr/bin/env python3
"""Regenerates the rule table in README.md (between the rules:start/end markers) from
`awaitguard rule --all --format json`. Run after adding a rule; tests/readme.rs checks it."""
import json
import pathlib
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parent.parent
binary = sys.argv[1] if len(sys.argv) > 1 else "cargo run -q --"
rules = json.loads(subprocess.check_output(f"{binary} rule --all --format json", shell=True, cwd=root))
fix = {"none": "none", "sometimes": "when safe", "always": "yes"}
rows = [
    "| code | name | language | what it catches | severity | fix |",
    "|---|---|---|---|---|---|",
] + [
    f"| {r['code']} | {r['name']} | {r['language'].capitalize()} | {r['summary']} | {r['severity']} | {fix[r['fix']]} |"
    for r in rules
]
readme = root / "README.md"
text = readme.read_text()
start, end = "<!-- rules:start -->\n", "<!-- rules:end -->\n"
head, rest = text.split(start, 1)
_, tail = rest.split(end, 1)
readme.write_text(head + start + "\n".join(rows) + "\n" + end + tail)
