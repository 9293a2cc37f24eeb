#!/usr/bin/env bash
# Builds the verify fuzzer with clang (libFuzzer + ASan + UBSan) and runs it
# for a bounded time on a seed corpus: the verify fixtures, plus every file
# in tests/fuzz/regressions/ (inputs that once crashed it).
#   tests/fuzz/run-fuzz.sh BUILD_DIR SECONDS
# Needs SP_PACK and SP_PACK_ELF_FIXTURES (the fixtures are made with them).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$1
seconds=$2
work=$build/fuzz
rm -rf "$work"
mkdir -p "$work/seeds" "$work/corpus"
sources=()
for f in "$src"/src/*.c; do
    case $(basename "$f") in main.c | cli.c | cmd_*.c) ;; *) sources+=("$f") ;; esac
done
# shellcheck disable=SC2046
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$src/include" -o "$work/fuzz_verify" "$src/tests/fuzz/fuzz_verify.c" \
    "${sources[@]}" "$build/bootstrap_data.c" "$build/pyc_helper_data.c" \
    $(pkg-config --cflags --libs libzip zlib libelf libcjson libxxhash)
/usr/bin/python3 "$src/tests/e2e/verify_fixtures.py" "$work/seeds"
find "$src/tests/fuzz/regressions" -type f ! -name .keep -exec cp {} "$work/seeds/" \;
echo "fuzz: $(ls "$work/seeds" | wc -l) seeds, ${seconds}s"
# Replaying the seeds alone must pass too, then the bounded run.
"$work/fuzz_verify" -runs=0 "$work/seeds"
"$work/fuzz_verify" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 \
    -artifact_prefix="$work/" -print_final_stats=1 "$work/corpus" "$work/seeds"
