"""sp-pack runtime: import extension modules through .soref markers, and
Python code straight from the installed APK.

sp-pack moves every extension module out of the Python zips to
lib/<abi>/lib<mangled>.so and leaves a marker NAME.soref (the library's
name, UTF-8, no newline) where the module was. This finder, first on
sys.meta_path, turns a marker into a module loaded from the app's native
library directory or straight from the APK.

It also serves per-ABI overlay zips: for a sys.path entry X.zip with
X-<abi>.zip beside it, modules are looked up in the overlay first.

It reads the Python zips in place: a sys.path entry such as
<apk>/assets/stdlib.zip names a zip stored inside the APK, which
zipimport cannot open. install() puts a path hook first on
sys.path_hooks that reads such zips at their offset inside the APK, and
the finder resolves markers and overlays in them too. Nothing is
written.

And it spares zipimport a cost: zipimporter.find_spec asks get_filename,
which loads and unmarshals a module's code only to learn which file it
comes from, and exec_module then does it all again. install() puts
_ZipImporter in zipimport's place on sys.path_hooks, which decides the
file from the zip's names instead.

Only builtin and frozen modules are imported here (sys, posix, marshal,
_imp, zipimport, the frozen importlib): this runs before site and before
any native module can load.

    import _sp_bootstrap
    _sp_bootstrap.install(native_dir=..., apk_prefix=..., abi=..., apks=[...])
"""

import sys
import posix
import marshal
import _imp
import zipimport
# The frozen import machinery itself: importlib.machinery would pull in
# warnings and more from the zip.
import _frozen_importlib_external
from _frozen_importlib import ModuleSpec
from _frozen_importlib_external import ExtensionFileLoader

__all__ = ["install", "SorefFinder", "extract"]

_ENV_NATIVE_DIR = ("SP_PACK_NATIVE_DIR", "ANDROID_NATIVE_LIBRARY_DIR")
_ENV_APK_PREFIX = ("SP_PACK_APK_NATIVE_PREFIX", "ANDROID_APK_NATIVE_PREFIX")
_ENV_ABI = ("SP_PACK_ABI",)
_ENV_APKS = ("SP_PACK_APKS",)


def _getenv(names):
    env = posix.environ
    for name in names:
        value = env.get(name.encode())
        if value:
            return value.decode("utf-8", "surrogateescape")
    return None


def _exists(path):
    try:
        posix.stat(path)
    except OSError:
        return False
    return True


def _isdir(path):
    try:
        return (posix.stat(path).st_mode & 0o170000) == 0o040000
    except OSError:
        return False


# zipimport's order of candidates for a module NAME in a zip.
_ZIP_SEARCH_ORDER = ("/__init__.pyc", "/__init__.py", ".pyc", ".py")


def _zip_table(importer):
    """zipimport's table of a zip's names (a dict keyed by name), or None.

    It is private state, kept differently by each version: the attribute
    _files up to 3.12, the method _get_files() from 3.13 on. Anything else
    (an error, another type) gives None, and the caller asks zipimport
    itself, which is slower but always right; tests/e2e/test_matrix.py
    checks on every supported version that the table is found and that the
    answers without it are the same."""
    try:
        get = getattr(importer, "_get_files", None)
        files = get() if get is not None else getattr(importer, "_files", None)
    except Exception:
        return None
    return files if type(files) is dict else None


class _ZipImporter(zipimport.zipimporter):
    """zipimport's importer with a get_filename that reads no code."""

    def get_filename(self, fullname):
        files = _zip_table(self)
        if files is not None:
            name = self.prefix + fullname.rpartition(".")[2]
            for suffix in _ZIP_SEARCH_ORDER:
                if name + suffix in files:
                    return self.archive + "/" + name + suffix
        return super().get_filename(fullname)


def _install_zip_importer():
    hooks = sys.path_hooks
    for i, hook in enumerate(hooks):
        if hook is zipimport.zipimporter:
            hooks[i] = _ZipImporter
    cache = sys.path_importer_cache
    for path, importer in list(cache.items()):
        if type(importer) is zipimport.zipimporter:
            cache[path] = _ZipImporter(path)


