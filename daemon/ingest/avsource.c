/* avsource.c - the libavformat source behind rtsp:// and file URLs: every
 * blocking call runs under an interrupt callback with a deadline. */
#include "ingest/avsource.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libavformat/avformat.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/stop.h"

struct av_source {
	AVFormatContext *in;
	int video_index, audio_index;   /* in the input, -1 if none */
	bool timed_out;                 /* interrupt_cb fired on src->deadline_us */
	bool video_timed;               /* a timed video packet went out */
	int64_t pace_start_us;          /* realtime files: monotonic at first packet */
	int64_t pace_first_dts;
	bool told_dropped_audio;
	/* RTSP hands over the first keyframe before it can time it: it waits
	 * in untimed until the next video packet's time tells its own, and
	 * that packet waits in held, so a connection does not lose a GOP. */
	AVPacket *untimed, *held;       /* empty unless waiting */
};

/* FFmpeg polls this during every blocking call: a call still waiting at the
 * source's deadline, or a stop request, makes it return AVERROR_EXIT. */
static int interrupt_cb(void *opaque)
{
	struct source *src = opaque;
	struct av_source *av = src->priv;

	if (stop_requested(src->opts->stop))
		return 1;
	if (clock_monotonic_us(src->opts->clock) > src->deadline_us)
		av->timed_out = true;
	return av->timed_out;
}

/* Whatever FFmpeg made of an interrupted call, the cause was the deadline. */
static int deadline_error(struct source *src, int ret)
{
	struct av_source *av = src->priv;

	return ret < 0 && av->timed_out ? AVERROR(ETIMEDOUT) : ret;
}

/* A new step of the open gets its own timeout. */
static void arm_deadline(struct source *src)
{
	struct av_source *av = src->priv;

	if (src->opts->timeout_us > 0)
		src->deadline_us = clock_monotonic_us(src->opts->clock) + src->opts->timeout_us;
	av->timed_out = false;
}

static bool is_rtsp(const char *url)
{
	return strncmp(url, "rtsp://", 7) == 0 || strncmp(url, "rtsps://", 8) == 0;
}

