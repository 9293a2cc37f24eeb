"""The matrix: sp-pack's output booted by Debian's real CPython of four
suites, for x86_64 and arm64-v8a, from the packed output only.

    cell   suite     bytecode
    3.11   bookworm  --pyc
    3.13   trixie    --pyc-only
    3.14   sid       --pyc-only
    3.15   sid       --pyc

For each cell, one pack of the suite's stdlib, its dist-packages (numpy,
yaml, lxml, markupsafe, cryptography, bcrypt, cffi; bookworm: scipy too)
and a small tree made here (a distribution with metadata and a data file, a
namespace package) for both ABIs, compiled by the suite's own interpreter
(--python), with no --exclude. Then:

* the report: every symlink Debian's trees hold that dangles or leaves its
  tree is named once, and nothing else is; every extension module of the
  target CPython (and abi3) is relocated byte for byte; every one tagged for
  another interpreter is listed under left_out and nowhere in jniLibs/ (sid's
  dist-packages hold cpython-314 and cpython-315 builds side by side);
* the bytecode: the magic number of the interpreter, and of the tree where
  its source states one; --pyc-only leaves no .py in stdlib.zip but the
  finder's; a --python of another X.Y is one line and exit 1;
* booted from the output (x86_64 through the suite's own loader, arm64-v8a
  under qemu-aarch64-static -L <root>; tests/e2e/interpreters.py), through
  the finder: numpy solves a system, sqlite3, ssl, decimal, ctypes,
  hashlib, yaml, markupsafe, cryptography (abi3) work,
  importlib.metadata.version() of packed distributions,
  importlib.resources.files() of data inside the zip, a namespace package;
  every module comes from the output;
* the finder's use of zipimport's private table: found on this version, and
  without it the same answers (the fallback);
* x86_64 also boots from the pack's APK read in place (the boot set, then
  the zips at their offsets, as on a phone).

SP_MATRIX_CELLS="3.14,3.15" runs only those cells (ctest runs one cell per
test: e2e_matrix_3.11 ...). Fetches what is missing first
(scripts/fetch-python.sh); a cell that cannot run fails."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import interpreters  # noqa: E402
import runtime  # noqa: E402
from test_json import validator  # noqa: E402

# version -> (suite, bytecode option, a --python of another X.Y: (suite, version))
MATRIX = {
    "3.11": ("bookworm", "--pyc", ("trixie", "3.13")),
    "3.13": ("trixie", "--pyc-only", ("bookworm", "3.11")),
    "3.14": ("sid", "--pyc-only", ("sid", "3.15")),
    "3.15": ("sid", "--pyc", ("sid", "3.14")),
}
ABIS = ("x86_64", "arm64-v8a")

# NAME.cpython-<XY>[-<platform>].so, NAME.abi3[-<platform>].so (Debian), NAME.so
SO_NAME = re.compile(r"^(?P<stem>[^.]+)(?:\.cpython-(?P<xy>\d+)(?:-(?P<plat>[^.]+))?"
                     r"|\.(?P<abi3>abi3)(?:-(?P<aplat>[^.]+))?)?\.so$")

BOOT = r"""
import sys, json
sys.path.append(ASSETS + "/sitepackages.zip")
import _sp_bootstrap
_sp_bootstrap.install(native_dir=NATIVE, abi=ABI)
import ctypes, decimal, hashlib, sqlite3, ssl, zlib
db = sqlite3.connect(":memory:")
db.execute("create table t (x)")
db.executemany("insert into t values (?)", [(i,) for i in range(10)])
assert db.execute("select sum(x * x) from t").fetchone() == (285,)
assert str(decimal.Decimal(1) / decimal.Decimal(8)) == "0.125"
assert ctypes.sizeof(ctypes.c_int64) == 8
assert ctypes.c_char_p(b"sp-pack").value == b"sp-pack"
ctx = ssl.create_default_context()
assert ctx.verify_mode == ssl.CERT_REQUIRED
assert len(ssl.RAND_bytes(16)) == 16
assert hashlib.sha256(b"abc").hexdigest().startswith("ba7816bf")
import numpy
a = numpy.array([[3.0, 1.0, 0.0], [1.0, 2.0, 1.0], [0.0, 1.0, 4.0]])
b = numpy.array([5.0, 8.0, 14.0])
x = numpy.linalg.solve(a, b)
assert numpy.allclose(a @ x, b), x
assert numpy.allclose(x, [1.0, 2.0, 3.0]), x
import numpy.__config__
import yaml
assert yaml.load("a: [1, 2]", Loader=yaml.CSafeLoader) == {"a": [1, 2]}
import markupsafe
assert str(markupsafe.escape("<&>")) == "&lt;&amp;&gt;"
from cryptography.hazmat.primitives import hashes
h = hashes.Hash(hashes.SHA256())
h.update(b"abc")
assert h.finalize().hex().startswith("ba7816bf")
import importlib.metadata as md, importlib.resources as res
import spdemo
import spns.greeting
table = (res.files("spdemo") / "data" / "table.txt").read_bytes()
rst = (res.files("email") / "architecture.rst").read_bytes()
import lxml.etree
assert lxml.etree.fromstring("<a><b>t</b></a>").findtext("b") == "t"
mods = {}
for name in ("json", "decimal", "_decimal", "_sqlite3", "_ssl", "_ctypes", "_hashlib", "numpy",
             "numpy.__config__", "numpy._core._multiarray_umath", "numpy.core._multiarray_umath",
             "numpy.linalg._umath_linalg", "yaml._yaml", "markupsafe._speedups",
             "cryptography.hazmat.bindings._rust", "lxml.etree", "spdemo", "spns.greeting"):
    m = sys.modules.get(name)
    if m is not None:
        mods[name] = getattr(m, "__file__", None)