# -- zips read in place ----------------------------------------------------
#
# A zip stored (not deflated) inside another zip, such as assets/stdlib.zip
# inside an APK, is a zip whose offsets are shifted by where its data
# starts in the APK. _Zip reads the central directory of either, once, and
# each entry at its absolute offset with pread on a descriptor kept open:
# nothing is extracted and no other file is opened.


class _NotStored(ImportError):
    """A zip inside an archive that cannot be read in place."""


def _u16(b, o):
    return b[o] | b[o + 1] << 8


def _u32(b, o):
    return b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24


_FDS = {}  # archive file path -> descriptor, open for the life of the process


def _fd(path):
    fd = _FDS.get(path)
    if fd is None:
        fd = _FDS[path] = posix.open(path, posix.O_RDONLY | getattr(posix, "O_CLOEXEC", 0))
    return fd


def _pread(fd, n, offset):
    chunks = []
    while n > 0:
        b = posix.pread(fd, n, offset)
        if not b:
            raise OSError("unexpected end of file")
        chunks.append(b)
        n -= len(b)
        offset += len(b)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class _Zip:
    """The directory of a zip that starts at base in the file fd and is
    size bytes long; path names it for __file__ and messages."""

    def __init__(self, path, fd, base, size):
        self.path = path
        self.fd = fd
        self.base = base
        # name -> (method, compressed size, size, local header offset, CRC-32)
        self.entries = {}
        self._dirs = None
        self._children = None
        tail = min(size, 22 + 65535)
        end = _pread(fd, tail, base + size - tail)
        i = end.rfind(b"PK\x05\x06")
        while i >= 0 and i + 22 + _u16(end, i + 20) != len(end):
            i = end.rfind(b"PK\x05\x06", 0, i)  # a comment holding the signature
        if i < 0:
            raise ImportError("not a zip file: %s" % path, path=path)
        count, cd_size, cd_offset = _u16(end, i + 10), _u32(end, i + 12), _u32(end, i + 16)
        if count == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
            raise ImportError("ZIP64 is not supported: %s" % path, path=path)
        cd_at = size - tail + i - cd_size  # where the directory is, from base
        # Bytes before the first entry (a prepended stub) shift every offset.
        shift = base + cd_at - cd_offset
        cd = _pread(fd, cd_size, base + cd_at)
        entries = self.entries
        o = 0
        for _ in range(count):
            if cd[o:o + 4] != b"PK\x01\x02":
                raise ImportError("bad central directory: %s" % path, path=path)
            flags = _u16(cd, o + 8)
            nlen = _u16(cd, o + 28)
            raw = cd[o + 46:o + 46 + nlen]
            try:
                name = raw.decode("ascii")
            except UnicodeDecodeError:
                # zipimport decodes names without the UTF-8 flag as cp437.
                name = raw.decode("utf-8" if flags & 0x800 else "latin-1", "surrogateescape")
            entries[name] = (_u16(cd, o + 10), _u32(cd, o + 20), _u32(cd, o + 24),
                             shift + _u32(cd, o + 42), _u32(cd, o + 16))
            o += 46 + nlen + _u16(cd, o + 30) + _u16(cd, o + 32)

    def data_offset(self, name):
        lho = self.entries[name][3]
        h = _pread(self.fd, 30, lho)
        if h[:4] != b"PK\x03\x04":
            raise OSError("bad local header for %s in %s" % (name, self.path))
        return lho + 30 + _u16(h, 26) + _u16(h, 28)

    def read(self, name):
        """The bytes of the entry name; OSError when there is none."""
        try:
            method, csize, usize, lho = self.entries[name][:4]
        except KeyError:
            raise FileNotFoundError(2, "no such entry", self.path + "/" + name) from None
        if name.endswith("/"):
            raise IsADirectoryError(21, "is a directory", self.path + "/" + name)
        # The local header, then the data into a buffer of its own (one
        # read of both would copy the data once more to cut the header off).
        h = _pread(self.fd, 30, lho)
        if h[:4] != b"PK\x03\x04":
            raise OSError("bad local header for %s in %s" % (name, self.path))
        data = _pread(self.fd, csize, lho + 30 + _u16(h, 26) + _u16(h, 28))
        if method == 0:
            return data
        if method != 8:
            raise OSError("%s/%s: compression method %d is not supported"
                          % (self.path, name, method))
        try:
            import zlib
        except ImportError:
            raise OSError("%s/%s is deflated and zlib cannot be imported"
                          % (self.path, name)) from None
        return zlib.decompressobj(-15).decompress(data)

    def dirs(self):
        """Every directory name with a trailing slash, listed or implied."""
        if self._dirs is None:
            dirs = set()
            for name in self.entries:
                i = name.find("/")
                while i >= 0:
                    dirs.add(name[:i + 1])
                    i = name.find("/", i + 1)
            self._dirs = dirs
        return self._dirs

    def children(self, directory):
        """Names directly under directory ("" or "a/b/"), dirs with "/"."""
        if self._children is None:
            kids = {}
            for name in list(self.entries) + list(self.dirs()):
                parent, _, last = name.rstrip("/").rpartition("/")
                kids.setdefault(parent + "/" if parent else "", set()).add(
                    name[len(parent) + 1 if parent else 0:])
            self._children = kids
        return self._children.get(directory, ())


