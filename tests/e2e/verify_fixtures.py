"""Fixtures for verify: a clean app in every form verify reads, and for each
check ID an archive that triggers it.

    python3 verify_fixtures.py OUT_DIR     writes every fixture (the fuzzer's seeds)

build_all(work_dir) returns {name: Fixture}. The clean ones are made by
sp-pack itself from ELF files compiled here for Android (tests/build-elf-
fixtures.sh); the broken ones are zips written here, aligned with
`sp-pack align` unless alignment is what they break."""

import io
import os
import shutil
import struct
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import hostile_archives  # noqa: E402

FRAMEWORK = "/usr/share/android-framework-res/framework-res.apk"
MANIFEST = os.path.join(common.SOURCE_DIR, "examples/ci/AndroidManifest.xml")
ABIS = ("arm64-v8a", "x86_64")


class Fixture:
    def __init__(self, path, ids, args=(), absent=()):
        self.path = path        # file or directory to verify
        self.ids = set(ids)     # IDs that must be found (empty: none at all)
        self.args = list(args)  # extra verify options
        self.absent = set(absent)  # IDs that must not be found


def elf(name):
    with open(os.path.join(common.ELF_FIXTURES, name), "rb") as f:
        return f.read()


def stored_zip(entries, dirs=True):
    """A zip of (name, bytes) entries, stored, with directory entries."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        seen = set()
        for name, data in entries:
            parts = name.split("/")[:-1]
            for k in range(1, len(parts) + 1):
                d = "/".join(parts[:k]) + "/"
                if dirs and d not in seen:
                    seen.add(d)
                    z.writestr(d, b"")
            z.writestr(name, data)
    return buf.getvalue()


class Builder:
    def __init__(self, work):
        self.work = work
        os.makedirs(work, exist_ok=True)
        self.base = os.path.join(work, "base.apk")
        common.run(["aapt", "package", "-f", "-M", MANIFEST, "-I", FRAMEWORK, "-F", self.base],
                   check=0)
        with zipfile.ZipFile(self.base) as z:
            self.manifest = z.read("AndroidManifest.xml")

    def path(self, name):
        return os.path.join(self.work, name)

    def clean_pack(self):
        """A pack output of two small stdlib trees: module 'mod' (PyInit_mod,
        needs libdep.so) and libdep.so, for arm64-v8a and x86_64."""
        out = self.path("packed")
        args = ["pack", "--out", out, "-q", "--apk", self.path("layout.apk"), "--stdlib"]
        for abi in ABIS:
            t = self.path("stdlib-" + abi)
            os.makedirs(os.path.join(t, "lib-dynload"), exist_ok=True)
            os.makedirs(os.path.join(t, "encodings"), exist_ok=True)
            for name, data in (("os.py", b"# os\n"), ("encodings/__init__.py", b"# enc\n"),
                               ("encodings/aliases.py", b"# aliases\n"),
                               ("encodings/utf_8.py", b"# utf_8\n")):
                with open(os.path.join(t, name), "wb") as f:
                    f.write(data)
            with open(os.path.join(t, "lib-dynload", "mod.cpython-311.so"), "wb") as f:
                f.write(elf("mod-%s.so" % abi))
            with open(os.path.join(t, "lib-dynload", "libdep.so"), "wb") as f:
                f.write(elf("libdep-%s.so" % abi))
            args.append("%s=%s" % (abi, t))
        common.sp_pack(*args, check=0)
        return out

    def apk(self, name, entries, align=True):
        """An APK: the aapt manifest plus (name, bytes[, method]) entries."""
        path = self.path(name)
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("AndroidManifest.xml", self.manifest, zipfile.ZIP_DEFLATED)
            for e in entries:
                z.writestr(e[0], e[1], e[2] if len(e) > 2 else zipfile.ZIP_STORED)
        if align:
            common.sp_pack("align", path, check=0)
        return path

    def write(self, name, data):
        path = self.path(name)
        with open(path, "wb") as f:
            f.write(data)
        return path


def layout_entries(layout_apk, drop=(), replace=None):
    """The entries of the clean layout APK, some dropped or replaced."""
    replace = replace or {}
    out = []
    with zipfile.ZipFile(layout_apk) as z:
        for i in z.infolist():
            if i.filename in drop or i.filename.endswith("/"):
                continue
            out.append((i.filename, replace.get(i.filename, z.read(i))))
    return out


def python_zip_with(entries):
    return stored_zip([("_sp_bootstrap.py", b"# boot\n")] + entries)


def build_all(work):
    b = Builder(work)
    fx = {}
    packed = b.clean_pack()
    layout = b.path("layout.apk")
    clean = b.path("clean.apk")
    common.sp_pack("inject", "--into", b.base, "--from", packed, "-o", clean, check=0)
    fx["clean-apk"] = Fixture(clean, [])
    fx["clean-dir"] = Fixture(packed, [])
    # A pack directory that no longer matches its manifest: a stray file,
    # and an output edited in place (a byte of os.py inside stdlib.zip).
    def copied(name):
        path = b.path(name)
        shutil.copytree(packed, path, ignore=shutil.ignore_patterns(".sp-pack"))
        return path
    stray = copied("P015-stray")
    with open(os.path.join(stray, "assets", "stray.txt"), "wb") as f:
        f.write(b"not packed\n")
    fx["P015"] = Fixture(stray, ["P015"])
    edited = copied("P015-edited")
    with open(os.path.join(edited, "assets", "stdlib.zip"), "r+b") as f:
        data = f.read()
        f.seek(data.index(b"# os\n"))
        f.write(b"# OS\n")
    fx["P015-edited"] = Fixture(edited, ["P015"])
    # An .apks set: a base without libraries, one split per ABI.
    base_only = b.path("base-only.apk")
    with zipfile.ZipFile(clean) as src, zipfile.ZipFile(base_only, "w") as dst:
        for i in src.infolist():
            if not i.filename.startswith("lib/"):
                dst.writestr(i, src.read(i))
    common.sp_pack("align", base_only, check=0)
    splits = {}
    for abi in ABIS:
        s = b.path("split-%s.apk" % abi)
        common.sp_pack("inject", "--into", b.base, "--from", packed, "-o", s, "--abi", abi,
                       "--no-assets", check=0)
        splits[abi] = s
    apks = b.path("app.apks")
    with zipfile.ZipFile(apks, "w", zipfile.ZIP_STORED) as z:
        z.write(base_only, "splits/base-master.apk")
        for abi, s in splits.items():
            z.write(s, "splits/base-%s.apk" % abi.replace("-", "_"))
    fx["clean-apks"] = Fixture(apks, [])
    # Without its splits, the base's markers resolve nowhere.
    fx["P001-base-alone"] = Fixture(base_only, ["P001"])
    # An App Bundle.
    aab_in = b.path("in.aab")
    with zipfile.ZipFile(aab_in, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("BundleConfig.pb", b"\x0a\x08\x12\x061.15.6")
        z.writestr("base/manifest/AndroidManifest.xml", b"\x0a\x00")
    aab = b.path("app.aab")
    common.sp_pack("inject", "--into", aab_in, "--from", packed, "-o", aab, check=0)
    fx["clean-aab"] = Fixture(aab, [])

    data = open(clean, "rb").read()
    # ---- zip layer
    fx["Z001"] = Fixture(b.write("Z001.apk", data[: len(data) // 2]), ["Z001"])
    fx["Z001-empty"] = Fixture(b.write("Z001-empty.apk", b""), ["Z001"])
    fx["Z002-after"] = Fixture(b.write("Z002-after.apk", data + b"trailing bytes"), ["Z002"])
    # Bytes before the first local header: a zip whose offsets count them.
    z2 = stored_zip([("AndroidManifest.xml", b.manifest)], dirs=False)
    eocd = z2.rfind(b"PK\x05\x06")
    cd_off = struct.unpack("<I", z2[eocd + 16:eocd + 20])[0]
    cd = bytearray(z2[cd_off:eocd])
    cd[42:46] = struct.pack("<I", 16)
    body = b"\0" * 16 + z2[:cd_off]
    end = bytearray(z2[eocd:])
    end[16:20] = struct.pack("<I", len(body))
    fx["Z002-before"] = Fixture(b.write("Z002-before.apk", body + bytes(cd) + bytes(end)), ["Z002"])
    z3 = bytearray(data)
    z3[8] ^= 8  # method of the first local header
    fx["Z003"] = Fixture(b.write("Z003.apk", bytes(z3)), ["Z003"])
    dup = b.path("Z004.apk")
    with zipfile.ZipFile(dup, "w") as z:
        z.writestr("AndroidManifest.xml", b.manifest)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            z.writestr("assets/x.txt", b"one")
            z.writestr("assets/x.txt", b"two")
    fx["Z004"] = Fixture(dup, ["Z004"])
    # Not aligned: align refuses unsafe names.
    fx["Z005"] = Fixture(b.apk("Z005.apk", [("../evil.txt", b"x"), ("/abs.txt", b"x"),
                                            ("a\\b.txt", b"x"), ("a\nb.txt", b"x")],
                               align=False), ["Z005"])
    z6 = bytearray(data)
    e = z6.rfind(b"PK\x05\x06")
    z6[e + 8:e + 12] = b"\xff\xff\xff\xff"
    fx["Z006"] = Fixture(b.write("Z006.apk", bytes(z6)), ["Z006"])
    with zipfile.ZipFile(clean) as z:
        info = z.getinfo("assets/stdlib.zip")
    z7 = bytearray(data)
    local = info.header_offset
    nlen, xlen = struct.unpack("<HH", z7[local + 26:local + 30])
    z7[local + 30 + nlen + xlen + 40] ^= 0xFF  # a byte inside stdlib.zip's data
    fx["Z007"] = Fixture(b.write("Z007.apk", bytes(z7)), ["Z007"], args=["--deep"])
    fx["Z007-not-deep"] = Fixture(b.path("Z007.apk"), [], absent=["Z007"])
    fx["Z008"] = Fixture(b.apk("Z008.apk", [("assets/a.txt", b"abc"), ("assets/bb.txt", b"x")],
                               align=False), ["Z008"])
    z9 = bytearray(data)
    e = z9.rfind(b"PK\x05\x06")
    cd_off = struct.unpack("<I", z9[e + 16:e + 20])[0]
    second = z9.find(b"PK\x01\x02", cd_off + 4)
    z9[second + 42:second + 46] = z9[cd_off + 42:cd_off + 46]  # two entries, one header
    fx["Z009"] = Fixture(b.write("Z009.apk", bytes(z9)), ["Z009"])
    # A small zip bomb: two libraries on one deflate stream.
    fx["Z010"] = Fixture(b.write("Z010.apk", hostile_archives.shared_stream_bomb(
        [b"lib/x86_64/liba.so", b"lib/x86_64/libb.so"], 1 << 20)), ["Z010"], absent=["E001"])
    # ---- native libraries
    dep = {abi: elf("libdep-%s.so" % abi) for abi in ABIS}
    fx["L001"] = Fixture(b.apk("L001.apk", [("lib/arm64-v8a/libdep.so", dep["arm64-v8a"],
                                             zipfile.ZIP_DEFLATED)]), ["L001"])
    fx["L002"] = Fixture(b.apk("L002.apk", [("lib/arm64-v8a/libdep.so", dep["arm64-v8a"])],
                               align=False), ["L002"])
    fx["L003"] = Fixture(b.apk("L003.apk", [("lib/arm64-v8a/dep.so", dep["arm64-v8a"]),
                                            ("lib/arm64-v8a/libdep.so.1", dep["arm64-v8a"])]),
                         ["L003"])
    fx["L004"] = Fixture(b.apk("L004.apk", [("lib/arm64-v8a/sub/libdep.so", dep["arm64-v8a"])]),
                         ["L004"])
    fx["L005"] = Fixture(b.apk("L005.apk", [("lib/mips128/libdep.so", dep["arm64-v8a"])]),
                         ["L005"])
    fx["L006"] = Fixture(b.apk("L006.apk", [("lib/arm64-v8a/libdep.so", dep["arm64-v8a"]),
                                            ("lib/arm64-v8a/libmore.so", dep["arm64-v8a"]),
                                            ("lib/x86_64/libdep.so", dep["x86_64"])]), ["L006"])
    fake = stored_zip([("numpy/__init__.py", b"")])
    fx["L008"] = Fixture(b.apk("L008.apk", [("lib/x86_64/libfake.so", fake)]), ["L008"])
    # ---- ELF
    fx["E001"] = Fixture(b.apk("E001.apk", [("lib/x86_64/libjunk.so", b"not an ELF file"),
                                            ("lib/x86_64/libcut.so", dep["x86_64"][:80])]),
                         ["E001"])
    fx["E002"] = Fixture(b.apk("E002.apk", [("lib/arm64-v8a/libdep.so", elf("libdep-x86.so"))]),
                         ["E002"])
    exe = bytearray(dep["x86_64"])
    exe[16:18] = struct.pack("<H", 2)  # ET_EXEC
    fx["E003"] = Fixture(b.apk("E003.apk", [("lib/x86_64/libdep.so", bytes(exe))]), ["E003"])
    fx["E004"] = Fixture(b.apk("E004.apk", [("lib/arm64-v8a/libmod.so", elf("mod-4k-arm64-v8a.so")),
                                            ("lib/arm64-v8a/libdep.so", dep["arm64-v8a"])]),
                         ["E004"])
    fx["E004-page-4"] = Fixture(b.path("E004.apk"), [], args=["--page-size", "4"],
                                absent=["E004"])
    fx["E005"] = Fixture(b.apk("E005.apk", [("lib/x86_64/libtextrel.so", elf("textrel-x86_64.so"))]),
                         ["E005"])
    fx["E006"] = Fixture(b.apk("E006.apk", [("lib/x86_64/libwx.so", elf("wx-x86_64.so"))]),
                         ["E006"])
    fx["E007"] = Fixture(b.apk("E007.apk", [("lib/x86_64/libmod.so", elf("mod-x86_64.so"))]),
                         ["E007"])
    fx["E008"] = Fixture(b.apk("E008.apk", [("lib/x86_64/libglibc.so", elf("glibc-x86_64.so"))]),
                         ["E008"], absent=["E007"])
    e10 = b.apk("E010.apk", [("lib/arm64-v8a/libmod.so", elf("api30-arm64-v8a.so")),
                             ("lib/arm64-v8a/libdep.so", dep["arm64-v8a"])])
    fx["E010"] = Fixture(e10, ["E010"], args=["--min-sdk", "24"])
    fx["E010-newer-min"] = Fixture(e10, [], args=["--min-sdk", "30"])
    fx["E010-no-min"] = Fixture(e10, [])
    # RELRO ending mid-page in a PT_LOAD with writable data after it: E011, not E004;
    # the same library on a 32-bit ABI is exempt.
    fx["E011"] = Fixture(b.apk("E011.apk", [("lib/arm64-v8a/librelro.so",
                                             elf("relro-bad-arm64-v8a.so"))]),
                         ["E011"], absent=["E004"])
    fx["E011-32-bit"] = Fixture(b.apk("E011-32.apk", [("lib/armeabi-v7a/librelro.so",
                                                       elf("relro-bad-armeabi-v7a.so"))]), [])
    # A RELRO padded past its PT_LOAD's end (lld before 18) holds all its sections: fine.
    fx["E011-padded"] = Fixture(b.apk("E011-padded.apk", [("lib/arm64-v8a/librelro.so",
                                                           elf("relro-4k-arm64-v8a.so"))]), [])
    # The NDK's C++ runtime has a name Android installs; a misnamed library
    # still gets every other check (here E004).
    fx["L003-cxx"] = Fixture(b.apk("L003-cxx.apk", [("lib/arm64-v8a/libc++_shared.so",
                                                     elf("libc++_shared-arm64-v8a.so"))]), [])
    fx["L003-and-E004"] = Fixture(b.apk("L003-E004.apk", [
        ("lib/arm64-v8a/cxx_shared.so", elf("libc++_shared-4k-arm64-v8a.so"))]), ["L003", "E004"])
    # ---- Python layout
    lay = layout_entries(layout)
    fx["P001"] = Fixture(b.apk("P001.apk", layout_entries(
        layout, drop=("lib/x86_64/libmod.so",))), ["P001"])
    mod = {abi: elf("mod-%s.so" % abi) for abi in ABIS}
    fx["P002"] = Fixture(b.apk("P002.apk", lay + [("lib/%s/libextra.so" % a, mod[a]) for a in ABIS]),
                         ["P002"], absent=["P006"])
    fx["P003"] = Fixture(b.apk("P003.apk", layout_entries(
        layout, replace={"lib/x86_64/libmod.so": dep["x86_64"]})), ["P003"])
    fx["P012"] = Fixture(b.apk("P012.apk", [(n, d, zipfile.ZIP_DEFLATED if n.endswith(".zip")
                                             else zipfile.ZIP_STORED) for n, d in lay]), ["P012"])
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("_sp_bootstrap.py", b"# boot\n" * 50)
    fx["P004-inner"] = Fixture(b.apk("P004-inner.apk", [("assets/stdlib.zip", inner.getvalue())]),
                               ["P004"])
    fx["P005"] = Fixture(b.apk("P005.apk", [("assets/stdlib.zip", stored_zip([("os.py", b"")]))]),
                         ["P005"])
    fx["P006"] = Fixture(b.apk("P006.apk", lay + [("lib/arm64-v8a/libextra.so", mod["arm64-v8a"])]),
                         ["P006"])
    # The boot set: incomplete, compressed, stale.
    boot = [n for n, _ in lay if n.startswith("assets/python/")]
    utf8 = [n for n in boot if n.startswith("assets/python/encodings/utf_8.")]
    fx["P010"] = Fixture(b.apk("P010.apk", layout_entries(layout, drop=utf8)), ["P010"])
    fx["P011"] = Fixture(b.apk("P011.apk", [(n, d, zipfile.ZIP_DEFLATED if n in boot
                                             else zipfile.ZIP_STORED) for n, d in lay]), ["P011"])
    fx["P014"] = Fixture(b.apk("P014.apk", layout_entries(layout, replace={
        "assets/python/_sp_bootstrap.py": b"# not the stdlib's\n"})), ["P014"])
    # An App Bundle whose BundleConfig.pb lost the uncompressed globs inject adds.
    p013 = b.path("P013.aab")
    with zipfile.ZipFile(aab) as src, zipfile.ZipFile(p013, "w") as dst:
        for i in src.infolist():
            data = b"\x0a\x08\x12\x061.15.6" if i.filename == "BundleConfig.pb" else src.read(i)
            dst.writestr(i, data)
    fx["P013"] = Fixture(p013, ["P013"])
    no_dirs = stored_zip([("_sp_bootstrap.py", b""), ("encodings/__init__.py", b"")], dirs=False)
    fx["P008"] = Fixture(b.apk("P008.apk", [("assets/stdlib.zip", no_dirs)]), ["P008"])
    fx["P009"] = Fixture(b.apk("P009.apk", layout_entries(layout, replace={
        "assets/stdlib.zip": python_zip_with([("mod.soref", b"bad name!")])})), ["P009"])
    return fx


if __name__ == "__main__":
    out = sys.argv[1]
    work = os.path.join(out, ".work")
    fixtures = build_all(work)
    for name, f in fixtures.items():
        if os.path.isfile(f.path):
            shutil.copyfile(f.path, os.path.join(out, name))
    shutil.rmtree(work, ignore_errors=True)
