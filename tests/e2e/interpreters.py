"""Running Debian's CPython of several suites on this x86_64 host.

scripts/fetch-python.sh SUITE ABI... unpacks a suite's interpreter(s), stdlib,
numpy, yaml, lxml, markupsafe, cryptography, bcrypt and cffi (bookworm: also
scipy) with the libraries they link into $SP_PACK_CACHE/<suite>/<abi>/root.
command() gives the argv and environment that run one of those interpreters
here:

* x86_64: through the tree's own dynamic loader, with the tree's library
  directory first on its search path, so a sid python runs on a bookworm host
  (a library missing from the tree would come from the host's directories:
  missing_libraries() is there to catch that);
* arm64-v8a: under qemu-aarch64-static -L <root>.

    argv, env = interpreters.command("sid", "arm64-v8a", "3.15")
    common.run(argv + ["-c", "import numpy"], env=env)

The interpreter finds its stdlib in the tree (env sets PYTHONHOME=<root>/usr),
or under another PYTHONHOME given as home=, for instance one whose
lib/python3XY.zip is a packed stdlib (run it with -S then). With
runtime.boot(), pass prefix=argv[:-1] and interpreter=argv[-1].

Debian's trees have no bytecode (its postinst compiles it). Nothing is ever
written into a tree: bytecode goes to $SP_PACK_CACHE/<suite>/<abi>/pycache
(PYTHONPYCACHEPREFIX), which makes the second import of numpy under qemu
several times faster than the first.

sys.executable is the tree's bin/python3.X: started directly, as a
subprocess would, it runs with this host's loader and libraries (or none, for
arm64), which is not what these commands do.
"""

import os
import re
import shutil
import subprocess

import common

# The CPython versions each suite has, as fetch-python.sh fetches them.
SUITES = {"bookworm": ("3.11",), "trixie": ("3.13",), "sid": ("3.14", "3.15")}
ABIS = ("x86_64", "arm64-v8a")
MACHINE = {"x86_64": "x86_64", "arm64-v8a": "aarch64"}
LOADER = {"x86_64": "ld-linux-x86-64.so.2", "arm64-v8a": "ld-linux-aarch64.so.1"}


def cells():
    """Every (suite, version, abi) there is an interpreter for."""
    return [(s, v, a) for s, vs in SUITES.items() for v in vs for a in ABIS]


def root(suite, abi):
    return os.path.join(common.CACHE, suite, abi, "root")


def libdir(suite, abi):
    return os.path.join(root(suite, abi), "usr/lib", common.TRIPLET[abi])


def stdlib(suite, abi, version):
    return os.path.join(root(suite, abi), "usr/lib/python" + version)


def dist_packages(suite, abi):
    return os.path.join(root(suite, abi), "usr/lib/python3/dist-packages")


def python(suite, abi, version):
    return os.path.join(root(suite, abi), "usr/bin/python" + version)


def pycache(suite, abi):
    return os.path.join(common.CACHE, suite, abi, "pycache")


def fetched(suite, abi, version):
    return os.path.exists(python(suite, abi, version))


def qemu():
    return shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")


def command(suite, abi, version, home=None):
    """(argv, env) running the suite's python<version> for abi on this host.

    Append the interpreter's arguments to argv; env holds the variables to
    set on top of the caller's (PYTHONHOME: home, or the tree's usr; where
    bytecode goes). Raises LookupError when the tree has not been fetched or
    the host cannot run it."""
    if version not in SUITES.get(suite, ()):
        raise LookupError("%s has no python%s" % (suite, version))
    exe = python(suite, abi, version)
    if not os.path.exists(exe):
        raise LookupError("%s not fetched: run scripts/fetch-python.sh %s %s" % (exe, suite, abi))
    r = root(suite, abi)
    env = {"PYTHONHOME": home or os.path.join(r, "usr"),
           "PYTHONPYCACHEPREFIX": pycache(suite, abi),
           "PYTHONDONTWRITEBYTECODE": "",   # empty: unset, whatever the caller has
           # libcrypto's own default is the host's directory (x86_64), or the
           # host's when the tree lacks one (qemu): the tree's, always.
           "OPENSSL_MODULES": os.path.join(libdir(suite, abi), "ossl-modules")}
    if abi == "x86_64":
        # The real loader file: bookworm's lib64/ld-linux-x86-64.so.2 is an
        # absolute link, which would name the host's loader.
        loader = os.path.join(libdir(suite, abi), LOADER[abi])
        return [loader, "--inhibit-cache", "--library-path", libdir(suite, abi), exe], env
    if abi == "arm64-v8a":
        q = qemu()
        if not q:
            raise LookupError("qemu-aarch64-static is not installed (scripts/install-deps.sh)")
        # trixie and later are built with pointer authentication, which qemu
        # emulates slowly with the architected algorithm: the impdef one is
        # several times faster and runs the same programs.
        return [q, "-cpu", "max,pauth-impdef=on", "-L", r, exe], env
    raise LookupError("no way to run %s here" % abi)


def run(suite, abi, version, args, home=None, env=None, **kw):
    """Runs the interpreter with args; common.run's CompletedProcess."""
    argv, e = command(suite, abi, version, home=home)
    if env:
        e.update(env)
    return common.run(argv + list(args), env=e, **kw)


def _elf_dynamic(paths):
    """{path: (NEEDED sonames, RUNPATH/RPATH directories)} of ELF files, by
    readelf (one run per hundred files: it prints "File: <path>" before each)."""
    result = {}
    for i in range(0, len(paths), 100):
        out = subprocess.run(["readelf", "-dW"] + paths[i:i + 100],
                             capture_output=True, text=True).stdout
        for chunk in re.split(r"^File: ", out, flags=re.M)[1:]:
            path, _, text = chunk.partition("\n")
            needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]", text)
            dirs = []
            for p in re.findall(r"\((?:RUNPATH|RPATH)\)\s+Library (?:runpath|rpath): \[(.*)\]", text):
                dirs += [d.replace("$ORIGIN", os.path.dirname(path)) for d in p.split(":")]
            result[path] = (needed, dirs)
    return result


def missing_libraries(suite, abi):
    """{soname: [ELF files in the tree needing it]} for every NEEDED library
    the tree does not have (in its library directory or a RUNPATH)."""
    r = root(suite, abi)
    dirs = [libdir(suite, abi), os.path.join(r, "usr/lib")]
    elves = []
    for dirpath, _, files in os.walk(os.path.join(r, "usr")):
        for f in files:
            p = os.path.join(dirpath, f)
            if not os.path.islink(p):
                with open(p, "rb") as fh:
                    if fh.read(4) == b"\x7fELF":
                        elves.append(p)
    missing = {}
    for p, (needed, runpath) in sorted(_elf_dynamic(elves).items()):
        for so in needed:
            if not any(os.path.exists(os.path.join(d, so)) for d in dirs + runpath):
                missing.setdefault(so, []).append(os.path.relpath(p, r))
    return missing
