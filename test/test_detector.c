/* test_detector.c - motion events leave the thread that feeds the scorer:
 * an event's snapshot (decode, JPEG encode) and its files' fsyncs happen on
 * the detector's own thread, so the camera's ingest never waits on them,
 * and events still queued are saved before the detector is freed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "config.h"
#include "events/detector.h"
#include "events/events.h"
#include "record/writer.h"
#include "util/clock.h"
#include "util/log.h"
#include "testutil.h"

#define START_US INT64_C(1795255380000000)   /* 2026-11-21 10:03:00 UTC */

struct seen {
	pthread_mutex_t lock;
	pthread_t feeder;
	int started, ended, on_feeder;
};

static void sink(int level, const char *line, void *opaque)
{
	struct seen *s = opaque;

	(void)level;
	pthread_mutex_lock(&s->lock);
	if (strstr(line, "motion event") && strstr(line, " started"))
		s->started++;
	if (strstr(line, "motion event") && strstr(line, " ended"))
		s->ended++;
	if (strstr(line, "motion event") && pthread_equal(pthread_self(), s->feeder))
		s->on_feeder++;
	pthread_mutex_unlock(&s->lock);
}

/* Packet sizes of a bitrate scorer's stream: 1000 bytes still, 4000 moving. */
static void feed(struct detector *d, int from_s, int to_s, int size)
{
	AVPacket *pkt = av_packet_alloc();

	assert_non_null(pkt);
	for (int64_t f = from_s * 25; f < (int64_t)to_s * 25; f++) {
		pkt->size = size + (int)(f * 37 % 101) - 50;
		pkt->flags = f % 50 ? 0 : AV_PKT_FLAG_KEY;
		if (pkt->flags)
			pkt->size = 20 * size;
		detector_packet(d, NULL, pkt, START_US + f * 1000000 / 25);
	}
	av_packet_free(&pkt);
}

static void test_events_off_the_feeding_thread(void **state)
{
	struct seen s = { .lock = PTHREAD_MUTEX_INITIALIZER, .feeder = pthread_self() };
	char store[64], spans[160];
	struct config cfg;
	struct writer *w = NULL;
	struct events *ev = NULL;
	struct detector *d = NULL;

	(void)state;
	testutil_temp_dir(store, sizeof(store), "detector");
	config_init(&cfg);
	free(cfg.store);
	cfg.store = strdup(store);
	assert_non_null(config_add_camera(&cfg, "cam", "demo:moving"));
	cfg.motion = CONFIG_MOTION_BITRATE;
	assert_int_equal(writer_new(&w, &cfg, &clock_system), 0);   /* not started: scores queue */
	assert_int_equal(events_new(&ev, store, "cam"), 0);
	struct detector_opts o = { .cfg = &cfg, .cam = 0, .writer = w, .events = ev };
	assert_int_equal(detector_new(&d, &o), 0);
	log_set_sink(sink, &s);

	feed(d, 0, 30, 1000);
	feed(d, 30, 36, 4000);   /* 6 s of motion: an event */
	feed(d, 36, 50, 1000);
	detector_finish(d);
	detector_free(d);        /* saves what is still queued */
	log_set_sink(NULL, NULL);

	assert_int_equal(s.started, 1);
	assert_int_equal(s.ended, 1);
	assert_int_equal(s.on_feeder, 0);
	snprintf(spans, sizeof(spans), "%s/cam/" EVENTS_DIR "/2026-11-21/" EVENTS_SPANS, store);
	assert_int_equal(access(spans, R_OK), 0);
	events_free(ev);
	writer_free(w);
	config_free(&cfg);
	assert_int_equal(testutil_remove_tree(store), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_off_the_feeding_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
