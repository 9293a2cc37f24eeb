"""pack --exclude-preset tests|build on Debian's stdlib, numpy, scipy, lxml
and yaml: what the zips still hold (listed with Python's zipfile) against
the patterns docs/layout.md documents, recomputed here from the input
trees; the counts in the report; and Debian's python3.11 importing numpy,
scipy, lxml, yaml, sqlite3 and json from the output packed with both."""

import fnmatch
import json
import os
import re
import shutil
import sys
import time
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import runtime  # noqa: E402

PYTHON = "/usr/bin/python3.11"
ABI = "x86_64"
MORE = os.path.join(common.CACHE, ABI, "more", "root")
MORE_SITE = os.path.join(MORE, "usr/lib/python3/dist-packages")
MORE_LIBS = os.path.join(MORE, "usr/lib/x86_64-linux-gnu")

STDLIB_DIRS = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data"}
STDLIB_TEST_MODULES = ["_test*", "_ctypes_test.*", "_xxtestfuzz.*", "xxlimited*"]
BUILD_GLOBS = ["*.a", "*.h", "*.pyi", "*.pxd", "*.pyx"]


def documented_kept():
    """The test packages docs/layout.md says the tests preset keeps."""
    with open(os.path.join(common.SOURCE_DIR, "docs", "layout.md")) as f:
        text = f.read()
    part = text[text.index("Test packages kept by `tests`"):]
    part = part[:part.index("\n\n", part.index("\n* "))]
    kept = re.findall(r"^\* `([^`]+)/`", part, re.M)
    assert kept, "docs/layout.md lists no kept test package"
    return kept


def test_dirs(rel):
    """The tests/ or test/ directories inside packages on the path rel."""
    parts = rel.split("/")[:-1]
    return ["/".join(parts[:i + 1]) for i in range(1, len(parts)) if parts[i] in ("tests", "test")]


def tests_preset(rel, stdlib, kept):
    if stdlib:
        parts = rel.split("/")
        if parts[0] == "lib-dynload" and len(parts) == 2:
            return any(fnmatch.fnmatchcase(parts[1], g) for g in STDLIB_TEST_MODULES)
        if len(parts) > 1 and parts[0] in STDLIB_DIRS:
            return True
    return any(d not in kept for d in test_dirs(rel))


def build_preset(rel):
    return any(fnmatch.fnmatchcase(rel.rsplit("/", 1)[-1], g) for g in BUILD_GLOBS)


def files(root, stdlib):
    """Every file pack reads from root: {relative path: size}."""
    out = {}
    for dirpath, dirs, names in os.walk(root, followlinks=True):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir == ".":
            rel_dir = ""
            if stdlib:
                dirs[:] = [d for d in dirs if d not in ("site-packages", "dist-packages")]
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for n in names:
            rel = rel_dir + "/" + n if rel_dir else n
            if rel != "sitecustomize.py":
                out[rel] = os.stat(os.path.join(dirpath, n)).st_size
    return out


def zip_names(out):
    names = {}
    for z in os.listdir(os.path.join(out, "assets")):
        if z.endswith(".zip"):
            with zipfile.ZipFile(os.path.join(out, "assets", z)) as f:
                names[z] = [n for n in f.namelist() if not n.endswith("/")]
    return names


