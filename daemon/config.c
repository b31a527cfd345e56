/* config.c - camfs settings from one key table: INI file (via inih), -o
 * overrides, --help text and the sample config all walk keys[] below. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/array.h"
#include "util/netlist.h"
#include "events/hook.h"
#include "util/log.h"

enum key_type {
	T_PATH,      /* absolute path */
	T_INT,       /* whole number in min..max */
	T_SIZE,      /* bytes, optional K/M/G/T suffix (1024-based) */
	T_FREE,      /* T_SIZE or "N%" */
	T_ZONE,      /* tz database name, or empty for the system zone */
	T_LEVEL,     /* log level name */
	T_TRANSPORT, /* tcp | udp */
	T_URL,       /* secret: never printed */
	T_MOTION,    /* bitrate | pixels | off */
	T_COMMAND,   /* hook command line (hook_split); never printed; empty: none */
	T_NAMES,     /* environment variable names, space-separated; empty: none */
	T_LISTEN,    /* "off" or ADDRESS:PORT, an IPv6 address in brackets */
	T_HTTP_AUTH, /* users | none */
	T_ORIGIN,    /* scheme://host[:port], no path; empty: none */
	T_BOOL,      /* yes | no */
	T_PUSH,      /* none | esp32 | browser */
	T_TOKEN,     /* secret: never printed; at least CONFIG_TOKEN_MIN characters */
	T_TEXT,      /* printable, no spaces, at most 63 characters; empty: none */
	T_NETS,      /* networks (netlist.h), space-separated */
};

enum key_section { S_GLOBAL, S_CAMERA };

/* push's values, by enum config_push. */
static const char *const push_names[] = {
	[CONFIG_PUSH_NONE] = "none",
	[CONFIG_PUSH_ESP32] = "esp32",
	[CONFIG_PUSH_BROWSER] = "browser",
};

struct key {
	const char *name;
	enum key_section section;
	enum key_type type;
	size_t offset;       /* into struct config or struct camera_config */
	int min, max;        /* T_INT */
	bool inherit;        /* T_INT, T_MOTION override: empty means "use [camfs]" (-1) */
	bool optional;       /* T_PATH, T_URL: empty means none (NULL) */
	const char *def;     /* parsed like a value; NULL: the key is required */
	const char *sample;  /* value shown in the sample when def is NULL */
	const char *help;    /* one short sentence, no trailing period */
};

#define G(field) .section = S_GLOBAL, .offset = offsetof(struct config, field)
#define C(field) .section = S_CAMERA, .offset = offsetof(struct camera_config, field)

