#!/usr/bin/env bash
# Fetch one Debian suite's CPython interpreter(s), stdlib, a few packages with
# native modules and every shared library they need at run time, per Android
# ABI, unpacked into a tree of its own that qemu-user (-L) or the tree's own
# dynamic loader can run (see tests/e2e/interpreters.py).
#
#   scripts/fetch-python.sh SUITE ABI...     SUITE: bookworm | trixie | sid
#                                            ABI:   x86_64 | arm64-v8a
#
# Layout: $SP_PACK_CACHE/<suite>/<abi>/root/     the unpacked .debs, merged /usr
#                                                (lib -> usr/lib, lib64 -> usr/lib64, ...)
#         $SP_PACK_CACHE/<suite>/<abi>/debs/     the downloaded .debs
#         $SP_PACK_CACHE/<suite>/<abi>/pycache/  bytecode of tests/e2e/interpreters.py's runs
#         $SP_PACK_CACHE/<suite>/apt-<arch>/     apt's sources, lists and cache
# SP_PACK_CACHE defaults to ~/.cache/sp-pack. Leaves $SP_PACK_CACHE/<abi>/ (the
# trees of scripts/fetch-inputs.sh) alone. A tree is fetched again only when
# its package list changes; then it is rebuilt beside the old one and swapped in.
#
# Besides the files of the packages, each tree gets what an installed system
# has from outside them: the merged-/usr links and the BLAS/LAPACK alternatives
# (usr/lib/<triplet>/libblas.so.3 -> blas/libblas.so.3). Maintainer scripts
# are not run.
set -euo pipefail

cache=${SP_PACK_CACHE:-$HOME/.cache/sp-pack}
die() { echo "fetch-python: $*" >&2; exit 3; }
[ $# -ge 2 ] || { echo "usage: $0 bookworm|trixie|sid ABI..." >&2; exit 2; }
suite=$1; shift

# Per suite: the interpreter versions, the archive suites, the packages with
# Python modules (cryptography and bcrypt: stable-ABI .abi3 modules) and the
# libraries they all link, listed by hand (no solver).
# tests/e2e/test_interpreters.py checks them: every interpreter runs, and no
# library that an ELF file of a tree needs is missing from the tree.
case $suite in
    bookworm)
        versions="3.11"
        suites="bookworm bookworm-updates"; security="bookworm-security"
        site="python3-numpy python3-scipy python3-decorator python3-lxml python3-yaml
              python3-markupsafe python3-cryptography python3-bcrypt python3-cffi-backend"
        libs="libc6 libgcc-s1 libstdc++6 libexpat1 zlib1g libssl3 libffi8 libbz2-1.0
              liblzma5 libsqlite3-0 libuuid1 libncursesw6 libtinfo6 libreadline8 libcrypt1
              libnsl2 libtirpc3 libdb5.3 libgdbm6 libgssapi-krb5-2 libkrb5-3 libk5crypto3
              libcom-err2 libkrb5support0 libkeyutils1 libzstd1
              libblas3 liblapack3 libgfortran5 liblbfgsb0
              libyaml-0-2 libxml2 libicu72 libxslt1.1 libgcrypt20 libgpg-error0"
        ;;
    trixie)
        versions="3.13"
        suites="trixie trixie-updates"; security="trixie-security"
        site="python3-numpy python3-lxml python3-yaml python3-markupsafe
              python3-cryptography python3-bcrypt python3-cffi-backend"
        libs="libc6 libgcc-s1 libstdc++6 libexpat1 zlib1g libssl3t64 openssl-provider-legacy
              libffi8 libbz2-1.0 liblzma5 libsqlite3-0 libuuid1 libncursesw6 libtinfo6 libreadline8t64
              libdb5.3t64 libzstd1
              libblas3 liblapack3 libgfortran5
              libyaml-0-2 libxml2 libxslt1.1 libgcrypt20 libgpg-error0"
        ;;
    sid)
        versions="3.14 3.15"
        suites="sid"; security=""
        site="python3-numpy python3-lxml python3-yaml python3-markupsafe
              python3-cryptography python3-bcrypt python3-cffi-backend"
        libs="libc6 libgcc-s1 libstdc++6 libexpat1 zlib1g libssl3t64 openssl-provider-legacy
              libffi8 libbz2-1.0 liblzma5 libsqlite3-0 libuuid1 libncursesw6 libtinfo6 libreadline8t64
              libdb5.3t64 libzstd1
              libblas3 liblapack3 libgfortran5
              libyaml-0-2 libxml2-16 libxslt1.1 libgcrypt20 libgpg-error0"
        ;;
    *) echo "fetch-python: unknown suite '$suite' (bookworm, trixie or sid)" >&2; exit 2 ;;
esac

pythons=""
for v in $versions; do pythons="$pythons python$v-minimal libpython$v-minimal libpython$v-stdlib"; done

deb_arch() {
    case $1 in
        arm64-v8a) echo arm64 ;; x86_64) echo amd64 ;;
        *) echo "fetch-python: unknown ABI '$1' (x86_64 or arm64-v8a)" >&2; exit 2 ;;
    esac
}

