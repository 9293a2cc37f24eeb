/* sp_launch_init(): CPython from the installed APKs, nothing written.
 *
 * sys.path holds three entries inside the base APK:
 *   <apk>/assets/python          the boot set: stock zipimport reads it from
 *                                the APK while CPython initialises (encodings)
 *   <apk>/assets/stdlib.zip      stored zips, read in place by the path hook
 *   <apk>/assets/sitepackages.zip  that _sp_bootstrap.install() adds
 * and _sp_bootstrap.install() runs before anything else is imported. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "sp_launch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *err, size_t n, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t n, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (n)
        vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return code;
}

/* An APK must be a readable regular file; only opened to see that. */
static int check_apk(const char *path, char *err, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, n, SP_LAUNCH_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    int rc = fstat(fd, &st);
    int e = errno;
    close(fd);
    if (rc != 0)
        return fail(err, n, SP_LAUNCH_EIO, "%s: %s", path, strerror(e));
    if (!S_ISREG(st.st_mode))
        return fail(err, n, SP_LAUNCH_EINPUT, "%s: not a file (hint: name the APK itself)",
                    path);
    return 0;
}

/* The boot set must be in the base APK, stored: CPython reads it with
 * zipimport while it initialises, before zlib could load. Checked here from
 * the central directory so that an APK without it gets one line, not
 * CPython's fatal error and path dump. */
static const char *const boot_set[] = {"_sp_bootstrap", "encodings/__init__",
                                       "encodings/aliases", "encodings/utf_8", NULL};

static unsigned u16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static unsigned long u32(const unsigned char *p)
{
    return (unsigned long)u16(p) | (unsigned long)u16(p + 2) << 16;
}

static int read_at(int fd, unsigned char *buf, size_t n, off_t at)
{
    while (n > 0) {
        ssize_t r = pread(fd, buf, n, at);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        buf += r, n -= (size_t)r, at += r;
    }
    return 0;
}

static int check_boot_set(const char *apk, char *err, size_t n)
{
    int fd = open(apk, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, n, SP_LAUNCH_EIO, "%s: %s", apk, strerror(errno));
    struct stat st;
    int rc = fstat(fd, &st) == 0 ? 0 : fail(err, n, SP_LAUNCH_EIO, "%s: %s", apk, strerror(errno));
    if (rc == 0 && !S_ISREG(st.st_mode))
        rc = fail(err, n, SP_LAUNCH_EINPUT, "%s: not a file (hint: name the APK itself)", apk);
    size_t tail = rc == 0 && st.st_size < 22 + 65535 ? (size_t)st.st_size : 22 + 65535;
    unsigned char *end = rc == 0 ? malloc(tail ? tail : 1) : NULL, *cd = NULL;
    long at = -1;
    if (rc == 0 && (!end || read_at(fd, end, tail, st.st_size - (off_t)tail) != 0))
        rc = fail(err, n, SP_LAUNCH_EIO, "%s: cannot read it", apk);
    for (long i = (long)tail - 22; rc == 0 && i >= 0 && at < 0; i--)
        if (!memcmp(end + i, "PK\5\6", 4) && (size_t)i + 22 + u16(end + i + 20) == tail)
            at = i;
    if (rc == 0 && at < 0)
        rc = fail(err, n, SP_LAUNCH_EINPUT, "%s: not a zip file (hint: name the APK)", apk);
    unsigned long count = 0, size = 0, offset = 0;
    if (rc == 0) {
        count = u16(end + at + 10), size = u32(end + at + 12), offset = u32(end + at + 16);
        cd = malloc(size ? size : 1);
        if (!cd || (off_t)(offset + size) > st.st_size || read_at(fd, cd, size, (off_t)offset))
            rc = fail(err, n, SP_LAUNCH_EINPUT, "%s: damaged zip (central directory)", apk);
    }
    int found[8] = {0}; /* per boot_set member: 0 none, 1 stored, else method + 2 */
    for (unsigned long i = 0, o = 0; rc == 0 && i < count; i++) {
        if (o + 46 > size || memcmp(cd + o, "PK\1\2", 4) != 0)
            break;
        unsigned method = u16(cd + o + 10), len = u16(cd + o + 28);
        const char *name = (const char *)cd + o + 46;
        const char *dir = "assets/python/";
        if (o + 46 + len <= size && len > 14 && !memcmp(name, dir, 14)) {
            for (int k = 0; boot_set[k]; k++) {
                size_t b = strlen(boot_set[k]);
                const char *rest = name + 14 + b;
                size_t left = len - 14;
                if (left >= b + 3 && !memcmp(name + 14, boot_set[k], b) &&
                    ((left == b + 3 && !memcmp(rest, ".py", 3)) ||
                     (left == b + 4 && !memcmp(rest, ".pyc", 4))))
                    found[k] = found[k] == 1 ? 1 : method == 0 ? 1 : (int)method + 2;
            }
        }
        o += 46 + len + u16(cd + o + 30) + u16(cd + o + 32);
    }
    for (int k = 0; rc == 0 && boot_set[k]; k++) {
        if (found[k] == 0)
            rc = fail(err, n, SP_LAUNCH_EINPUT,
                      "%s: no assets/python/%s.py or .pyc, the boot set CPython starts from "
                      "(hint: pack with sp-pack, which writes assets/python/)",
                      apk, boot_set[k]);
        else if (found[k] != 1)
            rc = fail(err, n, SP_LAUNCH_EINPUT,
                      "%s: assets/python/%s is compressed (method %d): zipimport reads it "
                      "before zlib can load (hint: keep .py and .pyc stored: AGP "
                      "androidResources.noCompress, bundletool uncompressed_glob)",
                      apk, boot_set[k], found[k] - 2);
    }
    free(end);
    free(cd);
    close(fd);
    return rc;
}