static const struct key keys[] = {
	{ "store", G(store), .type = T_PATH, .def = "/var/lib/camfs",
	  .help = "Directory of the plain-file store" },
	{ "store_create", G(store_create), .type = T_BOOL, .def = "no",
	  .help = "Create the store if it is missing; no: refuse to start (a missing store is "
	  "more likely a disk not mounted than a wish to fill the root filesystem)" },
	{ "segment_seconds", G(segment_seconds), .type = T_INT, .min = 2, .max = 3600,
	  .def = "60", .help = "Cut segments at the first keyframe after N seconds" },
	{ "retain_days", G(retain_days), .type = T_INT, .min = 0, .max = 36500,
	  .def = "30", .help = "Delete recordings older than N days; 0: keep them forever" },
	{ "max_store_size", G(max_store_size), .type = T_SIZE, .def = "0",
	  .help = "Delete the oldest recordings beyond this store size, events included; 0: no limit" },
	{ "min_free", G(min_free), .type = T_FREE, .def = "5%",
	  .help = "Delete the oldest recordings to keep this much free: a size, or N% of the filesystem" },
	{ "timezone", G(timezone), .type = T_ZONE, .def = "",
	  .help = "Zone of day folders and file names, e.g. Europe/Berlin; empty: the system's" },
	{ "log_level", G(log_level), .type = T_LEVEL, .def = "info",
	  .help = "Most verbose messages logged: error, warning, notice, info or debug" },
	{ "stall_seconds", G(stall_seconds), .type = T_INT, .min = 1, .max = 300,
	  .def = "5", .help = "Reconnect to a camera after N seconds without a packet" },
	{ "motion", G(motion), .type = T_MOTION, .def = "bitrate",
	  .help = "Motion scoring: bitrate (packet sizes, no decoding), pixels (decoded keyframes) or off" },
	{ "motion_threshold", G(motion_threshold), .type = T_INT, .min = 0, .max = 100,
	  .def = "0", .help = "Score a second must reach to count as motion; 0: the method's "
	  "default (bitrate 50, pixels 2)" },
	{ "motion_min_seconds", G(motion_min_seconds), .type = T_INT, .min = 1, .max = 3600,
	  .def = "2", .help = "Start a motion event after N seconds of motion in a row" },
	{ "events_retain_days", G(events_retain_days), .type = T_INT, .min = 0, .max = 36500,
	  .def = "30", .help = "Delete events older than N days; 0: keep them forever" },
	{ "event_pre_roll", G(event_pre_roll), .type = T_INT, .min = 0, .max = 300,
	  .def = "5", .help = "Start an event's clip N seconds before the event" },
	{ "event_post_roll", G(event_post_roll), .type = T_INT, .min = 0, .max = 300,
	  .def = "10", .help = "End an event's clip N seconds after the event" },
	{ "on_event", G(on_event), .type = T_COMMAND, .def = "",
	  .help = "Command run without a shell at each event start and end; CAMFS_* variables describe it" },
	{ "on_event_timeout", G(on_event_timeout), .type = T_INT, .min = 1, .max = 3600,
	  .def = "30", .help = "Stop an on_event command still running after N seconds" },
	{ "on_event_env", G(on_event_env), .type = T_NAMES, .def = "",
	  .help = "Names of variables of camfs's environment that on_event also gets (besides PATH, "
	  "HOME, LANG, LC_*, TZ and CAMFS_*)" },
	{ "upload_max_size", G(upload_max_size), .type = T_SIZE, .def = "10M",
	  .help = "Delete a camera upload larger than this unread" },
	{ "upload_max_per_day", G(upload_max_per_day), .type = T_SIZE, .def = "512M",
	  .help = "Delete a camera's further uploads of the day once it filed this much; 0: no limit" },
	{ "http", G(http), .type = T_LISTEN, .def = "127.0.0.1:8080",
	  .help = "Serve the tree and the viewer over HTTP at ADDRESS:PORT ([::]:PORT for IPv6), "
	  "or off; other than loopback needs http_users or http_auth = none" },
	{ "http_tls_cert", G(http_tls_cert), .type = T_PATH, .optional = true, .def = "",
	  .help = "PEM certificate (chain) for HTTPS and HTTP/2; read again on SIGHUP" },
	{ "http_tls_key", G(http_tls_key), .type = T_PATH, .optional = true, .def = "",
	  .help = "PEM private key of http_tls_cert" },
	{ "http_users", G(http_users), .type = T_PATH, .optional = true, .def = "",
	  .help = "htpasswd file of HTTP users (bcrypt or SHA-512 crypt); read again on SIGHUP" },
	{ "http_auth", G(http_auth), .type = T_HTTP_AUTH, .def = "users",
	  .help = "users: log in as one of http_users when it is set; none: anybody may watch, "
	  "even from other machines" },
	{ "http_webview", G(http_webview), .type = T_PATH, .optional = true, .def = "",
	  .help = "Folder of the web viewer served at /; empty: the installed one" },
	{ "http_cors", G(http_cors), .type = T_ORIGIN, .def = "",
	  .help = "Origin (like https://nvr.example.org) allowed to read the export from its "
	  "pages; empty: none" },
	{ "http_max_clients", G(http_max_clients), .type = T_INT, .min = 1, .max = 60000,
	  .def = "256", .help = "HTTP connections served at once; more get 503" },
	{ "http_rate", G(http_rate), .type = T_INT, .min = 0, .max = 100000,
	  .def = "50", .help = "Requests a second one client address may make, in bursts of "
	  "four times that; more get 429; 0: no limit" },
	{ "http_header_seconds", G(http_header_seconds), .type = T_INT, .min = 1, .max = 300,
	  .def = "10", .help = "Close an HTTP connection that took N seconds to send a request's "
	  "headers (slowloris)" },
	{ "http_idle_seconds", G(http_idle_seconds), .type = T_INT, .min = 1, .max = 3600,
	  .def = "30", .help = "Close an HTTP connection idle N seconds between requests" },
	{ "http_stall_seconds", G(http_stall_seconds), .type = T_INT, .min = 1, .max = 3600,
	  .def = "20", .help = "Close an HTTP connection whose client read nothing for N seconds" },
	{ "esp32_listen", G(esp32_listen), .type = T_LISTEN, .def = "off",
	  .help = "Listen for ESP32-CAM boards pushing over WebSocket at ADDRESS:PORT (they "
	  "connect to ws://HOST:PORT/ws), or off" },
	{ "esp32_allow", G(esp32_allow), .type = T_NETS,
	  .def = "127.0.0.0/8 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 169.254.0.0/16 ::1 "
	  "fc00::/7 fe80::/10",
	  .help = "Networks ESP32 boards may connect from (boards send no password)" },
	{ "esp32_accept_unknown", G(esp32_accept_unknown), .type = T_TEXT, .def = "",
	  .help = "A push = esp32 camera that records boards whose hostName no camera names, "
	  "or that send none; empty: such boards are turned away" },

	{ "url", C(url), .type = T_URL, .def = NULL,
	  .sample = "rtsp://viewer:${FRONT_DOOR_PASSWORD}@192.0.2.10/stream1",
	  .help = "Stream URL; take its password from the environment with ${VAR}" },
	{ "transport", C(transport), .type = T_TRANSPORT, .def = "tcp",
	  .help = "RTSP transport: tcp or udp" },
	{ "retain_days", C(retain_days), .type = T_INT, .min = 0, .max = 36500,
	  .inherit = true, .def = "",
	  .help = "Delete this camera's recordings older than N days" },
	{ "stall_seconds", C(stall_seconds), .type = T_INT, .min = 1, .max = 300,
	  .inherit = true, .def = "",
	  .help = "Reconnect this camera after N seconds without a packet" },
	{ "motion", C(motion), .type = T_MOTION, .inherit = true, .def = "",
	  .help = "Motion scoring for this camera: bitrate, pixels or off" },
	{ "motion_threshold", C(motion_threshold), .type = T_INT, .min = 0, .max = 100,
	  .inherit = true, .def = "",
	  .help = "Score a second must reach to count as motion; 0: the method's default" },
	{ "motion_min_seconds", C(motion_min_seconds), .type = T_INT, .min = 1, .max = 3600,
	  .inherit = true, .def = "",
	  .help = "Start this camera's motion events after N seconds of motion in a row" },
	{ "motion_url", C(motion_url), .type = T_URL, .optional = true, .def = "",
	  .help = "Score motion on this low-resolution substream instead of url; ${VAR} for its password" },
	{ "push", C(push), .type = T_PUSH, .def = "none",
	  .help = "none: record url; esp32: an ESP32-CAM board pushes to esp32_listen; "
		  "browser: a phone or laptop pushes from the viewer's camera.html (no url)" },
	{ "token", C(token), .type = T_TOKEN, .def = "",
	  .help = "push = browser: the secret the camera page sends (${VAR}; 16 characters or more)" },
	{ "esp32_host", C(esp32_host), .type = T_TEXT, .def = "",
	  .help = "push = esp32: the hostName the board reports (its settings page's Host Name)" },
	{ "events_incoming", C(events_incoming), .type = T_PATH, .optional = true, .def = "",
	  .help = "Folder the camera uploads snapshots into (FTP); each finished JPEG becomes an event" },
	{ "events_retain_days", C(events_retain_days), .type = T_INT, .min = 0, .max = 36500,
	  .inherit = true, .def = "",
	  .help = "Delete this camera's events older than N days" },
};

#undef G
#undef C

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* Where a value came from, for messages: "FILE:LINE: key: ..." or "-o: key: ...". */
struct where {
	FILE *err;
	const char *file;
	int line;            /* 0: no line */
};

static void complain(const struct where *w, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "FILE:LINE: key: message" (no LINE when line <= 0, no key when NULL). */
static void vcomplain(const struct where *w, int line, const char *key, const char *fmt, va_list ap)
{
	FILE *err = w->err ? w->err : stderr;

	if (line > 0)
		fprintf(err, "%s:%d: ", w->file, line);
	else
		fprintf(err, "%s: ", w->file);
	if (key)
		fprintf(err, "%s: ", key);
	vfprintf(err, fmt, ap);
	fputc('\n', err);
}

static void complain(const struct where *w, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcomplain(w, w->line, key, fmt, ap);
	va_end(ap);
}

static const struct key *find_key(const char *name, size_t len, enum key_section section)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].section == section && strlen(keys[i].name) == len &&
		    strncmp(keys[i].name, name, len) == 0)
			return &keys[i];
	return NULL;
}

static bool is_var_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool is_var_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* Expands ${VAR} and $$ in raw into *out (malloc'd). Messages name the
 * variable but never print a value: values may be credentials. Reports
 * every problem in raw. Returns 0, -EINVAL or -ENOMEM. */
static int expand(const char *raw, char **out, const struct where *w, const char *key)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	int ret = 0;

	*out = NULL;
	if (!f)
		return -ENOMEM;
	for (const char *p = raw; *p; p++) {
		if (*p != '$') {
			fputc(*p, f);
			continue;
		}
		if (p[1] == '$') {
			fputc('$', f);
			p++;
			continue;
		}
		if (p[1] != '{') {
			complain(w, key, "\"$\" must start ${NAME} or be doubled as \"$$\"");
			ret = -EINVAL;
			continue;
		}
		const char *name = p + 2, *end = strchr(name, '}');
		if (!end) {
			complain(w, key, "\"${\" has no closing \"}\"");
			ret = -EINVAL;
			break;
		}
		size_t len = (size_t)(end - name);
		bool valid = len > 0 && is_var_start(name[0]);
		for (size_t i = 1; valid && i < len; i++)
			valid = is_var_char(name[i]);
		if (!valid) {
			complain(w, key, "\"${%.*s}\" is not a valid variable name",
				 (int)(len > 64 ? 64 : len), name);
			ret = -EINVAL;
		} else {
			char var[256];
			const char *v = NULL;

			if (len < sizeof(var)) {
				memcpy(var, name, len);
				var[len] = '\0';
				v = getenv(var);
			}
			if (v)
				fputs(v, f);
			else {
				complain(w, key, "environment variable %.*s is not set",
					 (int)len, name);
				ret = -EINVAL;
			}
		}
		p = end;
	}
	if (ferror(f) && ret == 0)
		ret = -ENOMEM;
	if (fclose(f) != 0 && ret == 0)
		ret = -ENOMEM;
	if (ret < 0) {
		/* The buffer may hold expanded secrets: wipe before freeing. */
		if (buf)
			explicit_bzero(buf, size);
		free(buf);
		return ret;
	}
	*out = buf;
	return 0;
}

