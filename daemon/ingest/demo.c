/* demo.c - the built-in demo cameras: a synthetic picture with a running
 * clock, H.264 encoded by libavcodec and paced like a live camera. */
#include "ingest/demo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>

#include "util/clock.h"
#include "util/log.h"
#include "ingest/source.h"
#include "util/stop.h"

#define TIME_BASE 90000
#define SLICE_US 50000       /* longest sleep between two looks at the clock seam */
#define LATE_US 1000000      /* further behind than this: skip ahead */
#define BITRATE 500000       /* cap at 640x360; scaled by picture area */

/* Limited-range YUV. */
#define Y_PLATE 24
#define Y_TEXT 235

enum pattern { PATTERN_MOVING, PATTERN_STATIC };

/* Where things go in a width x height picture. Everything is even so that
 * it maps onto whole 4:2:0 chroma samples. */
struct layout {
	int ut, ud;                  /* segment thickness: time and date line */
	struct demo_rect plate;      /* dark backing behind the clock */
	struct demo_rect text;       /* what changes when the clock ticks */
	int date_x, date_y, time_x, time_y;
	int box;                     /* side of the moving box */
	int box_y0;                  /* the box stays below the plate */
	int box_xrange, box_yrange;  /* top-left corner moves in [0, range] */
};

struct demo {
	enum pattern pattern;
	int width, height, fps, gop;
	struct layout lay;
	const struct clock *clock;
	AVCodecContext *enc;
	AVFrame *bg;                 /* the scene without box and digits */
	AVFrame *frame;              /* reused: only the box and the digits are redrawn */
	int box_x, box_y;            /* box in frame now; -1: none */
	char shown[32];              /* clock text in frame now */
	int64_t frame_no;            /* next frame's timestamp, in 1/fps */
	int64_t sent;                /* frames handed to the encoder; keyframe cadence */
	int64_t start_mono_us, start_wall_us;
};

/* 7-segment glyphs: bit 0..6 = segments a..g. */
static const uint8_t digit_segments[10] = {
	0x3f, 0x06, 0x5b, 0x4f, 0x66, 0x6d, 0x7d, 0x07, 0x7f, 0x6f,
};

/* A glyph is 5u x 9u; digits and '-' advance 7u, ':' 3u. */
static int glyph_advance(char c, int u)
{
	return c == ':' ? 3 * u : 7 * u;
}

static int text_width(const char *s, int u)
{
	int w = 0;

	for (; *s; s++)
		w += glyph_advance(*s, u);
	return w - 2 * u;
}

static int even(int v)
{
	return v & ~1;
}

static void compute_layout(int width, int height, struct layout *l)
{
	int pad, dw, tw, text_w, text_h;

	memset(l, 0, sizeof(*l));
	l->ut = FFMAX(1, FFMIN(width / 100, height / 60));
	l->ud = FFMAX(1, l->ut / 2);
	pad = l->ut;
	dw = text_width("0000-00-00", l->ud);
	tw = text_width("00:00:00", l->ut);
	text_w = FFMAX(dw, tw);
	text_h = 9 * l->ud + l->ut + 9 * l->ut;

	l->plate.x = even(l->ut + 1);
	l->plate.y = l->plate.x;
	l->plate.w = even(text_w + 2 * pad + 1);
	l->plate.h = even(text_h + 2 * pad + 1);
	l->date_x = l->plate.x + pad;
	l->date_y = l->plate.y + pad;
	l->time_x = l->date_x;
	l->time_y = l->date_y + 9 * l->ud + l->ut;
	l->text = (struct demo_rect){ l->date_x, l->date_y, text_w, text_h };

	l->box = FFMAX(2, even(FFMIN(width, height) * 2 / 9));
	l->box_y0 = even(l->plate.y + l->plate.h + l->ut + 1);
	l->box_xrange = FFMAX(0, even(width - l->box));
	l->box_yrange = FFMAX(0, even(height - l->box - l->box_y0));
}

void demo_clock_rect(int width, int height, struct demo_rect *r)
{
	struct layout l;

	compute_layout(width, height, &l);
	*r = l.plate;
}

static void fill_y(AVFrame *f, int x, int y, int w, int h, uint8_t v)
{
	for (int row = y; row < y + h; row++)
		memset(f->data[0] + row * f->linesize[0] + x, v, w);
}

