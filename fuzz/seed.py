#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets from tests/fixtures, tests/demo and
tests/projects.

analyze_fix: each source file as is.
core: each source file cut into pieces of at most 256 bytes at blank lines (the target runs
with -max_len=256).
project_model: three small files of a fixture project joined by 0xFF, then ops in the format
`decode_model` in tests/common/model_invariants.rs reads (deterministic: seeded).
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

c = root / "fuzz/corpus/core"
c.mkdir(parents=True, exist_ok=True)
n = 0
for i, p in enumerate(srcs):
    piece = b""
    for block in p.read_bytes().split(b"\n\n"):
        if piece and len(piece) + len(block) + 2 > 256:
            (c / f"seed-{n:04}").write_bytes(piece)
            n += 1
            piece = b""
        piece += block[:256] + b"\n\n"
    if piece:
        (c / f"seed-{n:04}").write_bytes(piece[:256])
        n += 1

m = root / "fuzz/corpus/project_model"
m.mkdir(parents=True, exist_ok=True)
py = sorted((root / "tests/projects").rglob("*.py"))
rs = sorted((root / "tests/projects").rglob("*.rs"))
rng = random.Random(23)
frags = [b"return ", b"list(", b"Book.objects.filter(pk=1)", b"from .b import *\n", b"from . import c\n", b"async ", b"await ",
         b"\n", b"def f():\n    ", b"mod a;\n", b"pub fn ", b".load(&mut conn)", b"spawn_blocking", b"x"]
for k in range(60):
    lang = k % 2
    pool = rs if lang else py
    files = [rng.choice(pool).read_bytes()[:600] for _ in range(3)] if pool else [b"", b"", b""]
    if not lang:
        files[0] = b"from .b import *\nfrom . import c\n" + files[0]
        files[1] = b"from .c import *\nfrom .a import *\n" + files[1]
    else:
        files[0] = b"mod a;\nmod b;\nuse crate::a::*;\n" + files[0]
        files[1] = b"use crate::b::*;\nuse super::*;\n" + files[1]
    ops = bytearray([lang])
    for _ in range(rng.randint(1, 6)):
        frag = rng.choice(frags)
        ops += bytes([rng.randrange(3) | (0x80 if rng.random() < 0.5 else 0), rng.randrange(256), rng.randrange(3), rng.randrange(8), len(frag)]) + frag
    (m / f"seed-{k:03}").write_bytes(b"\xff".join(files) + b"\xff" + bytes(ops))
print(f"{len(srcs)} source files seeded; core {n} pieces; project_model 60 inputs")
