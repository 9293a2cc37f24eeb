"""Hostile archives against verify, ls, inject and align: unsafe and
duplicate names are refused by the writers and cannot forge a report line,
JSON stays valid UTF-8, zip bombs are findings within bounded memory,
interrupted runs leave no temporary file, and messages keep their reason."""

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import hostile_archives as ha  # noqa: E402


def run_bytes(*args):
    """sp-pack with its output as bytes, as a reader that expects UTF-8 gets it."""
    return common.subprocess.run([common.SP_PACK] + [str(a) for a in args],
                                 capture_output=True)


# Built with AddressSanitizer: its shadow memory and quarantine change what
# memory figures mean, and it cannot run under an address-space limit.
SANITIZED = b"__asan_init" in open(common.SP_PACK, "rb").read() if os.path.exists(
    common.SP_PACK) else False
MB = 1024 * 1024


def measured(tmp, *args, as_limit=None):
    """Runs sp-pack; returns (exit status, peak RSS in bytes, seconds,
    stdout, stderr). as_limit: an address-space limit (ulimit -v) in bytes."""
    out, err = os.path.join(tmp, "measured.out"), os.path.join(tmp, "measured.err")
    limit = None
    if as_limit:
        def limit():
            resource.setrlimit(resource.RLIMIT_AS, (as_limit, as_limit))
    start = time.monotonic()
    with open(out, "wb") as o, open(err, "wb") as e:
        p = subprocess.Popen([common.SP_PACK] + [str(a) for a in args], stdout=o, stderr=e,
                             preexec_fn=limit)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - start
    with open(out, "rb") as o, open(err, "rb") as e:
        return p.returncode, usage.ru_maxrss * 1024, seconds, o.read().decode(), e.read().decode()


def temp_files(directory):
    return sorted(f for f in os.listdir(directory) if ".sp-pack-tmp-" in f)


class HostileTestCase(common.TempDirTestCase):
    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def packed_dir(self):
        """A minimal pack output for inject's --from."""
        d = os.path.join(self.tmp, "packed")
        os.makedirs(os.path.join(d, "assets"), exist_ok=True)
        with open(os.path.join(d, "assets", "extra.txt"), "w") as f:
            f.write("added by inject\n")
        return d

    def one_line(self, p, code):
        if code is None:  # an input error or an I/O error
            self.assertIn(p.returncode, (1, 3), p.stderr)
        else:
            self.assertEqual(p.returncode, code, p.stderr)
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("sp-pack: "), lines[0])
        return lines[0]


class UnsafeNamesTest(HostileTestCase):
    """Issue item 4: inject and align refuse what verify calls Z004/Z005."""

    def cases(self):
        for key, name in ha.UNSAFE_NAMES.items():
            shown = name.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")
            shown = shown.replace("\n", "\\n")
            shown = shown.replace("\x1b", "\\x1b")
            yield key, ha.unsafe_apk(name), shown or "(empty name)"
        yield "duplicate", ha.duplicate_apk(), "assets/a.txt"

    def assert_refused(self, args, apk, shown, out):
        p = common.sp_pack(*args)
        line = self.one_line(p, 1)
        self.assertIn(apk, line)
        self.assertIn(": %s: entry name " % shown, line)
        self.assertNotIn("\x1b", p.stderr)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"previous output")
        self.assertEqual(temp_files(self.tmp), [])

    def test_align_and_inject_refuse(self):
        packed = self.packed_dir()
        for key, data, shown in self.cases():
            with self.subTest(case=key):
                apk = self.write(key + ".apk", data)
                out = self.write(key + "-out.apk", b"previous output")
                self.assert_refused(["align", apk, out], apk, shown, out)
                self.assert_refused(["inject", "--into", apk, "--from", packed, "-o", out], apk,
                                    shown, out)
                # In place: the input stays as it was.
                common.sp_pack("align", apk, check=1)
                with open(apk, "rb") as f:
                    self.assertEqual(f.read(), data)
                # verify agrees: each is an error there.
                v = json.loads(common.sp_pack("verify", "--json", apk, check=1).stdout)
                ids = {f["id"] for f in v["files"][0]["findings"]}
                self.assertIn("Z004" if key == "duplicate" else "Z005", ids)

    def test_clean_input_still_aligns(self):
        apk = self.write("clean.apk", ha.raw_zip([ha.MANIFEST, (b"assets/a.txt", b"a")]))
        common.sp_pack("align", apk, check=0)
        common.sp_pack("align", "-c", apk, check=0)
        out = os.path.join(self.tmp, "injected.apk")
        common.sp_pack("inject", "--into", apk, "--from", self.packed_dir(), "-o", out, check=0)