_OUTER = {}   # archive file path -> _Zip of the whole file
_INNER = {}   # archive file path + "/" + entry -> _Zip of a zip stored inside it
_PLACES = {}  # sys.path-like path -> (_Zip, prefix) or None


def _outer(path):
    z = _OUTER.get(path)
    if z is None:
        fd = _fd(path)
        try:
            z = _Zip(path, fd, 0, posix.fstat(fd).st_size)
        except BaseException:
            del _FDS[path]
            posix.close(fd)
            raise
        _OUTER[path] = z
    return z


def _inner(archive, name):
    key = archive + "/" + name
    z = _INNER.get(key)
    if z is None:
        outer = _outer(archive)
        method, csize, usize = outer.entries[name][:3]
        if method != 0:
            raise _NotStored(
                "%s: %s is compressed (method %d): Python reads it in place only when "
                "it is stored (hint: AGP androidResources.noCompress += \".zip\", "
                "bundletool uncompressed_glob)" % (archive, name, method), path=key)
        z = _INNER[key] = _Zip(key, outer.fd, outer.data_offset(name), csize)
    return z


def _split_file(path):
    """(file, rest): the longest leading part of path that is a regular
    file, and what follows it; None when no part is one."""
    head, tail = path, ""
    while head:
        try:
            st = posix.stat(head)
        except OSError:
            head, sep, last = head.rpartition("/")
            if not sep:
                return None
            tail = last + "/" + tail if tail else last
            continue
        return (head, tail) if (st.st_mode & 0o170000) == 0o100000 else None
    return None


def _locate(path):
    """(_Zip, prefix) for a path naming a zip stored inside an archive,
    optionally followed by a directory in that zip
    ("<apk>/assets/stdlib.zip/json" -> (stdlib.zip's _Zip, "json/"));
    None for any other path. _NotStored when the zip is compressed."""
    try:
        return _PLACES[path]
    except KeyError:
        pass
    place = None
    # Only a path with a ".zip" component after the archive's can be one:
    # other paths (directories, zip files, "python311.zip/json") cost no
    # reading of any archive.
    split = (_split_file(path) if isinstance(path, str) and ".zip/" in path + "/"
             else None)
    if split is not None and ".zip" in split[1]:
        archive, rest = split
        parts = rest.split("/")
        k = 0
        while k < len(parts) and not parts[k].endswith(".zip"):
            k += 1
        if k < len(parts):
            name, prefix = "/".join(parts[:k + 1]), "/".join(parts[k + 1:])
            try:
                outer = _outer(archive)
            except (OSError, ImportError):
                outer = None
            if outer is not None and name in outer.entries:
                place = (_inner(archive, name), prefix + "/" if prefix else "")
    _PLACES[path] = place
    return place


_MAGIC = _frozen_importlib_external.MAGIC_NUMBER
_RAW_MAGIC = int.from_bytes(_MAGIC, "little")


