"""The command line: help, version, mangle, --config, --json, -q/-v."""

import json
import shutil
import os
import sys
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402


class CliTest(common.TempDirTestCase):
    def test_help_lists_commands_and_exit_codes(self):
        p = common.sp_pack("--help", check=0)
        for word in ("pack", "verify", "ls", "inject", "align", "mangle", "Exit status", "0  success", "1  the input is wrong",
                     "2  usage error", "3  I/O or system failure"):
            self.assertIn(word, p.stdout)
        p = common.sp_pack("help", "pack", check=0)
        for opt in ("--out", "--apk", "--stdlib", "--site-packages", "--lib", "--extract", "--exclude",
                    "--page-size", "--config", "--json", "--strict", "--quiet", "--verbose"):
            self.assertIn(opt, p.stdout)
        self.assertEqual(common.sp_pack("pack", "--help", check=0).stdout, p.stdout)
        self.assertRegex(common.sp_pack("--version", check=0).stdout, r"^sp-pack \d+\.\d+\.\d+\n$")
        self.assertEqual(common.sp_pack(check=2).stdout, "")

    def test_mangle(self):
        p = common.sp_pack("mangle", "numpy.core._multiarray_umath", "_bz2", "pkg.__init__", check=0)
        self.assertEqual(p.stdout.split(), ["libnumpy-core-_multiarray_umath.so", "lib_bz2.so",
                                            "libpkg-__init__.so"])
        self.assertEqual(common.sp_pack("mangle", "café").stdout.strip(), "libcaf.c3.a9.so")
        p = common.sp_pack("mangle", "a..b", check=2)
        self.assertIn("a..b", p.stderr)

    def test_config_file_and_overrides(self):
        cfg_dir = os.path.join(self.tmp, "cfg")
        os.makedirs(cfg_dir)
        cfg = os.path.join(cfg_dir, "sp-pack.json")
        with open(cfg, "w") as f:
            json.dump({"out": "built", "stdlib": ["x86_64=" + common.stdlib("x86_64")],
                       "site-packages": common.dist_packages("x86_64"),
                       "exclude": ["sitecustomize.py", "test"], "extract": ["numpy"],
                       "page-size": 16, "strict": False, "quiet": True}, f)
        p = common.sp_pack("pack", "--config", cfg, check=0)
        self.assertEqual(p.stdout, "")  # quiet from the file
        built = os.path.join(cfg_dir, "built")  # relative to the config file
        with zipfile.ZipFile(os.path.join(built, "assets/extract.zip")) as z:
            names = z.namelist()
            self.assertIn("numpy/__init__.py", names)
            self.assertIn("numpy/core/_multiarray_umath.soref", names)
        with zipfile.ZipFile(os.path.join(built, "assets/sitepackages.zip")) as z:
            self.assertFalse([n for n in z.namelist() if n.startswith("numpy/")])
        with zipfile.ZipFile(os.path.join(built, "assets/stdlib.zip")) as z:
            self.assertFalse([n for n in z.namelist() if n.startswith("test/")])
        self.assertTrue(os.path.exists(
            os.path.join(built, "jniLibs/x86_64/libnumpy-core-_multiarray_umath.so")))
        # The command line overrides the file.
        other = os.path.join(self.tmp, "other")
        p = common.sp_pack("pack", "--config", cfg, "--out", other, "--json", check=0)
        doc = json.loads(p.stdout)
        self.assertEqual(doc["abis"], ["x86_64"])
        self.assertIn("warnings", doc)
        self.assertTrue(os.path.exists(os.path.join(other, "sp-pack.json")))
        # Typos in the file are usage errors.
        with open(cfg, "w") as f:
            json.dump({"stdlb": "x"}, f)
        p = common.sp_pack("pack", "--config", cfg, check=2)
        self.assertIn("stdlb", p.stderr)
        p = common.sp_pack("pack", "--config", os.path.join(self.tmp, "none.json"), check=2)
        self.assertIn("none.json", p.stderr)
        # Trailing bytes after the object, and a fractional job count.
        with open(cfg, "w") as f:
            f.write('{"jobs": 2} x')
        p = common.sp_pack("pack", "--config", cfg, check=2)
        self.assertRegex(p.stderr, r"^sp-pack: \S+sp-pack\.json: not a JSON object")
        with open(cfg, "w") as f:
            f.write('{"jobs": 1.5}')
        p = common.sp_pack("pack", "--config", cfg, check=2)
        self.assertIn('"jobs" must be a whole number, not 1.5', p.stderr)

    def test_example_config_is_valid(self):
        cfg = os.path.join(common.SOURCE_DIR, "examples/sp-pack.config.json")
        out = os.path.join(self.tmp, "ex")
        p = common.sp_pack("pack", "--config", cfg, "--out", out, "--json",
                           "--stdlib", "x86_64=" + common.stdlib("x86_64"),
                           "--site-packages", "x86_64=" + common.dist_packages("x86_64"), check=0)
        with zipfile.ZipFile(os.path.join(out, "assets/stdlib.zip")) as z:
            self.assertFalse([n for n in z.namelist() if n.startswith(("test/", "idlelib/"))])
        self.assertEqual(json.loads(p.stdout)["page_size"], 16384)

    def test_dependency_libraries(self):
        import shutil
        fx = common.ELF_FIXTURES
        site = os.path.join(self.tmp, "site")
        os.makedirs(os.path.join(site, "pkg.libs"))
        os.makedirs(os.path.join(site, "pkg"))
        shutil.copyfile(os.path.join(fx, "mod-x86_64.so"),
                        os.path.join(site, "pkg", "mod.cpython-311-x86_64-linux-gnu.so"))
        # Vendored as auditwheel does: a hashed file name, the soname users need.
        shutil.copyfile(os.path.join(fx, "libdep-x86_64.so"),
                        os.path.join(site, "pkg.libs", "libdep-1a2b3c.so"))
        out = os.path.join(self.tmp, "o")
        base = ["pack", "--out", out, "--exclude", "sitecustomize.py", "-q",
                "--stdlib", common.stdlib("x86_64"), "--site-packages", site]
        common.sp_pack(*base, check=0)
        natives = os.path.join(out, "jniLibs/x86_64")
        with open(os.path.join(natives, "libdep.so"), "rb") as a, \
                open(os.path.join(fx, "libdep-x86_64.so"), "rb") as b:
            self.assertEqual(a.read(), b.read())
        self.assertTrue(os.path.exists(os.path.join(natives, "libpkg-mod.so")))
        with zipfile.ZipFile(os.path.join(out, "assets/sitepackages.zip")) as z:
            self.assertEqual(z.read("pkg/mod.soref"), b"libpkg-mod.so")
            self.assertFalse([n for n in z.namelist() if n.endswith(".so")])
        # A versioned soname cannot be installed by Android: refused with a hint.
        shutil.copyfile(os.path.join(fx, "modver-x86_64.so"),
                        os.path.join(site, "pkg", "modver.cpython-311-x86_64-linux-gnu.so"))
        shutil.copyfile(os.path.join(fx, "libver-x86_64.so"),
                        os.path.join(site, "pkg.libs", "libver-9f8e.so"))
        p = common.sp_pack(*base, check=1)
        self.assertIn("pkg.libs/libver-9f8e.so", p.stderr)
        self.assertIn("libver.so.1", p.stderr)
        self.assertIn("hint:", p.stderr)

    def test_progress_only_on_a_terminal(self):
        import pty
        import subprocess

        def run_on_tty(*extra):
            master, slave = pty.openpty()
            args = [common.SP_PACK, "pack", "--out", os.path.join(self.tmp, "tty"),
                    "--exclude", "sitecustomize.py", "--stdlib", common.stdlib("x86_64"),
                    *extra]
            env = dict(os.environ, SP_PACK_STATE_DIR=os.path.join(self.tmp, "state"))
            p = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=slave, env=env)
            os.close(slave)
            chunks = []
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                chunks.append(data)
            os.close(master)
            self.assertEqual(p.returncode, 0)
            return b"".join(chunks).decode()

        shown = run_on_tty()
        self.assertRegex(shown, r"\[#+\.*\] +\d+% reading \d+/\d+ files")
        self.assertIn("100% reading", shown)
        self.assertTrue(shown.endswith("\x1b[K"), repr(shown[-40:]))  # the line is cleared
        shutil.rmtree(os.path.join(self.tmp, "tty"))
        self.assertEqual(run_on_tty("-q"), "")

    def test_text_report(self):
        out = os.path.join(self.tmp, "o")
        p = common.sp_pack(*common.pack_args(out, ["arm64-v8a", "x86_64"], extra=["-v"]), check=0)
        self.assertIn("packed 2 ABIs into " + out, p.stdout)
        self.assertIn("assets/sitepackages-x86_64.zip", p.stdout)
        self.assertIn("sitepackages: numpy/__config__.py (arm64-v8a, x86_64)", p.stdout)
        self.assertIn("libnumpy-core-_multiarray_umath.so", p.stdout)  # -v lists modules
        self.assertEqual(p.stderr, "")
        # ABIs detected from the ELF headers when ABI= is left out.
        auto = os.path.join(self.tmp, "auto")
        p = common.sp_pack("pack", "--out", auto, "--exclude", "sitecustomize.py", "--json",
                           "--stdlib", common.stdlib("x86"), common.stdlib("armeabi-v7a"), check=0)
        self.assertEqual(json.loads(p.stdout)["abis"], ["armeabi-v7a", "x86"])
        p = common.sp_pack("pack", "--out", auto, "-q", "--exclude", "sitecustomize.py",
                           "--stdlib", common.stdlib("x86"), check=0)
        self.assertEqual(p.stdout + p.stderr, "")

    def test_lib_option(self):
        import shutil
        libs = os.path.join(self.tmp, "libs")
        os.makedirs(libs)
        shutil.copyfile(os.path.join(common.ELF_FIXTURES, "libdep-x86_64.so"),
                        os.path.join(libs, "libdep.so"))
        out = os.path.join(self.tmp, "o")
        base = ["pack", "--out", out, "--exclude", "sitecustomize.py", "-q",
                "--stdlib", common.stdlib("x86_64")]
        common.sp_pack(*base, "--lib", libs, check=0)  # ABI from the ELF header
        with open(os.path.join(out, "jniLibs/x86_64/libdep.so"), "rb") as a, \
                open(os.path.join(libs, "libdep.so"), "rb") as b:
            self.assertEqual(a.read(), b.read())
        arm = os.path.join(common.ELF_FIXTURES, "libdep-arm64-v8a.so")
        p = common.sp_pack(*base, "--lib", "x86_64=" + arm, check=1)
        self.assertIn(arm, p.stderr)
        self.assertIn("wrong ABI", p.stderr)
        # The same library twice is kept once; two different ones with one name are refused.
        again = os.path.join(self.tmp, "again")
        os.makedirs(again)
        for d in (libs, again):  # one identical pair ahead of the conflicting one
            shutil.copyfile(os.path.join(common.ELF_FIXTURES, "libdep-x86_64.so"),
                            os.path.join(d, "libaaa.so"))
        shutil.copyfile(os.path.join(libs, "libdep.so"), os.path.join(again, "libdep.so"))
        common.sp_pack(*base, "--lib", libs, again, check=0)
        shutil.copyfile(os.path.join(common.ELF_FIXTURES, "mod-x86_64.so"),
                        os.path.join(again, "libdep.so"))
        p = common.sp_pack(*base, "--lib", libs, again, check=1)
        self.assertIn(os.path.join(again, "libdep.so"), p.stderr)
        self.assertIn("differs from", p.stderr)
        versioned = os.path.join(libs, "libdep.so.1")
        shutil.copyfile(os.path.join(libs, "libdep.so"), versioned)
        p = common.sp_pack(*base, "--lib", versioned, check=1)
        self.assertIn("libdep.so.1", p.stderr)
        self.assertIn("lib*.so", p.stderr)

    def test_binary_imports(self):
        """libzip is a plain dependency, and the portable build imports none
        of the Linux-only calls, which the default build does use."""
        needed = common.run(["readelf", "-d", common.SP_PACK], check=0).stdout
        self.assertRegex(needed, r"NEEDED.*\[libzip\.so")
        imports = set(common.run(["nm", "-D", "--undefined-only", common.SP_PACK],
                                 check=0).stdout.split())
        imports = {name.split("@")[0] for name in imports}
        linux_only = {"copy_file_range", "sendfile", "sendfile64", "getdents64", "syscall",
                      "pipe2", "qsort_r", "sched_getcpu", "sched_setaffinity",
                      "pthread_attr_setaffinity_np", "pthread_setaffinity_np", "statx",
                      "dlopen", "syncfs"}
        with open(common.SP_PACK, "rb") as f:
            has_proc_self = b"/proc/self/exe" in f.read()
        if os.environ.get("SP_PACK_PORTABLE") == "ON":
            self.assertEqual(imports & linux_only, set())
            self.assertFalse(has_proc_self)
        else:
            self.assertTrue({"copy_file_range", "getdents64", "syncfs"} <= imports,
                            imports & linux_only)
            self.assertTrue(has_proc_self)
            self.assertEqual(imports & {"dlopen", "qsort_r", "sched_getcpu"}, set())


if __name__ == "__main__":
    common.main()