class ReportEscapingTest(HostileTestCase):
    """Issue item 5: a name cannot forge a report line; JSON is valid UTF-8."""

    def test_forged_line(self):
        apk = self.write("forge.apk", ha.unsafe_apk(ha.UNSAFE_NAMES["newline"]))
        p = common.sp_pack("verify", apk, check=1)
        self.assertNotIn("\nsp-pack: fake", "\n" + p.stdout)
        findings = [l for l in p.stdout.splitlines() if "error[" in l or "warning[" in l]
        self.assertTrue(findings)
        for line in findings:
            self.assertTrue(line.startswith(apk + ": "), line)
        self.assertIn(apk + ": assets/a\\nsp-pack: fake: error: error[Z005]: ", p.stdout)
        # ls prints names escaped too.
        p = common.sp_pack("ls", apk, check=0)
        self.assertNotIn("\nsp-pack: fake", "\n" + p.stdout)

    def test_terminal_escapes(self):
        apk = self.write("esc.apk", ha.unsafe_apk(ha.UNSAFE_NAMES["escape"]))
        p = common.run([common.SP_PACK, "verify", apk])
        self.assertEqual(p.returncode, 1)
        self.assertNotIn("\x1b", p.stdout + p.stderr)
        self.assertIn("assets/\\x1b[31mred", p.stdout)

    def test_json_is_utf8(self):
        apk = self.write("bytes.apk", ha.raw_zip([
            ha.MANIFEST, (b"assets/\xe9\xff.txt", b"x"),
            (b"lib/x86_64/lib\xfe.so", b"not an ELF file")]))
        for cmd in (["verify", "--json"], ["ls", "--json"]):
            p = run_bytes(*cmd, apk)
            doc = json.loads(p.stdout)  # bytes: must decode as UTF-8
            self.assertEqual(doc["format"], 1)
            text = p.stdout.decode("utf-8")
            self.assertIn("assets/\\\\xe9\\\\xff.txt" if cmd[0] == "verify" else
                          "lib/x86_64/lib\\\\xfe.so", text)
        doc = json.loads(run_bytes("verify", "--json", apk).stdout)
        entries = {f["entry"] for f in doc["files"][0]["findings"]}
        self.assertIn("assets/\\xe9\\xff.txt", entries)
        self.assertIn("lib/x86_64/lib\\xfe.so", entries)
        # The text report shows the same escapes.
        p = run_bytes("verify", apk)
        self.assertIn(b"assets/\\xe9\\xff.txt: error[Z005]", p.stdout)
        p.stdout.decode("utf-8")