/* x, y, w, h even. */
static void fill_yuv(AVFrame *f, int x, int y, int w, int h, uint8_t yv, uint8_t u, uint8_t v)
{
	fill_y(f, x, y, w, h, yv);
	for (int row = y / 2; row < (y + h) / 2; row++) {
		memset(f->data[1] + row * f->linesize[1] + x / 2, u, w / 2);
		memset(f->data[2] + row * f->linesize[2] + x / 2, v, w / 2);
	}
}

static void copy_rect(AVFrame *dst, const AVFrame *src, int x, int y, int w, int h, bool chroma)
{
	for (int p = 0; p < (chroma ? 3 : 1); p++) {
		int s = p ? 1 : 0;

		for (int row = y >> s; row < (y + h) >> s; row++)
			memcpy(dst->data[p] + row * dst->linesize[p] + (x >> s),
			       src->data[p] + row * src->linesize[p] + (x >> s), w >> s);
	}
}

static void draw_glyph(AVFrame *f, int x, int y, int u, char c)
{
	static const struct { int x, y, w, h; } seg[7] = {
		{ 0, 0, 5, 1 }, { 4, 0, 1, 5 }, { 4, 4, 1, 5 }, { 0, 8, 5, 1 },
		{ 0, 4, 1, 5 }, { 0, 0, 1, 5 }, { 0, 4, 5, 1 },
	};
	int bits;

	if (c == ':') {
		fill_y(f, x, y + 2 * u, u, u, Y_TEXT);
		fill_y(f, x, y + 6 * u, u, u, Y_TEXT);
		return;
	}
	if (c >= '0' && c <= '9')
		bits = digit_segments[c - '0'];
	else if (c == '-')
		bits = 0x40;
	else
		return;
	for (int i = 0; i < 7; i++)
		if (bits & (1 << i))
			fill_y(f, x + seg[i].x * u, y + seg[i].y * u,
			       seg[i].w * u, seg[i].h * u, Y_TEXT);
}

static void draw_text(AVFrame *f, int x, int y, int u, const char *s)
{
	for (; *s; s++) {
		draw_glyph(f, x, y, u, *s);
		x += glyph_advance(*s, u);
	}
}

/* The backgrounds are drawn once; per frame only the box and digits change. */
static void draw_moving_bg(struct demo *d)
{
	AVFrame *f = d->bg;

	/* A gentle gradient and a checkerboard: texture the encoder can skip. */
	for (int y = 0; y < d->height; y++) {
		uint8_t *row = f->data[0] + y * f->linesize[0];
		int base = 72 + 48 * y / d->height;

		for (int x = 0; x < d->width; x++)
			row[x] = base + (((x / 40) ^ (y / 40)) & 1 ? 14 : 0);
	}
	for (int p = 1; p < 3; p++)
		for (int y = 0; y < d->height / 2; y++)
			memset(f->data[p] + y * f->linesize[p], 128, d->width / 2);
}

static void draw_static_bg(struct demo *d)
{
	AVFrame *f = d->bg;
	int w = d->width, h = d->height, horizon = even(h * 3 / 5);
	int cx = w * 3 / 10, cy = h * 3 / 4, r = h / 10;

	/* A room: lit wall, floor, a window, a table, books and a ball. */
	for (int y = 0; y < h; y++)
		fill_y(f, 0, y, w, 1, y < horizon ? 180 - 40 * y / horizon
						 : 96 - 30 * (y - horizon) / (h - horizon));
	for (int y = 0; y < h / 2; y++) {
		memset(f->data[1] + y * f->linesize[1], y < horizon / 2 ? 122 : 136, w / 2);
		memset(f->data[2] + y * f->linesize[2], y < horizon / 2 ? 136 : 122, w / 2);
	}
	fill_yuv(f, even(w * 6 / 10), even(h / 10), even(w * 3 / 10), even(h * 4 / 10), 60, 128, 128);
	fill_yuv(f, even(w * 6 / 10) + 4, even(h / 10) + 4, even(w * 3 / 10) - 8,
		 even(h * 4 / 10) - 8, 210, 150, 112);
	fill_yuv(f, even(w * 3 / 4) - 2, even(h / 10), 4, even(h * 4 / 10), 60, 128, 128);
	fill_yuv(f, even(w * 6 / 10), even(h * 3 / 10) - 2, even(w * 3 / 10), 4, 60, 128, 128);
	fill_yuv(f, even(w / 2), even(h * 7 / 10), even(w * 4 / 10), even(h / 20) + 2, 70, 118, 150);
	for (int i = 0; i < 5; i++)
		fill_yuv(f, even(w / 2 + w * i / 20) + 2, even(h * 7 / 10 - h / 8), even(w / 24),
			 even(h / 8), 90 + 25 * i, 80 + 40 * (i % 3), 180 - 30 * i);
	for (int y = FFMAX(0, cy - r); y <= FFMIN(h - 1, cy + r); y++)
		for (int x = FFMAX(0, cx - r); x <= FFMIN(w - 1, cx + r); x++)
			if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r)
				f->data[0][y * f->linesize[0] + x] = 200 - 60 * (y - cy + r) / (2 * r + 1);
}

