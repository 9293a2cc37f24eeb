"""The target CPython of a pack and the extension modules it keeps, on
small trees made of Debian sid's real 3.14 and 3.15 modules
(scripts/fetch-python.sh): the version read from a stdlib's directory name
or its lib-dynload tags, --python-version and its config key, ABIs that
disagree, and which tags are kept (Android's triplets, abi3) or left out
(another X.Y, the free-threaded build, another platform), reported in the
text, with -v and in --json."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import interpreters  # noqa: E402

TRIPLET = {"x86_64": "x86_64-linux-gnu", "arm64-v8a": "aarch64-linux-gnu"}


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def real_module(abi, version, name):
    """A real extension module of sid's CPython <version> for abi."""
    return os.path.join(interpreters.stdlib("sid", abi, version), "lib-dynload",
                        "%s.cpython-%s-%s.so" % (name, version.replace(".", ""), TRIPLET[abi]))


class TargetTest(common.TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        subprocess.run([os.path.join(common.SOURCE_DIR, "scripts", "fetch-python.sh"), "sid",
                        "x86_64", "arm64-v8a"], check=True)

    def stdlib(self, name, abi, versions):
        """A minimal stdlib tree: the modules CPython starts with, and _bz2
        of each of versions in lib-dynload."""
        src = interpreters.stdlib("sid", abi, "3.14")
        root = os.path.join(self.tmp, name)
        os.makedirs(os.path.join(root, "encodings"))
        os.makedirs(os.path.join(root, "lib-dynload"))
        for rel in ("os.py", "encodings/__init__.py", "encodings/aliases.py",
                    "encodings/utf_8.py"):
            shutil.copyfile(os.path.join(src, rel), os.path.join(root, rel))
        for v in versions:
            m = real_module(abi, v, "_bz2")
            shutil.copyfile(m, os.path.join(root, "lib-dynload", os.path.basename(m)))
        return root

    def pack(self, *args, check=0, out="out"):
        out = os.path.join(self.tmp, out)
        return out, common.sp_pack("pack", "--out", out, *args, check=check)

    def test_version_from_directory_name_then_tags(self):
        named = self.stdlib("python3.15", "x86_64", ["3.14", "3.15"])
        _, p = self.pack("--json", "--stdlib", "x86_64=" + named)
        self.assertEqual(json.loads(p.stdout)["python"], "3.15")  # the name wins
        tagged = self.stdlib("std", "x86_64", ["3.15"])
        _, p = self.pack("--json", "--stdlib", "x86_64=" + tagged)
        self.assertEqual(json.loads(p.stdout)["python"], "3.15")
        # Tags that disagree, and nothing else to tell: one line, exit 1.
        mixed = self.stdlib("mixed", "x86_64", ["3.14", "3.15"])
        out, p = self.pack("--stdlib", "x86_64=" + mixed, check=1, out="refused")
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        for text in (mixed, "_bz2.cpython-314-", "_bz2.cpython-315-", "--python-version"):
            self.assertIn(text, lines[0])
        self.assertFalse(os.path.exists(out))

    def test_python_version_keeps_its_modules_and_leaves_out_the_rest(self):
        mixed = self.stdlib("mixed", "x86_64", ["3.14", "3.15"])
        cfg = os.path.join(self.tmp, "cfg.json")
        for version, how in (("3.14", ["--python-version", "3.14"]),
                             ("3.15", ["--config", cfg]),
                             ("3.14", ["--config", cfg, "--python-version", "3.14"])):
            with open(cfg, "w") as f:
                json.dump({"python-version": "3.15"}, f)
            other = {"3.14": "3.15", "3.15": "3.14"}[version]
            out, p = self.pack("--json", "--stdlib", "x86_64=" + mixed, *how)
            doc = json.loads(p.stdout)
            self.assertEqual(doc["python"], version, how)
            kept = os.path.join(mixed, "lib-dynload",
                                os.path.basename(real_module("x86_64", version, "_bz2")))
            left = os.path.join(mixed, "lib-dynload",
                                os.path.basename(real_module("x86_64", other, "_bz2")))
            self.assertEqual(sha256(os.path.join(out, "jniLibs/x86_64/lib_bz2.so")), sha256(kept))
            self.assertEqual(doc["left_out"], [{"path": left, "why": "for CPython " + other}])
            # The text report counts them; -v names each with its reason.
            _, p = self.pack("--stdlib", "x86_64=" + mixed, *how)
            self.assertIn("packed 1 ABI into %s for CPython %s" % (out, version), p.stdout)
            self.assertIn("left out: 1 extension module built for another interpreter or "
                          "platform (-v lists them)", p.stdout)
            self.assertNotIn(left, p.stdout)
            _, p = self.pack("-v", "--stdlib", "x86_64=" + mixed, *how)
            self.assertIn("  %s (for CPython %s)" % (left, other), p.stdout)

    def test_abis_must_agree(self):
        a = interpreters.stdlib("sid", "x86_64", "3.14")
        b = interpreters.stdlib("sid", "arm64-v8a", "3.15")
        out, p = self.pack("--stdlib", "x86_64=" + a, "arm64-v8a=" + b, check=1)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn("is CPython 3.15, but %s is 3.14" % a, lines[0])
        self.assertFalse(os.path.exists(out))

    def test_bad_python_version(self):
        std = self.stdlib("std", "x86_64", ["3.14"])
        for bad in ("2.7", "3", "3.x", "", "3.14.1"):
            out, p = self.pack("--stdlib", std, "--python-version", bad, check=2)
            self.assertIn("--python-version", p.stderr)
            self.assertFalse(os.path.exists(out))

    def test_which_tags_are_kept(self):
        std = {a: self.stdlib("std-" + a, a, ["3.14"]) for a in ("x86_64", "arm64-v8a")}
        site = {}
        for abi, android in (("x86_64", "x86_64-linux-android"),
                             ("arm64-v8a", "aarch64-linux-android")):
            mod = real_module(abi, "3.14", "_lzma")
            t = site[abi] = os.path.join(self.tmp, "site-" + abi)
            names = {
                "android/_lzma.cpython-314-%s.so" % android: "kept",
                "stable/_lzma.abi3.so": "kept",
                "untagged/_lzma.so": "kept",
                "free/_lzma.cpython-314t-%s.so" % TRIPLET[abi]: "for the free-threaded build",
                "newer/_lzma.cpython-315-%s.so" % android: "for CPython 3.15",
            }
            if abi == "x86_64":
                names["x32/_lzma.cpython-314-x86_64-linux-gnux32.so"] = "for x86_64-linux-gnux32"
            for rel in names:
                os.makedirs(os.path.join(t, os.path.dirname(rel)), exist_ok=True)
                shutil.copyfile(mod, os.path.join(t, rel))
            site[abi] = (t, names, mod)
        args = ["--json", "--stdlib"] + ["%s=%s" % (a, std[a]) for a in std]
        args += ["--site-packages"] + ["%s=%s" % (a, site[a][0]) for a in site]
        out, p = self.pack(*args)
        doc = json.loads(p.stdout)
        left = {e["path"]: e["why"] for e in doc["left_out"]}
        expected_left = {}
        for abi, (t, names, mod) in site.items():
            for rel, what in names.items():
                pkg = rel.split("/")[0]
                lib = os.path.join(out, "jniLibs", abi, "lib%s-_lzma.so" % pkg)
                if what == "kept":
                    self.assertEqual(sha256(lib), sha256(mod), rel)
                else:
                    self.assertFalse(os.path.exists(lib), rel)
                    expected_left[os.path.join(t, rel)] = what
        self.assertEqual(left, expected_left)
        # A module of the target whose ELF is another ABI's is the wrong-ABI
        # error, whatever triplet its name carries.
        t = site["x86_64"][0]
        shutil.copyfile(real_module("arm64-v8a", "3.14", "_lzma"),
                        os.path.join(t, "android", "_lzma.cpython-314-x86_64-linux-android.so"))
        out2 = os.path.join(self.tmp, "out2")
        p = common.sp_pack("pack", "--out", out2, *args[1:], check=1)
        self.assertIn("_lzma.cpython-314-x86_64-linux-android.so", p.stderr)
        self.assertIn("x86_64", p.stderr)
        self.assertFalse(os.path.exists(out2))


if __name__ == "__main__":
    common.main()