static int status_error(PyStatus st, const char *base, char *err, size_t n)
{
    if (PyStatus_IsExit(st))
        return fail(err, n, st.exitcode ? st.exitcode : SP_LAUNCH_EIO,
                    "%s: Python exited while starting (status %d)", base, st.exitcode);
    return fail(err, n, SP_LAUNCH_EINPUT,
                "%s: cannot start Python: %s%s%s (hint: the APK needs sp-pack's boot set "
                "assets/python/, stored)",
                base, st.func ? st.func : "", st.func ? ": " : "",
                st.err_msg ? st.err_msg : "unknown error");
}

static int add_path(PyConfig *c, const char *base, const char *suffix, char *err, size_t n)
{
    size_t len = strlen(base) + strlen(suffix) + 1;
    char *path = PyMem_RawMalloc(len);
    if (!path)
        return fail(err, n, SP_LAUNCH_EIO, "out of memory");
    snprintf(path, len, "%s%s", base, suffix);
    wchar_t *w = Py_DecodeLocale(path, NULL);
    PyMem_RawFree(path);
    if (!w)
        return fail(err, n, SP_LAUNCH_EINPUT, "%s: cannot decode the path", base);
    PyStatus st = PyWideStringList_Append(&c->module_search_paths, w);
    PyMem_RawFree(w);
    return PyStatus_Exception(st) ? status_error(st, base, err, n) : 0;
}

/* A str for a path (the file system encoding: UTF-8 here), or None. */
static PyObject *path_or_none(const char *s)
{
    if (!s) {
        Py_INCREF(Py_None);
        return Py_None;
    }
    return PyUnicode_DecodeFSDefault(s);
}

static int set_item(PyObject *dict, const char *key, PyObject *value)
{
    if (!value)
        return -1;
    int rc = PyDict_SetItemString(dict, key, value);
    Py_DECREF(value);
    return rc;
}

/* The pending Python exception as one line: the runtime's ImportError
 * message as it is (it names the file), else "what: Type: message". */
static int python_error(const char *what, char *err, size_t n)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *value = PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
#endif
    int code = value && PyErr_GivenExceptionMatches(value, PyExc_OSError) ? SP_LAUNCH_EIO
                                                                          : SP_LAUNCH_EINPUT;
    const char *name = value ? Py_TYPE(value)->tp_name : "error";
    PyObject *s = value ? PyObject_Str(value) : NULL;
    const char *msg = s ? PyUnicode_AsUTF8(s) : NULL;
    if (!msg) {
        PyErr_Clear();
        msg = "";
    }
    if (value && PyErr_GivenExceptionMatches(value, PyExc_ImportError) && *msg)
        fail(err, n, code, "%s", msg);
    else
        fail(err, n, code, "%s: %s%s%s", what, name, *msg ? ": " : "", msg);
    if (n)
        err[strcspn(err, "\n")] = '\0'; /* one line */
    Py_XDECREF(s);
    Py_XDECREF(value);
    return code;
}

/* import _sp_bootstrap; _sp_bootstrap.install(apks=[base, *splits], abi=...,
 * native_dir=..., apk_prefix="", extract_dir=...). Empty strings, not None,
 * so the environment (SP_PACK_*) does not change what a caller asked. */
