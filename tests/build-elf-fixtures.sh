#!/usr/bin/env bash
# Builds small Android shared libraries for every ABI with clang and lld:
#   tests/build-elf-fixtures.sh OUTDIR
# mod-<abi>.so        exports PyInit_mod, DT_NEEDED libdep.so, SONAME libmod.so,
#                     API 24 note, 16 KB segments
# mod-4k-arm64-v8a.so the same linked for 4 KB pages
# libdep-<abi>.so     a plain library (no PyInit_)
# libver-x86_64.so    soname libver.so.1; modver-x86_64.so needs it
set -euo pipefail
out=$1
mkdir -p "$out"
cd "$out"
cat > mod.c <<'C'
int helper(int x);
__attribute__((visibility("default"))) void *PyInit_mod(void) { return (void *)0; }
int use_helper(int x) { return helper(x); }
C
cat > dep.c <<'C'
__attribute__((visibility("default"))) int helper(int x) { return x + 1; }
C
declare -A triple=([arm64-v8a]=aarch64-linux-android24 [armeabi-v7a]=armv7a-linux-androideabi24
                   [x86]=i686-linux-android24 [x86_64]=x86_64-linux-android24
                   [riscv64]=riscv64-linux-android24)
# The Android API note, as the NDK's crtbegin adds it.
note() {
    cat <<'S'
.section .note.android.ident,"a",%note
.balign 4
.long 2f-1f
.long 3f-2f
.long 1
1: .asciz "Android"
2: .long 24
3:
S
}
for abi in "${!triple[@]}"; do
    t=${triple[$abi]}
    note > note.s
    cc=(clang --target="$t" -fPIC -shared -nostdlib -fuse-ld=lld -Wl,-z,max-page-size=16384)
    "${cc[@]}" -o "libdep-$abi.so" dep.c -Wl,-soname,libdep.so
    "${cc[@]}" -o "mod-$abi.so" mod.c note.s -Wl,-soname,libmod.so "libdep-$abi.so"
done
clang --target=aarch64-linux-android24 -fPIC -shared -nostdlib -fuse-ld=lld \
    -Wl,-z,max-page-size=4096 -o mod-4k-arm64-v8a.so mod.c note.s -Wl,-soname,libmod.so \
    libdep-arm64-v8a.so
# A dependency with a versioned soname and a module needing it (glibc style).
clang --target=x86_64-linux-android24 -fPIC -shared -nostdlib -fuse-ld=lld \
    -o libver-x86_64.so dep.c -Wl,-soname,libver.so.1
clang --target=x86_64-linux-android24 -fPIC -shared -nostdlib -fuse-ld=lld \
    -o modver-x86_64.so mod.c note.s libver-x86_64.so
# Broken on purpose, for verify's E checks (x86_64 unless named):
#   textrel-x86_64.so  a text relocation (DT_TEXTREL)
#   wx-x86_64.so       one writable and executable PT_LOAD (--omagic)
#   glibc-x86_64.so    DT_NEEDED libc.so.6, as desktop Linux builds have
#   api30-arm64-v8a.so built for API level 30
printf '.text\n.globl PyInit_textrel\nPyInit_textrel:\n ret\n.quad undefined_symbol\n' > textrel.s
clang --target=x86_64-linux-android24 -shared -nostdlib -fuse-ld=lld -Wl,-z,notext \
    -Wl,-z,max-page-size=16384 -o textrel-x86_64.so textrel.s
clang --target=x86_64-linux-android24 -fPIC -shared -nostdlib -fuse-ld=lld -Wl,--omagic \
    -o wx-x86_64.so dep.c note.s
clang --target=x86_64-linux-android24 -fPIC -shared -nostdlib -fuse-ld=lld \
    -o libc.so.6 dep.c -Wl,-soname,libc.so.6
clang --target=x86_64-linux-android24 -fPIC -shared -nostdlib -fuse-ld=lld \
    -Wl,-z,max-page-size=16384 -o glibc-x86_64.so mod.c note.s libc.so.6
sed 's/2: .long 24/2: .long 30/' note.s > note30.s
clang --target=aarch64-linux-android24 -fPIC -shared -nostdlib -fuse-ld=lld \
    -Wl,-z,max-page-size=16384 -o api30-arm64-v8a.so mod.c note30.s libdep-arm64-v8a.so
