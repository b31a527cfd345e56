/* hook.c - the on_event hook runner: posix_spawn without a shell, and one
 * supervisor thread that reaps the children and enforces their timeout. */
#include "events/hook.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/array.h"
#include "util/clock.h"
#include "util/log.h"

extern char **environ;

#define KILL_GRACE_US 2000000   /* SIGTERM, then SIGKILL this much later */
#define NO_PIDFD_POLL_MS 100    /* without pidfd_open, look this often */
/* At shutdown, hooks still running (an event's end, sending its notice)
 * get this long, at most their timeout, before they are killed. */
#define SHUTDOWN_GRACE_US 3000000

struct child {
	pid_t pid;              /* also its process group id */
	int pidfd;              /* -1 if pidfd_open failed: polled instead */
	int64_t start_us;       /* monotonic */
	int64_t term_us;        /* when SIGTERM went out, 0 if not yet */
	bool killed;            /* SIGKILL sent */
	char *camera;           /* log tag, owned */
	const char *kind;       /* static strings */
	const char *phase;
};

/* Threads: callers of hook_run (any thread) spawn and append children; only
 * the supervisor removes, reaps and signals them, and closes their pidfds,
 * so it may poll those fds after dropping the lock. */
struct hook {
	char **argv;            /* one allocation, from hook_split */
	int timeout_s;
	int max_running;

	pthread_mutex_t lock;
	bool lock_init;
	struct child *children; /* [max_running]; guarded by lock */
	int nrunning;           /* guarded by lock */
	bool drop_logged;       /* guarded by lock: a drop was logged since the last free slot */
	unsigned dropped;       /* guarded by lock: drops not logged since */

	char **env;             /* "NAME=value" each, NULL-terminated; guarded by lock */
	int n_env;              /* guarded by lock */
	size_t env_cap;         /* room in env */

	int wake_fd;            /* eventfd: a child was added, or stop */
	atomic_bool stop;       /* hook_free was called: end once no hook runs ... */
	int64_t stop_until_us;  /* ... or at this monotonic time; guarded by lock */
	pthread_t thread;
	bool thread_started;
};

/* The splitter behind hook_split: counts words and their bytes when argv is
 * NULL, else also stores them (argv[i] pointing into buf). Word count or
 * -EINVAL for an unbalanced quote. */
static int split(const char *s, char **argv, char *buf, size_t *bytes)
{
	int n = 0;
	size_t used = 0;

	for (;;) {
		char quote = 0;

		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		if (!*s)
			break;
		if (argv)
			argv[n] = buf + used;
		for (; *s; s++) {
			if (quote) {
				if (*s == quote) {
					quote = 0;
					continue;
				}
			} else if (*s == '\'' || *s == '"') {
				quote = *s;
				continue;
			} else if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
				break;
			}
			if (buf)
				buf[used] = *s;
			used++;
		}
		if (quote)
			return -EINVAL;
		if (buf)
			buf[used] = '\0';
		used++;
		n++;
	}
	*bytes = used;
	return n;
}

int hook_split(const char *command_line, char ***argv_out)
{
	size_t bytes;
	char **argv;
	int n;

	*argv_out = NULL;
	if (!command_line)
		return -EINVAL;
	n = split(command_line, NULL, NULL, &bytes);
	if (n <= 0)
		return -EINVAL;
	argv = malloc((size_t)(n + 1) * sizeof(*argv) + bytes);
	if (!argv)
		return -ENOMEM;
	split(command_line, argv, (char *)(argv + n + 1), &bytes);
	argv[n] = NULL;
	if (!argv[0][0]) {   /* "" as the program */
		free(argv);
		return -EINVAL;
	}
	*argv_out = argv;
	return 0;
}

