"""The size report of pack and ls, against Python's own reckoning: per ABI
the install size (what ships for the ABI, as stored) and the download
estimate, recomputed here with Python's zlib (raw deflate, level 9) over
the same files; the largest packages, recomputed from the zips with
zipfile; pack's figures equal to ls's on the directory and the APK; and a
repack that deflates nothing it deflated before (strace)."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

ABIS = ["arm64-v8a", "x86_64"]


def deflated(path):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    with open(path, "rb") as f:
        return len(c.compress(f.read()) + c.flush())


def shipped(out, abi, abis):
    """The files that ship for abi: its libraries, the common assets and its overlays."""
    files = []
    for dirpath, _, names in os.walk(os.path.join(out, "jniLibs", abi), followlinks=True):
        files += [os.path.join(dirpath, n) for n in names]
    others = [a for a in abis if a != abi]
    for dirpath, _, names in os.walk(os.path.join(out, "assets"), followlinks=True):
        for n in names:
            if not any(n.endswith("-%s.zip" % a) for a in others):
                files.append(os.path.join(dirpath, n))
    return files


def packages(out, abis, top=10):
    """The largest top-level names: payload of the Python zips' entries plus
    the libraries their markers name, the most on any one ABI."""
    common_bytes, per_abi = {}, {a: {} for a in abis}
    markers = {}
    for z in sorted(os.listdir(os.path.join(out, "assets"))):
        if not z.endswith(".zip"):
            continue
        abi = next((a for a in abis if z.endswith("-%s.zip" % a)), None)
        with zipfile.ZipFile(os.path.join(out, "assets", z)) as f:
            for info in f.infolist():
                if info.filename.endswith("/"):
                    continue
                name = info.filename.split("/")[0]
                if "/" not in info.filename:
                    name = re.sub(r"\.(soref|pyc|py)$", "", name)
                target = per_abi[abi] if abi else common_bytes
                target[name] = target.get(name, 0) + info.file_size
                if info.filename.endswith(".soref"):
                    markers.setdefault(f.read(info).decode(), name)
    for a in abis:
        lib_dir = os.path.join(out, "jniLibs", a)
        for lib in os.listdir(lib_dir):
            if lib in markers:
                name = markers[lib]
                per_abi[a][name] = per_abi[a].get(name, 0) + os.path.getsize(
                    os.path.join(lib_dir, lib))
    names = set(common_bytes) | {n for a in abis for n in per_abi[a]}
    sizes = [(common_bytes.get(n, 0) + max(per_abi[a].get(n, 0) for a in abis), n)
             for n in names]
    sizes.sort(key=lambda x: (-x[0], x[1]))
    return [{"name": n, "bytes": b} for b, n in sizes[:top]]


def opened(trace, out):
    """Output files (.zip, .so) a run opened to read them, from strace's log:
    not those it wrote, nor those it opened only to sync them to storage
    (O_NOFOLLOW, where the platform has no syncfs)."""
    real = os.path.realpath(out)
    hits = set()
    with open(trace) as f:
        for line in f:
            m = re.search(r'open(?:at)?\((?:[^,"]*, )?"([^"]+)", ([A-Z_|]+)', line)
            if not m or "= -1" in line or not m.group(1).endswith((".zip", ".so")):
                continue
            path, flags = m.groups()
            if path.startswith((out + "/", real + "/")) and "O_RDONLY" in flags and \
                    "O_NOFOLLOW" not in flags:
                hits.add(path)
    return hits


class SizeTest(common.TempDirTestCase):
    def test_report_against_zlib_and_ls(self):
        out, apk = os.path.join(self.tmp, "out"), os.path.join(self.tmp, "app.apk")
        args = common.pack_args(out, ABIS, extra=["--apk", apk])
        t = time.monotonic()
        doc = json.loads(common.sp_pack(*args, "--json", check=0).stdout)
        with_report = time.monotonic() - t
        self.assertEqual(sorted(doc["size"]), ABIS)
        for abi in ABIS:
            files = shipped(out, abi, ABIS)
            self.assertTrue(any("-%s.zip" % abi in f for f in files))  # its overlay counts
            install = sum(os.path.getsize(f) for f in files)
            download = sum(deflated(f) for f in files)
            self.assertEqual(doc["size"][abi]["install"], install, abi)
            got = doc["size"][abi]["download"]
            self.assertLess(abs(got - download) / download, 0.02, (abi, got, download))
            self.assertLess(download, install / 2)  # real compression happened
            print("%s: install %d, download %d, Python's zlib %d (%+.3f%%)" % (
                abi, install, got, download, 100.0 * (got - download) / download))
        self.assertEqual(doc["packages"], packages(out, ABIS))
        self.assertEqual(doc["packages"][0]["name"], "numpy")
        with open(os.path.join(out, "sp-pack.json")) as f:
            manifest = json.load(f)
        self.assertEqual(manifest["packages"], doc["packages"])
        self.assertNotIn("size", manifest)  # depends on the zlib build: --json only
        # ls measures the same on the directory and on the APK.
        for target in (out, apk):
            ls = json.loads(common.sp_pack("ls", "--json", target, check=0).stdout)
            self.assertEqual(ls["size"], doc["size"], target)
            self.assertEqual(ls["packages"], doc["packages"], target)
        # The text reports label the estimate, and ls no longer calls stored bytes a download.
        text = common.sp_pack("ls", out, check=0).stdout
        self.assertNotIn("download size", text)
        self.assertRegex(text, r"download: an estimate, every file deflated at level 9")
        self.assertRegex(text, r"  x86_64 +install +[0-9.]+ MiB +download ~ *[0-9.]+ MiB")
        self.assertRegex(text, r"largest packages.*\n  numpy +[0-9.]+ MiB")
        # What the estimate costs a full pack (the -q run computes none).
        quiet = os.path.join(self.tmp, "quiet")
        t = time.monotonic()
        common.sp_pack(*common.pack_args(quiet, ABIS, extra=["-q"]), check=0)
        print("full pack of %s: %.2f s with the size report, %.2f s with -q" % (
            " and ".join(ABIS), with_report, time.monotonic() - t))

    def small(self):
        stdlib = os.path.join(self.tmp, "stdlib")
        for f in ("os.py", "encodings/__init__.py", "encodings/aliases.py", "encodings/utf_8.py",
                  "json/__init__.py", "json/decoder.py",
                  "lib-dynload/_bz2.cpython-311-x86_64-linux-gnu.so",
                  "lib-dynload/_decimal.cpython-311-x86_64-linux-gnu.so"):
            os.makedirs(os.path.dirname(os.path.join(stdlib, f)), exist_ok=True)
            shutil.copyfile(os.path.join(common.stdlib("x86_64"), f), os.path.join(stdlib, f))
        out = os.path.join(self.tmp, "out")
        return stdlib, out, ["pack", "--out", out, "--stdlib", stdlib]

    def traced(self, args):
        trace = os.path.join(self.tmp, "trace")
        # LeakSanitizer (the sanitized build) cannot run under ptrace: off for these runs.
        env = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") +
                   ":detect_leaks=0")
        p = subprocess.run(["strace", "-f", "-qq", "-e", "trace=open,openat", "-o", trace,
                            common.SP_PACK] + args, capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout, trace

    def expected(self, out):
        files = shipped(out, "x86_64", ["x86_64"])
        return {"x86_64": {"install": sum(os.path.getsize(f) for f in files),
                           "download": sum(deflated(f) for f in files)}}

    def test_repacks_reuse_the_estimate(self):
        stdlib, out, args = self.small()
        first = json.loads(common.sp_pack(*args, "--json", check=0).stdout)
        self.assertEqual(first["size"], self.expected(out))
        # A repack with nothing to do reports the same without deflating
        # (opening) any output. The first few may open some to hash them:
        # files written or linked just before a run are checked by content
        # (and inputs changed just before are read again), so repack until
        # one opens none, bounded: a repack that deflated would never get there.
        # Inputs made just before the first pack are read again until they
        # are 2 s old (the input snapshot), so wait for "up to date" too.
        deadline = time.monotonic() + 30
        while True:
            stdout, trace = self.traced(args)
            if ("up to date" in stdout and not opened(trace, out)) or \
                    time.monotonic() > deadline:
                break
            time.sleep(0.3)
        self.assertIn("up to date", stdout)
        self.assertRegex(stdout, r"x86_64 +install .* download ~")
        self.assertEqual(opened(trace, out), set())
        stdout, trace = self.traced(args + ["--json"])
        self.assertEqual(opened(trace, out), set())
        self.assertEqual(json.loads(stdout)["size"], first["size"])
        # A changed input: only what it changes is deflated; the libraries are not opened.
        with open(os.path.join(stdlib, "json", "decoder.py"), "a") as f:
            f.write("\n# changed\n")
        stdout, trace = self.traced(args + ["--json"])
        self.assertEqual(json.loads(stdout)["size"], self.expected(out))
        read = opened(trace, out)
        # The new stdlib.zip, read back to deflate it; no kept library.
        self.assertTrue([p for p in read if p.endswith("/assets/stdlib.zip")], read)
        self.assertFalse([p for p in read if p.endswith(".so")], read)

    def test_quiet_pack_then_report(self):
        stdlib, out, args = self.small()
        common.sp_pack(*args, "-q", check=0)
        with open(os.path.join(stdlib, "json", "decoder.py"), "a") as f:
            f.write("\n# changed\n")
        # Outputs kept from the -q run get their estimate now, from their files.
        doc = json.loads(common.sp_pack(*args, "--json", check=0).stdout)
        self.assertEqual(doc["size"], self.expected(out))


if __name__ == "__main__":
    common.main()
