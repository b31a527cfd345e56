/* test_demo.c - the demo cameras: stream shape (keyframes, timestamps,
 * extradata), the decoded pictures, option parsing, pacing and stopping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libavutil/mathematics.h>

#include "util/clock.h"
#include "ingest/demo.h"
#include "util/log.h"
#include "ingest/source.h"
#include "util/stop.h"

/* A clock that moves only when read: each monotonic read advances by step,
 * and after stop_after reads it raises the stop flag. */
struct fake {
	int64_t mono, step, wall;
	int calls, stop_after;
	struct stop *stop;
};

static int64_t fake_mono(const struct clock *c)
{
	struct fake *f = c->opaque;

	if (f->stop && ++f->calls >= f->stop_after)
		stop_request(f->stop);
	f->mono += f->step;
	return f->mono;
}

static int64_t fake_wall(const struct clock *c)
{
	return ((struct fake *)c->opaque)->wall;
}

static int64_t real_us(void)
{
	return clock_monotonic_us(&clock_system);
}

struct cam {
	struct source src;
	struct source_opts opts;
	AVPacket **pkts;
	int n;
	uint8_t **luma;  /* decoded Y planes, width * height each */
};

static int cam_open(struct cam *c, const char *url, bool realtime, const struct clock *clk,
		    struct stop *stop)
{
	memset(c, 0, sizeof(*c));
	c->opts.url = url;
	c->opts.realtime = realtime;
	c->opts.clock = clk;
	c->opts.stop = stop;
	c->opts.tag = "test";
	c->src.ops = &demo_source_ops;
	c->src.opts = &c->opts;
	return demo_source_ops.open(&c->src, &c->opts);
}

static void cam_read(struct cam *c, int n)
{
	c->pkts = calloc(n, sizeof(*c->pkts));
	assert_non_null(c->pkts);
	for (c->n = 0; c->n < n; c->n++) {
		c->pkts[c->n] = av_packet_alloc();
		assert_non_null(c->pkts[c->n]);
		assert_int_equal(demo_source_ops.read(&c->src, c->pkts[c->n]), 0);
	}
}

static void keep_frame(struct cam *c, const AVFrame *f, int *got)
{
	const AVCodecParameters *par = c->src.video.par;
	uint8_t *y;

	assert_true(*got < c->n);
	assert_int_equal(f->width, par->width);
	assert_int_equal(f->height, par->height);
	y = c->luma[(*got)++] = malloc((size_t)f->width * f->height);
	assert_non_null(y);
	for (int row = 0; row < f->height; row++)
		memcpy(y + row * f->width, f->data[0] + row * f->linesize[0], f->width);
}

/* Decodes every packet with FFmpeg's own decoder into c->luma. */
static void cam_decode(struct cam *c)
{
	const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_H264);
	AVCodecContext *dec;
	AVFrame *f = av_frame_alloc();
	int got = 0, ret;

	assert_non_null(codec);
	assert_non_null(f);
	dec = avcodec_alloc_context3(codec);
	assert_non_null(dec);
	assert_int_equal(avcodec_parameters_to_context(dec, c->src.video.par), 0);
	dec->thread_count = 1;
	assert_int_equal(avcodec_open2(dec, codec, NULL), 0);
	c->luma = calloc(c->n, sizeof(*c->luma));
	assert_non_null(c->luma);
	for (int i = 0; i <= c->n; i++) {
		assert_int_equal(avcodec_send_packet(dec, i < c->n ? c->pkts[i] : NULL), 0);
		while ((ret = avcodec_receive_frame(dec, f)) == 0) {
			keep_frame(c, f, &got);
			av_frame_unref(f);
		}
		assert_true(ret == AVERROR(EAGAIN) || ret == AVERROR_EOF);
	}
	assert_int_equal(got, c->n);
	av_frame_free(&f);
	avcodec_free_context(&dec);
}

static void cam_close(struct cam *c)
{
	for (int i = 0; i < c->n; i++) {
		av_packet_free(&c->pkts[i]);
		if (c->luma)
			free(c->luma[i]);
	}
	free(c->pkts);
	free(c->luma);
	demo_source_ops.close(&c->src);
	assert_null(c->src.priv);
	assert_null(c->src.video.par);
}

/* H.264 with SPS and PPS in extradata, no audio, 90 kHz. */
static void check_params(const struct cam *c, int width, int height)
{
	const AVCodecParameters *par = c->src.video.par;
	bool sps = false, pps = false;

	assert_non_null(par);
	assert_null(c->src.audio.par);
	assert_int_equal(par->codec_type, AVMEDIA_TYPE_VIDEO);
	assert_int_equal(par->codec_id, AV_CODEC_ID_H264);
	assert_int_equal(par->width, width);
	assert_int_equal(par->height, height);
	assert_int_equal(c->src.video.time_base.num, 1);
	assert_int_equal(c->src.video.time_base.den, 90000);
	assert_true(par->extradata_size > 8);
	for (int i = 0; i + 3 < par->extradata_size; i++) {
		if (par->extradata[i] || par->extradata[i + 1] || par->extradata[i + 2] != 1)
			continue;
		sps |= (par->extradata[i + 3] & 0x1f) == 7;
		pps |= (par->extradata[i + 3] & 0x1f) == 8;
	}
	assert_true(sps);
	assert_true(pps);
}