class _InPlaceImporter:
    """Path entry finder and loader for a zip read in place,
    "<apk>/assets/stdlib.zip" or a directory in it. The path hook:
    ImportError for any other path, so zipimport and the file finder get
    those."""

    _sp_pack_hook = True

    def __init__(self, path):
        place = _locate(path)
        if place is None:
            raise ImportError("not a zip stored inside an archive", path=path)
        self.path = path
        self.zip, self.prefix = place
        self.archive = self.zip.path

    def __repr__(self):
        return "<sp-pack in-place zip importer %r>" % self.path

    def invalidate_caches(self):
        pass  # an installed APK does not change under a running app

    def _find(self, fullname):
        name = self.prefix + fullname.rpartition(".")[2]
        entries = self.zip.entries
        for suffix in _ZIP_SEARCH_ORDER:
            if name + suffix in entries:
                return name, suffix
        return name, None

    def _found(self, fullname):
        """_find, for a module that must be there."""
        name, suffix = self._find(fullname)
        if suffix is None:
            raise self._missing(fullname)
        return name, suffix

    def _missing(self, fullname):
        return ImportError("can't find module %r in %s" % (fullname, self.path), name=fullname)

    def find_spec(self, fullname, target=None):
        name, suffix = self._find(fullname)
        if suffix is None:
            if name + "/" in self.zip.dirs():
                # A portion of a namespace package, as zipimport reports it.
                spec = ModuleSpec(fullname, None, is_package=True)
                spec.submodule_search_locations = [self.archive + "/" + name]
                return spec
            return None
        is_package = suffix.startswith("/")
        spec = ModuleSpec(fullname, self, origin=self.archive + "/" + name + suffix,
                          is_package=is_package)
        spec.has_location = True
        if is_package:
            spec.submodule_search_locations = [self.archive + "/" + name]
        return spec

    # -- loader ----------------------------------------------------------

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        spec = module.__spec__
        code = self.get_code(spec.name if spec is not None else module.__name__)
        exec(code, module.__dict__)

    def _code(self, fullname, name, suffix):
        path = name + suffix
        data = self.zip.read(path)
        full = self.archive + "/" + path
        if suffix.endswith(".py"):
            source = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            return compile(source, full, "exec", dont_inherit=True)
        # Bytecode: only this interpreter's, and only when it is valid
        # without reading a source (pack writes unchecked-hash .pyc);
        # otherwise None and the source beside it, if any, is used.
        if len(data) < 16 or data[:4] != _MAGIC:
            return None
        flags = _u32(data, 4)
        if flags & ~0b11:
            return None
        source_path = path[:-1]
        if flags & 0b01:
            check = _imp.check_hash_based_pycs
            if check != "never" and (flags & 0b10 or check == "always"):
                if source_path in self.zip.entries:
                    source = self.zip.read(source_path)
                    if _imp.source_hash(_RAW_MAGIC, source) != data[8:16]:
                        return None
        elif source_path in self.zip.entries:
            return None  # timestamp-based: the source beside it is the truth
        return marshal.loads(memoryview(data)[16:])

    def get_code(self, fullname):
        name = self.prefix + fullname.rpartition(".")[2]
        for suffix in _ZIP_SEARCH_ORDER:
            if name + suffix in self.zip.entries:
                code = self._code(fullname, name, suffix)
                if code is not None:
                    return code
        raise self._missing(fullname)

    def get_source(self, fullname):
        name, suffix = self._found(fullname)
        path = name + ("/__init__.py" if suffix.startswith("/") else ".py")
        if path not in self.zip.entries:
            return None
        return self.zip.read(path).decode("utf-8", "replace")

    def get_filename(self, fullname):
        name, suffix = self._found(fullname)
        return self.archive + "/" + name + suffix

    def is_package(self, fullname):
        name, suffix = self._found(fullname)
        return suffix.startswith("/")

    def get_data(self, pathname):
        """Bytes of a file of the zip: a path inside it, or the full path."""
        key = pathname
        if key.startswith(self.archive + "/"):
            key = key[len(self.archive) + 1:]
        return self.zip.read(key)

    def get_resource_reader(self, fullname):
        try:
            if not self.is_package(fullname):
                return None
        except ImportError:
            return None
        name = self.prefix + fullname.rpartition(".")[2]
        return _ResourceReader(self.zip, name)


