/* service.c - sd_notify for READY, STATUS, WATCHDOG and STOPPING; the
 * watchdog's proof of life is recorder_alive(), checked before each ping. */
#include "service.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "config.h"
#include "ingest/camera.h"
#include "recorder.h"
#include "util/log.h"
#include "util/stop.h"

/* STATUS= is refreshed this often without a watchdog. */
#define STATUS_INTERVAL_US 5000000

struct service {
	struct recorder *r;
	const struct config *cfg;
	uint64_t watchdog_us;       /* 0: no watchdog */
	struct stop stop;
	pthread_t thread;
	char status[96];            /* the last STATUS= sent; service thread only */
};

/* "2/3 cameras online", sent when it changed. */
static void tell_status(struct service *s)
{
	struct camera **cams = recorder_cameras(s->r);
	char status[sizeof(s->status)];
	int online = 0;

	for (int i = 0; i < s->cfg->n_cameras; i++) {
		struct camera_status st;

		camera_get_status(cams[i], &st);
		online += st.online;
	}
	snprintf(status, sizeof(status), "STATUS=%d/%d camera%s online", online,
		 s->cfg->n_cameras, s->cfg->n_cameras == 1 ? "" : "s");
	if (strcmp(status, s->status) == 0)
		return;
	snprintf(s->status, sizeof(s->status), "%s", status);
	sd_notify(0, status);
}

static void *service_main(void *arg)
{
	struct service *s = arg;
	/* Pinging at half the interval leaves a late ping time to arrive. */
	int64_t period = s->watchdog_us ? (int64_t)s->watchdog_us / 2 : STATUS_INTERVAL_US;
	bool told = false;   /* the stuck part was logged */
	char stuck[64];

	do {
		tell_status(s);
		if (!s->watchdog_us)
			continue;
		if (recorder_alive(s->r, stuck, sizeof(stuck))) {
			sd_notify(0, "WATCHDOG=1");
			told = false;
		} else if (!told) {
			log_error("camfs", "%s is stuck: the watchdog is no longer told camfs "
				  "is well, so systemd restarts it", stuck);
			told = true;
		}
	} while (!stop_sleep(&s->stop, period));
	return NULL;
}

int service_start(struct service **out, struct recorder *r, const struct config *cfg)
{
	struct service *s;
	sigset_t old;
	int ret;

	*out = NULL;
	if (!getenv("NOTIFY_SOCKET"))
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->r = r;
	s->cfg = cfg;
	if (sd_watchdog_enabled(0, &s->watchdog_us) <= 0)
		s->watchdog_us = 0;
	if ((ret = stop_init(&s->stop)) < 0) {
		free(s);
		return ret;
	}
	sd_notify(0, "READY=1");
	stop_signals_block(&old);
	ret = -pthread_create(&s->thread, NULL, service_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret < 0) {
		stop_destroy(&s->stop);
		free(s);
		return ret;
	}
	pthread_setname_np(s->thread, "camfs-service");
	log_info("camfs", "told systemd: ready%s", s->watchdog_us ? ", watchdog on" : "");
	*out = s;
	return 0;
}

void service_free(struct service *s)
{
	if (!s)
		return;
	sd_notify(0, "STOPPING=1");
	stop_request(&s->stop);
	pthread_join(s->thread, NULL);
	stop_destroy(&s->stop);
	free(s);
}
