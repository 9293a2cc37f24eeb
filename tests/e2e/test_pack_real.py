"""pack on Debian's real CPython 3.11 stdlib and numpy for all four ABIs."""

import hashlib
import json
import os
import re
import shutil
import sys
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
from common import ABIS  # noqa: E402

MODULE_RE = re.compile(r"^([^.]+)\.(cpython-[^.]+|abi3)\.so$")


def mangle(dotted):
    return "lib" + dotted.replace(".", "-") + ".so"


def extension_modules(abi):
    """{zip: {marker path: library name}} computed from the trees here,
    independently of sp-pack."""
    found = {"stdlib": {}, "sitepackages": {}}
    for zipname, top, skip in (("stdlib", common.stdlib(abi), ("site-packages", "dist-packages")),
                               ("sitepackages", common.dist_packages(abi), ())):
        for dirpath, dirs, files in os.walk(top):
            rel_dir = os.path.relpath(dirpath, top)
            if rel_dir == ".":
                dirs[:] = [d for d in dirs if d not in skip]
                rel_dir = ""
            if rel_dir == "lib-dynload":
                rel_dir = ""
            for f in files:
                m = MODULE_RE.match(f)
                if not m:
                    continue
                parts = [p for p in rel_dir.split("/") if p] + [m.group(1)]
                marker = "/".join(parts) + ".soref"
                found[zipname][marker] = mangle(".".join(parts))
    return found


def pure_files(abi):
    """{zip: {path: sha256}} of the pure files of an ABI's trees."""
    out = {"stdlib": {}, "sitepackages": {}}
    for zipname, top in (("stdlib", common.stdlib(abi)), ("sitepackages", common.dist_packages(abi))):
        for dirpath, dirs, files in os.walk(top):
            rel_dir = os.path.relpath(dirpath, top)
            if rel_dir == ".":
                dirs[:] = [d for d in dirs if d not in ("site-packages", "dist-packages")]
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for f in files:
                rel = os.path.normpath(os.path.join(rel_dir, f))
                if MODULE_RE.match(f) or rel == "sitecustomize.py":
                    continue
                with open(os.path.join(dirpath, f), "rb") as fh:
                    out[zipname][rel] = hashlib.sha256(fh.read()).hexdigest()
    return out


