/* test_snapshot.c - live.jpg: JPEGs of real H.264 (demo) and H.265 (libx265)
 * keyframes, one encode per keyframe, shared references, corrupt input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>

#include "util/clock.h"
#include "util/log.h"
#include "stream/snapshot.h"
#include "ingest/source.h"

#define DEMO_URL "demo:moving?size=320x240&fps=15&gop=5"
#define W 320
#define H 240

struct demo {
	struct source *src;
	struct source_opts opts;
};

static void demo_open(struct demo *d)
{
	memset(d, 0, sizeof(*d));
	d->opts.url = DEMO_URL;
	d->opts.realtime = false;
	d->opts.clock = &clock_system;
	d->opts.timeout_us = 5000000;
	d->opts.tag = "test";
	assert_int_equal(source_open(&d->src, &d->opts), 0);
	assert_int_equal(d->src->video.par->codec_id, AV_CODEC_ID_H264);
}

/* The next keyframe of the demo stream; the caller frees it. */
static AVPacket *next_keyframe(struct demo *d)
{
	AVPacket *pkt = av_packet_alloc();

	assert_non_null(pkt);
	for (;;) {
		assert_int_equal(source_read(d->src, pkt), 0);
		if (pkt->stream_index == SOURCE_VIDEO && (pkt->flags & AV_PKT_FLAG_KEY))
			return pkt;
		av_packet_unref(pkt);
	}
}

/* One packet through a fresh FFmpeg decoder: the test's own reference. */
static AVFrame *decode_one(enum AVCodecID id, const AVCodecParameters *par, const uint8_t *data,
			   size_t size)
{
	const AVCodec *codec = avcodec_find_decoder(id);
	AVCodecContext *dec;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *f = av_frame_alloc();

	assert_non_null(codec);
	assert_non_null(pkt);
	assert_non_null(f);
	dec = avcodec_alloc_context3(codec);
	assert_non_null(dec);
	if (par)
		assert_int_equal(avcodec_parameters_to_context(dec, par), 0);
	dec->thread_count = 1;
	assert_int_equal(avcodec_open2(dec, codec, NULL), 0);
	assert_int_equal(av_new_packet(pkt, (int)size), 0);   /* padded */
	memcpy(pkt->data, data, size);
	assert_int_equal(avcodec_send_packet(dec, pkt), 0);
	assert_int_equal(avcodec_send_packet(dec, NULL), 0);
	assert_int_equal(avcodec_receive_frame(dec, f), 0);
	av_packet_free(&pkt);
	avcodec_free_context(&dec);
	return f;
}

/* The Y plane as 8-bit full range, whatever depth and range it came in. */
static uint8_t *luma_full(const AVFrame *f)
{
	const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(f->format);
	int depth = desc->comp[0].depth;
	bool full = f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_YUVJ420P ||
		    f->format == AV_PIX_FMT_YUVJ422P || f->format == AV_PIX_FMT_YUVJ444P;
	uint8_t *y = malloc((size_t)f->width * f->height);

	assert_non_null(y);
	for (int row = 0; row < f->height; row++) {
		const uint8_t *p = f->data[0] + (ptrdiff_t)row * f->linesize[0];

		for (int x = 0; x < f->width; x++) {
			int v = depth > 8 ? ((const uint16_t *)p)[x] : p[x];

			if (full)
				v = v * 255 / ((1 << depth) - 1);
			else
				v = ((v - (16 << (depth - 8))) * 255 + (219 << (depth - 8)) / 2) /
				    (219 << (depth - 8));
			y[row * f->width + x] = v < 0 ? 0 : v > 255 ? 255 : v;
		}
	}
	return y;
}

/* Mean absolute and mean signed difference: JPEG loss shows in the first,
 * a wrong range (or depth) conversion in both. */
static void diff(const uint8_t *a, const uint8_t *b, size_t n, double *mad, double *bias)
{
	int64_t abs_sum = 0, sum = 0;

	for (size_t i = 0; i < n; i++) {
		abs_sum += abs(a[i] - b[i]);
		sum += a[i] - b[i];
	}
	*mad = (double)abs_sum / n;
	*bias = (double)sum / n;
}

