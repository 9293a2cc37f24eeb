#!/usr/bin/env bash
# Builds small Android shared libraries for every ABI with clang and lld:
#   tests/build-elf-fixtures.sh OUTDIR
# mod-<abi>.so        exports PyInit_mod, DT_NEEDED libdep.so, SONAME libmod.so,
#                     API 24 note, 16 KB segments
# mod-4k-arm64-v8a.so the same linked for 4 KB pages
# libdep-<abi>.so     a plain library (no PyInit_)
# libver-x86_64.so    soname libver.so.1; modver-x86_64.so needs it
#
# For the RELRO, library-name and strip checks (64-bit ones for arm64-v8a and x86_64
# unless named; "16 KB" means every PT_LOAD has p_align 16384):
# relro-ok-<abi>.so   exports PyInit_relrook; a PT_GNU_RELRO (.data.rel.ro, .dynamic, .got)
#                     and writable .data after it; max-page-size and common-page-size
#                     16384, so RELRO ends on a 16 KB boundary: passes the RELRO rule
# relro-bad-<abi>.so  exports PyInit_relrobad; 16 KB, but linked with relro-bad.lds (one RW
#                     PT_LOAD, as GNU linkers and lld before 9 lay it out) and
#                     common-page-size 4096: RELRO is a prefix of its PT_LOAD with .data
#                     and .bss after it in the same PT_LOAD, from the next 4 KB boundary on;
#                     RELRO ends at that boundary (lld 14) or at .got's end (lld 19).
#                     Fails the RELRO rule ("not a suffix and its end is not 16 KB
#                     aligned"), not the PT_LOAD alignment one. Also built for armeabi-v7a
#                     and x86 (32-bit ABIs are exempt from both rules).
# relro-4k-arm64-v8a.so  like relro-ok with lld's default common-page-size (4096): RELRO
#                     ends on a 4 KB boundary, past its PT_LOAD's end with lld < 18 (which
#                     pads only PT_GNU_RELRO), at it with lld >= 18 (.relro_padding). Passes:
#                     the RELRO holds every section of its PT_LOAD (a reading of the rule
#                     from program headers alone would flag it, as it would mod-<abi>.so).
# libc++_shared-<abi>.so  soname libc++_shared.so (give it to pack --lib under that name),
#                     needs libc.so, libm.so, libdl.so; 16 KB, RELRO ends on 16 KB
# libc++_shared-4k-arm64-v8a.so  the same linked for 4 KB pages (p_align 4096)
# debug-x86_64.so     exports PyInit_debug, built with -g: .debug_* sections and a .symtab
#                     with local symbols; 16 KB, RELRO ends on 16 KB
# android-site-<abi>/ a site-packages tree: andpkg/__init__.py and
#                     andpkg/_native.cpython-313-<tag>.so (tag aarch64-linux-android or
#                     x86_64-linux-android; exports PyInit__native, needs libc++_shared.so,
#                     libc.so, libm.so, libdl.so), 16 KB, RELRO ends on 16 KB, API 24 note
# android-stdlib-<abi>/  a minimal stdlib for it: os.py, encodings/{__init__,aliases,utf_8}.py,
#                     lib-dynload/_andmath.cpython-313-<tag>.so (needs libm.so, libc.so)
# android-libs-<abi>/libc++_shared.so  a copy of libc++_shared-<abi>.so for pack --lib: with
#                     it, pack --strict of the three trees for arm64-v8a and x86_64 has
#                     nothing to object to once pack takes the '+' in that name, as
#                     Android does
# stub-<abi>/         libc.so, libm.so, libdl.so stubs linked against, never shipped
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