class PresetTest(common.TempDirTestCase):
    def pack(self, out, *extra, check=0):
        args = ["pack", "--out", out, "--exclude", "sitecustomize.py",
                "--stdlib", "%s=%s" % (ABI, common.stdlib(ABI)),
                "--site-packages", "%s=%s" % (ABI, common.dist_packages(ABI)),
                "%s=%s" % (ABI, MORE_SITE)] + list(extra)
        return common.sp_pack(*args, check=check)

    def expected(self, preset):
        """Per input root, the files the documented patterns leave out."""
        kept = documented_kept()
        left = {}
        for root, stdlib in ((common.stdlib(ABI), True), (common.dist_packages(ABI), False),
                             (MORE_SITE, False)):
            for rel, size in files(root, stdlib).items():
                hit = tests_preset(rel, stdlib, kept) if preset == "tests" else build_preset(rel)
                if hit:
                    left[(root, rel)] = size
        return left

    def test_tests_preset_on_numpy_and_scipy(self):
        out = os.path.join(self.tmp, "out")
        doc = json.loads(self.pack(out, "--exclude-preset", "tests", "--json").stdout)
        left = self.expected("tests")
        self.assertEqual(doc["presets"], {"tests": {"files": len(left),
                                                    "bytes": sum(left.values())}})
        # The inputs hold test directories, numpy's and scipy's among them.
        dirs = {d for (root, rel) in left for d in test_dirs(rel) if root != common.stdlib(ABI)}
        self.assertIn("numpy/core/tests", dirs)
        self.assertIn("scipy/linalg/tests", dirs)
        self.assertGreater(len(dirs), 40)
        names = zip_names(out)
        site = names["sitepackages.zip"]
        # No test directory left but those documented, and only testing/ packages kept.
        kept_dirs = {d for n in site for d in test_dirs(n)}
        self.assertTrue(kept_dirs <= set(documented_kept()), kept_dirs)
        self.assertIn("numpy/testing/__init__.py", site)
        self.assertIn("numpy/testing/_private/utils.py", site)
        self.assertIn("scipy/stats/_hypotests.py", site)
        # Every other file is there (as itself, or as a marker for a module).
        in_zip = set(site) | {n for z in names for n in names[z] if z.startswith("sitepackages-")}
        for root in (common.dist_packages(ABI), MORE_SITE):
            for rel in files(root, False):
                if (root, rel) in left:
                    continue
                if rel.endswith(".so"):
                    marker = rel.split(".")[0] + ".soref"
                    self.assertIn(marker, in_zip, rel)
                else:
                    self.assertIn(rel, in_zip)
        std = names["stdlib.zip"]
        self.assertFalse([n for n in std if n.split("/")[0] in STDLIB_DIRS])
        self.assertIn("json/__init__.py", std)
        self.assertIn("pydoc.py", std)
        self.assertNotIn("_testcapi.soref", std)
        self.assertIn("_ctypes.soref", std)
        self.assertFalse(os.path.exists(os.path.join(out, "jniLibs", ABI, "lib_testcapi.so")))
        text = self.pack(os.path.join(self.tmp, "text"), "--exclude-preset", "tests").stdout
        self.assertRegex(text, r"left out by --exclude-preset tests: %d files, " % len(left))

    def test_build_preset(self):
        out = os.path.join(self.tmp, "out")
        doc = json.loads(self.pack(out, "--exclude-preset", "build", "--json").stdout)
        left = self.expected("build")
        self.assertTrue([rel for (_, rel) in left if rel.endswith(".a")])
        self.assertTrue([rel for (_, rel) in left if rel.endswith(".pxd")])
        self.assertEqual(doc["presets"], {"build": {"files": len(left),
                                                    "bytes": sum(left.values())}})
        for z, names in zip_names(out).items():
            self.assertEqual([n for n in names if build_preset(n)], [], z)

    def test_boot_with_both_presets(self):
        out = os.path.join(self.tmp, "out")
        doc = json.loads(self.pack(out, "--exclude-preset", "tests", "--exclude-preset", "build",
                                   "--strip", "--json").stdout)
        self.assertEqual(sorted(doc["presets"]), ["build", "tests"])
        home = os.path.join(self.tmp, "home")
        runtime.make_home(out, home)
        code = r"""
import sys, json
sys.path.append(%(assets)r + "/sitepackages.zip")
import _sp_bootstrap
_sp_bootstrap.install(native_dir=%(native)r, abi="x86_64")
import numpy, scipy, lxml.etree, yaml, sqlite3, json
import scipy.linalg, scipy.special, scipy.optimize, scipy.stats, scipy.sparse, scipy.integrate
import scipy.interpolate, scipy.signal, scipy.fft, scipy.spatial, scipy.ndimage, numpy.testing
a = numpy.array([[3.0, 1.0], [1.0, 2.0]])
assert numpy.allclose(scipy.linalg.solve(a, [9.0, 8.0]), [2.0, 3.0])
assert abs(scipy.special.gamma(5) - 24.0) < 1e-12
assert abs(scipy.stats.norm.cdf(0) - 0.5) < 1e-12
assert abs(scipy.optimize.minimize_scalar(lambda x: (x - 2) ** 2).x - 2) < 1e-6
assert yaml.__with_libyaml__
assert yaml.load("a: [1, 2]", Loader=yaml.CSafeLoader) == {"a": [1, 2]}
assert lxml.etree.tostring(lxml.etree.fromstring("<a><b>x</b></a>")) == b"<a><b>x</b></a>"
assert sqlite3.connect(":memory:").execute("select 6 * 7").fetchone() == (42,)
assert json.loads(json.dumps({"k": [1]})) == {"k": [1]}
print(json.dumps({m: sys.modules[m].__file__ for m in
                  ("numpy", "scipy", "lxml.etree", "yaml._yaml", "_sqlite3", "json")}))
""" % {"assets": os.path.join(out, "assets"), "native": os.path.join(out, "jniLibs", ABI)}
        p = common.run([PYTHON, "-S", "-c", code], cwd=home,
                       env={"PYTHONHOME": home, "LD_LIBRARY_PATH": MORE_LIBS})
        self.assertEqual(p.returncode, 0, p.stderr)
        where = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertTrue(where["scipy"].startswith(os.path.join(out, "assets", "sitepackages.zip")))
        self.assertTrue(where["lxml.etree"].startswith(os.path.join(out, "jniLibs", ABI)))
        self.assertTrue(where["_sqlite3"].startswith(os.path.join(out, "jniLibs", ABI)))
        self.assertTrue(where["yaml._yaml"].startswith(os.path.join(out, "jniLibs", ABI)))

    def small_trees(self):
        stdlib = os.path.join(self.tmp, "stdlib")
        for f in ("os.py", "encodings/__init__.py", "encodings/aliases.py", "encodings/utf_8.py",
                  "lib-dynload/_bz2.cpython-311-x86_64-linux-gnu.so"):
            os.makedirs(os.path.dirname(os.path.join(stdlib, f)), exist_ok=True)
            shutil.copyfile(os.path.join(common.stdlib(ABI), f), os.path.join(stdlib, f))
        site = os.path.join(self.tmp, "site")
        for f in ("pkg/__init__.py", "pkg/tests/__init__.py", "pkg/tests/test_a.py",
                  "pkg/testing/__init__.py", "pkg/a.pyi"):
            os.makedirs(os.path.dirname(os.path.join(site, f)), exist_ok=True)
            with open(os.path.join(site, f), "w") as fh:
                fh.write("# %s\n" % f)
        return ["pack", "--stdlib", "%s=%s" % (ABI, stdlib), "--site-packages",
                "%s=%s" % (ABI, site)], site

    def test_usage_config_and_rewrites(self):
        args, site = self.small_trees()
        size = lambda *rels: sum(os.path.getsize(os.path.join(site, r)) for r in rels)
        out = os.path.join(self.tmp, "out")
        # An unknown name: a usage error, one line naming the known ones.
        p = common.sp_pack(*args, "--out", out, "--exclude-preset", "docs", check=2)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertIn("unknown --exclude-preset 'docs' (one of tests, build)", p.stderr)
        self.assertFalse(os.path.exists(out))
        cfg = os.path.join(self.tmp, "cfg.json")
        with open(cfg, "w") as f:
            json.dump({"exclude-preset": "nope"}, f)
        p = common.sp_pack(*args, "--out", out, "--config", cfg, check=2)
        self.assertIn("unknown --exclude-preset 'nope'", p.stderr)
        site_zip = os.path.join(out, "assets", "sitepackages.zip")
        common.sp_pack(*args, "--out", out, "-q", check=0)
        self.assertIn("pkg/tests/test_a.py", zipfile.ZipFile(site_zip).namelist())
        time.sleep(0.02)
        # From a --config list: a changed option rewrites what it changes.
        with open(cfg, "w") as f:
            json.dump({"exclude-preset": ["tests", "build"]}, f)
        doc = json.loads(common.sp_pack(*args, "--out", out, "--config", cfg, "--json",
                                        check=0).stdout)
        self.assertEqual(doc["presets"], {
            "tests": {"files": 2, "bytes": size("pkg/tests/__init__.py", "pkg/tests/test_a.py")},
            "build": {"files": 1, "bytes": size("pkg/a.pyi")}})
        names = zipfile.ZipFile(site_zip).namelist()
        self.assertEqual(sorted(n for n in names if not n.endswith("/")),
                         ["pkg/__init__.py", "pkg/testing/__init__.py"])
        kept = common.snapshot(out)["assets/sitepackages.zip"]
        time.sleep(0.02)
        same = common.sp_pack(*args, "--out", out, "--exclude-preset", "build",
                              "--exclude-preset", "tests", "--json", check=0)
        self.assertEqual(common.snapshot(out)["assets/sitepackages.zip"], kept)
        self.assertEqual(json.loads(same.stdout)["presets"], doc["presets"])


if __name__ == "__main__":
    common.main()