class BombTest(HostileTestCase):
    """Issue item 12: zip bombs are findings, within bounded memory."""

    LIMIT = 300 * MB  # peak RSS allowed on every bomb case

    def check_bounded(self, path, codes=(("verify", 1), ("verify --deep", 1), ("ls", 0)),
                      limit=LIMIT):
        results = {}
        for cmd, code in codes:
            with self.subTest(cmd=cmd, path=os.path.basename(path)):
                rc, rss, secs, out, err = measured(self.tmp, *cmd.split(), path)
                print("%s %s: exit %d, peak %.0f MB, %.1f s" % (
                    cmd, os.path.basename(path), rc, rss / MB, secs), file=sys.stderr)
                self.assertEqual(rc, code, err)
                self.assertLess(rss, limit)
                results[cmd] = out
        return results

    def test_shared_stream_bomb(self):
        # The case: 12 libraries on one 256 MiB deflate stream, 262 KB.
        apk = self.write("bomb.apk", ha.lib_bomb())
        self.assertLess(os.path.getsize(apk), 300 * 1024)
        out = self.check_bounded(apk)
        for cmd in ("verify", "verify --deep"):
            z010 = re.findall(r"^.*: lib/x86_64/lib\d+\.so: error\[Z010\]: .*$", out[cmd], re.M)
            self.assertEqual(len(z010), 12, out[cmd])
            self.assertNotIn("E001", out[cmd])  # not inflated to be judged
        doc = json.loads(common.sp_pack("verify", "--json", apk, check=1).stdout)
        self.assertEqual(doc["summary"]["by_id"]["Z010"], 12)
        # The writers do not copy it.
        out_apk = os.path.join(self.tmp, "out.apk")
        line = self.one_line(common.sp_pack("align", apk, out_apk), 1)
        self.assertIn("zip bomb", line)
        line = self.one_line(common.sp_pack("inject", "--into", apk, "--from", self.packed_dir(),
                                            "-o", out_apk), 1)
        self.assertIn("zip bomb", line)
        self.assertFalse(os.path.exists(out_apk))
        # The same with Python zips, a bomb inside a stored stdlib.zip, and
        # APKs of an .apks set.
        for name, data in (("bomb-zips.apk", ha.zips_bomb()), ("bomb-nested.apk", ha.nested_bomb()),
                           ("bomb-members.apks", ha.members_bomb())):
            out = self.check_bounded(self.write(name, data), (("verify", 1), ("verify --deep", 1)))
            self.assertIn("error[Z010]", out["verify"])

    def test_inflated_one_at_a_time(self):
        # Four deflated libraries of 96 MiB each, ELF headers and zeros: each
        # is inflated to be judged, then let go before the next.
        apk = self.write("libs.apk", ha.elf_headed_libs(4, 96 << 20))
        out = self.check_bounded(apk, (("verify", 1), ("ls", 0)),
                                 limit=(600 if SANITIZED else 300) * MB)
        # Inflated and judged: libelf reads zeros as an ELF of machine 0.
        self.assertEqual(len(re.findall(r"error\[E002\]", out["verify"])), 4, out["verify"])
        self.assertNotIn("Z010", out["verify"])

    def test_over_the_bound(self):
        # One library inflating to 300 MiB: more than verify holds at once.
        apk = self.write("big.apk", ha.elf_headed_libs(1, 300 << 20))
        out = self.check_bounded(apk, (("verify", 1), ("ls", 0)))
        self.assertRegex(out["verify"], r"lib0\.so: error\[Z010\]: not inflated: its 314572800 "
                                        r"bytes would be more than the 256 MiB")
        self.assertNotIn("E001", out["verify"])

    def test_apks_members_bounded(self):
        # Three deflated APKs of 100 MiB each in a 300 KB set: two are held,
        # the third would pass the bound.
        apks = self.write("set.apks", ha.apks_of_members(3, 100 << 20))
        out = self.check_bounded(apks, (("verify", 1),), limit=(600 if SANITIZED else 300) * MB)
        z010 = re.findall(r"^.*error\[Z010\].*$", out["verify"], re.M)
        self.assertEqual(len(z010), 1, out["verify"])
        self.assertIn("splits/m2.apk: error[Z010]: cannot be read: not inflated", z010[0])

    def test_memory_limit(self):
        # Under an address-space limit (ulimit -v) smaller than what one
        # inflation asks for: a finding, never an abort ("out of memory").
        if SANITIZED:
            self.skipTest("AddressSanitizer cannot run under an address-space limit")
        lib = self.write("lib.apk", ha.elf_headed_libs(1, 200 << 20))
        bomb = self.write("bomb.apk", ha.lib_bomb())
        rc, rss, _, out, err = measured(self.tmp, "verify", lib, as_limit=160 * MB)
        self.assertEqual(rc, 1, err)
        self.assertIn("error[Z010]: not inflated: cannot hold 209715200 inflated bytes: out of "
                      "memory", out)
        self.assertNotIn("out of memory", err)
        for cmd in (["verify"], ["verify", "--deep"], ["ls"]):
            rc, _, _, out, err = measured(self.tmp, *cmd, bomb, as_limit=160 * MB)
            self.assertIn(rc, (0, 1), err)
            self.assertEqual(err, "")