/* A whole JPEG (SOI ... EOI) of the expected size, and its picture is the
 * keyframe's: the Y planes, both taken to full range, barely differ. At
 * qscale 4 that is 0.4-0.7 levels on average; skipping the range
 * conversion alone makes it 3.9. */
static void check_jpeg(const struct snapshot_jpeg *j, const AVCodecParameters *par,
		       const AVPacket *key, int width, int height)
{
	AVFrame *pic, *ref;
	uint8_t *a, *b;
	double mad, bias;

	assert_non_null(j->buf);
	assert_true(j->size > 4);
	assert_true(j->data >= j->buf->data && j->data + j->size <= j->buf->data + j->buf->size);
	assert_int_equal(j->data[0], 0xff);
	assert_int_equal(j->data[1], 0xd8);
	assert_int_equal(j->data[j->size - 2], 0xff);
	assert_int_equal(j->data[j->size - 1], 0xd9);
	assert_int_equal(j->width, width);
	assert_int_equal(j->height, height);
	assert_false(j->own);   /* made here: H.264 and H.265 keyframes */
	pic = decode_one(AV_CODEC_ID_MJPEG, NULL, j->data, j->size);
	assert_int_equal(pic->width, width);
	assert_int_equal(pic->height, height);
	if (!key) {
		av_frame_free(&pic);
		return;
	}
	ref = decode_one(par->codec_id, par, key->data, key->size);
	assert_int_equal(ref->width, width);
	assert_int_equal(ref->height, height);
	a = luma_full(pic);
	b = luma_full(ref);
	diff(a, b, (size_t)width * height, &mad, &bias);
	if (mad >= 1.5 || fabs(bias) >= 1)
		fail_msg("JPEG differs from its keyframe by %.2f on average (bias %.2f)", mad, bias);
	free(a);
	free(b);
	av_frame_free(&pic);
	av_frame_free(&ref);
}

static void test_no_keyframe(void **state)
{
	struct snapshot *s;
	struct snapshot_jpeg j;

	snapshot_free(NULL);
	assert_int_equal(snapshot_new(&s), 0);
	assert_int_equal(snapshot_get_jpeg(s, &j), -EAGAIN);
	assert_null(j.buf);
	assert_int_equal(snapshot_get_jpeg(s, &j), -EAGAIN);
	snapshot_free(s);
}

static void test_h264(void **state)
{
	struct snapshot_jpeg j1, j2, j3;
	struct snapshot *s;
	struct demo d;
	AVPacket *k1, *k2;
	uint8_t *copy;

	demo_open(&d);
	k1 = next_keyframe(&d);
	k2 = next_keyframe(&d);
	assert_int_equal(snapshot_new(&s), 0);
	assert_int_equal(snapshot_update(s, d.src->video.par, k1), 0);

	assert_int_equal(snapshot_get_jpeg(s, &j1), 0);
	check_jpeg(&j1, d.src->video.par, k1, W, H);
	copy = malloc(j1.size);
	assert_non_null(copy);
	memcpy(copy, j1.data, j1.size);

	/* No new keyframe: the same encode, shared. */
	assert_int_equal(snapshot_get_jpeg(s, &j2), 0);
	assert_ptr_equal(j2.data, j1.data);
	assert_ptr_equal(j2.buf->data, j1.buf->data);
	assert_int_equal(j2.size, j1.size);
	av_buffer_unref(&j2.buf);

	/* A new keyframe: a new JPEG, the box has moved. The old one, still
	 * held, keeps its bytes. */
	assert_int_equal(snapshot_update(s, d.src->video.par, k2), 0);
	assert_int_equal(snapshot_get_jpeg(s, &j3), 0);
	check_jpeg(&j3, d.src->video.par, k2, W, H);
	assert_ptr_not_equal(j3.data, j1.data);
	assert_false(j3.size == j1.size && !memcmp(j3.data, j1.data, j1.size));
	assert_memory_equal(j1.data, copy, j1.size);
	av_buffer_unref(&j1.buf);

	/* The cache holds the JPEG after every reader dropped it. */
	assert_int_equal(snapshot_get_jpeg(s, &j2), 0);
	assert_ptr_equal(j2.data, j3.data);
	av_buffer_unref(&j2.buf);
	av_buffer_unref(&j3.buf);

	/* The same parameters again (a reconnect): the decoder is kept. */
	assert_int_equal(snapshot_update(s, d.src->video.par, k1), 0);
	assert_int_equal(snapshot_get_jpeg(s, &j1), 0);
	assert_memory_equal(j1.data, copy, j1.size);   /* same input, same bytes */
	av_buffer_unref(&j1.buf);

	free(copy);
	snapshot_free(s);   /* frees a cached JPEG and a kept keyframe */
	av_packet_free(&k1);
	av_packet_free(&k2);
	source_close(d.src);
}