# RELRO fixtures. relro.c has relocated read-only data (a const pointer table, in
# .data.rel.ro) and writable data (.data, .bss).
cat > relro.c <<'C'
#define CAT(a, b) a##b
#define PYINIT(name) CAT(PyInit_, name)
static int a, b, c;
int counter = 1;
int *const table[] = {&a, &b, &c, &counter};
__attribute__((visibility("default"))) void *PYINIT(MODNAME)(void)
{
    counter++;
    return (void *)table[counter & 3];
}
C
# One RW PT_LOAD holding RELRO and .data/.bss, RELRO ending at a common-page boundary.
cat > relro-bad.lds <<'L'
PHDRS {
  ro PT_LOAD FILEHDR PHDRS FLAGS(4);
  rx PT_LOAD FLAGS(5);
  rw PT_LOAD FLAGS(6);
  dyn PT_DYNAMIC FLAGS(6);
  relro PT_GNU_RELRO FLAGS(4);
  note PT_NOTE FLAGS(4);
  stack PT_GNU_STACK FLAGS(6);
}
SECTIONS {
  . = SIZEOF_HEADERS;
  .note.android.ident : { *(.note.android.ident) } :ro :note
  .note.gnu.build-id : { *(.note.gnu.build-id) } :ro :note
  .dynsym : { *(.dynsym) } :ro
  .gnu.version : { *(.gnu.version) } :ro
  .gnu.version_r : { *(.gnu.version_r) } :ro
  .gnu.hash : { *(.gnu.hash) } :ro
  .hash : { *(.hash) } :ro
  .dynstr : { *(.dynstr) } :ro
  .rela.dyn : { *(.rela.dyn) *(.rel.dyn) } :ro
  .rela.plt : { *(.rela.plt) *(.rel.plt) } :ro
  .rodata : { *(.rodata .rodata.*) } :ro
  .ARM.exidx : { *(.ARM.exidx .ARM.exidx.*) } :ro
  .eh_frame_hdr : { *(.eh_frame_hdr) } :ro
  .eh_frame : { *(.eh_frame) } :ro
  . = ALIGN(CONSTANT(MAXPAGESIZE)) + (. & (CONSTANT(MAXPAGESIZE) - 1));
  .text : { *(.text .text.*) } :rx
  .plt : { *(.plt) } :rx
  . = ALIGN(CONSTANT(MAXPAGESIZE)) + (. & (CONSTANT(MAXPAGESIZE) - 1));
  .data.rel.ro : { *(.data.rel.ro .data.rel.ro.*) } :rw :relro
  .dynamic : { *(.dynamic) } :rw :relro :dyn
  .got : { *(.got) } :rw :relro
  .got.plt : { *(.got.plt) } :rw :relro
  . = ALIGN(CONSTANT(COMMONPAGESIZE));
  .data : { *(.data .data.*) } :rw
  .bss : { *(.bss .bss.*) } :rw
}
L
note > note.s
page16=(-Wl,-z,relro -Wl,-z,max-page-size=16384 -Wl,-z,common-page-size=16384)
for abi in arm64-v8a x86_64; do
    t=${triple[$abi]}
    clang --target="$t" -fPIC -shared -nostdlib -fuse-ld=lld "${page16[@]}" \
        -DMODNAME=relrook -o "relro-ok-$abi.so" relro.c note.s
done
for abi in arm64-v8a x86_64 armeabi-v7a x86; do
    t=${triple[$abi]}
    clang --target="$t" -fPIC -shared -nostdlib -fuse-ld=lld -fno-asynchronous-unwind-tables \
        -Wl,-z,relro -Wl,-z,max-page-size=16384 -Wl,-z,common-page-size=4096 \
        -Wl,-T,relro-bad.lds -DMODNAME=relrobad -o "relro-bad-$abi.so" relro.c note.s
done
clang --target=aarch64-linux-android24 -fPIC -shared -nostdlib -fuse-ld=lld -Wl,-z,relro \
    -Wl,-z,max-page-size=16384 -Wl,-z,common-page-size=4096 -DMODNAME=relro4k \
    -o relro-4k-arm64-v8a.so relro.c note.s

