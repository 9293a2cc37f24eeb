"""pack is the gate: input trees at the wrong level are refused before
anything is written, and every library pack writes gets verify's library
and ELF checks, with a per-ABI verdict for 16 KB page devices; --strict
refuses any finding and writes nothing. Judged on Debian's real glibc
trees (which Android cannot load) and on Android libraries built here with
lld (tests/build-elf-fixtures.sh), whose verdicts tests/e2e/elf_rules.py
gives independently."""

import json
import os
import shutil
import sys
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import elf_rules  # noqa: E402

FX = common.ELF_FIXTURES


def fixture(name):
    return os.path.join(FX, name)


class GateTest(common.TempDirTestCase):
    def out(self, name="out"):
        return os.path.join(self.tmp, name)

    def test_wrong_stdlib_levels_are_refused_with_a_hint(self):
        out = self.out()
        common.sp_pack(*common.pack_args(out, ["x86_64"], site=False, extra=["-q"]), check=0)
        before = common.snapshot(out)
        stdlib = common.stdlib("x86_64")
        for wrong in (os.path.dirname(stdlib), os.path.join(stdlib, "lib-dynload")):
            with self.subTest(wrong=wrong):
                p = common.sp_pack("pack", "--out", out, "--stdlib", "x86_64=" + wrong, check=1)
                lines = p.stderr.splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertIn(wrong + ": not a CPython standard library", lines[0])
                self.assertIn("hint: did you mean %s?" % stdlib, lines[0])
                self.assertEqual(p.stdout, "")
                self.assertEqual(common.snapshot(out), before)
        # site-packages given a stdlib, or the directory above one.
        for wrong, words in ((stdlib, "is a CPython standard library"),
                             (os.path.dirname(stdlib), "holds the standard library")):
            p = common.sp_pack("pack", "--out", out, "--stdlib", "x86_64=" + stdlib,
                               "--site-packages", "x86_64=" + wrong, check=1)
            self.assertIn(words, p.stderr)
            self.assertEqual(common.snapshot(out), before)

    def test_debian_glibc_trees(self):
        """Debian's builds are for glibc: pack writes them and says so (E008,
        E007), flags x86_64's 4 KB segments (E004) but not arm64's 64 KB
        ones, and --strict refuses them without writing anything."""
        out = self.out()
        p = common.sp_pack(*common.pack_args(out, ["arm64-v8a", "x86_64"], extra=["--json"]),
                           check=0)
        doc = json.loads(p.stdout)
        by_id = {}
        for f in doc["findings"]:
            self.assertEqual(set(f), {"id", "severity", "entry", "abi", "message", "hint"})
            self.assertTrue(f["entry"].startswith("jniLibs/%s/" % f["abi"]), f)
            by_id.setdefault(f["id"], set()).add(f["abi"])
        self.assertEqual(by_id["E004"], {"x86_64"})
        self.assertEqual(by_id["E008"], {"arm64-v8a", "x86_64"})
        self.assertIn("E007", by_id)
        # The verdicts agree with an independent reading of the ELF headers.
        for abi in ("arm64-v8a", "x86_64"):
            d = os.path.join(out, "jniLibs", abi)
            refused = [n for n in os.listdir(d) if elf_rules.verdict(elf_rules.read(
                os.path.join(d, n)))]
            want = {"verdict": "not ready" if refused else "ready", "libraries": len(refused)}
            self.assertEqual(doc["devices_16k"][abi], want)
        self.assertEqual(doc["devices_16k"]["arm64-v8a"]["verdict"], "ready")
        t = common.sp_pack(*common.pack_args(out, ["arm64-v8a", "x86_64"]), check=0)
        self.assertIn("arm64-v8a     16 KB devices: ready", t.stdout)
        self.assertRegex(t.stdout, r"x86_64        16 KB devices: not ready \(\d+ libraries\)")
        self.assertRegex(t.stdout, r"  E008 error +\d+  built for glibc Linux, not Android: "
                                   r"jniLibs/arm64-v8a/\S+\.so, .* and \d+ more")
        # --strict: exit 1, the findings on stdout, one line on stderr, nothing written.
        before = common.snapshot(out)
        fresh = self.out("fresh")
        for target in (out, fresh):
            p = common.sp_pack(*common.pack_args(target, ["arm64-v8a", "x86_64"],
                                                 extra=["--strict"]), check=1)
            self.assertIn("E008 error", p.stdout)
            self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
            self.assertIn("not written: --strict", p.stderr)
        self.assertEqual(common.snapshot(out), before)
        self.assertFalse(os.path.exists(fresh))

    def android_args(self, out, extra=()):
        args = ["pack", "--out", out, "--stdlib"]
        args += ["%s=%s" % (a, fixture("android-stdlib-" + a)) for a in ("arm64-v8a", "x86_64")]
        args += ["--site-packages"]
        args += ["%s=%s" % (a, self.site[a]) for a in ("arm64-v8a", "x86_64")]
        args += ["--lib"]
        args += ["%s=%s" % (a, fixture("android-libs-" + a)) for a in ("arm64-v8a", "x86_64")]
        return args + list(extra)

    def setUp(self):
        super().setUp()
        # The Android site-packages, plus a file that differs between ABIs:
        # an overlay, which --strict accepts.
        self.site = {}
        for abi in ("arm64-v8a", "x86_64"):
            site = os.path.join(self.tmp, "site-" + abi)
            shutil.copytree(fixture("android-site-" + abi), site)
            with open(os.path.join(site, "andpkg", "build_info.py"), "w") as f:
                f.write("ABI = %r\n" % abi)
            self.site[abi] = site

    def test_android_libraries_pass_strict(self):
        out, apk = self.out(), os.path.join(self.tmp, "app.apk")
        p = common.sp_pack(*self.android_args(out, ["--strict", "--apk", apk, "--json"]), check=0)
        doc = json.loads(p.stdout)
        self.assertEqual(doc["findings"], [])
        self.assertEqual(doc["overlaid"], [{"zip": "sitepackages", "path": "andpkg/build_info.py",
                                            "abis": ["arm64-v8a", "x86_64"]}])
        for abi in ("arm64-v8a", "x86_64"):
            self.assertEqual(doc["devices_16k"][abi], {"verdict": "ready", "libraries": 0})
            self.assertTrue(os.path.exists(os.path.join(out, "jniLibs", abi, "libc++_shared.so")))
        common.sp_pack("verify", "--strict", apk, out, check=0)

    def test_relro_and_4k_libraries_are_flagged(self):
        """A RELRO ending mid-page is E011, not E004; a 4 KB libc++_shared.so
        is E004: both found by pack and by verify, and by elf_rules.py."""
        for abi in ("arm64-v8a", "x86_64"):
            shutil.copyfile(fixture("relro-bad-%s.so" % abi), os.path.join(
                self.site[abi], "andpkg", "relrobad.cpython-313-%s.so" % (
                    "aarch64-linux-android" if abi == "arm64-v8a" else "x86_64-linux-android")))
        libs = os.path.join(self.tmp, "libs4k")
        os.makedirs(libs)
        shutil.copyfile(fixture("libc++_shared-4k-arm64-v8a.so"),
                        os.path.join(libs, "libc++_shared.so"))
        out, apk = self.out(), os.path.join(self.tmp, "app.apk")
        args = self.android_args(out, ["--apk", apk, "--json"])
        args[args.index("arm64-v8a=" + fixture("android-libs-arm64-v8a"))] = "arm64-v8a=" + libs
        doc = json.loads(common.sp_pack(*args, check=0).stdout)
        found = {(f["id"], f["entry"]) for f in doc["findings"]}
        self.assertEqual(found, {
            ("E011", "jniLibs/arm64-v8a/libandpkg-relrobad.so"),
            ("E011", "jniLibs/x86_64/libandpkg-relrobad.so"),
            ("E004", "jniLibs/arm64-v8a/libc++_shared.so")})
        self.assertEqual(doc["devices_16k"]["arm64-v8a"], {"verdict": "not ready", "libraries": 2})
        self.assertEqual(doc["devices_16k"]["x86_64"], {"verdict": "not ready", "libraries": 1})
        for lib in ("jniLibs/arm64-v8a/libandpkg-relrobad.so", "jniLibs/arm64-v8a/libc++_shared.so"):
            self.assertTrue(elf_rules.verdict(elf_rules.read(os.path.join(out, lib))), lib)
        # ls shows the segments' alignment beside the zip's, and the verdicts.
        for target in (apk, out):
            doc = json.loads(common.sp_pack("ls", "--json", target, check=0).stdout)
            self.assertEqual(doc["format"], 1)
            libs = {l["entry"].split("/", 1)[1]: l for l in doc["libraries"]}
            cxx = libs["arm64-v8a/libc++_shared.so"]
            self.assertEqual((cxx["p_align"], cxx["loads_on_16k"]), (4096, False))
            if target == apk:
                self.assertEqual(cxx["align"] % 16384, 0)  # the zip is aligned, the ELF is not
            self.assertEqual(doc["abis"]["arm64-v8a"]["devices_16k"],
                             {"verdict": "not ready", "libraries": 2})
            self.assertEqual(doc["abis"]["x86_64"]["devices_16k"],
                             {"verdict": "not ready", "libraries": 1})
        text = common.sp_pack("ls", apk, check=0).stdout
        self.assertRegex(text, r"lib/arm64-v8a/libc\+\+_shared.so  \(not for 16 KB devices\)")
        self.assertRegex(text, r"arm64-v8a .* 16 KB devices: not ready \(2 libraries\)")
        p = common.sp_pack("verify", "--json", apk, check=1)
        ids = {(f["id"], f["entry"]) for f in json.loads(p.stdout)["files"][0]["findings"]}
        self.assertEqual(ids, {("E011", "lib/arm64-v8a/libandpkg-relrobad.so"),
                               ("E011", "lib/x86_64/libandpkg-relrobad.so"),
                               ("E004", "lib/arm64-v8a/libc++_shared.so")})
        # Under --strict nothing is written.
        shutil.rmtree(out)
        os.unlink(apk)
        args[args.index("--json")] = "--strict"
        p = common.sp_pack(*args, check=1)
        self.assertFalse(os.path.exists(out) or os.path.exists(apk))
        self.assertIn("E011", p.stderr)


if __name__ == "__main__":
    common.main()