struct reader {
	struct snapshot *s;
	pthread_barrier_t *start;
	int rounds;
	struct snapshot_jpeg j;   /* the first one got */
	int ret;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;

	pthread_barrier_wait(r->start);
	r->ret = snapshot_get_jpeg(r->s, &r->j);
	for (int i = 1; i < r->rounds && !r->ret; i++) {
		struct snapshot_jpeg j;

		r->ret = snapshot_get_jpeg(r->s, &j);
		if (!r->ret && (j.size < 4 || j.data[0] != 0xff || j.data[1] != 0xd8 ||
				j.data[j.size - 1] != 0xd9))
			r->ret = -EBADMSG;
		av_buffer_unref(&j.buf);
	}
	return NULL;
}

#define READERS 6
#define KEYS 4

static void test_concurrent(void **state)
{
	struct reader r[READERS];
	pthread_t t[READERS];
	pthread_barrier_t start;
	struct snapshot *s;
	AVPacket *keys[KEYS];
	struct demo d;

	demo_open(&d);
	for (int i = 0; i < KEYS; i++)
		keys[i] = next_keyframe(&d);
	assert_int_equal(snapshot_new(&s), 0);
	assert_int_equal(snapshot_update(s, d.src->video.par, keys[0]), 0);

	/* All ask at once for a keyframe nobody has encoded: one encode, one
	 * buffer for all. */
	pthread_barrier_init(&start, NULL, READERS);
	for (int i = 0; i < READERS; i++) {
		r[i] = (struct reader){ .s = s, .start = &start, .rounds = 1 };
		assert_int_equal(pthread_create(&t[i], NULL, reader_main, &r[i]), 0);
	}
	for (int i = 0; i < READERS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(r[i].ret, 0);
		assert_ptr_equal(r[i].j.data, r[0].j.data);
	}
	check_jpeg(&r[0].j, d.src->video.par, keys[0], W, H);
	for (int i = 0; i < READERS; i++)
		av_buffer_unref(&r[i].j.buf);
	pthread_barrier_destroy(&start);

	/* Readers while keyframes keep coming: each gets a whole JPEG. */
	pthread_barrier_init(&start, NULL, READERS + 1);
	for (int i = 0; i < READERS; i++) {
		r[i] = (struct reader){ .s = s, .start = &start, .rounds = 8 };
		assert_int_equal(pthread_create(&t[i], NULL, reader_main, &r[i]), 0);
	}
	pthread_barrier_wait(&start);
	for (int i = 0; i < 40; i++)
		assert_int_equal(snapshot_update(s, d.src->video.par, keys[i % KEYS]), 0);
	for (int i = 0; i < READERS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(r[i].ret, 0);
		check_jpeg(&r[i].j, NULL, NULL, W, H);
		av_buffer_unref(&r[i].j.buf);
	}
	pthread_barrier_destroy(&start);

	snapshot_free(s);
	for (int i = 0; i < KEYS; i++)
		av_packet_free(&keys[i]);
	source_close(d.src);
}

