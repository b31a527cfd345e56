/* camera.c - the per-camera ingest thread. Every wait on the source has a
 * deadline (stall_seconds); a failure is logged once per distinct reason,
 * and the camera retries with backoff while the others keep recording. */
#include "ingest/camera.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libavformat/avformat.h>

#include "util/backoff.h"
#include "util/clock.h"
#include "config.h"
#include "events/detector.h"
#include "events/events.h"
#include "stream/fragment.h"
#include "stream/fragmenter.h"
#include "stream/hub.h"
#include "util/log.h"
#include "stream/snapshot.h"
#include "ingest/source.h"
#include "ingest/substream.h"
#include "record/writer.h"

#define BACKOFF_MIN_US 1000000
#define BACKOFF_MAX_US 30000000
#define RATE_WINDOW_US 5000000
#define HUB_MAX_BYTES (32 << 20)    /* a reader further behind is skipped */

struct session {          /* one connection's worth of state */
	struct camera *cam;
	struct source *src;
	struct fragmenter *frag;
	int64_t window_start_us, window_bytes, window_frames;
};

void camera_describe_error(int err, char *buf, size_t n)
{
	switch (err) {
	case AVERROR_HTTP_UNAUTHORIZED:
	case AVERROR(EACCES):
		snprintf(buf, n, "authentication failed");
		return;
	case AVERROR_HTTP_FORBIDDEN:
		snprintf(buf, n, "access forbidden");
		return;
	case AVERROR_HTTP_NOT_FOUND:
		snprintf(buf, n, "stream not found");
		return;
	case AVERROR(ECONNREFUSED):
		snprintf(buf, n, "connection refused");
		return;
	case AVERROR(EHOSTUNREACH):
	case AVERROR(ENETUNREACH):
		snprintf(buf, n, "host unreachable");
		return;
	case AVERROR(ETIMEDOUT):
		snprintf(buf, n, "no answer in time");
		return;
	case AVERROR_EOF:
		snprintf(buf, n, "stream ended");
		return;
	default:
		if (err == AVERROR(EINVAL) || err == AVERROR_INVALIDDATA) {
			snprintf(buf, n, "bad URL or unusable stream");
			return;
		}
		av_strerror(err, buf, n);
	}
}

int camera_new(struct camera **out, const struct config *cfg, int index,
	       struct writer *writer, const struct clock *clock)
{
	struct camera *cam = calloc(1, sizeof(*cam));

	*out = NULL;
	if (!cam)
		return -ENOMEM;
	cam->cfg = cfg;
	cam->index = index;
	cam->conf = &cfg->cameras[index];
	cam->writer = writer;
	cam->clock = clock;
	pthread_mutex_init(&cam->lock, NULL);
	cam->status.since_us = clock_wall_us(clock);
	if (stop_init(&cam->stop) < 0) {
		pthread_mutex_destroy(&cam->lock);
		free(cam);
		return -ENOMEM;
	}
	if (hub_new(&cam->hub, HUB_MAX_BYTES) < 0 || snapshot_new(&cam->snapshot) < 0 ||
	    events_new(&cam->events, cfg->store, cam->conf->name) < 0) {
		camera_free(cam);
		return -ENOMEM;
	}
	*out = cam;
	return 0;
}

void camera_get_status(struct camera *cam, struct camera_status *out)
{
	pthread_mutex_lock(&cam->lock);
	*out = cam->status;
	pthread_mutex_unlock(&cam->lock);
	out->motion_score = detector_last_score(cam->detector);
	out->in_event = detector_in_event(cam->detector);
}

struct hub *camera_hub(struct camera *cam) { return cam->hub; }
struct snapshot *camera_snapshot(struct camera *cam) { return cam->snapshot; }
struct events *camera_events(struct camera *cam) { return cam->events; }

/* Marks the camera offline; logs only when the reason changed. */
static void set_offline(struct camera *cam, int err, const char *what)
{
	char reason[CAMERA_REASON_MAX], desc[96];
	bool changed;

	camera_describe_error(err, desc, sizeof(desc));
	snprintf(reason, sizeof(reason), "%s: %s", what, desc);
	pthread_mutex_lock(&cam->lock);
	changed = cam->status.online || strcmp(cam->status.last_error, reason) != 0;
	if (cam->status.online)
		cam->status.since_us = clock_wall_us(cam->clock);
	cam->status.online = false;
	snprintf(cam->status.last_error, sizeof(cam->status.last_error), "%s", reason);
	pthread_mutex_unlock(&cam->lock);
	if (changed)
		log_warning(cam->conf->name, "offline: %s", reason);
}

