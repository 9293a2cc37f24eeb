#include "sppack/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sppack/alloc.h"
#include "sppack/path.h"

#define SLOTS 64
#define TEMP_TAG ".sp-pack-tmp-"

enum { FREE, CLAIMED, LIVE };

/* A fixed table, so the signal handler reads it without locks or malloc:
 * a slot is claimed (compare-and-swap), filled, then published as LIVE. */
static struct {
    int state;
    char path[PATH_MAX];
} slots[SLOTS];

void sp_cleanup_register(const char *path)
{
    size_t n = strlen(path);
    if (n >= PATH_MAX)
        return;
    for (int i = 0; i < SLOTS; i++) {
        int expected = FREE;
        if (!__atomic_compare_exchange_n(&slots[i].state, &expected, CLAIMED, 0, __ATOMIC_ACQUIRE,
                                         __ATOMIC_RELAXED))
            continue;
        memcpy(slots[i].path, path, n + 1);
        __atomic_store_n(&slots[i].state, LIVE, __ATOMIC_RELEASE);
        return;
    }
}

void sp_cleanup_forget(const char *path)
{
    for (int i = 0; i < SLOTS; i++) {
        int expected = LIVE;
        if (__atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE) != LIVE ||
            strcmp(slots[i].path, path) != 0)
            continue;
        if (__atomic_compare_exchange_n(&slots[i].state, &expected, CLAIMED, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            slots[i].path[0] = '\0';
            __atomic_store_n(&slots[i].state, FREE, __ATOMIC_RELEASE);
            return;
        }
    }
}

void sp_cleanup_remove_registered(void)
{
    int saved = errno;
    for (int i = 0; i < SLOTS; i++)
        if (__atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE) == LIVE)
            unlink(slots[i].path);
    errno = saved;
}

static void on_signal(int sig)
{
    sp_cleanup_remove_registered();
    /* The default action, once this handler returns: the run ends as the
     * signal says (exit status 128 + sig for a shell). */
    signal(sig, SIG_DFL);
    raise(sig);
}

void sp_cleanup_on_signals(void (*handler)(int sig))
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler ? handler : on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&sa.sa_mask, sigs[i]); /* one handler at a time */
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

/* The PID of "NAME.sp-pack-tmp-PID" when entry is one for name, else 0. */
static long leftover_pid(const char *entry, const char *name)
{
    size_t n = strlen(name), t = strlen(TEMP_TAG);
    if (strncmp(entry, name, n) != 0 || strncmp(entry + n, TEMP_TAG, t) != 0)
        return 0;
    const char *digits = entry + n + t;
    if (!*digits || strspn(digits, "0123456789") != strlen(digits) || strlen(digits) > 9)
        return 0;
    return strtol(digits, NULL, 10);
}

void sp_cleanup_stale(const char *path)
{
    const char *name = sp_path_base(path);
    char *dir = name > path ? sp_xstrndup(path, (size_t)(name - path)) : sp_xstrdup(".");
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return;
    }
    long self = (long)getpid();
    for (struct dirent *de; (de = readdir(d));) {
        long pid = leftover_pid(de->d_name, name);
        if (pid <= 0 || pid == self)
            continue;
        /* EPERM: a live process of another user; only ESRCH means gone. */
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char *leftover = sp_path_join(dir, de->d_name);
        struct stat st;
        if (lstat(leftover, &st) == 0 && S_ISREG(st.st_mode))
            unlink(leftover);
        free(leftover);
    }
    closedir(d);
    free(dir);
}
