/* motion.c - per-second motion scores from packet sizes (bitrate) or from
 * decoded keyframes against a background (pixels), and events on top. */
#include "events/motion.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libswscale/swscale.h>

#include "util/log.h"
#include "ingest/source.h"

#define US_PER_S 1000000

struct motion {
	struct motion_opts o;

	/* The second being collected; have_second false: none yet. */
	bool have_second;
	int64_t second;          /* its start, µs */
	int packets;             /* packets in it */
	int frames;              /* bitrate: non-key frames in it */
	uint64_t bytes;          /* bitrate: their size */
	int key_score;           /* pixels: best keyframe score in it; -1: none */
	int held_score;          /* pixels: last keyframe's score */
	int64_t last_scored_us;  /* pixels with frame_fps: when a frame was last scored */

	/* bitrate: ring of recent seconds' mean non-key frame sizes, and
	 * their sum. */
	double *ring;
	double ring_sum;
	int ring_len, ring_pos;
	unsigned learn_count;

	/* pixels */
	AVCodecContext *dec;
	AVCodecParameters *dec_par;   /* what dec was opened with */
	AVFrame *frame;               /* the keyframe's picture */
	AVFrame *scratch;             /* receives before it becomes frame */
	struct SwsContext *sws;
	uint8_t grey[MOTION_PIXELS_W * MOTION_PIXELS_H];
	uint8_t diff[MOTION_PIXELS_W * MOTION_PIXELS_H];  /* 1: differs from bg */
	uint16_t bg[MOTION_PIXELS_W * MOTION_PIXELS_H];   /* grey << 8 */
	bool have_bg;

	/* events */
	bool in_event;
	int run;                 /* seconds in a row on the other side of threshold */
	int64_t run_start;       /* first of them */
};

static const char *tag(const struct motion *m)
{
	return m->o.tag ? m->o.tag : "motion";
}

int motion_new(struct motion **out, const struct motion_opts *opts)
{
	struct motion *m;
	int ret = 0;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->o = *opts;
	if (!m->o.sensitivity)
		m->o.sensitivity = 1.5;
	if (!m->o.window)
		m->o.window = 30;
	if (!m->o.pixel_threshold)
		m->o.pixel_threshold = 25;
	if (!m->o.threshold)
		m->o.threshold = m->o.method == MOTION_PIXELS ? 2 : 50;
	if (!m->o.min_seconds)
		m->o.min_seconds = 2;
	if (!m->o.end_seconds)
		m->o.end_seconds = 5;
	if ((m->o.method != MOTION_BITRATE && m->o.method != MOTION_PIXELS) ||
	    !(m->o.sensitivity > 1.0) || m->o.window < 1 ||
	    m->o.window > MOTION_BITRATE_WINDOW_MAX || m->o.pixel_threshold < 1 ||
	    m->o.pixel_threshold > 255 || m->o.threshold < 1 || m->o.threshold > 100 ||
	    m->o.min_seconds < 1 || m->o.end_seconds < 1 || m->o.frame_fps < 0) {
		ret = -EINVAL;
		goto out;
	}
	m->key_score = -1;
	if (m->o.method == MOTION_BITRATE) {
		m->ring = calloc(m->o.window, sizeof(*m->ring));
		if (!m->ring)
			ret = -ENOMEM;
	} else {
		m->frame = av_frame_alloc();
		m->scratch = av_frame_alloc();
		m->dec_par = avcodec_parameters_alloc();
		if (!m->frame || !m->scratch || !m->dec_par)
			ret = -ENOMEM;
	}
out:
	if (ret < 0)
		motion_free(m);
	else
		*out = m;
	return ret;
}

void motion_free(struct motion *m)
{
	if (!m)
		return;
	free(m->ring);
	avcodec_free_context(&m->dec);
	avcodec_parameters_free(&m->dec_par);
	av_frame_free(&m->frame);
	av_frame_free(&m->scratch);
	sws_freeContext(m->sws);
	free(m);
}

