#!/usr/bin/env python3
"""Ecosystem check: run awaitguard over a pinned set of real projects and judge the findings.

Like ruff's scripts/check_ecosystem.py, but with verdicts: every finding the current build
produces on the set has a row in bench/ecosystem/verdicts.tsv saying whether it is a real bug
(TP), not one (FP) or arguable (debatable), so precision per rule can be measured and every
change to a rule shows up as added/removed findings.

    python3 bench/ecosystem.py prepare --sources DIR            # materialise the pinned projects
    python3 bench/ecosystem.py run --binary PATH --sources DIR --out results.json
    python3 bench/ecosystem.py report results.json              # per-rule precision, unjudged findings
    python3 bench/ecosystem.py diff old.json new.json           # added / removed findings
    python3 bench/ecosystem.py todo results.json                # unjudged findings as TSV rows to fill in

Standard library only (Python >= 3.11 for tomllib). See bench/ecosystem/README.md.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ECO = HERE / "ecosystem"
PROJECTS = Path(os.environ.get("AWAITGUARD_ECO_PROJECTS", ECO / "projects.toml"))
VERDICTS = ECO / "verdicts.tsv"
MIRROR = Path(os.environ.get("AWAITGUARD_ECO_MIRROR", "/work/.mirror"))
MARKER = ".ecosystem-pin"
VERDICT_COLUMNS = ["project", "path", "line", "code", "fingerprint", "verdict", "reason"]
VALID_VERDICTS = ("TP", "FP", "debatable")


# ---------------------------------------------------------------- the pinned list

def load_projects(path: Path = PROJECTS) -> list[dict]:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    projects = data.get("project", [])
    seen = set()
    for p in projects:
        for key in ("name", "source", "kind", "note"):
            if not p.get(key):
                raise SystemExit(f"{path}: project {p.get('name')!r} lacks {key!r}")
        if p["name"] in seen:
            raise SystemExit(f"{path}: duplicate project name {p['name']!r}")
        seen.add(p["name"])
        if p["source"].startswith("github:"):
            if not re.fullmatch(r"[0-9a-f]{40}", p.get("commit", "")):
                raise SystemExit(f"{path}: {p['name']}: a github source needs `commit` (40 hex)")
        elif p["source"].startswith("pypi:"):
            if not p.get("version"):
                raise SystemExit(f"{path}: {p['name']}: a pypi source needs `version`")
        else:
            raise SystemExit(f"{path}: {p['name']}: source must be github:owner/repo or pypi:name")
    return projects


def pin_of(p: dict) -> str:
    return p.get("commit") or p.get("version")


# ---------------------------------------------------------------- prepare

def git_dir_of(source: str) -> Path | None:
    owner_repo = source.removeprefix("github:")
    base = MIRROR / owner_repo.replace("/", "+")
    for cand in (base / "repo", base):
        if (cand / "HEAD").exists():
            return cand
        if (cand / ".git" / "HEAD").exists():
            return cand / ".git"
    return None


def prepare_one(p: dict, sources: Path, force: bool) -> str:
    dest = sources / p["name"]
    marker = dest / MARKER
    if marker.exists() and marker.read_text().strip() == pin_of(p) and not force:
        return "up to date"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if p["source"].startswith("github:"):
        g = git_dir_of(p["source"])
        if g is None:
            shutil.rmtree(dest)
            return (f"MISSING: no git dir for {p['source']} under {MIRROR}; fetch it first "
                    f"(search tool `fetch {p['source']}`), or set AWAITGUARD_ECO_MIRROR")
        archive = subprocess.run(["git", "--git-dir", str(g), "archive", p["commit"]],
                                 capture_output=True)
        if archive.returncode == 0:
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as t:
                t.extractall(dest, filter="tar")
        else:
            # Snapshots lack their largest files (blobs of 4 MiB and more), which makes
            # `git archive` fail: write the tree blob by blob, skipping the absent ones.
            try:
                skipped = extract_tree(g, p["commit"], dest)
            except RuntimeError as e:
                shutil.rmtree(dest)
                return f"MISSING: {e}"
            if skipped:
                (dest / MARKER).with_suffix(".skipped").write_text("\n".join(skipped) + "\n")
    else:
        name = p["source"].removeprefix("pypi:")
        with tempfile.TemporaryDirectory() as tmp:
            r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                                ":all:", "-d", tmp, f"{name}=={p['version']}"], capture_output=True)
            files = list(Path(tmp).iterdir())
            if r.returncode != 0 or not files:
                shutil.rmtree(dest)
                return f"MISSING: pip download {name}=={p['version']} failed"
            sdist = files[0]
            if sdist.name.endswith(".zip"):
                with zipfile.ZipFile(sdist) as z:
                    z.extractall(dest)
            else:
                with tarfile.open(sdist) as t:
                    t.extractall(dest, filter="data")
            # an sdist has one top folder: lift its contents so paths start at the package
            tops = [c for c in dest.iterdir()]
            if len(tops) == 1 and tops[0].is_dir():
                for c in tops[0].iterdir():
                    c.rename(dest / c.name)
                tops[0].rmdir()
    marker.write_text(pin_of(p) + "\n")
    return "prepared"


def extract_tree(g: Path, commit: str, dest: Path) -> list[str]:
    """Write the files of `commit` into `dest` with `git cat-file --batch`; return the paths
    whose blobs the git dir does not have. Symlinks and submodules are left out."""
    ls = subprocess.run(["git", "--git-dir", str(g), "ls-tree", "-r", "-z", commit], capture_output=True)
    if ls.returncode != 0:
        raise RuntimeError(f"git ls-tree {commit} failed: {ls.stderr.decode()[:200].strip()}")
    entries = []
    for item in ls.stdout.split(b"\0"):
        if not item:
            continue
        meta, path = item.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode in (b"100644", b"100755"):
            entries.append((sha.decode(), path.decode("utf-8", "surrogateescape")))
    skipped = []
    cat = subprocess.Popen(["git", "--git-dir", str(g), "cat-file", "--batch"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE)
    for sha, path in entries:
        cat.stdin.write(sha.encode() + b"\n")
        cat.stdin.flush()
        header = cat.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            skipped.append(path)
            continue
        data = cat.stdout.read(int(header[2]))
        cat.stdout.read(1)  # the newline after the contents
        target = dest / path
        if ".." in Path(path).parts:
            skipped.append(path)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    cat.stdin.close()
    cat.wait()
    return skipped


def cmd_prepare(args) -> int:
    sources = Path(args.sources).resolve()
    sources.mkdir(parents=True, exist_ok=True)
    missing = 0
    for p in selected(load_projects(), args.only):
        status = prepare_one(p, sources, args.force)
        missing += status.startswith("MISSING")
        print(f"{p['name']:<40} {pin_of(p)[:12]}  {status}")
    return 1 if missing else 0


def selected(projects: list[dict], only: str | None) -> list[dict]:
    if not only:
        return projects
    names = set(only.split(","))
    return [p for p in projects if p["name"] in names]


# ---------------------------------------------------------------- run

def fingerprint(line_text: str) -> str:
    """A short, stable fingerprint of a source line: its text with all whitespace removed,
    hashed (8 hex digits). Survives re-indentation and the line moving; changes when the
    code on the line changes."""
    norm = re.sub(r"\s+", "", line_text)
    return hashlib.sha1(norm.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def source_line(root: Path, rel: str, line: int, cache: dict) -> str:
    if rel not in cache:
        try:
            cache[rel] = (root / rel).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            cache[rel] = []
    lines = cache[rel]
    return lines[line - 1] if 0 < line <= len(lines) else ""


def cmd_run(args) -> int:
    binary = str(Path(args.binary).resolve())
    sources = Path(args.sources).resolve()
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    out = {"binary": binary, "version": version, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "projects": {}, "findings": []}
    # An empty config given with --config: the project's own [tool.awaitguard] (if any) and any
    # config above the sources folder are ignored, so every project is checked with the default
    # rules; unlike --isolated, the Django/Celery version is still detected from the project's
    # requirements / lock files (--isolated turns that detection off too).
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "awaitguard.toml"
        empty.write_text("# ecosystem check: default settings\n")
        failed = 0
        for p in selected(load_projects(), args.only):
            root = sources / p["name"]
            if not (root / MARKER).exists() or (root / MARKER).read_text().strip() != pin_of(p):
                print(f"{p['name']:<40} not prepared at {pin_of(p)[:12]} (run prepare)", file=sys.stderr)
                out["projects"][p["name"]] = {"status": "missing"}
                failed += 1
                continue
            paths = p.get("paths") or ["."]
            t0 = time.monotonic()
            r = subprocess.run([binary, "check", "--format", "json", "--exit-zero", "--config", str(empty), *paths],
                               cwd=root, capture_output=True, text=True)
            secs = time.monotonic() - t0
            try:
                findings = json.loads(r.stdout or "[]")
            except json.JSONDecodeError:
                findings = None
            if r.returncode not in (0, 2) or findings is None:
                print(f"{p['name']:<40} FAILED (exit {r.returncode}): {r.stderr[:300]}", file=sys.stderr)
                out["projects"][p["name"]] = {"status": "failed", "exit": r.returncode, "stderr": r.stderr[-2000:]}
                failed += 1
                continue
            cache: dict = {}
            for f in findings:
                rel = os.path.normpath(f["path"]).replace(os.sep, "/")
                line = f["range"]["start"]["line"]
                text = source_line(root, rel, line, cache)
                out["findings"].append({
                    "project": p["name"], "path": rel, "line": line, "column": f["range"]["start"]["column"],
                    "code": f["code"], "message": f["message"].splitlines()[0],
                    "fingerprint": fingerprint(text), "source": text.strip()[:200],
                })
            out["projects"][p["name"]] = {"status": "ok", "exit": r.returncode, "seconds": round(secs, 3),
                                          "findings": len(findings),
                                          "stderr": r.stderr[-2000:] if r.returncode == 2 else ""}
            print(f"{p['name']:<40} {len(findings):>4} findings  {secs:6.2f} s"
                  + ("  (exit 2: " + r.stderr.strip().splitlines()[0][:80] + ")" if r.returncode == 2 and r.stderr.strip() else ""))
    out["findings"].sort(key=lambda f: (f["project"], f["path"], f["line"], f["column"], f["code"]))
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(out['findings'])} findings in {len(out['projects'])} projects -> {args.out}")
    return 1 if failed else 0


# ---------------------------------------------------------------- verdicts and matching

def load_verdicts(path: Path = VERDICTS) -> list[dict]:
    rows = []
    if not path.exists():
        return rows
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        cells = raw.split("\t")
        if cells[0] == "project":
            continue
        if len(cells) != len(VERDICT_COLUMNS):
            raise SystemExit(f"{path}:{n}: expected {len(VERDICT_COLUMNS)} tab-separated cells, got {len(cells)}")
        row = dict(zip(VERDICT_COLUMNS, cells))
        row["line"] = int(row["line"])
        if row["verdict"] not in VALID_VERDICTS:
            raise SystemExit(f"{path}:{n}: verdict must be one of {VALID_VERDICTS}, not {row['verdict']!r}")
        row["_n"] = n
        rows.append(row)
    return rows


def match(findings: list[dict], verdicts: list[dict]) -> tuple[dict[int, dict], list[dict]]:
    """Pair findings with verdicts. A verdict matches a finding with the same project, path
    and code and the same fingerprint of the source line, preferring the nearest line (so a
    finding that moved because lines were added above it keeps its verdict). A verdict whose
    fingerprint no longer matches anything still matches a finding on exactly its old
    (project, path, line, code). Each verdict is used once. Returns {finding index: verdict}
    and the verdicts left unused (stale)."""
    by_fp = collections.defaultdict(list)
    for v in verdicts:
        by_fp[(v["project"], v["path"], v["code"], v["fingerprint"])].append(v)
    used: set[int] = set()
    result: dict[int, dict] = {}
    # exact line first, then nearest, so two findings with the same fingerprint pair up in order
    for exact in (True, False):
        for i, f in enumerate(findings):
            if i in result:
                continue
            cands = [v for v in by_fp.get((f["project"], f["path"], f["code"], f["fingerprint"]), [])
                     if id(v) not in used and (not exact or v["line"] == f["line"])]
            if cands:
                v = min(cands, key=lambda v: abs(v["line"] - f["line"]))
                used.add(id(v))
                result[i] = v
    by_line = {(v["project"], v["path"], v["line"], v["code"]): v for v in verdicts if id(v) not in used}
    for i, f in enumerate(findings):
        if i not in result:
            v = by_line.get((f["project"], f["path"], f["line"], f["code"]))
            if v is not None and id(v) not in used:
                used.add(id(v))
                result[i] = v
    stale = [v for v in verdicts if id(v) not in used]
    return result, stale


def load_results(path: str) -> dict:
    return json.loads(Path(path).read_text())


def table(findings: list[dict], matched: dict[int, dict]) -> list[tuple]:
    per = collections.defaultdict(collections.Counter)
    for i, f in enumerate(findings):
        v = matched.get(i)
        per[f["code"]]["findings"] += 1
        per[f["code"]][v["verdict"] if v else "unjudged"] += 1
    rows = []
    total = collections.Counter()
    for code in sorted(per):
        c = per[code]
        total.update(c)
        rows.append((code, c))
    rows.append(("all", total))
    return rows


def precision(c: collections.Counter) -> str:
    judged = c["TP"] + c["FP"] + c["debatable"]
    return f"{100 * c['TP'] / judged:.0f} %" if judged else "–"


def format_table(rows: list[tuple], markdown: bool) -> str:
    head = ["rule", "findings", "TP", "FP", "debatable", "unjudged", "precision"]
    body = [[code, c["findings"], c["TP"], c["FP"], c["debatable"], c["unjudged"], precision(c)] for code, c in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in body:
            cells = [f"**{x}**" if r[0] == "all" else str(x) for x in r]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    fmt = "  ".join("{:<%d}" % widths[0] if i == 0 else "{:>%d}" % w for i, w in enumerate(widths))
    return "\n".join([fmt.format(*head)] + [fmt.format(*map(str, r)) for r in body])


def cmd_report(args) -> int:
    res = load_results(args.results)
    findings = res["findings"]
    matched, stale = match(findings, load_verdicts(Path(args.verdicts)))
    print(f"{res.get('version', '?')} on {len(res['projects'])} projects, {len(findings)} findings "
          f"(precision = TP / (TP + FP + debatable))\n")
    print(format_table(table(findings, matched), args.markdown))
    # The same code is often pinned twice (a known-bug pair, or a repository at two dates):
    # count each site once per repository as well, so duplicated code does not weigh twice.
    source = {p["name"]: p["source"] for p in load_projects()}
    first: dict[tuple, int] = {}
    for i, (f, k) in enumerate(zip(findings, key_list(findings))):
        # k = (project, path, code, fingerprint, n): the n-th such finding in its project
        # judged differently (the code around it changed between the pins): kept apart
        verdict = matched[i]["verdict"] if i in matched else None
        first.setdefault((source.get(f["project"], f["project"]),) + k[1:] + (verdict,), i)
    keep = sorted(first.values())
    print(f"\ndistinct sites ({len(keep)}: the n-th finding with the same path, rule and line text in two pins of one repository counted once, unless judged differently):\n")
    print(format_table(table([findings[i] for i in keep], {n: matched[i] for n, i in enumerate(keep) if i in matched}),
                       args.markdown))
    per_project = collections.Counter(f["project"] for f in findings)
    bad = {n: s for n, s in res["projects"].items() if s.get("status") != "ok"}
    if bad:
        print("\nprojects not checked: " + ", ".join(f"{n} ({s['status']})" for n, s in bad.items()))
    if args.projects:
        print("\nper project:")
        for name, s in res["projects"].items():
            print(f"  {name:<40} {per_project.get(name, 0):>4}  {s.get('seconds', '-')} s")
    unjudged = [f for i, f in enumerate(findings) if i not in matched]
    if unjudged:
        print(f"\n{len(unjudged)} findings without a verdict:")
        for f in unjudged:
            print(f"  {f['project']}  {f['path']}:{f['line']}  {f['code']}  [{f['fingerprint']}]  {f['source'][:100]}")
    if stale:
        print(f"\n{len(stale)} verdicts match no finding (fixed, moved or rule changed):")
        for v in stale:
            print(f"  verdicts.tsv:{v['_n']}  {v['project']}  {v['path']}:{v['line']}  {v['code']}  {v['verdict']}")
    return 1 if (unjudged and args.strict) else 0


def cmd_todo(args) -> int:
    """Unjudged findings as verdict rows with an empty verdict, to fill in. A verdict already
    given for the same path/code/fingerprint in another project pinned from the same source
    (another commit of the same repository) is proposed, marked `copied from`."""
    res = load_results(args.results)
    findings = res["findings"]
    verdicts = load_verdicts(Path(args.verdicts))
    matched, _ = match(findings, verdicts)
    source = {p["name"]: p["source"] for p in load_projects()}
    known = {}
    for v in verdicts:
        known.setdefault((source.get(v["project"]), v["path"], v["code"], v["fingerprint"]), v)
    for i, f in enumerate(findings):
        if i in matched:
            continue
        prop = known.get((source.get(f["project"]), f["path"], f["code"], f["fingerprint"]))
        verdict, reason = (prop["verdict"], prop["reason"]) if prop else ("", "")
        print("\t".join([f["project"], f["path"], str(f["line"]), f["code"], f["fingerprint"], verdict,
                         reason or ("# " + f["source"][:120])]))
    return 0


def key_list(findings: list[dict]) -> list[tuple]:
    # identity of a finding across builds: line-independent, occurrence-numbered
    seen = collections.Counter()
    keys = []
    for f in findings:
        k = (f["project"], f["path"], f["code"], f["fingerprint"])
        seen[k] += 1
        keys.append(k + (seen[k],))
    return keys


def cmd_diff(args) -> int:
    old, new = load_results(args.old), load_results(args.new)
    ko = dict(zip(key_list(old["findings"]), old["findings"]))
    kn = dict(zip(key_list(new["findings"]), new["findings"]))
    verdicts = load_verdicts(Path(args.verdicts))
    removed = [ko[k] for k in ko if k not in kn]
    added = [kn[k] for k in kn if k not in ko]

    def verdict_of(fs):
        m, _ = match(fs, verdicts)
        return [m.get(i, {}).get("verdict", "unjudged") for i in range(len(fs))]

    for title, fs in (("removed", removed), ("added", added)):
        vs = verdict_of(fs)
        counts = collections.Counter(vs)
        print(f"{len(fs)} {title}" + (" (" + ", ".join(f"{n} {v}" for v, n in counts.most_common()) + ")" if fs else ""))
        for f, v in zip(fs, vs):
            sign = "-" if title == "removed" else "+"
            print(f"  {sign} {f['project']}  {f['path']}:{f['line']}  {f['code']}  [{v}]  {f['source'][:90]}")
    by_rule = collections.Counter()
    for f in removed:
        by_rule[f["code"]] -= 1
    for f in added:
        by_rule[f["code"]] += 1
    if by_rule:
        print("per rule: " + ", ".join(f"{c} {n:+d}" for c, n in sorted(by_rule.items()) if n))
    return 1 if (added or removed) and args.exit_code else 0


def main() -> int:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `report | head` ends quietly
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("prepare", help="materialise the pinned projects into DIR/<name>/")
    a.add_argument("--sources", required=True)
    a.add_argument("--only", help="comma-separated project names")
    a.add_argument("--force", action="store_true", help="re-extract even when up to date")
    a.set_defaults(func=cmd_prepare)
    a = sub.add_parser("run", help="check every prepared project, write results JSON")
    a.add_argument("--binary", required=True)
    a.add_argument("--sources", required=True)
    a.add_argument("--out", required=True)
    a.add_argument("--only", help="comma-separated project names")
    a.set_defaults(func=cmd_run)
    a = sub.add_parser("report", help="per-rule counts and precision from results + verdicts")
    a.add_argument("results")
    a.add_argument("--verdicts", default=str(VERDICTS))
    a.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    a.add_argument("--projects", action="store_true", help="also list findings and time per project")
    a.add_argument("--strict", action="store_true", help="exit 1 when a finding has no verdict")
    a.set_defaults(func=cmd_report)
    a = sub.add_parser("todo", help="unjudged findings as verdict rows to fill in")
    a.add_argument("results")
    a.add_argument("--verdicts", default=str(VERDICTS))
    a.set_defaults(func=cmd_todo)
    a = sub.add_parser("diff", help="findings added / removed between two results files")
    a.add_argument("old")
    a.add_argument("new")
    a.add_argument("--verdicts", default=str(VERDICTS))
    a.add_argument("--exit-code", action="store_true", help="exit 1 when anything changed")
    a.set_defaults(func=cmd_diff)
    args = ap.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