class MessagesTest(HostileTestCase):
    """Issue item 15 (archives): messages keep their reason, name the archive
    and the entry, and give hints the command takes."""

    def long_dir(self):
        d = self.tmp
        for i in range(12):  # about 2.4 KB of path
            d = os.path.join(d, "%02d-" % i + "x" * 196)
        os.makedirs(d)
        return d

    def test_long_paths_keep_the_reason(self):
        d = self.long_dir()
        missing = os.path.join(d, "missing.apk")
        self.assertGreater(len(missing), 2048)
        for args, reason in ((["verify", missing], "No such file or directory"),
                             (["align", missing], "No such file or directory"),
                             (["ls", missing], "no such file or directory")):
            line = self.one_line(common.sp_pack(*args), 1 if args[0] != "align" else None)
            self.assertTrue(line.endswith(": " + reason), line)
            self.assertIn("...", line)
            self.assertIn("/missing.apk: ", line)
            self.assertLess(len(line), 2100)
        apk = os.path.join(d, "unsafe.apk")
        with open(apk, "wb") as f:
            f.write(ha.unsafe_apk(b"../../x"))
        line = self.one_line(common.sp_pack("align", apk, os.path.join(d, "o.apk")), 1)
        self.assertIn("/unsafe.apk: ../../x: entry name holds a '..' component (hint: ", line)

    def test_entries_are_named(self):
        # An App Bundle with an ABI directory bundletool does not know.
        aab = self.write("app.aab", ha.raw_zip([
            (b"BundleConfig.pb", b""), (b"base/manifest/AndroidManifest.xml", b"\x0a\x00"),
            (b"base/lib/mips128/libx.so", b"x")]))
        packed = self.packed_dir()
        os.makedirs(os.path.join(packed, "jniLibs", "x86_64"))
        with open(os.path.join(packed, "jniLibs", "x86_64", "libm.so"), "wb") as f:
            f.write(b"\x7fELF")
        out = os.path.join(self.tmp, "out.aab")
        line = self.one_line(common.sp_pack("inject", "--into", aab, "--from", packed, "-o", out),
                             1)
        self.assertTrue(line.startswith("sp-pack: %s: base/lib/mips128/: 'mips128' is not an ABI "
                                        "directory bundletool knows (hint: " % aab), line)
        self.assertFalse(os.path.exists(out))
        # An empty entry name: the archive, and what the entry is.
        apk = self.write("empty.apk", ha.unsafe_apk(b""))
        for args in (["align", apk, out], ["inject", "--into", apk, "--from", packed, "-o", out]):
            line = self.one_line(common.sp_pack(*args), 1)
            self.assertTrue(line.startswith("sp-pack: %s: (empty name): entry name is empty" % apk),
                            line)
        # verify shows an empty name as "".
        p = common.sp_pack("verify", apk, check=1)
        self.assertIn('%s: "": error[Z005]: entry name is empty' % apk, p.stdout)

    def test_symlink_hint(self):
        packed = self.packed_dir()
        os.symlink("/etc/passwd", os.path.join(packed, "assets", "leak"))
        apk = self.write("in.apk", ha.raw_zip([ha.MANIFEST]))
        out = os.path.join(self.tmp, "out.apk")
        line = self.one_line(common.sp_pack("inject", "--into", apk, "--from", packed, "-o", out),
                             1)
        self.assertIn("assets/leak: symlink points outside", line)
        self.assertNotIn("--exclude", line)
        self.assertIn("(hint: inject copies a pack output as it is", line)
        self.assertFalse(os.path.exists(out))


