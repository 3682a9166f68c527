#!/usr/bin/env python3
"""Writes the seed corpora for both fuzz targets from tests/fixtures and tests/demo.

analyze_fix: each source file as is.
edit_script: each source file + 0xFF + a language byte + a few pseudo-random changes in the
format `decode_script` in tests/common/invariants.rs reads (deterministic: seeded per file).
"""
import pathlib
import random

root = pathlib.Path(__file__).resolve().parent.parent
srcs = sorted(p for d in ("tests/fixtures", "tests/demo") for p in (root / d).rglob("*") if p.suffix in (".py", ".rs"))
a = root / "fuzz/corpus/analyze_fix"
e = root / "fuzz/corpus/edit_script"
a.mkdir(parents=True, exist_ok=True)
e.mkdir(parents=True, exist_ok=True)
for i, p in enumerate(srcs):
    data = p.read_bytes()
    lines = data.count(b"\n") + 1
    (a / f"seed-{i:03}-{p.name}").write_bytes(data)
    rng = random.Random(i)
    for variant in range(3):
        ops = bytearray([0xFF, 1 if p.suffix == ".rs" else 0])
        for _ in range(rng.randint(1, 8)):
            flags = rng.choice([0, 1, 2, 1, 1 | 8, 0 | 8])
            la, lb = sorted(rng.randrange(lines + 2) for _ in range(2))
            ops += bytes([flags | ((la >> 8) << 4), la & 0xFF, rng.randrange(40), lb & 0xFF, rng.randrange(40)])
            if rng.random() < 0.6:
                ops.append(0xE0 + rng.randrange(32))
            else:
                frag = rng.choice([b"x", b"(", b"async ", b"await ", b"\n    ", b"\xf0\x9f\x98\x80", b"\r\n", b")"])
                ops += bytes([len(frag)]) + frag
        (e / f"seed-{i:03}-{variant}-{p.name}").write_bytes(data + bytes(ops))
print(f"{len(srcs)} source files seeded")
