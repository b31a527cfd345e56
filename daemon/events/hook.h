/* hook.h - the on_event hook: a user's command run for each event start and
 * end, without a shell, with a timeout, never blocking the caller. */
#ifndef CAMFS_HOOK_H
#define CAMFS_HOOK_H

#include <stdint.h>

struct hook;

/* One event as the hook sees it. Strings are only read during hook_run. */
struct hook_event {
	const char *camera;     /* camera name; also the log tag */
	const char *kind;       /* "motion" or "camera" */
	const char *phase;      /* "start" or "end" */
	int64_t wall_us;        /* event time, µs since the Unix epoch */
	const char *snapshot;   /* snapshot path, or NULL */
	const char *clip;       /* clip path, or NULL */
};

/* command_line is the on_event config value, split into argv without a
 * shell: words are separated by spaces, tabs and newlines; '...' and "..."
 * quote a span literally (spaces included) and join with what touches
 * them (a'b c'd is one word "ab cd"; "" is an empty word). There are no
 * escapes (a backslash is an ordinary character), no variables, globs,
 * pipes or redirections; to get those, name a script. argv[0] is looked up
 * in the daemon's PATH when it has no slash.
 *
 * A hook that runs longer than timeout_s (>= 1) seconds gets SIGTERM, and
 * SIGKILL 2 s later, both sent to its whole process group. At most
 * max_running (>= 1) hooks run at once; events that come while that many
 * run are dropped (logged), so a hook that hangs on every call costs at most
 * max_running processes rather than one more per event.
 *
 * Starts the supervisor thread "camfs-hooks". 0, -EINVAL (empty command,
 * unbalanced quote, bad limits) or another negative errno. */
int hook_new(struct hook **out, const char *command_line, int timeout_s, int max_running);

/* Hooks still running get up to 3 s (at most their timeout) to finish;
 * then the rest are killed (SIGKILL, process group) and reaped, and the
 * supervisor stops. Accepts NULL. */
void hook_free(struct hook *h);

/* Hooks also get the variables named in names (the on_event_env config
 * value: names separated by spaces or tabs), with the values they have in
 * camfs's environment now; a name that is not set there is left out. Call
 * before the first hook_run. 0, -EINVAL (a bad name, see
 * hook_bad_env_name) or -ENOMEM. */
int hook_pass_env(struct hook *h, const char *names);

/* Starts the command for ev and returns at once (posix_spawn; the hook's
 * exit or timeout is logged later by the supervisor, tagged ev->camera).
 * The child gets stdin from /dev/null, camfs's stdout and stderr, no other
 * fd, default signal dispositions and an empty signal mask, its own process
 * group, and a minimal environment: none of camfs's own (which holds the
 * camera passwords of its EnvironmentFile) but PATH (/usr/local/bin:
 * /usr/bin:/bin if unset), HOME, LANG, LC_* and TZ as camfs had them at
 * hook_new, the variables of hook_pass_env, and these (values passed as
 * data, never interpreted):
 *   CAMFS_CAMERA      camera name
 *   CAMFS_EVENT       kind: motion | camera
 *   CAMFS_PHASE       start | end
 *   CAMFS_TIME        local time, ISO 8601 with offset: 2026-11-20T23:42:41+01:00
 *   CAMFS_TIME_UNIX   whole seconds since the epoch
 *   CAMFS_SNAPSHOT    snapshot path, empty if none
 *   CAMFS_CLIP        clip path, empty if none
 * 0 when started; -EBUSY when max_running hooks are running (event
 * dropped); -EINVAL for a bad event; or the spawn's negative errno (e.g.
 * -ENOENT for a missing program), already logged. Thread-safe. The daemon
 * must not reap children it did not spawn (no waitpid(-1), SIGCHLD not
 * SIG_IGN). */
int hook_run(struct hook *h, const struct hook_event *ev);

/* The first word of names (separated by spaces or tabs) that hooks cannot
 * be given: not a variable name ([A-Za-z_][A-Za-z0-9_]*), or CAMFS_*,
 * which camfs sets itself. NULL if there is none. */
const char *hook_bad_env_name(const char *names);

/* Splits command_line as hook_new does (also for checking the config
 * value at load time). *argv_out is a NULL-terminated array in one
 * allocation the caller frees with free(). 0, -EINVAL or -ENOMEM. */
int hook_split(const char *command_line, char ***argv_out);

#endif