static void set_online(struct session *s)
{
	struct camera *cam = s->cam;
	const AVCodecParameters *par = s->src->video.par;
	int64_t now = clock_wall_us(cam->clock);
	int64_t gap_us;
	bool was_offline_after_online;

	pthread_mutex_lock(&cam->lock);
	gap_us = now - cam->status.since_us;
	was_offline_after_online = cam->status.reconnects > 0 || cam->generation > 1;
	cam->status.online = true;
	cam->status.since_us = now;
	snprintf(cam->status.codec, sizeof(cam->status.codec), "%s", avcodec_get_name(par->codec_id));
	cam->status.width = par->width;
	cam->status.height = par->height;
	pthread_mutex_unlock(&cam->lock);

	if (was_offline_after_online)
		log_notice(cam->conf->name, "online again after %.1f s without footage: %s %dx%d",
			   gap_us / 1e6, avcodec_get_name(par->codec_id), par->width, par->height);
	else
		log_info(cam->conf->name, "online: %s %dx%d%s", avcodec_get_name(par->codec_id),
			 par->width, par->height, s->src->audio.par ? " with AAC audio" : "");
}

/* The one place a fragment leaves the camera: to live readers and to disk. */
static void emit(struct fragment *frag, void *opaque)
{
	struct session *s = opaque;

	if (frag->kind == FRAGMENT_MEDIA) {
		s->window_bytes += frag->size;
		s->window_frames++;
		s->cam->media_end_us = frag->media_us + frag->duration_us;
		s->cam->media_end_wall_us = frag->wall_us + frag->duration_us;
	}
	hub_publish(s->cam->hub, fragment_ref(frag));
	writer_push(s->cam->writer, s->cam->index, frag);
}

static void update_rates(struct session *s)
{
	int64_t now = clock_monotonic_us(s->cam->clock);
	int64_t span = now - s->window_start_us;

	if (span < RATE_WINDOW_US)
		return;
	pthread_mutex_lock(&s->cam->lock);
	s->cam->status.bitrate = s->window_bytes * 8 * 1000000 / span;
	s->cam->status.fps = s->window_frames * 1e6 / span;
	pthread_mutex_unlock(&s->cam->lock);
	s->window_start_us = now;
	s->window_bytes = s->window_frames = 0;
}

/* New extradata in the stream means new codec parameters: the muxer's init
 * segment no longer describes the packets. */
static bool parameters_changed(const struct source *src, const AVPacket *pkt)
{
	size_t size;
	const uint8_t *side;

	if (pkt->stream_index != SOURCE_VIDEO)
		return false;
	side = av_packet_get_side_data(pkt, AV_PKT_DATA_NEW_EXTRADATA, &size);
	if (!side)
		return false;
	return size != (size_t)src->video.par->extradata_size ||
	       memcmp(side, src->video.par->extradata, size) != 0;
}

/* One connection: open, then mux until an error or a stop. Returns the
 * error that ended it. */
