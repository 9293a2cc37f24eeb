/* libzip through dlopen: see include/sppack/libzip_load.h for why. */
#include "sppack/libzip_load.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#ifndef SP_LIBZIP_SONAME
#error "SP_LIBZIP_SONAME (libzip's soname) comes from CMakeLists.txt"
#endif

static sp_libzip libzip;
static int loaded;                    /* every field of libzip is set */
static char failure[sizeof((sp_error *)0)->msg]; /* why not, when not */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    void *h = dlopen(SP_LIBZIP_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        /* dlerror() already starts with the soname in most cases. */
        const char *why = dlerror();
        size_t n = strlen(SP_LIBZIP_SONAME);
        if (why && !strncmp(why, SP_LIBZIP_SONAME ": ", n + 2))
            why += n + 2;
        snprintf(failure, sizeof failure, "%s", why ? why : "cannot be opened");
        return;
    }
#define SP_LIBZIP_SYMBOL(name)                                                                     \
    if (!(libzip.name = (__typeof__(libzip.name))dlsym(h, "zip_" #name))) {                        \
        snprintf(failure, sizeof failure, "has no zip_%s", #name);                                 \
        dlclose(h);                                                                                \
        return;                                                                                    \
    }
    SP_LIBZIP_FUNCTIONS(SP_LIBZIP_SYMBOL)
#undef SP_LIBZIP_SYMBOL
    loaded = 1;
}

const sp_libzip *sp_libzip_load(sp_error *err)
{
    pthread_once(&once, load);
    if (!loaded) {
        sp_error_set(err, SP_EIO, SP_LIBZIP_SONAME,
                     "%s (hint: verify needs the libzip library sp-pack was built against)",
                     failure);
        return NULL;
    }
    return &libzip;
}
