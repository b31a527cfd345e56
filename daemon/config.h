/* config.h - camfs settings: one key table drives INI parsing, -o overrides,
 * --help and the sample config. ${VAR} expands from the environment. */
#ifndef CAMFS_CONFIG_H
#define CAMFS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_NAME_MAX 64

enum config_transport { CONFIG_TRANSPORT_TCP, CONFIG_TRANSPORT_UDP };

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
	int line;                   /* where the section starts, for messages */
};

struct config {
	char *store;                /* directory of the plain-file store */
	int segment_seconds;        /* cut at the first keyframe after this */
	int retain_days;            /* 0: keep forever (other limits still apply) */
	int64_t max_store_size;     /* bytes; 0: no limit */
	struct config_free min_free;
	char *timezone;             /* NULL or "": the system zone */
	int log_level;              /* LOG_* */
	int stall_seconds;          /* no packet for this long: reconnect */
	struct camera_config *cameras;
	int n_cameras;
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
 * every camera has a url, ...). Returns 0 or -EINVAL with messages in err. */
int config_validate(const struct config *cfg, FILE *err);

/* True if key names a [camfs] key (so -o can tell ours from FUSE's). */
bool config_is_global_key(const char *key);

/* The key table as help text: one line per key with its default. */
void config_print_help(FILE *out);

/* A commented sample config file: every key with its help and default,
 * all commented out except "[camfs]". examples/camfs.conf is its output. */
void config_print_sample(FILE *out);

/* Adds a camera (used by --demo). Returns the new entry or NULL on ENOMEM. */
struct camera_config *config_add_camera(struct config *cfg, const char *name,
					const char *url);

/* The effective value of per-camera overrides. */
int config_camera_retain_days(const struct config *cfg, const struct camera_config *cam);
int config_camera_stall_seconds(const struct config *cfg, const struct camera_config *cam);

#endif