print(json.dumps({
    "version": list(sys.version_info[:2]),
    "machine": __import__("platform").machine(),
    "modules": mods,
    "outside": sorted(n for n, m in sys.modules.items() if n != "__main__"
                      and getattr(m, "__file__", None) and not m.__file__.startswith(OUT_PREFIXES)),
    "numpy_version": numpy.__version__,
    "md_numpy": md.version("numpy"),
    "md_demo": md.version("sp-matrix-demo"),
    "md_demo_files": sorted(str(p) for p in md.files("sp-matrix-demo") or ()),
    "table": table.decode(),
    "rst_sha256": hashlib.sha256(rst).hexdigest(),
    "ns_file": getattr(sys.modules["spns"], "__file__", None),
    "ns_path": list(sys.modules["spns"].__path__),
    "greeting": spns.greeting.GREETING,
    "finders": [type(f).__name__ for f in sys.meta_path],
}))
"""

# zipimport's private table of names, which _ZipImporter uses to name files
# without loading code: found on this version, each module's code loaded
# once, and without the table (the fallback) the same answers.
ZIP_TABLE = r"""
import sys, marshal, zipimport
import _sp_bootstrap
_sp_bootstrap.install(native_dir=NATIVE, abi=ABI)
zi = _sp_bootstrap._ZipImporter(STDLIB_ZIP)
table = _sp_bootstrap._zip_table(zi)
names = ["json", "json.decoder", "email", "email.parser", "argparse", "xml.dom.minidom",
         "logging.handlers", "zipfile", "encodings.idna", "http.client"]
def leaf(name):
    pkg, _, last = name.rpartition(".")
    where = STDLIB_ZIP + ("/" + pkg.replace(".", "/") + "/" if pkg else "")
    return _sp_bootstrap._ZipImporter(where), name
fast = {n: leaf(n)[0].get_filename(n) for n in names}
loads = []
class Counting:
    def loads(self, data):
        loads.append(1)
        return marshal.loads(data)
real_marshal = zipimport.marshal
zipimport.marshal = Counting()
before = set(sys.modules)
import json.decoder, email.parser, argparse
loaded = sorted(m for m in set(sys.modules) - before
                if STDLIB_ZIP + "/" in (getattr(sys.modules[m], "__file__", None) or ""))