/* A gradient with a box at x0, in the encoder's format (8 or 10 bits). */
static void draw(AVFrame *f, int x0)
{
	int shift = av_pix_fmt_desc_get(f->format)->comp[0].depth - 8;

	for (int p = 0; p < 3; p++) {
		int w = p ? f->width / 2 : f->width, h = p ? f->height / 2 : f->height;

		for (int y = 0; y < h; y++) {
			for (int x = 0; x < w; x++) {
				int v = p ? 128 : 16 + (x + y) * 180 / (W + H);

				if (!p && x >= x0 && x < x0 + 64 && y >= 80 && y < 144)
					v = 235;
				if (shift)
					((uint16_t *)(f->data[p] + y * f->linesize[p]))[x] = v << shift;
				else
					f->data[p][y * f->linesize[p] + x] = v;
			}
		}
	}
}

/* The child's side of make_hevc: encodes, then writes extradata size,
 * packet size, extradata, packet to fd. 0 when all went out. */
static int hevc_child(enum AVPixelFormat fmt, int fd)
{
	const AVCodec *codec = avcodec_find_encoder_by_name("libx265");
	AVCodecContext *enc = avcodec_alloc_context3(codec);
	AVFrame *f = av_frame_alloc();
	AVPacket *pkt = av_packet_alloc();
	int32_t sizes[2];
	int ret;

	if (!enc || !f || !pkt)
		return -1;
	enc->width = W;
	enc->height = H;
	enc->pix_fmt = fmt;
	enc->time_base = (AVRational){ 1, 15 };
	enc->gop_size = 3;
	enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	av_opt_set(enc->priv_data, "preset", "ultrafast", 0);
	/* no-asm: its SIMD reads past buffers, which valgrind reports. */
	av_opt_set(enc->priv_data, "x265-params",
		   "log-level=none:frame-threads=1:no-asm=1:repeat-headers=0", 0);
	if (avcodec_open2(enc, codec, NULL) < 0 || enc->extradata_size <= 0)
		return -1;
	f->format = fmt;
	f->width = W;
	f->height = H;
	if (av_frame_get_buffer(f, 0) < 0)
		return -1;
	/* The second keyframe, so that it is not simply the stream's start. */
	for (int i = 0; i <= 8; i++) {
		if (i < 8) {
			if (av_frame_make_writable(f) < 0)
				return -1;
			draw(f, 20 + 24 * i);
			f->pts = i;
		}
		if (avcodec_send_frame(enc, i < 8 ? f : NULL) < 0)
			return -1;
		while ((ret = avcodec_receive_packet(enc, pkt)) == 0) {
			if ((pkt->flags & AV_PKT_FLAG_KEY) && pkt->pts > 0) {
				sizes[0] = enc->extradata_size;
				sizes[1] = pkt->size;
				return write(fd, sizes, sizeof(sizes)) == sizeof(sizes) &&
				       write(fd, enc->extradata, sizes[0]) == sizes[0] &&
				       write(fd, pkt->data, sizes[1]) == sizes[1] ? 0 : -1;
			}
			av_packet_unref(pkt);
		}
		if (ret != AVERROR(EAGAIN))
			return -1;
	}
	return -1;
}

static void read_all(int fd, void *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(fd, (uint8_t *)buf + got, n - got);

		assert_true(r > 0);
		got += r;
	}
}

/* An H.265 keyframe with its parameter sets in extradata only, as a camera's
 * SDP gives them. 1: libx265 (or that depth) is not there. libx265 3.5
 * leaks (SAO::create) and keeps global tables until x265_cleanup(), which
 * libavcodec never calls; encoding in a child process keeps all that out of
 * this one, so that valgrind's verdict on this test is about our code. */
static int make_hevc(enum AVPixelFormat fmt, AVCodecParameters *par, AVPacket *key)
{
	const AVCodec *codec = avcodec_find_encoder_by_name("libx265");
	bool have = false;
	int32_t sizes[2];
	int fds[2];
	pid_t pid;

	if (!codec)
		return 1;
	for (const enum AVPixelFormat *p = codec->pix_fmts; p && *p != AV_PIX_FMT_NONE; p++)
		have |= *p == fmt;
	if (!have)
		return 1;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(fds[0]);
		_exit(hevc_child(fmt, fds[1]) ? 1 : 0);
	}
	close(fds[1]);
	/* The child's exit status is valgrind's opinion of x265: not asked. */
	read_all(fds[0], sizes, sizeof(sizes));
	assert_true(sizes[0] > 0 && sizes[0] < 4096 && sizes[1] > 0 && sizes[1] < (1 << 20));
	par->codec_type = AVMEDIA_TYPE_VIDEO;
	par->codec_id = AV_CODEC_ID_HEVC;
	par->format = fmt;
	par->width = W;
	par->height = H;
	par->extradata = av_mallocz(sizes[0] + AV_INPUT_BUFFER_PADDING_SIZE);
	assert_non_null(par->extradata);
	par->extradata_size = sizes[0];
	read_all(fds[0], par->extradata, sizes[0]);
	assert_int_equal(av_new_packet(key, sizes[1]), 0);
	read_all(fds[0], key->data, sizes[1]);
	key->flags = AV_PKT_FLAG_KEY;
	close(fds[0]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return 0;
}

