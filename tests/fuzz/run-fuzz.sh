#!/usr/bin/env bash
# Builds the fuzzers with clang (libFuzzer + ASan + UBSan) and runs each for
# a share of a bounded time on a seed corpus: the verify fixtures plus every
# file in tests/fuzz/regressions/ (inputs that once crashed a command,
# exhausted its memory or got through a writer; the hostile archives there
# are written by tests/e2e/hostile_archives.py).
#   tests/fuzz/run-fuzz.sh BUILD_DIR SECONDS
# fuzz_verify gets half of SECONDS, fuzz_inject, fuzz_align and
# fuzz_elfstrip (pack --strip, seeded with the ELF fixtures) a sixth each.
# Needs SP_PACK and SP_PACK_ELF_FIXTURES (the fixtures are made with them).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$1
seconds=$2
work=$build/fuzz
rm -rf "$work"
mkdir -p "$work/seeds" "$work/obj"
sources=()
for f in "$src"/src/*.c; do
    case $(basename "$f") in main.c | cli.c | cmd_*.c) ;; *) sources+=("$f") ;; esac
done
flags=(-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -I"$src/include")
# shellcheck disable=SC2207
deps=($(pkg-config --cflags --libs libzip zlib libelf libcjson libxxhash))
# The library once, then each target linked against it.
objs=()
for f in "${sources[@]}" "$build/bootstrap_data.c" "$build/pyc_helper_data.c"; do
    o=$work/obj/$(basename "$f" .c).o
    objs+=("$o")
    clang "${flags[@]}" -fsanitize=fuzzer-no-link -c "$f" -o "$o" &
    while (($(jobs -r | wc -l) >= 2)); do wait -n; done
done
wait
targets=(verify inject align elfstrip)
for t in "${targets[@]}"; do
    clang "${flags[@]}" -fsanitize=fuzzer -o "$work/fuzz_$t" "$src/tests/fuzz/fuzz_$t.c" \
        "${objs[@]}" "${deps[@]}" -lpthread
done
/usr/bin/python3 "$src/tests/e2e/verify_fixtures.py" "$work/seeds"
find "$src/tests/fuzz/regressions" -type f ! -name .keep -exec cp {} "$work/seeds/" \;
mkdir -p "$work/seeds-elfstrip"
find "$SP_PACK_ELF_FIXTURES" -maxdepth 1 -name '*.so' -exec cp {} "$work/seeds-elfstrip/" \;
find "$src/tests/fuzz/regressions" -type f -name 'elfstrip-*' -exec cp {} "$work/seeds-elfstrip/" \;
echo "fuzz: $(ls "$work/seeds" | wc -l) seeds, ${seconds}s over ${targets[*]}"
for t in "${targets[@]}"; do
    if [[ $t == verify ]]; then share=$((seconds / 2)); else share=$((seconds / 6)); fi
    seeds=$work/seeds
    [[ $t == elfstrip ]] && seeds=$work/seeds-elfstrip
    mkdir -p "$work/corpus-$t"
    # Replaying the seeds alone must pass too, then the bounded run.
    "$work/fuzz_$t" -runs=0 "$seeds"
    "$work/fuzz_$t" -max_total_time="$share" -rss_limit_mb=2048 -timeout=20 \
        -artifact_prefix="$work/$t-" -print_final_stats=1 "$work/corpus-$t" "$seeds"
done
