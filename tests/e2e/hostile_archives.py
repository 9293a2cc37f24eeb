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


ZERO_CHUNK = bytes(1 << 20)


def pieces_of(data):
    """Content as pieces: bytes, or an int for that many zero bytes."""
    return data if isinstance(data, list) else [data]


def each_chunk(pieces):
    for p in pieces:
        if isinstance(p, int):
            while p:
                k = min(p, len(ZERO_CHUNK))
                yield ZERO_CHUNK[:k] if k < len(ZERO_CHUNK) else ZERO_CHUNK
                p -= k
        else:
            yield p


def crc_and_size(pieces):
    crc, n = 0, 0
    for chunk in each_chunk(pieces):
        crc = zlib.crc32(chunk, crc)
        n += len(chunk)
    return crc, n


def deflate_pieces(pieces):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = [c.compress(chunk) for chunk in each_chunk(pieces)]
    out.append(c.flush())
    return b"".join(out)


def zip_pieces(entries):
    """A zip of (name bytes, content[, method]) entries as pieces: content is
    bytes or pieces (zero runs stay runs when stored); method 8 deflates."""
    out, cd, off = [], b"", 0
    for entry in entries:
        name, content = entry[0], pieces_of(entry[1])
        method = entry[2] if len(entry) > 2 else 0
        crc, size = crc_and_size(content)
        data = [deflate_pieces(content)] if method == 8 else content
        csize = crc_and_size(data)[1] if method == 8 else size
        lh = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, csize, size,
                         len(name), 0) + name
        out.append(lh)
        out.extend(data)
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 20, 0, method, 0, 0x21, crc,
                          csize, size, len(name), 0, 0, 0, 0, 0o100644 << 16, off) + name
        off += len(lh) + csize
    out.append(cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries),
                                len(cd), off, 0))
    return out


def raw_zip(entries):
    """A zip of (name bytes, data[, method]) entries, each with its local
    header, in the order given; method 8 deflates the data."""
    return b"".join(each_chunk(zip_pieces(entries)))


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


ELF_HEAD = b"\x7fELF\x02\x01\x01"


def elf_headed_libs(count, size):
    """count deflated libraries of size bytes each, an ELF magic and zeros,
    each its own stream: inflated (and kept) one after the other, they cost
    count * size bytes; inflated one at a time, size."""
    return raw_zip([MANIFEST] + [(b"lib/x86_64/lib%d.so" % i, [ELF_HEAD, size - len(ELF_HEAD)], 8)
                                 for i in range(count)])


def apks_of_members(count, size):
    """An .apks set of count deflated APKs of about size bytes each (a
    stored zero-filled asset), a few hundred KB in all."""
    members = []
    for i in range(count):
        apk = zip_pieces([MANIFEST, (b"assets/big%d.bin" % i, [size])])
        members.append((b"splits/m%d.apk" % i, apk, 8))
    return raw_zip(members)


def nested_bomb():
    """An APK whose stored stdlib.zip holds a bomb: its boot set files share
    one stream of 64 MiB."""
    inner = shared_stream_bomb([b"encodings/__init__.py", b"encodings/aliases.py",
                                b"encodings/utf_8.py", b"_sp_bootstrap.py"], 64 << 20)
    return raw_zip([MANIFEST, (b"assets/stdlib.zip", inner)] +
                   [(b"assets/python/%s.py" % m, b"# copy\n") for m in
                    (b"_sp_bootstrap", b"encodings/__init__", b"encodings/aliases",
                     b"encodings/utf_8")])


def zips_bomb(size=256 << 20):
    """The lib bomb's shape with Python zips, which verify opens as zips."""
    return shared_stream_bomb([b"assets/stdlib.zip"] + [b"assets/z%d.zip" % i for i in range(11)],
                              size)


def members_bomb():
    """An .apks set whose APKs are one deflate stream."""
    return shared_stream_bomb([b"base.apk", b"split1.apk", b"split2.apk"], 16 << 20)


def all_archives(bomb_size=256 << 20):
    """{file name: bytes} of every hostile archive."""
    out = {"unsafe-%s.apk" % k: unsafe_apk(v) for k, v in UNSAFE_NAMES.items()}
    out["duplicate.apk"] = duplicate_apk()
    out["bomb-libs.apk"] = lib_bomb(12, bomb_size)
    out["bomb-zips.apk"] = zips_bomb(16 << 20)
    out["bomb-nested.apk"] = nested_bomb()
    out["bomb-members.apks"] = members_bomb()
    return out


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, data in all_archives().items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