/* The box moves for DEMO_MOVE_S seconds, then rests as long: a motion
 * detector sees events come and go, as with a real scene. */
#define DEMO_MOVE_S 10

static void box_position(const struct demo *d, int64_t frame, int *x, int *y)
{
	const struct layout *l = &d->lay;
	int64_t move = (int64_t)DEMO_MOVE_S * d->fps;
	/* Frames moved so far: whole periods, plus this one's moving part. */
	int64_t n = frame / (2 * move) * move + FFMIN(frame % (2 * move), move);
	/* Crosses the picture in about 4 s one way, 3 s the other: it bounces. */
	int64_t sx = FFMAX(2, even(l->box_xrange / (4 * d->fps)));
	int64_t sy = FFMAX(2, even(l->box_yrange / (3 * d->fps)));
	int64_t px = l->box_xrange ? n * sx % (2 * l->box_xrange) : 0;
	int64_t py = l->box_yrange ? n * sy % (2 * l->box_yrange) : 0;

	*x = px <= l->box_xrange ? px : 2 * l->box_xrange - px;
	*y = l->box_y0 + (py <= l->box_yrange ? py : 2 * l->box_yrange - py);
}

static void draw_box(struct demo *d, int64_t n)
{
	int x, y, b = d->lay.box, border = FFMAX(2, even(b / 16));

	box_position(d, n, &x, &y);
	if (x == d->box_x && y == d->box_y)
		return;
	if (d->box_x >= 0)
		copy_rect(d->frame, d->bg, d->box_x, d->box_y, b, b, true);
	fill_yuv(d->frame, x, y, b, b, 64, 90, 170);
	fill_yuv(d->frame, x + border, y + border, b - 2 * border, b - 2 * border, 152, 50, 189);
	fill_y(d->frame, x + b / 2 - border / 2, y + border, border, b - 2 * border, 100);
	d->box_x = x;
	d->box_y = y;
}

/* The clock shows the frame's own time (start + pts): in real time that is
 * the wall clock; unpaced, frames one second apart differ by one second. */
static void draw_clock(struct demo *d, int64_t n)
{
	const struct layout *l = &d->lay;
	int64_t us = d->start_wall_us + av_rescale(n, 1000000, d->fps);
	time_t t = us / 1000000;
	struct tm tm;
	char text[sizeof(d->shown)];

	if (!localtime_r(&t, &tm) ||
	    !strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(text, sizeof(text), "----------%9s", "--:--:--");
	if (!strcmp(text, d->shown))
		return;
	text[10] = '\0';
	copy_rect(d->frame, d->bg, l->text.x, l->text.y, l->text.w, l->text.h, false);
	draw_text(d->frame, l->date_x, l->date_y, l->ud, text);
	draw_text(d->frame, l->time_x, l->time_y, l->ut, text + 11);
	text[10] = ' ';
	memcpy(d->shown, text, sizeof(text));
}

static int parse_uint(const char *s, char sep, int min, int max, const char **end)
{
	char *e;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &e, 10);
	if (errno || *e != sep || v < min || v > max)
		return -1;
	if (end)
		*end = e + 1;
	return v;
}