static void test_h265(void **state)
{
	static const enum AVPixelFormat fmts[] = { AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUV420P10LE };
	enum { N = sizeof(fmts) / sizeof(fmts[0]) };
	AVCodecParameters *par[N];
	AVPacket *key[N], *k264;
	struct snapshot_jpeg j;
	struct snapshot *s;
	struct demo d;
	int done = 0;

	/* Forked before the demo's encoder starts any thread. */
	for (int i = 0; i < N; i++) {
		par[i] = avcodec_parameters_alloc();
		key[i] = av_packet_alloc();
		assert_non_null(par[i]);
		assert_non_null(key[i]);
		if (make_hevc(fmts[i], par[i], key[i])) {
			print_message("no libx265 for %s: skipped\n", av_get_pix_fmt_name(fmts[i]));
			avcodec_parameters_free(&par[i]);
		}
	}
	/* Between H.264 keyframes, so the parameters change both ways. */
	demo_open(&d);
	k264 = next_keyframe(&d);
	assert_int_equal(snapshot_new(&s), 0);
	for (int i = 0; i < N; i++) {
		if (!par[i])
			continue;
		assert_int_equal(snapshot_update(s, d.src->video.par, k264), 0);
		assert_int_equal(snapshot_get_jpeg(s, &j), 0);
		check_jpeg(&j, d.src->video.par, k264, W, H);
		av_buffer_unref(&j.buf);

		assert_int_equal(snapshot_update(s, par[i], key[i]), 0);
		assert_int_equal(snapshot_get_jpeg(s, &j), 0);
		check_jpeg(&j, par[i], key[i], W, H);
		av_buffer_unref(&j.buf);
		done++;
	}
	snapshot_free(s);
	for (int i = 0; i < N; i++) {
		avcodec_parameters_free(&par[i]);
		av_packet_free(&key[i]);
	}
	av_packet_free(&k264);
	source_close(d.src);
	if (!done)
		skip();
}

