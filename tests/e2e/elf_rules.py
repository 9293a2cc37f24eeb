"""Android's 16 KB page rules for shared libraries, read from the ELF headers in pure
Python, so that tests can judge sp-pack's findings without trusting its C code.

    python3 elf_rules.py [--page-size N] FILE...   one verdict line per file; exit 1 if any
                                                   file breaks a rule

Both rules apply to 64-bit libraries only; 32-bit ones (armeabi-v7a, x86) are exempt.

PT_LOAD alignment: bionic's loader on a device with page size P refuses a library whose
smallest PT_LOAD p_align is below P (p_align 0 and 1 do not count). See bionic
linker/linker_phdr.cpp, ElfReader::CheckProgramHeaderAlignment and ElfReader::Load.

RELRO: for each PT_GNU_RELRO, take the PT_LOAD that contains it: the last one (by p_vaddr)
starting at or before the RELRO's start. It is fine when the RELRO
  - does not run past the start of the next PT_LOAD, and
  - either holds exactly the same sections as that PT_LOAD, or starts at the PT_LOAD's
    start or on a P boundary ("prefix") and ends at the PT_LOAD's end or on a P boundary
    ("suffix").
This is the check of Android Studio's APK analyzer (sdk-common,
com/android/ide/common/pagealign/PageAlignUtils.kt) and of AOSP's elfpolicy
VerifyRelroSegment, whose messages Play Console shows ("RELRO is not a suffix and its end
is not 16 KB aligned"). Section headers matter: lld before 18 pads PT_GNU_RELRO, not its
PT_LOAD, to a common-page boundary, so with the default common-page-size (4096) the RELRO
end is neither 16 KB aligned nor the PT_LOAD's end, yet the RELRO holds all the PT_LOAD's
sections and passes. A reading of program headers alone would flag such libraries.
"""

import struct
import sys
from collections import namedtuple

PT_LOAD = 1
PT_GNU_RELRO = 0x6474E552
PF_W = 2

Phdr = namedtuple("Phdr", "type flags offset vaddr filesz memsz align")
Shdr = namedtuple("Shdr", "name type flags addr size")


class Elf(namedtuple("Elf", "bits little machine phdrs shdrs")):
    """An ELF file's class (32 or 64), byte order, e_machine and headers."""

    def loads(self):
        return sorted((p for p in self.phdrs if p.type == PT_LOAD), key=lambda p: p.vaddr)

    def relros(self):
        return [p for p in self.phdrs if p.type == PT_GNU_RELRO]

    def section_names(self):
        return [s.name for s in self.shdrs]


def parse(data):
    """Reads the headers of an ELF file given as bytes; raises ValueError if it is not one."""
    if len(data) < 52 or data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
        raise ValueError("not an ELF file")
    bits = 64 if data[4] == 2 else 32
    e = "<" if data[5] == 1 else ">"
    if bits == 64:
        (machine,) = struct.unpack_from(e + "H", data, 18)
        phoff, shoff = struct.unpack_from(e + "QQ", data, 32)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(e + "HHHHH", data, 54)
    else:
        (machine,) = struct.unpack_from(e + "H", data, 18)
        phoff, shoff = struct.unpack_from(e + "II", data, 28)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(e + "HHHHH", data, 42)
    phdrs = []
    for i in range(phnum):
        at = phoff + i * phentsize
        if at + (56 if bits == 64 else 32) > len(data):
            raise ValueError("truncated program headers")
        if bits == 64:
            t, fl, off, va, _, fsz, msz, al = struct.unpack_from(e + "IIQQQQQQ", data, at)
        else:
            t, off, va, _, fsz, msz, fl, al = struct.unpack_from(e + "IIIIIIII", data, at)
        phdrs.append(Phdr(t, fl, off, va, fsz, msz, al))
    raw = []
    for i in range(shnum if shoff else 0):
        at = shoff + i * shentsize
        if at + (64 if bits == 64 else 40) > len(data):
            raise ValueError("truncated section headers")
        if bits == 64:
            nm, t, fl, addr, off, size = struct.unpack_from(e + "IIQQQQ", data, at)
        else:
            nm, t, fl, addr, off, size = struct.unpack_from(e + "IIIIII", data, at)
        raw.append((nm, t, fl, addr, off, size))
    strtab = b""
    if raw and shstrndx < len(raw):
        off, size = raw[shstrndx][4], raw[shstrndx][5]
        strtab = data[off:off + size]
    shdrs = []
    for nm, t, fl, addr, _, size in raw:
        end = strtab.find(b"\0", nm)
        name = strtab[nm:end if end >= 0 else len(strtab)].decode("utf-8", "replace")
        shdrs.append(Shdr(name, t, fl, addr, size))
    return Elf(bits, e == "<", machine, phdrs, shdrs)


