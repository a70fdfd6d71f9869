#!/usr/bin/env bash
# Run the rcgc experiments (experiments/*.py) into experiments/out/.
# Usage: scripts/experiments.sh [--full] [PYTHON]
#   default: small sizes (--quick), a minute or two in all;
#   --full:  the sizes of the figures (minutes, a few GB of memory).
# Builds the extension in place first (python3 setup.py build_ext
# --inplace, objects under build-pyext/), so it needs no install.
# PNG figures need matplotlib importable by PYTHON; otherwise CSV only.
set -euo pipefail
size=--quick
if [ "${1:-}" = --full ]; then size=""; shift; fi
PY=${1:-python3}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$PY" setup.py -q build_ext --inplace --build-temp build-pyext/tmp >/dev/null
out="$root/experiments/out"
mkdir -p "$out"
export PYTHONPATH="$root/pyext${PYTHONPATH:+:$PYTHONPATH}"
for s in pause_vs_size threshold_sweep survival_by_age fragmentation \
         rcgc_vs_cpython; do
    echo "== experiments: $s"
    "$PY" "experiments/$s.py" $size --out "$out"
done
echo "experiments: results in experiments/out/"
ls "$out"