/* "demo:<pattern>[?size=WxH&fps=N&gop=N]" into d. */
static int parse_url(struct demo *d, const char *url, const char *tag)
{
	const char *name;
	size_t len;
	char *query = NULL, *rest, *item;
	int ret = AVERROR(EINVAL);

	d->width = 640;
	d->height = 360;
	d->fps = 15;
	d->gop = 0;
	if (strncmp(url, DEMO_URL_PREFIX, strlen(DEMO_URL_PREFIX))) {
		log_error(tag, "not a demo URL: %s", url);
		goto out;
	}
	name = url + strlen(DEMO_URL_PREFIX);
	len = strcspn(name, "?");
	if (len == 6 && !strncmp(name, "moving", len)) {
		d->pattern = PATTERN_MOVING;
	} else if (len == 6 && !strncmp(name, "static", len)) {
		d->pattern = PATTERN_STATIC;
	} else {
		log_error(tag, "unknown demo camera \"%.*s\" (moving, static)", (int)len, name);
		goto out;
	}
	if (name[len] == '?') {
		query = rest = av_strdup(name + len + 1);
		if (!query) {
			ret = AVERROR(ENOMEM);
			goto out;
		}
		while ((item = strsep(&rest, "&"))) {
			const char *v = strchr(item, '=');
			const char *h;
			int ok;

			v = v ? v + 1 : "";
			if (!strncmp(item, "size=", 5)) {
				d->width = parse_uint(v, 'x', 128, 3840, &h);
				d->height = d->width < 0 ? -1 : parse_uint(h, '\0', 96, 2160, NULL);
				ok = d->width > 0 && d->height > 0 && !(d->width % 2) && !(d->height % 2);
			} else if (!strncmp(item, "fps=", 4)) {
				ok = (d->fps = parse_uint(v, '\0', 1, 60, NULL)) > 0;
			} else if (!strncmp(item, "gop=", 4)) {
				ok = (d->gop = parse_uint(v, '\0', 1, 1000, NULL)) > 0;
			} else {
				ok = 0;
			}
			if (!ok) {
				log_error(tag, "bad demo option \"%s\" (size=WxH even 128x96..3840x2160, "
					  "fps=1..60, gop=1..1000)", item);
				goto out;
			}
		}
	}
	if (!d->gop)
		d->gop = 2 * d->fps;
	ret = 0;
out:
	av_free(query);
	return ret;
}

static int open_encoder(struct demo *d, const char *tag)
{
	const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
	AVDictionary *o = NULL;
	AVCodecContext *c;
	int ret;

	if (!codec) {
		codec = avcodec_find_encoder(AV_CODEC_ID_H264);
		if (!codec) {
			log_error(tag, "demo: this FFmpeg has no H.264 encoder");
			return AVERROR_ENCODER_NOT_FOUND;
		}
		log_warning(tag, "demo: libx264 not available, trying %s", codec->name);
	}
	c = d->enc = avcodec_alloc_context3(codec);
	if (!c)
		return AVERROR(ENOMEM);
	c->width = d->width;
	c->height = d->height;
	c->pix_fmt = AV_PIX_FMT_YUV420P;
	c->time_base = (AVRational){ 1, d->fps };
	c->framerate = (AVRational){ d->fps, 1 };
	c->gop_size = d->gop;
	c->keyint_min = d->gop;
	c->max_b_frames = 0;
	/* Constant quality, capped: a static scene costs next to nothing, and
	 * the first frames are as sharp as the rest (plain ABR starts blurry). */
	c->rc_max_rate = av_rescale(BITRATE, (int64_t)d->width * d->height, 640 * 360);
	c->rc_buffer_size = 2 * c->rc_max_rate;
	c->thread_count = 1;
	c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  /* SPS/PPS in extradata for the muxer */
	av_dict_set(&o, "preset", "ultrafast", 0);
	av_dict_set(&o, "tune", "zerolatency", 0);
	av_dict_set(&o, "profile", "baseline", 0);
	av_dict_set(&o, "crf", "23", 0);
	/* No extra keyframes at scene cuts: exactly one every gop frames. */
	av_dict_set(&o, "x264-params", "scenecut=0", 0);
	ret = avcodec_open2(c, codec, &o);
	av_dict_free(&o);
	if (ret < 0)
		log_error(tag, "demo: cannot open %s: %s", codec->name, av_err2str(ret));
	return ret;
}

static int alloc_picture(AVFrame **out, int width, int height)
{
	AVFrame *f = av_frame_alloc();

	*out = f;
	if (!f)
		return AVERROR(ENOMEM);
	f->format = AV_PIX_FMT_YUV420P;
	f->width = width;
	f->height = height;
	return av_frame_get_buffer(f, 0);
}

static void demo_close(struct source *src)
{
	struct demo *d = src->priv;

	if (d) {
		avcodec_free_context(&d->enc);
		av_frame_free(&d->bg);
		av_frame_free(&d->frame);
		av_freep(&src->priv);
	}
	avcodec_parameters_free(&src->video.par);
}