bool motion_in_event(const struct motion *m)
{
	return m->in_event;
}

static int64_t second_of(int64_t us)
{
	int64_t s = us / US_PER_S;

	if (us % US_PER_S < 0)
		s--;
	return s * US_PER_S;
}

/* The event rule on one more second's score. */
static void event_step(struct motion *m, int64_t second, int score)
{
	bool other_side = m->in_event ? score < m->o.threshold : score >= m->o.threshold;

	if (!other_side) {
		m->run = 0;
		return;
	}
	if (!m->run++)
		m->run_start = second;
	if (m->run < (m->in_event ? m->o.end_seconds : m->o.min_seconds))
		return;
	m->in_event = !m->in_event;
	m->run = 0;
	if (m->o.on_event)
		m->o.on_event(m->in_event, m->run_start, m->o.opaque);
}

static void end_event(struct motion *m, int64_t at)
{
	m->run = 0;
	if (!m->in_event)
		return;
	m->in_event = false;
	if (m->o.on_event)
		m->o.on_event(false, at, m->o.opaque);
}

static void bitrate_learn(struct motion *m, double size)
{
	if (m->ring_len < m->o.window)
		m->ring_len++;
	else
		m->ring_sum -= m->ring[m->ring_pos];
	m->ring[m->ring_pos] = size;
	m->ring_sum += size;
	if (++m->ring_pos == m->o.window)
		m->ring_pos = 0;
}

/* The collected second against the rolling mean of earlier seconds. */
static int bitrate_score(struct motion *m)
{
	double size, mean, r;
	int score = 0;

	if (!m->frames)
		return 0;
	size = (double)m->bytes / m->frames;
	if (m->ring_len >= MOTION_BITRATE_WARMUP && m->ring_sum > 0) {
		mean = m->ring_sum / m->ring_len;
		r = size / mean;
		if (r > 1)
			score = (int)FFMIN(100.0, 50 * (r - 1) / (m->o.sensitivity - 1) + 0.5);
	}
	if (score < 50 || !(m->learn_count++ % MOTION_BITRATE_LEARN))
		bitrate_learn(m, size);
	return score;
}

static int collected_score(struct motion *m)
{
	if (!m->packets)
		return 0;
	if (m->o.method == MOTION_BITRATE)
		return bitrate_score(m);
	return m->key_score >= 0 ? m->key_score : m->held_score;
}

static void report(struct motion *m, int64_t second, int score)
{
	if (m->o.on_score)
		m->o.on_score(second, score, m->o.opaque);
	event_step(m, second, score);
}

/* Reports the collected second and starts collecting `second`. */
static void next_second(struct motion *m, int64_t second)
{
	report(m, m->second, collected_score(m));
	if (!m->packets)
		m->held_score = 0;   /* the stream stalled: the last picture is stale */
	m->second = second;
	m->packets = m->frames = 0;
	m->bytes = 0;
	m->key_score = -1;
}

void motion_advance(struct motion *m, int64_t wall_us)
{
	int64_t second = second_of(wall_us);

	if (!m->have_second || second <= m->second)
		return;
	if ((second - m->second) / US_PER_S > MOTION_MAX_GAP_S) {
		int64_t end = m->second + US_PER_S;

		next_second(m, second);
		end_event(m, end);   /* not the gap's end: nothing is known of it */
		return;
	}
	while (m->second < second)
		next_second(m, m->second + US_PER_S);
}

void motion_finish(struct motion *m)
{
	if (!m->have_second)
		return;
	/* The unfinished second gets its row, but starts no event: one
	 * would end at once. */
	if (m->o.on_score)
		m->o.on_score(m->second, collected_score(m), m->o.opaque);
	end_event(m, m->second + US_PER_S);
	m->have_second = false;
	m->packets = m->frames = 0;
	m->bytes = 0;
	m->key_score = -1;
	m->held_score = 0;
}