class _Traversable:
    """importlib.resources' Traversable for a file or directory of a zip
    read in place (also the path importlib.metadata reads a distribution's
    metadata through)."""

    def __init__(self, zip, name):
        self._zip = zip
        self._name = name.strip("/")

    def __repr__(self):
        return "_Traversable(%r)" % str(self)

    def __str__(self):
        return self._zip.path + ("/" + self._name if self._name else "")

    def __eq__(self, other):
        return (type(other) is _Traversable and other._zip is self._zip
                and other._name == self._name)

    def __hash__(self):
        return hash((self._zip.path, self._name))

    @property
    def name(self):
        return self._name.rpartition("/")[2]

    @property
    def parent(self):
        return _Traversable(self._zip, self._name.rpartition("/")[0])

    def is_dir(self):
        return not self._name or self._name + "/" in self._zip.dirs()

    def is_file(self):
        return bool(self._name) and self._name in self._zip.entries

    def exists(self):
        return self.is_dir() or self.is_file()

    def iterdir(self):
        if not self.is_dir():
            raise NotADirectoryError(20, "not a directory", str(self))
        base = self._name + "/" if self._name else ""
        for child in sorted(self._zip.children(base)):
            yield _Traversable(self._zip, base + child)

    def joinpath(self, *descendants):
        parts = [p for p in self._name.split("/") if p]
        for d in descendants:
            for p in str(d).split("/"):
                if p in ("", "."):
                    continue
                if p == "..":
                    if parts:
                        parts.pop()
                else:
                    parts.append(p)
        return _Traversable(self._zip, "/".join(parts))

    __truediv__ = joinpath

    def read_bytes(self):
        if self.is_dir():
            raise IsADirectoryError(21, "is a directory", str(self))
        return self._zip.read(self._name)

    def read_text(self, encoding=None, errors=None):
        return self.read_bytes().decode(encoding or "utf-8", errors or "strict")

    def open(self, mode="r", *args, **kwargs):
        import io
        data = io.BytesIO(self.read_bytes())
        if "b" in mode:
            return data
        return io.TextIOWrapper(data, *args, **kwargs)


class _ResourceReader:
    """What the loader's get_resource_reader returns: files(), and the
    older ResourceReader methods on top of it."""

    def __init__(self, zip, package_dir):
        self._root = _Traversable(zip, package_dir)

    def files(self):
        return self._root

    def open_resource(self, resource):
        return self._root.joinpath(resource).open("rb")

    def resource_path(self, resource):
        raise FileNotFoundError(resource)  # no file on disk: use files()

    def is_resource(self, path):
        return self._root.joinpath(path).is_file()

    def contents(self):
        return (t.name for t in self._root.iterdir())


_DISTRIBUTION = None


def _distribution_type():
    """importlib.metadata.Distribution for metadata read in place, made
    when importlib.metadata asks (it is imported by then)."""
    global _DISTRIBUTION
    if _DISTRIBUTION is None:
        import importlib.metadata as metadata

        class InPlaceDistribution(metadata.Distribution):
            def __init__(self, path):
                self._path = path

            def read_text(self, filename):
                try:
                    return self._path.joinpath(filename).read_text(encoding="utf-8")
                except OSError:
                    return None

            def locate_file(self, path):
                return self._path.parent.joinpath(str(path))

        _DISTRIBUTION = InPlaceDistribution
    return _DISTRIBUTION


def _normalize(name):
    """A distribution name as importlib.metadata compares them: runs of
    -, _ and . become _, lower case (PEP 503)."""
    out = []
    run = False
    for c in name.lower():
        if c in "-_.":
            if not run:
                out.append("_")
            run = True
        else:
            out.append(c)
            run = False
    return "".join(out)