/* Keyframes exactly every gop frames from the first, pts = dts on a fixed
 * frame grid, durations filled in. */
static void check_packets(const struct cam *c, int fps, int gop)
{
	for (int i = 0; i < c->n; i++) {
		const AVPacket *p = c->pkts[i];
		int64_t pts = av_rescale(i, 90000, fps);

		assert_int_equal(p->stream_index, SOURCE_VIDEO);
		assert_true(p->size > 0);
		assert_int_equal(p->pts, pts);
		assert_int_equal(p->dts, pts);
		assert_int_equal(p->duration, av_rescale(i + 1, 90000, fps) - pts);
		assert_int_equal(!!(p->flags & AV_PKT_FLAG_KEY), i % gop == 0);
	}
}

static bool inside(const struct demo_rect *r, int x, int y)
{
	return x >= r->x && x < r->x + r->w && y >= r->y && y < r->y + r->h;
}

/* Pixels differing by more than thresh, inside or outside the clock, and
 * the bounding box of those outside. */
struct diff {
	int out, in, max_out;
	int x0, y0, x1, y1;
};

static void compare(const uint8_t *a, const uint8_t *b, int w, int h, int thresh, struct diff *d)
{
	struct demo_rect clk;

	demo_clock_rect(w, h, &clk);
	*d = (struct diff){ .x0 = w, .y0 = h, .x1 = -1, .y1 = -1 };
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			int v = abs(a[y * w + x] - b[y * w + x]);

			if (inside(&clk, x, y)) {
				d->in += v > thresh;
				continue;
			}
			d->max_out = v > d->max_out ? v : d->max_out;
			if (v <= thresh)
				continue;
			d->out++;
			d->x0 = x < d->x0 ? x : d->x0;
			d->y0 = y < d->y0 ? y : d->y0;
			d->x1 = x > d->x1 ? x : d->x1;
			d->y1 = y > d->y1 ? y : d->y1;
		}
	}
}

static void test_moving(void **state)
{
	struct cam c;
	struct diff d;

	assert_int_equal(cam_open(&c, "demo:moving", false, &clock_system, NULL), 0);
	check_params(&c, 640, 360);
	cam_read(&c, 45);
	check_packets(&c, 15, 30);
	cam_decode(&c);
	/* Each frame the 80x80 box moves a few pixels, and nothing else does:
	 * the change spans the box plus its step (88x82 here). */
	for (int i = 1; i < c.n; i++) {
		compare(c.luma[i - 1], c.luma[i], 640, 360, 24, &d);
		assert_true(d.out >= 1000);
		assert_true(d.x1 - d.x0 + 1 >= 80 && d.x1 - d.x0 + 1 <= 100);
		assert_true(d.y1 - d.y0 + 1 >= 80 && d.y1 - d.y0 + 1 <= 100);
	}
	cam_close(&c);
}

static void test_static(void **state)
{
	struct fake f = { .wall = 1700000000000000 };  /* 2023-11-14 22:13:20 UTC */
	struct clock clk = { .wall_us = fake_wall, .monotonic_us = fake_mono, .opaque = &f };
	struct cam c;
	struct diff d;

	/* A fixed start time keeps the digits, and so the coding, repeatable. */
	assert_int_equal(cam_open(&c, "demo:static", false, &clk, NULL), 0);
	check_params(&c, 640, 360);
	cam_read(&c, 45);
	check_packets(&c, 15, 30);
	cam_decode(&c);
	/* One second apart the clock has ticked and nothing else moved. What
	 * is left is coding noise: the first P-frames touching up the first
	 * keyframe (up to 7 levels on ~90 pixels with libx264 0.164), later
	 * at most 3 levels. */
	for (int i = 0; i + 15 < c.n; i++) {
		compare(c.luma[i], c.luma[i + 15], 640, 360, 3, &d);
		assert_true(d.in > 0);
		assert_true(d.max_out <= (i < 15 ? 12 : 6));
		assert_true(d.out <= 400);  /* of 230k pixels */
	}
	cam_close(&c);
}