def read(path):
    with open(path, "rb") as f:
        return parse(f.read())


def min_load_align(elf):
    """The smallest PT_LOAD p_align above 1, as bionic computes it (None without one)."""
    aligns = [p.align for p in elf.phdrs if p.type == PT_LOAD and p.align > 1]
    return min(aligns) if aligns else None


def load_align_problem(elf, page=16384):
    """None, or why bionic on a device with this page size refuses to load the library."""
    if elf.bits != 64:
        return None
    align = min_load_align(elf)
    if align is not None and align < page:
        return "PT_LOAD aligned to %d, below %d" % (align, page)
    return None


def _sections_in(elf, start, end):
    return sorted((s.addr, s.size) for s in elf.shdrs if s.addr >= start and s.addr + s.size <= end)


def relro_problems(elf, page=16384):
    """Why each PT_GNU_RELRO breaks the RELRO rule (empty when none does)."""
    if elf.bits != 64:
        return []
    problems = []
    loads = elf.loads()
    kb = "%d KB" % (page // 1024) if page % 1024 == 0 else "%d B" % page
    for r in elf.relros():
        start, end = r.vaddr, r.vaddr + r.memsz
        where = [i for i, p in enumerate(loads) if p.vaddr <= start]
        if not where:
            problems.append("RELRO [%#x, %#x) is in no PT_LOAD" % (start, end))
            continue
        i = where[-1]
        load = loads[i]
        load_end = load.vaddr + load.memsz
        if i + 1 < len(loads) and end > loads[i + 1].vaddr:
            problems.append("RELRO [%#x, %#x) runs into the next PT_LOAD at %#x"
                            % (start, end, loads[i + 1].vaddr))
            continue
        if _sections_in(elf, start, end) == _sections_in(elf, load.vaddr, load_end):
            continue
        if start % page and start != load.vaddr:
            problems.append("RELRO [%#x, %#x) is not a prefix of PT_LOAD [%#x, %#x) and its start "
                            "is not %s aligned" % (start, end, load.vaddr, load_end, kb))
        if end % page and end != load_end:
            problems.append("RELRO [%#x, %#x) is not a suffix of PT_LOAD [%#x, %#x) and its end "
                            "is not %s aligned" % (start, end, load.vaddr, load_end, kb))
    return problems


def verdict(elf, page=16384):
    """Every problem of the library under both rules."""
    problem = load_align_problem(elf, page)
    return ([problem] if problem else []) + relro_problems(elf, page)


def main(argv):
    page = 16384
    if len(argv) > 2 and argv[1] == "--page-size":
        page = int(argv[2], 0)
        argv = argv[:1] + argv[3:]
    if len(argv) < 2:
        sys.stderr.write("usage: elf_rules.py [--page-size N] FILE...\n")
        return 2
    status = 0
    for path in argv[1:]:
        elf = read(path)
        problems = verdict(elf, page)
        relro = ", ".join("[%#x, %#x)" % (r.vaddr, r.vaddr + r.memsz) for r in elf.relros())
        head = "%s: %d-bit, min PT_LOAD align %s, RELRO %s" % (
            path, elf.bits, min_load_align(elf), relro or "none")
        if elf.bits != 64:
            print(head + ": exempt (32-bit)")
        elif problems:
            status = 1
            print(head + ": " + "; ".join(problems))
        else:
            print(head + ": ok")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
