"""Shared helpers for the end-to-end tests: where sp-pack and the real
inputs are, running commands, and snapshots of output directories."""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SP_PACK = os.environ.get("SP_PACK", "sp-pack")
ZIPCHECK = os.environ.get("SP_PACK_ZIPCHECK", "zipcheck")
SOURCE_DIR = os.environ.get("SP_PACK_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(
                                os.path.abspath(__file__)))))
ELF_FIXTURES = os.environ.get("SP_PACK_ELF_FIXTURES", "")
CACHE = os.environ.get("SP_PACK_CACHE", os.path.expanduser("~/.cache/sp-pack"))
TMP = os.environ.get("SP_TEST_TMP", tempfile.gettempdir())

ABIS = ["arm64-v8a", "armeabi-v7a", "x86", "x86_64"]
TRIPLET = {"arm64-v8a": "aarch64-linux-gnu", "armeabi-v7a": "arm-linux-gnueabihf",
           "x86": "i386-linux-gnu", "x86_64": "x86_64-linux-gnu"}


def root(abi):
    return os.path.join(CACHE, abi, "root")


def stdlib(abi):
    return os.path.join(root(abi), "usr/lib/python3.11")


def dist_packages(abi):
    return os.path.join(root(abi), "usr/lib/python3/dist-packages")


def run(args, env=None, check=None, **kw):
    """Runs a command, returning CompletedProcess with text output."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    p = subprocess.run(args, capture_output=True, text=True, env=full_env, **kw)
    if check is not None and p.returncode != check:
        raise AssertionError("%s exited %d, expected %d\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(map(str, args)), p.returncode, check, p.stdout, p.stderr))
    return p


def sp_pack(*args, **kw):
    return run([SP_PACK] + [str(a) for a in args], **kw)


def pack_args(out, abis, site=True, extra=()):
    """Arguments for packing Debian's stdlib (and numpy) for these ABIs."""
    args = ["pack", "--out", out, "--exclude", "sitecustomize.py", "--stdlib"]
    args += ["%s=%s" % (a, stdlib(a)) for a in abis]
    if site:
        args += ["--site-packages"] + ["%s=%s" % (a, dist_packages(a)) for a in abis]
    return args + list(extra)


def snapshot(directory):
    """{relative path: (sha256, mtime_ns)} of every file under directory, as
    its users see it: through the links of a pack output directory, without
    sp-pack's own .sp-pack/ (its generations and lock)."""
    snap = {}
    for dirpath, dirs, files in os.walk(directory, followlinks=True):
        if dirpath == directory and ".sp-pack" in dirs:
            dirs.remove(".sp-pack")
        for f in files:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            snap[os.path.relpath(p, directory)] = (digest, os.stat(p).st_mtime_ns)
    return snap


def leftovers(directory):
    """What is in a pack output directory's .sp-pack/ beyond the lock, the
    link "current" and the generation it names: what runs left behind."""
    own = os.path.join(directory, ".sp-pack")
    if not os.path.isdir(own):
        return []
    keep = {"lock", "current"}
    if os.path.islink(os.path.join(own, "current")):
        keep.add(os.readlink(os.path.join(own, "current")))
    return sorted(set(os.listdir(own)) - keep)


def tree_bytes(directory):
    return {k: v[0] for k, v in snapshot(directory).items()}


class TempDirTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sp-pack-test-", dir=TMP)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    unittest.main(verbosity=2)
