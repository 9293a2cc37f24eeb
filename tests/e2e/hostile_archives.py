"""Hostile archives, written byte by byte (zipfile refuses most of them):
unsafe and duplicate entry names, names that try to forge report lines,
and zip bombs.

    python3 hostile_archives.py OUT_DIR    writes each of them (the fuzzers' seeds)
"""

import os
import struct
import sys
import zlib

MANIFEST = (b"AndroidManifest.xml", b"\x03\x00\x08\x00 not really binary XML")

# Entry names inject and align refuse, and verify reports (Z004, Z005).
UNSAFE_NAMES = {
    "dotdot": b"../../x",
    "absolute": b"/etc/x",
    "backslash": b"assets\\..\\x",
    "newline": b"assets/a\nsp-pack: fake: error",
    "escape": b"assets/\x1b[31mred",
    "non-utf8": b"assets/\xe9\xff.txt",
    "empty": b"",
}


def raw_zip(entries):
    """A zip of (name bytes, data bytes[, method]) entries, each with its
    local header, in the order given; method 8 deflates the data."""
    body, cd = b"", b""
    for entry in entries:
        name, data = entry[0], entry[1]
        method = entry[2] if len(entry) > 2 else 0
        crc = zlib.crc32(data)
        stored = data
        if method == 8:
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            stored = c.compress(data) + c.flush()
        off = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc,
                            len(stored), len(data), len(name), 0) + name + stored
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 20, 0, method, 0, 0x21, crc,
                          len(stored), len(data), len(name), 0, 0, 0, 0, 0o100644 << 16,
                          off) + name
    return body + cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries),
                                   len(cd), len(body), 0)


def unsafe_apk(name):
    return raw_zip([MANIFEST, (b"assets/fine.txt", b"fine"), (name, b"payload")])


def duplicate_apk():
    return raw_zip([MANIFEST, (b"assets/a.txt", b"first"), (b"assets/a.txt", b"second")])


def deflated_zeros(size):
    """Raw deflate of size zero bytes, and its CRC."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    out, crc = [], 0
    for _ in range(size >> 20):
        out.append(c.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    out.append(c.flush())
    return b"".join(out), crc


def shared_stream_bomb(names, size=256 << 20):
    """One deflate stream of size zeros (about size / 1030 bytes) under one
    local header, and a central directory whose entries all point at it:
    len(names) * size bytes inflated from a file of a few hundred KB."""
    data, crc = deflated_zeros(size)
    first = names[0]
    body = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size,
                       len(first), 0) + first + data
    cd = b""
    for n in names:
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 20, 0, 8, 0, 0x21, crc,
                          len(data), size, len(n), 0, 0, 0, 0, 0o100644 << 16, 0) + n
    return body + cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(names), len(names),
                                   len(cd), len(body), 0)


def lib_bomb(count=12, size=256 << 20):
    """The bomb of the hostile-input review: 12 libraries of 256 MiB each,
    all one deflate stream, in a 262 KB APK."""
    return shared_stream_bomb([b"lib/x86_64/lib%d.so" % i for i in range(count)], size)


def all_archives(bomb_size=256 << 20):
    """{file name: bytes} of every hostile archive."""
    out = {"unsafe-%s.apk" % k: unsafe_apk(v) for k, v in UNSAFE_NAMES.items()}
    out["duplicate.apk"] = duplicate_apk()
    out["bomb-libs.apk"] = lib_bomb(12, bomb_size)
    out["bomb-zips.apk"] = shared_stream_bomb(
        [b"assets/stdlib.zip"] + [b"assets/z%d.zip" % i for i in range(11)], bomb_size)
    return out


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, data in all_archives().items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