triplet() {
    case $1 in amd64) echo x86_64-linux-gnu ;; arm64) echo aarch64-linux-gnu ;; esac
}

# Libraries only one architecture has (gfortran links libquadmath on amd64 only).
arch_libs() {
    case $suite/$1 in
        bookworm/amd64) echo libquadmath0 ;;
    esac
}

# The embed library, its headers and python-3.X-embed.pc, on x86_64 only:
# tests/e2e/test_launcher.py builds sp-launch against them and runs it here.
embed_pkgs() {
    [ "$1" = amd64 ] || return 0
    for v in $versions; do echo "libpython$v libpython$v-dev"; done
}

# apt-get with a state of its own: sources, lists and caches under $1, nothing
# installed (the host's dpkg status is not read), only architecture $2.
apt_in() {
    local state=$1 arch=$2; shift 2
    apt-get -qq -oDir::Etc::SourceList="$state/debian.sources" -oDir::Etc::SourceParts=/nonexistent \
        -oDir::State::Lists="$state/lists" -oDir::Cache="$state/cache" \
        -oDir::State::status=/dev/null \
        -oAPT::Architecture="$arch" -oAPT::Architectures="$arch" \
        -oDebug::NoLocking=1 -oAPT::Sandbox::User=root "$@"
}

write_sources() {
    local file=$1 keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    {
        printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\n' "$suites"
        printf 'Components: main\nSigned-By: %s\n' "$keyring"
        if [ -n "$security" ]; then
            printf '\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: %s\n' "$security"
            printf 'Components: main\nSigned-By: %s\n' "$keyring"
        fi
    } > "$file"
}

# Updates the lists once a day at most. A mirror mid-sync can fail one index
# (a hash sum mismatch): try again a few times, then keep older lists if any.
update_lists() {
    local state=$1 arch=$2
    [ -n "$(find "$state/lists/.updated" -mmin -1440 2>/dev/null)" ] && return 0
    for try in 1 2 3 4; do
        apt_in "$state" "$arch" update >&2 && { touch "$state/lists/.updated"; return 0; }
        echo "fetch-python: apt-get update of $suite for $arch failed (try $try)" >&2
        sleep $((try * 5))
    done
    [ -e "$state/lists/.updated" ] || die "no package lists for $suite/$arch"
    echo "fetch-python: going on with older package lists for $suite/$arch" >&2
}

# What an installed system has beyond the packages' files.
finish_root() {
    local root=$1 trip=$2 d x
    # Merged /usr: files shipped in /lib and friends (bookworm) move under usr/.
    for d in bin sbin lib lib64; do
        if [ -d "$root/$d" ] && [ ! -L "$root/$d" ]; then
            mkdir -p "$root/usr/$d"
            cp -a "$root/$d/." "$root/usr/$d/"
            rm -rf "${root:?}/$d"
        fi
        [ -d "$root/usr/$d" ] && [ ! -e "$root/$d" ] && ln -s "usr/$d" "$root/$d"
    done
    # The alternatives that libblas3's and liblapack3's postinst would make.
    for x in blas lapack; do
        if [ -e "$root/usr/lib/$trip/$x/lib$x.so.3" ] && [ ! -e "$root/usr/lib/$trip/lib$x.so.3" ]; then
            ln -s "$x/lib$x.so.3" "$root/usr/lib/$trip/lib$x.so.3"
        fi
    done
}

for abi in "$@"; do
    arch=$(deb_arch "$abi")
    pkgs="$pythons $site $libs $(arch_libs "$arch") $(embed_pkgs "$arch")"
    pkgs=$(xargs <<< "$pkgs")   # one line, single spaces
    dir=$cache/$suite/$abi
    stamp=$dir/.stamp-$(echo "$pkgs" | cksum | cut -d' ' -f1)
    [ -e "$stamp" ] && [ -d "$dir/root" ] && continue
    state=$cache/$suite/apt-$arch
    mkdir -p "$state/lists/partial" "$state/cache" "$dir"
    write_sources "$state/debian.sources"
    update_lists "$state" "$arch"

    rm -rf "$dir/debs.new" "$dir/root.new"
    mkdir -p "$dir/debs.new" "$dir/root.new"
    # One unknown name makes apt-get download fetch nothing: then fetch the
    # missing ones one by one, to name exactly those that are not there.
    # shellcheck disable=SC2086
    (cd "$dir/debs.new" && apt_in "$state" "$arch" download $pkgs >&2) || true
    missing=""
    for p in $pkgs; do
        ls "$dir/debs.new/${p}_"*.deb >/dev/null 2>&1 && continue
        (cd "$dir/debs.new" && apt_in "$state" "$arch" download "$p" >&2) || missing="$missing $p"
    done
    [ -z "$missing" ] || die "$suite/$abi: not downloaded:$missing"
    for deb in "$dir"/debs.new/*.deb; do dpkg-deb -x "$deb" "$dir/root.new"; done
    finish_root "$dir/root.new" "$(triplet "$arch")"

    rm -rf "$dir/root" "$dir/debs" "$dir/pycache" "$dir"/.stamp-*
    mv "$dir/debs.new" "$dir/debs"
    mv "$dir/root.new" "$dir/root"
    touch "$stamp"
done
