"""Repacking: unchanged inputs write nothing (every output keeps its bytes
and mtime, so Gradle sees the task up to date); a changed input rewrites
only the outputs it affects; an output edited or removed by hand is
written again."""

import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402


def lib_dynload(abi):
    return os.path.join(common.stdlib(abi), "lib-dynload")


class IncrementalTest(common.TempDirTestCase):
    def setUp(self):
        super().setUp()
        # Small real trees: a stdlib with two native modules, a site-packages.
        self.stdlib = os.path.join(self.tmp, "stdlib")
        os.makedirs(os.path.join(self.stdlib, "lib-dynload"))
        os.makedirs(os.path.join(self.stdlib, "encodings"))
        for f in ("os.py", "encodings/__init__.py", "encodings/aliases.py",
                  "encodings/utf_8.py"):
            shutil.copyfile(os.path.join(common.stdlib("x86_64"), f), os.path.join(self.stdlib, f))
        for f in os.listdir(lib_dynload("x86_64")):
            if f.startswith(("_bz2.", "_lzma.")):
                shutil.copyfile(os.path.join(lib_dynload("x86_64"), f),
                                os.path.join(self.stdlib, "lib-dynload", f))
        self.site = os.path.join(self.tmp, "site")
        os.makedirs(os.path.join(self.site, "pkg"))
        for name in ("__init__.py", "a.py", "b.py"):
            with open(os.path.join(self.site, "pkg", name), "w") as f:
                f.write("# %s\n" % name)
        self.out = os.path.join(self.tmp, "out")
        self.apk = os.path.join(self.tmp, "app.apk")
        self.args = ["pack", "--out", self.out, "--apk", self.apk, "-q", "--stdlib", self.stdlib,
                     "--site-packages", "x86_64=" + self.site]
        common.sp_pack(*self.args, check=0)
        time.sleep(0.02)  # so that a rewrite shows in the mtimes

    def state(self):
        snap = common.snapshot(self.out)
        snap["APK"] = (open(self.apk, "rb").read(), os.stat(self.apk).st_mtime_ns)
        return snap

    def changed(self, before, after):
        return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))

    def test_noop_repack_writes_nothing(self):
        before = self.state()
        p = common.sp_pack(*self.args[:-1] + ["x86_64=" + self.site], "--json", check=0)
        self.assertEqual(self.changed(before, self.state()), [])
        self.assertEqual(__import__("json").loads(p.stdout)["abis"], ["x86_64"])

    def test_one_file_change_rewrites_what_it_affects(self):
        before = self.state()
        with open(os.path.join(self.site, "pkg", "a.py"), "a") as f:
            f.write("X = 1\n")
        common.sp_pack(*self.args, check=0)
        self.assertEqual(self.changed(before, self.state()),
                         ["APK", "assets/sitepackages.zip", "sp-pack.json"])
        # A native module: only its library (and the manifest, APK, state).
        before = self.state()
        so = [f for f in os.listdir(os.path.join(self.stdlib, "lib-dynload")) if f.startswith("_bz2.")][0]
        with open(os.path.join(self.stdlib, "lib-dynload", so), "ab") as f:
            f.write(b"\0" * 16)
        common.sp_pack(*self.args, check=0)
        self.assertEqual(self.changed(before, self.state()),
                         ["APK", "jniLibs/x86_64/lib_bz2.so", "sp-pack.json"])
        # Touched but unchanged: every input is read again, no output is written.
        before = self.state()
        os.utime(os.path.join(self.site, "pkg", "b.py"))
        common.sp_pack(*self.args, check=0)
        self.assertEqual(self.changed(before, self.state()), [])

    def test_unchanged_inputs_are_not_read_and_in_place_edits_are_seen(self):
        # Inputs changed just before a pack are not trusted by the next one
        # (a change within the same clock tick can keep a file's times):
        # pack until setUp's files are old enough for a no-op, bounded.
        args = [a for a in self.args if a != "-q"]
        deadline = time.monotonic() + 30
        while True:
            common.sp_pack(*self.args, check=0)
            before = self.state()
            p = common.sp_pack(*args, check=0)
            if "up to date" in p.stdout or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertRegex(p.stdout, "up to date: 1 ABI in %s( for CPython 3.11)?, nothing written"
                         % re.escape(self.out))
        self.assertEqual(self.changed(before, self.state()), [])
        # Another build of sp-pack may pack differently: it reads the inputs
        # again (and here finds nothing to write).
        rebuilt = os.path.join(self.tmp, "sp-pack-rebuilt")
        shutil.copy2(common.SP_PACK, rebuilt)
        p = common.run([rebuilt] + args, check=0)
        self.assertIn("packed 1 ABI into", p.stdout)
        self.assertEqual(self.changed(before, self.state()), [])
        # The same number of bytes, and the mtime put back: only the change
        # time (which no one can set) tells.
        path = os.path.join(self.site, "pkg", "a.py")
        st = os.stat(path)
        with open(path, "r+") as f:
            f.write("# A.py\n")
        self.assertEqual(os.stat(path).st_size, st.st_size)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        p = common.sp_pack(*args, check=0)
        self.assertIn("packed 1 ABI into", p.stdout)
        self.assertEqual(self.changed(before, self.state()),
                         ["APK", "assets/sitepackages.zip", "sp-pack.json"])
        # Just changed: the next pack reads every input again rather than
        # trusting their times, and finds nothing to write.
        before = self.state()
        p = common.sp_pack(*args, check=0)
        self.assertIn("packed 1 ABI into", p.stdout)
        self.assertEqual(self.changed(before, self.state()), [])

    def test_state_lives_in_the_user_cache_not_in_the_output(self):
        env = dict(os.environ, XDG_CACHE_HOME=os.path.join(self.tmp, "xdg"))
        env.pop("SP_PACK_STATE_DIR", None)
        out = os.path.join(self.tmp, "out2")
        args = [common.SP_PACK] + [out if a == self.out else a for a in self.args]
        subprocess.run(args, env=env, check=True)
        state = os.path.join(self.tmp, "xdg", "sp-pack", "state")
        names = os.listdir(state)
        # The state of that run; no input snapshot, since setUp made the
        # inputs just now (they are read again next time).
        self.assertEqual(len(names), 1, names)
        self.assertTrue(names[0].endswith(".json"), names)
        self.assertEqual(common.tree_bytes(out), common.tree_bytes(self.out))

    def test_states_unused_for_30_days_are_removed(self):
        state = os.path.join(self.tmp, "st")
        os.makedirs(state)
        now, old = time.time(), time.time() - 31 * 86400
        ages = {"0123456789abcdef.json": old, "0123456789abcdef.inputs": old,
                "fedcba9876543210.json": now, "fedcba9876543210.inputs": now,
                "0123456789abcdef.json.99.tmp": old, "old-notes.txt": old}
        for name, t in ages.items():
            with open(os.path.join(state, name), "w") as f:
                f.write("{}")
            os.utime(os.path.join(state, name), (t, t))
        common.sp_pack(*self.args, env={"SP_PACK_STATE_DIR": state}, check=0)
        left = sorted(os.listdir(state))
        mine = [n for n in left if n not in ages]
        self.assertEqual(len(mine), 1, left)  # this run's state
        self.assertEqual(sorted(set(left) - set(mine)),
                         ["fedcba9876543210.inputs", "fedcba9876543210.json", "old-notes.txt"])

    def test_without_state_outputs_are_rewritten_with_the_same_bytes(self):
        before = common.tree_bytes(self.out)
        common.sp_pack(*self.args, env={"SP_PACK_STATE_DIR": os.path.join(self.tmp, "fresh")},
                       check=0)
        self.assertEqual(common.tree_bytes(self.out), before)

    def test_hand_edited_and_removed_outputs_are_restored(self):
        reference = common.tree_bytes(self.out)
        lib = os.path.join(self.out, "jniLibs/x86_64/lib_bz2.so")
        with open(lib, "ab") as f:
            f.write(b"edited")
        os.unlink(os.path.join(self.out, "assets/stdlib.zip"))
        before = self.state()
        common.sp_pack(*self.args, check=0)
        self.assertEqual(common.tree_bytes(self.out), reference)
        changed = self.changed(before, self.state())
        self.assertIn("jniLibs/x86_64/lib_bz2.so", changed)
        self.assertIn("assets/stdlib.zip", changed)
        self.assertNotIn("jniLibs/x86_64/lib_lzma.so", changed)
        self.assertNotIn("assets/sitepackages.zip", changed)

    def test_apk_edited_is_rewritten(self):
        with open(self.apk, "rb") as f:
            original = f.read()
        with open(self.apk, "ab") as f:
            f.write(b"x")
        common.sp_pack(*self.args, check=0)
        with open(self.apk, "rb") as f:
            self.assertEqual(f.read(), original)


if __name__ == "__main__":
    common.main()
