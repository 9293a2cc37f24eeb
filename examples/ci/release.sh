#!/usr/bin/env bash
# A release pipeline without AGP: pack -> base APK with aapt -> inject ->
# sign with apksigner -> sp-pack verify.
#
#   examples/ci/release.sh WORK_DIR
#
# Inputs: Debian's CPython 3.11 + numpy for arm64-v8a and x86_64, fetched by
# scripts/fetch-inputs.sh (cached). Environment:
#   SP_PACK      the sp-pack binary (default: build/sp-pack)
#   KEYSTORE     a keystore to sign with, KEYSTORE_PASS its password; without
#                them a throwaway key is generated in WORK_DIR
#   IGNORE       check IDs verify leaves out (default: the four Debian's glibc
#                inputs fail; set it empty for real Android builds)
# Result: WORK_DIR/app.apk, signed, natives 16 KB-aligned.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=${1:?usage: release.sh WORK_DIR}
mkdir -p "$work"
sp_pack=${SP_PACK:-$top/build/sp-pack}
cache=${SP_PACK_CACHE:-$HOME/.cache/sp-pack}
step() { printf '== %s\n' "$*"; }

step "fetch inputs"
"$top/scripts/fetch-inputs.sh" arm64-v8a x86_64

step "pack"
"$sp_pack" pack --out "$work/packed" --exclude sitecustomize.py -q \
    --stdlib "arm64-v8a=$cache/arm64-v8a/root/usr/lib/python3.11" \
             "x86_64=$cache/x86_64/root/usr/lib/python3.11" \
    --site-packages "arm64-v8a=$cache/arm64-v8a/root/usr/lib/python3/dist-packages" \
                    "x86_64=$cache/x86_64/root/usr/lib/python3/dist-packages"

step "base APK (aapt)"
aapt package -f -M "$here/AndroidManifest.xml" \
    -I /usr/share/android-framework-res/framework-res.apk -F "$work/base.apk"

step "inject"
"$sp_pack" inject --into "$work/base.apk" --from "$work/packed" -o "$work/unsigned.apk"

step "sign (apksigner)"
if [ -z "${KEYSTORE:-}" ]; then
    KEYSTORE=$work/throwaway.jks
    KEYSTORE_PASS=throwaway
    rm -f "$KEYSTORE"
    keytool -genkeypair -keystore "$KEYSTORE" -storepass "$KEYSTORE_PASS" \
        -keypass "$KEYSTORE_PASS" -alias release -keyalg RSA -keysize 2048 \
        -validity 10000 -dname "CN=sp-pack example" >/dev/null 2>&1
fi
apksigner sign --ks "$KEYSTORE" --ks-pass "pass:${KEYSTORE_PASS:?}" \
    --out "$work/app.apk" "$work/unsigned.apk"

step "verify"
apksigner verify "$work/app.apk"
# The gate. This example packs Debian's CPython, built for glibc Linux, which
# no Android device loads: its modules need glibc (E008) and libraries an app
# does not ship (E007), and x86_64's have 4 KB segments and GNU ld's RELRO
# layout (E004, E011). So it ignores exactly those checks, and says so. A
# real release, built with the Android NDK, sets IGNORE= (ignores nothing).
ignore=${IGNORE-E004,E007,E008,E011}
if [ -n "$ignore" ]; then
    echo "release.sh: ignoring $ignore: the example's inputs are Debian's glibc builds" \
         "of CPython, which Android cannot load"
    "$sp_pack" verify --ignore "$ignore" "$work/app.apk"
    echo "release.sh: $work/app.apk is signed and 16 KB-aligned; sp-pack verify finds" \
         "nothing beyond the ignored $ignore (NOT loadable on Android: glibc inputs)"
else
    "$sp_pack" verify "$work/app.apk"
    echo "release.sh: $work/app.apk is signed, 16 KB-aligned and passes sp-pack verify"
fi
