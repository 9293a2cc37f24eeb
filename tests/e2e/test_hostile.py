"""Hostile archives against verify, ls, inject and align: unsafe and
duplicate names are refused by the writers and cannot forge a report line,
JSON stays valid UTF-8, zip bombs are findings within bounded memory,
interrupted runs leave no temporary file, and messages keep their reason."""

import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import hostile_archives as ha  # noqa: E402


def run_bytes(*args):
    """sp-pack with its output as bytes, as a reader that expects UTF-8 gets it."""
    return common.subprocess.run([common.SP_PACK] + [str(a) for a in args],
                                 capture_output=True)


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


if __name__ == "__main__":
    common.main()
