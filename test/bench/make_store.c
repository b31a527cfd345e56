/* make_store.c - benchmark helper, not a test: writes MINUTES of recorded
 * footage into a camfs store in seconds, by looping a local MP4 through the
 * recorder's own fragmenter and writer on a simulated wall clock.
 *
 * Usage: make_store STORE CAMERA CLIP.mp4 MINUTES START_UNIX_SECONDS SEGMENT_SECONDS
 *
 * CLIP.mp4 (H.264 or H.265, video only is kept) is read with the
 * libavformat source and reopened at its end; every packet gets dts/pts
 * from a running counter of frame durations, so timestamps keep increasing
 * across loops, and the wall clock the writer names files by (and the
 * fragmenter stamps into prft) is START + that media time. The result is
 * what camfs would have recorded from a camera showing the clip on a loop
 * from START: about MINUTES * 60 / SEGMENT_SECONDS segment files under
 * STORE/CAMERA/<date>/ (cuts at the first keyframe after SEGMENT_SECONDS).
 * The writer's monotonic clock stays real, so it syncs about once a real
 * second, not once a simulated one. STORE is created if missing. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <libavformat/avformat.h>

#include "util/clock.h"
#include "config.h"
#include "stream/fragment.h"
#include "stream/fragmenter.h"
#include "ingest/source.h"
#include "record/writer.h"
#include "simclock.h"
#include "writerfeed.h"

struct sink {
	struct writer_feed feed;
	long fragments;
	int64_t bytes;
	int segments;
};

static void to_writer(struct fragment *frag, void *opaque)
{
	struct sink *s = opaque;

	if (frag->kind == FRAGMENT_MEDIA) {
		s->fragments++;
		s->bytes += frag->size;
	}
	writer_feed_fragment(frag, &s->feed);
}

static void on_segment(int cam, const char *path, void *opaque)
{
	struct sink *s = opaque;

	(void)cam;
	(void)path;
	s->segments++;   /* writer thread; read after writer_stop */
}

static int usage(void)
{
	fprintf(stderr, "usage: make_store STORE CAMERA CLIP.mp4 MINUTES START_UNIX_SECONDS SEGMENT_SECONDS\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct source_opts opts = {
		.timeout_us = 10000000, .realtime = false,
		.clock = &clock_system, .tag = "make_store",
	};
	struct source *first = NULL, *cur = NULL, video_only;
	struct fragmenter *frag = NULL;
	struct config cfg;
	struct sink sink = { 0 };
	AVPacket *pkt = av_packet_alloc();
	char *end;
	int ret, loops = 1;

	if (argc != 7)
		return usage();
	const char *store = argv[1], *camera = argv[2];
	long minutes = strtol(argv[4], &end, 10);
	if (*end || minutes <= 0)
		return usage();
	long long start = strtoll(argv[5], &end, 10);
	if (*end || start <= 0)
		return usage();
	long seg_seconds = strtol(argv[6], &end, 10);
	if (*end || seg_seconds <= 0)
		return usage();
	opts.url = argv[3];

	av_log_set_level(AV_LOG_ERROR);
	config_init(&cfg);
	free(cfg.store);
	cfg.store = strdup(store);
	cfg.segment_seconds = (int)seg_seconds;
	cfg.retain_days = 0;
	cfg.min_free = (struct config_free){ .bytes = 0 };   /* never delete what we write */
	if (!cfg.store || !config_add_camera(&cfg, camera, opts.url)) {
		fprintf(stderr, "make_store: out of memory\n");
		return 1;
	}

	if ((ret = source_open(&first, &opts)) < 0) {
		fprintf(stderr, "make_store: %s: %s\n", opts.url, av_err2str(ret));
		return 1;
	}
	if (mkdir(store, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "make_store: %s: %s\n", store, strerror(errno));
		return 1;
	}
	/* Video only: the loop's timestamps are rewritten for one stream. */
	video_only = *first;
	video_only.audio.par = NULL;
	if ((ret = writer_new(&sink.feed.writer, &cfg, &sim_clock)) < 0 ||
	    (writer_on_segment(sink.feed.writer, on_segment, &sink), (ret = writer_start(sink.feed.writer))) < 0) {
		fprintf(stderr, "make_store: writer: %s\n", strerror(-ret));
		return 1;
	}
	if ((ret = fragmenter_open(&frag, &video_only, 1, to_writer, &sink)) < 0) {
		fprintf(stderr, "make_store: fragmenter: %s\n", av_err2str(ret));
		return 1;
	}

	AVRational tb = first->video.time_base;
	int64_t total = av_rescale_q((int64_t)minutes * 60 * AV_TIME_BASE, AV_TIME_BASE_Q, tb);
	int64_t next_dts = 0, last_duration = 0;
	long frames = 0;
	int64_t t0 = clock_monotonic_us(&clock_system);

	cur = first;
	while (next_dts < total) {
		ret = source_read(cur, pkt);
		if (ret == AVERROR_EOF) {
			if (cur != first)
				source_close(cur);
			cur = NULL;
			if ((ret = source_open(&cur, &opts)) < 0) {
				fprintf(stderr, "make_store: reopening %s: %s\n", opts.url, av_err2str(ret));
				return 1;
			}
			loops++;
			continue;
		}
		if (ret < 0) {
			fprintf(stderr, "make_store: reading %s: %s\n", opts.url, av_err2str(ret));
			return 1;
		}
		if (pkt->stream_index != SOURCE_VIDEO) {
			av_packet_unref(pkt);
			continue;
		}
		int64_t duration = pkt->duration > 0 ? pkt->duration : last_duration;
		if (duration <= 0) {
			fprintf(stderr, "make_store: %s: packets without a duration\n", opts.url);
			return 1;
		}
		last_duration = duration;
		int64_t cts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts - pkt->dts : 0;
		pkt->dts = next_dts;
		pkt->pts = next_dts + cts;
		atomic_store(&sim_wall_us, (int64_t)start * 1000000 + av_rescale_q(next_dts, tb, AV_TIME_BASE_Q));
		if ((ret = fragmenter_write(frag, pkt, atomic_load(&sim_wall_us))) < 0) {
			fprintf(stderr, "make_store: fragmenter: %s\n", av_err2str(ret));
			return 1;
		}
		av_packet_unref(pkt);
		next_dts += duration;
		frames++;
	}
	if ((ret = fragmenter_flush(frag)) < 0) {
		fprintf(stderr, "make_store: fragmenter: %s\n", av_err2str(ret));
		return 1;
	}
	writer_feed_end(&sink.feed);
	writer_end_session(sink.feed.writer, 0);
	writer_stop(sink.feed.writer);
	writer_free(sink.feed.writer);
	fragmenter_close(frag);
	if (cur != first)
		source_close(cur);
	source_close(first);
	av_packet_free(&pkt);
	config_free(&cfg);

	double secs = (clock_monotonic_us(&clock_system) - t0) / 1e6;
	printf("make_store: %ld frames (%ld fragments, %.1f MB, %d loops of the clip) "
	       "in %d segments of %s/%s, %.1f s\n",
	       frames, sink.fragments, sink.bytes / 1e6, loops, sink.segments, store, camera, secs);
	return 0;
}