zipimport.marshal = real_marshal
# The fallback: no table, so zipimport names each file itself.
_sp_bootstrap._zip_table = lambda importer: None
slow = {n: leaf(n)[0].get_filename(n) for n in names}
before = set(sys.modules)
import xml.dom.minidom, logging.handlers
import json
after_fallback = {m: sys.modules[m].__file__ for m in ("xml.dom.minidom", "logging.handlers")}
print(json.dumps({
    "table": type(table).__name__,
    "table_has_json": table is not None and "json/__init__.pyc" in table,
    "fast": fast, "slow": slow,
    "loads": len(loads), "loaded": loaded,
    "after_fallback": after_fallback,
    "loader": type(sys.modules["json"].__loader__).__name__,
}))
"""

# Boots from the pack's APK read in place: CPython finds encodings in the
# boot set (PYTHONPATH <apk>/assets/python, read by its own zipimport), then
# the finder reads stdlib.zip and sitepackages.zip at their offsets in the APK.
IN_PLACE = r"""
import sys
import _sp_bootstrap
_sp_bootstrap.install(apks=[APK], abi=ABI, native_dir=NATIVE)
import json, decimal, sqlite3, email.parser, numpy
import importlib.metadata as md, importlib.resources as res
import spdemo, spns.greeting
x = numpy.linalg.solve(numpy.array([[2.0, 0.0], [0.0, 4.0]]), numpy.array([2.0, 8.0]))
assert numpy.allclose(x, [1.0, 2.0]), x
print(json.dumps({
    "files": {n: getattr(sys.modules[n], "__file__", None)
              for n in ("_sp_bootstrap", "encodings", "json", "decimal", "email.parser", "numpy",
                        "spdemo", "spns.greeting", "_sqlite3")
              if n in sys.modules},
    "md_demo": md.version("sp-matrix-demo"),
    "md_numpy": md.version("numpy"),
    "table": (res.files("spdemo") / "data" / "table.txt").read_text(),
    "ns_path": list(sys.modules["spns"].__path__),
}))
"""


def selected():
    want = os.environ.get("SP_MATRIX_CELLS")
    versions = [v for v in want.split(",") if v] if want else list(MATRIX)
    for v in versions:
        if v not in MATRIX:
            raise SystemExit("SP_MATRIX_CELLS: no cell %r (%s)" % (v, ", ".join(MATRIX)))
    return versions


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def dist_version(tree, project):
    """The version in the name of project's .dist-info or .egg-info dir."""
    for name in sorted(os.listdir(tree)):
        m = re.match(r"^%s-([^-]+?)\.(dist|egg)-info$" % re.escape(project), name, re.I)
        if m:
            return m.group(1)
    raise AssertionError("no %s distribution in %s" % (project, tree))


def escaping_links(root, skip_top=()):
    """Symlinks under root whose target is missing or outside root, as a
    user would find them (not inside directories the walk skips)."""
    real_root = os.path.realpath(root)
    found = []
    for dirpath, dirs, files in os.walk(root):
        if dirpath == root:
            dirs[:] = [d for d in dirs if d not in skip_top]
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            if not os.path.islink(p):
                continue
            target = os.path.realpath(p)
            if not os.path.exists(p) or not (target + "/").startswith(real_root + "/"):
                found.append(p)
    return sorted(found)


def extension_files(root, stdlib):
    """{module name: [(path, xy or None, platform or None, abi3)]} of the
    .so files under root named like extension modules."""
    mods = {}
    for dirpath, dirs, files in os.walk(root):
        if stdlib and dirpath == root:
            dirs[:] = [d for d in dirs if d not in ("site-packages", "dist-packages")]
        for f in files:
            m = SO_NAME.match(f)
            p = os.path.join(dirpath, f)
            if not m or os.path.islink(p):
                continue
            rel = os.path.relpath(dirpath, root)
            if stdlib and rel == "lib-dynload":
                rel = "."
            parts = [] if rel == "." else rel.split("/")
            if m.group("stem") != "__init__":
                parts.append(m.group("stem"))
            mods.setdefault(".".join(parts), []).append(
                (p, m.group("xy"), m.group("plat"), bool(m.group("abi3"))))
    return mods


