#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check-package.sh - the Python packaging, offline, as a packager would:
#   1. python3 -m build --no-isolation: an sdist, then a wheel built from
#      that sdist (not from the tree), with Debian's python3-build,
#      python3-setuptools and python3-wheel;
#   2. the sdist carries every C source and header, VERSION, LICENSE and
#      pyproject.toml; the wheel's metadata has the version from VERSION,
#      the MIT licence, a summary and classifiers, and the wheel carries
#      LICENSE, the stub and py.typed;
#   3. the wheel installs with pip into a fresh venv (no index) and works
#      there: rcgc.__version__, a collected cycle; its extension exports
#      PyInit__rcgc alone.
# Usage: scripts/check-package.sh [PYTHON]   (default /usr/bin/python3)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${1:-/usr/bin/python3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rcgc-package.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
VERSION=$(head -n1 "$ROOT/VERSION")
fail() { echo "check-package: $*"; exit 1; }

# A copy of the tracked files, so that the build sees what a clone has
# and leaves nothing (egg-info, build/) in the work tree.
mkdir "$WORK/src"
git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
    (cd "$ROOT" && xargs -0 cp --parents -t "$WORK/src" 2>/dev/null) || true
[ -f "$WORK/src/setup.py" ] || fail "could not copy the tree"

echo "== check-package: python3 -m build (sdist, then a wheel from it)"
(cd "$WORK/src" && "$PY" -m build --no-isolation --outdir "$WORK/dist" . \
    >"$WORK/build.log" 2>&1) || { tail -30 "$WORK/build.log"; fail "build failed"; }
sdist="$WORK/dist/rcgc-$VERSION.tar.gz"
wheel=$(ls "$WORK"/dist/rcgc-"$VERSION"-*.whl 2>/dev/null | head -n1)
[ -f "$sdist" ] || fail "no $sdist"
[ -n "$wheel" ] || fail "no wheel for version $VERSION"
echo "$(basename "$sdist") $(basename "$wheel")"

echo "== check-package: contents and metadata"
tar -tzf "$sdist" | sed "s|^rcgc-$VERSION/||" | sort >"$WORK/sdist.txt"
(cd "$ROOT" && git ls-files 'objalloc/*.[ch]' 'refcount/*.[ch]' \
    'cyclegc/*.[ch]' 'pyext/*.[ch]' 'base/*.[ch]' 'pyalloc/*.[ch]') |
    sort >"$WORK/need.txt"
printf '%s\n' VERSION LICENSE pyproject.toml setup.py MANIFEST.in \
    README.md pyext/rcgc/__init__.pyi pyext/rcgc/py.typed >>"$WORK/need.txt"
missing=$(sort "$WORK/need.txt" | comm -23 - "$WORK/sdist.txt")
[ -z "$missing" ] || fail "the sdist lacks: $missing"
"$PY" - "$wheel" "$VERSION" <<'PYEOF'
import sys
import zipfile
from email.parser import Parser

wheel, version = sys.argv[1], sys.argv[2]
z = zipfile.ZipFile(wheel)
names = z.namelist()
meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
meta = Parser().parsestr(z.read(meta_name).decode())
problems = []
if meta["Version"] != version:
    problems.append("Version %s, VERSION says %s" % (meta["Version"], version))
if "MIT" not in (meta.get("License") or "") + (meta.get("License-Expression") or ""):
    problems.append("no MIT licence in METADATA")
if "License :: OSI Approved :: MIT License" not in meta.get_all("Classifier", []):
    problems.append("no licence classifier")
if not meta.get("Summary"):
    problems.append("no Summary")
for want in ("LICENSE", "rcgc/__init__.pyi", "rcgc/py.typed"):
    if not any(n.endswith(want) for n in names):
        problems.append("the wheel lacks " + want)
if problems:
    sys.exit("check-package: " + "; ".join(problems))
print("metadata: rcgc %s, %s, %d classifiers" % (
    meta["Version"], meta.get("License"), len(meta.get_all("Classifier"))))
PYEOF

echo "== check-package: install the wheel into a fresh venv"
"$PY" -m venv "$WORK/venv" >/dev/null
"$WORK/venv/bin/python" -m pip install -q --no-index "$wheel"
so=$(find "$WORK/venv" -name '_rcgc*.so' | head -n1)
exports=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVWi]$/ { print $3 }')
[ "$exports" = PyInit__rcgc ] || fail "the wheel's extension exports: $exports"
(cd "$WORK" && "$WORK/venv/bin/python" - "$VERSION" <<'PYEOF'
import sys

import rcgc

assert rcgc.__version__ == sys.argv[1], rcgc.__version__
with rcgc.Heap() as heap:
    a, b = heap.node(slots=1), heap.node(slots=1)
    a[0], b[0] = b, a
    del a, b
    assert heap.collect() == 2
print("installed wheel: rcgc %s from %s works" % (rcgc.__version__,
                                                 rcgc.__file__))
PYEOF
)
echo "check-package: all passed"