class InterruptTest(HostileTestCase):
    """Issue item 13 (archives): a stopped align or inject leaves no
    temporary file; what a killed one left is removed by the next run;
    pack --apk equal to --out is refused before anything is written."""

    TRIES = 25      # runs per signal, at most
    BUDGET = 60.0   # seconds per signal, at most

    def setUp(self):
        super().setUp()
        # 3000 stored entries, 60 MB: a run writes its temporary file for a
        # tenth of a second or so.
        data = os.urandom(20000)
        self.big = self.write("big.apk", ha.raw_zip(
            [ha.MANIFEST] + [(b"assets/f%05d.bin" % i, data) for i in range(3000)]))
        self.packed = self.packed_dir()
        self.outdir = os.path.join(self.tmp, "outs")
        os.makedirs(self.outdir)

    def commands(self, out):
        return {"align": ["align", self.big, out],
                "inject": ["inject", "--into", self.big, "--from", self.packed, "-o", out]}

    def stop_runs(self, args, out, sig):
        """Runs args until one is stopped by sig while its temporary file
        exists, TRIES times or BUDGET seconds at most; returns (runs, stopped)."""
        runs = stopped = 0
        start = time.monotonic()
        while runs < self.TRIES and time.monotonic() - start < self.BUDGET:
            runs += 1
            if os.path.exists(out):
                os.unlink(out)
            p = subprocess.Popen([common.SP_PACK] + args, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
            tmp = "%s.sp-pack-tmp-%d" % (out, p.pid)
            while p.poll() is None and not os.path.exists(tmp):
                pass  # watch for the temporary file; bounded by the run itself
            if p.poll() is None:
                p.send_signal(sig)
            _, err = p.communicate(timeout=120)
            if p.returncode == -sig:
                stopped += 1
            else:
                self.assertEqual(p.returncode, 0, err)
            if sig != signal.SIGKILL:
                self.assertEqual(temp_files(self.outdir), [], "run %d, exit %d" % (
                    runs, p.returncode))
            elif p.returncode == -sig:
                return runs, stopped
            if os.path.exists(out):  # finished before the signal: whole
                common.sp_pack("align", "-c", out, check=0)
            if stopped >= 3:
                break
        return runs, stopped

    def test_signals_leave_no_temporary_file(self):
        for name in ("align", "inject"):
            out = os.path.join(self.outdir, name + ".apk")
            for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                with self.subTest(command=name, signal=sig.name):
                    runs, stopped = self.stop_runs(self.commands(out)[name], out, sig)
                    print("%s, %s: %d runs, %d stopped mid-write, 0 temporary files left" % (
                        name, sig.name, runs, stopped), file=sys.stderr)
                    self.assertGreaterEqual(stopped, 1, "no run was stopped in %d" % runs)

    def test_killed_runs_cleaned_by_the_next(self):
        for name in ("align", "inject"):
            with self.subTest(command=name):
                out = os.path.join(self.outdir, name + ".apk")
                runs, stopped = self.stop_runs(self.commands(out)[name], out, signal.SIGKILL)
                self.assertEqual(stopped, 1, "no run was killed mid-write in %d" % runs)
                left = temp_files(self.outdir)
                self.assertEqual(len(left), 1, left)  # kill -9 leaves it
                # A live run's file (this test's PID) and another output's stay.
                live = "%s.sp-pack-tmp-%d" % (out, os.getpid())
                other = os.path.join(self.outdir, "other.apk.sp-pack-tmp-999999999")
                for f in (live, other):
                    with open(f, "w") as fh:
                        fh.write("x")
                common.sp_pack(*self.commands(out)[name], check=0)
                self.assertEqual(temp_files(self.outdir),
                                 sorted([os.path.basename(live), os.path.basename(other)]))
                os.unlink(live)
                os.unlink(other)

    def test_pack_apk_is_out(self):
        out = os.path.join(self.tmp, "packed-out")
        for apk in (out, out + "/", os.path.join(self.tmp, ".", "packed-out")):
            line = self.one_line(common.sp_pack("pack", "--out", out, "--apk", apk, "--stdlib",
                                                "x86_64=" + os.path.join(self.tmp, "none")), 2)
            self.assertIn("--apk is inside the output directory", line)
            self.assertFalse(os.path.exists(out))
            self.assertEqual(temp_files(self.tmp), [])


class SymlinkTest(HostileTestCase):
    """Issue item 14: align in place on a symlink aligns its target."""

    def test_align_through_a_link(self):
        real = os.path.join(self.tmp, "real")
        os.makedirs(real)
        apk = os.path.join(real, "app.apk")
        with open(apk, "wb") as f:  # stored entries at unaligned offsets
            f.write(ha.raw_zip([ha.MANIFEST, (b"assets/a.txt", b"abc"),
                                (b"assets/b.txt", b"defgh")]))
        common.sp_pack("align", "-c", apk, check=1)
        link = os.path.join(self.tmp, "link.apk")
        os.symlink("real/app.apk", link)
        common.sp_pack("align", link, check=0)
        self.assertTrue(os.path.islink(link))
        self.assertEqual(os.readlink(link), "real/app.apk")
        common.sp_pack("align", "-c", apk, check=0)
        self.assertEqual(temp_files(self.tmp) + temp_files(real), [])
        # An OUT that is a link, for align and inject: its target is written.
        target = os.path.join(real, "target.apk")
        with open(target, "wb") as f:
            f.write(b"old")
        out_link = os.path.join(self.tmp, "out.apk")
        os.symlink(target, out_link)
        for args in (["align", apk, out_link],
                     ["inject", "--into", apk, "--from", self.packed_dir(), "-o", out_link]):
            common.sp_pack(*args, check=0)
            self.assertTrue(os.path.islink(out_link))
            common.sp_pack("align", "-c", target, check=0)
            os.unlink(target)
            with open(target, "wb") as f:
                f.write(b"old")


if __name__ == "__main__":
    common.main()