/* Whole number with an optional leading '-', nothing else (no spaces, no '+'). */
static int parse_int(const char *s, long *out)
{
	const char *d = s[0] == '-' ? s + 1 : s;
	char *end;

	if (!isdigit((unsigned char)d[0]))
		return -EINVAL;
	errno = 0;
	*out = strtol(s, &end, 10);
	if (*end)
		return -EINVAL;
	return errno == ERANGE ? -ERANGE : 0;
}

/* Digits with an optional K/M/G/T suffix, 1024-based. -ERANGE on overflow. */
static int parse_size(const char *s, int64_t *out)
{
	static const char units[] = "KMGT";
	int64_t v = 0, mult = 1;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (*p - '0');
	}
	if (*p) {
		const char *u = strchr(units, toupper((unsigned char)*p));

		if (!u || p[1])
			return -EINVAL;
		for (const char *q = units; q <= u; q++)
			mult *= 1024;
	}
	if (v > INT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

/* "N%" or "N.N%" with N in 0..<100 and at most 9 decimals. Parsed by hand
 * (strtod follows the locale's decimal point); one division rounds as
 * strtod would. */
static int parse_percent(const char *s, double *out)
{
	const char *p = s;
	int64_t mantissa = 0, scale = 1;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		mantissa = mantissa * 10 + (*p - '0');
		if (mantissa >= 100)
			return -ERANGE;
	}
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			if (scale == 1000000000)
				return -EINVAL;
			mantissa = mantissa * 10 + (*p - '0');
			scale *= 10;
		}
	}
	if (p[0] != '%' || p[1])
		return -EINVAL;
	*out = (double)mantissa / (double)scale;
	return 0;
}

/* The zone database directory: $TZDIR as glibc reads it, or the usual one. */
static const char *zone_dir(void)
{
	const char *dir = getenv("TZDIR");

	return dir && *dir ? dir : "/usr/share/zoneinfo";
}

/* A tz database name: a TZif file under zone_dir(). Rejects absolute
 * paths and "..". */
