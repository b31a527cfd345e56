/* test_hook.c - the on_event hook runner against real /bin/sh scripts: the
 * environment, no injection, splitting, timeouts, limits, failures, shutdown. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "events/hook.h"
#include "util/log.h"
#include "testutil.h"

/* ---- log capture (the supervisor logs from its own thread) ---- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[65536];
static size_t log_len;

static void sink(int level, const char *line, void *opaque)
{
	size_t n = strlen(line);

	pthread_mutex_lock(&log_lock);
	if (log_len + n + 2 < sizeof(log_buf)) {
		memcpy(log_buf + log_len, line, n);
		log_len += n;
		log_buf[log_len++] = '\n';
		log_buf[log_len] = '\0';
	}
	pthread_mutex_unlock(&log_lock);
}

static int count_log(const char *needle)
{
	int n = 0;

	pthread_mutex_lock(&log_lock);
	for (const char *p = log_buf; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	pthread_mutex_unlock(&log_lock);
	return n;
}

/* snprintf into an array that must be large enough. */
#define FMT(buf, ...) assert_true(fits(snprintf(buf, sizeof(buf), __VA_ARGS__), sizeof(buf)))

static bool fits(int n, size_t size)
{
	return n >= 0 && (size_t)n < size;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap(void)
{
	struct timespec ts = { 0, 10 * 1000000 };

	nanosleep(&ts, NULL);
}

/* Polls until the log has needle, at most ms; true if it came. */
static bool wait_log(const char *needle, int ms)
{
	int64_t end = now_ms() + ms;

	while (count_log(needle) == 0) {
		if (now_ms() > end)
			return false;
		nap();
	}
	return true;
}

static bool wait_file(const char *path, int ms)
{
	int64_t end = now_ms() + ms;

	while (access(path, F_OK) != 0) {
		if (now_ms() > end)
			return false;
		nap();
	}
	return true;
}

static bool gone(pid_t pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

/* Polls until pid (and, with group, its process group) no longer exists;
 * the time that took in ms, or -1 past ms. */
static int64_t wait_gone(pid_t pid, bool group, int ms)
{
	int64_t start = now_ms(), end = start + ms;

	while (!gone(pid) || (group && !gone(-pid))) {
		if (now_ms() > end)
			return -1;
		nap();
	}
	return now_ms() - start;
}

static pid_t read_pid(const char *path)
{
	char buf[32] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	return (pid_t)atoi(buf);
}

static char *read_all(const char *path)
{
	static char buf[16384];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

struct fixture {
	char dir[PATH_MAX];
};

static int setup(void **state)
{
	static struct fixture f;

	testutil_temp_dir(f.dir, sizeof(f.dir), "hook");
	pthread_mutex_lock(&log_lock);
	log_len = 0;
	log_buf[0] = '\0';
	pthread_mutex_unlock(&log_lock);
	log_set_level(LOG_DEBUG);
	log_set_sink(sink, NULL);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	log_set_sink(NULL, NULL);
	testutil_remove_tree(f->dir);
	return 0;
}

/* Writes an executable #!/bin/sh script name in the fixture dir with body;
 * returns its path (static until the next call). */
static const char *script(struct fixture *f, const char *name, const char *body)
{
	static char path[PATH_MAX];
	char text[4096];
	int n = snprintf(text, sizeof(text), "#!/bin/sh\n%s\n", body);

	assert_true(n > 0 && (size_t)n < sizeof(text));
	FMT(path, "%s/%s", f->dir, name);
	testutil_write_file(path, text, (size_t)n, TESTUTIL_REPLACE);
	assert_int_equal(chmod(path, 0755), 0);
	return path;
}

static const struct hook_event motion_start = {
	.camera = "garden", .kind = "motion", .phase = "start",
	.wall_us = 1763682161000000,   /* 2025-11-20T23:42:41Z */
};

/* ---- splitting ---- */

static void expect_split(const char *line, int n, ...)
{
	char **argv;
	va_list ap;
	int i;

	assert_int_equal(hook_split(line, &argv), 0);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		assert_string_equal(argv[i], va_arg(ap, const char *));
	va_end(ap);
	assert_null(argv[n]);
	free(argv);
}

static void test_split(void **state)
{
	char **argv = (char **)1;

	expect_split("/usr/bin/notify", 1, "/usr/bin/notify");
	expect_split("  curl \t -d\nhello  ", 3, "curl", "-d", "hello");
	expect_split("prog 'a b' \"c d\"", 3, "prog", "a b", "c d");
	expect_split("prog a'b c'd", 2, "prog", "ab cd");
	expect_split("prog '' \"\"", 3, "prog", "", "");
	expect_split("prog \"it's\" 'say \"hi\"'", 3, "prog", "it's", "say \"hi\"");
	expect_split("prog a\\ b $HOME $(id) `id` ; | > *", 10, "prog", "a\\", "b", "$HOME",
		     "$(id)", "`id`", ";", "|", ">", "*");
	expect_split("'/opt/my hooks/run'", 1, "/opt/my hooks/run");

	assert_int_equal(hook_split("prog 'open", &argv), -EINVAL);
	assert_null(argv);
	assert_int_equal(hook_split("prog \"open", &argv), -EINVAL);
	assert_int_equal(hook_split("prog 'a\"", &argv), -EINVAL);
	assert_int_equal(hook_split("", &argv), -EINVAL);
	assert_int_equal(hook_split(" \t\n", &argv), -EINVAL);
	assert_int_equal(hook_split("'' arg", &argv), -EINVAL);
	assert_int_equal(hook_split(NULL, &argv), -EINVAL);
}

static void test_new_rejects(void **state)
{
	struct hook *h = (struct hook *)1;

	assert_int_equal(hook_new(&h, "", 5, 1), -EINVAL);
	assert_null(h);
	assert_int_equal(hook_new(&h, "   ", 5, 1), -EINVAL);
	assert_int_equal(hook_new(&h, "prog 'x", 5, 1), -EINVAL);
	assert_int_equal(hook_new(&h, "prog", 0, 1), -EINVAL);
	assert_int_equal(hook_new(&h, "prog", 5, 0), -EINVAL);
	assert_null(h);
	hook_free(NULL);

	assert_int_equal(hook_new(&h, "/bin/true", 5, 1), 0);
	struct hook_event ev = motion_start;
	ev.kind = "bogus";
	assert_int_equal(hook_run(h, &ev), -EINVAL);
	ev = motion_start;
	ev.phase = NULL;
	assert_int_equal(hook_run(h, &ev), -EINVAL);
	ev = motion_start;
	ev.camera = "";
	assert_int_equal(hook_run(h, &ev), -EINVAL);
	assert_int_equal(hook_run(h, NULL), -EINVAL);
	hook_free(h);
}

/* ---- the environment, arguments and fds a hook gets ---- */

/* $1: output file, $2: an fd number that must not be inherited; the rest
 * are echoed as args. Written atomically (rename) so the test can poll. */
static const char *ENV_SCRIPT =
	"out=\"$1\"; fd=\"$2\"; shift 2\n"
	"{\n"
	"  for a in \"$@\"; do printf 'arg=[%s]\\n' \"$a\"; done\n"
	"  printf 'CAMERA=[%s]\\n' \"$CAMFS_CAMERA\"\n"
	"  printf 'EVENT=[%s]\\n' \"$CAMFS_EVENT\"\n"
	"  printf 'PHASE=[%s]\\n' \"$CAMFS_PHASE\"\n"
	"  printf 'TIME=[%s]\\n' \"$CAMFS_TIME\"\n"
	"  printf 'TIME_UNIX=[%s]\\n' \"$CAMFS_TIME_UNIX\"\n"
	"  printf 'SNAPSHOT=[%s]\\n' \"${CAMFS_SNAPSHOT-unset}\"\n"
	"  printf 'CLIP=[%s]\\n' \"${CAMFS_CLIP-unset}\"\n"
	"  printf 'PASSED=[%s]\\n' \"$TEST_PASSED\"\n"
	"  printf 'NAMES=[%s]\\n' \"$(tr '\\0' '\\n' </proc/$$/environ | sed 's/=.*//' | sort | "
	"tr '\\n' ' ')\"\n"
	"  printf 'STDIN=[%s]\\n' \"$(readlink /proc/$$/fd/0)\"\n"
	"  if [ -e /proc/$$/fd/$fd ]; then echo LEAK=[yes]; else echo LEAK=[no]; fi\n"
	"} > \"$out.tmp\" && mv \"$out.tmp\" \"$out\"\n";

/* Runs ev through the env script (with hook_pass_env(pass) unless NULL)
 * and returns what it wrote. */
static char *run_env_script(struct fixture *f, const struct hook_event *ev, const char *extra_args,
			    const char *pass)
{
	char cmd[PATH_MAX * 3], out[PATH_MAX];
	int pipefd[2];
	struct hook *h;

	/* An fd camfs holds without O_CLOEXEC: must still not reach the hook. */
	assert_int_equal(pipe(pipefd), 0);
	FMT(out, "%s/env.out", f->dir);
	unlink(out);
	FMT(cmd, "'%s' '%s' %d %s", script(f, "env.sh", ENV_SCRIPT), out,
		 pipefd[0], extra_args);
	assert_int_equal(hook_new(&h, cmd, 10, 2), 0);
	if (pass)
		assert_int_equal(hook_pass_env(h, pass), 0);
	assert_int_equal(hook_run(h, ev), 0);
	assert_true(wait_file(out, 5000));
	hook_free(h);
	close(pipefd[0]);
	close(pipefd[1]);
	return read_all(out);
}

/* Only LANG and LC_TIME of the locale variables, HOME as given. */
static void set_locale_env(void)
{
	extern char **environ;
	char name[256];

	for (bool again = true; again;) {   /* unsetenv reorders environ */
		again = false;
		for (char **e = environ; *e; e++)
			if (strncmp(*e, "LC_", 3) == 0) {
				snprintf(name, sizeof(name), "%.*s", (int)strcspn(*e, "="), *e);
				unsetenv(name);
				again = true;
				break;
			}
	}
	setenv("LANG", "C.UTF-8", 1);
	setenv("LC_TIME", "C", 1);
	setenv("HOME", "/nonexistent/home", 1);
}

static void test_environment(void **state)
{
	struct fixture *f = *state;
	struct hook_event ev = motion_start;
	char *out;

	set_locale_env();
	setenv("CAMFS_TEST_SECRET", "hunter2", 1);   /* as from an EnvironmentFile */
	setenv("CAMFS_CAMERA", "stale value camfs had", 1);
	setenv("TEST_PASSED", "passed on", 1);
	ev.snapshot = "/srv/cam/garden/events/2025-11-20/23-42-41-motion.jpg";
	ev.clip = "/srv/cam/garden/events/2025-11-20/23-42-41-motion.mp4";
	out = run_env_script(f, &ev, "plain 'two words' \"it's\" '$(id)'",
			     "TEST_PASSED NOT_SET_ANYWHERE PATH");
	assert_non_null(strstr(out,
		"arg=[plain]\narg=[two words]\narg=[it's]\narg=[$(id)]\n"
		"CAMERA=[garden]\nEVENT=[motion]\nPHASE=[start]\n"
		"TIME=[2025-11-20T23:42:41+00:00]\nTIME_UNIX=[1763682161]\n"
		"SNAPSHOT=[/srv/cam/garden/events/2025-11-20/23-42-41-motion.jpg]\n"
		"CLIP=[/srv/cam/garden/events/2025-11-20/23-42-41-motion.mp4]\n"
		"PASSED=[passed on]\n"
		"NAMES=[CAMFS_CAMERA CAMFS_CLIP CAMFS_EVENT CAMFS_PHASE CAMFS_SNAPSHOT CAMFS_TIME "
		"CAMFS_TIME_UNIX HOME LANG LC_TIME PATH TEST_PASSED TZ ]\n"
		"STDIN=[/dev/null]\nLEAK=[no]\n"));
	assert_null(strstr(out, "hunter2"));

	/* Without hook_pass_env: the same less TEST_PASSED. */
	out = run_env_script(f, &ev, "", NULL);
	assert_non_null(strstr(out, "PASSED=[]\nNAMES=[CAMFS_CAMERA CAMFS_CLIP CAMFS_EVENT "
			       "CAMFS_PHASE CAMFS_SNAPSHOT CAMFS_TIME CAMFS_TIME_UNIX HOME LANG "
			       "LC_TIME PATH TZ ]\n"));
	unsetenv("CAMFS_TEST_SECRET");
	unsetenv("CAMFS_CAMERA");
	unsetenv("TEST_PASSED");
	assert_int_equal(count_log("camfs had"), 0);
}

/* Names only; never one camfs sets for each event. */
static void test_pass_env_rejects(void **state)
{
	struct hook *h;

	(void)state;
	assert_int_equal(hook_new(&h, "/bin/true", 5, 1), 0);
	assert_int_equal(hook_pass_env(h, "CAMFS_CLIP"), -EINVAL);
	assert_int_equal(hook_pass_env(h, "OK 1BAD"), -EINVAL);
	assert_int_equal(hook_pass_env(h, "A=b"), -EINVAL);
	assert_int_equal(hook_pass_env(h, NULL), -EINVAL);
	assert_int_equal(hook_pass_env(h, " \t"), 0);   /* none */
	hook_free(h);
	assert_null(hook_bad_env_name("A _b c9"));
	assert_string_equal(hook_bad_env_name("A b-c d"), "b-c d");
	assert_string_equal(hook_bad_env_name("A CAMFS_X"), "CAMFS_X");
}

static void test_environment_end_no_paths_local_time(void **state)
{
	struct fixture *f = *state;
	struct hook_event ev = motion_start;
	char *out;

	testutil_set_tz("Europe/Berlin");
	ev.kind = "camera";
	ev.phase = "end";
	ev.wall_us = 1751234567890123;   /* 2025-06-29T22:02:47.89Z, summer time */
	out = run_env_script(f, &ev, "", NULL);
	assert_non_null(strstr(out, "CAMERA=[garden]\nEVENT=[camera]\nPHASE=[end]\n"
				    "TIME=[2025-06-30T00:02:47+02:00]\nTIME_UNIX=[1751234567]\n"
				    "SNAPSHOT=[]\nCLIP=[]\n"));
	ev.wall_us = 1763682161000000;   /* winter */
	out = run_env_script(f, &ev, "", NULL);
	assert_non_null(strstr(out, "TIME=[2025-11-21T00:42:41+01:00]\n"));
	testutil_set_tz("UTC");
}

/* Names and paths are data: nothing in them is run or expanded. */
static void test_no_injection(void **state)
{
	struct fixture *f = *state;
	struct hook_event ev = motion_start;
	char camera[PATH_MAX * 4], snap[PATH_MAX * 2], expect[PATH_MAX * 8];
	char *out;

	FMT(camera,
		 "x;touch %s/pwned1 $(touch %s/pwned2) `touch %s/pwned3` \"q\" 'q' $HOME |&>",
		 f->dir, f->dir, f->dir);
	FMT(snap, "%s/a b;touch %s/pwned4.jpg", f->dir, f->dir);
	ev.camera = camera;
	ev.snapshot = snap;
	ev.clip = "$(touch /tmp/camfs-hook-pwned5)";
	out = run_env_script(f, &ev, "'$(touch /tmp/camfs-hook-pwned6)' ;touch", NULL);
	FMT(expect,
		 "arg=[$(touch /tmp/camfs-hook-pwned6)]\narg=[;touch]\nCAMERA=[%s]\n", camera);
	assert_non_null(strstr(out, expect));
	FMT(expect, "SNAPSHOT=[%s]\nCLIP=[$(touch /tmp/camfs-hook-pwned5)]\n",
		 snap);
	assert_non_null(strstr(out, expect));
	assert_int_equal(testutil_count_files(f->dir, "pwned1"), 0);
	assert_int_equal(testutil_count_files(f->dir, "pwned2"), 0);
	assert_int_equal(testutil_count_files(f->dir, "pwned3"), 0);
	assert_int_equal(testutil_count_files(f->dir, ".jpg"), 0);
	assert_int_not_equal(access("/tmp/camfs-hook-pwned5", F_OK), 0);
	assert_int_not_equal(access("/tmp/camfs-hook-pwned6", F_OK), 0);
	/* The camera name is the log tag, but no line carries the paths. */
	assert_int_equal(count_log("a b;touch"), 0);
}

/* ---- never blocking, timeouts, shutdown ---- */

static void test_returns_at_once_and_free_kills(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX * 2], pidfile[PATH_MAX];
	struct hook *h;
	int64_t t0;
	pid_t pid;

	FMT(pidfile, "%s/pid", f->dir);
	FMT(cmd, "'%s' '%s'",
		 script(f, "sleepy.sh", "echo $$ > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"; sleep 10; "
					 "touch \"$1.survived\""), pidfile);
	assert_int_equal(hook_new(&h, cmd, 30, 4), 0);
	t0 = now_ms();
	assert_int_equal(hook_run(h, &motion_start), 0);
	assert_true(now_ms() - t0 < 500);   /* posix_spawn only, never the hook */
	assert_true(wait_file(pidfile, 5000));
	pid = read_pid(pidfile);
	assert_false(gone(pid));

	/* Shutdown waits 3 s (SHUTDOWN_GRACE_US) for it, then kills it. */
	t0 = now_ms();
	hook_free(h);
	assert_true(now_ms() - t0 >= 2900 && now_ms() - t0 < 4500);
	assert_true(gone(pid));                       /* killed and reaped */
	assert_true(wait_gone(pid, true, 2000) >= 0); /* its sleep too */
	assert_int_equal(count_log("killed at shutdown"), 1);
	assert_int_equal(count_log("[garden]"), 1);
}

/* A hook that ends within the shutdown grace (an event's end notice) is
 * let finish, and shutdown waits no longer than it takes. */
static void test_free_lets_a_quick_hook_finish(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX * 2], done[PATH_MAX];
	struct rusage before, after;
	struct hook *h;
	int64_t t0;

	FMT(done, "%s/done", f->dir);
	FMT(cmd, "'%s' '%s'", script(f, "quick.sh", "sleep 0.3; touch \"$1\""), done);
	assert_int_equal(hook_new(&h, cmd, 30, 4), 0);
	assert_int_equal(hook_run(h, &motion_start), 0);
	t0 = now_ms();
	getrusage(RUSAGE_THREAD, &before);
	hook_free(h);
	getrusage(RUSAGE_THREAD, &after);
	assert_true(now_ms() - t0 < 2000);
	assert_int_equal(access(done, F_OK), 0);
	assert_int_equal(count_log("killed at shutdown"), 0);
	/* The wait sleeps on the hook's pidfd, no naps every few ms. */
	assert_true(after.ru_nvcsw - before.ru_nvcsw < 5);
}

static void test_timeout_kills(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX * 2], pidfile[PATH_MAX];
	struct hook *h;
	sigset_t term, old;
	int64_t t0, waited;
	pid_t pid;

	/* camfs's main thread blocks its stop signals; a hook must not inherit
	 * that. bash keeps the mask it is started with (dash, /bin/sh, clears
	 * it, which would hide an inherited block). */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	FMT(pidfile, "%s/pid", f->dir);
	FMT(cmd, "bash '%s' '%s'",
		 script(f, "hang.sh", "echo $$ > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"; sleep 30"),
		 pidfile);
	assert_int_equal(hook_new(&h, cmd, 1, 1), 0);
	t0 = now_ms();
	assert_int_equal(hook_run(h, &motion_start), 0);
	assert_true(wait_file(pidfile, 3000));
	pid = read_pid(pidfile);
	/* SIGTERM ends the hook (reaped by camfs) well before the SIGKILL at
	 * 3 s. Its orphaned sleep is reaped by init, which may take longer. */
	assert_true(wait_gone(pid, false, 2500 - (int)(now_ms() - t0)) >= 0);
	waited = wait_gone(pid, true, 3500 - (int)(now_ms() - t0));
	assert_true(waited >= 0);
	assert_true(now_ms() - t0 >= 900);   /* not before its time */
	assert_true(wait_log("[garden] on_event hook (motion start) still running after 1 s", 1000));
	assert_int_equal(count_log("still running"), 1);
	assert_int_equal(count_log("exited"), 0);
	assert_int_equal(count_log("killed by signal"), 0);
	hook_free(h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void test_timeout_escalates_to_sigkill(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX * 2], pidfile[PATH_MAX];
	struct hook *h;
	int64_t t0;
	pid_t pid;

	FMT(pidfile, "%s/pid", f->dir);
	FMT(cmd, "'%s' '%s'",
		 script(f, "stubborn.sh", "trap '' TERM; echo $$ > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"; "
					  "while :; do sleep 1; done"), pidfile);
	assert_int_equal(hook_new(&h, cmd, 1, 1), 0);
	t0 = now_ms();
	assert_int_equal(hook_run(h, &motion_start), 0);
	assert_true(wait_file(pidfile, 3000));
	pid = read_pid(pidfile);
	assert_true(wait_gone(pid, true, 6000) >= 0);
	assert_true(now_ms() - t0 >= 2900);   /* SIGTERM at 1 s ignored, SIGKILL at 3 s */
	assert_int_equal(count_log("still running after 1 s"), 1);
	hook_free(h);
	assert_int_equal(count_log("killed at shutdown"), 0);
}

/* ---- the running limit ---- */

static void test_max_running_drops(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX * 2], go[PATH_MAX];
	struct hook *h;
	struct hook_event end = motion_start;

	end.phase = "end";
	FMT(go, "%s/go", f->dir);
	FMT(cmd, "'%s' '%s'",
		 script(f, "wait.sh", "while [ ! -e \"$1\" ]; do sleep 0.05; done"), go);
	assert_int_equal(hook_new(&h, cmd, 30, 2), 0);
	assert_int_equal(hook_run(h, &motion_start), 0);
	assert_int_equal(hook_run(h, &end), 0);
	assert_int_equal(hook_run(h, &motion_start), -EBUSY);
	assert_int_equal(hook_run(h, &end), -EBUSY);
	assert_int_equal(hook_run(h, &motion_start), -EBUSY);
	assert_int_equal(count_log("dropping events"), 1);   /* once, not per event */

	testutil_write_file(go, "", 0, TESTUTIL_REPLACE);
	assert_true(wait_log("on_event: 2 more events dropped", 5000));
	assert_true(wait_log("(motion end) done", 5000));
	assert_true(wait_log("(motion start) done", 5000));
	{
		int64_t end_ms = now_ms() + 5000;   /* both reaped: two slots again */

		while (count_log(") done") < 2 && now_ms() < end_ms)
			nap();
	}
	assert_int_equal(count_log(") done"), 2);
	assert_int_equal(hook_run(h, &motion_start), 0);
	assert_int_equal(hook_run(h, &motion_start), 0);
	hook_free(h);
}

/* ---- failures are logged, never fatal ---- */

/* A missing program fails in posix_spawn (-ENOENT, logged). Where spawn
 * cannot see the exec fail (valgrind runs it as a plain fork) the child
 * exits 127 instead, logged by the supervisor; either way camfs goes on. */
static void expect_missing(struct hook *h, const char *message)
{
	int before = count_log(message) + count_log("exited with status 127");
	int ret = hook_run(h, &motion_start);

	if (ret == 0) {
		int64_t end = now_ms() + 5000;

		while (count_log("exited with status 127") == before && now_ms() < end)
			nap();
		assert_int_equal(count_log("exited with status 127"), before + 1);
	} else {
		assert_int_equal(ret, -ENOENT);
		assert_int_equal(count_log(message), before + 1);
	}
}

static void test_failures_logged(void **state)
{
	struct hook *h;

	assert_int_equal(hook_new(&h, "/bin/sh -c 'exit 3'", 5, 2), 0);
	assert_int_equal(hook_run(h, &motion_start), 0);
	assert_true(wait_log("[garden] on_event hook (motion start) exited with status 3", 5000));
	hook_free(h);

	assert_int_equal(hook_new(&h, "/bin/sh -c 'kill -USR1 $$'", 5, 2), 0);
	assert_int_equal(hook_run(h, &motion_start), 0);
	assert_true(wait_log("killed by signal 10", 5000));
	hook_free(h);

	assert_int_equal(hook_new(&h, "/nonexistent/camfs-hook --flag", 5, 2), 0);
	expect_missing(h, "cannot start /nonexistent/camfs-hook");
	expect_missing(h, "cannot start /nonexistent/camfs-hook");   /* and again: still fine */
	hook_free(h);

	assert_int_equal(hook_new(&h, "camfs-no-such-hook-program", 5, 2), 0);
	expect_missing(h, "cannot start camfs-no-such-hook-program");
	hook_free(h);

	/* PATH lookup works for programs that exist. */
	assert_int_equal(hook_new(&h, "true", 5, 1), 0);
	assert_int_equal(hook_run(h, &motion_start), 0);
	assert_true(wait_log("(motion start) done", 5000));
	hook_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_environment_end_no_paths_local_time, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pass_env_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_injection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_lets_a_quick_hook_finish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_returns_at_once_and_free_kills, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_kills, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_escalates_to_sigkill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_running_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures_logged, setup, teardown),
	};

	testutil_set_tz("UTC");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
