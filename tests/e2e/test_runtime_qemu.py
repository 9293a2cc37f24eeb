"""Debian's arm64 python3.11, run under qemu-aarch64-static with its runtime
libraries unpacked from arm64 .debs, imports numpy and sqlite3 through the
finder from jniLibs/arm64-v8a."""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import runtime  # noqa: E402


def qemu_env(abi_root):
    multiarch = "/usr/lib/aarch64-linux-gnu"
    return {
        # Debian's BLAS and LAPACK live behind alternatives the .debs do not create.
        "LD_LIBRARY_PATH": ":".join(os.path.join(abi_root + multiarch, d) for d in ("blas", "lapack")),
    }


class RuntimeQemuTest(common.TempDirTestCase):
    def test_arm64_imports_numpy_and_sqlite3(self):
        qemu = shutil.which("qemu-aarch64-static")
        self.assertIsNotNone(qemu, "qemu-user-static is not installed")
        abi_root = common.root("arm64-v8a")
        python = os.path.join(abi_root, "usr/bin/python3.11")
        self.assertTrue(os.path.exists(python), "arm64 python3.11 not unpacked")
        out = os.path.join(self.tmp, "out")
        common.sp_pack(*common.pack_args(out, ["arm64-v8a", "x86_64"], extra=["-q"]), check=0)
        p = runtime.boot(out, "arm64-v8a", os.path.join(self.tmp, "home"), python,
                         prefix=[qemu, "-L", abi_root], env=qemu_env(abi_root))
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout.strip().splitlines()[-1])
        natives = os.path.join(out, "jniLibs", "arm64-v8a")
        self.assertEqual(r["machine"], "aarch64")
        self.assertEqual(r["multiarray"], os.path.join(natives, "libnumpy-core-_multiarray_umath.so"))
        self.assertEqual(r["sqlite3"], os.path.join(natives, "lib_sqlite3.so"))
        self.assertEqual(r["numpy_config"],
                         os.path.join(out, "assets", "sitepackages-arm64-v8a.zip/numpy/__config__.py"))


if __name__ == "__main__":
    common.main()
