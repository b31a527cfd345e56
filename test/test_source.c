/* test_source.c - the source seam: a read's deadline counts from the last
 * packet received, not from the read call; a packet that only comes after
 * its deadline is the last one of a stalled session; and failures get
 * plain reasons. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <libavformat/avformat.h>

#include "ingest/avsource.h"
#include "ingest/pushslot.h"
#include "ingest/source.h"
#include "stream/fragment.h"
#include "stream/fragmenter.h"
#include "util/clock.h"
#include "util/stop.h"
#include "util/log.h"
#include "testutil.h"

#define S 1000000

static int64_t mono;          /* the fake clock, µs */
static int64_t read_takes[8]; /* how long read i waits before its packet */
static int reads;             /* ops->read calls */
static int64_t seen_deadline[8], seen_left[8];

static int64_t fake_mono(const struct clock *c) { (void)c; return mono; }
static int64_t fake_wall(const struct clock *c) { (void)c; return mono; }
static const struct clock fake = { .wall_us = fake_wall, .monotonic_us = fake_mono };

static int timed_open(struct source *src, const struct source_opts *opts)
{
	(void)opts;
	src->video.time_base = (AVRational){ 1, 90000 };
	return 0;
}

static int timed_read(struct source *src, AVPacket *pkt)
{
	int i = reads++;

	seen_deadline[i] = src->deadline_us;
	seen_left[i] = source_remaining_us(src);
	mono += read_takes[i];
	pkt->stream_index = SOURCE_VIDEO;
	pkt->dts = pkt->pts = i;
	return 0;
}

static void timed_close(struct source *src)
{
	(void)src;
}

static const struct source_ops timed_ops = {
	.name = "timed", .open = timed_open, .read = timed_read, .close = timed_close,
};

static void test_deadline_from_last_packet(void **state)
{
	struct source_opts opts = {
		.url = "timed:", .timeout_us = 3 * S, .clock = &fake, .tag = "t", .ops = &timed_ops,
	};
	struct source *src;
	AVPacket *pkt = av_packet_alloc();

	(void)state;
	mono = 1000 * S;
	reads = 0;
	read_takes[0] = 1 * S;
	read_takes[1] = 1 * S;
	read_takes[2] = 3 * S + 500000;   /* past its deadline: a leftover */
	assert_int_equal(source_open(&src, &opts), 0);
	assert_int_equal(src->deadline_us, 1003 * S);

	assert_int_equal(source_read(src, pkt), 0);
	assert_int_equal(seen_deadline[0], 1003 * S);
	av_packet_unref(pkt);
	/* The caller takes 1.5 s before it reads again: the wait left is what
	 * remains of 3 s after the last packet (at 1001 s), not 3 s. */
	mono += 1500000;
	assert_int_equal(source_read(src, pkt), 0);
	assert_int_equal(seen_deadline[1], 1004 * S);
	assert_int_equal(seen_left[1], 1500000);
	av_packet_unref(pkt);

	/* A packet after the deadline is handed on, and the session is over:
	 * the next read fails at once without asking the source. */
	assert_int_equal(source_read(src, pkt), 0);
	assert_int_equal(pkt->dts, 2);
	av_packet_unref(pkt);
	assert_int_equal(source_read(src, pkt), AVERROR(ETIMEDOUT));
	assert_int_equal(reads, 3);
	source_close(src);
	av_packet_free(&pkt);
}

/* A camera sends its SPS and PPS as packets of their own, before the IDR
 * picture and between pictures; they come out joined to the next picture,
 * which keeps its own time and flags. Length-prefixed packets pass as they are. */
static const uint8_t sps[] = { 0, 0, 0, 1, 0x67, 0x64, 0x00, 0x28 };
static const uint8_t pps[] = { 0, 0, 0, 1, 0x68, 0xee, 0x3c, 0x80 };
static const uint8_t idr[] = { 0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00 };
static const uint8_t p_slice[] = { 0, 0, 1, 0x41, 0x9a, 0x02 };
static const uint8_t avcc_sei[] = { 0, 0, 0, 3, 0x06, 0x05, 0x01 };
static const struct { const uint8_t *data; size_t size; int key; } script[] = {
	{ sps, sizeof(sps), 1 }, { pps, sizeof(pps), 1 }, { idr, sizeof(idr), 1 },
	{ p_slice, sizeof(p_slice), 0 }, { pps, sizeof(pps), 0 }, { p_slice, sizeof(p_slice), 0 },
	{ avcc_sei, sizeof(avcc_sei), 0 },
};

static int scripted_open(struct source *src, const struct source_opts *opts)
{
	(void)opts;
	src->video.time_base = (AVRational){ 1, 90000 };
	src->video.par = avcodec_parameters_alloc();
	src->video.par->codec_id = AV_CODEC_ID_H264;
	return 0;
}