class SorefFinder:
    """Meta path finder for .soref markers and per-ABI overlays."""

    _sp_pack_finder = True

    def __init__(self, native_dir=None, apk_prefix=None, abi=None, apks=()):
        self.native_dir = native_dir
        self.apk_prefix = apk_prefix
        self.abi = abi
        self.apks = list(apks or ())
        self._zips = {}       # archive path -> zipimporter (or None)
        self._kinds = {}      # sys.path entry -> "dir", "zip", "inplace" or None
        self._overlays = {}   # sys.path entry -> overlay archive path (or None)

    def __repr__(self):
        return "SorefFinder(native_dir=%r, apk_prefix=%r, abi=%r, apks=%r)" % (
            self.native_dir, self.apk_prefix, self.abi, self.apks)

    def invalidate_caches(self):
        self._zips.clear()
        self._kinds.clear()
        self._overlays.clear()

    # -- reading sys.path entries --------------------------------------

    def _zip(self, archive):
        try:
            return self._zips[archive]
        except KeyError:
            pass
        zi = None
        if not _isdir(archive) and _exists(archive):
            try:
                zi = zipimport.zipimporter(archive)
            except zipimport.ZipImportError:
                zi = None
        self._zips[archive] = zi
        return zi

    def _kind(self, entry):
        """What a sys.path entry is: "dir", "zip" (a zip file),
        "inplace" (a zip stored inside an archive, read in place) or None
        (neither, or missing). Looked at once per entry, as the standard
        path finder does, until invalidate_caches(): this runs for every
        import."""
        try:
            return self._kinds[entry]
        except KeyError:
            pass
        if _isdir(entry):
            kind = "dir"
        elif self._zip(entry) is not None:
            kind = "zip"
        else:
            try:
                kind = "inplace" if _locate(entry) is not None else None
            except ImportError:
                kind = None
        self._kinds[entry] = kind
        return kind

    def _read(self, entry, rel):
        """Bytes of entry/rel, or None. entry is a directory or a zip."""
        kind = self._kind(entry)
        if kind is None:
            return None
        if kind == "dir":
            try:
                with open(entry + "/" + rel, "rb") as f:
                    return f.read()
            except OSError:
                return None
        if kind == "inplace":
            zip, prefix = _locate(entry)
            if prefix + rel not in zip.entries:
                return None
            try:
                return zip.read(prefix + rel)
            except OSError:
                return None
        try:
            return self._zips[entry].get_data(rel)
        except OSError:
            return None

    def _overlay(self, entry):
        try:
            return self._overlays[entry]
        except KeyError:
            pass
        overlay = None
        if self.abi and entry.endswith(".zip"):
            candidate = entry[:-4] + "-" + self.abi + ".zip"
            if self._kind(candidate) in ("zip", "inplace"):
                overlay = candidate
        self._overlays[entry] = overlay
        return overlay

    # -- finding -------------------------------------------------------

    def _library_path(self, lib):
        if self.native_dir:
            path = self.native_dir.rstrip("/") + "/" + lib
            if _exists(path):
                return path
        if self.abi:
            # Whichever APK holds the library stored, as bionic maps it.
            name = "lib/%s/%s" % (self.abi, lib)
            for apk in self.apks:
                try:
                    info = _outer(apk).entries.get(name)
                except (OSError, ImportError):
                    continue
                if info is not None and info[0] == 0:
                    return apk + "!/" + name
        if self.apk_prefix:
            return self.apk_prefix + lib
        return None

    def _native_spec(self, fullname, entry, rel, marker, is_package):
        lib = marker.decode("utf-8")
        path = self._library_path(lib)
        if path is None:
            raise ImportError(
                "sp-pack: %s/%s names %s, which is not in native_dir %r, "
                "in lib/%s/ of any APK %r, and no apk_prefix is set"
                % (entry, rel, lib, self.native_dir, self.abi, self.apks),
                name=fullname)
        loader = ExtensionFileLoader(fullname, path)
        spec = ModuleSpec(fullname, loader, origin=path, is_package=is_package)
        spec.has_location = True
        if is_package:
            spec.submodule_search_locations = [entry + "/" + rel.rpartition("/")[0]]
        return spec

    def _overlay_spec(self, fullname, entry, overlay, rel):
        parent, _, name = rel.rpartition("/")
        for candidate in (rel + ".py", rel + ".pyc", rel + "/__init__.py",
                          rel + "/__init__.pyc"):
            if self._read(overlay, candidate) is None:
                continue
            where = overlay + ("/" + parent if parent else "")
            if self._kind(overlay) == "inplace":
                importer = _InPlaceImporter(where)
            else:
                importer = _ZipImporter(where)
            spec = importer.find_spec(fullname)
            if spec is None:
                return None
            if spec.submodule_search_locations is not None:
                # Submodules live in the common zip; the overlay only
                # replaces what differs for this ABI.
                spec.submodule_search_locations = [
                    entry + "/" + rel, overlay + "/" + rel]
            return spec
        return None

    def find_spec(self, fullname, path=None, target=None):
        rel = fullname.replace(".", "/")
        for entry in sys.path:
            if not isinstance(entry, str) or not entry:
                continue
            marker = self._read(entry, rel + ".soref")
            if marker is not None:
                return self._native_spec(fullname, entry, rel + ".soref", marker, False)
            marker = self._read(entry, rel + "/__init__.soref")
            if marker is not None:
                return self._native_spec(fullname, entry, rel + "/__init__.soref",
                                         marker, True)
            overlay = self._overlay(entry)
            if overlay is not None:
                spec = self._overlay_spec(fullname, entry, overlay, rel)
                if spec is not None:
                    return spec
        return None

    def find_distributions(self, context=None):
        """importlib.metadata's hook: distributions (*.dist-info,
        *.egg-info) in the zips read in place; the standard path finder
        serves the other sys.path entries."""
        name = getattr(context, "name", None)
        want = _normalize(name) if name else None
        path = getattr(context, "path", None)
        for entry in (sys.path if path is None else path):
            if not isinstance(entry, str) or self._kind(entry) != "inplace":
                continue
            zip, prefix = _locate(entry)
            for child in sorted(zip.children(prefix)):
                low = child.rstrip("/").lower()
                if not low.endswith((".dist-info", ".egg-info")):
                    continue
                if want is None or _normalize(low.rpartition(".")[0].partition("-")[0]) == want:
                    yield _distribution_type()(_Traversable(zip, prefix + child))