def make_extra(tree, version):
    """A distribution of our own: metadata, a data file, a namespace package."""
    files = {
        "sp_matrix_demo-%s.dist-info/METADATA" % version:
            "Metadata-Version: 2.1\nName: sp-matrix-demo\nVersion: %s\n" % version,
        "sp_matrix_demo-%s.dist-info/RECORD" % version:
            "spdemo/__init__.py,,\nspdemo/data/table.txt,,\nspns/greeting.py,,\n",
        "sp_matrix_demo-%s.dist-info/top_level.txt" % version: "spdemo\nspns\n",
        "spdemo/__init__.py": "VERSION = %r\n" % version,
        "spdemo/data/table.txt": "cell %s: 1 2 3\n" % version,
        "spns/greeting.py": "GREETING = 'hello from a namespace package'\n",
    }
    for rel, text in files.items():
        p = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)


def python_wrapper(path, suite, version):
    """A script running the suite's x86_64 python<version> here, for --python."""
    argv, _ = interpreters.command(suite, "x86_64", version)
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexec %s \"$@\"\n" % " ".join("'%s'" % a for a in argv))
    os.chmod(path, 0o755)
    return path


def magic_of(suite, version):
    """The interpreter's own magic number, as it reports it."""
    p = interpreters.run(suite, "x86_64", version, [
        "-S", "-c", "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"])
    if p.returncode != 0:
        raise AssertionError("python%s of %s: %s" % (version, suite, p.stderr))
    return bytes.fromhex(p.stdout.strip())


def tree_magic(stdlib):
    """The magic number the stdlib's source states (up to 3.13), or None."""
    with open(os.path.join(stdlib, "importlib/_bootstrap_external.py")) as f:
        m = re.search(r"^MAGIC_NUMBER = \((\d+)\)\.to_bytes\(2, 'little'\) \+ b'\\r\\n'",
                      f.read(), re.M)
    return int(m.group(1)).to_bytes(2, "little") + b"\r\n" if m else None


class Cell:
    """One pack of one cell, made once for its test case."""

    def __init__(self, version, tmp):
        self.version = version
        self.suite, self.bytecode, self.other = MATRIX[version]
        self.tmp = tmp
        self.out = os.path.join(tmp, "out")
        self.apk = os.path.join(tmp, "app.apk")
        self.extra = os.path.join(tmp, "extra")
        make_extra(self.extra, version)
        self.python = python_wrapper(os.path.join(tmp, "python" + version), self.suite, version)
        self.stdlib = {a: interpreters.stdlib(self.suite, a, version) for a in ABIS}
        self.site = {a: interpreters.dist_packages(self.suite, a) for a in ABIS}

    def pack_args(self, out, python, apk=None, json=True):
        args = ["pack"] + (["--json"] if json else []) + ["--out", out, "--stdlib"]
        args += ["%s=%s" % (a, self.stdlib[a]) for a in ABIS]
        args += ["--site-packages"] + ["%s=%s" % (a, self.site[a]) for a in ABIS]
        args += ["%s=%s" % (a, self.extra) for a in ABIS]
        args += [self.bytecode, "--python", python]
        return args + (["--apk", apk] if apk else [])

    def pack(self):
        t = time.monotonic()
        p = common.sp_pack(*self.pack_args(self.out, self.python, self.apk))
        self.pack_seconds = time.monotonic() - t
        if p.returncode != 0:
            raise AssertionError("pack exited %d:\n%s" % (p.returncode, p.stderr))
        self.report = json.loads(p.stdout)
        self.stderr = p.stderr