/* Remove children[i]; the caller holds h->lock and has reaped it. */
static void remove_child(struct hook *h, int i)
{
	struct child *c = &h->children[i];

	if (c->pidfd >= 0)
		close(c->pidfd);
	free(c->camera);
	h->children[i] = h->children[--h->nrunning];
	if (h->dropped)
		log_warning("hook", "on_event: %u more events dropped while %d hooks ran",
			    h->dropped, h->max_running);
	h->dropped = 0;
	h->drop_logged = false;
}

static void signal_group(pid_t pid, int sig)
{
	if (killpg(pid, sig) < 0)   /* the hook left its group: at least itself */
		kill(pid, sig);
}

static void report_exit(const struct hook *h, const struct child *c, int status)
{
	if (c->term_us)   /* our timeout; logged when it struck */
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_debug(c->camera, "on_event hook (%s %s) done", c->kind, c->phase);
	else if (WIFEXITED(status))
		log_warning(c->camera, "on_event hook (%s %s) exited with status %d", c->kind,
			    c->phase, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warning(c->camera, "on_event hook (%s %s) killed by signal %d (%s)", c->kind,
			    c->phase, WTERMSIG(status), strsignal(WTERMSIG(status)));
}

/* Reaps what ended and signals what overran. Caller holds h->lock. Returns
 * the poll timeout (ms, -1 for none) until the next thing to do. */
static int check_children(struct hook *h)
{
	int64_t now = clock_monotonic_us(&clock_system), next = -1;

	for (int i = 0; i < h->nrunning;) {
		struct child *c = &h->children[i];
		int64_t deadline;
		int status;
		pid_t r = waitpid(c->pid, &status, WNOHANG);

		if (r == c->pid || (r < 0 && errno != EINTR)) {
			if (r == c->pid)
				report_exit(h, c, status);
			else
				log_error(c->camera, "on_event hook (%s %s): waitpid: %s", c->kind,
					  c->phase, strerror(errno));
			remove_child(h, i);
			continue;   /* slot i now holds another child */
		}
		if (!c->term_us && now >= c->start_us + (int64_t)h->timeout_s * 1000000) {
			log_warning(c->camera, "on_event hook (%s %s) still running after %d s: killed",
				    c->kind, c->phase, h->timeout_s);
			signal_group(c->pid, SIGTERM);
			c->term_us = now;
		} else if (c->term_us && !c->killed && now >= c->term_us + KILL_GRACE_US) {
			signal_group(c->pid, SIGKILL);
			c->killed = true;
		}
		deadline = !c->term_us ? c->start_us + (int64_t)h->timeout_s * 1000000
		         : !c->killed ? c->term_us + KILL_GRACE_US : -1;
		if (deadline >= 0) {
			int64_t wait_ms = (deadline - now + 999) / 1000;

			if (wait_ms < 1)
				wait_ms = 1;
			if (next < 0 || wait_ms < next)
				next = wait_ms;
		}
		if (c->pidfd < 0 && (next < 0 || next > NO_PIDFD_POLL_MS))
			next = NO_PIDFD_POLL_MS;
		i++;
	}
	return (int)next;
}

/* After hook_free: the poll timeout (ms) until its deadline, or -1 when
 * it is time to stop (no hook left, or the deadline passed). Caller holds
 * h->lock. */
static int shutdown_wait(const struct hook *h, int timeout)
{
	int64_t left = h->stop_until_us - clock_monotonic_us(&clock_system);
	int64_t ms = (left + 999) / 1000;

	if (h->nrunning == 0 || left <= 0)
		return -1;
	return timeout >= 0 && timeout < ms ? timeout : (int)ms;
}

static void *supervise(void *arg)
{
	struct hook *h = arg;
	struct pollfd *pfd = calloc((size_t)h->max_running + 1, sizeof(*pfd));
	int timeout = -1;

	for (;;) {
		int n = 0;
		uint64_t v;

		pthread_mutex_lock(&h->lock);
		timeout = check_children(h);
		/* Stopping: the pidfds still wake us as the last hooks end. */
		if (atomic_load(&h->stop) && (timeout = shutdown_wait(h, timeout)) < 0) {
			pthread_mutex_unlock(&h->lock);
			break;
		}
		if (pfd) {
			pfd[n++] = (struct pollfd){ .fd = h->wake_fd, .events = POLLIN };
			for (int i = 0; i < h->nrunning; i++)
				if (h->children[i].pidfd >= 0)
					pfd[n++] = (struct pollfd){ .fd = h->children[i].pidfd,
								    .events = POLLIN };
		} else if (timeout < 0 || timeout > NO_PIDFD_POLL_MS) {
			timeout = NO_PIDFD_POLL_MS;   /* out of memory: just look often */
		}
		pthread_mutex_unlock(&h->lock);

		if (poll(pfd, (nfds_t)n, timeout) > 0 && (pfd[0].revents & POLLIN))
			(void)!read(h->wake_fd, &v, sizeof(v));
	}
	free(pfd);
	return NULL;
}

static bool is_var_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool is_var_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

const char *hook_bad_env_name(const char *names)
{
	for (const char *p = names + strspn(names, " \t"); *p; p += strspn(p, " \t")) {
		size_t len = strcspn(p, " \t");

		if (!is_var_start(*p) || strncmp(p, "CAMFS_", 6) == 0)
			return p;
		for (size_t i = 1; i < len; i++)
			if (!is_var_char(p[i]))
				return p;
		p += len;
	}
	return NULL;
}

/* Adds name=value to h->env, unless name is there already. Caller holds
 * h->lock (or has the hook to itself). */
static int add_env(struct hook *h, const char *name, size_t len, const char *value)
{
	char **env;

	for (int i = 0; i < h->n_env; i++)
		if (strncmp(h->env[i], name, len) == 0 && h->env[i][len] == '=')
			return 0;
	/* The new entry and the NULL after it. */
	if (array_reserve(&h->env, &h->env_cap, (size_t)h->n_env + 2, sizeof(*env)) < 0)
		return -ENOMEM;
	env = h->env;
	if (asprintf(&env[h->n_env], "%.*s=%s", (int)len, name, value) < 0) {
		env[h->n_env] = NULL;
		return -ENOMEM;
	}
	env[++h->n_env] = NULL;
	return 0;
}

/* What every hook gets of camfs's environment: where programs are, the
 * home folder (curl's .netrc, ssh keys), language and time zone. */
static int base_env(struct hook *h)
{
	static const char *const names[] = { "PATH", "HOME", "LANG", "TZ" };
	const char *path = getenv("PATH");
	int ret = add_env(h, "PATH", 4, path ? path : "/usr/local/bin:/usr/bin:/bin");

	for (size_t i = 1; ret == 0 && i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = getenv(names[i]);

		if (v)
			ret = add_env(h, names[i], strlen(names[i]), v);
	}
	for (char **e = environ; ret == 0 && e && *e; e++)
		if (strncmp(*e, "LC_", 3) == 0 && strchr(*e, '='))
			ret = add_env(h, *e, (size_t)(strchr(*e, '=') - *e), strchr(*e, '=') + 1);
	return ret;
}

int hook_pass_env(struct hook *h, const char *names)
{
	int ret = 0;

	if (!names || hook_bad_env_name(names))
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	for (const char *p = names + strspn(names, " \t"); ret == 0 && *p;
	     p += strspn(p, " \t")) {
		size_t len = strcspn(p, " \t");
		char name[256];
		const char *v;

		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		v = len < sizeof(name) ? getenv(name) : NULL;
		if (v)
			ret = add_env(h, name, len, v);
		p += len;
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

int hook_new(struct hook **out, const char *command_line, int timeout_s, int max_running)
{
	struct hook *h;
	int ret;

	*out = NULL;
	if (timeout_s < 1 || max_running < 1)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->wake_fd = -1;
	atomic_init(&h->stop, false);
	h->timeout_s = timeout_s;
	h->max_running = max_running;
	ret = hook_split(command_line, &h->argv);
	if (ret < 0)
		goto out;
	ret = -pthread_mutex_init(&h->lock, NULL);
	if (ret < 0)
		goto out;
	h->lock_init = true;
	ret = base_env(h);
	if (ret < 0)
		goto out;
	h->children = calloc((size_t)max_running, sizeof(*h->children));
	if (!h->children) {
		ret = -ENOMEM;
		goto out;
	}
	h->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->wake_fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = -pthread_create(&h->thread, NULL, supervise, h);
	if (ret < 0)
		goto out;
	h->thread_started = true;
	pthread_setname_np(h->thread, "camfs-hooks");
out:
	if (ret < 0)
		hook_free(h);
	else
		*out = h;
	return ret;
}

void hook_free(struct hook *h)
{
	if (!h)
		return;
	if (h->thread_started) {
		int64_t timeout_us = (int64_t)h->timeout_s * 1000000;
		uint64_t one = 1;

		/* The supervisor waits for the running hooks until then. */
		pthread_mutex_lock(&h->lock);
		h->stop_until_us = clock_monotonic_us(&clock_system) +
				   (timeout_us < SHUTDOWN_GRACE_US ? timeout_us : SHUTDOWN_GRACE_US);
		pthread_mutex_unlock(&h->lock);
		atomic_store(&h->stop, true);
		(void)!write(h->wake_fd, &one, sizeof(one));
		pthread_join(h->thread, NULL);
	}
	/* The supervisor is gone: what it left running is ours to end. */
	for (int i = 0; i < h->nrunning; i++) {
		struct child *c = &h->children[i];
		int status;

		signal_group(c->pid, SIGKILL);
		while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
			;
		log_info(c->camera, "on_event hook (%s %s) killed at shutdown", c->kind, c->phase);
		if (c->pidfd >= 0)
			close(c->pidfd);
		free(c->camera);
	}
	if (h->wake_fd >= 0)
		close(h->wake_fd);
	if (h->lock_init)
		pthread_mutex_destroy(&h->lock);
	for (int i = 0; i < h->n_env; i++) {   /* a passed value may be a token */
		explicit_bzero(h->env[i], strlen(h->env[i]));
		free(h->env[i]);
	}
	free(h->env);
	free(h->children);
	free(h->argv);
	free(h);
}

/* "NAME=value" in a new string, or NULL. */
static char *env_entry(const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);
	char *s = malloc(nl + 1 + vl + 1);

	if (s) {
		memcpy(s, name, nl);
		s[nl] = '=';
		memcpy(s + nl + 1, value, vl + 1);
	}
	return s;
}

static const char *match(const char *s, const char *a, const char *b)
{
	if (!s)
		return NULL;
	return strcmp(s, a) == 0 ? a : strcmp(s, b) == 0 ? b : NULL;
}

enum { NVARS = 7 };

/* Spawns the child for ev into c. Caller holds h->lock. */
static int spawn(struct hook *h, const struct hook_event *ev, struct child *c)
{
	char *vars[NVARS] = { NULL };
	char **envp = NULL;
	char iso[64], unix_s[32];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	bool fa_init = false, attr_init = false;
	sigset_t none, all;
	time_t t = (time_t)(ev->wall_us >= 0 ? ev->wall_us / 1000000
					     : -((-ev->wall_us + 999999) / 1000000));
	struct tm tm;
	long off;
	size_t k = 0;
	pid_t pid;
	int ret;

	if (!localtime_r(&t, &tm))
		return -EINVAL;
	off = tm.tm_gmtoff;
	snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 off < 0 ? '-' : '+', labs(off) / 3600, labs(off) / 60 % 60);
	snprintf(unix_s, sizeof(unix_s), "%lld", (long long)t);

	vars[0] = env_entry("CAMFS_CAMERA", ev->camera);
	vars[1] = env_entry("CAMFS_EVENT", c->kind);
	vars[2] = env_entry("CAMFS_PHASE", c->phase);
	vars[3] = env_entry("CAMFS_TIME", iso);
	vars[4] = env_entry("CAMFS_TIME_UNIX", unix_s);
	vars[5] = env_entry("CAMFS_SNAPSHOT", ev->snapshot ? ev->snapshot : "");
	vars[6] = env_entry("CAMFS_CLIP", ev->clip ? ev->clip : "");
	for (int i = 0; i < NVARS; i++)
		if (!vars[i]) {
			ret = -ENOMEM;
			goto out;
		}
	envp = malloc(((size_t)h->n_env + NVARS + 1) * sizeof(*envp));
	if (!envp) {
		ret = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < h->n_env; i++)   /* never a CAMFS_* (hook_bad_env_name) */
		envp[k++] = h->env[i];
	for (int i = 0; i < NVARS; i++)
		envp[k++] = vars[i];
	envp[k] = NULL;

	ret = -posix_spawn_file_actions_init(&fa);
	if (ret < 0)
		goto out;
	fa_init = true;
	ret = -posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (ret < 0)
		goto out;
	/* Whatever camfs holds without O_CLOEXEC (library sockets, the FUSE
	 * device) stays out of the hook. */
	ret = -posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	if (ret < 0)
		goto out;
	ret = -posix_spawnattr_init(&attr);
	if (ret < 0)
		goto out;
	attr_init = true;
	/* camfs blocks its stop signals and ignores SIGPIPE; a hook must not
	 * inherit either, and gets its own group so a timeout reaches the
	 * whole of it (a script's children included). */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	ret = -posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					       POSIX_SPAWN_SETPGROUP);
	if (ret < 0)
		goto out;
	ret = -posix_spawnp(&pid, h->argv[0], &fa, &attr, h->argv, envp);
	if (ret < 0)
		goto out;
	c->pid = pid;
	c->pidfd = pidfd_open(pid, 0);   /* O_CLOEXEC by itself */
	c->start_us = clock_monotonic_us(&clock_system);
	c->term_us = 0;
	c->killed = false;
out:
	if (attr_init)
		posix_spawnattr_destroy(&attr);
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	free(envp);
	for (int i = 0; i < NVARS; i++)
		free(vars[i]);
	return ret;
}