# -- extract.zip --------------------------------------------------------


def _fnv(h, data):
    for c in data:
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def _rmtree(path):
    try:
        names = posix.listdir(path)
    except NotADirectoryError:
        posix.unlink(path)
        return
    except FileNotFoundError:
        return
    for name in names:
        p = path + "/" + name
        if (posix.lstat(p).st_mode & 0o170000) == 0o040000:
            _rmtree(p)
        else:
            posix.unlink(p)
    posix.rmdir(path)


def _makedirs(path):
    if not path or _isdir(path):
        return
    _makedirs(path.rpartition("/")[0])
    try:
        posix.mkdir(path, 0o755)
    except FileExistsError:
        pass


def extract(root, zips):
    """Unpacks the zips (read in place or files; later ones win, so an
    ABI's overlay goes last) into a directory under root named by their
    content, once: a later call with the same content finds it and
    writes nothing. Other directories under root (earlier versions) are
    removed. Returns the directory, for sys.path."""
    places = []
    h = 0xcbf29ce484222325
    for z in zips:
        place = _locate(z)
        if place is None:
            fd = _fd(z)
            zip, prefix = _Zip(z, fd, 0, posix.fstat(fd).st_size), ""
        else:
            zip, prefix = place
        places.append(zip)
        # Names, sizes and CRC-32s from the zip's directory: its content,
        # known without reading it.
        for name in sorted(zip.entries):
            usize, crc = zip.entries[name][2], zip.entries[name][4]
            h = _fnv(h, name.encode("utf-8", "surrogateescape") + b"\0"
                     + usize.to_bytes(4, "little") + crc.to_bytes(4, "little"))
    key = "%016x" % h
    target = root.rstrip("/") + "/" + key
    if _isdir(target):
        return target
    _makedirs(root)
    tmp = "%s/.%s.%d" % (root.rstrip("/"), key, posix.getpid())
    _rmtree(tmp)
    posix.mkdir(tmp, 0o700)
    for zip in places:
        for name in sorted(zip.entries):
            parts = name.split("/")
            if name.startswith("/") or ".." in parts or "\\" in name or "\0" in name:
                raise ImportError("%s: unsafe entry name %r" % (zip.path, name))
            if name.endswith("/"):
                _makedirs(tmp + "/" + name.rstrip("/"))
                continue
            _makedirs(tmp + "/" + name.rpartition("/")[0] if "/" in name else "")
            fd = posix.open(tmp + "/" + name, posix.O_WRONLY | posix.O_CREAT | posix.O_TRUNC
                            | getattr(posix, "O_CLOEXEC", 0), 0o644)
            try:
                data = memoryview(zip.read(name))
                while data:
                    data = data[posix.write(fd, data):]
            finally:
                posix.close(fd)
    posix.chmod(tmp, 0o755)
    try:
        posix.rename(tmp, target)
    except OSError:
        _rmtree(tmp)  # another process put the same content there first
        if not _isdir(target):
            raise
    for name in posix.listdir(root):
        if name != key:
            _rmtree(root.rstrip("/") + "/" + name)
    return target


