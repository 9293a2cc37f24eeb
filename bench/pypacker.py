"""A straightforward Python packer producing sp-pack's layout, as a
baseline for bench/run.py (not a product: no ELF checks, no collisions).

    python3 bench/pypacker.py OUT --stdlib ABI=DIR... --site-packages ABI=DIR... [--exclude NAME...]
"""

import argparse
import hashlib
import os
import re
import shutil
import zipfile

MODULE = re.compile(r"^([^.]+)\.(cpython-[^.]+|abi3)\.so$")
DATE = (1980, 1, 1, 0, 0, 0)


def walk(root, stdlib, exclude):
    for dirpath, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and d not in exclude and
                         not (stdlib and not rel_dir and d in ("site-packages", "dist-packages")))
        for f in sorted(files):
            if f in exclude:
                continue
            rel = os.path.join(rel_dir, f)
            if stdlib and rel.startswith("lib-dynload/"):
                rel = rel[len("lib-dynload/"):]
            yield rel, os.path.join(dirpath, f)


def write_zip(path, entries):
    """entries: {name: bytes}; stored, sorted, with directory entries."""
    names = set(entries)
    for n in list(entries):
        parts = n.split("/")[:-1]
        for k in range(1, len(parts) + 1):
            names.add("/".join(parts[:k]) + "/")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for n in sorted(names, key=lambda x: x.encode()):
            info = zipfile.ZipInfo(n, DATE)
            info.external_attr = (0o40755 if n.endswith("/") else 0o100644) << 16
            z.writestr(info, b"" if n.endswith("/") else entries[n])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--stdlib", nargs="+", default=[])
    ap.add_argument("--site-packages", nargs="+", default=[])
    ap.add_argument("--exclude", nargs="+", default=[])
    o = ap.parse_args()
    files = {"stdlib": {}, "sitepackages": {}}  # zip -> name -> {abi: (digest, data)}
    for zname, specs in (("stdlib", o.stdlib), ("sitepackages", o.site_packages)):
        for spec in specs:
            abi, root = spec.split("=", 1)
            for rel, path in walk(root, zname == "stdlib", set(o.exclude)):
                base = os.path.basename(rel)
                m = MODULE.match(base)
                if m:
                    parts = [p for p in os.path.dirname(rel).split("/") if p] + [m.group(1)]
                    lib = "lib" + "-".join(parts) + ".so"
                    dst = os.path.join(o.out, "jniLibs", abi, lib)
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    shutil.copyfile(path, dst)
                    rel, data = "/".join(parts) + ".soref", lib.encode()
                else:
                    with open(path, "rb") as f:
                        data = f.read()
                files[zname].setdefault(rel, {})[abi] = (hashlib.blake2b(data).digest(), data)
    os.makedirs(os.path.join(o.out, "assets"), exist_ok=True)
    for zname, entries in files.items():
        common, overlays = {}, {}
        for rel, per_abi in entries.items():
            if len({d for d, _ in per_abi.values()}) == 1:
                common[rel] = next(iter(per_abi.values()))[1]
            else:
                for abi, (_, data) in per_abi.items():
                    overlays.setdefault(abi, {})[rel] = data
        if zname == "stdlib":
            common["_sp_bootstrap.py"] = b"# bootstrap\n"
        write_zip(os.path.join(o.out, "assets", zname + ".zip"), common)
        for abi, ov in overlays.items():
            write_zip(os.path.join(o.out, "assets", "%s-%s.zip" % (zname, abi)), ov)


if __name__ == "__main__":
    main()
