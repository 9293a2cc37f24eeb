#!/usr/bin/env bash
# Fetch Debian's CPython 3.11 stdlib and numpy (and, with --runtime, the
# interpreter and its shared libraries) for Android ABIs, unpacked into a cache.
#
#   scripts/fetch-inputs.sh [--runtime] ABI...      prints nothing; see layout below
#   scripts/fetch-inputs.sh --more ABI...           scipy, lxml and yaml, in a root of their own
#
# Layout: $SP_PACK_CACHE/<abi>/root/   the unpacked .debs (usr/lib/python3.11, ...)
#         $SP_PACK_CACHE/<abi>/debs/   the downloaded .debs
#         $SP_PACK_CACHE/<abi>/more/{root,debs}/  the same for --more (its dist-packages
#                                      is a second --site-packages beside root's numpy)
#         $SP_PACK_CACHE/lists-<arch>/ apt lists for that architecture
# SP_PACK_CACHE defaults to ~/.cache/sp-pack. Already unpacked packages are kept.
set -euo pipefail

cache=${SP_PACK_CACHE:-$HOME/.cache/sp-pack}
runtime=0
more=0
if [ "${1:-}" = --runtime ]; then runtime=1; shift; fi
if [ "${1:-}" = --more ]; then more=1; shift; fi
[ $# -gt 0 ] || { echo "usage: $0 [--runtime|--more] ABI..." >&2; exit 2; }

python_pkgs="libpython3.11-stdlib libpython3.11-minimal python3-numpy"
# Packages beside numpy for the size tests (pack --exclude-preset): their own root, so
# the trees every other test packs stay as they are. liblbfgsb0 is the one library
# scipy's modules need that Debian's python3.11 host lacks (tests put its directory
# on LD_LIBRARY_PATH).
more_pkgs="python3-scipy python3-lxml python3-yaml liblbfgsb0"
# What Debian's python3.11 and numpy need at run time (for qemu-user tests).
runtime_pkgs="python3.11-minimal libc6 libgcc-s1 libstdc++6 libexpat1 zlib1g libssl3
 libffi8 libbz2-1.0 liblzma5 libsqlite3-0 libuuid1 libncursesw6 libtinfo6
 libreadline8 libcrypt1 libnsl2 libtirpc3 libdb5.3 libgdbm6 libblas3 liblapack3
 libgfortran5 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libcom-err2
 libkrb5support0 libkeyutils1 libzstd1"

deb_arch() {
    case $1 in
        arm64-v8a) echo arm64 ;; armeabi-v7a) echo armhf ;;
        x86) echo i386 ;; x86_64) echo amd64 ;; riscv64) echo riscv64 ;;
        *) echo "fetch-inputs: unknown ABI '$1'" >&2; exit 2 ;;
    esac
}

for abi in "$@"; do
    arch=$(deb_arch "$abi")
    pkgs=$python_pkgs
    [ $runtime = 1 ] && pkgs="$pkgs $runtime_pkgs"
    dir=$cache/$abi
    if [ $more = 1 ]; then pkgs=$more_pkgs; dir=$cache/$abi/more; fi
    stamp=$dir/.stamp-$(echo "$pkgs" | tr -s ' \n' '_' | cksum | cut -d' ' -f1)
    [ -e "$stamp" ] && continue
    lists=$cache/lists-$arch
    mkdir -p "$lists/partial" "$dir/debs" "$dir/root"
    opts=(-qq -oAPT::Architecture="$arch" -oAPT::Architectures="$arch"
          -oDir::State::Lists="$lists" -oDebug::NoLocking=1 -oAPT::Sandbox::User=root)
    # A mirror mid-sync can fail one index; retry, then go on with what we have.
    if [ ! -e "$lists/.updated" ]; then
        for try in 1 2 3; do
            apt-get "${opts[@]}" update >&2 && { touch "$lists/.updated"; break; }
            echo "fetch-inputs: apt-get update for $arch failed (try $try)" >&2
            sleep 2
        done
    fi
    # shellcheck disable=SC2086
    (cd "$dir/debs" && apt-get "${opts[@]}" download $pkgs >&2) || true
    for p in $pkgs; do
        ls "$dir/debs/${p}_"*.deb >/dev/null 2>&1 \
            || { echo "fetch-inputs: $abi: package $p was not downloaded" >&2; exit 3; }
    done
    for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
    touch "$stamp"
done