# Stub system libraries to link against (never shipped: Android has its own).
cat > stubc.c <<'C'
__attribute__((visibility("default"))) unsigned long strlen(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    return n;
}
C
cat > stubm.c <<'C'
__attribute__((visibility("default"))) double fabs(double x) { return x < 0 ? -x : x; }
C
cat > stubdl.c <<'C'
__attribute__((visibility("default"))) char *dlerror(void) { return 0; }
C
# The C++ runtime stand-in and the modules that need it.
cat > cxx.c <<'C'
unsigned long strlen(const char *s);
double fabs(double x);
char *dlerror(void);
static const char *const names[] = {"libc++_shared", "stand-in"};
__attribute__((visibility("default"))) int sp_cxx_twice(int x)
{
    return (int)strlen(names[x & 1]) * 2 + (int)fabs((double)x) + (dlerror() != 0);
}
C
cat > native.c <<'C'
int sp_cxx_twice(int x);
unsigned long strlen(const char *s);
double fabs(double x);
char *dlerror(void);
static const char *const words[] = {"andpkg", "_native"};
int calls;
__attribute__((visibility("default"))) void *PyInit__native(void)
{
    calls += sp_cxx_twice((int)strlen(words[calls & 1])) + (int)fabs(-1.0) + (dlerror() != 0);
    return (void *)words[calls & 1];
}
C
cat > andmath.c <<'C'
unsigned long strlen(const char *s);
double fabs(double x);
static const char *const tags[] = {"andmath"};
__attribute__((visibility("default"))) void *PyInit__andmath(void)
{
    return (void *)(tags[0] + (int)fabs((double)strlen(tags[0])) - 7);
}
C
declare -A pytag=([arm64-v8a]=aarch64-linux-android [x86_64]=x86_64-linux-android)
for abi in arm64-v8a x86_64; do
    t=${triple[$abi]}
    cc=(clang --target="$t" -fPIC -shared -nostdlib -fuse-ld=lld "${page16[@]}")
    mkdir -p "stub-$abi"
    "${cc[@]}" -o "stub-$abi/libc.so" stubc.c -Wl,-soname,libc.so
    "${cc[@]}" -o "stub-$abi/libm.so" stubm.c -Wl,-soname,libm.so
    "${cc[@]}" -o "stub-$abi/libdl.so" stubdl.c -Wl,-soname,libdl.so
    sys=("stub-$abi/libc.so" "stub-$abi/libm.so" "stub-$abi/libdl.so")
    "${cc[@]}" -o "libc++_shared-$abi.so" cxx.c note.s -Wl,-soname,libc++_shared.so "${sys[@]}"
    mkdir -p "android-libs-$abi" "android-site-$abi/andpkg" \
        "android-stdlib-$abi/encodings" "android-stdlib-$abi/lib-dynload"
    cp "libc++_shared-$abi.so" "android-libs-$abi/libc++_shared.so"
    printf 'from ._native import *\n' > "android-site-$abi/andpkg/__init__.py"
    "${cc[@]}" -o "android-site-$abi/andpkg/_native.cpython-313-${pytag[$abi]}.so" native.c \
        note.s "libc++_shared-$abi.so" "${sys[@]}"
    printf 'sep = "/"\n' > "android-stdlib-$abi/os.py"
    for m in __init__ aliases utf_8; do : > "android-stdlib-$abi/encodings/$m.py"; done
    "${cc[@]}" -o "android-stdlib-$abi/lib-dynload/_andmath.cpython-313-${pytag[$abi]}.so" \
        andmath.c note.s "stub-$abi/libc.so" "stub-$abi/libm.so"
done
clang --target=aarch64-linux-android24 -fPIC -shared -nostdlib -fuse-ld=lld -Wl,-z,relro \
    -Wl,-z,max-page-size=4096 -Wl,-z,common-page-size=4096 -o libc++_shared-4k-arm64-v8a.so \
    cxx.c note.s -Wl,-soname,libc++_shared.so stub-arm64-v8a/libc.so stub-arm64-v8a/libm.so \
    stub-arm64-v8a/libdl.so

# Debug information and a full symbol table, for pack --strip.
cat > debug.c <<'C'
struct point { int x, y; };
static int scale = 3;
static int helper_scaled(const struct point *p) { return (p->x + p->y) * scale; }
static const struct point origin = {1, 2};
static const struct point *const points[] = {&origin};
__attribute__((visibility("default"))) void *PyInit_debug(void)
{
    scale += helper_scaled(points[0]);
    return (void *)points[0];
}
C
clang --target=x86_64-linux-android24 -g -fPIC -shared -nostdlib -fuse-ld=lld "${page16[@]}" \
    -o debug-x86_64.so debug.c note.s
