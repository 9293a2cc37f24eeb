"""Boot a host CPython 3.11 from a pack output, the way an app does on a
phone, and import through the sp-pack finder.

    python3.11 examples/boot_from_pack.py OUT_DIR ABI

It copies OUT_DIR/assets/stdlib.zip to HOME/lib/python311.zip (where
sys.path expects it under PYTHONHOME), starts the interpreter with -S,
installs the finder with native_dir=OUT_DIR/jniLibs/ABI and imports
numpy and a few native stdlib modules. The ABI must be one this machine
runs (x86_64 here; arm64-v8a under qemu-aarch64-static).

This is the copying way. An app reads the same zips in place from its
APK, with nothing copied: examples/launcher/ (sp-launch on a host) shows
that, docs/runtime.md explains it."""

import os
import shutil
import subprocess
import sys
import tempfile

CHILD = r"""
import sys
sys.path.append(ASSETS + "/sitepackages.zip")
import _sp_bootstrap
_sp_bootstrap.install(native_dir=NATIVE, abi=ABI)
import bz2, lzma, sqlite3, ssl, decimal, ctypes, numpy
import json
print("python", sys.version.split()[0], "stdlib from", json.__file__)
print("numpy", numpy.__version__, "from", numpy.__file__)
print("numpy.__config__ from", numpy.__config__.__file__)
print("_multiarray_umath from", sys.modules["numpy.core._multiarray_umath"].__file__)
print("_sqlite3 from", sys.modules["_sqlite3"].__file__)
a = numpy.array([[3.0, 1.0], [1.0, 2.0]])
print("numpy.linalg.solve([[3, 1], [1, 2]], [9, 8]) =", numpy.linalg.solve(a, [9.0, 8.0]))
"""


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    out, abi = os.path.abspath(sys.argv[1]), sys.argv[2]
    home = tempfile.mkdtemp(prefix="sp-pack-home-")
    try:
        os.makedirs(os.path.join(home, "lib"))
        shutil.copyfile(os.path.join(out, "assets", "stdlib.zip"),
                        os.path.join(home, "lib", "python311.zip"))
        code = "ASSETS=%r\nNATIVE=%r\nABI=%r\n%s" % (
            os.path.join(out, "assets"), os.path.join(out, "jniLibs", abi), abi, CHILD)
        env = {"PYTHONHOME": home, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        sys.exit(subprocess.run(["/usr/bin/python3.11", "-S", "-c", code], env=env,
                                cwd=home).returncode)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