static int open_decoder(struct motion *m, const AVCodecParameters *par)
{
	const AVCodec *codec = avcodec_find_decoder(par->codec_id);
	int ret;

	avcodec_free_context(&m->dec);
	/* A new stream needs a new background; a decoder reopened after a
	 * bad packet keeps it. */
	if (!source_same_stream(m->dec_par, par))
		m->have_bg = false;
	if (!codec)
		return AVERROR_DECODER_NOT_FOUND;
	ret = avcodec_parameters_copy(m->dec_par, par);
	if (ret < 0)
		goto out;
	m->dec = avcodec_alloc_context3(codec);
	if (!m->dec)
		return AVERROR(ENOMEM);
	ret = avcodec_parameters_to_context(m->dec, par);
	if (ret < 0)
		goto out;
	m->dec->thread_count = 1;
	/* An I-frame with a recovery point is a keyframe to the demuxer; the
	 * H.264 decoder would hold it back as not yet "recovered". */
	m->dec->flags2 |= AV_CODEC_FLAG2_SHOW_ALL;
	ret = avcodec_open2(m->dec, codec, NULL);
out:
	if (ret < 0) {
		avcodec_free_context(&m->dec);
		m->dec_par->codec_id = AV_CODEC_ID_NONE;   /* never matches */
	}
	return ret;
}

/* The keyframe's picture into m->frame: sent alone, drained, flushed. */
static int decode_keyframe(struct motion *m, const AVCodecParameters *par, const AVPacket *pkt)
{
	bool got = false;
	int ret;

	if (!m->dec || !source_same_stream(m->dec_par, par)) {
		ret = open_decoder(m, par);
		if (ret < 0)
			return ret;
	}
	ret = avcodec_send_packet(m->dec, pkt);
	if (ret >= 0)
		ret = avcodec_send_packet(m->dec, NULL);
	while (ret >= 0 && (ret = avcodec_receive_frame(m->dec, m->scratch)) >= 0) {
		av_frame_unref(m->frame);   /* keep the last picture */
		av_frame_move_ref(m->frame, m->scratch);
		got = true;
	}
	if (ret == AVERROR_EOF)
		ret = got ? 0 : AVERROR_INVALIDDATA;
	if (ret < 0) {
		av_frame_unref(m->frame);
		avcodec_free_context(&m->dec);
	} else {
		avcodec_flush_buffers(m->dec);
	}
	return ret;
}

/* Scales the decoded picture to grey, scores it against the background
 * and moves the background towards it. */
static int score_picture(struct motion *m)
{
	const int n = MOTION_PIXELS_W * MOTION_PIXELS_H;
	uint8_t *dst[4] = { m->grey };
	int dst_stride[4] = { MOTION_PIXELS_W };
	int changed = 0, ret;

	m->sws = sws_getCachedContext(m->sws, m->frame->width, m->frame->height,
				      m->frame->format, MOTION_PIXELS_W, MOTION_PIXELS_H,
				      AV_PIX_FMT_GRAY8, SWS_AREA, NULL, NULL, NULL);
	if (!m->sws)
		return AVERROR(EINVAL);
	ret = sws_scale(m->sws, (const uint8_t *const *)m->frame->data, m->frame->linesize, 0,
			m->frame->height, dst, dst_stride);
	av_frame_unref(m->frame);
	if (ret < 0)
		return ret;
	if (!m->have_bg) {
		for (int i = 0; i < n; i++)
			m->bg[i] = (uint16_t)(m->grey[i] << 8);
		m->have_bg = true;
		return 0;
	}
	for (int i = 0; i < n; i++) {
		int g = m->grey[i] << 8, b = m->bg[i];

		m->diff[i] = abs(g - b) > m->o.pixel_threshold << 8;
		m->bg[i] = (uint16_t)(b + (g - b) / MOTION_PIXELS_LEARN);
	}
	/* Thin lines (an on-screen clock's digits, a wire in the wind) are no
	 * motion: a changed pixel counts only inside a blob, with at least
	 * MOTION_PIXELS_NEIGHBOURS of its 8 neighbours changed too. */
	for (int y = 0; y < MOTION_PIXELS_H; y++) {
		for (int x = 0; x < MOTION_PIXELS_W; x++) {
			int near = 0;

			if (!m->diff[y * MOTION_PIXELS_W + x])
				continue;
			for (int dy = -1; dy <= 1; dy++) {
				for (int dx = -1; dx <= 1; dx++) {
					int yy = y + dy, xx = x + dx;

					if ((dx || dy) && yy >= 0 && yy < MOTION_PIXELS_H && xx >= 0 &&
					    xx < MOTION_PIXELS_W)
						near += m->diff[yy * MOTION_PIXELS_W + xx];
				}
			}
			changed += near >= MOTION_PIXELS_NEIGHBOURS;
		}
	}
	return (changed * 100 + n / 2) / n;
}

