"""Every interpreter of tests/e2e/interpreters.py runs on this host: from its
own tree it imports numpy (and solves a 2x2 system), sqlite3, ssl, decimal,
ctypes, yaml with libyaml, lxml, markupsafe's speedups, cryptography (an
abi3 module), bcrypt and cffi's backend (bookworm: also scipy);
under another PYTHONHOME it boots with -S from a zip of its stdlib; and no
library any ELF file of a tree needs is missing from that tree.

Fetches what is missing first (scripts/fetch-python.sh). SP_INTERP_CELLS, e.g.
"sid:3.15:arm64-v8a,trixie:3.13:x86_64", runs only those cells."""

import json
import os
import subprocess
import sys
import time
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import interpreters  # noqa: E402


def selected_cells():
    want = os.environ.get("SP_INTERP_CELLS")
    if not want:
        return interpreters.cells()
    return [tuple(c.split(":")) for c in want.split(",") if c]


CELLS = selected_cells()

OWN_TREE = r"""
import sys, json, platform, ctypes, decimal, sqlite3, ssl
import numpy, yaml, lxml.etree, markupsafe, bcrypt, _cffi_backend
from cryptography.hazmat.primitives import hashes
a = numpy.array([[3.0, 1.0], [1.0, 2.0]])
x = numpy.linalg.solve(a, numpy.array([9.0, 8.0]))
assert numpy.allclose(x, [2.0, 3.0]), x
db = sqlite3.connect(":memory:")
assert db.execute("select 6 * 7").fetchone() == (42,)
assert str(decimal.Decimal(1) / decimal.Decimal(8)) == "0.125"
assert ctypes.sizeof(ctypes.c_int64) == 8
ssl.create_default_context()
assert yaml.load("a: [1, 2]", Loader=yaml.CSafeLoader) == {"a": [1, 2]}
assert lxml.etree.fromstring("<a><b>t</b></a>").findtext("b") == "t"
import markupsafe._speedups
assert str(markupsafe.escape("<&>")) == "&lt;&amp;&gt;"
h = hashes.Hash(hashes.SHA256())
h.update(b"abc")
assert h.finalize().hex().startswith("ba7816bf"), "sha256"
pw = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4))
assert bcrypt.checkpw(b"pw", pw)
mods = [numpy, sqlite3, ssl, yaml, lxml.etree, markupsafe._speedups,
        sys.modules["_sqlite3"], sys.modules["_ssl"], sys.modules["_ctypes"],
        sys.modules["cryptography.hazmat.bindings._rust"], bcrypt._bcrypt, _cffi_backend]
if sys.version_info[:2] == (3, 11):
    import scipy.linalg
    assert numpy.allclose(scipy.linalg.solve(a, [9.0, 8.0]), [2.0, 3.0])
    mods.append(scipy.linalg)
print(json.dumps({
    "version": list(sys.version_info[:2]),
    "machine": platform.machine(),
    "prefix": sys.prefix,
    "files": [getattr(m, "__file__", None) for m in mods],
    "decimal_c": "_decimal" in sys.modules,
}))
"""

OTHER_HOME = r"""
import sys, json, collections, email.parser
print(json.dumps({"json": json.__file__, "prefix": sys.prefix, "path": sys.path}))
"""


def stdlib_zip(stdlib, path):
    """The stdlib's pure .py files (no tests, no links), stored."""
    skip = {"test", "idlelib", "tkinter", "turtledemo", "lib-dynload",
            "site-packages", "dist-packages", "__pycache__"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for dirpath, dirs, files in os.walk(stdlib):
            dirs[:] = sorted(d for d in dirs if d not in skip)
            for f in sorted(files):
                p = os.path.join(dirpath, f)
                if f.endswith(".py") and not os.path.islink(p):
                    z.write(p, os.path.relpath(p, stdlib))


class InterpretersTest(common.TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        fetch = os.path.join(common.SOURCE_DIR, "scripts", "fetch-python.sh")
        for suite in sorted({c[0] for c in CELLS}):
            abis = sorted({c[2] for c in CELLS if c[0] == suite})
            subprocess.run([fetch, suite] + abis, check=True)

    def timed(self, cell, what, *args, **kw):
        t = time.monotonic()
        p = interpreters.run(*args, **kw)
        print("  %s %s: %.1f s" % (":".join(cell), what, time.monotonic() - t), file=sys.stderr)
        return p

    def test_runs_from_its_own_tree(self):
        for cell in CELLS:
            suite, version, abi = cell
            with self.subTest(cell=cell):
                p = self.timed(cell, "own tree", suite, abi, version, ["-c", OWN_TREE])
                self.assertEqual(p.returncode, 0, p.stderr)
                r = json.loads(p.stdout.strip().splitlines()[-1])
                root = interpreters.root(suite, abi)
                self.assertEqual(r["version"], [int(n) for n in version.split(".")])
                self.assertEqual(r["machine"], interpreters.MACHINE[abi])
                self.assertEqual(r["prefix"], os.path.join(root, "usr"))
                self.assertTrue(r["decimal_c"])
                for f in r["files"]:
                    self.assertTrue(f.startswith(root + "/usr/lib/"), f)

    def test_boots_under_another_home(self):
        for cell in CELLS:
            suite, version, abi = cell
            with self.subTest(cell=cell):
                home = os.path.join(self.tmp, "-".join(cell))
                os.makedirs(os.path.join(home, "lib"))
                z = os.path.join(home, "lib", "python%s.zip" % version.replace(".", ""))
                stdlib_zip(interpreters.stdlib(suite, abi, version), z)
                p = self.timed(cell, "other home", suite, abi, version,
                               ["-S", "-c", OTHER_HOME], home=home, cwd=home)
                self.assertEqual(p.returncode, 0, p.stderr)
                r = json.loads(p.stdout.strip().splitlines()[-1])
                self.assertEqual(r["json"], os.path.join(z, "json", "__init__.py"))
                self.assertEqual(r["prefix"], home)
                self.assertNotIn(interpreters.root(suite, abi) + "/", " ".join(r["path"]))

    def test_no_library_is_missing(self):
        for suite, abi in sorted({(c[0], c[2]) for c in CELLS}):
            with self.subTest(suite=suite, abi=abi):
                self.assertEqual(interpreters.missing_libraries(suite, abi), {})


if __name__ == "__main__":
    common.main()