static void test_options(void **state)
{
	struct cam c;

	assert_int_equal(cam_open(&c, "demo:moving?size=320x240&fps=10&gop=7", false, NULL, NULL), 0);
	check_params(&c, 320, 240);
	cam_read(&c, 30);
	check_packets(&c, 10, 7);
	cam_decode(&c);
	cam_close(&c);

	/* fps that does not divide 90 kHz: no drift, durations alternate. */
	assert_int_equal(cam_open(&c, "demo:static?fps=7&size=128x96", false, NULL, NULL), 0);
	check_params(&c, 128, 96);
	cam_read(&c, 20);
	check_packets(&c, 7, 14);
	cam_close(&c);
}

static void quiet(int level, const char *line, void *opaque)
{
}

static void test_bad_url(void **state)
{
	static const char *const bad[] = {
		"demo:", "demo:nope", "demo:movingx", "demo:moving?size=640",
		"demo:moving?size=641x360", "demo:moving?size=640x361", "demo:moving?size=0x0",
		"demo:moving?size=64x64", "demo:moving?size=8000x360", "demo:moving?size=x360",
		"demo:moving?size=640x360x2", "demo:moving?size=+640x360", "demo:moving?fps=0",
		"demo:moving?fps=61", "demo:moving?fps=abc", "demo:moving?fps=15x",
		"demo:moving?fps=", "demo:moving?gop=-1", "demo:moving?gop=0",
		"demo:moving?colour=red", "demo:moving?fps", "demo:moving?fps=15&&gop=30",
		"demo:static?fps=15&", "rtsp://demo:moving",
	};
	struct cam c;

	log_set_sink(quiet, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = cam_open(&c, bad[i], false, NULL, NULL);

		if (ret != AVERROR(EINVAL))
			fail_msg("%s: %d", bad[i], ret);
		cam_close(&c);
	}
	log_set_sink(NULL, NULL);

	/* close takes a source that was never opened, twice. */
	memset(&c, 0, sizeof(c));
	cam_close(&c);
	cam_close(&c);
}

static void test_stop(void **state)
{
	struct fake f = { .mono = 1000000, .wall = 1700000000000000 };
	struct clock clk = { .wall_us = fake_wall, .monotonic_us = fake_mono, .opaque = &f };
	struct stop stop;
	AVPacket *pkt = av_packet_alloc();
	struct cam c;
	int64_t t0;

	assert_non_null(pkt);
	assert_int_equal(stop_init(&stop), 0);
	assert_int_equal(cam_open(&c, "demo:static?fps=1", true, &clk, &stop), 0);
	/* Frame 0 is due at once; frame 1 a second later, on a clock that
	 * stands still. The flag goes up while read waits for it. */
	assert_int_equal(demo_source_ops.read(&c.src, pkt), 0);
	f.stop = &stop;
	f.stop_after = f.calls + 3;
	t0 = real_us();
	assert_int_equal(demo_source_ops.read(&c.src, pkt), AVERROR_EXIT);
	assert_true(real_us() - t0 < 500000);
	/* Once raised, every read says so straight away. */
	assert_int_equal(demo_source_ops.read(&c.src, pkt), AVERROR_EXIT);
	cam_close(&c);

	/* Unpaced sources honour it too. */
	assert_int_equal(cam_open(&c, "demo:moving", false, NULL, &stop), 0);
	assert_int_equal(demo_source_ops.read(&c.src, pkt), AVERROR_EXIT);
	cam_close(&c);
	av_packet_free(&pkt);
	stop_destroy(&stop);
}

static void test_pacing(void **state)
{
	struct fake f = { .mono = 5000000, .step = 4000, .wall = 1700000000000000 };
	struct clock clk = { .wall_us = fake_wall, .monotonic_us = fake_mono, .opaque = &f };
	AVPacket *pkt = av_packet_alloc();
	struct cam c;
	int64_t start;

	assert_non_null(pkt);
	assert_int_equal(cam_open(&c, "demo:moving?fps=60", true, &clk, NULL), 0);
	start = f.mono;
	/* No packet before its due time. */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(demo_source_ops.read(&c.src, pkt), 0);
		assert_int_equal(pkt->pts, av_rescale(i, 90000, 60));
		assert_true(f.mono - start >= av_rescale(i, 1000000, 60));
		av_packet_unref(pkt);
	}
	/* A consumer 10 s late gets the present, not a 10 s burst. */
	f.mono += 10000000;
	assert_int_equal(demo_source_ops.read(&c.src, pkt), 0);
	assert_true(pkt->pts >= 10 * 90000);
	assert_true(pkt->pts <= 11 * 90000);
	av_packet_unref(pkt);
	assert_int_equal(demo_source_ops.read(&c.src, pkt), 0);
	av_packet_unref(pkt);
	cam_close(&c);
	av_packet_free(&pkt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_moving),
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_bad_url),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_pacing),
	};

	log_set_level(LOG_WARNING);
	av_log_set_level(AV_LOG_WARNING);  /* libx264's banner */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
