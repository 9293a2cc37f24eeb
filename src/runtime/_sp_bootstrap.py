"""sp-pack runtime: import extension modules through .soref markers.

sp-pack moves every extension module out of the Python zips to
lib/<abi>/lib<mangled>.so and leaves a marker NAME.soref (the library's
name, UTF-8, no newline) where the module was. This finder, first on
sys.meta_path, turns a marker into a module loaded from the app's native
library directory or straight from the APK.

It also serves per-ABI overlay zips: for a sys.path entry X.zip with
X-<abi>.zip beside it, modules are looked up in the overlay first.

And it spares zipimport a cost: zipimporter.find_spec asks get_filename,
which loads and unmarshals a module's code only to learn which file it
comes from, and exec_module then does it all again. install() puts
_ZipImporter in zipimport's place on sys.path_hooks, which decides the
file from the zip's names instead.

Only builtin and frozen modules are imported here (sys, posix, zipimport,
the frozen importlib): this runs before site
and before any native module can load.

    import _sp_bootstrap
    _sp_bootstrap.install(native_dir=..., apk_prefix=..., abi=...)
"""

import sys
import posix
import zipimport
# The frozen import machinery itself: importlib.machinery would pull in
# warnings and more from the zip.
from _frozen_importlib import ModuleSpec
from _frozen_importlib_external import ExtensionFileLoader

__all__ = ["install", "SorefFinder"]

_ENV_NATIVE_DIR = ("SP_PACK_NATIVE_DIR", "ANDROID_NATIVE_LIBRARY_DIR")
_ENV_APK_PREFIX = ("SP_PACK_APK_NATIVE_PREFIX", "ANDROID_APK_NATIVE_PREFIX")
_ENV_ABI = ("SP_PACK_ABI",)


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


class _ZipImporter(zipimport.zipimporter):
    """zipimport's importer with a get_filename that reads no code."""

    def get_filename(self, fullname):
        files = getattr(self, "_files", None)  # zipimport's table of the zip's names
        if type(files) is dict:
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


class SorefFinder:
    """Meta path finder for .soref markers and per-ABI overlays."""

    _sp_pack_finder = True

    def __init__(self, native_dir=None, apk_prefix=None, abi=None):
        self.native_dir = native_dir
        self.apk_prefix = apk_prefix
        self.abi = abi
        self._zips = {}       # archive path -> zipimporter (or None)
        self._kinds = {}      # sys.path entry -> "dir", "zip" or None
        self._overlays = {}   # sys.path entry -> overlay archive path (or None)

    def __repr__(self):
        return "SorefFinder(native_dir=%r, apk_prefix=%r, abi=%r)" % (
            self.native_dir, self.apk_prefix, self.abi)

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
        """What a sys.path entry is: "dir", "zip" or None (neither, or
        missing). Looked at once per entry, as the standard path finder
        does, until invalidate_caches(): this runs for every import."""
        try:
            return self._kinds[entry]
        except KeyError:
            pass
        kind = "dir" if _isdir(entry) else "zip" if self._zip(entry) is not None else None
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
            if self._zip(candidate) is not None:
                overlay = candidate
        self._overlays[entry] = overlay
        return overlay

    # -- finding -------------------------------------------------------

    def _library_path(self, lib):
        if self.native_dir:
            path = self.native_dir.rstrip("/") + "/" + lib
            if _exists(path):
                return path
        if self.apk_prefix:
            return self.apk_prefix + lib
        return None

    def _native_spec(self, fullname, entry, rel, marker, is_package):
        lib = marker.decode("utf-8")
        path = self._library_path(lib)
        if path is None:
            raise ImportError(
                "sp-pack: %s/%s names %s, which is not in native_dir %r "
                "and no apk_prefix is set" % (entry, rel, lib, self.native_dir),
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
            importer = _ZipImporter(overlay + ("/" + parent if parent else ""))
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


def install(native_dir=None, apk_prefix=None, abi=None):
    """Put one SorefFinder first on sys.meta_path and return it.

    Arguments default to the environment: SP_PACK_NATIVE_DIR (or
    ANDROID_NATIVE_LIBRARY_DIR), SP_PACK_APK_NATIVE_PREFIX (or
    ANDROID_APK_NATIVE_PREFIX, e.g. "/data/app/.../base.apk!/lib/arm64-v8a/")
    and SP_PACK_ABI. Calling it again replaces the finder installed before.
    """
    if native_dir is None:
        native_dir = _getenv(_ENV_NATIVE_DIR)
    if apk_prefix is None:
        apk_prefix = _getenv(_ENV_APK_PREFIX)
    if abi is None:
        abi = _getenv(_ENV_ABI)
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not getattr(f, "_sp_pack_finder", False)]
    finder = SorefFinder(native_dir, apk_prefix, abi)
    sys.meta_path.insert(0, finder)
    _install_zip_importer()
    return finder
