/* Temporary files that must not outlive the run that writes them, however
 * it ends: removed when it is stopped by SIGINT, SIGTERM or SIGHUP, and,
 * after a run killed outright (SIGKILL, a crash, a power loss), by the next
 * run that writes the same output. sp_temp_path and sp_commit (file.h)
 * register and forget the names they make; this module keeps the list. */
#ifndef SPPACK_CLEANUP_H
#define SPPACK_CLEANUP_H

/* Adds path to the files removed on a signal (a copy is kept). Thread-safe;
 * a path that does not fit, or a full list, is not kept (the next run
 * still removes the file). */
void sp_cleanup_register(const char *path);
/* Takes path off the list again (it was renamed or removed). */
void sp_cleanup_forget(const char *path);

/* Removes every registered file: async-signal-safe, for signal handlers
 * (sp_cleanup_on_signals installs one; a command with its own handler
 * calls this from it). */
void sp_cleanup_remove_registered(void);

/* Installs handler for SIGINT, SIGTERM and SIGHUP (each blocking the
 * others while it runs). NULL: one that removes the registered files, then
 * ends the process by the same signal. */
void sp_cleanup_on_signals(void (*handler)(int sig));

/* Removes what killed runs left beside path: "NAME.sp-pack-tmp-PID" files
 * (NAME: path's last component) whose PID is not a live process on this
 * machine. Another run's live temporary file is never touched. */
void sp_cleanup_stale(const char *path);

#endif