class MatrixCase(common.TempDirTestCase):
    """Set VERSION in a subclass."""

    VERSION = None

    @classmethod
    def setUpClass(cls):
        cls.ctmp = tempfile.mkdtemp(prefix="sp-pack-matrix-%s-" % cls.VERSION, dir=common.TMP)
        suite, _, (osuite, _) = MATRIX[cls.VERSION]
        fetch = os.path.join(common.SOURCE_DIR, "scripts", "fetch-python.sh")
        for s in sorted({suite, osuite}):
            subprocess.run([fetch, s] + list(ABIS), check=True)
        cls.cell = Cell(cls.VERSION, cls.ctmp)
        cls.cell.pack()
        cls.log("pack (2 ABIs, %s)" % cls.cell.bytecode, cls.cell.pack_seconds)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.ctmp, ignore_errors=True)

    @classmethod
    def log(cls, what, seconds):
        print("  %s:%s %s: %.1f s" % (MATRIX[cls.VERSION][0], cls.VERSION, what, seconds),
              file=sys.stderr)

    def run_python(self, abi, code, home=None, env=None, what=""):
        """Runs code with -S in the cell's interpreter for abi, from a file:
        with -c, 3.13 and later import linecache before any code runs."""
        c = self.cell
        script = os.path.join(self.tmp, "%s-%s.py" % (abi, what.replace(" ", "-")))
        with open(script, "w") as f:
            f.write(code)
        t = time.monotonic()
        p = interpreters.run(c.suite, abi, c.version, ["-S", script], home=home, env=env,
                             cwd=self.tmp)
        self.log("%s %s" % (abi, what), time.monotonic() - t)
        self.assertEqual(p.returncode, 0, "%s %s:\n%s" % (abi, what, p.stderr))
        return json.loads(p.stdout.strip().splitlines()[-1])

    # -- the pack's report ---------------------------------------------

    def test_pack_report(self):
        c = self.cell
        r = c.report
        errors = sorted(validator("pack.schema.json").iter_errors(r), key=str)
        self.assertEqual([], ["%s at %s" % (e.message, list(e.path)) for e in errors[:5]])
        self.assertEqual(r["python"], c.version)
        self.assertEqual(sorted(r["abis"]), sorted(ABIS))
        # Every link that dangles or leaves its tree: left out with one
        # warning, on stderr and in the JSON, and nothing else warned of.
        expected = []
        for a in ABIS:
            expected += escaping_links(c.stdlib[a], ("site-packages", "dist-packages"))
            expected += escaping_links(c.site[a])
        self.assertTrue(expected, "Debian's trees hold such links (sitecustomize.py)")
        lines = [ln for ln in c.stderr.splitlines() if ln.startswith("sp-pack: warning: ")]
        named = [ln[len("sp-pack: warning: "):].split(": left out: ")[0] for ln in lines
                 if ": left out: " in ln]
        for path in expected:
            self.assertEqual(named.count(path), 1, "%s named %d times" % (path, named.count(path)))
        self.assertEqual(sorted(named), sorted(expected))
        json_named = [w.split(": left out: ")[0] for w in r["warnings"] if ": left out: " in w]
        self.assertEqual(sorted(json_named), sorted(expected))

    def test_extension_modules_relocated_or_left_out(self):
        c = self.cell
        r = c.report
        xy = c.version.replace(".", "")
        libs = {m["name"]: m for m in r["modules"]}
        left_out = {e["path"]: e["why"] for e in r["left_out"]}
        relocated = set()
        other_versions = set()
        for a in ABIS:
            for root, stdlib in ((c.stdlib[a], True), (c.site[a], False)):
                for name, cands in extension_files(root, stdlib).items():
                    for path, tag, plat, abi3 in cands:
                        if tag is not None and (tag != xy or (plat and common.TRIPLET[a] not in plat)):
                            # Another interpreter's: left out, in no library.
                            self.assertIn(path, left_out, "not reported as left out")
                            if tag != xy:
                                self.assertIn("3.%s" % tag[1:], left_out[path])
                                other_versions.add(tag)
                            continue
                        # The target's (or abi3): its library, byte for byte.
                        self.assertIn(name, libs, path)
                        self.assertIn(a, libs[name]["abis"], path)
                        lib = os.path.join(c.out, "jniLibs", a, libs[name]["lib"])
                        self.assertEqual(sha256(lib), sha256(path), "%s != %s" % (lib, path))
                        relocated.add((a, libs[name]["lib"]))
        # jniLibs/ holds exactly those libraries.
        present = {(a, f) for a in ABIS for f in os.listdir(os.path.join(c.out, "jniLibs", a))}
        self.assertEqual(present, relocated)
        self.assertGreater(len(relocated), 100)
        if c.suite == "sid":
            # sid's dist-packages carry builds for 3.14 and 3.15 side by side.
            other = {"3.14": "315", "3.15": "314"}[c.version]
            self.assertEqual(other_versions, {other})
            n = sum(1 for why in left_out.values() if "3.%s" % other[1:] in why)
            self.assertGreater(n, 20, left_out)
            self.assertEqual(len(left_out), n)
            for path in left_out:
                self.assertIn(".cpython-%s-" % other, path)
        else:
            self.assertEqual(left_out, {})

    # -- bytecode ------------------------------------------------------

    def test_bytecode(self):
        c = self.cell
        magic = magic_of(c.suite, c.version)
        for a in ABIS:
            declared = tree_magic(c.stdlib[a])
            if c.version in ("3.11", "3.13"):
                self.assertEqual(declared, magic)  # the tree states it up to 3.13
            else:
                self.assertIsNone(declared)  # 3.14 computes it in C
        with zipfile.ZipFile(os.path.join(c.out, "assets", "stdlib.zip")) as z:
            names = z.namelist()
            pycs = [n for n in names if n.endswith(".pyc")]
            self.assertGreater(len(pycs), 500)
            for n in pycs:
                head = z.read(n)[:8]
                self.assertEqual(head[:4], magic, n)
                self.assertEqual(int.from_bytes(head[4:8], "little"), 1, n)  # unchecked hash
            pys = [n for n in names if n.endswith(".py")]
            if c.bytecode == "--pyc-only":
                self.assertEqual(pys, ["_sp_bootstrap.py"])
            else:
                self.assertFalse({n + "c" for n in pys} - set(names) - {"_sp_bootstrap.pyc"})
                self.assertIn("json/__init__.py", pys)

    def test_python_of_another_version(self):
        c = self.cell
        osuite, oversion = c.other
        wrong = python_wrapper(os.path.join(self.tmp, "python" + oversion), osuite, oversion)
        out = os.path.join(self.tmp, "out")
        p = common.sp_pack(*c.pack_args(out, wrong, json=False), check=1)
        self.assertEqual(p.stdout, "")
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn("%s: is CPython %s, but the packed stdlib is for %s" % (wrong, oversion, c.version),
                      lines[0])
        self.assertFalse(os.path.exists(out))

    # -- booting from the output ---------------------------------------

    def boot(self, abi):
        c = self.cell
        home = os.path.join(self.tmp, "home-" + abi)
        runtime.make_home(c.out, home, c.version)
        assets = os.path.join(c.out, "assets")
        natives = os.path.join(c.out, "jniLibs", abi)
        code = "ASSETS=%r\nNATIVE=%r\nABI=%r\nOUT_PREFIXES=(%r, %r)\n%s" % (
            assets, natives, abi, home + "/lib/", c.out + "/", BOOT)
        r = self.run_python(abi, code, home=home, what="boot")
        self.assertEqual(r["version"], [int(n) for n in c.version.split(".")])
        self.assertEqual(r["machine"], interpreters.MACHINE[abi])
        self.assertEqual(r["finders"][0], "SorefFinder")
        # Every module with a file came from the output.
        self.assertEqual(r["outside"], [])
        mods = r["modules"]
        stdzip = os.path.join(home, "lib", "python%s.zip" % c.version.replace(".", ""))
        for name in ("_decimal", "_sqlite3", "_ssl", "_ctypes", "numpy.linalg._umath_linalg",
                     "yaml._yaml", "markupsafe._speedups", "cryptography.hazmat.bindings._rust",
                     "lxml.etree"):
            self.assertEqual(os.path.dirname(mods[name]), natives, name)
        core = "numpy._core._multiarray_umath" if "numpy._core._multiarray_umath" in mods \
            else "numpy.core._multiarray_umath"
        self.assertEqual(os.path.dirname(mods[core]), natives)
        self.assertEqual(mods["json"], stdzip + "/json/__init__.pyc")
        self.assertEqual(mods["numpy"], assets + "/sitepackages.zip/numpy/__init__.pyc")
        overlaid = {(o["zip"], o["path"]) for o in c.report["overlaid"]}
        config = "numpy/__config__.pyc" if c.bytecode == "--pyc-only" else "numpy/__config__.py"
        if ("sitepackages", config) in overlaid:
            self.assertEqual(mods["numpy.__config__"],
                             "%s/sitepackages-%s.zip/numpy/__config__.pyc" % (assets, abi))
        self.assertEqual(mods["spns.greeting"], assets + "/sitepackages.zip/spns/greeting.pyc")
        # Metadata, resources and the namespace package, against the inputs.
        site = c.site[abi]
        self.assertEqual(r["md_numpy"], dist_version(site, "numpy"))
        self.assertEqual(r["md_numpy"], r["numpy_version"])
        self.assertEqual(r["md_demo"], c.version)
        self.assertIn("spdemo/data/table.txt", r["md_demo_files"])
        with open(os.path.join(c.extra, "spdemo/data/table.txt")) as f:
            self.assertEqual(r["table"], f.read())
        self.assertEqual(r["rst_sha256"],
                         sha256(os.path.join(c.stdlib[abi], "email/architecture.rst")))
        self.assertIsNone(r["ns_file"])
        self.assertEqual(r["ns_path"], [assets + "/sitepackages.zip/spns"])
        self.assertEqual(r["greeting"], "hello from a namespace package")

    def test_boot_x86_64(self):
        self.boot("x86_64")

    def test_boot_arm64(self):
        self.boot("arm64-v8a")

    def test_zipimport_table_and_fallback(self):
        c = self.cell
        home = os.path.join(self.tmp, "home")
        stdzip = runtime.make_home(c.out, home, c.version)
        code = "NATIVE=%r\nABI='x86_64'\nSTDLIB_ZIP=%r\n%s" % (
            os.path.join(c.out, "jniLibs", "x86_64"), stdzip, ZIP_TABLE)
        r = self.run_python("x86_64", code, home=home, what="zipimport table")
        self.assertEqual(r["table"], "dict", "the finder does not find zipimport's table")
        self.assertTrue(r["table_has_json"])
        self.assertEqual(r["slow"], r["fast"])
        self.assertEqual(r["fast"]["json"], stdzip + "/json/__init__.pyc")
        self.assertEqual(r["fast"]["email.parser"], stdzip + "/email/parser.pyc")
        self.assertEqual(r["loader"], "_ZipImporter")
        # Each module's code unmarshalled once: the file was named from the table.
        self.assertGreaterEqual(len(r["loaded"]), 10)
        self.assertEqual(r["loads"], len(r["loaded"]), r["loaded"])
        self.assertEqual(r["after_fallback"], {
            "xml.dom.minidom": stdzip + "/xml/dom/minidom.pyc",
            "logging.handlers": stdzip + "/logging/handlers.pyc"})

    def test_in_place_from_the_apk_x86_64(self):
        c = self.cell
        empty = os.path.join(self.tmp, "empty-home")
        os.makedirs(empty)
        natives = os.path.join(c.out, "jniLibs", "x86_64")
        code = "APK=%r\nABI='x86_64'\nNATIVE=%r\n%s" % (c.apk, natives, IN_PLACE)
        path = ":".join(c.apk + "/assets/" + p for p in ("python", "stdlib.zip", "sitepackages.zip"))
        r = self.run_python("x86_64", code, home=empty, env={"PYTHONPATH": path},
                            what="in place from the APK")
        f = r["files"]
        self.assertEqual(f["encodings"], c.apk + "/assets/python/encodings/__init__.pyc")
        self.assertEqual(f["_sp_bootstrap"], c.apk + "/assets/python/_sp_bootstrap.pyc")
        self.assertEqual(f["json"], c.apk + "/assets/stdlib.zip/json/__init__.pyc")
        self.assertEqual(f["email.parser"], c.apk + "/assets/stdlib.zip/email/parser.pyc")
        self.assertEqual(f["numpy"], c.apk + "/assets/sitepackages.zip/numpy/__init__.pyc")
        self.assertEqual(f["spns.greeting"], c.apk + "/assets/sitepackages.zip/spns/greeting.pyc")
        self.assertEqual(f["_sqlite3"], os.path.join(natives, "lib_sqlite3.so"))
        self.assertEqual(r["md_demo"], c.version)
        self.assertEqual(r["md_numpy"], dist_version(c.site["x86_64"], "numpy"))
        self.assertEqual(r["table"], "cell %s: 1 2 3\n" % c.version)
        self.assertEqual(r["ns_path"], [c.apk + "/assets/sitepackages.zip/spns"])


def load_tests(loader, tests, pattern):
    suite = unittest.TestSuite()
    for v in selected():
        case = type("Matrix_" + v.replace(".", "_"), (MatrixCase,), {"VERSION": v})
        suite.addTests(loader.loadTestsFromTestCase(case))
    return suite


if __name__ == "__main__":
    common.main()
