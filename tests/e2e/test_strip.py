"""pack --strip, judged by readelf, verify and a real CPython.

A library built here with clang -g (tests/build-elf-fixtures.sh) loses its
.debug_* sections and .symtab, keeps PyInit_ in .dynsym and its program
headers; Debian's own extension modules (stdlib and numpy), given debug
sections and a symbol table with objcopy, and a module compiled here with
gcc -g against Debian's Python.h, come out with Debian's own section list,
their segments byte for byte, verify's findings unchanged, and import."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import runtime  # noqa: E402

PYTHON = "/usr/bin/python3.11"
ABI = "x86_64"

GCC_MODULE = r"""
#include <Python.h>
static int calls;
static PyObject *twice(PyObject *self, PyObject *arg)
{
    long v = PyLong_AsLong(arg);
    calls++;
    return PyLong_FromLong(2 * v + 0 * calls);
}
static PyMethodDef methods[] = {{"twice", twice, METH_O, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "spdebug", NULL, -1, methods};
PyMODINIT_FUNC PyInit_spdebug(void) { return PyModule_Create(&def); }
"""


def readelf(*args):
    return common.run(["readelf", "-W"] + list(args), check=0).stdout


def section_names(path):
    names = []
    for line in readelf("-S", path).splitlines():
        m = re.match(r"\s*\[\s*(\d+)\]\s+(\S*)", line)
        if m and m.group(1) != "0":
            names.append(m.group(2))
    return names


def program_headers(path):
    out = readelf("-l", path)
    return out[out.index("Program Headers:"):]


def segment_end(path):
    end = 0
    for line in readelf("-l", path).splitlines():
        f = line.split()
        if f and f[0].isupper() and len(f) >= 6 and f[1].startswith("0x"):
            end = max(end, int(f[1], 16) + int(f[4], 16))
    return end


def dynsym_pyinit(path):
    return sorted(set(re.findall(r"\bPyInit_\w+", readelf("--dyn-syms", path))))


class StripTest(common.TempDirTestCase):
    def pack(self, out, site, *extra, stdlib=None, check=0):
        args = ["pack", "--out", out, "--exclude", "sitecustomize.py", "--stdlib",
                "%s=%s" % (ABI, stdlib or common.stdlib(ABI)),
                "--site-packages", "%s=%s" % (ABI, site)] + list(extra)
        return common.sp_pack(*args, check=check)

    def debug_site(self):
        site = os.path.join(self.tmp, "site")
        os.makedirs(os.path.join(site, "dbgpkg"))
        open(os.path.join(site, "dbgpkg", "__init__.py"), "w").close()
        shutil.copyfile(os.path.join(common.ELF_FIXTURES, "debug-x86_64.so"),
                        os.path.join(site, "dbgpkg", "debug.cpython-311-x86_64-linux-gnu.so"))
        return site

    def test_debug_fixture(self):
        site = self.debug_site()
        src = os.path.join(site, "dbgpkg", "debug.cpython-311-x86_64-linux-gnu.so")
        plain, stripped = os.path.join(self.tmp, "plain"), os.path.join(self.tmp, "stripped")
        apk = os.path.join(self.tmp, "app.apk")
        self.pack(plain, site, "-q")
        p = self.pack(stripped, site, "--strip", "--apk", apk, "--json")
        lib = "jniLibs/x86_64/libdbgpkg-debug.so"
        before, after = os.path.join(plain, lib), os.path.join(stripped, lib)
        # Without --strip the library ships as it came, debug sections and all.
        self.assertEqual(open(before, "rb").read(), open(src, "rb").read())
        names = section_names(before)
        self.assertTrue([n for n in names if n.startswith(".debug_")], names)
        self.assertIn(".symtab", names)
        names = section_names(after)
        self.assertEqual([n for n in names if n.startswith((".debug", ".zdebug"))], [])
        self.assertNotIn(".symtab", names)
        self.assertNotIn(".strtab", names)
        for kept in (".dynsym", ".dynstr", ".dynamic", ".note.android.ident", ".text"):
            self.assertIn(kept, names)
        self.assertEqual(dynsym_pyinit(after), ["PyInit_debug"])
        self.assertEqual(program_headers(after), program_headers(before))
        end = segment_end(before)
        with open(before, "rb") as a, open(after, "rb") as b:
            x, y = a.read(), b.read()
        self.assertLess(len(y), len(x))
        self.assertEqual(y[64:end], x[64:end])  # past the ELF header: segments unmoved
        doc = json.loads(p.stdout)
        self.assertEqual(doc["strip"]["libraries"], 1)
        self.assertEqual(doc["strip"]["bytes"], len(x) - len(y))
        # verify finds nothing wrong with it in the APK.
        v = json.loads(common.sp_pack("verify", "--json", apk, check=1).stdout)
        mine = [f for f in v["files"][0]["findings"] if "dbgpkg" in (f["entry"] or "")]
        self.assertEqual(mine, [])

    def test_option_changes_rewrite(self):
        """--strip is part of what the outputs are made of: turning it on or
        off rewrites the libraries, the same options keep them as they are."""
        site = self.debug_site()
        out = os.path.join(self.tmp, "out")
        rel = "jniLibs/x86_64/libdbgpkg-debug.so"
        src = os.path.join(site, "dbgpkg", "debug.cpython-311-x86_64-linux-gnu.so")
        with open(src, "rb") as f:
            original = hashlib.sha256(f.read()).hexdigest()
        self.pack(out, site, "-q")
        self.assertEqual(common.snapshot(out)[rel][0], original)
        time.sleep(0.02)  # so that a rewrite shows in the mtime
        self.pack(out, site, "--strip", "-q")
        stripped = common.snapshot(out)[rel]
        self.assertNotEqual(stripped[0], original)
        time.sleep(0.02)
        self.pack(out, site, "--strip", "-q")
        self.assertEqual(common.snapshot(out)[rel], stripped)
        # The key is in --config too.
        cfg = os.path.join(self.tmp, "cfg.json")
        with open(cfg, "w") as f:
            json.dump({"strip": True}, f)
        self.pack(out, site, "--config", cfg, "-q")
        self.assertEqual(common.snapshot(out)[rel], stripped)
        self.pack(out, site, "-q")
        self.assertEqual(common.snapshot(out)[rel][0], original)
        # Two runs, same bytes.
        again = os.path.join(self.tmp, "again")
        self.pack(again, site, "--strip", "-q")
        self.assertEqual(common.snapshot(again)[rel][0], stripped[0])

    def unstripped_trees(self):
        """Debian's x86_64 stdlib and numpy, every extension module given
        debug sections and a symbol table, plus a gcc -g module."""
        stdlib = os.path.join(self.tmp, "stdlib")
        site = os.path.join(self.tmp, "site")
        shutil.copytree(common.stdlib(ABI), stdlib, symlinks=True,
                        ignore=shutil.ignore_patterns("dist-packages", "site-packages"))
        shutil.copytree(os.path.join(common.dist_packages(ABI), "numpy"),
                        os.path.join(site, "numpy"), symlinks=True)
        blob = os.path.join(self.tmp, "blob")
        with open(blob, "wb") as f:
            f.write(bytes(range(256)) * 300)
        originals = {}
        for top in (stdlib, site):
            for dirpath, _, files in os.walk(top):
                for name in files:
                    if not name.endswith(".so"):
                        continue
                    path = os.path.join(dirpath, name)
                    keep = os.path.join(self.tmp, "orig-%d.so" % len(originals))
                    shutil.copyfile(path, keep)
                    subprocess.run(["objcopy", "--add-section", ".debug_info=" + blob,
                                    "--add-section", ".debug_line=" + blob,
                                    "--add-symbol", "sp_local_marker=.text:0x0,local,function",
                                    keep, path], check=True)
                    originals[name] = keep
        src = os.path.join(self.tmp, "spdebug.c")
        with open(src, "w") as f:
            f.write(GCC_MODULE)
        subprocess.run(["gcc", "-g", "-O1", "-shared", "-fPIC", "-I/usr/include/python3.11",
                        "-o", os.path.join(site, "spdebug.cpython-311-x86_64-linux-gnu.so"), src],
                       check=True)
        return stdlib, site, originals

    def test_real_modules(self):
        stdlib, site, originals = self.unstripped_trees()
        out, plain = os.path.join(self.tmp, "out"), os.path.join(self.tmp, "plain")
        apk, plain_apk = os.path.join(self.tmp, "app.apk"), os.path.join(self.tmp, "plain.apk")
        doc = json.loads(self.pack(out, site, "--strip", "--json", "--apk", apk,
                                   stdlib=stdlib).stdout)
        self.pack(plain, site, "-q", "--apk", plain_apk, stdlib=stdlib)
        with open(os.path.join(out, "sp-pack.json")) as f:
            manifest = json.load(f)
        self.assertEqual(doc["strip"]["libraries"], len(originals) + 1)
        # Each of Debian's modules, by its segments' bytes.
        def segments(path):
            end = segment_end(path)
            with open(path, "rb") as f:
                return f.read()[64:end]
        by_segments = {segments(orig): orig for orig in originals.values()}
        self.assertEqual(len(by_segments), len(originals))
        libs = sorted(os.listdir(os.path.join(out, "jniLibs", ABI)))
        self.assertEqual(libs, sorted(m["lib"] for m in manifest["modules"]))
        matched = 0
        for name in libs:
            path = os.path.join(out, "jniLibs", ABI, name)
            unstripped = os.path.join(plain, "jniLibs", ABI, name)
            names = section_names(path)
            self.assertEqual([n for n in names if n.startswith((".debug", ".zdebug"))], [], name)
            self.assertNotIn(".symtab", names, name)
            self.assertTrue(dynsym_pyinit(path), name)
            self.assertEqual(dynsym_pyinit(path), dynsym_pyinit(unstripped), name)
            self.assertIn(".symtab", section_names(unstripped), name)
            self.assertEqual(program_headers(path), program_headers(unstripped), name)
            self.assertEqual(segments(path), segments(unstripped), name)
            orig = by_segments.get(segments(path))
            if orig:
                # Debian's module comes back with Debian's own sections, in order.
                self.assertEqual(names, section_names(orig), name)
                matched += 1
        self.assertEqual(matched, len(originals))
        # verify finds the same in the stripped APK as in the unstripped one.
        def findings(target):
            v = json.loads(common.sp_pack("verify", "--json", target, check=None).stdout)
            return sorted((f["id"], f["entry"]) for f in v["files"][0]["findings"])
        self.assertEqual(findings(apk), findings(plain_apk))
        self.assertTrue(os.path.getsize(apk) < os.path.getsize(plain_apk))
        # And the stripped modules import and work.
        home = os.path.join(self.tmp, "home")
        runtime.make_home(out, home)
        code = r"""
import sys, json
sys.path.append(%(assets)r + "/sitepackages.zip")
import _sp_bootstrap
_sp_bootstrap.install(native_dir=%(native)r, abi="x86_64")
import decimal, sqlite3, numpy, spdebug
assert str(decimal.Decimal(1) / decimal.Decimal(8)) == "0.125"
assert sqlite3.connect(":memory:").execute("select 6 * 7").fetchone() == (42,)
a = numpy.array([[3.0, 1.0], [1.0, 2.0]])
assert numpy.allclose(numpy.linalg.solve(a, numpy.array([9.0, 8.0])), [2.0, 3.0])
assert spdebug.twice(21) == 42
print(json.dumps({m: sys.modules[m].__file__ for m in
                  ("_decimal", "_sqlite3", "numpy.core._multiarray_umath", "spdebug")}))
""" % {"assets": os.path.join(out, "assets"), "native": os.path.join(out, "jniLibs", ABI)}
        p = common.run([PYTHON, "-S", "-c", code], env={"PYTHONHOME": home}, cwd=home)
        self.assertEqual(p.returncode, 0, p.stderr)
        files = json.loads(p.stdout.strip().splitlines()[-1])
        for mod, path in files.items():
            self.assertTrue(path.startswith(os.path.join(out, "jniLibs", ABI)), (mod, path))
            self.assertNotIn(".symtab", section_names(path))


if __name__ == "__main__":
    common.main()