static int scripted_read(struct source *src, AVPacket *pkt)
{
	int i = reads++;

	(void)src;
	if (i >= (int)(sizeof(script) / sizeof(script[0])))
		return AVERROR_EOF;
	assert_int_equal(av_new_packet(pkt, (int)script[i].size), 0);
	memcpy(pkt->data, script[i].data, script[i].size);
	pkt->stream_index = SOURCE_VIDEO;
	pkt->dts = pkt->pts = i;
	pkt->flags = script[i].key ? AV_PKT_FLAG_KEY : 0;
	return 0;
}

static void scripted_close(struct source *src)
{
	avcodec_parameters_free(&src->video.par);
}

static const struct source_ops scripted_ops = {
	.name = "scripted", .open = scripted_open, .read = scripted_read, .close = scripted_close,
};

static void expect_packet(struct source *src, AVPacket *pkt, int64_t dts, int key,
			  const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	assert_int_equal(source_read(src, pkt), 0);
	assert_int_equal(pkt->dts, dts);
	assert_int_equal(pkt->flags & AV_PKT_FLAG_KEY, key);
	assert_int_equal(pkt->size, na + nb);
	assert_memory_equal(pkt->data, a, na);
	if (nb)
		assert_memory_equal(pkt->data + na, b, nb);
	av_packet_unref(pkt);
}

static void test_parameter_sets_join_the_picture(void **state)
{
	struct source_opts opts = {
		.url = "scripted:", .clock = &clock_system, .tag = "t", .ops = &scripted_ops,
	};
	uint8_t sps_pps[sizeof(sps) + sizeof(pps)];
	struct source *src;
	AVPacket *pkt = av_packet_alloc();

	(void)state;
	reads = 0;
	memcpy(sps_pps, sps, sizeof(sps));
	memcpy(sps_pps + sizeof(sps), pps, sizeof(pps));
	assert_int_equal(source_open(&src, &opts), 0);
	expect_packet(src, pkt, 2, AV_PKT_FLAG_KEY, sps_pps, sizeof(sps_pps), idr, sizeof(idr));
	expect_packet(src, pkt, 3, 0, p_slice, sizeof(p_slice), NULL, 0);
	expect_packet(src, pkt, 5, 0, pps, sizeof(pps), p_slice, sizeof(p_slice));
	expect_packet(src, pkt, 6, 0, avcc_sei, sizeof(avcc_sei), NULL, 0);
	assert_int_equal(source_read(src, pkt), AVERROR_EOF);
	source_close(src);
	av_packet_free(&pkt);
}

/* FFmpeg reaches only the protocols a source needs: a local file through
 * the file protocol alone, a camera's URL through network protocols alone.
 * A tiny Y4M file (raw video: opened and demuxed, then refused as not
 * H.264) tells by the log whether FFmpeg read it. */
static int demuxed;

static void count_rawvideo(int level, const char *line, void *opaque)
{
	(void)level;
	(void)opaque;
	if (strstr(line, "rawvideo is not recorded"))
		demuxed++;
}

static bool opens_file(const char *url)
{
	struct source_opts opts = {
		.url = url, .timeout_us = 5 * S, .clock = &clock_system, .tag = "t",
	};
	struct source *src = NULL;

	demuxed = 0;
	log_set_sink(count_rawvideo, NULL);
	assert_true(source_open(&src, &opts) < 0);
	log_set_sink(NULL, NULL);
	return demuxed > 0;
}

static void test_protocol_whitelist(void **state)
{
	char dir[64], path[128], url[256];
	static const char head[] = "YUV4MPEG2 W16 H16 F15:1 Ip A1:1 C420jpeg\nFRAME\n";
	uint8_t y4m[sizeof(head) - 1 + 16 * 16 * 3 / 2] = { 0 };

	(void)state;
	testutil_temp_dir(dir, sizeof(dir), "source");
	snprintf(path, sizeof(path), "%s/tiny.y4m", dir);
	memcpy(y4m, head, sizeof(head) - 1);
	testutil_write_file(path, y4m, sizeof(y4m), TESTUTIL_REPLACE);

	assert_true(opens_file(path));                    /* the control */
	snprintf(url, sizeof(url), "file:%s", path);
	assert_true(opens_file(url));
	snprintf(url, sizeof(url), "concat:%s", path);   /* a protocol wrapping others */
	assert_false(opens_file(url));
	snprintf(url, sizeof(url), "subfile,,start,0,end,0,,:%s", path);
	assert_false(opens_file(url));
	assert_int_equal(testutil_remove_tree(dir), 0);
}