static int run_session(struct camera *cam, struct backoff *bo)
{
	int64_t stall_us = (int64_t)config_camera_stall_seconds(cam->cfg, cam->conf) * 1000000;
	struct source_opts opts = {
		.url = cam->conf->url,
		.udp = cam->conf->transport == CONFIG_TRANSPORT_UDP,
		.timeout_us = stall_us,
		.realtime = true,
		.stop = &cam->stop,
		.clock = cam->clock,
		.tag = cam->conf->name,
	};
	struct session s = { .cam = cam };
	AVPacket *pkt = av_packet_alloc(), *scored = av_packet_alloc();
	bool have_keyframe = false, score;
	int64_t wall_us;
	int ret;

	if (!pkt || !scored) {
		ret = AVERROR(ENOMEM);
		goto out;
	}
	ret = source_open(&s.src, &opts);
	if (ret < 0) {
		if (!stop_requested(&cam->stop))
			set_offline(cam, ret, "cannot connect");
		goto out;
	}
	ret = fragmenter_open(&s.frag, s.src, ++cam->generation, emit, &s);
	if (ret < 0) {
		set_offline(cam, ret, "cannot record this stream");
		goto out;
	}
	/* Media time goes on across reconnects, by the wall time missed: a live
	 * reader sees one stream with a gap, never time going back. */
	if (cam->media_end_wall_us) {
		int64_t missed = clock_wall_us(cam->clock) - cam->media_end_wall_us;

		fragmenter_set_start(s.frag, cam->media_end_us + (missed > 0 ? missed : 0));
	}
	set_online(&s);
	s.window_start_us = clock_monotonic_us(cam->clock);
	while (!stop_requested(&cam->stop)) {
		ret = source_read(s.src, pkt);
		if (ret < 0)
			break;
		if (parameters_changed(s.src, pkt)) {
			log_notice(cam->conf->name, "codec parameters changed; reconnecting");
			av_packet_unref(pkt);
			ret = AVERROR(EAGAIN);
			break;
		}
		if (!have_keyframe && pkt->stream_index == SOURCE_VIDEO && (pkt->flags & AV_PKT_FLAG_KEY)) {
			/* Only a session that delivered a picture resets backoff. */
			have_keyframe = true;
			backoff_reset(bo);
		}
		wall_us = clock_wall_us(cam->clock);
		if (pkt->stream_index == SOURCE_VIDEO && (pkt->flags & AV_PKT_FLAG_KEY)) {
			snapshot_update(cam->snapshot, s.src->video.par, pkt);
			detector_keyframe(cam->detector, s.src->video.par, pkt, wall_us);
		}
		/* Scored after muxing (which consumes pkt): a second's row then
		 * reaches the writer after the fragments before it, so it joins
		 * the right segment. */
		score = cam->detector && !cam->substream && pkt->stream_index == SOURCE_VIDEO &&
			av_packet_ref(scored, pkt) == 0;
		ret = fragmenter_write(s.frag, pkt, wall_us);
		if (score) {
			detector_packet(cam->detector, s.src->video.par, scored, wall_us);
			av_packet_unref(scored);
		}
		if (ret < 0) {
			set_offline(cam, ret, "cannot mux");
			break;
		}
		update_rates(&s);
	}
	fragmenter_flush(s.frag);
	if (!cam->substream)
		detector_finish(cam->detector);
	if (!stop_requested(&cam->stop) && ret != AVERROR(EAGAIN))
		set_offline(cam, ret, ret == AVERROR(ETIMEDOUT) ? "stalled" : "lost");
	writer_end_session(cam->writer, cam->index);
out:
	fragmenter_close(s.frag);
	source_close(s.src);
	av_packet_free(&pkt);
	av_packet_free(&scored);
	return ret;
}

static void *camera_main(void *arg)
{
	struct camera *cam = arg;
	struct backoff bo;
	int ret;

	backoff_init(&bo, BACKOFF_MIN_US, BACKOFF_MAX_US,
		     (uint64_t)clock_monotonic_us(cam->clock) ^ ((uint64_t)cam->index << 32));
	while (!stop_requested(&cam->stop)) {
		ret = run_session(cam, &bo);
		if (stop_requested(&cam->stop))
			break;
		pthread_mutex_lock(&cam->lock);
		cam->status.reconnects++;
		pthread_mutex_unlock(&cam->lock);
		stop_sleep(&cam->stop, ret == AVERROR(EAGAIN) ? 0 : backoff_next(&bo));
	}
	return NULL;
}

int camera_start(struct camera *cam)
{
	struct detector_opts dopts = {
		.cfg = cam->cfg, .cam = cam->index, .writer = cam->writer,
		.events = cam->events, .hook = cam->hook, .mountpoint = cam->mountpoint,
	};
	char name[16];
	int ret = detector_new(&cam->detector, &dopts);

	if (ret < 0) {
		log_error(cam->conf->name, "motion: bad settings: %s", strerror(-ret));
		return ret;
	}
	if (cam->detector && cam->conf->motion_url) {
		ret = substream_start(&cam->substream, cam);
		if (ret < 0)
			return ret;
	}
	ret = pthread_create(&cam->thread, NULL, camera_main, cam);
	if (ret)
		return -ret;
	/* Thread names are at most 15 characters. */
	snprintf(name, sizeof(name), "cam:%.11s", cam->conf->name);
	pthread_setname_np(cam->thread, name);
	cam->started = true;
	return 0;
}

void camera_request_stop(struct camera *cam)
{
	stop_request(&cam->stop);
}

void camera_free(struct camera *cam)
{
	if (!cam)
		return;
	camera_request_stop(cam);   /* the substream too, even if the camera never started */
	if (cam->started)
		pthread_join(cam->thread, NULL);
	substream_free(cam->substream);
	hub_free(cam->hub);
	snapshot_free(cam->snapshot);
	detector_free(cam->detector);
	events_free(cam->events);
	pthread_mutex_destroy(&cam->lock);
	stop_destroy(&cam->stop);
	free(cam);
}
