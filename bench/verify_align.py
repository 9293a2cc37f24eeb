"""Benchmark: sp-pack verify and align against zipalign on one large APK.

    python3 bench/verify_align.py [--runs N] [--sp-pack PATH]

Builds (once, in $SP_PACK_CACHE/bench) a >= 100 MB four-ABI APK: Debian's
CPython 3.11 stdlib and numpy for arm64-v8a, armeabi-v7a, x86 and x86_64
packed and injected into an aapt base APK, padded with a stored asset.
Then runs each pair of commands alternately N times (default 7) on a warm
page cache and prints medians and ratios:

    sp-pack verify   vs  zipalign -c -p 4      (target: ratio <= 2)
    sp-pack align    vs  zipalign -f -p 4      (target: ratio <= 1)

A benchmark, not a test: it prints numbers and never fails on them."""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("SP_PACK_CACHE", os.path.expanduser("~/.cache/sp-pack"))
ABIS = ["arm64-v8a", "armeabi-v7a", "x86", "x86_64"]
MIN_SIZE = 100 * 1024 * 1024


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)


def build_apk(sp_pack, work):
    apk = os.path.join(work, "big.apk")
    if os.path.exists(apk):
        return apk
    os.makedirs(work, exist_ok=True)
    run([os.path.join(TOP, "scripts/fetch-inputs.sh")] + ABIS)
    packed = os.path.join(work, "packed")
    args = [sp_pack, "pack", "--out", packed, "-q", "--exclude", "sitecustomize.py", "--stdlib"]
    args += ["%s=%s/%s/root/usr/lib/python3.11" % (a, CACHE, a) for a in ABIS]
    args += ["--site-packages"]
    args += ["%s=%s/%s/root/usr/lib/python3/dist-packages" % (a, CACHE, a) for a in ABIS]
    run(args)
    base = os.path.join(work, "base.apk")
    run(["aapt", "package", "-f", "-M", os.path.join(TOP, "examples/ci/AndroidManifest.xml"),
         "-I", "/usr/share/android-framework-res/framework-res.apk", "-F", base])
    # Pad the base to reach the size of a large app.
    size = sum(os.path.getsize(os.path.join(d, f))
               for d, _, fs in os.walk(packed) for f in fs)
    if size < MIN_SIZE:
        with zipfile.ZipFile(base, "a", zipfile.ZIP_STORED) as z:
            z.writestr("assets/padding.bin", os.urandom(MIN_SIZE - size + (4 << 20)))
    run([sp_pack, "inject", "--into", base, "--from", packed, "-o", apk])
    return apk


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def compare(name, ours, theirs, runs):
    timed(ours), timed(theirs)  # warm the page cache
    a, b = [], []
    for _ in range(runs):
        a.append(timed(ours))
        b.append(timed(theirs))
    ma, mb = statistics.median(a), statistics.median(b)
    print("%-34s %8.1f ms   %-26s %8.1f ms   ratio %.2f" % (
        " ".join(os.path.basename(c) if i == 0 else c for i, c in enumerate(ours[:2])), ma * 1e3,
        " ".join(theirs[:3]), mb * 1e3, ma / mb))
    return ma / mb


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--sp-pack", default=os.path.join(TOP, "build", "sp-pack"))
    o = ap.parse_args()
    work = os.path.join(CACHE, "bench")
    apk = build_apk(o.sp_pack, work)
    out = os.path.join(work, "out.apk")
    print("APK: %s, %.1f MiB, %d entries" % (apk, os.path.getsize(apk) / 2**20,
                                             len(zipfile.ZipFile(apk).namelist())))
    compare("verify", [o.sp_pack, "verify", apk], ["zipalign", "-c", "-p", "4", apk], o.runs)
    compare("align", [o.sp_pack, "align", apk, out], ["zipalign", "-f", "-p", "4", apk, out],
            o.runs)


if __name__ == "__main__":
    sys.exit(main())
