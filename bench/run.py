"""sp-pack's benchmark: every speed target as a ratio against a baseline run
in the same process, alternately, several times; medians printed and written
to bench/results.md.

    python3 bench/run.py [--runs N] [--sp-pack PATH] [--out FILE] [--workdir DIR] [--size-only]

Inputs: Debian's CPython 3.11 stdlib and numpy for arm64-v8a, armeabi-v7a, x86
and x86_64 (fetched and cached by scripts/fetch-inputs.sh). Comparisons:

  pack (full, fresh output)  vs  bench/pypacker.py, same layout     target <= 0.25
  pack (full, fresh output)  vs  I/O floor: read every input byte
                                 (cat) + copy the output tree (cp -r) target <= 1.5
  pack, no-op repack         vs  pack, full                         target <= 0.10
  verify, >= 100 MB APK      vs  zipalign -c -p 4                   target <= 2
  align, same APK            vs  zipalign -f -p 4                   target <= 1
  imports from stdlib.zip    vs  the same imports from the on-disk
  built with --pyc-only          stdlib with a warm __pycache__      target <= 1.3
  (and, for reference, from a source-only stdlib.zip)
  imports read in place from vs  the same imports from copies of
  the APK (pack --apk,           the zips on disk (what an app that
  --pyc-only), numpy too         copies them at first launch gets)   target <= 1.1
  per CPython 3.11, 3.13, 3.14 and 3.15 (Debian's bookworm, trixie and
  sid interpreters, tests/e2e/interpreters.py; fetched and cached by
  scripts/fetch-python.sh), the stdlib.zip imports above against the
  suite's own on-disk stdlib with a warm __pycache__          target <= 1.3
  pack, full, with the size  vs  pack -q, full (no estimate)         (reference: what
  report (the download                                               the estimate costs)
  estimate deflates every output)

Then sizes, not times: the stdlib and numpy packed for arm64-v8a, by default and
with --strip, --pyc-only and both --exclude-preset, alone and together: the
install size and the download estimate pack reports (docs/layout.md, "The
size report"). --size-only runs just these and the size report's cost.

A benchmark, not a test: it prints numbers and never fails on them. Page
caches are warm (each command runs once before timing).

Outputs are written under --workdir, by default a tmpfs (/dev/shm) when
there is one: full packs delete the previous output just before each run,
and on an ext4 without a journal (this project's machines) every create then
skips the inodes freed in the last ~30 s, a cost that grows with each run of
the benchmark and swamps what is measured. A journaled ext4 has no such
scan. results.md names the file system used; --workdir DIR measures on
another one."""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.join(TOP, "tests", "e2e"))
import verify_align  # noqa: E402
import interpreters  # noqa: E402

CACHE = verify_align.CACHE
ABIS = verify_align.ABIS


def timed(cmd, before=None, env=None):
    if before:
        before()
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                   env=env)
    return time.perf_counter() - t


def cpu_seconds(runs, cmd, before, env):
    """Median CPU time (user + system) of cmd's process and its children."""
    import resource
    times = []
    for _ in range(runs):
        if before:
            before()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return statistics.median(times)


def compare(runs, a, b):
    """a and b: (cmd, before) pairs. Medians of alternating runs."""
    timed(*a), timed(*b)
    ta, tb = [], []
    for _ in range(runs):
        ta.append(timed(*a))
        tb.append(timed(*b))
    return statistics.median(ta), statistics.median(tb)


def tree_args(kind):
    sub = "usr/lib/python3.11" if kind == "stdlib" else "usr/lib/python3/dist-packages"
    return ["%s=%s/%s/root/%s" % (a, CACHE, a, sub) for a in ABIS]


def file_system(path):
    """The type of the file system holding path, from /proc/mounts."""
    best, kind = "", "unknown"
    try:
        with open("/proc/mounts") as f:
            for line in f:
                fields = line.split()
                mnt = fields[1]
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) > len(best):
                    best, kind = mnt, fields[2]
    except OSError:
        pass
    return "%s (%s)" % (best or "?", kind)


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores, %s %s" % (cpu, os.cpu_count() or 0, platform.system(), platform.release())


