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
# The gate. Debian's CPython modules are glibc builds with 4 KB segments, so
# this example ignores the ELF checks they fail (E004, E007, E008); a real
# release built with the Android NDK must not ignore them.
"$sp_pack" verify --ignore E004,E007,E008 "$work/app.apk"
echo "release.sh: $work/app.apk is signed, 16 KB-aligned and passes sp-pack verify"