static bool zone_exists(const char *zone)
{
	char path[PATH_MAX], magic[4];
	struct stat st;
	FILE *f;
	bool ok;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", zone_dir(), zone) >= sizeof(path))
		return false;
	if (zone[0] == '/' || strstr(zone, "..") || strspn(zone,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-.") != strlen(zone))
		return false;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	f = fopen(path, "rb");
	if (!f)
		return false;
	ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
	fclose(f);
	return ok;
}

/* "off" or ADDRESS:PORT: an IPv4 address, localhost, or an IPv6 address
 * in brackets. */
static int parse_listen(const char *s, struct config_listen *out)
{
	const char *colon = strrchr(s, ':');
	struct in6_addr a6;
	struct in_addr a4;
	size_t len;
	long port;

	memset(out, 0, sizeof(*out));
	if (strcasecmp(s, "off") == 0)
		return 0;
	if (!colon || parse_int(colon + 1, &port) < 0 || port < 1 || port > 65535)
		return -EINVAL;
	len = (size_t)(colon - s);
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
		if (len >= sizeof(out->host))
			return -EINVAL;
		memcpy(out->host, s, len);
		if (inet_pton(AF_INET6, out->host, &a6) != 1)
			return -EINVAL;
	} else {
		if (len >= sizeof(out->host))
			return -EINVAL;
		memcpy(out->host, s, len);
		if (strcasecmp(out->host, "localhost") == 0)
			strcpy(out->host, "127.0.0.1");
		if (inet_pton(AF_INET, out->host, &a4) != 1)
			return -EINVAL;
	}
	out->port = (int)port;
	return 0;
}

bool config_listen_is_loopback(const struct config_listen *l)
{
	struct in6_addr a6;

	if (inet_pton(AF_INET6, l->host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return strncmp(l->host, "127.", 4) == 0;
}

/* scheme://host[:port] as a browser sends it in Origin: no path, no
 * credentials, no space. */
static bool is_origin(const char *s)
{
	const char *host;

	if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else
		return false;
	return *host && strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			       "0123456789.-:[]") == strlen(host);
}

/* Replaces a string field; empty becomes NULL when allowed. */
static int set_string(char **field, const char *value, bool empty_is_null)
{
	char *copy = NULL;

	if (!(empty_is_null && !*value)) {
		copy = strdup(value);
		if (!copy)
			return -ENOMEM;
	}
	free(*field);
	*field = copy;
	return 0;
}

/* Whether a hook command line leaves a quote open, as hook.h defines
 * quoting; hook_split() says only -EINVAL, and the message should say why. */
static bool quote_left_open(const char *s)
{
	char quote = 0;

	for (; *s; s++) {
		if (quote && *s == quote)
			quote = 0;
		else if (!quote && (*s == '\'' || *s == '"'))
			quote = *s;
	}
	return quote != 0;
}

/* Parses value (already expanded) into the field of base that k names.
 * Messages quote raw, the text as written, so they never show an
 * expanded variable. Returns 0, -EINVAL or -ENOMEM. */
static int parse_value(const struct key *k, void *base, const char *raw, const char *value,
		       const struct where *w)
{
	void *field = (char *)base + k->offset;
	int ret;

	switch (k->type) {
	case T_PATH:
		if (k->optional && !*value)
			return set_string(field, value, true);
		if (value[0] != '/') {
			complain(w, k->name, "\"%s\" is not an absolute path", raw);
			return -EINVAL;
		}
		return set_string(field, value, false);
	case T_INT: {
		long v;

		if (k->inherit && !*value) {
			*(int *)field = -1;
			return 0;
		}
		ret = parse_int(value, &v);
		if (ret == -EINVAL) {
			complain(w, k->name, "\"%s\" is not a whole number", raw);
			return ret;
		}
		if (ret < 0 || v < k->min || v > k->max) {
			complain(w, k->name, "\"%s\" is out of range (%d..%d)", raw, k->min, k->max);
			return -EINVAL;
		}
		*(int *)field = (int)v;
		return 0;
	}
	case T_SIZE:
	case T_FREE: {
		struct config_free fr = { 0, 0 };
		size_t len = strlen(value);

		if (k->type == T_FREE && len > 0 && value[len - 1] == '%') {
			ret = parse_percent(value, &fr.percent);
			if (ret == -EINVAL) {
				complain(w, k->name, "\"%s\" is not a percentage (like 5%%)", raw);
				return ret;
			}
			if (ret < 0) {
				complain(w, k->name, "\"%s\" must be below 100%%", raw);
				return -EINVAL;
			}
		} else {
			ret = parse_size(value, &fr.bytes);
			if (ret == -EINVAL) {
				complain(w, k->name, "\"%s\" is not a size (bytes, or a whole number "
					 "with a K, M, G or T suffix)%s", raw,
					 k->type == T_FREE ? " or a percentage" : "");
				return ret;
			}
			if (ret < 0) {
				complain(w, k->name, "\"%s\" is too large", raw);
				return -EINVAL;
			}
		}
		if (k->type == T_SIZE)
			*(int64_t *)field = fr.bytes;
		else
			*(struct config_free *)field = fr;
		return 0;
	}
	case T_ZONE:
		if (*value && !zone_exists(value)) {
			complain(w, k->name, "\"%s\" is not a known time zone (not in %s)",
				 raw, zone_dir());
			return -EINVAL;
		}
		return set_string(field, value, true);
	case T_LEVEL: {
		int level = log_level_parse(value);

		if (level < 0) {
			complain(w, k->name, "\"%s\" is not one of error, warning, notice, info, debug",
				 raw);
			return -EINVAL;
		}
		*(int *)field = level;
		return 0;
	}
	case T_TRANSPORT:
		if (strcasecmp(value, "tcp") == 0)
			*(enum config_transport *)field = CONFIG_TRANSPORT_TCP;
		else if (strcasecmp(value, "udp") == 0)
			*(enum config_transport *)field = CONFIG_TRANSPORT_UDP;
		else {
			complain(w, k->name, "\"%s\" is not tcp or udp", raw);
			return -EINVAL;
		}
		return 0;
	case T_URL:
		/* Never quote it: the url may carry a password. */
		if (k->optional && !*value)
			return set_string(field, value, true);
		if (!*value) {
			complain(w, k->name, "is empty");
			return -EINVAL;
		}
		if (!strstr(value, "://")) {
			complain(w, k->name, "is not a URL (scheme://host/...)");
			return -EINVAL;
		}
		return set_string(field, value, false);
	case T_MOTION: {
		static const char *const names[] = {
			[CONFIG_MOTION_BITRATE] = "bitrate",
			[CONFIG_MOTION_PIXELS] = "pixels",
			[CONFIG_MOTION_OFF] = "off",
		};

		if (k->inherit && !*value) {
			*(enum config_motion *)field = CONFIG_MOTION_INHERIT;
			return 0;
		}
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcasecmp(value, names[i]) == 0) {
				*(enum config_motion *)field = (enum config_motion)i;
				return 0;
			}
		complain(w, k->name, "\"%s\" is not bitrate, pixels or off", raw);
		return -EINVAL;
	}
	case T_NAMES: {
		const char *bad = hook_bad_env_name(value);

		if (bad) {
			complain(w, k->name, "\"%.*s\" %s", (int)strcspn(bad, " \t"), bad,
				 strncmp(bad, "CAMFS_", 6) == 0 ? "is set by camfs for each event" :
				 "is not a variable name (letters, digits and \"_\")");
			return -EINVAL;
		}
		return set_string(field, value, true);
	}
	case T_LISTEN:
		if (parse_listen(value, field) < 0) {
			complain(w, k->name, "\"%s\" is not off or ADDRESS:PORT (like 127.0.0.1:8080 "
				 "or [::]:8080)", raw);
			return -EINVAL;
		}
		return 0;
	case T_BOOL:
		if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0 ||
		    strcmp(value, "1") == 0)
			*(bool *)field = true;
		else if (strcasecmp(value, "no") == 0 || strcasecmp(value, "false") == 0 ||
			 strcmp(value, "0") == 0)
			*(bool *)field = false;
		else {
			complain(w, k->name, "\"%s\" is not yes or no", raw);
			return -EINVAL;
		}
		return 0;
	case T_PUSH:
		for (size_t i = 0; i < sizeof(push_names) / sizeof(push_names[0]); i++)
			if (strcasecmp(value, push_names[i]) == 0) {
				*(enum config_push *)field = (enum config_push)i;
				return 0;
			}
		complain(w, k->name, "\"%s\" is not none, esp32 or browser", raw);
		return -EINVAL;
	case T_TOKEN:
		/* Never quote it. Short tokens are guessed. */
		if (*value && strlen(value) < CONFIG_TOKEN_MIN) {
			complain(w, k->name, "is shorter than %d characters", CONFIG_TOKEN_MIN);
			return -EINVAL;
		}
		return set_string(field, value, true);
	case T_TEXT: {
		size_t len = strlen(value);

		for (size_t i = 0; i < len; i++)
			if (value[i] <= ' ' || value[i] == 0x7f) {
				complain(w, k->name, "\"%s\" has a space or a control character", raw);
				return -EINVAL;
			}
		if (len >= CONFIG_NAME_MAX) {
			complain(w, k->name, "is longer than %d characters", CONFIG_NAME_MAX - 1);
			return -EINVAL;
		}
		return set_string(field, value, true);
	}
	case T_NETS: {
		struct netlist nets;
		const char *bad;

		ret = netlist_parse(value, &nets, &bad);
		if (ret == -E2BIG) {
			complain(w, k->name, "has more than %d networks", NETLIST_MAX);
			return -EINVAL;
		}
		if (ret < 0) {
			complain(w, k->name, "\"%.*s\" is not an address or ADDRESS/PREFIX",
				 (int)strcspn(bad, " \t,"), bad);
			return -EINVAL;
		}
		return set_string(field, value, false);
	}
	case T_HTTP_AUTH:
		if (strcasecmp(value, "users") == 0)
			*(enum config_http_auth *)field = CONFIG_HTTP_AUTH_USERS;
		else if (strcasecmp(value, "none") == 0)
			*(enum config_http_auth *)field = CONFIG_HTTP_AUTH_NONE;
		else {
			complain(w, k->name, "\"%s\" is not users or none", raw);
			return -EINVAL;
		}
		return 0;
	case T_ORIGIN:
		if (*value && !is_origin(value)) {
			complain(w, k->name, "\"%s\" is not an origin (scheme://host[:port], no path)",
				 raw);
			return -EINVAL;
		}
		return set_string(field, value, true);
	case T_COMMAND: {
		char **argv;

		/* Checked now, not at the first event. Never quoted: the
		 * command may carry a token. */
		if (!*value)
			return set_string(field, value, true);
		ret = hook_split(value, &argv);
		free(argv);
		if (ret == -EINVAL) {
			complain(w, k->name, "%s", quote_left_open(value) ? "unbalanced quote" :
				 "has no program to run");
			return ret;
		}
		if (ret < 0)
			return ret;
		return set_string(field, value, false);
	}
	}
	return -EINVAL;
}