static int install_finder(const sp_launch_config *cfg, char *err, size_t n)
{
    PyObject *mod = PyImport_ImportModule("_sp_bootstrap");
    if (!mod) {
        if (PyErr_ExceptionMatches(PyExc_ModuleNotFoundError)) {
            PyErr_Clear();
            return fail(err, n, SP_LAUNCH_EINPUT,
                        "%s: no assets/python/_sp_bootstrap.py (hint: pack with sp-pack "
                        "and keep assets/python/ in the base APK)",
                        cfg->base_apk);
        }
        return python_error(cfg->base_apk, err, n);
    }
    PyObject *install = PyObject_GetAttrString(mod, "install");
    Py_DECREF(mod);
    PyObject *kw = PyDict_New();
    PyObject *apks = PyList_New(0);
    int rc = install && kw && apks ? 0 : -1;
    for (size_t i = 0; rc == 0 && i <= cfg->n_split_apks; i++) {
        PyObject *p = path_or_none(i == 0 ? cfg->base_apk : cfg->split_apks[i - 1]);
        rc = p ? PyList_Append(apks, p) : -1;
        Py_XDECREF(p);
    }
    if (rc == 0) {
        Py_INCREF(apks);
        rc = set_item(kw, "apks", apks);
    }
    if (rc == 0)
        rc = set_item(kw, "abi", PyUnicode_FromString(cfg->abi));
    if (rc == 0)
        rc = set_item(kw, "native_dir", path_or_none(cfg->native_dir ? cfg->native_dir : ""));
    if (rc == 0)
        rc = set_item(kw, "apk_prefix", PyUnicode_FromString(""));
    if (rc == 0)
        rc = set_item(kw, "extract_dir", path_or_none(cfg->extract_dir));
    PyObject *empty = rc == 0 ? PyTuple_New(0) : NULL;
    PyObject *finder = empty ? PyObject_Call(install, empty, kw) : NULL;
    Py_XDECREF(empty);
    Py_XDECREF(finder);
    Py_XDECREF(apks);
    Py_XDECREF(kw);
    Py_XDECREF(install);
    if (!finder)
        return python_error(cfg->base_apk, err, n);
    return 0;
}

int sp_launch_init(const sp_launch_config *cfg, char *err, size_t n)
{
    if (n)
        err[0] = '\0';
    if (!cfg->base_apk || !cfg->abi)
        return fail(err, n, SP_LAUNCH_EUSAGE, "the base APK and the ABI are required");
    if (Py_IsInitialized())
        return fail(err, n, SP_LAUNCH_EUSAGE, "Python is already running in this process");
    int rc = check_boot_set(cfg->base_apk, err, n);
    for (size_t i = 0; rc == 0 && i < cfg->n_split_apks; i++)
        rc = check_apk(cfg->split_apks[i], err, n);
    if (rc != 0)
        return rc;

    /* UTF-8 whatever the locale: the boot set holds only the UTF-8 codec
     * (Android's CPython uses UTF-8 anyway). */
    PyPreConfig pre;
    PyPreConfig_InitIsolatedConfig(&pre);
    pre.utf8_mode = 1;
    PyStatus st = Py_PreInitialize(&pre);
    if (PyStatus_Exception(st))
        return status_error(st, cfg->base_apk, err, n);

    PyConfig c;
    PyConfig_InitIsolatedConfig(&c);
    c.site_import = 0;
    c.write_bytecode = 0;
    c.user_site_directory = 0;
    c.install_signal_handlers = cfg->install_signal_handlers;
    c.module_search_paths_set = 1;
    rc = add_path(&c, cfg->base_apk, "/assets/python", err, n);
    if (rc == 0)
        rc = add_path(&c, cfg->base_apk, "/assets/stdlib.zip", err, n);
    if (rc == 0)
        rc = add_path(&c, cfg->base_apk, "/assets/sitepackages.zip", err, n);
    if (rc == 0) {
        /* home inside the APK: CPython's path calculation then looks
         * nowhere else (no search of PATH, no pyvenv.cfg) and sys.prefix
         * names the APK. */
        st = PyConfig_SetBytesString(&c, &c.program_name, "sp-launch");
        if (!PyStatus_Exception(st))
            st = PyConfig_SetBytesString(&c, &c.home, cfg->base_apk);
        if (!PyStatus_Exception(st) && cfg->run_command)
            st = PyConfig_SetBytesString(&c, &c.run_command, cfg->run_command);
        if (!PyStatus_Exception(st) && cfg->run_module)
            st = PyConfig_SetBytesString(&c, &c.run_module, cfg->run_module);
        if (!PyStatus_Exception(st) && (cfg->run_command || cfg->run_module)) {
            /* sys.argv as python gives it: "-c" or "-m" (runpy puts the
             * module's path there), then the arguments. */
            int argc = cfg->argc + 1;
            char **argv = PyMem_RawCalloc((size_t)argc + 1, sizeof *argv);
            if (argv) {
                argv[0] = cfg->run_command ? "-c" : "-m";
                for (int i = 0; i < cfg->argc; i++)
                    argv[i + 1] = cfg->argv[i];
                st = PyConfig_SetBytesArgv(&c, argc, argv);
                PyMem_RawFree(argv);
            } else {
                st = PyStatus_NoMemory();
            }
        }
        if (PyStatus_Exception(st))
            rc = status_error(st, cfg->base_apk, err, n);
    }
    if (rc == 0) {
        st = Py_InitializeFromConfig(&c);
        if (PyStatus_Exception(st))
            rc = status_error(st, cfg->base_apk, err, n);
    }
    PyConfig_Clear(&c);
    if (rc != 0)
        return rc;
    rc = install_finder(cfg, err, n);
    if (rc != 0)
        Py_FinalizeEx();
    return rc;
}