# -- install ---------------------------------------------------------------


def _install_inplace_hook():
    hooks = sys.path_hooks
    hooks[:] = [h for h in hooks if not getattr(h, "_sp_pack_hook", False)]
    hooks.insert(0, _InPlaceImporter)
    # Entries looked at before the hook existed (zipimport accepts
    # "<apk>/assets/stdlib.zip" as a directory of the APK, holding nothing).
    cache = sys.path_importer_cache
    for path in list(cache):
        try:
            if _locate(path) is not None:
                del cache[path]
        except ImportError:
            pass


def _check_inplace_entries():
    """An ImportError naming the first sys.path entry that names a zip
    inside an archive which cannot be read in place (compressed)."""
    for entry in sys.path:
        if isinstance(entry, str) and entry:
            _locate(entry)  # raises _NotStored


def _extend_encodings(finder):
    """encodings came from the boot set (assets/python), which holds only
    what CPython needs to start: its other codecs are in stdlib.zip."""
    encodings = sys.modules.get("encodings")
    path = getattr(encodings, "__path__", None)
    if path is None:
        return
    for entry in sys.path:
        if not isinstance(entry, str) or finder._kind(entry) not in ("zip", "inplace"):
            continue
        location = entry + "/encodings"
        if location in path:
            continue
        if (finder._read(entry, "encodings/__init__.pyc") is not None
                or finder._read(entry, "encodings/__init__.py") is not None):
            path.append(location)


def install(native_dir=None, apk_prefix=None, abi=None, apks=None, extract_dir=None):
    """Put one SorefFinder first on sys.meta_path and return it.

    Arguments default to the environment: SP_PACK_NATIVE_DIR (or
    ANDROID_NATIVE_LIBRARY_DIR), SP_PACK_APK_NATIVE_PREFIX (or
    ANDROID_APK_NATIVE_PREFIX, e.g. "/data/app/.../base.apk!/lib/arm64-v8a/"),
    SP_PACK_ABI and SP_PACK_APKS (paths separated by ":"). apks are the
    installed APKs, base first (ApplicationInfo.sourceDir, then
    splitSourceDirs): a library is loaded from "<apk>!/lib/<abi>/<lib>" of
    whichever holds it. Calling it again replaces the finder installed
    before.

    It also puts the in-place path hook first on sys.path_hooks, so that
    sys.path entries such as "<apk>/assets/stdlib.zip" are read straight
    from the APK (ImportError when one is compressed there), and lets
    encodings, when CPython took it from the boot set, find its other
    codecs in the zips.

    With extract_dir and apks, assets/extract.zip of the base APK (and
    its ABI overlay) is unpacked under extract_dir once per content
    (extract()) and put first on sys.path.
    """
    if native_dir is None:
        native_dir = _getenv(_ENV_NATIVE_DIR)
    if apk_prefix is None:
        apk_prefix = _getenv(_ENV_APK_PREFIX)
    if abi is None:
        abi = _getenv(_ENV_ABI)
    if apks is None:
        value = _getenv(_ENV_APKS)
        apks = [p for p in value.split(":") if p] if value else []
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not getattr(f, "_sp_pack_finder", False)]
    finder = SorefFinder(native_dir, apk_prefix, abi, apks)
    sys.meta_path.insert(0, finder)
    _install_zip_importer()
    _install_inplace_hook()
    _check_inplace_entries()
    _extend_encodings(finder)
    if extract_dir and apks:
        names = ["assets/extract.zip"]
        if abi:
            names.append("assets/extract-%s.zip" % abi)
        base = _outer(apks[0])
        zips = [apks[0] + "/" + n for n in names if n in base.entries]
        if zips:
            directory = extract(extract_dir, zips)
            if directory not in sys.path:
                sys.path.insert(0, directory)
            finder.invalidate_caches()
    return finder
