"""APK layout, judged by Android's own tools: pack --apk and align, with
libziparchive (Android's zip reader), zipalign, aapt and apksigner."""

import os
import shutil
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

ANDROID_ZIP_CHECK = os.environ.get("SP_PACK_ANDROID_ZIP_CHECK", "android_zip_check")
FRAMEWORK = "/usr/share/android-framework-res/framework-res.apk"
MANIFEST = """<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android"
    package="org.example.sppack" android:versionCode="1" android:versionName="1.0">
    <uses-sdk android:minSdkVersion="24" android:targetSdkVersion="34" />
    <application android:label="sp-pack test" android:hasCode="false"
        android:extractNativeLibs="false" />
</manifest>
"""


def android_entries(apk):
    """[(method, data offset, name)] as Android's zip reader sees them."""
    p = common.run([ANDROID_ZIP_CHECK, apk], check=0)
    out = []
    for line in p.stdout.splitlines():
        method, offset, name = line.split(" ", 2)
        out.append((int(method), int(offset), name))
    return out


def contents(apk):
    with zipfile.ZipFile(apk) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


class ApkTest(common.TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        cls.base = common.tempfile.mkdtemp(prefix="sp-pack-apk-", dir=common.TMP)
        cls.out = os.path.join(cls.base, "out")
        cls.apk = os.path.join(cls.base, "python.apk")
        common.sp_pack(*common.pack_args(cls.out, ["arm64-v8a", "x86_64"],
                                         extra=["-q", "--apk", cls.apk]), check=0)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.base, ignore_errors=True)

    def assert_aligned(self, apk, page=16384):
        libs = 0
        for method, offset, name in android_entries(apk):
            if name.startswith("lib/") and name.endswith(".so"):
                self.assertEqual(method, 0, name)
                self.assertEqual(offset % page, 0, "%s at %d" % (name, offset))
                libs += 1
            elif method == 0:
                self.assertEqual(offset % 4, 0, name)
        self.assertGreater(libs, 60)  # every stdlib module of at least one ABI

    def test_pack_apk_layout(self):
        self.assert_aligned(self.apk)
        common.run(["zipalign", "-c", "-p", "4", self.apk], check=0)
        common.sp_pack("align", "-c", self.apk, check=0)
        # The same files as the output directory, under lib/ and assets/.
        expected = {}
        for sub, prefix in (("jniLibs", "lib/"), ("assets", "assets/")):
            top = os.path.join(self.out, sub)
            for dirpath, _, files in os.walk(top):
                for f in files:
                    p = os.path.join(dirpath, f)
                    with open(p, "rb") as fh:
                        expected[prefix + os.path.relpath(p, top)] = fh.read()
        got = dict(contents(self.apk))
        self.assertEqual(got, expected)
        with zipfile.ZipFile(self.apk) as z:
            names = [i.filename for i in z.infolist()]
            self.assertEqual(names, sorted(names))
            self.assertTrue(all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist()))
        # Deterministic.
        again = os.path.join(self.tmp, "again.apk")
        common.sp_pack(*common.pack_args(os.path.join(self.tmp, "o"), ["x86_64", "arm64-v8a"],
                                         extra=["-q", "--apk", again]), check=0)
        with open(again, "rb") as a, open(self.apk, "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_page_size_4(self):
        apk = os.path.join(self.tmp, "4k.apk")
        common.sp_pack(*common.pack_args(os.path.join(self.tmp, "o"), ["x86_64"],
                                         extra=["-q", "--apk", apk, "--page-size", "4"]), check=0)
        self.assert_aligned(apk, 4096)
        common.sp_pack("align", "-c", "--page-size", "4", apk, check=0)
        p = common.sp_pack("align", "-c", apk, check=1)
        self.assertIn("lib/x86_64/", p.stdout)
        self.assertIn("not a multiple of 16384", p.stdout)

    def test_apk_failure_keeps_previous_outputs(self):
        out = os.path.join(self.tmp, "keep")
        common.sp_pack(*common.pack_args(out, ["x86_64"], site=False), check=0)
        before = common.snapshot(out)
        bad_apk = os.path.join(self.tmp, "no-such-dir", "x.apk")
        p = common.sp_pack(*common.pack_args(out, ["x86_64"], extra=["--apk", bad_apk]), check=3)
        self.assertIn(bad_apk, p.stderr)
        self.assertEqual(common.snapshot(out), before)

    def make_app(self):
        """An APK as a build would make it: aapt's base with the manifest, the
        packed content added, then zipalign -p 4 (4 KB pages)."""
        mdir = os.path.join(self.tmp, "manifest")
        os.makedirs(mdir)
        with open(os.path.join(mdir, "AndroidManifest.xml"), "w") as f:
            f.write(MANIFEST)
        base = os.path.join(self.tmp, "base.apk")
        common.run(["aapt", "package", "-f", "-M", os.path.join(mdir, "AndroidManifest.xml"),
                    "-I", FRAMEWORK, "-F", base], check=0)
        merged = os.path.join(self.tmp, "merged.apk")
        with zipfile.ZipFile(base) as b, zipfile.ZipFile(self.apk) as p, \
                zipfile.ZipFile(merged, "w") as m:
            for src in (b, p):
                for info in src.infolist():
                    m.writestr(info, src.read(info), compress_type=info.compress_type)
        app = os.path.join(self.tmp, "app-4k.apk")
        common.run(["zipalign", "-f", "-p", "4", merged, app], check=0)
        return app

    def test_align_then_sign(self):
        app = self.make_app()
        p = common.sp_pack("align", "-c", app, check=1)
        self.assertIn("lib/arm64-v8a/", p.stdout)
        aligned = os.path.join(self.tmp, "app.apk")
        common.sp_pack("align", app, aligned, check=0)
        self.assertEqual(contents(aligned), contents(app))  # same entries, same order
        common.sp_pack("align", "-c", aligned, check=0)
        common.run(["zipalign", "-c", "-p", "4", aligned], check=0)
        self.assert_aligned(aligned)
        badging = common.run(["aapt", "dump", "badging", aligned], check=0).stdout
        self.assertIn("native-code: 'arm64-v8a' 'x86_64'", badging)
        # Sign with apksigner: verification passes and alignment survives.
        ks = os.path.join(self.tmp, "test.jks")
        common.run(["keytool", "-genkeypair", "-keystore", ks, "-storepass", "android",
                    "-keypass", "android", "-alias", "k", "-keyalg", "RSA", "-keysize", "2048",
                    "-validity", "10000", "-dname", "CN=sp-pack-test"], check=0)
        signed = os.path.join(self.tmp, "app-signed.apk")
        common.run(["apksigner", "sign", "--ks", ks, "--ks-pass", "pass:android",
                    "--out", signed, aligned], check=0)
        v = common.run(["apksigner", "verify", "-v", signed], check=0).stdout
        self.assertIn("Verified using v2 scheme (APK Signature Scheme v2): true", v)
        self.assert_aligned(signed)
        common.sp_pack("align", "-c", signed, check=0)
        # Aligning a signed APK would break it: refused, nothing written.
        refused = os.path.join(self.tmp, "refused.apk")
        p = common.sp_pack("align", signed, refused, check=1)
        self.assertIn("signed APK", p.stderr)
        self.assertFalse(os.path.exists(refused))
        self.assertEqual([f for f in os.listdir(self.tmp) if "sp-pack-tmp" in f], [])

    def test_align_in_place_and_errors(self):
        app = self.make_app()
        before = contents(app)
        common.sp_pack("align", app, check=0)
        self.assertEqual(contents(app), before)
        common.sp_pack("align", "-c", app, check=0)
        junk = os.path.join(self.tmp, "junk.apk")
        with open(junk, "wb") as f:
            f.write(b"not a zip at all")
        p = common.sp_pack("align", "-c", junk, check=1)
        self.assertIn("not a zip", p.stderr)
        common.sp_pack("align", os.path.join(self.tmp, "missing.apk"), check=3)
        common.sp_pack("align", check=2)
        common.sp_pack("align", "-c", app, "x", check=2)
        common.sp_pack("align", "--page-size", "8", app, check=2)


if __name__ == "__main__":
    common.main()