static void test_corrupt(void **state)
{
	struct snapshot_jpeg j;
	struct snapshot *s;
	struct demo d;
	AVPacket *key, *bad = av_packet_alloc();
	unsigned seed = 1;
	int ret;

	assert_non_null(bad);
	demo_open(&d);
	key = next_keyframe(&d);
	assert_int_equal(snapshot_new(&s), 0);
	av_log_set_level(AV_LOG_QUIET);   /* the decoder's complaints are expected */

	/* Random bytes: an error, not -EAGAIN, and the same one next time
	 * without decoding again. */
	assert_int_equal(av_new_packet(bad, 4000), 0);
	for (int i = 0; i < bad->size; i++)
		bad->data[i] = rand_r(&seed);
	bad->flags = AV_PKT_FLAG_KEY;
	assert_int_equal(snapshot_update(s, d.src->video.par, bad), 0);
	ret = snapshot_get_jpeg(s, &j);
	assert_true(ret < 0 && ret != -EAGAIN);
	assert_null(j.buf);
	assert_int_equal(snapshot_get_jpeg(s, &j), ret);

	/* A good keyframe after it decodes fine. */
	assert_int_equal(snapshot_update(s, d.src->video.par, key), 0);
	assert_int_equal(snapshot_get_jpeg(s, &j), 0);
	check_jpeg(&j, d.src->video.par, key, W, H);
	av_buffer_unref(&j.buf);

	/* A real keyframe with its tail (or a slice header) garbled, and
	 * parameter sets that are garbage: an error or a concealed picture,
	 * never a crash (valgrind watches the rest). */
	for (int round = 0; round < 12; round++) {
		AVCodecParameters *par = avcodec_parameters_alloc();
		int from = round < 6 ? key->size / 2 : 5 + round;

		assert_non_null(par);
		assert_int_equal(avcodec_parameters_copy(par, d.src->video.par), 0);
		av_packet_unref(bad);
		assert_int_equal(av_packet_ref(bad, key), 0);
		assert_int_equal(av_packet_make_writable(bad), 0);
		for (int i = from; i < bad->size; i++)
			bad->data[i] = rand_r(&seed);
		if (round % 3 == 2)
			for (int i = 5; i < par->extradata_size; i++)
				par->extradata[i] = rand_r(&seed);
		assert_int_equal(snapshot_update(s, par, bad), 0);
		ret = snapshot_get_jpeg(s, &j);
		assert_true(ret <= 0 && ret != -EAGAIN);
		if (!ret)
			check_jpeg(&j, NULL, NULL, W, H);
		av_buffer_unref(&j.buf);
		avcodec_parameters_free(&par);
	}

	/* An unknown codec. */
	{
		AVCodecParameters *par = avcodec_parameters_alloc();

		assert_non_null(par);
		par->codec_id = AV_CODEC_ID_NONE;
		assert_int_equal(snapshot_update(s, par, key), 0);
		assert_int_equal(snapshot_get_jpeg(s, &j), AVERROR_DECODER_NOT_FOUND);
		avcodec_parameters_free(&par);
	}

	av_log_set_level(AV_LOG_WARNING);
	snapshot_free(s);
	av_packet_free(&key);
	av_packet_free(&bad);
	source_close(d.src);
}

/* An MJPEG camera's keyframe is its own JPEG: handed out as the very
 * bytes that came (the same buffer), never decoded and encoded again; a
 * picture without a JPEG's SOI goes to the decoder, which refuses it. */
static void test_mjpeg_own(void **state)
{
	AVCodecParameters *par = avcodec_parameters_alloc();
	AVPacket *pkt = av_packet_alloc();
	struct snapshot_jpeg j;
	struct snapshot *s;
	int ret;

	(void)state;
	assert_non_null(par);
	assert_non_null(pkt);
	par->codec_type = AVMEDIA_TYPE_VIDEO;
	par->codec_id = AV_CODEC_ID_MJPEG;
	par->width = 800;
	par->height = 600;
	assert_int_equal(av_new_packet(pkt, 1000), 0);
	for (int i = 0; i < pkt->size; i++)
		pkt->data[i] = (uint8_t)(i * 7);
	memcpy(pkt->data, "\xff\xd8\xff\xe0", 4);
	memcpy(pkt->data + pkt->size - 2, "\xff\xd9", 2);
	pkt->flags = AV_PKT_FLAG_KEY;
	assert_int_equal(snapshot_new(&s), 0);
	assert_int_equal(snapshot_update(s, par, pkt), 0);
	assert_int_equal(snapshot_get_jpeg(s, &j), 0);
	assert_ptr_equal(j.data, pkt->data);
	assert_int_equal(j.size, pkt->size);
	assert_int_equal(j.width, 800);
	assert_int_equal(j.height, 600);
	assert_true(j.own);
	av_buffer_unref(&j.buf);

	av_log_set_level(AV_LOG_QUIET);   /* the decoder's complaint is expected */
	pkt->data[1] = 0;
	assert_int_equal(snapshot_update(s, par, pkt), 0);
	ret = snapshot_get_jpeg(s, &j);
	assert_true(ret < 0 && ret != -EAGAIN);
	assert_null(j.buf);
	av_log_set_level(AV_LOG_WARNING);

	snapshot_free(s);
	av_packet_free(&pkt);
	avcodec_parameters_free(&par);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_keyframe),
		cmocka_unit_test(test_h264),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_h265),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_mjpeg_own),
	};

	log_set_level(LOG_WARNING);
	av_log_set_level(AV_LOG_WARNING);  /* libx264's banner */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
