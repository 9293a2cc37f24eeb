#!/usr/bin/env bash
# Installs the Debian packages sp-pack needs to build and test (only the
# missing ones; apt-get update runs only when something is missing).
set -euo pipefail
pkgs=(
    # build
    gcc make cmake pkg-config
    libzip-dev zlib1g-dev libelf-dev libcjson-dev libxxhash-dev
    # tests: fixtures, real inputs, oracles
    clang lld g++ python3.11 qemu-user-static util-linux libblas3 liblapack3 ca-certificates
    python3-jsonschema
    # the interpreter matrix: Debian's CPython of bookworm, trixie and sid fetched
    # with an own apt state (scripts/fetch-python.sh), run through their own
    # loader or qemu, their libraries checked with readelf
    debian-archive-keyring dpkg binutils
    # the embedding example sp-launch (libpython3.11, python-3.11-embed.pc) and
    # the proof that it writes nothing and opens no Python file from disk
    python3.11-dev strace
    # Android's tools, the oracles for APKs
    zipalign apksigner aapt android-framework-res android-libziparchive-dev android-libbase-dev
    default-jre-headless protobuf-compiler
    # the verify fuzzer (libFuzzer runtime)
    libclang-rt-14-dev
)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "install-deps: installing ${missing[*]}" >&2
# A mirror mid-sync can fail one index; the install below says if that mattered.
"${sudo[@]}" apt-get update -qq || echo "install-deps: apt-get update reported errors" >&2
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
