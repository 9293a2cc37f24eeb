/* The exclude presets' patterns, path by path. */
#include "check.h"
#include "sppack/preset.h"

#define TESTS (1u << SP_PRESET_TESTS)
#define BUILD (1u << SP_PRESET_BUILD)
#define BOTH (TESTS | BUILD)

int main(void)
{
    CHECK(sp_preset_find("tests") == SP_PRESET_TESTS);
    CHECK(sp_preset_find("build") == SP_PRESET_BUILD);
    CHECK(sp_preset_find("test") == -1 && sp_preset_find("") == -1);
    CHECK_STR(sp_preset_name(SP_PRESET_BUILD), "build");
    CHECK_STR(sp_preset_names(), "tests, build");

    /* tests/ and test/ inside packages, at any depth; not testing/. */
    CHECK(sp_preset_match(TESTS, 0, "numpy/core/tests/test_api.py") == SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 0, "numpy/tests/__init__.py") == SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 0, "pkg/test/data/x.bin") == SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 0, "numpy/testing/__init__.py") == -1);
    CHECK(sp_preset_match(TESTS, 0, "numpy/testing/tests/test_utils.py") == SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 0, "pkg/tests.py") == -1);
    CHECK(sp_preset_match(TESTS, 0, "pkg/test_x/a.py") == -1);
    CHECK(sp_preset_match(TESTS, 0, "pkg/mytests/a.py") == -1);
    /* A top-level tests/ of site-packages is no directory inside a package. */
    CHECK(sp_preset_match(TESTS, 0, "tests/__init__.py") == -1);
    CHECK(sp_preset_match(TESTS, 0, "test/__init__.py") == -1);
    /* The test packages other code imports stay; deeper ones go. */
    CHECK(sp_preset_match(TESTS, 0, "astropy/tests/runner.py") == -1);
    CHECK(sp_preset_match(TESTS, 0, "astropy/tests/tests/test_run.py") == SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 0, "astropy/io/tests/x.py") == SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 0, "astropy/testsx/x.py") == -1);

    /* A standard library: its own test package and the stdlib roots apps never import. */
    CHECK(sp_preset_match(TESTS, 1, "test/__init__.py") == SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 1, "test/libregrtest/main.py") == SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 1, "unittest/test/test_case.py") == SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 1, "idlelib/idle.py") == SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 1, "tkinter/__init__.py") == SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 1, "turtledemo/__main__.py") == SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 1, "ensurepip/__init__.py") == SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 1, "lib2to3/fixer_base.py") == SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 1, "pydoc_data/topics.py") == SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 1, "pydoc.py") == -1);
    CHECK(sp_preset_match(TESTS, 1, "turtle.py") == -1);
    CHECK(sp_preset_match(TESTS, 1, "json/__init__.py") == -1);
    /* ... at the stdlib's root only: a site-packages idlelib/ is someone's package. */
    CHECK(sp_preset_match(TESTS, 0, "idlelib/idle.py") == -1);
    CHECK(sp_preset_match(TESTS, 1, "email/idlelib/x.py") == -1);
    /* CPython's C test modules, in lib-dynload/ only. */
    CHECK(sp_preset_match(TESTS, 1, "lib-dynload/_testcapi.cpython-311-x86_64-linux-gnu.so") ==
          SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 1, "lib-dynload/_ctypes_test.cpython-311-x86_64-linux-gnu.so") ==
          SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 1, "lib-dynload/xxlimited_35.cpython-311-x86_64-linux-gnu.so") ==
          SP_PRESET_TESTS);
    CHECK(sp_preset_match(TESTS, 1, "lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so") == -1);
    CHECK(sp_preset_match(TESTS, 1,
                          "lib-dynload/_xxsubinterpreters.cpython-311-x86_64-linux-gnu.so") == -1);
    CHECK(sp_preset_match(TESTS, 0, "pkg/_testcapi.so") == -1);

    /* build: by file name, anywhere. */
    CHECK(sp_preset_match(BUILD, 0, "numpy/core/lib/libnpymath.a") == SP_PRESET_BUILD);
    CHECK(sp_preset_match(BUILD, 0, "numpy/core/include/numpy/ndarrayobject.h") == SP_PRESET_BUILD);
    CHECK(sp_preset_match(BUILD, 0, "numpy/__init__.pyi") == SP_PRESET_BUILD);
    CHECK(sp_preset_match(BUILD, 0, "numpy/__init__.pxd") == SP_PRESET_BUILD);
    CHECK(sp_preset_match(BUILD, 1, "x.pyx") == SP_PRESET_BUILD);
    CHECK(sp_preset_match(BUILD, 0, "numpy/__init__.py") == -1);
    CHECK(sp_preset_match(BUILD, 0, "pkg/data.hdf") == -1);
    CHECK(sp_preset_match(BUILD, 0, "pkg/py.typed") == -1);
    /* Only the presets asked for; tests first. */
    CHECK(sp_preset_match(BUILD, 0, "numpy/core/tests/test_api.py") == -1);
    CHECK(sp_preset_match(TESTS, 0, "numpy/__init__.pyi") == -1);
    CHECK(sp_preset_match(BOTH, 0, "numpy/core/tests/x.pyi") == SP_PRESET_TESTS);
    CHECK(sp_preset_match(0, 1, "test/__init__.py") == -1);
    return check_done();
}
