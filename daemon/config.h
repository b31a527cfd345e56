/* config.h - camfs settings: one key table drives INI parsing, -o overrides,
 * --help and the sample config. ${VAR} expands from the environment. */
#ifndef CAMFS_CONFIG_H
#define CAMFS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_NAME_MAX 64

enum config_transport { CONFIG_TRANSPORT_TCP, CONFIG_TRANSPORT_UDP };

/* How motion is scored (see motion.h). [camfs] never holds INHERIT. */
enum config_motion {
	CONFIG_MOTION_INHERIT = -1,   /* camera: use the [camfs] value */
	CONFIG_MOTION_BITRATE,
	CONFIG_MOTION_PIXELS,
	CONFIG_MOTION_OFF,
};

/* Where the HTTP export listens. */
struct config_listen {
	char host[64];     /* an IPv4 or IPv6 address, without brackets */
	int port;          /* 1..65535; 0: the export is off */
};

/* How a camera's footage comes: pulled from url, or pushed to camfs. */
enum config_push {
	CONFIG_PUSH_NONE,    /* pulled from url */
	CONFIG_PUSH_ESP32,   /* an ESP32-CAM board connects to esp32_listen */
	CONFIG_PUSH_BROWSER, /* a browser's camera.html connects to the HTTP export */
};

/* The shortest token a push = browser camera accepts. */
#define CONFIG_TOKEN_MIN 16

/* Who may use the HTTP export. */
enum config_http_auth {
	CONFIG_HTTP_AUTH_USERS,   /* the users of http_users; open on loopback without them */
	CONFIG_HTTP_AUTH_NONE,    /* anybody, even from other machines */
};

/* min_free: either an absolute byte count or a share of the filesystem. */
struct config_free {
	int64_t bytes;     /* used when percent == 0 */
	double percent;    /* 0 < percent < 100, else unused */
};

struct camera_config {
	char name[CONFIG_NAME_MAX]; /* [camera NAME]: [A-Za-z0-9._-], not "." or ".." */
	char *url;                  /* may carry credentials: print only via url_redact */
	enum config_transport transport;
	int retain_days;            /* -1: use the global value */
	int stall_seconds;          /* -1: use the global value */
	enum config_motion motion;  /* CONFIG_MOTION_INHERIT: use the global value */
	int motion_threshold;       /* -1: use the global value; 0: the method's default */
	int motion_min_seconds;     /* -1: use the global value */
	char *motion_url;           /* NULL: score url; secret like url: never print it */
	enum config_push push;      /* CONFIG_PUSH_NONE: url is required */
	char *esp32_host;           /* push = esp32: the board's hostName; NULL: none
				     * (only esp32_accept_unknown's camera) */
	char *token;                /* push = browser: what its page must send first;
				     * a secret: never print it */
	char *events_incoming;      /* NULL: no camera uploads; absolute directory */
	int events_retain_days;     /* -1: use the global value */
	int line;                   /* where the section starts, for messages */
};