class PackRealTest(common.TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        cls.base = common.tempfile.mkdtemp(prefix="sp-pack-real-", dir=common.TMP)
        cls.out = os.path.join(cls.base, "out")
        cls.result = common.sp_pack(*common.pack_args(cls.out, ABIS, extra=["--json"]), check=0)
        cls.manifest = json.loads(cls.result.stdout)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.base, ignore_errors=True)

    def zip(self, name):
        return zipfile.ZipFile(os.path.join(self.out, "assets", name))

    def test_every_module_has_library_and_marker(self):
        with self.zip("stdlib.zip") as s, self.zip("sitepackages.zip") as p:
            zips = {"stdlib": s, "sitepackages": p}
            total = 0
            for abi in ABIS:
                for zipname, modules in extension_modules(abi).items():
                    self.assertTrue(modules, "%s has no %s modules" % (abi, zipname))
                    for marker, lib in modules.items():
                        total += 1
                        libpath = os.path.join(self.out, "jniLibs", abi, lib)
                        self.assertTrue(os.path.isfile(libpath), libpath)
                        self.assertEqual(zips[zipname].read(marker), lib.encode())
            self.assertGreater(total, 4 * 60)
        for abi in ABIS:
            with open(os.path.join(self.out, "jniLibs", abi, "lib_bz2.so"), "rb") as f:
                self.assertEqual(f.read(4), b"\x7fELF")

    def test_libraries_are_the_input_bytes(self):
        src = os.path.join(common.dist_packages("x86"), "numpy/core")
        name = [f for f in os.listdir(src) if f.startswith("_multiarray_umath.")][0]
        with open(os.path.join(src, name), "rb") as a, \
                open(os.path.join(self.out, "jniLibs/x86/libnumpy-core-_multiarray_umath.so"), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_differences_go_to_overlays_and_nowhere_else(self):
        pure = {abi: pure_files(abi) for abi in ABIS}
        for zipname in ("stdlib", "sitepackages"):
            paths = set()
            for abi in ABIS:
                paths |= set(pure[abi][zipname])
            differing = {p for p in paths
                         if len({pure[a][zipname].get(p) for a in ABIS if p in pure[a][zipname]}) > 1}
            if zipname == "sitepackages":
                self.assertIn("numpy/__config__.py", differing)
            with self.zip(zipname + ".zip") as common_zip:
                names = set(common_zip.namelist())
                for p in differing:
                    self.assertNotIn(p, names, "%s differs per ABI but is in the common zip" % p)
                for p in paths - differing:
                    self.assertIn(p, names)
            for abi in ABIS:
                overlay = os.path.join(self.out, "assets", "%s-%s.zip" % (zipname, abi))
                mine = {p for p in differing if p in pure[abi][zipname]}
                if not mine:
                    self.assertFalse(os.path.exists(overlay))
                    continue
                with zipfile.ZipFile(overlay) as z:
                    files = {n for n in z.namelist() if not n.endswith("/")}
                    self.assertEqual(files, mine)
                    for p in mine:
                        self.assertEqual(hashlib.sha256(z.read(p)).hexdigest(), pure[abi][zipname][p])
            listed = {o["path"] for o in self.manifest["overlaid"] if o["zip"] == zipname}
            self.assertEqual(listed, differing)
        # Per-ABI files with distinct names all coexist in the common zip.
        with self.zip("stdlib.zip") as z:
            for abi in ABIS:
                self.assertIn("_sysconfigdata__%s.py" % common.TRIPLET[abi], z.namelist())

    def test_zips_are_stored_sorted_with_directories(self):
        assets = os.path.join(self.out, "assets")
        zips = sorted(os.path.join(assets, z) for z in os.listdir(assets) if z.endswith(".zip"))
        common.run([common.ZIPCHECK] + zips, check=0)
        for path in zips:
            with zipfile.ZipFile(path) as z:
                self.assertIsNone(z.testzip())
                infos = z.infolist()
                names = [i.filename for i in infos]
                self.assertEqual(names, sorted(names, key=lambda n: n.encode()))
                self.assertEqual(len(names), len(set(names)))
                for i in infos:
                    self.assertEqual(i.compress_type, zipfile.ZIP_STORED, i.filename)
                    self.assertEqual(i.flag_bits & 0x08, 0, "data descriptor in " + i.filename)
                    self.assertEqual(i.extra, b"")
                    self.assertEqual(i.date_time, (1980, 1, 1, 0, 0, 0))
                dirs = {n for n in names if n.endswith("/")}
                for n in names:
                    parts = n.rstrip("/").split("/")[:-1]
                    for k in range(1, len(parts) + 1):
                        self.assertIn("/".join(parts[:k]) + "/", dirs, n)
        with self.zip("stdlib.zip") as z:
            boot = z.read("_sp_bootstrap.py")
        with open(os.path.join(common.SOURCE_DIR, "src/runtime/_sp_bootstrap.py"), "rb") as f:
            self.assertEqual(boot, f.read())

    def test_stdlib_skips_site_packages_and_pycache(self):
        with self.zip("stdlib.zip") as z:
            for n in z.namelist():
                self.assertFalse(n.startswith(("site-packages/", "dist-packages/", "lib-dynload/")), n)
                self.assertNotIn("__pycache__", n)
            self.assertIn("os.py", z.namelist())
            self.assertIn("encodings/", z.namelist())

    def test_manifest(self):
        with open(os.path.join(self.out, "sp-pack.json")) as f:
            m = json.load(f)
        self.assertEqual(m["abis"], sorted(ABIS))
        outputs = {o["path"]: o for o in m["outputs"]}
        self.assertIn("assets/stdlib.zip", outputs)
        for path, o in outputs.items():
            self.assertFalse(os.path.isabs(path))
            full = os.path.join(self.out, path)
            self.assertEqual(os.path.getsize(full), o["size"], path)
        # Every file in the output is listed (and nothing else is there);
        # users see them through links into sp-pack's own .sp-pack/.
        on_disk = set(common.snapshot(self.out))
        self.assertEqual(on_disk, set(outputs) | {"sp-pack.json"})
        self.assertEqual(sorted(os.listdir(self.out)),
                         [".sp-pack", "assets", "jniLibs", "sp-pack.json"])
        for top in ("assets", "jniLibs", "sp-pack.json"):
            self.assertEqual(os.readlink(os.path.join(self.out, top)),
                             ".sp-pack/current/" + top)
        self.assertNotIn(self.out, json.dumps(m))
        mods = {x["name"]: x for x in m["modules"]}
        self.assertEqual(mods["numpy.core._multiarray_umath"]["lib"],
                         "libnumpy-core-_multiarray_umath.so")
        self.assertEqual(mods["_bz2"]["abis"], sorted(ABIS))

    def test_deterministic(self):
        # Same inputs in another order, another output path: same bytes.
        other = os.path.join(self.tmp, "again")
        args = common.pack_args(other, list(reversed(ABIS)), extra=["-q"])
        common.sp_pack(*args, check=0)
        self.assertEqual(common.tree_bytes(other), common.tree_bytes(self.out))
        # SOURCE_DATE_EPOCH changes only the timestamps.
        dated = os.path.join(self.tmp, "dated")
        common.sp_pack(*common.pack_args(dated, ABIS[:1], site=False),
                       env={"SOURCE_DATE_EPOCH": "1700000000"}, check=0)
        with zipfile.ZipFile(os.path.join(dated, "assets/stdlib.zip")) as z:
            self.assertEqual(z.infolist()[0].date_time, (2023, 11, 14, 22, 13, 20))

    def test_serial_and_parallel_runs_are_identical(self):
        outs = []
        for jobs in ("1", "2", "8"):
            out = os.path.join(self.tmp, "jobs-" + jobs)
            common.sp_pack(*common.pack_args(out, ABIS, extra=["-q", "--jobs", jobs]), check=0)
            outs.append(common.tree_bytes(out))
        self.assertEqual(outs[0], outs[1])
        self.assertEqual(outs[0], outs[2])
        self.assertEqual(outs[0], common.tree_bytes(self.out))
        common.sp_pack(*common.pack_args(out, ABIS, extra=["--jobs", "0"]), check=2)

    def test_repack_into_existing_output(self):
        out = os.path.join(self.tmp, "re")
        args = common.pack_args(out, ["x86_64"])
        common.sp_pack(*args, check=0)
        first = common.tree_bytes(out)
        # Something left over in jniLibs by a previous, different pack goes away.
        stale = os.path.join(out, "jniLibs/x86_64/lib_bz2.so")
        common.sp_pack(*args, "--exclude", "_bz2.*", check=0)
        self.assertFalse(os.path.exists(stale))
        common.sp_pack(*args, check=0)
        self.assertEqual(common.tree_bytes(out), first)
        self.assertEqual(common.leftovers(out), [])

    def test_interrupted_run_leaves_old_or_new_output(self):
        import signal
        import subprocess
        import time
        out = os.path.join(self.tmp, "int")
        common.sp_pack(*common.pack_args(out, ["x86_64"]), check=0)
        old = common.tree_bytes(out)
        args = common.pack_args(out, ABIS, extra=["-q"])
        ref = os.path.join(self.tmp, "ref")
        common.sp_pack(*common.pack_args(ref, ABIS, extra=["-q"]), check=0)
        new = common.tree_bytes(ref)
        # SIGTERM at growing delays, bounded: every run must end with the old
        # outputs or the new ones, and at least one must really have been
        # interrupted (exit 3, "interrupted") for the test to mean anything.
        interrupted = finished = 0
        delay = 0.02
        while delay < 5 and not (interrupted and finished):
            common.sp_pack(*common.pack_args(out, ["x86_64"]), check=0)
            proc = subprocess.Popen([common.SP_PACK] + args, stderr=subprocess.PIPE, text=True)
            time.sleep(delay)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate()
            now = common.tree_bytes(out)
            self.assertIn(now, (old, new), "a mix of old and new outputs after SIGTERM")
            self.assertEqual(common.leftovers(out), [])
            if proc.returncode == -signal.SIGTERM:
                self.assertEqual(now, old)  # killed before it set up its handler
            elif proc.returncode != 0:
                self.assertEqual(proc.returncode, 3, err)
                self.assertIn("interrupted", err)
                self.assertEqual(now, old)
                interrupted += 1
            else:
                self.assertEqual(now, new)
                finished += 1
            delay *= 2
        self.assertGreater(interrupted, 0, "no run was interrupted")

    def test_killed_run_leaves_old_or_new_output(self):
        """SIGKILL at moments spread over a whole run: the directory always
        shows every old output or every new one, never a mix, and the next
        run removes what the killed one left."""
        import signal
        import subprocess
        import time
        out = os.path.join(self.tmp, "kill")
        old_args = common.pack_args(out, ["x86_64"], extra=["-q"])
        new_args = common.pack_args(out, ABIS, extra=["-q"])
        common.sp_pack(*old_args, check=0)
        old = common.tree_bytes(out)
        ref = os.path.join(self.tmp, "ref-kill")
        start = time.monotonic()
        common.sp_pack(*common.pack_args(ref, ABIS, extra=["-q"]), check=0)
        span = time.monotonic() - start
        new = common.tree_bytes(ref)
        tries = mixed = killed = 0
        for i in range(20):
            common.sp_pack(*old_args, check=0)
            proc = subprocess.Popen([common.SP_PACK] + new_args, stderr=subprocess.DEVNULL)
            time.sleep(span * 1.5 * (i + 0.5) / 20)
            proc.kill()
            proc.wait()
            tries += 1
            now = common.tree_bytes(out)
            mixed += now not in (old, new)
            if proc.returncode == -signal.SIGKILL and now == old:
                killed += 1
        print("kill -9: %d tries, %d killed before the switch, %d mixed" % (tries, killed, mixed))
        self.assertEqual(mixed, 0)
        self.assertGreater(killed, 0, "no run was killed before it finished")
        common.sp_pack(*old_args, check=0)  # also when it has nothing to write
        self.assertEqual(common.tree_bytes(out), old)
        self.assertEqual(common.leftovers(out), [])


if __name__ == "__main__":
    common.main()