int hook_run(struct hook *h, const struct hook_event *ev)
{
	struct child c = { .pid = -1, .pidfd = -1 };
	uint64_t one = 1;
	int ret;

	if (!ev || !ev->camera || !*ev->camera)
		return -EINVAL;
	c.kind = match(ev->kind, "motion", "camera");
	c.phase = match(ev->phase, "start", "end");
	if (!c.kind || !c.phase)
		return -EINVAL;

	pthread_mutex_lock(&h->lock);
	if (h->nrunning >= h->max_running) {
		if (!h->drop_logged)
			log_warning(ev->camera, "on_event: %d hooks still running, dropping events "
				    "(%s %s) until one ends", h->nrunning, c.kind, c.phase);
		else
			h->dropped++;
		h->drop_logged = true;
		ret = -EBUSY;
		goto out;
	}
	c.camera = strdup(ev->camera);
	if (!c.camera) {
		ret = -ENOMEM;
		goto out;
	}
	ret = spawn(h, ev, &c);
	if (ret < 0) {
		log_error(ev->camera, "on_event hook (%s %s): cannot start %s: %s", c.kind, c.phase,
			  h->argv[0], strerror(-ret));
		free(c.camera);
		goto out;
	}
	h->children[h->nrunning++] = c;
	(void)!write(h->wake_fd, &one, sizeof(one));
out:
	pthread_mutex_unlock(&h->lock);
	return ret;
}
