"""The in-place importer of _sp_bootstrap.py on its own, in Debian's
python3.11: which paths it takes, bytecode validation, namespace
packages, deflated entries, extra fields, compressed zips refused,
distributions and resources, and the zipimport fallback."""

import os
import sys
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

PYTHON = "/usr/bin/python3.11"
RUNTIME = os.path.join(common.SOURCE_DIR, "src/runtime")

PRELUDE = r"""
import sys, importlib, importlib.util
sys.path.insert(0, %(runtime)r)
import _sp_bootstrap as b
sys.path.pop(0)
APK = %(apk)r
"""


def pyc(source, flags=1, magic=None, source_hash=None, mtime=0):
    """A .pyc of source (PEP 552): hash-based (flags 1 or 3) or timestamp (0)."""
    import importlib.util
    import marshal
    code = compile(source, "m.py", "exec")
    head = (magic or importlib.util.MAGIC_NUMBER) + flags.to_bytes(4, "little")
    if flags & 1:
        head += source_hash or importlib.util.source_hash(source)
    else:
        head += mtime.to_bytes(4, "little") + len(source).to_bytes(4, "little")
    return head + marshal.dumps(code)


class InPlaceTest(common.TempDirTestCase):
    def make_apk(self, inner, inner_method=zipfile.ZIP_STORED, extra=True, name="assets/lib.zip"):
        """An APK-like zip holding `name`, a zip of `inner` ({name: bytes or
        (bytes, method)}), after a stored file with an alignment extra."""
        inner_path = os.path.join(self.tmp, "inner.zip")
        with zipfile.ZipFile(inner_path, "w") as z:
            for n, v in inner.items():
                data, method = v if isinstance(v, tuple) else (v, zipfile.ZIP_STORED)
                z.writestr(n, data, method)
        apk = os.path.join(self.tmp, "app.apk")
        with zipfile.ZipFile(apk, "w") as z:
            z.writestr("AndroidManifest.xml", b"\x03\x00\x08\x00")
            info = zipfile.ZipInfo(name)
            info.compress_type = inner_method
            if extra:  # what apksigner and sp-pack align put in local headers
                info.extra = b"\x35\xd9\x06\x00\x04\x00\x00\x00\x00\x00"
            with open(inner_path, "rb") as f:
                z.writestr(info, f.read())
        return apk

    def run_py(self, apk, code, check=0):
        text = PRELUDE % {"runtime": RUNTIME, "apk": apk} + code
        # -B: the finder is imported from the source tree, which must stay clean.
        p = common.run([PYTHON, "-I", "-S", "-B", "-c", text], cwd=self.tmp)
        self.assertEqual(p.returncode, check, p.stderr)
        return p

    def test_paths_taken_and_left(self):
        apk = self.make_apk({"m.py": b"X = 1\n", "pkg/__init__.py": b"", "pkg/sub.py": b"Y = 2\n"})
        plain = os.path.join(self.tmp, "plain.zip")
        with zipfile.ZipFile(plain, "w") as z:
            z.writestr("json/__init__.py", b"")
        self.run_py(apk, r"""
I = b._InPlaceImporter
for path in (APK + "/assets/lib.zip", APK + "/assets/lib.zip/pkg"):
    I(path)
for path in (APK, APK + "/assets", APK + "/AndroidManifest.xml", %(plain)r,
             %(plain)r + "/json", %(tmp)r, APK + "/assets/other.zip", "", "relative.zip/x"):
    try:
        I(path)
    except ImportError:
        pass
    else:
        raise AssertionError(path)
# A path into a plain zip file reads no archive: zipimport's business.
assert %(plain)r not in b._OUTER
sys.path[:] = [APK + "/assets/lib.zip"]
f = b.install()
import m, pkg.sub
assert m.__file__ == APK + "/assets/lib.zip/m.py", m.__file__
assert pkg.sub.__file__ == APK + "/assets/lib.zip/pkg/sub.py"
assert pkg.__path__ == [APK + "/assets/lib.zip/pkg"]
assert type(m.__loader__).__name__ == "_InPlaceImporter"
assert m.__loader__.get_source("m") == "X = 1\n"
assert m.__loader__.get_data(APK + "/assets/lib.zip/m.py") == b"X = 1\n"
assert m.__loader__.get_data("pkg/sub.py") == b"Y = 2\n"
assert m.__loader__.is_package("pkg") and not m.__loader__.is_package("m")
try:
    m.__loader__.get_data("nope.py")
except OSError:
    pass
else:
    raise AssertionError("no OSError")
print("ok")
""" % {"plain": plain, "tmp": self.tmp})

    def test_bytecode_validation(self):
        src = b"WHERE = 'source'\n"
        good = pyc(b"WHERE = 'pyc'\n")  # unchecked: used without reading the source
        self.assertTrue(good)
        apk = self.make_apk({
            "unchecked.py": src, "unchecked.pyc": pyc(b"WHERE = 'pyc'\n", source_hash=b"x" * 8),
            "foreign.py": src, "foreign.pyc": pyc(b"WHERE = 'pyc'\n", magic=b"\x00\x00\r\n"),
            "checked_stale.py": src, "checked_stale.pyc": pyc(b"WHERE = 'pyc'\n", flags=3,
                                                              source_hash=b"y" * 8),
            "checked_ok.py": src, "checked_ok.pyc": pyc(src.replace(b"source", b"pyc"), flags=3,
                                                        source_hash=pyc(src)[8:16]),
            "stamp.py": src, "stamp.pyc": pyc(b"WHERE = 'pyc'\n", flags=0),
            "stamp_only.pyc": pyc(b"WHERE = 'pyc'\n", flags=0),
            "bad_flags.py": src, "bad_flags.pyc": pyc(b"WHERE = 'pyc'\n", flags=4),
        })
        self.run_py(apk, r"""
sys.path[:] = [APK + "/assets/lib.zip"]
b.install()
expect = {"unchecked": "pyc", "foreign": "source", "checked_stale": "source",
          "checked_ok": "pyc", "stamp": "source", "stamp_only": "pyc", "bad_flags": "source"}
for name, where in expect.items():
    m = importlib.import_module(name)
    assert m.WHERE == where, (name, m.WHERE)
    # __file__ names the first candidate, as zipimport's order has it.
    assert m.__file__.endswith(name + (".pyc")), m.__file__
print("ok")
""")

    def test_namespace_deflated_and_compressed_zip(self):
        apk = self.make_apk({"ns/": b"", "ns/part.py": b"P = 1\n",
                             "deflated.py": (b"D = 'inflated'\n" * 50, zipfile.ZIP_DEFLATED)})
        self.run_py(apk, r"""
sys.path[:] = [APK + "/assets/lib.zip"]
b.install()
import ns.part, deflated
assert ns.__spec__.loader is None or type(ns.__spec__.loader).__name__ == "NamespaceLoader"
assert list(ns.__path__) == [APK + "/assets/lib.zip/ns"], ns.__path__
assert ns.part.P == 1 and deflated.D == "inflated"
print("ok")
""")
        deflated = self.make_apk({"m.py": b"X = 1\n"}, inner_method=zipfile.ZIP_DEFLATED)
        p = self.run_py(deflated, r"""
sys.path[:] = [APK + "/assets/lib.zip"]
try:
    b.install()
except ImportError as e:
    print(e)
""")
        self.assertIn(deflated + ": assets/lib.zip is compressed (method 8)", p.stdout)

    def test_markers_overlays_and_libraries_in_place(self):
        apk = self.make_apk({"nat.soref": b"libnat.so", "natpkg/__init__.soref": b"libnatpkg.so",
                             "natpkg/sub.py": b"S = 1\n", "ov.py": b"V = 'common'\n"})
        # The overlay beside it, and libraries in the APK's lib/x86_64/.
        with zipfile.ZipFile(apk, "a") as z:
            inner = os.path.join(self.tmp, "ov.zip")
            with zipfile.ZipFile(inner, "w") as o:
                o.writestr("ov.py", b"V = 'overlay'\n")
            with open(inner, "rb") as f:
                z.writestr("assets/lib-x86_64.zip", f.read())
            z.writestr("lib/x86_64/libnat.so", b"\x7fELF")
            z.writestr("lib/x86_64/libdeflated.so", b"\x7fELF", zipfile.ZIP_DEFLATED)
        split = os.path.join(self.tmp, "split.apk")
        with zipfile.ZipFile(split, "w") as z:
            z.writestr("lib/x86_64/libnatpkg.so", b"\x7fELF")
        self.run_py(apk, r"""
sys.path[:] = [APK + "/assets/lib.zip"]
f = b.install(native_dir="", apk_prefix="", abi="x86_64", apks=[APK, %(split)r])
assert f.find_spec("nat").origin == APK + "!/lib/x86_64/libnat.so"
spec = f.find_spec("natpkg")
assert spec.origin == %(split)r + "!/lib/x86_64/libnatpkg.so", spec.origin
assert spec.submodule_search_locations == [APK + "/assets/lib.zip/natpkg"]
import ov
assert ov.V == "overlay" and ov.__file__ == APK + "/assets/lib-x86_64.zip/ov.py", ov.__file__
assert not any(p.endswith("-x86_64.zip") for p in sys.path)
# A library deflated in the APK cannot be mapped: not named there.
f2 = b.install(native_dir="", apk_prefix="", abi="x86_64", apks=[APK])
try:
    f2._native_spec("d", APK + "/assets/lib.zip", "d.soref", b"libdeflated.so", False)
except ImportError as e:
    assert "libdeflated.so" in str(e), e
else:
    raise AssertionError("no ImportError")
print("ok")
""" % {"split": split})

    def test_distributions_and_resources(self):
        apk = self.make_apk({
            "Foo_Bar-1.2.dist-info/METADATA": b"Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.2\n",
            "Foo_Bar-1.2.dist-info/RECORD": b"foo_bar/__init__.py,,\n",
            "old.egg-info": b"Metadata-Version: 1.0\nName: old\nVersion: 0.9\n",
            "foo_bar/__init__.py": b"",
            "foo_bar/data/table.txt": b"1 2 3\n",
        })
        self.run_py(apk, r"""
sys.path.insert(0, APK + "/assets/lib.zip")
b.install()
import importlib.metadata as md, importlib.resources as res
assert md.version("foo-bar") == "1.2" and md.version("FOO.BAR") == "1.2"
assert md.version("old") == "0.9"
names = sorted(d.metadata["Name"] for d in md.distributions() if d.metadata["Name"] in ("Foo_Bar", "old"))
assert names == ["Foo_Bar", "old"], names
files = md.files("foo-bar")
assert [str(p) for p in files] == ["foo_bar/__init__.py"], files
assert files[0].locate().read_bytes() == b""
root = res.files("foo_bar")
assert (root / "data" / "table.txt").read_text() == "1 2 3\n"
assert sorted(t.name for t in root.iterdir()) == ["__init__.py", "data"]
assert (root / "data").is_dir() and not (root / "nope").exists()
with res.as_file(root / "data" / "table.txt") as p:   # a temporary copy, on request
    assert open(p).read() == "1 2 3\n"
print("ok")
""")

    def test_zipimport_fallback(self):
        # _ZipImporter names files from zipimport's table when it is a
        # plain dict (3.11's _files, 3.13's _get_files()); anything else
        # goes through zipimport itself: same answer. test_matrix.py checks
        # both ways on every supported version.
        plain = os.path.join(self.tmp, "plain.zip")
        with zipfile.ZipFile(plain, "w") as z:
            z.writestr("pkg/__init__.py", b"")
            z.writestr("pkg/mod.py", b"")
        self.run_py(plain, r"""
zi = b._ZipImporter(APK)
fast = zi.get_filename("pkg")
class Table(dict):
    pass
zi._files = Table(zi._files)
assert zi.get_filename("pkg") == fast == APK + "/pkg/__init__.py", fast
print("ok")
""")


if __name__ == "__main__":
    common.main()