struct config {
	char *store;                /* directory of the plain-file store */
	bool store_create;          /* create the store if missing; else refuse to start */
	int segment_seconds;        /* cut at the first keyframe after this */
	int retain_days;            /* 0: keep forever (other limits still apply) */
	int64_t max_store_size;     /* bytes; 0: no limit */
	struct config_free min_free;
	char *timezone;             /* NULL or "": the system zone */
	int log_level;              /* LOG_* */
	int stall_seconds;          /* no packet for this long: reconnect */
	enum config_motion motion;  /* never CONFIG_MOTION_INHERIT */
	int motion_threshold;       /* 1..100; 0: the method's own (50 bitrate, 2 pixels) */
	int motion_min_seconds;     /* seconds of motion in a row that start an event */
	int events_retain_days;     /* 0: keep events forever */
	int event_pre_roll;         /* seconds an event's clip starts before it */
	int event_post_roll;        /* seconds it goes on after */
	char *on_event;             /* NULL: no hook; a command line for hook_split();
				     * may hold a token: never print it */
	int on_event_timeout;       /* seconds a hook may run */
	char *on_event_env;         /* NULL: none; names of camfs's environment
				     * variables hooks get too, space-separated */
	int64_t upload_max_size;    /* bytes; a bigger upload is deleted */
	int64_t upload_max_per_day; /* bytes of uploads one camera files a day; 0: no limit */
	struct config_listen http;  /* port 0: no HTTP export */
	char *http_tls_cert;        /* NULL: plain HTTP; PEM, read again on SIGHUP */
	char *http_tls_key;         /* NULL with http_tls_cert; PEM private key */
	char *http_users;           /* NULL: no users; htpasswd file (bcrypt, SHA-512 crypt) */
	enum config_http_auth http_auth;
	char *http_webview;         /* NULL: the installed viewer */
	char *http_cors;            /* NULL: no CORS; else the one origin allowed */
	int http_max_clients;       /* connections served at once; past it 503 */
	int http_rate;              /* requests/s per client address; 0: no limit */
	int http_header_seconds;    /* to send a request's headers (slowloris) */
	int http_idle_seconds;      /* a keep-alive connection between requests */
	int http_stall_seconds;     /* a client that reads nothing is closed */
	struct config_listen esp32_listen;  /* port 0: no listener for ESP32 boards */
	char *esp32_allow;          /* networks boards may connect from (netlist.h) */
	char *esp32_accept_unknown; /* NULL: unknown boards are kept out; else the
				     * push = esp32 camera that records them */
	struct camera_config *cameras;
	int n_cameras;
	size_t cap_cameras;         /* room in cameras (config_add_camera) */
};

/* Fills every key with its default. Free with config_free(). */
void config_init(struct config *cfg);
void config_free(struct config *cfg);

/* Parses an INI file into cfg. Every problem is printed to err as
 * "FILE:LINE: key: message" and parsing goes on to report them all.
 * Returns 0, or -EINVAL if any line was bad, or -errno if unreadable. */
int config_load(struct config *cfg, const char *path, FILE *err);

/* Applies one "key=value" for a [camfs] key (the -o options); names the
 * option in err when it is bad. Returns 0 or -EINVAL. */
int config_set_option(struct config *cfg, const char *key_value, FILE *err);

/* Cross-key checks after loading and overrides (store set, names unique,
 * every camera has a url, no events_incoming shared or in the store, ...).
 * Returns 0 or -EINVAL with messages in err. */
int config_validate(const struct config *cfg, FILE *err);

/* True if key names a [camfs] key (so -o can tell ours from FUSE's). */
bool config_is_global_key(const char *key);

/* The key table as help text: one line per key with its default. */
void config_print_help(FILE *out);

/* A commented sample config file: every key with its help and default,
 * all commented out except "[camfs]". examples/camfs.conf is its output. */
void config_print_sample(FILE *out);

/* The key table as roff for camfs(1): the block of docs/camfs.1 between
 * its "BEGIN KEYS" and "END KEYS" comments is this output. */
void config_print_man(FILE *out);

/* Adds a camera (used by --demo). Returns the new entry or NULL on ENOMEM. */
struct camera_config *config_add_camera(struct config *cfg, const char *name,
					const char *url);

/* True if l listens on a loopback address only (127.0.0.0/8, ::1). */
bool config_listen_is_loopback(const struct config_listen *l);

/* The effective value of per-camera overrides. */
int config_camera_retain_days(const struct config *cfg, const struct camera_config *cam);
int config_camera_stall_seconds(const struct config *cfg, const struct camera_config *cam);
enum config_motion config_camera_motion(const struct config *cfg, const struct camera_config *cam);
/* 0: the method's own default. */
int config_camera_motion_threshold(const struct config *cfg, const struct camera_config *cam);
int config_camera_motion_min_seconds(const struct config *cfg, const struct camera_config *cam);
int config_camera_events_retain_days(const struct config *cfg, const struct camera_config *cam);

#endif
