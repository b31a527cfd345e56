/* recorder.c - the recorder's lifecycle: store preparation, the writer and
 * cameras, the hooks and the upload watcher, started after daemonizing and
 * stopped in reverse. */
#include "recorder.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "events/events.h"
#include "events/hook.h"
#include "events/uploads.h"
#include "ingest/camera.h"
#include "ingest/esp32/listener.h"
#include "record/recovery.h"
#include "record/writer.h"
#include "stream/hub.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/stop.h"

#define HOOKS_RUNNING_MAX 4   /* a hook hanging on every event costs at most this many */

struct recorder {
	const struct config *cfg;
	const struct clock *clock;
	struct writer *writer;
	struct camera **cams;     /* cfg->n_cameras; entries NULL until made */
	struct hook *hook;        /* on_event; NULL: none */
	struct events **events;   /* camera i's event store, for the upload watcher */
	struct uploads *uploads;  /* NULL: no camera has events_incoming */
	struct esp32_listener *esp32;  /* NULL: esp32_listen = off */
	char *mountpoint;         /* for the hooks' clip paths; NULL: not mounted */
};

static int make_dirs(const char *path)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The store must exist, unless store_create (or --demo) says to make it:
 * a missing store is more likely a disk not mounted than a wish to record
 * onto the root filesystem. */
static int open_store(const struct config *cfg)
{
	struct stat st;
	int ret;

	if (stat(cfg->store, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		log_error("camfs", "store %s is not a directory", cfg->store);
		return -ENOTDIR;
	}
	if (errno != ENOENT || !cfg->store_create) {
		ret = -errno;
		log_error("camfs", "store %s: %s; mount its disk or create it (or set store_create "
			  "= yes)", cfg->store, strerror(-ret));
		return ret;
	}
	if ((ret = make_dirs(cfg->store)) < 0)
		log_error("camfs", "cannot create store %s: %s", cfg->store, strerror(-ret));
	else
		log_notice("camfs", "created store %s", cfg->store);
	return ret;
}

int recorder_new(struct recorder **out, const struct config *cfg, const struct clock *clock)
{
	struct recorder *r = calloc(1, sizeof(*r));
	int ret;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->cfg = cfg;
	r->cams = calloc(cfg->n_cameras, sizeof(*r->cams));
	r->events = calloc(cfg->n_cameras, sizeof(*r->events));
	if (!r->cams || !r->events) {
		ret = -ENOMEM;
		goto out;
	}
	if ((ret = open_store(cfg)) < 0)
		goto out;
	recovery_run(cfg->store);
	r->clock = clock;
	if ((ret = writer_new(&r->writer, cfg, clock)) < 0)
		goto out;
	for (int i = 0; ret == 0 && i < cfg->n_cameras; i++) {
		ret = camera_new(&r->cams[i], cfg, i, r->writer, clock);
		if (ret == 0)
			r->events[i] = camera_events(r->cams[i]);
	}
	if (ret == 0)
		ret = esp32_listener_new(&r->esp32, cfg, r->cams, clock);
out:
	if (ret < 0)
		recorder_free(r);
	else
		*out = r;
	return ret;
}

struct camera **recorder_cameras(struct recorder *r) { return r->cams; }
struct writer *recorder_writer(struct recorder *r) { return r->writer; }

static bool any_incoming(const struct config *cfg)
{
	for (int i = 0; i < cfg->n_cameras; i++)
		if (cfg->cameras[i].events_incoming)
			return true;
	return false;
}

/* A camera's upload was filed: the hook hears of it as an event with no
 * end (an upload is a moment). */
static void upload_filed(int cam, const char *stem, const char *path, int64_t wall_us,
			 void *opaque)
{
	struct recorder *r = opaque;
	struct hook_event ev = {
		.camera = r->cfg->cameras[cam].name,
		.kind = "camera",
		.phase = "start",
		.wall_us = wall_us,
		.snapshot = path,
	};

	(void)stem;   /* the watcher logged it */
	if (r->hook)
		hook_run(r->hook, &ev);
}

int recorder_start(struct recorder *r, const char *mountpoint)
{
	const struct config *cfg = r->cfg;
	sigset_t old;
	int ret = 0;

	if (mountpoint && !(r->mountpoint = strdup(mountpoint)))
		return -ENOMEM;
	stop_signals_block(&old);
	if (cfg->on_event)
		ret = hook_new(&r->hook, cfg->on_event, cfg->on_event_timeout, HOOKS_RUNNING_MAX);
	if (ret == 0 && r->hook && cfg->on_event_env)
		ret = hook_pass_env(r->hook, cfg->on_event_env);
	if (ret == 0)
		ret = writer_start(r->writer);
	for (int i = 0; ret == 0 && i < cfg->n_cameras; i++)
		ret = camera_start(r->cams[i], r->hook, r->mountpoint);
	if (ret == 0 && any_incoming(cfg))
		ret = uploads_new(&r->uploads, cfg, r->events, upload_filed, r);
	if (ret == 0)
		ret = esp32_listener_start(r->esp32);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret == 0)
		log_notice("camfs", "recording %d camera%s into %s", cfg->n_cameras,
			   cfg->n_cameras == 1 ? "" : "s", cfg->store);
	return ret;
}

bool recorder_alive(struct recorder *r, char *stuck, size_t n)
{
	int64_t now = clock_monotonic_us(r->clock);

	if (!writer_alive(r->writer, now)) {
		snprintf(stuck, n, "writer");
		return false;
	}
	for (int i = 0; i < r->cfg->n_cameras; i++)
		if (!camera_alive(r->cams[i], now)) {
			snprintf(stuck, n, "%s", r->cfg->cameras[i].name);
			return false;
		}
	return true;
}

void recorder_request_stop(struct recorder *r)
{
	for (int i = 0; i < r->cfg->n_cameras; i++)
		if (r->cams[i])
			hub_close(camera_hub(r->cams[i]));
	for (int i = 0; i < r->cfg->n_cameras; i++)
		if (r->cams[i])
			camera_request_stop(r->cams[i]);
}

void recorder_free(struct recorder *r)
{
	if (!r)
		return;
	uploads_free(r->uploads);
	esp32_listener_free(r->esp32);
	/* All cameras stop together; then each is joined. */
	for (int i = 0; r->cams && i < r->cfg->n_cameras; i++)
		if (r->cams[i])
			camera_request_stop(r->cams[i]);
	for (int i = 0; r->cams && i < r->cfg->n_cameras; i++)
		camera_free(r->cams[i]);
	hook_free(r->hook);
	writer_free(r->writer);
	free(r->cams);
	free(r->events);
	free(r->mountpoint);
	free(r);
}
