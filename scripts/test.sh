#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds with
# -Wall -Wextra -Werror and runs every test, then builds again with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs every test again,
# then once more with only the portable POSIX code paths (what macOS and
# BSD hosts build).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

run_suite() { # build-dir, extra cmake args...
    local dir=$1; shift
    cmake -S . -B "$dir" -DSP_PACK_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
    ctest --test-dir "$dir" --output-on-failure -j "$jobs"
}

echo "== strict build (-Wall -Wextra -Werror) =="
run_suite build
echo "== AddressSanitizer + UndefinedBehaviorSanitizer =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_suite build-asan -DSP_PACK_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
echo "== portable build (-DSP_PACK_PORTABLE=ON) =="
run_suite build-portable -DSP_PACK_PORTABLE=ON