/* Expands and parses one value; reports ENOMEM too. */
static int set_key(const struct key *k, void *base, const char *raw, const struct where *w)
{
	size_t len = strlen(raw);
	char *value;
	int ret;

	/* inih keeps quotes; a quoted url would fail much later, and obscurely.
	 * A command line has quotes of its own. */
	if (k->type != T_COMMAND && len >= 2 && (raw[0] == '"' || raw[0] == '\'') &&
	    raw[len - 1] == raw[0]) {
		complain(w, k->name, "write the value without quotes");
		return -EINVAL;
	}
	ret = expand(raw, &value, w, k->name);
	if (ret == 0) {
		ret = parse_value(k, base, raw, value, w);
		explicit_bzero(value, strlen(value));
		free(value);
	}
	if (ret == -ENOMEM)
		complain(w, k->name, "out of memory");
	return ret;
}

/* Defaults are parsed by the same code as values, so the table is the one
 * place they are written; they contain no "$" and cannot fail. */
static void apply_defaults(void *base, enum key_section section)
{
	const struct where w = { stderr, "built-in default", 0 };

	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].section == section && keys[i].def)
			parse_value(&keys[i], base, keys[i].def, keys[i].def, &w);
}

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	apply_defaults(cfg, S_GLOBAL);
}

