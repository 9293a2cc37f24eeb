"""inject, judged by Android's tools: the release pipeline of
examples/ci/release.sh (aapt, inject, apksigner), the signed APK booting
Debian's arm64 python3.11 under qemu, signed inputs, --replace, per-ABI
splits, and App Bundles whose protobufs protoc --decode_raw reads back."""

import os
import re
import shutil
import sys
import zipfile

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import runtime  # noqa: E402
from test_apk import android_entries  # noqa: E402
from test_runtime_qemu import qemu_env  # noqa: E402

RELEASE = os.path.join(common.SOURCE_DIR, "examples/ci/release.sh")


def names(apk):
    with zipfile.ZipFile(apk) as z:
        return [i.filename for i in z.infolist()]


def decode_raw(data):
    # Bytes in, text out: a message over 127 bytes has length bytes >= 0x80.
    p = common.subprocess.run(["protoc", "--decode_raw"], input=data, capture_output=True,
                              check=True)
    return p.stdout.decode("utf-8", "replace")


class InjectTest(common.TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = common.tempfile.mkdtemp(prefix="sp-pack-release-", dir=common.TMP)
        p = common.run(["bash", RELEASE, cls.work], env={"SP_PACK": common.SP_PACK}, check=0)
        cls.release_log = p.stdout
        cls.packed = os.path.join(cls.work, "packed")
        cls.base = os.path.join(cls.work, "base.apk")
        cls.app = os.path.join(cls.work, "app.apk")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_release_pipeline(self):
        # It says what it ignored and why, and claims no clean pass.
        self.assertIn("ignoring E004,E007,E008,E011: the example's inputs are Debian's glibc",
                      self.release_log)
        self.assertIn("NOT loadable on Android", self.release_log)
        self.assertNotIn("passes sp-pack verify", self.release_log)
        self.assertIn("0 errors, 0 warnings", self.release_log)
        # Without the ignores, the glibc builds are what verify finds, and only them.
        p = common.sp_pack("verify", "--json", self.app, check=1)
        ids = {f["id"] for f in __import__("json").loads(p.stdout)["files"][0]["findings"]}
        self.assertTrue(ids)
        self.assertTrue(ids <= {"E004", "E007", "E008", "E011"}, ids)
        entries = android_entries(self.app)  # Android's zip reader opens it
        libs = [(m, o, n) for m, o, n in entries if n.startswith("lib/") and n.endswith(".so")]
        self.assertGreater(len(libs), 120)
        for method, offset, name in libs:
            self.assertEqual((method, offset % 16384), (0, 0), name)
        self.assertEqual(names(self.app)[0], "AndroidManifest.xml")  # aapt's entries first
        common.run(["zipalign", "-c", "-p", "4", self.app], check=0)
        badging = common.run(["aapt", "dump", "badging", self.app], check=0).stdout
        self.assertIn("native-code: 'arm64-v8a' 'x86_64'", badging)
        v = common.run(["apksigner", "verify", "-v", self.app], check=0).stdout
        self.assertIn("Verified using v2 scheme (APK Signature Scheme v2): true", v)
        # Every packed file is in the APK with its bytes.
        with zipfile.ZipFile(self.app) as z:
            with open(os.path.join(self.packed, "assets/stdlib.zip"), "rb") as f:
                self.assertEqual(z.read("assets/stdlib.zip"), f.read())
            with open(os.path.join(self.packed, "jniLibs/x86_64/lib_bz2.so"), "rb") as f:
                self.assertEqual(z.read("lib/x86_64/lib_bz2.so"), f.read())
        # Same inputs, same bytes.
        again = os.path.join(self.tmp, "again.apk")
        unsigned = os.path.join(self.work, "unsigned.apk")
        common.sp_pack("inject", "--into", self.base, "--from", self.packed, "-o", again, check=0)
        with open(again, "rb") as a, open(unsigned, "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_signed_apk_runs_on_arm64(self):
        qemu = shutil.which("qemu-aarch64-static")
        self.assertIsNotNone(qemu)
        unpacked = os.path.join(self.tmp, "unpacked")
        with zipfile.ZipFile(self.app) as z:
            for n in z.namelist():
                if n.startswith("lib/arm64-v8a/"):
                    z.extract(n, unpacked)
                elif n.startswith("assets/"):
                    z.extract(n, unpacked)
        os.rename(os.path.join(unpacked, "lib"), os.path.join(unpacked, "jniLibs"))
        abi_root = common.root("arm64-v8a")
        p = runtime.boot(unpacked, "arm64-v8a", os.path.join(self.tmp, "home"),
                         os.path.join(abi_root, "usr/bin/python3.11"),
                         prefix=[qemu, "-L", abi_root], env=qemu_env(abi_root))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('"machine": "aarch64"', p.stdout)
        self.assertIn("libnumpy-core-_multiarray_umath.so", p.stdout)

    def test_signed_input_refused_or_stripped(self):
        out = os.path.join(self.tmp, "out.apk")
        p = common.sp_pack("inject", "--into", self.app, "--from", self.packed, "-o", out,
                           check=1)
        self.assertIn("signed", p.stderr)
        self.assertIn("--strip-signature", p.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertEqual([f for f in os.listdir(self.tmp) if "sp-pack-tmp" in f], [])
        # A v1-signed APK too (signature files, no signing block).
        v1 = os.path.join(self.tmp, "v1.apk")
        with zipfile.ZipFile(self.base) as b, zipfile.ZipFile(v1, "w") as z:
            for i in b.infolist():
                z.writestr(i, b.read(i))
            z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
            z.writestr("META-INF/CERT.SF", "Signature-Version: 1.0\n")
            z.writestr("META-INF/CERT.RSA", b"\x30\x82")
        common.sp_pack("inject", "--into", v1, "--from", self.packed, "-o", out, check=1)
        # --strip-signature drops the signature; signing again works.
        common.sp_pack("inject", "--into", self.app, "--from", self.packed, "-o", out,
                       "--strip-signature", "--replace", check=0)
        self.assertFalse([n for n in names(out) if n.startswith("META-INF/")])
        common.run(["apksigner", "verify", out], check=1)  # unsigned now
        common.sp_pack("align", "-c", out, check=0)

    def test_replace(self):
        out = os.path.join(self.tmp, "twice.apk")
        unsigned = os.path.join(self.work, "unsigned.apk")
        p = common.sp_pack("inject", "--into", unsigned, "--from", self.packed, "-o", out, check=1)
        self.assertIn("is already there", p.stderr)
        self.assertIn("--replace", p.stderr)
        common.sp_pack("inject", "--into", unsigned, "--from", self.packed, "-o", out,
                       "--replace", check=0)
        self.assertEqual(sorted(names(out)), sorted(names(unsigned)))

    def test_abi_split_content(self):
        out = os.path.join(self.tmp, "split.apk")
        common.sp_pack("inject", "--into", self.base, "--from", self.packed, "-o", out,
                       "--abi", "arm64-v8a", "--no-assets", check=0)
        added = [n for n in names(out) if n != "AndroidManifest.xml"]
        self.assertTrue(added)
        self.assertTrue(all(n.startswith("lib/arm64-v8a/") for n in added), added[:5])
        p = common.sp_pack("inject", "--into", self.base, "--from", self.packed, "-o", out,
                           "--abi", "x86", check=1)
        self.assertIn("no libraries for x86", p.stderr)
        common.sp_pack("inject", "--into", self.base, "-o", out, check=2)
        common.sp_pack("inject", "--into", self.base, "--from", self.packed, "-o", out,
                       "--abi", "mips", check=2)

    def make_aab(self):
        aab = os.path.join(self.tmp, "app.aab")
        # BundleConfig { bundletool { version: "1.15.6" } compression { uncompressed_glob: "res/raw/**" } }
        config = b"\x0a\x08\x12\x061.15.6" + b"\x1a\x0c\x0a\x0ares/raw/**"
        # NativeLibraries { directory { path: "lib/x86" targeting { abi { alias: X86 } } } }
        native = b"\x0a\x0f\x0a\x07lib/x86\x12\x04\x0a\x02\x08\x04"
        with zipfile.ZipFile(aab, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("BundleConfig.pb", config)
            z.writestr("base/manifest/AndroidManifest.xml", b"\x0a\x00 proto manifest")
            z.writestr("base/native.pb", native)
            with open(os.path.join(common.ELF_FIXTURES, "libdep-x86.so"), "rb") as f:
                z.writestr("base/lib/x86/libdep.so", f.read(), zipfile.ZIP_STORED)
        return aab

    def test_bundle(self):
        aab = self.make_aab()
        out = os.path.join(self.tmp, "out.aab")
        common.sp_pack("inject", "--into", aab, "--from", self.packed, "-o", out, check=0)
        with zipfile.ZipFile(out) as z:
            all_names = z.namelist()
            native = decode_raw(z.read("base/native.pb"))
            config = decode_raw(z.read("BundleConfig.pb"))
            self.assertEqual(z.getinfo("base/manifest/AndroidManifest.xml").compress_type,
                             zipfile.ZIP_DEFLATED)  # copied as it was
        self.assertIn("base/lib/arm64-v8a/lib_bz2.so", all_names)
        self.assertIn("base/assets/stdlib.zip", all_names)
        self.assertFalse([n for n in all_names if n.startswith(("lib/", "assets/"))])
        # native.pb: the original lib/x86 entry kept, arm64-v8a and x86_64 added.
        dirs = re.findall(r'1: "(lib/[^"]+)"\s*2 \{\s*1 \{\s*1: (\d+)', native)
        self.assertEqual(dirs, [("lib/x86", "4"), ("lib/arm64-v8a", "3"), ("lib/x86_64", "5")])
        # BundleConfig.pb: bundletool version and the old glob kept, the zips added.
        self.assertIn('2: "1.15.6"', config)
        globs = re.findall(r'1: "([^"]+)"', config.split("3 {", 1)[1])
        self.assertIn("res/raw/**", globs)
        for zname in ("assets/stdlib.zip", "assets/sitepackages.zip",
                      "assets/sitepackages-arm64-v8a.zip", "assets/sitepackages-x86_64.zip"):
            self.assertIn(zname, globs)
        for method, offset, name in android_entries(out):
            if name.startswith("base/lib/") and name.endswith(".so"):
                self.assertEqual((method, offset % 16384), (0, 0), name)
        # Injecting again with --replace adds no second native.pb entry or glob.
        again = os.path.join(self.tmp, "again.aab")
        common.sp_pack("inject", "--into", out, "--from", self.packed, "-o", again,
                       "--replace", check=0)
        with zipfile.ZipFile(again) as z:
            self.assertEqual(z.read("base/native.pb"), zipfile.ZipFile(out).read("base/native.pb"))
            self.assertEqual(z.read("BundleConfig.pb"), zipfile.ZipFile(out).read("BundleConfig.pb"))
        # An .aab without BundleConfig.pb is refused.
        bad = os.path.join(self.tmp, "bad.aab")
        shutil.copy(self.base, bad)
        p = common.sp_pack("inject", "--into", bad, "--from", self.packed, "-o", out, check=1)
        self.assertIn("BundleConfig.pb", p.stderr)


if __name__ == "__main__":
    common.main()
