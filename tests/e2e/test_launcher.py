"""sp-launch, the embedding example (examples/launcher/), built against
Debian's CPython 3.11, 3.13 and 3.14, boots from APKs of three shapes with
every pure module read in place from the APK and nothing written:

  (a) pack --apk, signed with apksigner;
  (b) an aapt-built base APK after inject, signed (what AGP's merge of the
      pack output gives, stored as docs/runtime.md's settings ask);
  (c) a base APK with the Python code and a per-ABI config split
      (split="config.x86_64", inject --abi x86_64 --no-assets) holding the
      natives, as bundletool's build-apks lays them out.

Each imports json, decimal, sqlite3, email and numpy and solves a 2x2
system under strace: no file is opened for writing, no .py or .pyc is
opened from disk (only the APKs are), HOME and TMPDIR stay empty. On this
host the natives come from a directory unpacked from the APK that holds
lib/x86_64/ (glibc cannot map from a zip; bionic does, from the path the
ImportError names without --native-dir). --extract-dir unpacks
extract.zip once per content.

One cell per CPython version, each packing that version's stdlib and numpy
(for arm64-v8a and x86_64, so the APKs have per-ABI overlays as an app's do;
x86_64 runs) with --pyc-only, and running every test below:

  3.11  sp-launch as CMake built it (SP_LAUNCH) against the host's
        libpython3.11, the inputs of scripts/fetch-inputs.sh;
  3.13  Debian trixie's, 3.14 Debian sid's: the trees of
        scripts/fetch-python.sh (fetched here when missing); sp-launch is
        built here against the tree's libpython and runs through the tree's
        own loader, as tests/e2e/interpreters.py runs its python.

SP_LAUNCH_CELLS (e.g. "3.13,3.14") runs only those; by default all three.
A cell that cannot run fails."""

import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import interpreters  # noqa: E402

SP_LAUNCH = os.environ.get("SP_LAUNCH", "sp-launch")
# The C compiler that builds sp-launch for the cells of fetch-python.sh's trees.
CC = os.environ.get("SP_LAUNCH_CC", "cc")
# Per version: the Debian suite of fetch-python.sh, or None for the 3.11 of
# the host and of scripts/fetch-inputs.sh.
SUITES = {"3.11": None, "3.13": "trixie", "3.14": "sid"}
CELLS = [c for c in os.environ.get("SP_LAUNCH_CELLS", ",".join(SUITES)).split(",") if c]
PACKED_ABIS = ["arm64-v8a", "x86_64"]
FRAMEWORK = "/usr/share/android-framework-res/framework-res.apk"
BASE_MANIFEST = os.path.join(common.SOURCE_DIR, "examples/ci/AndroidManifest.xml")
ABI = "x86_64"
SPLIT_MANIFEST = """<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android"
    package="org.example.sppack" split="config.x86_64"
    android:versionCode="1" android:versionName="1.0">
    <uses-sdk android:minSdkVersion="24" android:targetSdkVersion="34" />
    <application android:hasCode="false" />
</manifest>
"""

# Run by sp-launch -c, with sys.argv[1:] = [base APK, native dir].
CHILD = r"""
import sys, json
base, native = sys.argv[1], sys.argv[2]
import decimal, sqlite3, email, email.parser, numpy
import numpy.__config__
assert "_decimal" in sys.modules
assert str(decimal.Decimal(1) / decimal.Decimal(8)) == "0.125"
db = sqlite3.connect(":memory:")
assert db.execute("select 6 * 7").fetchone() == (42,)
msg = email.parser.Parser().parsestr("Subject: in place\n\nbody\n")
assert msg["Subject"] == "in place"
a = numpy.array([[3.0, 1.0], [1.0, 2.0]])
x = numpy.linalg.solve(a, numpy.array([9.0, 8.0]))
assert numpy.allclose(x, [2.0, 3.0]), x
files = {}
for name, m in sorted(sys.modules.items()):
    spec = getattr(m, "__spec__", None)
    f = getattr(m, "__file__", None)
    if f and getattr(spec, "origin", None) not in ("built-in", "frozen"):
        files[name] = f
print(json.dumps({"files": files, "x": x.tolist(), "path": sys.path,
                  "finders": [type(f).__name__ for f in sys.meta_path]}))
"""

WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC")
# In the sanitized build: LeakSanitizer cannot run under strace, and
# libpython does not free everything at exit; AddressSanitizer still runs.
SANITIZERS = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0",
              "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}
WRITE_CALLS = ("creat", "mkdir", "mkdirat", "rename", "renameat", "renameat2", "unlink",
               "unlinkat", "link", "linkat", "symlink", "symlinkat", "truncate", "rmdir")


def sign(ks, unsigned, signed):
    common.run(["apksigner", "sign", "--ks", ks, "--ks-pass", "pass:android",
                "--min-sdk-version", "24", "--out", signed, unsigned], check=0)
    with open(signed, "rb") as f:
        assert b"APK Sig Block 42" in f.read(), signed


def aapt_apk(manifest_text_or_path, out, work):
    if os.path.exists(manifest_text_or_path):
        manifest = manifest_text_or_path
    else:
        d = os.path.join(work, os.path.basename(out) + ".manifest")
        os.makedirs(d, exist_ok=True)
        manifest = os.path.join(d, "AndroidManifest.xml")  # aapt wants this name
        with open(manifest, "w") as f:
            f.write(manifest_text_or_path)
    common.run(["aapt", "package", "-f", "-M", manifest, "-I", FRAMEWORK, "-F", out], check=0)


def unpack_libs(apk, abi, dest):
    """lib/<abi>/ of an APK into dest: what Android maps in place, as files
    glibc can load."""
    os.makedirs(dest, exist_ok=True)
    with zipfile.ZipFile(apk) as z:
        for n in z.namelist():
            if n.startswith("lib/%s/" % abi) and n.endswith(".so"):
                with open(os.path.join(dest, os.path.basename(n)), "wb") as f:
                    f.write(z.read(n))
    return dest


def trace_violations(log):
    """Lines of an strace log that write, or open a Python file, or open
    anything but what is allowed."""
    bad = []
    for line in log.splitlines():
        m = re.match(r"^\d+\s+(\w+)\((.*)$", line)
        if not m:
            continue
        call, rest = m.groups()
        path = re.search(r'"((?:[^"\\]|\\.)*)"', rest)
        path = path.group(1) if path else ""
        if call in WRITE_CALLS:
            bad.append(line)
        elif call in ("open", "openat"):
            if any(f in rest for f in WRITE_FLAGS):
                bad.append(line)
            elif path.endswith((".py", ".pyc")) or "/__pycache__/" in path:
                bad.append(line)
    return bad


def build_launcher(suite, version, out):
    """sp-launch built against a fetch-python.sh tree's libpython<version>,
    and the argv that runs it.

    The flags are those CMake takes from pkg-config for the host's CPython,
    here from the tree's python-X.Y-embed.pc (PKG_CONFIG_SYSROOT_DIR puts
    the tree before its paths), plus <root>/usr/include for the
    <x86_64-linux-gnu/python3.X/pyconfig.h> that Debian's pyconfig.h
    includes. The C library's headers and start files are the host's. The
    tree's libpython needs a newer glibc than the host's: the link does not
    check the undefined symbols of the libraries it links
    (--allow-shlib-undefined), and the program runs through the tree's
    own loader with only the tree's libraries, as interpreters.command()
    runs the tree's python."""
    root = interpreters.root(suite, ABI)
    libdir = interpreters.libdir(suite, ABI)
    env = dict(os.environ, PKG_CONFIG_LIBDIR=os.path.join(libdir, "pkgconfig"),
               PKG_CONFIG_SYSROOT_DIR=root)
    flags = common.run(["pkg-config", "--cflags", "--libs", "python-%s-embed" % version],
                       env=env, check=0).stdout.split()
    src = os.path.join(common.SOURCE_DIR, "examples", "launcher")
    common.run([CC, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror",
                "-DSP_PACK_VERSION=\"test\"", "-I" + os.path.join(root, "usr/include"),
                os.path.join(src, "main.c"), os.path.join(src, "sp_launch.c")]
               + flags + ["-Wl,--allow-shlib-undefined", "-o", out], check=0)
    argv, _ = interpreters.command(suite, ABI, version)
    return argv[:-1] + [out]   # the loader and its options, then sp-launch