/* Frees *s after wiping it: it may hold a password or a token. */
static void free_secret(char **s)
{
	if (*s)
		explicit_bzero(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

static void camera_free_strings(struct camera_config *cam)
{
	free_secret(&cam->url);
	free_secret(&cam->motion_url);
	free_secret(&cam->token);
	free(cam->events_incoming);
	cam->events_incoming = NULL;
	free(cam->esp32_host);
	cam->esp32_host = NULL;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	free(cfg->store);
	free(cfg->timezone);
	free_secret(&cfg->on_event);
	free(cfg->on_event_env);
	free(cfg->http_tls_cert);
	free(cfg->http_tls_key);
	free(cfg->http_users);
	free(cfg->http_webview);
	free(cfg->http_cors);
	free(cfg->esp32_allow);
	free(cfg->esp32_accept_unknown);
	for (int i = 0; i < cfg->n_cameras; i++)
		camera_free_strings(&cfg->cameras[i]);
	free(cfg->cameras);
	memset(cfg, 0, sizeof(*cfg));
}

/* NULL or a message fragment saying why name is not a camera name. */
static const char *bad_camera_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "needs a name: [camera NAME]";
	if (len >= CONFIG_NAME_MAX)
		return "name is longer than 63 characters";
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return "name may not be \".\" or \"..\"";
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789._-") != len)
		return "name may only use A-Z, a-z, 0-9, \".\", \"_\" and \"-\"";
	return NULL;
}

static void camera_defaults(struct camera_config *cam, const char *name)
{
	memset(cam, 0, sizeof(*cam));
	snprintf(cam->name, sizeof(cam->name), "%s", name);
	apply_defaults(cam, S_CAMERA);
}

struct camera_config *config_add_camera(struct config *cfg, const char *name,
					const char *url)
{
	struct camera_config *cam;
	char *copy = NULL;

	if (bad_camera_name(name)) {
		errno = EINVAL;
		return NULL;
	}
	if (url && !(copy = strdup(url)))
		return NULL;
	if (array_grow(&cfg->cameras, &cfg->cap_cameras, (size_t)cfg->n_cameras,
		       sizeof(*cfg->cameras)) < 0) {
		free(copy);
		errno = ENOMEM;
		return NULL;
	}
	cam = &cfg->cameras[cfg->n_cameras++];
	camera_defaults(cam, name);
	cam->url = copy;
	return cam;
}

int config_camera_retain_days(const struct config *cfg, const struct camera_config *cam)
{
	return cam->retain_days >= 0 ? cam->retain_days : cfg->retain_days;
}

int config_camera_stall_seconds(const struct config *cfg, const struct camera_config *cam)
{
	return cam->stall_seconds >= 0 ? cam->stall_seconds : cfg->stall_seconds;
}

enum config_motion config_camera_motion(const struct config *cfg, const struct camera_config *cam)
{
	return cam->motion != CONFIG_MOTION_INHERIT ? cam->motion : cfg->motion;
}

int config_camera_motion_threshold(const struct config *cfg, const struct camera_config *cam)
{
	return cam->motion_threshold >= 0 ? cam->motion_threshold : cfg->motion_threshold;
}

int config_camera_motion_min_seconds(const struct config *cfg, const struct camera_config *cam)
{
	return cam->motion_min_seconds >= 0 ? cam->motion_min_seconds : cfg->motion_min_seconds;
}

int config_camera_events_retain_days(const struct config *cfg, const struct camera_config *cam)
{
	return cam->events_retain_days >= 0 ? cam->events_retain_days : cfg->events_retain_days;
}

bool config_is_global_key(const char *key)
{
	return find_key(key, strcspn(key, "="), S_GLOBAL) != NULL;
}

int config_set_option(struct config *cfg, const char *key_value, FILE *err)
{
	const struct where w = { err, "-o", 0 };
	const char *eq = strchr(key_value, '=');
	size_t len = eq ? (size_t)(eq - key_value) : strlen(key_value);
	const struct key *k = find_key(key_value, len, S_GLOBAL);

	if (!k) {
		if (find_key(key_value, len, S_CAMERA))
			complain(&w, NULL, "%.*s: is a camera key: set it under [camera NAME] "
				 "in the config file", (int)len, key_value);
		else
			complain(&w, NULL, "%.*s: unknown option", (int)len, key_value);
		return -EINVAL;
	}
	if (!eq) {
		complain(&w, k->name, "needs a value: -o %s=VALUE", k->name);
		return -EINVAL;
	}
	return set_key(k, cfg, eq + 1, &w) < 0 ? -EINVAL : 0;
}

/* State of one config_load: the reader tracks lines and sections itself,
 * because inih passes the handler neither line numbers (unless built with
 * INI_HANDLER_LINENO) nor sections that hold no keys, and truncates long
 * section names. inih still splits "key = value" and strips comments. */
struct parse {
	struct config *cfg;
	FILE *file;
	struct where w;      /* w.line: the line being parsed */
	char *buf;
	size_t buf_size;
	int errors;
	bool oom;

	enum { IN_NONE, IN_GLOBAL, IN_CAMERA, IN_UNKNOWN } in;
	int section_line;
	int cam;             /* index into cfg->cameras, or -1 for scratch */
	struct camera_config scratch; /* a camera whose section is in error */
	int global_seen[N_KEYS];      /* line where each key was set, 0: not yet */
	int camera_seen[N_KEYS];
};

static void parse_error(struct parse *p, int line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void parse_error(struct parse *p, int line, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcomplain(&p->w, line, key, fmt, ap);
	va_end(ap);
	p->errors++;
}

static struct camera_config *current_camera(struct parse *p)
{
	return p->cam >= 0 ? &p->cfg->cameras[p->cam] : &p->scratch;
}

static void end_section(struct parse *p)
{
	if (p->in == IN_CAMERA) {
		struct camera_config *cam = current_camera(p);
		const struct key *url = find_key("url", 3, S_CAMERA);

		/* Only when never set: a bad url line was reported already. A
		 * pushed camera has none (config_validate checks). */
		if (!p->camera_seen[url - keys] && cam->push == CONFIG_PUSH_NONE)
			parse_error(p, p->section_line, "url", "is required in [camera %s] "
				    "(or push = esp32 or browser)", cam->name);
		camera_free_strings(&p->scratch);
	}
	p->in = IN_NONE;
}

static void begin_section(struct parse *p, const char *text, size_t len)
{
	char sect[256];
	const char *name;
	const char *why;

	end_section(p);
	p->section_line = p->w.line;
	/* Trim, as inih does not. */
	while (len && isspace((unsigned char)*text))
		text++, len--;
	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	snprintf(sect, sizeof(sect), "%.*s", (int)len, text);

	if (strcmp(sect, "camfs") == 0) {
		p->in = IN_GLOBAL;
		return;
	}
	if (strncmp(sect, "camera", 6) != 0 || (sect[6] && !isspace((unsigned char)sect[6]))) {
		parse_error(p, p->w.line, NULL, "[%s]: unknown section (expected [camfs] or "
			    "[camera NAME])", sect);
		p->in = IN_UNKNOWN;
		return;
	}
	name = sect + 6;
	name += strspn(name, " \t");
	memset(p->camera_seen, 0, sizeof(p->camera_seen));
	p->in = IN_CAMERA;
	p->cam = -1;
	camera_defaults(&p->scratch, "");

	/* Truncated, for messages only. */
	snprintf(p->scratch.name, sizeof(p->scratch.name), "%.*s", CONFIG_NAME_MAX - 1, name);
	p->scratch.line = p->w.line;
	why = bad_camera_name(name);
	if (why) {
		parse_error(p, p->w.line, NULL, "[%s]: camera %s", sect, why);
		return;
	}
	for (int i = 0; i < p->cfg->n_cameras; i++)
		if (strcmp(p->cfg->cameras[i].name, name) == 0) {
			parse_error(p, p->w.line, NULL, "[%s]: camera \"%s\" is already defined "
				    "on line %d", sect, name, p->cfg->cameras[i].line);
			return;
		}
	if (!config_add_camera(p->cfg, name, NULL)) {
		p->oom = true;
		parse_error(p, p->w.line, NULL, "out of memory");
		return;
	}
	p->cam = p->cfg->n_cameras - 1;
	p->cfg->cameras[p->cam].line = p->w.line;
}

/* Where inih would see "key = value" (the first '=' or ':' before an
 * inline comment), so a line it would reject is reported here, with all
 * the others, instead of only as inih's first error. */
static bool has_separator(const char *s)
{
	bool was_space = false;

	for (; *s; s++) {
		if (*s == '=' || *s == ':')
			return true;
		if (was_space && *s == ';')
			return false;
		was_space = isspace((unsigned char)*s);
	}
	return false;
}

static char *read_line(char *str, int num, void *stream)
{
	struct parse *p = stream;
	ssize_t n = getline(&p->buf, &p->buf_size, p->file);
	char *s;
	size_t len;

	if (n < 0)
		return NULL;
	s = p->buf;
	p->w.line++;
	if (p->w.line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	/* No leading white space reaches inih: it would take an indented
	 * line as the continuation of the previous value. */
	s += strspn(s, " \t\v\f");
	len = strcspn(s, "\r\n");
	s[len] = '\0';

	if (!*s || *s == '#' || *s == ';') {
		len = 0;
	} else if (*s == '[') {
		char *close = strchr(s, ']');

		if (close) {
			begin_section(p, s + 1, (size_t)(close - s - 1));
		} else {
			parse_error(p, p->w.line, NULL, "section header has no closing \"]\"");
			p->in = IN_UNKNOWN;
		}
		len = 0;   /* sections are ours; inih's would be truncated */
	} else if (!has_separator(s)) {
		parse_error(p, p->w.line, NULL, "expected \"key = value\", a [section] or a comment");
		len = 0;
	} else if (len + 2 > (size_t)num) {
		size_t key_len = strcspn(s, "=:");

		while (key_len && isspace((unsigned char)s[key_len - 1]))
			key_len--;
		parse_error(p, p->w.line, NULL, "%.*s: line is longer than %d characters",
			    (int)(key_len > 64 ? 64 : key_len), s, num - 2);
		len = 0;
	}
	memcpy(str, s, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	enum key_section here = p->in == IN_CAMERA ? S_CAMERA : S_GLOBAL;
	const struct key *k;
	int *seen;

	(void)section;
	if (p->in == IN_UNKNOWN)
		return 1;   /* the section header was reported */
	if (!*name) {
		parse_error(p, p->w.line, NULL, "expected a key before \"=\"");
		return 1;
	}
	if (p->in == IN_NONE) {
		parse_error(p, p->w.line, name, "is outside any section (start with [camfs] "
			    "or [camera NAME])");
		return 1;
	}
	k = find_key(name, strlen(name), here);
	if (!k) {
		if (find_key(name, strlen(name), here == S_CAMERA ? S_GLOBAL : S_CAMERA))
			parse_error(p, p->w.line, name, "belongs in %s", here == S_CAMERA ?
				    "[camfs]" : "a [camera NAME] section");
		else
			parse_error(p, p->w.line, name, "unknown key");
		return 1;
	}
	seen = here == S_CAMERA ? &p->camera_seen[k - keys] : &p->global_seen[k - keys];
	if (*seen) {
		parse_error(p, p->w.line, name, "is already set on line %d", *seen);
		return 1;
	}
	*seen = p->w.line;

	int ret = set_key(k, here == S_CAMERA ? (void *)current_camera(p) : (void *)p->cfg,
			  value, &p->w);
	if (ret < 0) {
		p->errors++;
		if (ret == -ENOMEM)
			p->oom = true;
	}
	/* Always go on: every problem in the file is reported in one run. */
	return 1;
}

int config_load(struct config *cfg, const char *path, FILE *err)
{
	struct parse p = {
		.cfg = cfg, .w = { err, path, 0 }, .in = IN_NONE, .cam = -1,
	};
	int ret;

	p.file = fopen(path, "re");
	if (!p.file) {
		ret = -errno;
		fprintf(err ? err : stderr, "%s: cannot open: %s\n", path, strerror(-ret));
		return ret;
	}
	ret = ini_parse_stream(read_line, &p, on_pair, &p);
	end_section(&p);
	/* read_line filters every line inih rejects; this is a safety net. */
	if (ret > 0 && p.errors == 0)
		parse_error(&p, ret, NULL, "syntax error");
	if (ferror(p.file)) {
		ret = -EIO;
		fprintf(err ? err : stderr, "%s: cannot read: %s\n", path, strerror(-ret));
	} else if (p.oom || ret == -2) {
		ret = -ENOMEM;
	} else {
		ret = p.errors ? -EINVAL : 0;
	}
	fclose(p.file);
	free(p.buf);
	camera_free_strings(&p.scratch);
	return ret;
}

/* Reports every whole-number key of section that is out of its range in
 * base (the struct config or struct camera_config the keys' offsets are
 * into), prefixed "[camera NAME]: " when camera is given; an inherited -1
 * is not out of range. Returns how many were reported. */
static int check_ranges(FILE *out, enum key_section section, const void *base,
			const char *camera)
{
	int bad = 0;

	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];

		if (k->section != section || k->type != T_INT)
			continue;
		int v = *(const int *)((const char *)base + k->offset);
		if ((k->inherit && v == -1) || (v >= k->min && v <= k->max))
			continue;
		if (camera)
			fprintf(out, "[camera %s]: ", camera);
		fprintf(out, "%s: %d is out of range (%d..%d)\n", k->name, v, k->min, k->max);
		bad++;
	}
	return bad;
}

/* An absolute path with "//", "." and ".." resolved by its text alone
 * (symlinks are not followed: the folders need not exist yet) into out,
 * "/a/b" and "" for "/". False if it does not fit. */
static bool normalize_path(const char *path, char *out, size_t size)
{
	size_t o = 0;

	if (strlen(path) >= size)
		return false;   /* out is never longer than path */
	while (*path) {
		size_t len;

		path += strspn(path, "/");
		len = strcspn(path, "/");
		if (len == 2 && path[0] == '.' && path[1] == '.') {
			while (o > 0 && out[--o] != '/')
				;
		} else if (len > 0 && !(len == 1 && path[0] == '.')) {
			out[o++] = '/';
			memcpy(out + o, path, len);
			o += len;
		}
		path += len;
	}
	out[o] = '\0';
	return true;
}

/* Whether path is dir or inside it, by the paths' text. */
static bool path_within(const char *path, const char *dir)
{
	char p[PATH_MAX], d[PATH_MAX];
	size_t len;

	if (!normalize_path(path, p, sizeof(p)) || !normalize_path(dir, d, sizeof(d)))
		return strcmp(path, dir) == 0;
	len = strlen(d);
	return strncmp(p, d, len) == 0 && (p[len] == '\0' || p[len] == '/');
}

/* Uploads go to one camera's folder, never to the store, which camfs
 * alone writes (and retention deletes from). */
static int check_incoming(FILE *out, const struct config *cfg, int c)
{
	const struct camera_config *cam = &cfg->cameras[c];
	int bad = 0;

	if (!cam->events_incoming)
		return 0;
	if (cfg->store && *cfg->store && path_within(cam->events_incoming, cfg->store)) {
		fprintf(out, "[camera %s]: events_incoming: must not be the store or inside it\n",
			cam->name);
		bad++;
	} else if (cfg->store && *cfg->store && path_within(cfg->store, cam->events_incoming)) {
		/* Uploaders may rename or replace anything in their folder. */
		fprintf(out, "[camera %s]: events_incoming: must not hold the store\n", cam->name);
		bad++;
	}
	for (int d = 0; d < c; d++) {
		const char *other = cfg->cameras[d].events_incoming;

		if (other && path_within(cam->events_incoming, other) &&
		    path_within(other, cam->events_incoming)) {
			fprintf(out, "[camera %s]: events_incoming: is also camera %s's; their "
				"uploads could not be told apart\n", cam->name, cfg->cameras[d].name);
			bad++;
			break;
		}
	}
	return bad;
}

/* The HTTP export never opens to the network unlocked by accident. */
static int check_http(FILE *out, const struct config *cfg)
{
	int bad = 0;

	if (!cfg->http_tls_cert != !cfg->http_tls_key) {
		fprintf(out, "%s: is required with %s\n", cfg->http_tls_cert ? "http_tls_key" :
			"http_tls_cert", cfg->http_tls_cert ? "http_tls_cert" : "http_tls_key");
		bad++;
	}
	if (cfg->http_auth == CONFIG_HTTP_AUTH_NONE && cfg->http_users) {
		fprintf(out, "http_auth: is none, yet http_users is set: remove one\n");
		bad++;
	}
	if (cfg->http.port && !config_listen_is_loopback(&cfg->http) && !cfg->http_users &&
	    cfg->http_auth != CONFIG_HTTP_AUTH_NONE) {
		fprintf(out, "http: %s is not loopback: set http_users, or http_auth = none to let "
			"anybody on the network watch\n", cfg->http.host);
		bad++;
	}
	return bad;
}

/* A browser camera needs its token and the HTTP export its page talks to. */
static int check_browser(FILE *out, const struct config *cfg, const struct camera_config *cam)
{
	int bad = 0;

	if (!cam->token) {
		fprintf(out, "[camera %s]: token: is required with push = browser (at least %d "
			"characters, e.g. ${PHONE_TOKEN})\n", cam->name, CONFIG_TOKEN_MIN);
		bad++;
	}
	if (!cfg->http.port) {
		fprintf(out, "[camera %s]: push = browser: the camera page needs the HTTP "
			"export (http = ADDR:PORT)\n", cam->name);
		bad++;
	}
	return bad;
}

/* A camera pulls from url or is pushed to, and a pushing board finds it. */
static int check_source(FILE *out, const struct config *cfg, int c)
{
	const struct camera_config *cam = &cfg->cameras[c];
	bool unknowns = cfg->esp32_accept_unknown &&
		strcmp(cfg->esp32_accept_unknown, cam->name) == 0;
	int bad = 0;

	if (cam->esp32_host && cam->push != CONFIG_PUSH_ESP32) {
		fprintf(out, "[camera %s]: esp32_host: needs push = esp32\n", cam->name);
		bad++;
	}
	if (cam->token && cam->push != CONFIG_PUSH_BROWSER) {
		fprintf(out, "[camera %s]: token: needs push = browser\n", cam->name);
		bad++;
	}
	if (cam->push == CONFIG_PUSH_NONE) {
		if (!cam->url || !*cam->url) {
			fprintf(out, "[camera %s]: url: is required (or push = esp32 or browser)\n",
				cam->name);
			bad++;
		}
		return bad;
	}
	if (cam->url || cam->motion_url) {
		fprintf(out, "[camera %s]: push = %s: the camera connects to camfs; remove "
			"%s\n", cam->name, push_names[cam->push], cam->url ? "url" : "motion_url");
		bad++;
	}
	if (cam->push == CONFIG_PUSH_BROWSER)
		return bad + check_browser(out, cfg, cam);
	if (!cfg->esp32_listen.port) {
		fprintf(out, "[camera %s]: push = esp32: set esp32_listen in [camfs]\n", cam->name);
		bad++;
	}
	if (!cam->esp32_host && !unknowns) {
		fprintf(out, "[camera %s]: esp32_host: is required (or name this camera in "
			"esp32_accept_unknown)\n", cam->name);
		bad++;
	}
	for (int d = 0; cam->esp32_host && d < c; d++)
		if (cfg->cameras[d].esp32_host &&
		    strcmp(cfg->cameras[d].esp32_host, cam->esp32_host) == 0) {
			fprintf(out, "[camera %s]: esp32_host: %s is camera %s's already\n",
				cam->name, cam->esp32_host, cfg->cameras[d].name);
			bad++;
		}
	return bad;
}

/* esp32_accept_unknown names a camera that boards push to. */
static int check_unknowns(FILE *out, const struct config *cfg)
{
	if (!cfg->esp32_accept_unknown)
		return 0;
	for (int c = 0; c < cfg->n_cameras; c++)
		if (strcmp(cfg->cameras[c].name, cfg->esp32_accept_unknown) == 0) {
			if (cfg->cameras[c].push == CONFIG_PUSH_ESP32)
				return 0;
			fprintf(out, "esp32_accept_unknown: camera %s is not push = esp32\n",
				cfg->esp32_accept_unknown);
			return 1;
		}
	fprintf(out, "esp32_accept_unknown: no [camera %s]\n", cfg->esp32_accept_unknown);
	return 1;
}

int config_validate(const struct config *cfg, FILE *err)
{
	FILE *out = err ? err : stderr;
	int bad = 0;

	if (!cfg->store || !*cfg->store) {
		fprintf(out, "store: is required\n");
		bad++;
	}
	bad += check_ranges(out, S_GLOBAL, cfg, NULL);
	bad += check_http(out, cfg);
	bad += check_unknowns(out, cfg);
	for (int c = 0; c < cfg->n_cameras; c++) {
		const struct camera_config *cam = &cfg->cameras[c];
		const char *why = bad_camera_name(cam->name);

		if (why) {
			fprintf(out, "[camera %s]: camera %s\n", cam->name, why);
			bad++;
		}
		for (int d = 0; d < c; d++)
			if (strcmp(cfg->cameras[d].name, cam->name) == 0) {
				fprintf(out, "[camera %s]: camera name is used twice\n", cam->name);
				bad++;
				break;
			}
		bad += check_source(out, cfg, c);
		bad += check_ranges(out, S_CAMERA, cam, cam->name);
		bad += check_incoming(out, cfg, c);
	}
	return bad ? -EINVAL : 0;
}

static const char *metavar(const struct key *k)
{
	switch (k->type) {
	case T_PATH: return "PATH";
	case T_INT: return "N";
	case T_SIZE: return "SIZE";
	case T_FREE: return "SIZE|N%";
	case T_ZONE: return "ZONE";
	case T_LEVEL: return "LEVEL";
	case T_TRANSPORT: return "tcp|udp";
	case T_URL: return "URL";
	case T_MOTION: return "METHOD";
	case T_COMMAND: return "COMMAND";
	case T_NAMES: return "NAMES";
	case T_LISTEN: return "ADDR:PORT|off";
	case T_HTTP_AUTH: return "users|none";
	case T_ORIGIN: return "ORIGIN";
	case T_BOOL: return "yes|no";
	case T_PUSH: return "none|esp32|browser";
	case T_TOKEN: return "TOKEN";
	case T_TEXT: return "NAME";
	case T_NETS: return "NETWORKS";
	}
	return "VALUE";
}

/* help, plus the range of a whole number: the table says it once. */
static void describe(FILE *out, const struct key *k)
{
	fputs(k->help, out);
	if (k->type == T_INT)
		fprintf(out, " (%d..%d)", k->min, k->max);
}

/* A key's default in words: "required", "the [camfs] value", "empty" or
 * the value itself. */
static const char *default_words(const struct key *k)
{
	return !k->def ? "required" : k->inherit ? "the [camfs] value" : !*k->def ? "empty" : k->def;
}

static void print_help_section(FILE *out, enum key_section section, const char *prefix)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];
		char left[64];

		if (k->section != section)
			continue;
		snprintf(left, sizeof(left), "%s%s=%s", prefix, k->name, metavar(k));
		fprintf(out, "    %-26s ", left);
		describe(out, k);
		fprintf(out, k->def ? " [default: %s]\n" : " [%s]\n", default_words(k));
	}
}

