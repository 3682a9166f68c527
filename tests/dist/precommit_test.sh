#!/usr/bin/env bash
# pre-commit test: README's pre-commit snippet, run by the real pre-commit (from PyPI, in a
# venv under $CARGO_TARGET_DIR or target/) against this repository as pre-commit would fetch it.
#   1. `pre-commit validate-manifest .pre-commit-hooks.yaml` (pre-commit's own schema);
#   2. README's `.pre-commit-config.yaml` snippet passes `pre-commit validate-config`;
#   3. the repository (the working tree's files) committed into a scratch git repository and
#      tagged v<version>, the tag scheme of docs/releasing.md; README's snippet with only the
#      URL pointed there, both hooks enabled, run on a tiny project: `awaitguard-fix` fixes
#      the finding (pre-commit reports the file modified), `awaitguard` then passes; with a
#      second finding that has no safe fix, `awaitguard` fails naming it.
# pre-commit installs the hooks with pip, which builds awaitguard with maturin; the build
# uses the dev profile and cargo's target folder (MATURIN_PEP517_ARGS, CARGO_TARGET_DIR) so it
# reuses `cargo test`'s build. Prints `N passed, M failed`; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-target}
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
WORK=$TARGET/precommit-test
PY=${PYTHON:-python3}
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
pass=0
fail=0
ok() { echo "ok   - $1"; pass=$((pass + 1)); }
no() { echo "FAIL - $1"; fail=$((fail + 1)); }
finish() { echo "pre-commit: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

rm -rf "$WORK/repo" "$WORK/project"
mkdir -p "$WORK"
if [ ! -x "$WORK/venv/bin/pre-commit" ]; then
  "$PY" -m venv "$WORK/venv" && "$WORK/venv/bin/pip" install --quiet --disable-pip-version-check "pre-commit>=3,<5" ||
    { no "pip install pre-commit"; finish; }
fi
PC=$WORK/venv/bin/pre-commit
export PRE_COMMIT_HOME=$WORK/cache

# 1. The manifest.
if "$PC" validate-manifest .pre-commit-hooks.yaml; then ok "validate-manifest .pre-commit-hooks.yaml"; else no "validate-manifest"; fi

# 2. README's snippet.
awk '/^```yaml$/ { on = 1; b = ""; next } on && /^```$/ { on = 0; if (b ~ /repos:/) { printf "%s", b; exit } ; next } on { b = b $0 "\n" }' README.md >"$WORK/snippet.yaml"
if grep -q "rev: v$VERSION" "$WORK/snippet.yaml" && "$PC" validate-config "$WORK/snippet.yaml"; then
  ok "README's snippet is a valid config pinned to v$VERSION"
else
  cat "$WORK/snippet.yaml"; no "README's snippet"; finish
fi

# 3. The repository as pre-commit fetches it: tracked and new files, committed and tagged.
mkdir -p "$WORK/repo"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && mkdir -p "$WORK/repo/$(dirname "$f")" && cp -p "$f" "$WORK/repo/$f"
done
(cd "$WORK/repo" && git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm snapshot &&
  git tag -a "v$VERSION" -m "awaitguard $VERSION") || { no "snapshot repository"; finish; }
mkdir -p "$WORK/project"
sed -e "s#https://github.com/awaitguard/awaitguard#$WORK/repo#" -e 's/# - id: awaitguard-fix/- id: awaitguard-fix/' \
  "$WORK/snippet.yaml" >"$WORK/project/.pre-commit-config.yaml"
# The fix hook first (as a user enables it), then the report-only hook.
python3 - "$WORK/project/.pre-commit-config.yaml" <<'PYEOF'
import sys
p = sys.argv[1]
lines = open(p).read().splitlines()
fix = [l for l in lines if "id: awaitguard-fix" in l]
rest = [l for l in lines if "id: awaitguard-fix" not in l]
i = next(i for i, l in enumerate(rest) if "hooks:" in l)
open(p, "w").write("\n".join(rest[: i + 1] + fix + rest[i + 1 :]) + "\n")
PYEOF
cat >"$WORK/project/views.py" <<'PYEOF'
from django.http import JsonResponse
from .models import Book


async def detail(request, pk):
    book = Book.objects.get(pk=pk)
    return JsonResponse({"title": book.title})


async def count(request):
    return JsonResponse({"n": await Book.objects.acount()})
PYEOF
cd "$WORK/project" && git init -q && git add -A || { no "project"; finish; }
export CARGO_TARGET_DIR=$TARGET MATURIN_PEP517_ARGS="--profile dev"
"$PC" run --all-files >"$WORK/run1.log" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "files were modified by this hook" "$WORK/run1.log" && grep -q "await Book.objects.aget(pk=pk)" views.py; then
  ok "awaitguard-fix fixes the finding (pre-commit reports the file modified)"
else
  tail -40 "$WORK/run1.log"; no "awaitguard-fix (exit $rc)"
fi
git add -A
if "$PC" run --all-files >"$WORK/run2.log" 2>&1; then ok "both hooks pass on the fixed project"; else tail -20 "$WORK/run2.log"; no "second run"; fi
cat >>views.py <<'PYEOF'


async def transfer(request):
    from django.db import transaction
    with transaction.atomic():
        await Book.objects.filter(pk=1).adelete()
PYEOF
git add -A
"$PC" run awaitguard --all-files >"$WORK/run3.log" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "AG202" "$WORK/run3.log"; then ok "awaitguard fails on a finding, naming it"; else tail -20 "$WORK/run3.log"; no "report hook (exit $rc)"; fi
finish
