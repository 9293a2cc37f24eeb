"""pack --pyc: unchecked-hash .pyc files beside the sources in the zips,
compiled by one helper process with a cache; zipimport loads them."""

import importlib.util
import os
import shutil
import stat
import sys
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import runtime  # noqa: E402

PYTHON = "/usr/bin/python3.11"


class PycTest(common.TempDirTestCase):
    def pack(self, out, *extra, env=None, check=0):
        return common.sp_pack(*common.pack_args(out, ["x86_64"]), "--python", PYTHON, *extra,
                              env=env, check=check)

    def test_pyc_only_boots_from_bytecode(self):
        out = os.path.join(self.tmp, "out")
        self.pack(out, "--pyc-only")
        with zipfile.ZipFile(os.path.join(out, "assets/stdlib.zip")) as z:
            names = set(z.namelist())
            self.assertIn("json/__init__.pyc", names)
            self.assertNotIn("json/__init__.py", names)
            pyc = z.read("json/__init__.pyc")
        # PEP 552 header: the interpreter's magic, flags 0b01 (hash-based,
        # unchecked), the source hash of the original file.
        with open(os.path.join(common.stdlib("x86_64"), "json/__init__.py"), "rb") as f:
            source = f.read()
        self.assertEqual(pyc[:4], importlib.util.MAGIC_NUMBER)
        self.assertEqual(int.from_bytes(pyc[4:8], "little"), 1)
        self.assertEqual(pyc[8:16], importlib.util.source_hash(source))
        p = runtime.boot(out, "x86_64", os.path.join(self.tmp, "home"), PYTHON)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = __import__("json").loads(p.stdout.strip().splitlines()[-1])
        self.assertTrue(r["stdlib_zip"].endswith("python311.zip/json/__init__.pyc"), r)
        self.assertTrue(r["numpy"].endswith("sitepackages.zip/numpy/__init__.pyc"), r)

    def test_each_module_is_unmarshalled_once(self):
        # Python 3.11's zipimporter loads a module's code twice: once in
        # find_spec (get_filename) only to name the file, once to run it.
        # After install(), zip imports load it once, from the same file.
        out = os.path.join(self.tmp, "out")
        self.pack(out, "--pyc-only")
        home = os.path.join(self.tmp, "home")
        runtime.make_home(out, home)
        code = r"""
import sys, marshal, zipimport
import _sp_bootstrap
_sp_bootstrap.install(native_dir=%r)
loads = []
class Counting:
    def loads(self, data):
        loads.append(1)
        return marshal.loads(data)
zipimport.marshal = Counting()
before = set(sys.modules)
import json.decoder, email.parser, argparse
new = sorted(m for m in set(sys.modules) - before
             if ".zip/" in (getattr(sys.modules[m], "__file__", None) or ""))
assert len(loads) == len(new), (len(loads), new)
assert len(new) >= 10, new
assert json.__file__.endswith("python311.zip/json/__init__.pyc"), json.__file__
assert json.decoder.__file__.endswith("python311.zip/json/decoder.pyc"), json.decoder.__file__
assert json.__path__ == [json.__file__.rpartition("/")[0]], json.__path__
assert type(json.__loader__).__name__ == "_ZipImporter"
print("ok", len(new))
""" % os.path.join(out, "jniLibs", "x86_64")
        p = common.run([PYTHON, "-S", "-c", code], env={"PYTHONHOME": home}, cwd=home)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("ok"), p.stdout)

    def test_pyc_beside_sources_is_what_loads(self):
        out = os.path.join(self.tmp, "out")
        self.pack(out, "--pyc")
        with zipfile.ZipFile(os.path.join(out, "assets/stdlib.zip")) as z:
            self.assertIn("json/__init__.py", z.namelist())
            self.assertIn("json/__init__.pyc", z.namelist())
        p = runtime.boot(out, "x86_64", os.path.join(self.tmp, "home"), PYTHON)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("json/__init__.pyc", p.stdout)

    def test_cache_and_recompile(self):
        cache = {"SP_PACK_PYC_CACHE": os.path.join(self.tmp, "cache")}
        tree = os.path.join(self.tmp, "site")
        os.makedirs(os.path.join(tree, "pkg"))
        for name in ("__init__.py", "a.py", "bad.py"):
            with open(os.path.join(tree, "pkg", name), "w") as f:
                f.write("def broken(:\n" if name == "bad.py" else "X = 1\n")
        base = ["pack", "--out", os.path.join(self.tmp, "o"), "--exclude", "sitecustomize.py",
                "--stdlib", common.stdlib("x86_64"), "--site-packages", "x86_64=" + tree,
                "--pyc", "--python", PYTHON]
        first = common.sp_pack(*base, env=cache, check=0)
        self.assertRegex(first.stdout, r"bytecode: [1-9]\d* files compiled, 0 from the cache")
        self.assertIn("did not compile and stay as source", first.stderr)
        self.assertIn("pkg/bad.py", first.stderr)
        with open(os.path.join(tree, "pkg", "a.py"), "w") as f:
            f.write("X = 2\n")
        again = common.sp_pack(*base, env=cache, check=0)
        self.assertRegex(again.stdout, r"bytecode: 1 files compiled, [1-9]\d* from the cache")

    def test_version_mismatch_and_usage(self):
        fake = os.path.join(self.tmp, "python3.12")
        with open(fake, "w") as f:  # answers like CPython 3.12 (magic 3531)
            f.write("#!/bin/sh\nprintf '\\313\\015\\015\\012\\003\\014'\ncat > /dev/null\n")
        os.chmod(fake, 0o755)
        out = os.path.join(self.tmp, "out")
        p = common.sp_pack(*common.pack_args(out, ["x86_64"]), "--pyc", "--python", fake, check=1)
        self.assertIn(fake + ": is CPython 3.12, but the packed stdlib is for 3.11", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)
        self.assertFalse(os.path.exists(out))
        # Same X.Y, another magic number (a pre-release): the stdlib's literal tells.
        with open(fake, "w") as f:
            f.write("#!/bin/sh\nprintf '\\300\\015\\015\\012\\003\\013'\ncat > /dev/null\n")
        p = common.sp_pack(*common.pack_args(out, ["x86_64"]), "--pyc", "--python", fake, check=1)
        self.assertIn("magic number 3520", p.stderr)
        self.assertIn("magic number 3495", p.stderr)
        # Something that does not answer like the helper at all: an error, not a
        # hang, whether it stops or waits for ever.
        for script in ("printf 'xy'\n", "printf 'xy'\nexec sleep 60\n"):
            with open(fake, "w") as f:
                f.write("#!/bin/sh\n" + script)
            p = common.sp_pack(*common.pack_args(out, ["x86_64"]), "--pyc", "--python", fake,
                               check=2, timeout=120)
            self.assertIn("cannot run it as a CPython interpreter", p.stderr)
            self.assertFalse(os.path.exists(out))
        common.sp_pack(*common.pack_args(out, ["x86_64"]), "--pyc", check=2)
        common.sp_pack(*common.pack_args(out, ["x86_64"]), "--python", PYTHON, check=2)
        p = common.sp_pack(*common.pack_args(out, ["x86_64"]), "--pyc", "--python",
                           "/nonexistent/python", check=2)
        self.assertIn("/nonexistent/python", p.stderr)


if __name__ == "__main__":
    common.main()
