/* log.h - the one logging module: syslog levels, a tag per line (module or
 * camera name), stderr by default, journald priority prefixes under systemd,
 * syslog once daemonized. */
#ifndef CAMFS_LOG_H
#define CAMFS_LOG_H

#include <syslog.h>

/* Lines above max_level (LOG_ERR..LOG_DEBUG) are dropped. Thread-safe. */
void log_set_level(int max_level);
int log_get_level(void);
/* "error", "warning", "notice", "info", "debug" -> LOG_*; -1 if unknown. */
int log_level_parse(const char *name);

/* One line: "<level>: [<tag>] <message>". URLs in the message have their
 * credentials redacted before the line leaves the process. */
void log_msg(int level, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(tag, ...) log_msg(LOG_ERR, tag, __VA_ARGS__)
#define log_warning(tag, ...) log_msg(LOG_WARNING, tag, __VA_ARGS__)
#define log_notice(tag, ...) log_msg(LOG_NOTICE, tag, __VA_ARGS__)
#define log_info(tag, ...) log_msg(LOG_INFO, tag, __VA_ARGS__)
#define log_debug(tag, ...) log_msg(LOG_DEBUG, tag, __VA_ARGS__)

/* From now on, lines go to syslog (facility daemon, "[<tag>] <message>")
 * instead of stderr: for a daemon whose stderr is /dev/null. */
void log_to_syslog(const char *ident);

/* Route FFmpeg's own messages through log_msg (tag "ffmpeg"), redacted. */
void log_route_ffmpeg(void);

/* Tests: receive every formatted line instead of stderr (NULL restores). */
typedef void log_sink_fn(int level, const char *line, void *opaque);
void log_set_sink(log_sink_fn *sink, void *opaque);

/* libwebsockets' log emitter (lws_set_log_level): its lines, without their
 * own timestamp and newline, as info under the tag "lws". */
void log_lws_line(int level, const char *line);

#endif
