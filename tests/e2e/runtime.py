"""Booting a real CPython from sp-pack's output (3.11 unless told).

The interpreter finds stdlib.zip where sys.path expects lib/python3XY.zip
(lib/python311.zip for 3.11) under PYTHONHOME, starts with -S (no site), installs the finder and imports
through it. Used by the tests and by scripts/demo.sh."""

import os
import shutil
import subprocess

import common

SCRIPT = r"""
import sys, json
sys.path.append(ASSETS + "/sitepackages.zip")
import _sp_bootstrap
_sp_bootstrap.install(native_dir=NATIVE, abi=ABI)
import bz2, lzma, sqlite3, ssl, decimal, ctypes
assert bz2.decompress(bz2.compress(b"sp-pack" * 100)) == b"sp-pack" * 100
assert lzma.decompress(lzma.compress(b"xz")) == b"xz"
db = sqlite3.connect(":memory:")
assert db.execute("select 6 * 7").fetchone() == (42,)
assert str(decimal.Decimal(1) / decimal.Decimal(8)) == "0.125"
assert ctypes.sizeof(ctypes.c_int32) == 4
ssl.create_default_context()
import numpy
a = numpy.array([[3.0, 1.0], [1.0, 2.0]])
x = numpy.linalg.solve(a, numpy.array([9.0, 8.0]))
assert numpy.allclose(x, [2.0, 3.0]), x
assert abs(numpy.linalg.det(a) - 5.0) < 1e-9
import numpy.__config__
out = {
    "stdlib_zip": json.__file__,
    "numpy": numpy.__file__,
    "numpy_config": numpy.__config__.__file__,
    "multiarray": sys.modules["numpy.core._multiarray_umath"].__file__,
    "bz2": sys.modules["_bz2"].__file__,
    "sqlite3": sys.modules["_sqlite3"].__file__,
    "finders": [type(f).__name__ for f in sys.meta_path],
    "machine": __import__("platform").machine(),
}
print(json.dumps(out))
"""


def make_home(out, home, version="3.11"):
    """PYTHONHOME whose lib/python3XY.zip is the packed stdlib.zip; its path."""
    os.makedirs(os.path.join(home, "lib"), exist_ok=True)
    z = os.path.join(home, "lib", "python%s.zip" % version.replace(".", ""))
    shutil.copyfile(os.path.join(out, "assets", "stdlib.zip"), z)
    return z


def boot(out, abi, home, interpreter, prefix=(), env=None):
    make_home(out, home)
    code = "ASSETS=%r\nNATIVE=%r\nABI=%r\n%s" % (
        os.path.join(out, "assets"), os.path.join(out, "jniLibs", abi), abi, SCRIPT)
    full_env = {"PYTHONHOME": home, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if env:
        full_env.update(env)
    return subprocess.run(list(prefix) + [interpreter, "-S", "-c", code],
                          capture_output=True, text=True, env=full_env, cwd=home)
