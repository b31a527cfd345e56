/* substream.c - the motion substream's thread: connect, feed video packets
 * to the detector, and on any failure end the scored stream and retry. It
 * stops with its camera (they share its stop token). */
#include "ingest/substream.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/backoff.h"
#include "ingest/camera.h"
#include "util/clock.h"
#include "config.h"
#include "events/detector.h"
#include "util/log.h"
#include "ingest/source.h"
#include "util/stop.h"

#define BACKOFF_MIN_US 1000000
#define BACKOFF_MAX_US 30000000

struct substream {
	struct camera *cam;
	pthread_t thread;
	char last_reason[CAMERA_REASON_MAX];   /* substream thread only */
};

static void report(struct substream *s, int err, const char *what)
{
	char reason[CAMERA_REASON_MAX], desc[96];

	camera_describe_error(err, desc, sizeof(desc));
	snprintf(reason, sizeof(reason), "%s: %s", what, desc);
	if (strcmp(reason, s->last_reason) != 0)
		log_warning(s->cam->conf->name, "motion substream %s; still recording the main stream",
			    reason);
	snprintf(s->last_reason, sizeof(s->last_reason), "%s", reason);
}

/* One connection: returns when it fails or on stop. */
static void run_session(struct substream *s, struct backoff *bo)
{
	struct camera *cam = s->cam;
	struct source_opts opts = {
		.url = cam->conf->motion_url,
		.udp = cam->conf->transport == CONFIG_TRANSPORT_UDP,
		.timeout_us = (int64_t)config_camera_stall_seconds(cam->cfg, cam->conf) * 1000000,
		.realtime = true,
		.stop = &cam->stop,
		.clock = cam->clock,
		.tag = cam->conf->name,
	};
	struct source *src = NULL;
	AVPacket *pkt = av_packet_alloc();
	int ret = pkt ? source_open(&src, &opts) : AVERROR(ENOMEM);

	if (ret < 0) {
		if (!stop_requested(&cam->stop))
			report(s, ret, "cannot connect");
		goto out;
	}
	if (s->last_reason[0])
		log_notice(cam->conf->name, "motion substream back");
	s->last_reason[0] = '\0';
	while (!stop_requested(&cam->stop) && (ret = source_read(src, pkt)) >= 0) {
		if (pkt->stream_index == SOURCE_VIDEO) {
			backoff_reset(bo);
			detector_packet(cam->detector, src->video.par, pkt,
					clock_wall_us(cam->clock));
		}
		av_packet_unref(pkt);
	}
	detector_finish(cam->detector);
	if (!stop_requested(&cam->stop))
		report(s, ret, ret == AVERROR(ETIMEDOUT) ? "stalled" : "lost");
out:
	source_close(src);
	av_packet_free(&pkt);
}

static void *substream_main(void *arg)
{
	struct substream *s = arg;
	struct backoff bo;

	backoff_init(&bo, BACKOFF_MIN_US, BACKOFF_MAX_US,
		     (uint64_t)clock_monotonic_us(s->cam->clock) ^ (uint64_t)(uintptr_t)s);
	while (!stop_requested(&s->cam->stop)) {
		run_session(s, &bo);
		stop_sleep(&s->cam->stop, backoff_next(&bo));
	}
	return NULL;
}

int substream_start(struct substream **out, struct camera *cam)
{
	struct substream *s = calloc(1, sizeof(*s));
	char name[16];
	int ret;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->cam = cam;
	ret = pthread_create(&s->thread, NULL, substream_main, s);
	if (ret) {
		free(s);
		return -ret;
	}
	snprintf(name, sizeof(name), "sub:%.11s", cam->conf->name);
	pthread_setname_np(s->thread, name);
	*out = s;
	return 0;
}

void substream_free(struct substream *s)
{
	if (!s)
		return;
	pthread_join(s->thread, NULL);
	free(s);
}
