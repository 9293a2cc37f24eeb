"""Nothing lost, nothing let in: pack and the readers against races, kills,
concurrent runs, planted files, inputs that change under them, corrupt
inputs and FIFOs. Where timing matters the loops are bounded in count and
time, and each asserts that the window was really hit."""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

SECRET = b"SECRET-FROM-OUTSIDE-THE-TREE"


def real_module(abi, name):
    d = os.path.join(common.stdlib(abi), "lib-dynload")
    return os.path.join(d, [f for f in os.listdir(d) if f.startswith(name + ".")][0])


def mk(tree, abi="x86_64"):
    """A tiny stdlib: os.py, encodings' first modules, json, one real _bz2."""
    os.makedirs(os.path.join(tree, "lib-dynload"))
    os.makedirs(os.path.join(tree, "encodings"))
    os.makedirs(os.path.join(tree, "json"))
    for f in ("os.py", "encodings/__init__.py", "encodings/aliases.py", "encodings/utf_8.py",
              "json/__init__.py"):
        shutil.copyfile(os.path.join(common.stdlib(abi), f), os.path.join(tree, f))
    src = real_module(abi, "_bz2")
    shutil.copyfile(src, os.path.join(tree, "lib-dynload", os.path.basename(src)))
    return tree


class Churning:
    """While in effect, a thread truncates path to `keep` bytes and writes
    the rest of body back, again and again."""

    def __init__(self, path, body, keep):
        self.path, self.body, self.keep = path, body, keep
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.churn)

    def churn(self):
        while not self.stop.is_set():
            with open(self.path, "r+b") as f:
                f.truncate(self.keep)
                f.seek(0, 2)
                f.write(self.body[self.keep:])

    def __enter__(self):
        with open(self.path, "wb") as f:
            f.write(self.body)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def popen(*args, **kw):
    return subprocess.Popen([common.SP_PACK] + [str(a) for a in args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


class HostilePackTest(common.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.tree = mk(os.path.join(self.tmp, "t"))
        self.env = {"SP_PACK_STATE_DIR": os.path.join(self.tmp, "state")}

    def pack(self, out, *more, check=0, tree=None):
        return common.sp_pack("pack", "-q", "--out", out, "--stdlib",
                              "x86_64=" + (tree or self.tree), *more, check=check, env=self.env)

    def test_symlink_swapped_during_runs_lets_nothing_in(self):
        """A file swapped between a regular file and a link to a file outside
        the tree while pack runs, again and again: the outside bytes never
        reach the output."""
        outside = os.path.join(self.tmp, "secret.txt")
        with open(outside, "wb") as f:
            f.write(SECRET + b"\n")
        victim = os.path.join(self.tree, "victim.py")
        # Made beside the tree, renamed into it: the tree holds only victim.py.
        as_file, as_link = os.path.join(self.tmp, "v.f"), os.path.join(self.tmp, "v.l")
        stop = threading.Event()

        def swap():
            # Paced by pauses of 0 to 20 ms, so that runs see either state
            # held still as well as a swap in the middle, however long a run
            # takes (a sanitizer build is several times slower).
            pause = random.Random(16)
            while not stop.is_set():
                with open(as_file, "wb") as f:
                    f.write(b"# inside\n")
                os.rename(as_file, victim)
                time.sleep(pause.uniform(0, 0.02))
                os.symlink(outside, as_link)
                os.rename(as_link, victim)
                time.sleep(pause.uniform(0, 0.02))

        t = threading.Thread(target=swap)
        t.start()
        out = os.path.join(self.tmp, "race")
        runs = leaks = packed_file = left_out = changed = 0
        deadline = time.monotonic() + 60
        try:
            while runs < 400 and time.monotonic() < deadline and not (
                    runs >= 100 and packed_file >= 5 and (left_out + changed) >= 5):
                p = common.sp_pack("pack", "--out", out, "--stdlib", "x86_64=" + self.tree,
                                   env=self.env)
                runs += 1
                self.assertIn(p.returncode, (0, 3), p.stderr)
                if p.returncode == 3:
                    self.assertIn("changed while", p.stderr)
                    changed += 1
                else:
                    left_out += "victim.py: left out" in p.stderr
                zip_path = os.path.join(out, "assets", "stdlib.zip")
                if not os.path.exists(zip_path):  # no run has written anything yet
                    continue
                with open(zip_path, "rb") as f:
                    data = f.read()
                leaks += SECRET in data
                with zipfile.ZipFile(zip_path) as z:
                    packed_file += p.returncode == 0 and "victim.py" in z.namelist()
        finally:
            stop.set()
            t.join()
        print("symlink race: %d runs, %d packed the file, %d left the link out, %d saw it "
              "change, %d leaks" % (runs, packed_file, left_out, changed, leaks))
        self.assertEqual(leaks, 0)
        self.assertGreater(packed_file, 0, "the swap never showed a regular file")
        self.assertGreater(left_out + changed, 0, "the swap never showed the link")

    def test_planted_manifest_deletes_nothing(self):
        """A manifest planted in the output directory, listing a file through a
        link to a directory outside it, deletes nothing."""
        victim = os.path.join(self.tmp, "victim")
        os.makedirs(victim)
        with open(os.path.join(victim, "secret.txt"), "w") as f:
            f.write("x\n")
        out = os.path.join(self.tmp, "o3")
        os.makedirs(out)
        os.symlink("../victim", os.path.join(out, "cache"))
        with open(os.path.join(out, "sp-pack.json"), "w") as f:
            json.dump({"outputs": [{"path": "cache/secret.txt"}]}, f)
        # A real sp-pack.json where sp-pack keeps its link: refused, kept.
        p = self.pack(out, check=2)
        self.assertIn("sp-pack.json: a real file where sp-pack keeps its link", p.stderr)
        os.unlink(os.path.join(out, "sp-pack.json"))
        self.pack(out)
        self.pack(out, "--exclude", "json")
        self.assertTrue(os.path.exists(os.path.join(victim, "secret.txt")))
        self.assertEqual(os.readlink(os.path.join(out, "cache")), "../victim")

    def test_apk_never_overwrites_what_pack_reads_or_writes(self):
        out = os.path.join(self.tmp, "out")
        os_py = os.path.join(self.tree, "os.py")
        before = common.snapshot(self.tree)
        for apk, words in ((os_py, "--apk lies inside the input"),
                           (os.path.join(self.tree, "new.apk"), "--apk lies inside the input"),
                           (out, "--apk is inside the output directory"),
                           (os.path.join(out, "app.apk"), "--apk lies inside the output")):
            with self.subTest(apk=apk):
                p = self.pack(out, "--apk", apk, check=2)
                self.assertIn(words, p.stderr)
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertEqual(common.snapshot(self.tree), before)
        self.assertFalse(os.path.exists(out))

    def test_a_second_run_fails_at_once_while_one_holds_the_directory(self):
        import fcntl
        out = os.path.join(self.tmp, "held")
        self.pack(out)
        before = common.snapshot(out)
        with open(os.path.join(out, ".sp-pack", "lock"), "r+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            lock.write("4242\n")
            lock.flush()
            start = time.monotonic()
            p = self.pack(out, "--exclude", "json", check=3)
            self.assertLess(time.monotonic() - start, 10)
        self.assertEqual(p.stderr.strip(), "sp-pack: %s: another sp-pack (process 4242) is "
                         "writing this directory (hint: one pack per output directory at a "
                         "time)" % out)
        self.assertEqual(common.snapshot(out), before)

    def test_two_packs_into_one_directory(self):
        """Two runs at once, again and again: one writes, the other fails at
        once naming it; never a half-deleted staging directory, never a mix."""
        out = os.path.join(self.tmp, "both")
        a = common.pack_args(out, ["x86_64"], extra=["-q"])
        b = common.pack_args(out, ["x86_64"], extra=["-q", "--exclude", "json"])
        overlaps = 0
        for i in range(30):
            p1 = popen(*a, env=dict(os.environ, **self.env))
            p2 = popen(*b, env=dict(os.environ, **self.env))
            (_, e1), (_, e2) = p1.communicate(), p2.communicate()
            for rc, err in ((p1.returncode, e1), (p2.returncode, e2)):
                self.assertIn(rc, (0, 3), err)
                if rc == 3:
                    self.assertRegex(err, r"^sp-pack: .*both: another sp-pack \(process \d+\) "
                                          r"is writing this directory")
            self.assertIn(0, (p1.returncode, p2.returncode), e1 + e2)
            overlaps += 3 in (p1.returncode, p2.returncode)
            v = common.sp_pack("verify", "--json", out)
            self.assertNotIn("P015", v.stdout)
            if overlaps >= 3:
                break
        print("concurrent runs: %d pairs, %d overlapped" % (i + 1, overlaps))
        self.assertGreater(overlaps, 0, "the two runs never overlapped")
        self.assertEqual(common.leftovers(out), [])

    def test_hand_edit_with_size_and_mtime_restored_is_repaired(self):
        out = os.path.join(self.tmp, "edit")
        self.pack(out)
        ref = common.tree_bytes(out)
        path = os.path.join(out, "assets", "stdlib.zip")
        st = os.stat(path)
        with open(path, "r+b") as f:
            data = f.read()
            f.seek(data.index(b"import"))
            f.write(b"IMPORT")
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        self.assertEqual(os.stat(path).st_size, st.st_size)
        v = common.sp_pack("verify", out)
        self.assertIn("error[P015]: content differs from what sp-pack.json records", v.stdout)
        self.pack(out)
        self.assertEqual(common.tree_bytes(out), ref)

    def test_input_truncated_during_runs(self):
        """An input truncated and rewritten while pack reads it: an error
        naming it (exit 3), never a signal."""
        big = os.path.join(self.tree, "big.py")
        out = os.path.join(self.tmp, "trunc")
        runs = hit = 0
        deadline = time.monotonic() + 60
        with Churning(big, b"# " + b"x" * (8 << 20) + b"\n", 4096):
            while runs < 200 and time.monotonic() < deadline and hit < 5:
                p = common.sp_pack("pack", "-q", "--out", out, "--stdlib",
                                   "x86_64=" + self.tree, env=self.env)
                runs += 1
                self.assertGreaterEqual(p.returncode, 0, "killed by a signal: " + p.stderr)
                self.assertIn(p.returncode, (0, 3), p.stderr)
                if p.returncode == 3:
                    self.assertRegex(p.stderr, r"big\.py: changed while sp-pack was reading it")
                    hit += 1
        print("truncation: %d runs, %d saw the change" % (runs, hit))
        self.assertGreater(hit, 0, "no run saw the file change")

    def test_archive_rewritten_while_read(self):
        """verify, ls and align -c on an APK rewritten meanwhile: a finding or
        an error naming it, never a signal or a misleading message."""
        out = os.path.join(self.tmp, "o")
        apk = os.path.join(self.tmp, "app.apk")
        self.pack(out, "--apk", apk)
        with open(apk, "rb") as f:
            body = f.read()
        runs = changed = 0
        with Churning(apk, body, 100):
            for i in range(150):
                cmd = (["verify", apk], ["ls", apk], ["align", "-c", apk])[i % 3]
                p = common.sp_pack(*cmd)
                runs += 1
                self.assertGreaterEqual(p.returncode, 0, "killed by a signal: %s" % cmd)
                self.assertNotIn("Bad address", p.stderr)
                if p.returncode == 3:
                    self.assertIn("app.apk: changed while sp-pack was reading it", p.stderr)
                    changed += 1
        print("archive rewritten: %d runs, %d saw the change" % (runs, changed))
        self.assertGreater(changed, 0, "no run saw the archive change")

    def test_corrupt_inputs_are_refused(self):
        out = os.path.join(self.tmp, "c")
        so = os.path.join(self.tree, "lib-dynload", os.path.basename(real_module("x86_64", "_bz2")))
        with open(so, "rb") as f:
            whole = f.read()
        with open(so, "wb") as f:
            f.write(whole[:100])
        p = self.pack(out, check=1)
        self.assertRegex(p.stderr, r"_bz2\.cpython-311-x86_64-linux-gnu\.so: truncated: its "
                                   r"headers describe \d+ bytes, the file holds 100")
        with open(so, "wb") as f:
            f.write(whole)
        bad = os.path.join(self.tree.encode(), b"caf\xe9.py")
        with open(bad, "wb") as f:
            f.write(b"x = 1\n")
        p = subprocess.run([common.SP_PACK, "pack", "-q", "--out", out, "--stdlib",
                            "x86_64=" + self.tree], capture_output=True,
                           env=dict(os.environ, **self.env))
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(b"its name is not valid UTF-8, which no zip entry name may be", p.stderr)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertFalse(os.path.exists(out))

    def test_fifos_never_hang(self):
        fifo = os.path.join(self.tmp, "p.apk")
        os.mkfifo(fifo)
        out = os.path.join(self.tmp, "f")
        cases = [["verify", fifo], ["ls", fifo], ["align", fifo, os.path.join(self.tmp, "a.apk")],
                 ["inject", "--into", fifo, "--from", self.tree, "-o",
                  os.path.join(self.tmp, "i.apk")],
                 ["pack", "--config", fifo, "--out", out]]
        for args in cases:
            with self.subTest(args=args[0]):
                p = common.sp_pack(*args, timeout=20)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("p.apk: not a regular file", p.stderr)
        # A FIFO where pack keeps its state: ignored, the run works.
        state = os.path.join(self.tmp, "state-fifo")
        os.makedirs(state)
        self.pack(out)
        for name in os.listdir(self.env["SP_PACK_STATE_DIR"]):
            os.mkfifo(os.path.join(state, name))
        p = common.sp_pack("pack", "-q", "--out", out, "--stdlib", "x86_64=" + self.tree,
                           "--exclude", "json", env={"SP_PACK_STATE_DIR": state}, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_write_failure_names_the_output_and_changes_nothing(self):
        """A write that fails (here: a file size limit) names the output as
        users know it, not where it was being written, and leaves the
        previous outputs as they were."""
        import resource
        out = os.path.join(self.tmp, "w")
        self.pack(out)
        before = common.snapshot(out)

        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))

        p = subprocess.run([common.SP_PACK, "pack", "-q", "--out", out, "--stdlib",
                            "x86_64=" + self.tree, "--exclude", "json"], capture_output=True,
                           text=True, env=dict(os.environ, **self.env), preexec_fn=limit)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertRegex(p.stderr, r"^sp-pack: %s/(assets|jniLibs)/\S+: cannot write: File too "
                                   r"large\n$" % out)
        self.assertNotIn(".sp-pack", p.stderr)
        self.assertEqual(common.snapshot(out), before)
        self.assertEqual(common.leftovers(out), [])

    def test_outputs_on_storage_before_the_switch(self):
        """The new generation is synced to storage before the rename that
        makes it current, and that rename's directory after it."""
        out = os.path.join(self.tmp, "s")
        log = os.path.join(self.tmp, "strace.log")
        # LeakSanitizer cannot run under ptrace: off for this one run.
        asan = os.environ.get("ASAN_OPTIONS", "")
        common.run(["strace", "-f", "-o", log, "-e", "trace=syncfs,fsync,rename,renameat,"
                    "renameat2", common.SP_PACK, "pack", "-q", "--out", out, "--stdlib",
                    "x86_64=" + self.tree],
                   env=dict(self.env, ASAN_OPTIONS=asan + ":detect_leaks=0"), check=0)
        with open(log) as f:
            calls = [line for line in f if "syncfs(" in line or "fsync(" in line or
                     "current" in line]
        switch = [i for i, c in enumerate(calls) if '"current.new"' in c and "rename" in c]
        self.assertEqual(len(switch), 1, calls)
        # syncfs where the system has it, else an fsync of every file and directory.
        synced = [c for c in calls[:switch[0]] if "syncfs(" in c or "fsync(" in c]
        self.assertTrue(synced, calls)
        if not any("syncfs(" in c for c in synced):
            files = sum(len(fs) for _, _, fs in os.walk(os.path.join(out, ".sp-pack")))
            self.assertGreaterEqual(len(synced), files, calls)
        self.assertTrue(any("fsync(" in c for c in calls[switch[0]:]), calls)


if __name__ == "__main__":
    common.main()
