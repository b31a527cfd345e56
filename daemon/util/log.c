/* log.c - formats, redacts and writes log lines to stderr or syslog; one
 * lock so lines from different threads never interleave. */
#include "util/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libavutil/log.h>

#include "util/url.h"

static atomic_int max_level = LOG_INFO;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static log_sink_fn *sink;     /* guarded by lock */
static void *sink_opaque;     /* guarded by lock */
static bool to_syslog;        /* guarded by lock */

static const char *const level_names[] = {
	[LOG_EMERG] = "emergency", [LOG_ALERT] = "alert", [LOG_CRIT] = "critical",
	[LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_set_level(int level) { atomic_store(&max_level, level); }
int log_get_level(void) { return atomic_load(&max_level); }

int log_level_parse(const char *name)
{
	for (int i = LOG_ERR; i <= LOG_DEBUG; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

void log_set_sink(log_sink_fn *fn, void *opaque)
{
	pthread_mutex_lock(&lock);
	sink = fn;
	sink_opaque = opaque;
	pthread_mutex_unlock(&lock);
}

void log_to_syslog(const char *ident)
{
	pthread_mutex_lock(&lock);
	/* LOG_NDELAY: connect now, while the socket can still be reached
	 * (before a chroot or sandbox, should one come). */
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	to_syslog = true;
	pthread_mutex_unlock(&lock);
}

static void vlog(int level, const char *tag, const char *fmt, va_list ap)
{
	char msg[2048], clean[2048];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	url_redact(msg, clean, sizeof(clean));

	pthread_mutex_lock(&lock);
	if (sink) {
		char line[2200];
		snprintf(line, sizeof(line), "%s: [%s] %s", level_names[level], tag, clean);
		sink(level, line, sink_opaque);
	} else if (to_syslog) {
		syslog(level, "[%s] %s", tag, clean);
	} else {
		/* Under systemd, stderr is the journal: "<N>" sets the priority. */
		if (getenv("JOURNAL_STREAM"))
			fprintf(stderr, "<%d>", level);
		fprintf(stderr, "%s: [%s] %s\n", level_names[level], tag, clean);
	}
	pthread_mutex_unlock(&lock);
}

void log_msg(int level, const char *tag, const char *fmt, ...)
{
	va_list ap;

	if (level > atomic_load(&max_level))
		return;
	va_start(ap, fmt);
	vlog(level, tag, fmt, ap);
	va_end(ap);
}

static void ffmpeg_callback(void *avcl, int av_level, const char *fmt, va_list ap)
{
	int level;

	if (av_level <= AV_LOG_ERROR)
		level = LOG_ERR;
	else if (av_level <= AV_LOG_WARNING)
		level = LOG_WARNING;
	else if (av_level <= AV_LOG_INFO)
		level = LOG_INFO;
	else
		level = LOG_DEBUG;
	/* FFmpeg's errors about one camera are reported by the camera itself,
	 * with context; its own lines are detail for debugging. */
	if (level < LOG_DEBUG)
		level = LOG_DEBUG;
	if (level > atomic_load(&max_level))
		return;
	(void)avcl;
	vlog(level, "ffmpeg", fmt, ap);
}

void log_route_ffmpeg(void)
{
	av_log_set_callback(ffmpeg_callback);
}

void log_lws_line(int level, const char *line)
{
	const char *stamp_end = strchr(line, ']');
	char msg[256];
	size_t len;

	/* lws lines carry a timestamp "[date] W: ..." and a newline. */
	if (line[0] == '[' && stamp_end)
		line = stamp_end + 2;
	snprintf(msg, sizeof(msg), "%s", line);
	len = strlen(msg);
	while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
		msg[--len] = '\0';
	/* At info whatever lws calls it: its errors are mostly a client's doing
	 * (headers too large, a TLS handshake given up), and a client must not
	 * be able to fill the log with errors. What matters to the user (no
	 * listening socket, a bad certificate) camfs says itself. */
	(void)level;
	log_info("lws", "%s", msg);
}