def python_wrapper(suite, version, path):
    """A script running the tree's python as interpreters.command() does,
    for pack --python (which runs one program)."""
    argv, env = interpreters.command(suite, ABI, version)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n")
        f.writelines("export %s=%s\n" % (k, shlex.quote(v)) for k, v in sorted(env.items()))
        f.write("exec %s \"$@\"\n" % " ".join(map(shlex.quote, argv)))
    os.chmod(path, 0o755)
    return path


def numpy_of(dist_packages):
    """(version, package of _multiarray_umath) of the numpy in a
    dist-packages directory: numpy.core before numpy 2, numpy._core since."""
    meta = glob.glob(os.path.join(dist_packages, "numpy-*.*-info"))
    assert len(meta) == 1, meta
    version = re.match(r"numpy-(.+)\.(?:dist|egg)-info$", os.path.basename(meta[0])).group(1)
    core = "numpy._core" if os.path.isdir(os.path.join(dist_packages, "numpy", "_core")) \
        else "numpy.core"
    return version, core


class Launcher:
    """The tests, for the CPython VERSION of a subclass."""
    VERSION = None

    @classmethod
    def setUpClass(cls):
        cls.work = common.tempfile.mkdtemp(prefix="sp-pack-launch-", dir=common.TMP)
        w = cls.work
        suite = SUITES[cls.VERSION]
        if suite is None:
            cls.stdlib = {a: common.stdlib(a) for a in PACKED_ABIS}
            cls.dist_packages = {a: common.dist_packages(a) for a in PACKED_ABIS}
            cls.python = "/usr/bin/python" + cls.VERSION
            cls.launcher = [SP_LAUNCH]
        else:
            fetch = os.path.join(common.SOURCE_DIR, "scripts", "fetch-python.sh")
            common.run([fetch, suite] + PACKED_ABIS, check=0)
            cls.stdlib = {a: interpreters.stdlib(suite, a, cls.VERSION) for a in PACKED_ABIS}
            cls.dist_packages = {a: interpreters.dist_packages(suite, a) for a in PACKED_ABIS}
            cls.python = python_wrapper(suite, cls.VERSION, os.path.join(w, "python"))
            cls.launcher = build_launcher(suite, cls.VERSION, os.path.join(w, "sp-launch"))
        cls.numpy_version, cls.numpy_core = numpy_of(cls.dist_packages[ABI])
        cls.packed = os.path.join(w, "packed")
        cls.pack_apk = os.path.join(w, "packed.apk")
        common.sp_pack("pack", "--out", cls.packed, "--exclude", "sitecustomize.py",
                       "--stdlib", *["%s=%s" % (a, cls.stdlib[a]) for a in PACKED_ABIS],
                       "--site-packages",
                       *["%s=%s" % (a, cls.dist_packages[a]) for a in PACKED_ABIS],
                       "-q", "--pyc-only", "--python", cls.python, "--apk", cls.pack_apk,
                       check=0)
        cls.ks = os.path.join(w, "debug.jks")
        common.run(["keytool", "-genkeypair", "-keystore", cls.ks, "-storepass", "android",
                    "-keypass", "android", "-alias", "k", "-keyalg", "RSA", "-keysize", "2048",
                    "-validity", "10000", "-dname", "CN=sp-pack-test"], check=0)
        # (a) pack --apk, signed.
        cls.apk_a = os.path.join(w, "a.apk")
        sign(cls.ks, cls.pack_apk, cls.apk_a)
        # (b) aapt base APK, inject, signed.
        cls.aapt_base = os.path.join(w, "aapt-base.apk")
        aapt_apk(BASE_MANIFEST, cls.aapt_base, w)
        unsigned = os.path.join(w, "b-unsigned.apk")
        common.sp_pack("inject", "--into", cls.aapt_base, "--from", cls.packed, "-o", unsigned,
                       check=0)
        cls.apk_b = os.path.join(w, "b.apk")
        sign(cls.ks, unsigned, cls.apk_b)
        # (c) base with assets only, config split with lib/x86_64/ only.
        assets_only = os.path.join(w, "assets-only")
        shutil.copytree(os.path.join(cls.packed, "assets"), os.path.join(assets_only, "assets"))
        unsigned = os.path.join(w, "c-base-unsigned.apk")
        common.sp_pack("inject", "--into", cls.aapt_base, "--from", assets_only, "-o", unsigned,
                       check=0)
        cls.apk_c = os.path.join(w, "base.apk")
        sign(cls.ks, unsigned, cls.apk_c)
        split0 = os.path.join(w, "split0.apk")
        aapt_apk(SPLIT_MANIFEST, split0, w)
        unsigned = os.path.join(w, "c-split-unsigned.apk")
        common.sp_pack("inject", "--into", split0, "--from", cls.packed, "--abi", ABI,
                       "--no-assets", "-o", unsigned, check=0)
        cls.split_c = os.path.join(w, "split_config.x86_64.apk")
        sign(cls.ks, unsigned, cls.split_c)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def launch(self, args, trace=True):
        """sp-launch with HOME and TMPDIR empty (checked to stay so), under
        strace: (CompletedProcess, violations)."""
        home, tmpdir = os.path.join(self.tmp, "home"), os.path.join(self.tmp, "tmpdir")
        os.makedirs(home, exist_ok=True)
        os.makedirs(tmpdir, exist_ok=True)
        env = dict(SANITIZERS, PATH=os.environ.get("PATH", "/usr/bin:/bin"), HOME=home,
                   TMPDIR=tmpdir, LANG="C")
        log = os.path.join(self.tmp, "strace.log")
        cmd = self.launcher + list(args)
        if trace:
            cmd = ["strace", "-f", "-qq", "-o", log, "-e",
                   "trace=open,openat,creat," + ",".join(WRITE_CALLS)] + cmd
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=self.tmp,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(os.listdir(home), [])
        self.assertEqual(os.listdir(tmpdir), [])
        bad = []
        if trace:
            with open(log) as f:
                text = f.read()
            bad = trace_violations(text)
            opened = {m for m in re.findall(r'open(?:at)?\((?:AT_FDCWD, )?"([^"]+)"', text)}
            self.assertTrue({a for a in args if str(a).endswith(".apk")} <= opened)
        return p, bad

    def boot(self, base, splits, libs_from):
        natives = unpack_libs(libs_from, ABI, os.path.join(self.tmp, "natives"))
        args = ["--apk", base]
        for s in splits:
            args += ["--split", s]
        p, bad = self.launch(args + ["--abi", ABI, "--native-dir", natives, "-c", CHILD,
                                     base, natives])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(bad, [])
        r = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual(r["x"], [2.0, 3.0])
        self.assertEqual(r["finders"][0], "SorefFinder")
        files = r["files"]
        self.assertEqual(files["json"], base + "/assets/stdlib.zip/json/__init__.pyc")
        self.assertEqual(files["email.parser"], base + "/assets/stdlib.zip/email/parser.pyc")
        self.assertEqual(files["numpy"], base + "/assets/sitepackages.zip/numpy/__init__.pyc")
        self.assertEqual(files["numpy.__config__"],
                         base + "/assets/sitepackages-x86_64.zip/numpy/__config__.pyc")
        self.assertEqual(files["encodings"], base + "/assets/python/encodings/__init__.pyc")
        self.assertEqual(files["_sp_bootstrap"], base + "/assets/python/_sp_bootstrap.pyc")
        self.assertEqual(files["_decimal"], natives + "/lib_decimal.so")
        self.assertEqual(files[self.numpy_core + "._multiarray_umath"],
                         "%s/lib%s-_multiarray_umath.so"
                         % (natives, self.numpy_core.replace(".", "-")))
        for name, f in files.items():
            if f.endswith(".so"):
                self.assertTrue(f.startswith(natives + "/"), (name, f))
            else:
                self.assertTrue(f.startswith(base + "/assets/"), (name, f))
        self.assertGreater(len(files), 100)
        return r

    def test_a_apk_from_pack(self):
        self.boot(self.apk_a, [], self.apk_a)

    def test_b_aapt_apk_after_inject(self):
        self.boot(self.apk_b, [], self.apk_b)

    def test_c_base_and_abi_split(self):
        with zipfile.ZipFile(self.apk_c) as z:
            names = z.namelist()
            self.assertFalse([n for n in names if n.startswith("lib/")])
            self.assertIn("assets/python/encodings/__init__.pyc", names)
        with zipfile.ZipFile(self.split_c) as z:
            self.assertFalse([n for n in z.namelist() if n.startswith("assets/")])
        r = self.boot(self.apk_c, [self.split_c], self.split_c)
        self.assertEqual(r["path"], [self.apk_c + "/assets/python",
                                     self.apk_c + "/assets/stdlib.zip",
                                     self.apk_c + "/assets/sitepackages.zip"])

    def test_natives_named_in_the_split_without_native_dir(self):
        # Bionic maps <split>!/lib/<abi>/lib_decimal.so; glibc cannot, and
        # the ImportError names exactly that path.
        p, bad = self.launch(["--apk", self.apk_c, "--split", self.split_c, "--abi", ABI,
                              "-c", "import _decimal"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("ImportError: %s!/lib/x86_64/lib_decimal.so" % self.split_c, p.stderr)
        self.assertEqual(bad, [])
        # A pure module still imports; the finder names the APK for every library.
        p, bad = self.launch(["--apk", self.apk_a, "--abi", ABI, "-c",
                              "import sys, _sp_bootstrap, json; f = sys.meta_path[0]; "
                              "print(f.find_spec('_bz2').origin); print(json.__file__)"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split(), [self.apk_a + "!/lib/x86_64/lib_bz2.so",
                                            self.apk_a + "/assets/stdlib.zip/json/__init__.pyc"])

    def test_resources_metadata_and_codecs(self):
        natives = unpack_libs(self.apk_a, ABI, os.path.join(self.tmp, "natives"))
        code = r"""
import importlib.resources, importlib.metadata, sys, pkgutil
text = importlib.resources.files("email").joinpath("architecture.rst").read_text()
assert text.startswith(":mod:`email` Package Architecture"), text[:40]
assert importlib.resources.files("email").joinpath("mime").is_dir()
assert "architecture.rst" in [t.name for t in importlib.resources.files("email").iterdir()]
assert importlib.resources.read_binary("email", "architecture.rst") == text.encode()
assert importlib.metadata.version("numpy") == sys.argv[1], importlib.metadata.version("numpy")
assert importlib.metadata.metadata("numpy")["Name"] == "numpy"
assert pkgutil.get_data("email", "architecture.rst") == text.encode()
try:
    importlib.metadata.version("no-such-dist")
except importlib.metadata.PackageNotFoundError:
    pass
else:
    raise AssertionError("found no-such-dist")
# Codecs beyond the boot set come from stdlib.zip.
assert "é".encode("cp1252") == b"\xe9"
assert sys.modules["encodings.cp1252"].__file__.endswith("/assets/stdlib.zip/encodings/cp1252.pyc")
print("ok")
"""
        p, bad = self.launch(["--apk", self.apk_a, "--abi", ABI, "--native-dir", natives,
                              "-c", code, self.numpy_version])
        self.assertEqual((p.returncode, p.stdout.strip()), (0, "ok"), p.stderr)
        self.assertEqual(bad, [])

    def test_module_and_argv(self):
        natives = unpack_libs(self.apk_a, ABI, os.path.join(self.tmp, "natives"))
        p = subprocess.run(self.launcher + ["--apk", self.apk_a, "--abi", ABI, "--native-dir",
                                            natives, "-m", "json.tool", "--sort-keys"],
                           input='{"b": 1, "a": 2}', capture_output=True, text=True,
                           env=dict(os.environ, **SANITIZERS))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), {"a": 2, "b": 1})
        self.assertTrue(p.stdout.index('"a"') < p.stdout.index('"b"'))
        p, _ = self.launch(["--apk", self.apk_a, "--abi", ABI, "-c",
                            "import sys; print(sys.argv); raise SystemExit(7)", "x", "y"],
                           trace=False)
        self.assertEqual((p.returncode, p.stdout.strip()), (7, "['-c', 'x', 'y']"))

    def test_extract_dir(self):
        # A package that reads a data file through __file__, like certifi:
        # packed with --extract, unpacked once per content, first on sys.path.
        site = os.path.join(self.tmp, "site")
        os.makedirs(os.path.join(site, "tinycert"))
        with open(os.path.join(site, "tinycert", "__init__.py"), "w") as f:
            f.write("import os\n\ndef where():\n"
                    "    return os.path.join(os.path.dirname(__file__), 'cacert.pem')\n")
        with open(os.path.join(site, "tinycert", "cacert.pem"), "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nsp-pack\n-----END CERTIFICATE-----\n")
        out, apk = os.path.join(self.tmp, "out"), os.path.join(self.tmp, "x.apk")
        pack = ["pack", "-q", "--out", out, "--apk", apk, "--exclude", "sitecustomize.py",
                "--stdlib", "%s=%s" % (ABI, self.stdlib[ABI]),
                "--site-packages", "%s=%s" % (ABI, site), "--extract", "tinycert"]
        common.sp_pack(*pack, check=0)
        with zipfile.ZipFile(apk) as z:
            self.assertIn("assets/extract.zip", z.namelist())
        extract = os.path.join(self.tmp, "extracted")
        code = ("import tinycert, sys; print(tinycert.__file__); "
                "print(open(tinycert.where()).read().splitlines()[1]); print(sys.path[0])")
        p, _ = self.launch(["--apk", apk, "--abi", ABI, "--extract-dir", extract, "-c", code],
                           trace=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        first, data, path0 = p.stdout.split()
        self.assertEqual(data, "sp-pack")
        self.assertEqual(os.path.dirname(path0), extract)
        self.assertEqual(first, os.path.join(path0, "tinycert", "__init__.py"))
        self.assertEqual(os.listdir(extract), [os.path.basename(path0)])
        # Once per content: the next start writes nothing.
        p, bad = self.launch(["--apk", apk, "--abi", ABI, "--extract-dir", extract, "-c", code])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split()[2], path0)
        # Python files are read from the extracted copy, as asked; nothing is written.
        reads = [b for b in bad if "O_RDONLY" in b and '"%s/' % path0 in b]
        self.assertEqual([b for b in bad if b not in reads], [])
        self.assertTrue(reads)
        # New content (an app update): a new directory, the old one removed.
        with open(os.path.join(site, "tinycert", "cacert.pem"), "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nupdated\n-----END CERTIFICATE-----\n")
        common.sp_pack(*pack, check=0)
        p, _ = self.launch(["--apk", apk, "--abi", ABI, "--extract-dir", extract, "-c", code],
                           trace=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split()[1], "updated")
        self.assertNotEqual(p.stdout.split()[2], path0)
        self.assertEqual(os.listdir(extract), [os.path.basename(p.stdout.split()[2])])

    def test_the_trace_sees_writes_and_python_files(self):
        # The check above is only as good as its parsing of strace: a run
        # that writes a file and reads a .py from disk must be caught.
        victim = os.path.join(self.tmp, "victim.py")
        with open(victim, "w") as f:
            f.write("V = 1\n")
        p, bad = self.launch(["--apk", self.apk_a, "--abi", ABI, "-c",
                              "open(%r).read(); open(%r, 'w').write('x')"
                              % (victim, os.path.join(self.tmp, "written.txt"))])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(bad), 2, bad)
        self.assertIn("victim.py", bad[0])
        self.assertIn("O_CREAT", bad[1])

    def test_errors(self):
        def one_line(p, code, *needles):
            self.assertEqual(p.returncode, code, p.stderr)
            lines = p.stderr.splitlines()
            self.assertEqual(len(lines), 1, p.stderr)
            self.assertTrue(lines[0].startswith("sp-launch: "), lines[0])
            for n in needles:
                self.assertIn(n, lines[0])

        run = lambda *a: self.launch(list(a), trace=False)[0]  # noqa: E731
        missing = os.path.join(self.tmp, "missing.apk")
        one_line(run("--apk", missing, "--abi", ABI, "-c", "pass"), 3, missing)
        one_line(run("--apk", self.apk_a, "--abi", "mips", "-c", "pass"), 2, "mips")
        one_line(run("--apk", self.apk_a, "-c", "pass"), 2, "--abi")
        one_line(run("--apk", self.apk_a, "--abi", ABI), 2, "-c CODE or -m MODULE")
        one_line(run("--apk", self.apk_a, "--abi", ABI, "--bogus", "-c", "pass"), 2, "--bogus")
        # An APK without the boot set (aapt's, nothing injected).
        one_line(run("--apk", self.aapt_base, "--abi", ABI, "-c", "pass"), 1,
                 "assets/python/_sp_bootstrap.py")
        # Compressed where they must be stored: the boot set, then a zip.
        for what, suffix in (("boot", ".py"), ("zip", ".zip")):
            bad = os.path.join(self.tmp, "deflated-%s.apk" % what)
            with zipfile.ZipFile(self.pack_apk) as src, zipfile.ZipFile(bad, "w") as z:
                for i in src.infolist():
                    deflate = i.filename.endswith((suffix, suffix + "c"))
                    z.writestr(i.filename, src.read(i),
                               zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED)
            p = run("--apk", bad, "--abi", ABI, "-c", "pass")
            if what == "boot":
                one_line(p, 1, "assets/python/", "is compressed")
            else:
                one_line(p, 1, bad + ": assets/stdlib.zip is compressed", "noCompress")
        p = run("--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("usage: sp-launch --apk BASE.apk", p.stdout)
        p = run("--version")
        self.assertIn("Python %s." % self.VERSION, p.stdout)

    def test_bundle_config_keeps_the_boot_set_stored(self):
        aab = os.path.join(self.tmp, "app.aab")
        with zipfile.ZipFile(aab, "w") as z:
            z.writestr("BundleConfig.pb", b"\x0a\x08\x12\x061.15.6")
            z.writestr("base/manifest/AndroidManifest.xml", b"\x0a\x00")
        out = os.path.join(self.tmp, "out.aab")
        common.sp_pack("inject", "--into", aab, "--from", self.packed, "-o", out, check=0)
        with zipfile.ZipFile(out) as z:
            config = z.read("BundleConfig.pb")
            self.assertIn("base/assets/python/encodings/__init__.pyc", z.namelist())
        text = subprocess.run(["protoc", "--decode_raw"], input=config, capture_output=True,
                              check=True).stdout.decode()
        globs = re.findall(r'1: "([^"]+)"', text.split("3 {", 1)[1])
        self.assertIn("assets/python/**", globs)
        self.assertIn("assets/stdlib.zip", globs)


for _version in CELLS:
    if _version not in SUITES:
        raise SystemExit("SP_LAUNCH_CELLS: no cell %r (%s)" % (_version, ", ".join(SUITES)))
    _name = "LauncherTest" + _version.replace(".", "")
    globals()[_name] = type(_name, (Launcher, common.TempDirTestCase), {"VERSION": _version})


if __name__ == "__main__":
    common.main()
