"""Bad input: each case gives its documented exit code and one line naming
the file and the problem, and a previous output directory stays exactly as
it was (bytes and mtimes)."""

import os
import shutil
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

NOBODY = 65534


def real_module(abi, name):
    d = os.path.join(common.stdlib(abi), "lib-dynload")
    return os.path.join(d, [f for f in os.listdir(d) if f.startswith(name + ".")][0])


class BadInputTest(common.TempDirTestCase):
    def setUp(self):
        # Some cases run sp-pack as an unprivileged user, who must reach the
        # work directory: make it in /tmp, not under a private checkout.
        self.tmp = tempfile.mkdtemp(prefix="sp-pack-bad-", dir="/tmp")
        os.chmod(self.tmp, 0o755)
        self.trees = {}
        for abi in ("arm64-v8a", "x86_64"):
            t = os.path.join(self.tmp, "stdlib-" + abi)
            os.makedirs(os.path.join(t, "lib-dynload"))
            os.makedirs(os.path.join(t, "encodings"))
            for f in ("os.py", "encodings/__init__.py", "encodings/aliases.py",
                      "encodings/utf_8.py"):
                shutil.copyfile(os.path.join(common.stdlib(abi), f), os.path.join(t, f))
            for m in ("_bz2", "_lzma"):
                src = real_module(abi, m)
                shutil.copyfile(src, os.path.join(t, "lib-dynload", os.path.basename(src)))
            self.trees[abi] = t
        self.out = os.path.join(self.tmp, "out")
        common.sp_pack("pack", "--out", self.out, "--stdlib", self.trees["x86_64"], check=0)
        self.before = common.snapshot(self.out)
        self.binary = common.SP_PACK

    def assert_refused(self, args, code, *words, out_unchanged=True, user=None):
        cmd = [self.binary] + [str(a) for a in args]
        if user is not None:
            cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
        p = common.run(cmd)
        self.assertEqual(p.returncode, code, p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("sp-pack: "), lines[0])
        for w in words:
            self.assertIn(str(w), lines[0])
        self.assertEqual(p.stdout, "")
        if out_unchanged:
            self.assertEqual(common.snapshot(self.out), self.before)
        return lines[0]

    def pack(self, *more):
        return ["pack", "--out", self.out] + list(more)

    def test_missing_directory(self):
        missing = os.path.join(self.tmp, "no-such-stdlib")
        self.assert_refused(self.pack("--stdlib", "x86_64=" + missing), 1, missing,
                            "no such directory")

    def test_wrong_abi(self):
        line = self.assert_refused(self.pack("--stdlib", "x86_64=" + self.trees["arm64-v8a"]), 1,
                                   "lib-dynload/_bz2.", "AArch64", "x86_64")
        self.assertIn("wrong ABI", line)

    def test_undetectable_abi(self):
        pure = os.path.join(self.tmp, "pure")
        os.makedirs(os.path.join(pure, "encodings"))
        open(os.path.join(pure, "os.py"), "w").close()
        for f in ("__init__.py", "aliases.py", "utf_8.py"):
            open(os.path.join(pure, "encodings", f), "w").close()
        self.assert_refused(self.pack("--stdlib", pure), 1, pure, "ABI=")

    def test_stdlib_that_cannot_start_is_refused(self):
        # CPython imports encodings.utf_8 while it starts, before any finder.
        line = self.assert_refused(self.pack("--stdlib", "x86_64=" + self.trees["x86_64"],
                                             "--exclude", "encodings/utf_8.py"), 1,
                                   "assets/stdlib.zip", "encodings/utf_8.py")
        self.assertIn("excluded", line)

    def test_difference_across_abis_is_an_overlay(self):
        with open(os.path.join(self.trees["arm64-v8a"], "os.py"), "a") as f:
            f.write("# differs\n")
        args = self.pack("--stdlib", self.trees["arm64-v8a"], self.trees["x86_64"])
        p = common.sp_pack(*args, check=0)
        self.assertIn("stdlib: os.py (arm64-v8a, x86_64)", p.stdout)

    def test_two_modules_one_library(self):
        t = self.trees["x86_64"]
        src = real_module("x86_64", "_bz2")
        for d in ("x.libs", "x/libs"):
            os.makedirs(os.path.join(t, d))
            shutil.copyfile(src, os.path.join(t, d, "m" + os.path.basename(src)[4:]))
        self.assert_refused(self.pack("--stdlib", t), 1, "x.libs/m", "x/libs/m", "libx-libs-m.so")

    def test_module_collides_with_lib(self):
        libdir = os.path.join(self.tmp, "libs")
        os.makedirs(libdir)
        shutil.copyfile(real_module("x86_64", "_lzma"), os.path.join(libdir, "lib_bz2.so"))
        self.assert_refused(self.pack("--stdlib", self.trees["x86_64"], "--lib", libdir), 1,
                            os.path.join(libdir, "lib_bz2.so"), "lib-dynload/_bz2.", "collides")

    def test_entries_with_nothing_to_pack(self):
        """A dangling link, a link leaving the tree, a loop and a FIFO are
        left out: one warning each, all in one run; --strict refuses them
        all in one line, and writes nothing."""
        t = self.trees["x86_64"]
        gone = os.path.join(t, "gone.py")
        os.symlink("nowhere.py", gone)
        outside = os.path.join(t, "sitecustomize.py")
        os.symlink("/etc/hostname", outside)
        loop = os.path.join(t, "encodings", "loop")
        os.symlink("loop", loop)
        fifo = os.path.join(t, "a-fifo")
        os.mkfifo(fifo)
        args = self.pack("--stdlib", t)
        line = self.assert_refused(args + ["--strict"], 1, "4 entries", gone, outside, loop, fifo,
                                   "dangling", "outside", "loop", "FIFO")
        self.assertIn("--strict", line)
        p = common.sp_pack(*args, check=0)
        warnings = [l for l in p.stderr.splitlines() if l.startswith("sp-pack: warning: ")]
        for path, why in ((gone, "dangling symlink"), (outside, "outside the input tree"),
                          (loop, "symlink loop"), (fifo, "a FIFO")):
            mine = [w for w in warnings if w.startswith("sp-pack: warning: %s: left out: " % path)]
            self.assertEqual(len(mine), 1, p.stderr)
            self.assertIn(why, mine[0])
        self.assertEqual(len(warnings), 4, p.stderr)
        import zipfile
        with zipfile.ZipFile(os.path.join(self.out, "assets/stdlib.zip")) as z:
            for name in ("gone.py", "sitecustomize.py", "encodings/loop", "a-fifo"):
                self.assertNotIn(name, z.namelist())
        # Excluded, they are not even mentioned.
        p = common.sp_pack(*args, "--exclude", "gone.py", "sitecustomize.py", "loop", "a-fifo",
                           check=0)
        self.assertNotIn("left out", p.stderr)

    def test_symlink_inside_the_tree_is_followed(self):
        os.symlink("os.py", os.path.join(self.trees["x86_64"], "alias.py"))
        out = os.path.join(self.tmp, "ok")
        common.sp_pack("pack", "--out", out, "--stdlib", self.trees["x86_64"], check=0)
        import zipfile
        with zipfile.ZipFile(os.path.join(out, "assets/stdlib.zip")) as z:
            self.assertEqual(z.read("alias.py"), z.read("os.py"))

    def test_unreadable_file(self):
        f = os.path.join(self.trees["x86_64"], "encodings", "__init__.py")
        os.chmod(f, 0)
        user = NOBODY if os.geteuid() == 0 else None
        if user is not None:
            # The case runs as nobody: give it the binary and a writable output.
            os.chmod(self.trees["x86_64"], 0o755)
            self.binary = os.path.join(self.tmp, "sp-pack")
            shutil.copy(common.SP_PACK, self.binary)
            os.chmod(self.binary, 0o755)
            for dirpath, dirs, files in os.walk(self.out):
                os.chown(dirpath, NOBODY, NOBODY)
                for x in files:
                    os.chown(os.path.join(dirpath, x), NOBODY, NOBODY)
            self.before = common.snapshot(self.out)
        self.assert_refused(self.pack("--stdlib", self.trees["x86_64"]), 3, f, "Permission denied",
                            user=user)

    def test_output_inside_input(self):
        inside = os.path.join(self.trees["x86_64"], "out")
        self.assert_refused(["pack", "--out", inside, "--stdlib", self.trees["x86_64"]], 2,
                            inside, "inside the input")
        self.assertFalse(os.path.exists(inside))

    def test_output_cannot_be_written(self):
        blocker = os.path.join(self.tmp, "a-file")
        open(blocker, "w").close()
        self.assert_refused(["pack", "--out", os.path.join(blocker, "out"), "--stdlib",
                             self.trees["x86_64"]], 3, blocker)
        # A read-only output directory (for a user who cannot write it).
        if os.geteuid() == 0:
            self.binary = os.path.join(self.tmp, "sp-pack")
            shutil.copy(common.SP_PACK, self.binary)
            os.chmod(self.binary, 0o755)
            for dirpath, dirs, files in os.walk(self.tmp):
                os.chmod(dirpath, 0o755)
            self.assert_refused(self.pack("--stdlib", self.trees["x86_64"]), 3, self.out,
                                "Permission denied", user=NOBODY)
        else:
            os.chmod(self.out, stat.S_IRUSR | stat.S_IXUSR)
            try:
                self.assert_refused(self.pack("--stdlib", self.trees["x86_64"]), 3, self.out)
            finally:
                os.chmod(self.out, 0o755)

    def test_not_elf_but_named_like_a_module(self):
        fake = os.path.join(self.trees["x86_64"], "fake.cpython-311-x86_64-linux-gnu.so")
        with open(fake, "wb") as f:
            f.write(b"PK\x03\x04 a zip pretending")
        self.assert_refused(self.pack("--stdlib", self.trees["x86_64"]), 1, fake, "not an ELF")

    def test_module_missing_for_an_abi(self):
        dynload = os.path.join(self.trees["x86_64"], "lib-dynload")
        os.unlink(os.path.join(dynload, [f for f in os.listdir(dynload) if f.startswith("_lzma.")][0]))
        args = self.pack("--stdlib", self.trees["arm64-v8a"], self.trees["x86_64"])
        self.assert_refused(args + ["--strict"], 1, "_lzma", "missing for x86_64")
        p = common.sp_pack(*args, check=0)
        self.assertIn("warning: ", p.stderr)
        self.assertIn("_lzma", p.stderr)

    def test_usage_errors(self):
        for args in (["pack"], ["pack", "--out", self.out], ["pack", "--stdlib", "x"],
                     self.pack("--stdlib", "arm64=" + self.trees["x86_64"]),
                     self.pack("--stdlib", self.trees["x86_64"], "--page-size", "8"),
                     self.pack("--stdlib", self.trees["x86_64"], "--bogus"),
                     ["frobnicate"]):
            p = common.sp_pack(*args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertEqual(common.snapshot(self.out), self.before)


if __name__ == "__main__":
    common.main()
