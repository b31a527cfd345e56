/* substream.c - the motion substream's thread: connect, feed video packets
 * to the detector, and on any failure end the scored stream and retry. */
#include "substream.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "camera.h"
#include "clock.h"
#include "config.h"
#include "detector.h"
#include "log.h"
#include "source.h"

#define BACKOFF_MIN_US 1000000
#define BACKOFF_MAX_US 30000000

struct substream {
	struct camera *cam;
	pthread_t thread;
	atomic_bool stop;
	pthread_mutex_t lock;
	pthread_cond_t wake;
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
		.stop = &s->stop,
		.clock = cam->clock,
		.tag = cam->conf->name,
	};
	struct source *src = NULL;
	AVPacket *pkt = av_packet_alloc();
	int ret = pkt ? source_open(&src, &opts) : AVERROR(ENOMEM);

	if (ret < 0) {
		if (!atomic_load(&s->stop))
			report(s, ret, "cannot connect");
		goto out;
	}
	if (s->last_reason[0])
		log_notice(cam->conf->name, "motion substream back");
	s->last_reason[0] = '\0';
	while (!atomic_load(&s->stop) && (ret = source_read(src, pkt)) >= 0) {
		if (pkt->stream_index == SOURCE_VIDEO) {
			backoff_reset(bo);
			detector_packet(cam->detector, src->video.par, pkt,
					clock_wall_us(cam->clock));
		}
		av_packet_unref(pkt);
	}
	detector_finish(cam->detector);
	if (!atomic_load(&s->stop))
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
	while (!atomic_load(&s->stop)) {
		int64_t delay_us;
		struct timespec ts;

		run_session(s, &bo);
		delay_us = backoff_next(&bo);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += delay_us / 1000000 + (ts.tv_nsec + delay_us % 1000000 * 1000) / 1000000000;
		ts.tv_nsec = (ts.tv_nsec + delay_us % 1000000 * 1000) % 1000000000;
		pthread_mutex_lock(&s->lock);
		while (!atomic_load(&s->stop) &&
		       pthread_cond_timedwait(&s->wake, &s->lock, &ts) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&s->lock);
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
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	ret = pthread_create(&s->thread, NULL, substream_main, s);
	if (ret) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->wake);
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
	pthread_mutex_lock(&s->lock);
	atomic_store(&s->stop, true);
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	free(s);
}
