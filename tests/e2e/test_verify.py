"""verify: for each check ID a fixture that triggers it and clean fixtures
(APK, .apks, .aab, pack output) with no finding at all; text and JSON agree;
real inputs are judged as they should be."""

import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import verify_fixtures  # noqa: E402

CATALOGUE = ["Z001", "Z002", "Z003", "Z004", "Z005", "Z006", "Z007", "Z008", "Z009", "Z010",
             "L001", "L002", "L003", "L004", "L005", "L006", "L008",
             "E001", "E002", "E003", "E004", "E005", "E006", "E007", "E008", "E010", "E011",
             "P001", "P002", "P003", "P004", "P005", "P006", "P008", "P009",
             "P010", "P011", "P012", "P013", "P014", "P015"]


def verify(path, *args):
    p = common.sp_pack("verify", "--json", *args, path)
    doc = json.loads(p.stdout)
    ids = [f["id"] for f in doc["files"][0]["findings"]]
    return p, doc, ids


class VerifyTest(common.TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = common.tempfile.mkdtemp(prefix="sp-pack-verify-", dir=common.TMP)
        cls.fixtures = verify_fixtures.build_all(cls.work)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_every_check_has_a_triggering_fixture(self):
        covered = set()
        for f in self.fixtures.values():
            covered |= f.ids
        self.assertEqual(covered, set(CATALOGUE))

    def test_fixtures(self):
        for name, f in sorted(self.fixtures.items()):
            with self.subTest(fixture=name):
                p, doc, ids = verify(f.path, *f.args)
                if f.ids:
                    self.assertTrue(f.ids <= set(ids), "%s: expected %s, got %s\n%s" % (
                        name, sorted(f.ids), sorted(set(ids)), p.stdout))
                    errors = doc["summary"]["errors"]
                    self.assertEqual(p.returncode, 1 if errors else 0, p.stderr)
                else:
                    self.assertEqual(ids, [], "%s: %s" % (name, p.stdout))
                    self.assertEqual(p.returncode, 0, p.stderr)
                self.assertFalse(f.absent & set(ids), "%s: %s" % (name, sorted(set(ids))))
                # The text output names the same IDs, one line each.
                t = common.sp_pack("verify", *f.args, f.path)
                self.assertEqual(t.returncode, p.returncode)
                text_ids = re.findall(r": (?:error|warning)\[([A-Z]\d{3})\]: ", t.stdout)
                self.assertEqual(sorted(text_ids), sorted(ids))

    def test_catalogue_is_documented(self):
        with open(os.path.join(common.SOURCE_DIR, "docs/checks.md")) as f:
            documented = re.findall(r"^### ([A-Z]\d{3}) ", f.read(), re.M)
        self.assertEqual(documented, CATALOGUE)

    def test_kinds_and_json_shape(self):
        kinds = {"clean-apk": "apk", "clean-apks": "apks", "clean-aab": "aab",
                 "clean-dir": "dir", "Z004": "apk", "L003": "apk"}
        for name, kind in kinds.items():
            _, doc, _ = verify(self.fixtures[name].path)
            self.assertEqual(doc["files"][0]["kind"], kind, name)
        p, doc, ids = verify(self.fixtures["E002"].path)
        f = doc["files"][0]["findings"][0]
        self.assertEqual(set(f), {"id", "severity", "entry", "abi", "message", "hint"})
        self.assertEqual((f["id"], f["severity"], f["entry"], f["abi"]),
                         ("E002", "error", "lib/arm64-v8a/libdep.so", "arm64-v8a"))
        self.assertEqual(doc["summary"]["by_id"], {"E002": 1})

    def test_options(self):
        l006 = self.fixtures["L006"].path  # warnings only
        p, doc, ids = verify(l006)
        self.assertEqual((p.returncode, doc["summary"]["errors"]), (0, 0))
        self.assertGreater(doc["summary"]["warnings"], 0)
        self.assertEqual(common.sp_pack("verify", "--strict", l006).returncode, 1)
        p, doc, ids = verify(self.fixtures["E008"].path, "--ignore", "E008,E004")
        self.assertNotIn("E008", ids)
        common.sp_pack("verify", "--ignore", ",".join(CATALOGUE), l006, check=0)  # all known
        common.sp_pack("verify", "--ignore", "X999", l006, check=2)
        common.sp_pack("verify", "--page-size", "8", l006, check=2)
        common.sp_pack("verify", check=2)
        common.sp_pack("verify", os.path.join(self.work, "missing.apk"), check=1)
        # Several paths: one report, the worst result.
        p = common.sp_pack("verify", "--json", self.fixtures["clean-apk"].path,
                           self.fixtures["E008"].path)
        doc = json.loads(p.stdout)
        self.assertEqual(len(doc["files"]), 2)
        self.assertEqual(p.returncode, 1)
        self.assertIn("2 files checked", common.sp_pack(
            "verify", self.fixtures["clean-apk"].path, self.fixtures["clean-dir"].path,
            check=0).stdout)

    def test_ls(self):
        p = common.sp_pack("ls", self.fixtures["clean-apk"].path, check=0)
        rows = [l.split() for l in p.stdout.splitlines() if l.startswith("  ")]
        libs = [r for r in rows if r[-1].startswith("lib/")]
        self.assertEqual(sorted(r[-1] for r in libs),
                         ["lib/arm64-v8a/libdep.so", "lib/arm64-v8a/libmod.so",
                          "lib/x86_64/libdep.so", "lib/x86_64/libmod.so"])
        for r in libs:
            self.assertEqual(int(r[1]) % 16384, 0)
            self.assertIn(r[2], ("16384", "65536"))
        self.assertIn("assets/stdlib.zip  (1 markers)", p.stdout)
        self.assertRegex(p.stdout, r"arm64-v8a\s+2 libraries")
        p = common.sp_pack("ls", self.fixtures["clean-apks"].path, check=0)
        self.assertIn("splits/base-arm64_v8a.apk!/lib/arm64-v8a/libmod.so", p.stdout)
        self.assertRegex(p.stdout, r"x86_64\s+2 libraries")
        p = common.sp_pack("ls", self.fixtures["clean-dir"].path, check=0)
        self.assertIn("jniLibs/x86_64/libmod.so", p.stdout)
        common.sp_pack("ls", os.path.join(self.work, "missing"), check=1)
        common.sp_pack("ls", check=2)


class VerifyRealTest(common.TempDirTestCase):
    def pack_apk(self, page):
        apk = os.path.join(self.tmp, "real-%s.apk" % page)
        common.sp_pack(*common.pack_args(os.path.join(self.tmp, "out-%s" % page),
                                         ["arm64-v8a", "x86_64"],
                                         extra=["-q", "--apk", apk, "--page-size", page]), check=0)
        return apk

    def test_debian_cpython_apk(self):
        apk = self.pack_apk("16")
        p, doc, ids = verify(apk)
        self.assertEqual(p.returncode, 1)
        # glibc builds are flagged, and x86_64's 4 KB segments; arm64's are 64 KB.
        self.assertIn("E008", ids)
        e004 = [f for f in doc["files"][0]["findings"] if f["id"] == "E004"]
        self.assertTrue(e004)
        self.assertEqual({f["abi"] for f in e004}, {"x86_64"})
        # Nothing on the zip and lib layers, and the Python layout resolves.
        self.assertFalse([i for i in ids if i[0] in "ZLP"], sorted(set(ids)))

    def test_page_size(self):
        apk = self.pack_apk("4")
        _, _, ids = verify(apk, "--page-size", "4")
        self.assertFalse([i for i in ids if i[0] in "ZL"], sorted(set(ids)))
        _, _, ids = verify(apk)
        self.assertIn("L002", ids)


if __name__ == "__main__":
    common.main()
