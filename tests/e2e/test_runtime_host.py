"""Debian's python3.11 on this host imports the stdlib and numpy from the
x86_64 output, natives through the finder, numpy.__config__ from the overlay."""

import json
import os
import sys
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import runtime  # noqa: E402

PYTHON = "/usr/bin/python3.11"


class RuntimeHostTest(common.TempDirTestCase):
    def pack(self, abis=("arm64-v8a", "x86_64")):
        out = os.path.join(self.tmp, "out")
        common.sp_pack(*common.pack_args(out, list(abis), extra=["-q"]), check=0)
        return out

    def test_imports_through_the_finder(self):
        out = self.pack()
        p = runtime.boot(out, "x86_64", os.path.join(self.tmp, "home"), PYTHON)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout.strip().splitlines()[-1])
        assets = os.path.join(out, "assets")
        natives = os.path.join(out, "jniLibs", "x86_64")
        self.assertTrue(r["stdlib_zip"].startswith(os.path.join(self.tmp, "home/lib/python311.zip/")))
        self.assertEqual(r["numpy"], os.path.join(assets, "sitepackages.zip/numpy/__init__.py"))
        self.assertEqual(r["numpy_config"],
                         os.path.join(assets, "sitepackages-x86_64.zip/numpy/__config__.py"))
        self.assertEqual(r["multiarray"], os.path.join(natives, "libnumpy-core-_multiarray_umath.so"))
        self.assertEqual(r["bz2"], os.path.join(natives, "lib_bz2.so"))
        self.assertEqual(r["sqlite3"], os.path.join(natives, "lib_sqlite3.so"))
        self.assertEqual(r["finders"][0], "SorefFinder")

    def run_py(self, out, code, env=None):
        home = os.path.join(self.tmp, "home")
        runtime.make_home(out, home)
        e = {"PYTHONHOME": home}
        if env:
            e.update(env)
        return common.run([PYTHON, "-S", "-c", code], env=e, cwd=home)

    def test_finder_contract(self):
        out = self.pack(("x86_64",))
        natives = os.path.join(out, "jniLibs", "x86_64")
        # Only builtin or frozen modules are imported by the bootstrap itself.
        code = r"""
import sys
before = set(sys.modules)
import _sp_bootstrap
new = set(sys.modules) - before - {"_sp_bootstrap"}
assert not new, new
f1 = _sp_bootstrap.install(native_dir=%(nd)r)
f2 = _sp_bootstrap.install(native_dir=%(nd)r)
assert sum(1 for f in sys.meta_path if type(f).__name__ == "SorefFinder") == 1
assert sys.meta_path[0] is f2
# The environment gives the defaults.
f3 = _sp_bootstrap.install()
assert f3.native_dir == %(nd)r and f3.apk_prefix == "/data/app/x/base.apk!/lib/x86_64/", vars(f3)
assert f3.abi == "x86_64"
# No marker: None, so pure modules import as usual.
assert f3.find_spec("json") is None
spec = f3.find_spec("_bz2")
assert spec.origin == %(nd)r + "/lib_bz2.so" and spec.has_location
import _bz2
assert _bz2.__file__ == spec.origin
# A sys.path entry is looked at once, as by the standard path finder: a
# directory made later counts after importlib.invalidate_caches().
import importlib, os
sys.path.append(%(late)r)
assert f3.find_spec("latemod") is None
os.mkdir(%(late)r)
with open(%(late)r + "/latemod.soref", "w") as fh:
    fh.write("lib_bz2.so")
assert f3.find_spec("latemod") is None
importlib.invalidate_caches()
assert f3.find_spec("latemod").origin == %(nd)r + "/lib_bz2.so"
# Without the library in native_dir, the APK prefix form is used.
f4 = _sp_bootstrap.install(native_dir="/nonexistent", apk_prefix="/data/app/x/base.apk!/lib/x86_64/")
assert f4.find_spec("_lzma").origin == "/data/app/x/base.apk!/lib/x86_64/lib_lzma.so"
# Neither: a clear ImportError.
f5 = _sp_bootstrap.install(native_dir="/nonexistent", apk_prefix="")
try:
    f5.find_spec("_lzma")
except ImportError as e:
    assert "lib_lzma.so" in str(e), e
else:
    raise AssertionError("no ImportError")
print("ok")
""" % {"nd": natives, "late": os.path.join(self.tmp, "late")}
        p = self.run_py(out, code, env={
            "SP_PACK_NATIVE_DIR": natives,
            "ANDROID_APK_NATIVE_PREFIX": "/data/app/x/base.apk!/lib/x86_64/",
            "SP_PACK_ABI": "x86_64"})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "ok")

    def test_package_markers_and_overlay_packages(self):
        out = self.pack(("x86_64",))
        # A package whose __init__ is native, and a package whose __init__.py
        # sits in an overlay while its submodules stay in the common zip.
        extra = os.path.join(self.tmp, "extra.zip")
        with zipfile.ZipFile(extra, "w") as z:
            z.writestr("natpkg/", b"")
            z.writestr("natpkg/__init__.soref", b"libnatpkg-__init__.so")
            z.writestr("natpkg/sub.py", b"X = 1\n")
            z.writestr("ovpkg/", b"")
            z.writestr("ovpkg/__init__.py", b"WHERE = 'common'\n")
            z.writestr("ovpkg/mod.py", b"VALUE = 'common mod'\n")
        with zipfile.ZipFile(os.path.join(self.tmp, "extra-x86_64.zip"), "w") as z:
            z.writestr("ovpkg/", b"")
            z.writestr("ovpkg/__init__.py", b"WHERE = 'overlay'\n")
        code = r"""
import sys
sys.path.append(%(extra)r)
import _sp_bootstrap
f = _sp_bootstrap.install(native_dir="/nowhere", apk_prefix="/apk!/lib/x86_64/", abi="x86_64")
spec = f.find_spec("natpkg")
assert spec.origin == "/apk!/lib/x86_64/libnatpkg-__init__.so", spec
assert spec.submodule_search_locations == [%(extra)r + "/natpkg"], spec.submodule_search_locations
import ovpkg, ovpkg.mod
assert ovpkg.WHERE == "overlay", ovpkg.WHERE
assert ovpkg.mod.VALUE == "common mod"
assert ovpkg.__file__.endswith("extra-x86_64.zip/ovpkg/__init__.py"), ovpkg.__file__
# Overlays stay off sys.path.
assert not any(p.endswith("-x86_64.zip") for p in sys.path)
print("ok")
""" % {"extra": extra}
        p = self.run_py(out, code)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "ok")


if __name__ == "__main__":
    common.main()
