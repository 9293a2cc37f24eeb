#!/usr/bin/env bash
# The main job on a real default input: installs what it needs, builds
# sp-pack, fetches Debian's CPython 3.11 stdlib and numpy for arm64-v8a and
# x86_64, packs them into ./out, prints what it produced, and imports numpy
# from the result with this machine's python3.11.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target sp-pack >/dev/null
scripts/fetch-inputs.sh arm64-v8a x86_64
cache=${SP_PACK_CACHE:-$HOME/.cache/sp-pack}
args=(pack --out out --exclude sitecustomize.py
      --stdlib "arm64-v8a=$cache/arm64-v8a/root/usr/lib/python3.11"
               "x86_64=$cache/x86_64/root/usr/lib/python3.11"
      --site-packages "arm64-v8a=$cache/arm64-v8a/root/usr/lib/python3/dist-packages"
                      "x86_64=$cache/x86_64/root/usr/lib/python3/dist-packages")
echo "\$ sp-pack ${args[*]}"
build/sp-pack "${args[@]}"
echo
echo "\$ python3.11 examples/boot_from_pack.py out x86_64"
/usr/bin/python3.11 examples/boot_from_pack.py out x86_64