def size_table(sp_pack, work, env):
    """pack's size report for the stdlib and numpy on arm64-v8a, by option."""
    python = "/usr/bin/python3.11"
    small = ["--strip", "--pyc-only", "--python", python, "--exclude-preset", "tests",
             "--exclude-preset", "build"]
    configs = [("default", []), ("--strip", ["--strip"]),
               ("--pyc-only", ["--pyc-only", "--python", python]),
               ("--exclude-preset tests", ["--exclude-preset", "tests"]),
               ("--exclude-preset build", ["--exclude-preset", "build"]),
               ("--strip, both presets", ["--strip", "--exclude-preset", "tests",
                                          "--exclude-preset", "build"]),
               ("small: all four", small)]
    out = []
    for label, extra in configs:
        dest = os.path.join(work, "size-" + str(len(out)))
        p = subprocess.run([sp_pack, "pack", "--out", dest, "--json", "--exclude",
                            "sitecustomize.py", "--stdlib",
                            "arm64-v8a=%s/arm64-v8a/root/usr/lib/python3.11" % CACHE,
                            "--site-packages",
                            "arm64-v8a=%s/arm64-v8a/root/usr/lib/python3/dist-packages" % CACHE]
                           + extra, check=True, env=env, capture_output=True, text=True)
        size = json.loads(p.stdout)["size"]["arm64-v8a"]
        out.append((label, size))
        print("%-40s install %8.2f MiB   download %8.2f MiB" % (
            label, size["install"] / 2**20, size["download"] / 2**20))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sp-pack", default=os.path.join(TOP, "build", "sp-pack"))
    ap.add_argument("--out", default=os.path.join(TOP, "bench", "results.md"))
    ap.add_argument("--workdir", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                    help="where outputs are written (default: /dev/shm, a tmpfs, if present)")
    ap.add_argument("--size-only", action="store_true",
                    help="only the size table and what the size report costs a full pack")
    o = ap.parse_args()
    subprocess.run([os.path.join(TOP, "scripts/fetch-inputs.sh")] + ABIS, check=True)
    work = tempfile.mkdtemp(prefix="sp-pack-bench-", dir=o.workdir)
    # Full packs start from nothing: a fresh output and no remembered state.
    # The no-op repacks keep theirs.
    state = os.path.join(work, "state")
    env_full = dict(os.environ, SP_PACK_STATE_DIR=state)
    env_noop = dict(os.environ, SP_PACK_STATE_DIR=os.path.join(work, "state-noop"))
    out, pyout, noop_out = (os.path.join(work, d) for d in ("out", "pyout", "noop"))
    pack = [o.sp_pack, "pack", "-q", "--exclude", "sitecustomize.py", "--stdlib"] + \
        tree_args("stdlib") + ["--site-packages"] + tree_args("site")
    pypack = [sys.executable, os.path.join(TOP, "bench/pypacker.py"), pyout, "--exclude",
              "sitecustomize.py", "--stdlib"] + tree_args("stdlib") + ["--site-packages"] + \
        tree_args("site")
    roots = " ".join("%s/%s/root/usr/lib/python3.11 %s/%s/root/usr/lib/python3/dist-packages"
                     % (CACHE, a, CACHE, a) for a in ABIS)
    floor = ["bash", "-c", "find %s -type f -print0 | xargs -0 cat > /dev/null && "
             "rm -rf %s/copy && cp -r %s %s/copy" % (roots, work, out, work)]
    fresh = lambda d: (lambda: (shutil.rmtree(d, ignore_errors=True),
                                shutil.rmtree(state, ignore_errors=True)))
    rows = []

    def row(name, target, ours, theirs, t):
        ratio = t[0] / t[1]
        rows.append((name, ours, t[0], theirs, t[1], ratio, target))
        print("%-40s %8.1f ms   %-28s %8.1f ms   ratio %5.2f (target %s)" % (
            name, t[0] * 1e3, theirs, t[1] * 1e3, ratio, target))

    full = (pack[:2] + ["--out", out] + pack[2:], fresh(out), env_full)
    if not o.size_only:
        row("pack, full (4 ABIs, stdlib + numpy)", "<= 0.25", "sp-pack pack", "Python packer",
            compare(o.runs, full, (pypack, fresh(pyout), None)))
        subprocess.run(full[0], check=True, env=env_full)
        row("pack, full", "<= 1.5", "sp-pack pack", "I/O floor (cat + cp -r)",
            compare(o.runs, full, (floor, None, None)))
        noop = pack[:2] + ["--out", noop_out] + pack[2:]
        subprocess.run(noop, check=True, env=env_noop)
        row("pack, no-op repack", "<= 0.10", "sp-pack pack (no-op)", "sp-pack pack (full)",
            compare(o.runs, (noop, None, env_noop), full))
        apk = verify_align.build_apk(o.sp_pack, os.path.join(CACHE, "bench"))
        aligned = os.path.join(work, "aligned.apk")
        row("verify, %.0f MiB APK" % (os.path.getsize(apk) / 2**20), "<= 2", "sp-pack verify",
            "zipalign -c -p 4", compare(o.runs, ([o.sp_pack, "verify", apk], None, None),
                                        (["zipalign", "-c", "-p", "4", apk], None, None)))
        row("align, same APK", "<= 1", "sp-pack align", "zipalign -f -p 4",
            compare(o.runs, ([o.sp_pack, "align", apk, aligned], None, None),
                    (["zipalign", "-f", "-p", "4", apk, aligned], None, None)))
        # Start-up: a CPython booting from the packed stdlib.zip, as an app does.
        imports = ("json, decimal, sqlite3, email.parser, http.client, argparse, asyncio, "
                   "xml.dom.minidom, logging.handlers, zipfile")
        python = "/usr/bin/python3.11"
        boots = {}
        for label, extra in (("pyc", ["--pyc-only", "--python", python]), ("source", [])):
            pout = os.path.join(work, "boot-" + label)
            subprocess.run([o.sp_pack, "pack", "--out", pout, "-q", "--exclude", "sitecustomize.py",
                            "--stdlib", "x86_64=%s/x86_64/root/usr/lib/python3.11" % CACHE] + extra,
                           check=True, env=env_noop)
            home = os.path.join(work, "home-" + label)
            os.makedirs(os.path.join(home, "lib"))
            shutil.copyfile(os.path.join(pout, "assets/stdlib.zip"),
                            os.path.join(home, "lib/python311.zip"))
            code = ("import _sp_bootstrap; _sp_bootstrap.install(native_dir=%r); import %s"
                    % (os.path.join(pout, "jniLibs/x86_64"), imports))
            boots[label] = ([python, "-S", "-c", code], None, dict(os.environ, PYTHONHOME=home))
        on_disk = ([python, "-S", "-c", "import " + imports], None, None)
        row("imports, stdlib.zip with --pyc-only", "<= 1.3", "zip + .pyc", "on disk, warm __pycache__",
            compare(o.runs, boots["pyc"], on_disk))
        row("imports, source-only stdlib.zip", "(reference)", "zip, sources", "on disk, warm __pycache__",
            compare(o.runs, boots["source"], on_disk))
        # The same start-up on each CPython apps ship, with Debian's interpreters
        # run through their own loader (tests/e2e/interpreters.py): a --pyc-only
        # stdlib.zip compiled by that interpreter, against the suite's on-disk
        # stdlib, whose bytecode goes to a __pycache__ prefix that the untimed
        # first run of compare() fills. The same loader and interpreter either way.
        for suite, version in (("bookworm", "3.11"), ("trixie", "3.13"), ("sid", "3.14"),
                               ("sid", "3.15")):
            subprocess.run([os.path.join(TOP, "scripts/fetch-python.sh"), suite, "x86_64"],
                           check=True)
            argv, env = interpreters.command(suite, "x86_64", version)
            wrapper = os.path.join(work, "python" + version)
            with open(wrapper, "w") as f:
                f.write("#!/bin/sh\nexec %s \"$@\"\n" % " ".join("'%s'" % a for a in argv))
            os.chmod(wrapper, 0o755)
            pout = os.path.join(work, "boot-" + version)
            subprocess.run([o.sp_pack, "pack", "--out", pout, "-q", "--stdlib",
                            "x86_64=" + interpreters.stdlib(suite, "x86_64", version),
                            "--pyc-only", "--python", wrapper], check=True, env=env_noop)
            home = os.path.join(work, "home-" + version)
            os.makedirs(os.path.join(home, "lib"))
            shutil.copyfile(os.path.join(pout, "assets/stdlib.zip"),
                            os.path.join(home, "lib/python%s.zip" % version.replace(".", "")))
            code = ("import _sp_bootstrap; _sp_bootstrap.install(native_dir=%r); import %s"
                    % (os.path.join(pout, "jniLibs/x86_64"), imports))
            row("imports, CPython %s (%s), --pyc-only" % (version, suite), "<= 1.3", "zip + .pyc",
                "on disk, warm __pycache__",
                compare(o.runs, (argv + ["-S", "-c", code], None, dict(os.environ, **dict(env, PYTHONHOME=home))),
                        (argv + ["-S", "-c", "import " + imports], None, dict(os.environ, **env))))
        # The same imports and numpy, read in place from an APK (the boot set
        # assets/python/ by zipimport, then the stored zips through the finder's
        # path hook), against copies of the same zips on disk. The same
        # interpreter and finder either way; only sys.path differs.
        iout, iapk = os.path.join(work, "inplace"), os.path.join(work, "inplace.apk")
        subprocess.run([o.sp_pack, "pack", "--out", iout, "--apk", iapk, "-q", "--exclude",
                        "sitecustomize.py", "--stdlib",
                        "x86_64=%s/x86_64/root/usr/lib/python3.11" % CACHE, "--site-packages",
                        "x86_64=%s/x86_64/root/usr/lib/python3/dist-packages" % CACHE,
                        "--pyc-only", "--python", python], check=True, env=env_noop)
        copied, empty = os.path.join(work, "copied"), os.path.join(work, "empty-home")
        os.makedirs(copied)
        os.makedirs(empty)
        for z in ("stdlib.zip", "sitepackages.zip"):
            shutil.copyfile(os.path.join(iout, "assets", z), os.path.join(copied, z))
        code = ("import _sp_bootstrap; _sp_bootstrap.install(native_dir=%r, abi='x86_64', apks=[%r]); "
                "import %s, numpy" % (os.path.join(iout, "jniLibs/x86_64"), iapk, imports))
        in_place = dict(os.environ, PYTHONHOME=empty, PYTHONPATH=":".join(
            "%s/assets/%s" % (iapk, e) for e in ("python", "stdlib.zip", "sitepackages.zip")))
        from_copies = dict(os.environ, PYTHONHOME=empty, PYTHONPATH=":".join(
            os.path.join(copied, z) for z in ("stdlib.zip", "sitepackages.zip")))
        row("imports + numpy, in place from the APK", "<= 1.1", "APK, in place", "copied zips",
            compare(o.runs, ([python, "-S", "-c", code], None, in_place),
                    ([python, "-S", "-c", code], None, from_copies)))
    # What the download estimate costs: the same full pack, reporting (--json).
    report = [a for a in full[0] if a != "-q"] + ["--json"]
    row("pack, full, with the size report", "(reference)", "sp-pack pack --json",
        "sp-pack pack -q", compare(o.runs, (report, fresh(out), env_full), full))
    # Wall times move with the load on a shared machine; CPU time much less.
    cpu = (cpu_seconds(o.runs, report, fresh(out), env_full), cpu_seconds(o.runs, *full))
    print("CPU time of a full pack: %.2f s with the size report, %.2f s with -q" % cpu)
    sizes = size_table(o.sp_pack, work, env_noop)
    with open(o.out, "w") as f:
        f.write("# bench/run.py results\n\n")
        f.write("Machine: %s. Runs: %d per command, alternating, warm page cache; medians. "
                "Outputs on %s.\n\n" % (machine(), o.runs, file_system(os.path.realpath(work))))
        f.write("| comparison | sp-pack | ms | baseline | ms | ratio | target |\n")
        f.write("| --- | --- | ---: | --- | ---: | ---: | --- |\n")
        for r in rows:
            f.write("| %s | %s | %.1f | %s | %.1f | %.2f | %s |\n" % (
                r[0], r[1], r[2] * 1e3, r[3], r[4] * 1e3, r[5], r[6]))
        f.write("\nCPU time (user + system, median) of the full pack: %.2f s with the size "
                "report, %.2f s with -q.\n" % cpu)
        f.write("\nSizes: Debian's CPython 3.11 stdlib and numpy 1.24 packed for arm64-v8a, as "
                "`pack` reports them (install: stored as on the device; download: the "
                "estimate, every file deflated at level 9). `small` is `--strip --pyc-only "
                "--exclude-preset tests --exclude-preset build`.\n\n")
        f.write("| options | install MiB | download MiB | install vs default | "
                "download vs default |\n| --- | ---: | ---: | ---: | ---: |\n")
        base = sizes[0][1]
        for label, size in sizes:
            f.write("| %s | %.2f | %.2f | %+.0f%% | %+.0f%% |\n" % (
                label, size["install"] / 2**20, size["download"] / 2**20,
                100.0 * (size["install"] / base["install"] - 1),
                100.0 * (size["download"] / base["download"] - 1)))
    print("written: %s" % o.out)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