/* The picture in m->frame scored: it counts towards its second. */
static int score_frame(struct motion *m)
{
	int ret = score_picture(m);

	if (ret < 0) {
		log_debug(tag(m), "motion: picture not scored: %s", av_err2str(ret));
		return ret;
	}
	m->held_score = ret;
	if (ret > m->key_score)
		m->key_score = ret;
	return 0;
}

static int pixels_keyframe(struct motion *m, const AVCodecParameters *par, const AVPacket *pkt)
{
	int ret;

	if (!par)
		return AVERROR(EINVAL);
	ret = decode_keyframe(m, par, pkt);
	if (ret < 0) {
		log_debug(tag(m), "motion: keyframe not decoded: %s", av_err2str(ret));
		return ret;
	}
	return score_frame(m);
}

/* frame_fps mode: every packet decoded in order (a decoder error waits for
 * the next keyframe), a frame scored at most frame_fps times a second. */
static int pixels_any_frame(struct motion *m, const AVCodecParameters *par, const AVPacket *pkt,
			    int64_t wall_us)
{
	int ret;

	if (!par)
		return AVERROR(EINVAL);
	if (!m->dec || !source_same_stream(m->dec_par, par)) {
		if (!(pkt->flags & AV_PKT_FLAG_KEY))
			return 0;
		ret = open_decoder(m, par);
		if (ret < 0)
			return ret;
	}
	ret = avcodec_send_packet(m->dec, pkt);
	while (ret >= 0 && (ret = avcodec_receive_frame(m->dec, m->scratch)) >= 0) {
		if (wall_us - m->last_scored_us < 1000000 / m->o.frame_fps) {
			av_frame_unref(m->scratch);
			continue;
		}
		m->last_scored_us = wall_us;
		av_frame_unref(m->frame);
		av_frame_move_ref(m->frame, m->scratch);
		score_frame(m);
	}
	if (ret == AVERROR(EAGAIN))
		return 0;
	log_debug(tag(m), "motion: frame not decoded: %s", av_err2str(ret));
	avcodec_free_context(&m->dec);
	return ret;
}

int motion_packet(struct motion *m, const AVCodecParameters *par, const AVPacket *pkt,
		  int64_t wall_us)
{
	bool key = pkt->flags & AV_PKT_FLAG_KEY;

	if (!m->have_second) {
		m->have_second = true;
		m->second = second_of(wall_us);
	} else {
		motion_advance(m, wall_us);
	}
	m->packets++;
	if (m->o.method == MOTION_BITRATE) {
		if (!key && pkt->size > 0) {
			m->frames++;
			m->bytes += (unsigned)pkt->size;
		}
		return 0;
	}
	if (m->o.frame_fps)
		return pixels_any_frame(m, par, pkt, wall_us);
	return key ? pixels_keyframe(m, par, pkt) : 0;
}