void config_print_help(FILE *out)
{
	fputs("camfs options (-o KEY=VALUE, or KEY = VALUE under [camfs] in the config file):\n",
	      out);
	print_help_section(out, S_GLOBAL, "-o ");
	fputs("\nCamera keys (KEY = VALUE under [camera NAME] in the config file):\n", out);
	print_help_section(out, S_CAMERA, "");
	fputs("\nSizes are bytes or take a K, M, G or T suffix (1024-based). ${VAR} in a\n"
	      "value expands from the environment; \"$$\" is a literal \"$\".\n", out);
}

static void print_sample_section(FILE *out, enum key_section section)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];

		if (k->section != section)
			continue;
		fputs("\n# ", out);
		describe(out, k);
		if (!k->def)
			fputs(" (required)", out);
		else if (k->inherit)
			fputs("; empty: the [camfs] value", out);
		fputs(".\n", out);
		fprintf(out, "#%s =%s%s\n", k->name,
			(k->def ? *k->def : *k->sample) ? " " : "",
			k->def ? k->def : k->sample);
	}
}

/* Text as roff: backslashes escaped; a line never starts with a control
 * character (text here has no newlines). */
static void roff_text(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++)
		if (*s == '\\')
			fputs("\\e", out);
		else
			fputc(*s, out);
}