static int demo_open(struct source *src, const struct source_opts *opts)
{
	const char *tag = opts->tag ? opts->tag : "demo";
	struct demo *d;
	int ret;

	d = src->priv = av_mallocz(sizeof(*d));
	if (!d)
		return AVERROR(ENOMEM);
	ret = parse_url(d, opts->url, tag);
	if (ret < 0)
		goto out;
	compute_layout(d->width, d->height, &d->lay);
	d->clock = opts->clock ? opts->clock : &clock_system;
	d->box_x = d->box_y = -1;

	ret = alloc_picture(&d->bg, d->width, d->height);
	if (ret < 0)
		goto out;
	ret = alloc_picture(&d->frame, d->width, d->height);
	if (ret < 0)
		goto out;
	if (d->pattern == PATTERN_MOVING)
		draw_moving_bg(d);
	else
		draw_static_bg(d);
	fill_yuv(d->bg, d->lay.plate.x, d->lay.plate.y, d->lay.plate.w, d->lay.plate.h,
		 Y_PLATE, 128, 128);
	ret = av_frame_copy(d->frame, d->bg);
	if (ret < 0)
		goto out;

	ret = open_encoder(d, tag);
	if (ret < 0)
		goto out;
	src->video.par = avcodec_parameters_alloc();
	if (!src->video.par) {
		ret = AVERROR(ENOMEM);
		goto out;
	}
	ret = avcodec_parameters_from_context(src->video.par, d->enc);
	if (ret < 0)
		goto out;
	src->video.time_base = (AVRational){ 1, TIME_BASE };

	d->start_mono_us = clock_monotonic_us(d->clock);
	d->start_wall_us = clock_wall_us(d->clock);
	log_info(tag, "demo camera %s: %dx%d, %d fps, keyframe every %d frames, %s",
		 d->pattern == PATTERN_MOVING ? "moving" : "static",
		 d->width, d->height, d->fps, d->gop, d->enc->codec->name);
out:
	if (ret < 0)
		demo_close(src);
	return ret;
}

/* Real time: returns once the next frame is due or on a stop, looking at
 * the clock seam at least every SLICE_US. A consumer that stalled for long
 * gets no burst of stale frames: like a live camera, the source skips to
 * the present. */
static int wait_due(struct demo *d, const struct source_opts *opts)
{
	if (stop_requested(opts->stop))
		return AVERROR_EXIT;
	if (!opts->realtime)
		return 0;
	for (;;) {
		int64_t now = clock_monotonic_us(d->clock) - d->start_mono_us;
		int64_t due = av_rescale(d->frame_no, 1000000, d->fps);

		if (now - due > LATE_US) {
			int64_t n = av_rescale_rnd(now, d->fps, 1000000, AV_ROUND_DOWN);

			log_debug(opts->tag ? opts->tag : "demo", "demo: %lld frames late, skipping",
				  (long long)(n - d->frame_no));
			d->frame_no = n;
			return 0;
		}
		if (now >= due)
			return 0;
		if (stop_sleep(opts->stop, FFMIN(due - now, SLICE_US)))
			return AVERROR_EXIT;
	}
}

static int encode_next(struct demo *d, const struct source_opts *opts)
{
	int ret;

	ret = wait_due(d, opts);
	if (ret < 0)
		return ret;
	/* Writable unless the encoder kept a reference; then this copies. */
	ret = av_frame_make_writable(d->frame);
	if (ret < 0)
		return ret;
	if (d->pattern == PATTERN_MOVING)
		draw_box(d, d->frame_no);
	draw_clock(d, d->frame_no);
	d->frame->pts = d->frame_no;
	d->frame->pict_type = d->sent % d->gop ? AV_PICTURE_TYPE_NONE : AV_PICTURE_TYPE_I;
	ret = avcodec_send_frame(d->enc, d->frame);
	if (ret < 0)
		return ret;
	d->frame_no++;
	d->sent++;
	return 0;
}

static int demo_read(struct source *src, AVPacket *pkt)
{
	struct demo *d = src->priv;
	int64_t n;
	int ret;

	while ((ret = avcodec_receive_packet(d->enc, pkt)) == AVERROR(EAGAIN)) {
		ret = encode_next(d, src->opts);
		if (ret < 0)
			return ret;
	}
	if (ret < 0)
		return ret;
	/* No B-frames: decode order is presentation order, so dts = pts. */
	n = pkt->pts;
	pkt->pts = pkt->dts = av_rescale(n, TIME_BASE, d->fps);
	pkt->duration = av_rescale(n + 1, TIME_BASE, d->fps) - pkt->pts;
	pkt->time_base = (AVRational){ 1, TIME_BASE };
	pkt->stream_index = SOURCE_VIDEO;
	return 0;
}

const struct source_ops demo_source_ops = {
	.name = "demo",
	.open = demo_open,
	.read = demo_read,
	.close = demo_close,
};
