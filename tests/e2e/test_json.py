"""Every JSON document sp-pack prints carries "format" and matches its
schema in docs/schema/, on real output: pack of Debian's stdlib and numpy
(with findings, overlays and warnings), a pack --strict refusal, verify of
clean and broken archives, ls of an APK and a directory."""

import json
import os
import sys

import jsonschema
from jsonschema.validators import Draft202012Validator

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

SCHEMAS = os.path.join(common.SOURCE_DIR, "docs", "schema")


def load(name):
    with open(os.path.join(SCHEMAS, name)) as f:
        return json.load(f)


def validator(name):
    store = {n: load(n) for n in os.listdir(SCHEMAS) if n.endswith(".json")}
    resolver = jsonschema.RefResolver(base_uri="", referrer=store[name], store=store)
    Draft202012Validator.check_schema(store[name])
    return Draft202012Validator(store[name], resolver=resolver)


class JsonTest(common.TempDirTestCase):
    def check(self, schema, doc):
        errors = sorted(validator(schema).iter_errors(doc), key=str)
        self.assertEqual([], ["%s at %s" % (e.message, list(e.path)) for e in errors[:5]])

    def test_pack_verify_ls(self):
        out, apk = os.path.join(self.tmp, "out"), os.path.join(self.tmp, "app.apk")
        p = common.sp_pack(*common.pack_args(out, ["arm64-v8a", "x86_64"],
                                             extra=["--json", "--apk", apk]), check=0)
        doc = json.loads(p.stdout)
        self.check("pack.schema.json", doc)
        self.assertTrue(doc["findings"] and doc["overlaid"] and doc["modules"])
        with open(os.path.join(out, "sp-pack.json")) as f:
            manifest = json.load(f)
        self.check("pack.schema.json", manifest)
        self.assertNotIn("warnings", manifest)
        # A refusal under --strict prints a document too.
        p = common.sp_pack(*common.pack_args(os.path.join(self.tmp, "no"), ["x86_64"],
                                             extra=["--json", "--strict"]), check=1)
        refused = json.loads(p.stdout)
        self.check("pack.schema.json", refused)
        self.assertEqual(refused["outputs"], [])
        for target, code in ((apk, 1), (out, 1)):
            p = common.sp_pack("verify", "--json", target, check=code)
            self.check("verify.schema.json", json.loads(p.stdout))
        junk = os.path.join(self.tmp, "junk.apk")
        with open(junk, "wb") as f:
            f.write(b"not a zip")
        self.check("verify.schema.json",
                   json.loads(common.sp_pack("verify", "--json", junk, check=1).stdout))
        self.assertEqual(sorted(doc["size"]), ["arm64-v8a", "x86_64"])
        self.assertTrue(doc["packages"])
        for target in (apk, out):
            ls = json.loads(common.sp_pack("ls", "--json", target, check=0).stdout)
            self.check("ls.schema.json", ls)
            self.assertEqual(len(ls["libraries"]), 2 * len(manifest["modules"]))
            self.assertEqual(ls["size"], doc["size"])
            self.assertEqual(ls["packages"], doc["packages"])

    def test_smaller_apps(self):
        """--strip and --exclude-preset give their keys; a no-op repack the same document."""
        out = os.path.join(self.tmp, "small")
        args = common.pack_args(out, ["x86_64"], extra=[
            "--json", "--strip", "--exclude-preset", "tests", "--exclude-preset", "build"])
        doc = json.loads(common.sp_pack(*args, check=0).stdout)
        self.check("pack.schema.json", doc)
        self.assertEqual(sorted(doc["presets"]), ["build", "tests"])
        self.assertIn("strip", doc)
        self.assertIn("x86_64", doc["size"])
        again = json.loads(common.sp_pack(*args, check=0).stdout)
        self.assertEqual(again, doc)

    def test_schemas_catch_mistakes(self):
        """The schemas can fail: a document with a wrong format or a bad
        finding does not validate."""
        bad = {"format": 2, "files": [], "summary": {"errors": 0, "warnings": 0, "by_id": {}}}
        self.assertTrue(list(validator("verify.schema.json").iter_errors(bad)))
        finding = {"id": "E04", "severity": "fatal", "entry": None, "abi": None,
                   "message": "", "hint": ""}
        self.assertTrue(list(validator("finding.schema.json").iter_errors(finding)))
        # A size report without its download estimate, or a package without a name.
        size = {"format": 1, "path": "x", "kind": "dir", "libraries": [], "python": [], "abis": {},
                "common_bytes": 0, "size": {"x86_64": {"install": 3}}, "packages": []}
        self.assertTrue(list(validator("ls.schema.json").iter_errors(size)))
        size["size"] = {"x86_64": {"install": 3, "download": 1}}
        self.assertFalse(list(validator("ls.schema.json").iter_errors(size)))
        size["packages"] = [{"name": "", "bytes": -1}]
        self.assertTrue(list(validator("ls.schema.json").iter_errors(size)))


if __name__ == "__main__":
    common.main()