static bool is_http(const char *url)
{
	return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

/* The protocols a source may reach, the ones it names and any its demuxer
 * opens on its own (an HLS playlist's segments, an RTSP camera's RTP):
 * network protocols for a camera, the file alone for a local file. A
 * camera's data never makes FFmpeg read local files or run other
 * protocols (concat, subfile, data, pipes). */
#define NETWORK_PROTOCOLS "rtsp,rtsps,rtp,srtp,udp,tcp,tls,http,https,httpproxy,crypto"

static const char *protocols_for(const char *url)
{
	return strstr(url, "://") && strncmp(url, "file:", 5) != 0 ? NETWORK_PROTOCOLS : "file";
}

static int pick_streams(struct source *src)
{
	struct av_source *av = src->priv;

	av->video_index = av_find_best_stream(av->in, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	if (av->video_index < 0)
		return AVERROR_STREAM_NOT_FOUND;
	AVStream *v = av->in->streams[av->video_index];
	if (v->codecpar->codec_id != AV_CODEC_ID_H264 && v->codecpar->codec_id != AV_CODEC_ID_HEVC &&
	    v->codecpar->codec_id != AV_CODEC_ID_MJPEG) {
		log_warning(src->opts->tag, "video codec %s is not recorded (H.264, H.265 and MJPEG are)",
			    avcodec_get_name(v->codecpar->codec_id));
		return AVERROR_PATCHWELCOME;
	}
	src->video.par = v->codecpar;
	src->video.time_base = v->time_base;

	av->audio_index = -1;
	for (unsigned i = 0; i < av->in->nb_streams; i++) {
		AVCodecParameters *par = av->in->streams[i]->codecpar;

		if (par->codec_type != AVMEDIA_TYPE_AUDIO)
			continue;
		if (par->codec_id == AV_CODEC_ID_AAC && av->audio_index < 0) {
			av->audio_index = i;
			src->audio.par = par;
			src->audio.time_base = av->in->streams[i]->time_base;
		} else if (!av->told_dropped_audio) {
			log_notice(src->opts->tag, "audio %s is not recorded (only AAC is kept)",
				   avcodec_get_name(par->codec_id));
			av->told_dropped_audio = true;
		}
	}
	return 0;
}

static int av_open(struct source *src, const struct source_opts *opts)
{
	struct av_source *av = calloc(1, sizeof(*av));
	AVDictionary *dict = NULL;
	int ret;

	if (!av)
		return AVERROR(ENOMEM);
	src->priv = av;
	av->untimed = av_packet_alloc();
	av->held = av_packet_alloc();
	if (!av->untimed || !av->held)
		return AVERROR(ENOMEM);
	av->pace_first_dts = AV_NOPTS_VALUE;

	av->in = avformat_alloc_context();
	if (!av->in)
		return AVERROR(ENOMEM);
	av->in->interrupt_callback = (AVIOInterruptCB){ interrupt_cb, src };
	/* Probe little: cameras announce their parameters in the SDP, and a
	 * long probe is latency before the first recorded frame. */
	av->in->max_analyze_duration = AV_TIME_BASE;
	av_dict_set(&dict, "protocol_whitelist", protocols_for(opts->url), 0);
	if (is_rtsp(opts->url)) {
		av_dict_set(&dict, "rtsp_transport", opts->udp ? "udp" : "tcp", 0);
		/* Reordering buffer for UDP; a no-op over TCP. */
		av_dict_set_int(&dict, "max_delay", 500000, 0);
	} else if (is_http(opts->url)) {
		/* MJPEG over HTTP (multipart/x-mixed-replace) carries no
		 * timestamps: a frame's time is when it came. */
		av_dict_set(&dict, "use_wallclock_as_timestamps", "1", 0);
	}
	arm_deadline(src);
	ret = avformat_open_input(&av->in, opts->url, NULL, &dict);
	av_dict_free(&dict);
	if (ret < 0)
		return deadline_error(src, ret);
	arm_deadline(src);
	ret = avformat_find_stream_info(av->in, NULL);
	if (ret < 0)
		return deadline_error(src, ret);
	/* Interrupted, it still returns success with whatever it had: a
	 * camera that answered PLAY and sent nothing. */
	if (av->timed_out)
		return SOURCE_ERROR_NO_MEDIA;
	return pick_streams(src);
}

/* Sleeps until a file's packet is due, or until a stop. */
static int pace(struct source *src, const AVPacket *pkt)
{
	struct av_source *av = src->priv;
	AVRational tb = src->video.time_base;

	if (pkt->stream_index != SOURCE_VIDEO)
		return 0;
	if (av->pace_first_dts == AV_NOPTS_VALUE) {
		av->pace_first_dts = pkt->dts;
		av->pace_start_us = clock_monotonic_us(src->opts->clock);
	}
	int64_t due = av->pace_start_us + av_rescale_q(pkt->dts - av->pace_first_dts, tb, AV_TIME_BASE_Q);
	for (;;) {
		int64_t wait = due - clock_monotonic_us(src->opts->clock);

		if (stop_requested(src->opts->stop))
			return AVERROR_EXIT;
		if (wait <= 0)
			return 0;
		/* In slices: the clock seam's time may run apart from real time. */
		stop_sleep(src->opts->stop, FFMIN(wait, 50000));
	}
}

/* One frame's duration in the video time base, at least 1. */
static int64_t frame_ticks(const struct source *src, const struct av_source *av)
{
	AVRational rate = av->in->streams[av->video_index]->avg_frame_rate;

	if (rate.num <= 0 || rate.den <= 0)
		rate = av->in->streams[av->video_index]->r_frame_rate;
	if (rate.num <= 0 || rate.den <= 0)
		return 1;
	return FFMAX(1, av_rescale_q(1, av_inv_q(rate), src->video.time_base));
}

/* The next packet of ours with a timestamp, mapped to SOURCE_VIDEO or
 * SOURCE_AUDIO. */
static int next_timed(struct source *src, AVPacket *pkt)
{
	struct av_source *av = src->priv;
	int ret;

	if (av->held->data) {
		av_packet_move_ref(pkt, av->held);
		return 0;
	}
	av->timed_out = false;
	for (;;) {
		ret = av_read_frame(av->in, pkt);
		if (ret < 0)
			return deadline_error(src, ret);
		if (pkt->stream_index == av->video_index)
			pkt->stream_index = SOURCE_VIDEO;
		else if (pkt->stream_index == av->audio_index && av->audio_index >= 0)
			pkt->stream_index = SOURCE_AUDIO;
		else {
			av_packet_unref(pkt);
			continue;
		}
		if (pkt->dts == AV_NOPTS_VALUE)
			pkt->dts = pkt->pts;
		if (pkt->dts == AV_NOPTS_VALUE) {
			if (pkt->stream_index == SOURCE_VIDEO && (pkt->flags & AV_PKT_FLAG_KEY) &&
			    !av->video_timed) {
				av_packet_unref(av->untimed);
				av_packet_move_ref(av->untimed, pkt);
			} else {
				av_packet_unref(pkt);
			}
			continue;
		}
		if (pkt->stream_index == SOURCE_VIDEO && av->untimed->data) {
			int64_t t = pkt->pts != AV_NOPTS_VALUE ? FFMIN(pkt->pts, pkt->dts) : pkt->dts;

			av->untimed->dts = av->untimed->pts = t - frame_ticks(src, av);
			av_packet_move_ref(av->held, pkt);
			av_packet_move_ref(pkt, av->untimed);
		}
		return 0;
	}
}

static int av_read(struct source *src, AVPacket *pkt)
{
	struct av_source *av = src->priv;
	int ret = next_timed(src, pkt);

	if (ret < 0)
		return ret;
	/* Whether time goes on is the feed's to judge (feed.c, timeline). */
	if (pkt->stream_index == SOURCE_VIDEO)
		av->video_timed = true;
	if (src->opts->realtime && !is_rtsp(src->opts->url)) {
		ret = pace(src, pkt);
		if (ret < 0) {
			av_packet_unref(pkt);
			return ret;
		}
	}
	return 0;
}

static void av_close(struct source *src)
{
	struct av_source *av = src->priv;

	if (!av)
		return;
	avformat_close_input(&av->in);
	av_packet_free(&av->untimed);
	av_packet_free(&av->held);
	free(av);
	src->priv = NULL;
}

const struct source_ops avsource_ops = {
	.name = "libavformat",
	.open = av_open,
	.read = av_read,
	.close = av_close,
};
