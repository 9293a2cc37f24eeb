/* The JNI side of an app that starts Python with sp_launch_init(): two
 * static methods of the Kotlin object org.example.pyapp.Python
 * (docs/runtime.md shows the Kotlin side).
 *
 *   external fun start(sourceDir: String, splitSourceDirs: Array<String>?,
 *                      nativeLibraryDir: String, abi: String,
 *                      extractDir: String?): String?   // null, or the error
 *   external fun run(code: String): Int                // PyRun_SimpleString
 *
 * Built into libsp_launch_jni.so with the app's NDK build, linked with
 * libpython3.X.so; both go to jniLibs/<abi>/. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <jni.h>
#include <stdlib.h>

#include "sp_launch.h"

static const char *chars(JNIEnv *env, jstring s)
{
    return s ? (*env)->GetStringUTFChars(env, s, NULL) : NULL;
}

static void release(JNIEnv *env, jstring s, const char *c)
{
    if (s && c)
        (*env)->ReleaseStringUTFChars(env, s, c);
}

JNIEXPORT jstring JNICALL Java_org_example_pyapp_Python_start(JNIEnv *env, jclass cls,
                                                              jstring source_dir,
                                                              jobjectArray split_dirs,
                                                              jstring native_dir, jstring abi,
                                                              jstring extract_dir)
{
    (void)cls;
    jsize n = split_dirs ? (*env)->GetArrayLength(env, split_dirs) : 0;
    jstring *split_obj = calloc((size_t)n + 1, sizeof *split_obj);
    const char **splits = calloc((size_t)n + 1, sizeof *splits);
    sp_launch_config cfg = {0};
    cfg.base_apk = chars(env, source_dir);
    cfg.native_dir = chars(env, native_dir);
    cfg.abi = chars(env, abi);
    cfg.extract_dir = chars(env, extract_dir);
    for (jsize i = 0; splits && split_obj && i < n; i++) {
        split_obj[i] = (*env)->GetObjectArrayElement(env, split_dirs, i);
        splits[i] = chars(env, split_obj[i]);
    }
    cfg.split_apks = splits;
    cfg.n_split_apks = splits && split_obj ? (size_t)n : 0;
    cfg.install_signal_handlers = 0; /* the Android runtime owns the signals */
    char err[1024];
    int rc = sp_launch_init(&cfg, err, sizeof err);
    if (rc == SP_LAUNCH_OK)
        PyEval_SaveThread(); /* run() takes the GIL from any thread */
    release(env, source_dir, cfg.base_apk);
    release(env, native_dir, cfg.native_dir);
    release(env, abi, cfg.abi);
    release(env, extract_dir, cfg.extract_dir);
    for (jsize i = 0; splits && split_obj && i < n; i++) {
        release(env, split_obj[i], splits[i]);
        (*env)->DeleteLocalRef(env, split_obj[i]);
    }
    free(splits);
    free(split_obj);
    return rc == SP_LAUNCH_OK ? NULL : (*env)->NewStringUTF(env, err);
}

JNIEXPORT jint JNICALL Java_org_example_pyapp_Python_run(JNIEnv *env, jclass cls, jstring code)
{
    (void)cls;
    const char *c = chars(env, code);
    if (!c)
        return -1;
    PyGILState_STATE g = PyGILState_Ensure();
    int rc = PyRun_SimpleString(c);
    PyGILState_Release(g);
    release(env, code, c);
    return rc;
}
