#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check-spdx.sh - every tracked source, build and documentation file names
# its licence with an SPDX line (SPDX-License-Identifier: MIT) in its
# first lines.  Prints the files without one; exits 1 if there are any.
# Usage: scripts/check-spdx.sh
#
# Files that cannot carry a comment (JSON, data, the licence itself, the
# fuzzer's corpus, generated results) are exempt: see EXEMPT below.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# Extended regular expression over paths.
EXEMPT='^(LICENSE|VERSION|\.gitignore|\.clang-format|bench/RESULTS\.md|fuzz/corpus/.*|.*\.(json|csv|txt\.in|supp)|pyext/rcgc/py\.typed)$'
missing=()
while IFS= read -r -d '' f; do
    if [[ "$f" =~ $EXEMPT ]]; then
        continue
    fi
    if ! head -n 5 "$f" | grep -q 'SPDX-License-Identifier: MIT'; then
        missing+=("$f")
    fi
done < <(git ls-files -z)
if [ ${#missing[@]} -gt 0 ]; then
    printf '%s\n' "${missing[@]}"
    echo "check-spdx: ${#missing[@]} files without an SPDX line"
    exit 1
fi
echo "check-spdx: every file names its licence"