/* Reasons are plain words, never FFmpeg's raw messages. */
static void test_reasons(void **state)
{
	static const struct {
		int err;
		const char *want;
	} cases[] = {
		{ AVERROR_HTTP_SERVER_ERROR, "camera error (5xx)" },
		{ AVERROR_HTTP_OTHER_4XX, "request refused (4xx)" },
		{ AVERROR_HTTP_UNAUTHORIZED, "authentication failed" },
		{ SOURCE_ERROR_NO_MEDIA, "no media in time" },
		{ AVERROR(ETIMEDOUT), "no answer in time" },
		{ AVERROR(ECONNREFUSED), "connection refused" },
	};
	char buf[96];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		source_describe_error(cases[i].err, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
	}
}

/* Collects a fragmenter's output as one byte stream: what a browser that
 * records fragmented MP4 sends. */
struct bytes {
	uint8_t *data;
	size_t size;
};

static void append(struct fragment *frag, void *opaque)
{
	struct bytes *b = opaque;

	b->data = realloc(b->data, b->size + frag->size);
	assert_non_null(b->data);
	memcpy(b->data + b->size, frag->data, frag->size);
	b->size += frag->size;
	fragment_unref(&frag);
}

/* 75 frames of the demo camera (keyframes at 0, 30 and 60) as fragmented
 * MP4: what a browser that records MP4 sends. */
static struct bytes browser_mp4(void)
{
	static const struct source_opts demo = {
		.url = "demo:moving?fps=15&gop=30", .clock = &clock_system, .tag = "test",
	};
	struct bytes stream = { 0 };
	struct source *src;
	struct fragmenter *frag;
	AVPacket *pkt = av_packet_alloc();

	assert_int_equal(source_open(&src, &demo), 0);
	assert_int_equal(fragmenter_open(&frag, src, 1, append, &stream), 0);
	for (int i = 0; i < 75; i++) {
		assert_int_equal(source_read(src, pkt), 0);
		assert_int_equal(fragmenter_write(frag, pkt, i), 0);
	}
	assert_int_equal(fragmenter_flush(frag), 0);
	fragmenter_close(frag);
	source_close(src);
	av_packet_free(&pkt);
	return stream;
}

/* Reads stream as a browser camera's feed does, on the fake clock: n
 * packets, then the clock set to at_us; returns the error that ended the
 * reads after it, and in *ended how many packets came before that. */
static int read_pushed(const struct bytes *stream, int n, int64_t at_us, int *ended)
{
	struct source_opts opts = { .url = "", .clock = &fake, .tag = "test", .ops = &avsource_ops };
	struct source *src;
	struct pushslot *slot;
	struct stop stop;
	AVPacket *pkt = av_packet_alloc();
	char holder[48];
	int i, ret;

	assert_int_equal(stop_init(&stop), 0);
	assert_int_equal(pushslot_new(&slot, &stop, PUSHSLOT_STREAM), 0);
	assert_int_equal(pushslot_attach(slot, "test", NULL, NULL, holder), 0);
	for (size_t off = 0; off < stream->size; off += PUSHSLOT_PIECE)
		assert_int_equal(pushslot_put_bytes(slot, stream->data + off,
						    stream->size - off < PUSHSLOT_PIECE ?
						    stream->size - off : PUSHSLOT_PIECE), 0);
	opts.stop = &stop;
	opts.push = slot;
	mono = 0;
	assert_int_equal(source_open(&src, &opts), 0);
	pushslot_detach(slot);   /* what is queued, then the end */
	for (i = 0; i < n; i++) {
		assert_int_equal(source_read(src, pkt), 0);
		av_packet_unref(pkt);
	}
	mono = at_us;
	while ((ret = source_read(src, pkt)) == 0) {
		av_packet_unref(pkt);
		i++;
	}
	*ended = i;
	source_close(src);
	pushslot_free(slot);
	stop_destroy(&stop);
	av_packet_free(&pkt);
	return ret;
}

/* A browser's MP4 is read for PUSHED_MP4_MAX_US at most: then the session
 * ends at the next keyframe (AVERROR(EAGAIN): connect again at once), or
 * 30 s later at any frame, so the mp4 reader's index of every sample seen
 * stays bounded. */
static void test_pushed_mp4_renewed(void **state)
{
	struct bytes stream = browser_mp4();
	int n;

	(void)state;
	/* Short of the bound: read to the end. */
	assert_int_equal(read_pushed(&stream, 20, PUSHED_MP4_MAX_US - 1, &n), AVERROR_EOF);
	assert_int_equal(n, 75);
	/* Past it: the session ends before the next keyframe... */
	assert_int_equal(read_pushed(&stream, 20, PUSHED_MP4_MAX_US, &n), AVERROR(EAGAIN));
	assert_int_equal(n, 30);
	/* ... or at once, when the keyframe is late. */
	assert_int_equal(read_pushed(&stream, 32, PUSHED_MP4_MAX_US + 30 * S, &n), AVERROR(EAGAIN));
	assert_int_equal(n, 32);
	free(stream.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deadline_from_last_packet),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_parameter_sets_join_the_picture),
		cmocka_unit_test(test_protocol_whitelist),
		cmocka_unit_test(test_pushed_mp4_renewed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