static void print_man_section(FILE *out, enum key_section section)
{
	char text[512];

	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];
		FILE *mem = fmemopen(text, sizeof(text), "w");

		if (k->section != section || !mem) {
			if (mem)
				fclose(mem);
			continue;
		}
		describe(mem, k);
		fprintf(mem, k->def ? ". Default: %s." : ". Required.", default_words(k));
		fclose(mem);
		fputs(".TP\n\\fB", out);
		roff_text(out, k->name);
		fputs("\\fR = \\fI", out);
		roff_text(out, metavar(k));
		fputs("\\fR\n", out);
		roff_text(out, text);
		fputc('\n', out);
	}
}

void config_print_man(FILE *out)
{
	fputs(".SS \"[camfs] keys\"\n"
	      "Each can also be given as \\fB\\-o\\fR \\fIKEY\\fR=\\fIVALUE\\fR, "
	      "which overrides the file.\n", out);
	print_man_section(out, S_GLOBAL);
	fputs(".SS \"[camera NAME] keys\"\n", out);
	print_man_section(out, S_CAMERA);
}

void config_print_sample(FILE *out)
{
	fputs("# camfs.conf - sample configuration, written by config_print_sample():\n"
	      "# every key with its default. Remove the \"#\" in front of a key to set it.\n"
	      "#\n"
	      "# ${VAR} in a value expands from the environment and \"$$\" is a literal \"$\",\n"
	      "# so passwords can live in an EnvironmentFile instead of this file.\n"
	      "# Sizes are bytes or take a K, M, G or T suffix (1024-based).\n"
	      "# Options given with -o KEY=VALUE override the [camfs] section.\n"
	      "\n"
	      "[camfs]\n", out);
	print_sample_section(out, S_GLOBAL);
	fputs("\n# One section per camera. NAME is also its folder name: 1 to 63 of\n"
	      "# A-Z, a-z, 0-9, \".\", \"_\" and \"-\".\n"
	      "#[camera front-door]\n", out);
	print_sample_section(out, S_CAMERA);
}
