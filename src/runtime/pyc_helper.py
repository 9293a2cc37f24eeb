# sp-pack's bytecode helper: run by the host CPython given to `pack --python`.
# Protocol on stdin/stdout, little-endian:
#   helper -> pack: the interpreter's 4-byte MAGIC_NUMBER and its version
#                   (2 bytes: major, minor), once
#   pack -> helper: u32 name length, u32 source length, name (UTF-8), source
#   helper -> pack: u32 status (0 ok, 1 error), u32 length, then the .pyc bytes
#                   or the error message
# The .pyc is unchecked-hash based (PEP 552): zipimport loads it without
# looking at the source or at a timestamp.
import importlib.util
import marshal
import struct
import sys

r, w = sys.stdin.buffer, sys.stdout.buffer
w.write(importlib.util.MAGIC_NUMBER + bytes(sys.version_info[:2]))
w.flush()
while True:
    head = r.read(8)
    if len(head) < 8:
        break
    nlen, slen = struct.unpack("<II", head)
    name = r.read(nlen).decode("utf-8", "surrogateescape")
    source = r.read(slen)
    try:
        code = compile(source, name, "exec", dont_inherit=True)
        data = (importlib.util.MAGIC_NUMBER + struct.pack("<I", 0b01) +
                importlib.util.source_hash(source) + marshal.dumps(code))
        status = 0
    except Exception as e:  # SyntaxError, ValueError (NUL bytes), ...
        data = ("%s: %s" % (type(e).__name__, e)).encode("utf-8", "replace")
        status = 1
    w.write(struct.pack("<II", status, len(data)))
    w.write(data)
    w.flush()
