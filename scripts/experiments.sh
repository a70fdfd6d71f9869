#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run the rcgc experiments (experiments/*.py) into experiments/out/.
# Usage: scripts/experiments.sh [--full] [PYTHON]
#   default: small sizes (--quick), a minute or two in all;
#   --full:  the sizes of the figures (minutes, a few GB of memory).
# Every point is the median of 5 samples (EXPERIMENT_SAMPLES, at least 5),
# drawn with its spread.
# Builds the extension in place first (python3 setup.py build_ext
# --inplace, objects under build-pyext/), so it needs no install.
# PNG figures need matplotlib in the Python that runs the experiments: when
# PYTHON has none, the first of $PLOT_PYTHON and /usr/bin/python3 (Debian's,
# with python3-matplotlib: make deps-experiments) that has matplotlib and
# setuptools runs them instead; with none, CSV only.
set -euo pipefail
size=--quick
if [ "${1:-}" = --full ]; then size=""; shift; fi
PY=${1:-python3}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
has() { "$1" -c "import $2" >/dev/null 2>&1; }
if ! has "$PY" matplotlib; then
    found=""
    for cand in ${PLOT_PYTHON:-} /usr/bin/python3; do
        if has "$cand" matplotlib && has "$cand" setuptools; then
            found=$cand
            break
        fi
    done
    if [ -n "$found" ]; then
        echo "experiments: $PY has no matplotlib; running with $found" \
            "(it has)"
        PY=$found
    else
        echo "experiments: no Python with matplotlib: CSV only" \
            "(make deps-experiments installs python3-matplotlib for" \
            "/usr/bin/python3; or PLOT_PYTHON=/path/to/python)"
    fi
fi
"$PY" setup.py -q build_ext --inplace --build-temp build-pyext/tmp >/dev/null
out="$root/experiments/out"
mkdir -p "$out"
export PYTHONPATH="$root/pyext${PYTHONPATH:+:$PYTHONPATH}"
for s in pause_vs_size pause_modes threshold_sweep survival_by_age fragmentation \
         rcgc_vs_cpython; do
    echo "== experiments: $s"
    "$PY" "experiments/$s.py" $size --out "$out" \
        --samples "${EXPERIMENT_SAMPLES:-5}"
done
echo "experiments: results in experiments/out/"
ls "$out"
