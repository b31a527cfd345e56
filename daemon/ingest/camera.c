/* camera.c - a camera as a feed consumer: each session of its source gets a
 * fragmenter whose fragments go to the hub and the writer, keyframes to
 * live.jpg and motion; its status follows the feed's reports. */
#include "ingest/camera.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libavformat/avformat.h>

#include "config.h"
#include "events/detector.h"
#include "events/events.h"
#include "events/hook.h"
#include "ingest/feed.h"
#include "ingest/avsource.h"
#include "ingest/pushslot.h"
#include "ingest/substream.h"
#include "record/writer.h"
#include "stream/fragment.h"
#include "stream/fragmenter.h"
#include "stream/hub.h"
#include "stream/snapshot.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/stop.h"

#define RATE_WINDOW_US 5000000
#define HUB_MAX_BYTES (32 << 20)    /* a reader further behind is skipped */

struct camera {
	/* Set by camera_new and camera_start, then read-only. */
	const struct config *cfg;
	int index;                 /* in cfg->cameras, and for the writer */
	const struct camera_config *conf;
	struct writer *writer;
	struct hub *hub;           /* live readers; owned */
	struct snapshot *snapshot; /* newest keyframe for live.jpg; owned */
	const struct clock *clock;
	struct events *events;     /* its event store; owned */
	struct detector *detector; /* made by camera_start; NULL: motion = off; owned */
	struct substream *substream; /* feeds detector when motion_url is set; owned */
	struct pushslot *push;     /* push = esp32 or browser: where its device attaches; owned */
	struct hook *hook;         /* set by camera_start; NULL: none */
	const char *mountpoint;    /* set by camera_start; NULL: not mounted */
	struct source_opts main_opts, sub_opts;  /* what the feeds open */
	struct feed *feed;         /* the recorded stream; NULL until started */
	struct stop stop;          /* the camera's and its substream's */
	pthread_mutex_t lock;
	struct camera_status status;   /* guarded by lock */
	/* Feed thread only: the session being recorded, and the timeline. */
	struct fragmenter *frag;
	AVPacket *scored;          /* a packet's reference for the detector; allocated once */
	int64_t window_start_us, window_bytes, window_frames;
	uint32_t generation;
	int64_t media_end_us;      /* end of the last fragment */
	int64_t media_end_wall_us; /* when that was */
};

/* What a feed of url opens for this camera. */
static void source_opts_for(struct camera *cam, const char *url, struct source_opts *o)
{
	*o = (struct source_opts){
		.url = url,
		.udp = cam->conf->transport == CONFIG_TRANSPORT_UDP,
		.timeout_us = (int64_t)config_camera_stall_seconds(cam->cfg, cam->conf) * 1000000,
		.realtime = true,
		.stop = &cam->stop,
		.clock = cam->clock,
		.tag = cam->conf->name,
	};
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
	if (!(cam->scored = av_packet_alloc()) ||
	    hub_new(&cam->hub, HUB_MAX_BYTES) < 0 || snapshot_new(&cam->snapshot) < 0 ||
	    events_new(&cam->events, cfg->store, cam->conf->name) < 0) {
		camera_free(cam);
		return -ENOMEM;
	}
	if (cam->conf->push != CONFIG_PUSH_NONE &&
	    pushslot_new(&cam->push, &cam->stop, cam->conf->push == CONFIG_PUSH_BROWSER ?
			 PUSHSLOT_STREAM : PUSHSLOT_JPEG) < 0) {
		camera_free(cam);
		return -ENOMEM;
	}
	source_opts_for(cam, cam->conf->url, &cam->main_opts);
	if (cam->push) {
		/* A browser's stream is a container libavformat reads; a board's
		 * JPEGs need no demuxer. */
		cam->main_opts.ops = cam->conf->push == CONFIG_PUSH_BROWSER ? &avsource_ops :
			&pushslot_source_ops;
		cam->main_opts.push = cam->push;
	}
	if (cam->conf->motion_url)
		source_opts_for(cam, cam->conf->motion_url, &cam->sub_opts);
	*out = cam;
	return 0;
}

bool camera_alive(struct camera *cam, int64_t now_us)
{
	return (!cam->feed || feed_alive(cam->feed, now_us)) &&
	       (!cam->substream || substream_alive(cam->substream, now_us));
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
struct pushslot *camera_pushslot(struct camera *cam) { return cam->push; }

void camera_device_motion(struct camera *cam, bool start, int64_t wall_us, const void *jpeg,
			  size_t size)
{
	char stem[EVENTS_STEM_MAX] = "", path[4096] = "";
	int ret;

	if (!start) {
		log_info(cam->conf->name, "the camera's own motion detector: motion ended");
		return;
	}
	ret = jpeg ? events_add_camera(cam->events, jpeg, size, wall_us, stem, path) : -ENODATA;
	if (ret < 0) {
		log_warning(cam->conf->name, "the camera reported motion; no event filed: %s",
			    strerror(-ret));
		return;
	}
	log_info(cam->conf->name, "the camera reported motion: event %s", stem);
	if (cam->hook)
		hook_run(cam->hook, &(struct hook_event){
			.camera = cam->conf->name, .kind = "camera", .phase = "start",
			.wall_us = wall_us, .snapshot = path,
		});
}

/* Marks the camera offline; logs only when the reason changed. Offline
 * since the end of the last frame, when the footage stopped. */
static void on_offline(void *opaque, const char *reason, bool repeated)
{
	struct camera *cam = opaque;
	bool changed;

	pthread_mutex_lock(&cam->lock);
	changed = cam->status.online || !repeated;
	if (cam->status.online)
		cam->status.since_us = cam->media_end_wall_us ? cam->media_end_wall_us :
			clock_wall_us(cam->clock);
	cam->status.online = false;
	snprintf(cam->status.last_error, sizeof(cam->status.last_error), "%s", reason);
	pthread_mutex_unlock(&cam->lock);
	if (changed)
		log_warning(cam->conf->name, "offline: %s", reason);
}

/* A connection delivered its first keyframe. After earlier footage this is
 * a reconnection, and the gap runs from the end of the last frame. */
static void on_online(void *opaque, const struct source *src)
{
	struct camera *cam = opaque;
	const AVCodecParameters *par = src->video.par;
	int64_t now = clock_wall_us(cam->clock);
	bool again = cam->media_end_wall_us != 0;
	/* The last frame may carry a device clock a little ahead of ours. */
	int64_t gap_us = again && now > cam->media_end_wall_us ? now - cam->media_end_wall_us : 0;

	pthread_mutex_lock(&cam->lock);
	if (again)
		cam->status.reconnects++;
	cam->status.online = true;
	cam->status.since_us = now;
	snprintf(cam->status.codec, sizeof(cam->status.codec), "%s", avcodec_get_name(par->codec_id));
	cam->status.width = par->width;
	cam->status.height = par->height;
	pthread_mutex_unlock(&cam->lock);

	if (again)
		log_notice(cam->conf->name, "online again after %.1f s without footage: %s %dx%d",
			   gap_us / 1e6, avcodec_get_name(par->codec_id), par->width, par->height);
	else
		log_info(cam->conf->name, "online: %s %dx%d%s", avcodec_get_name(par->codec_id),
			 par->width, par->height, src->audio.par ? " with AAC audio" : "");
}

/* The one place a fragment leaves the camera: to live readers and to disk. */
static void emit(struct fragment *frag, void *opaque)
{
	struct camera *cam = opaque;

	if (frag->kind == FRAGMENT_MEDIA) {
		cam->window_bytes += frag->size;
		cam->window_frames++;
		cam->media_end_us = frag->media_us + frag->duration_us;
		cam->media_end_wall_us = frag->wall_us + frag->duration_us;
	}
	hub_publish(cam->hub, fragment_ref(frag));
	writer_push(cam->writer, cam->index, frag);
}

static void update_rates(struct camera *cam)
{
	int64_t now = clock_monotonic_us(cam->clock);
	int64_t span = now - cam->window_start_us;

	if (span < RATE_WINDOW_US)
		return;
	pthread_mutex_lock(&cam->lock);
	cam->status.bitrate = cam->window_bytes * 8 * 1000000 / span;
	cam->status.fps = cam->window_frames * 1e6 / span;
	pthread_mutex_unlock(&cam->lock);
	cam->window_start_us = now;
	cam->window_bytes = cam->window_frames = 0;
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

static int on_start(void *opaque, const struct source *src)
{
	struct camera *cam = opaque;
	int ret = fragmenter_open(&cam->frag, src, ++cam->generation, emit, cam);

	if (ret < 0)
		return ret;
	/* Media time goes on across reconnects, by the wall time missed: a live
	 * reader sees one stream with a gap, never time going back. */
	if (cam->media_end_wall_us) {
		int64_t missed = clock_wall_us(cam->clock) - cam->media_end_wall_us;

		fragmenter_set_start(cam->frag, cam->media_end_us + (missed > 0 ? missed : 0));
	}
	cam->window_start_us = clock_monotonic_us(cam->clock);
	cam->window_bytes = cam->window_frames = 0;
	return 0;
}

static int on_packet(void *opaque, const struct source *src, AVPacket *pkt, int64_t wall_us)
{
	struct camera *cam = opaque;
	bool score;
	int ret;

	if (parameters_changed(src, pkt)) {
		log_notice(cam->conf->name, "codec parameters changed; reconnecting");
		return AVERROR(EAGAIN);
	}
	if (pkt->stream_index == SOURCE_VIDEO && (pkt->flags & AV_PKT_FLAG_KEY)) {
		snapshot_update(cam->snapshot, src->video.par, pkt);
		detector_keyframe(cam->detector, src->video.par, pkt, wall_us);
	}
	/* Scored after muxing (which consumes pkt): a second's row then
	 * reaches the writer after the fragments before it, so it joins the
	 * right segment. */
	score = cam->detector && !cam->substream && pkt->stream_index == SOURCE_VIDEO &&
		av_packet_ref(cam->scored, pkt) == 0;
	ret = fragmenter_write(cam->frag, pkt, wall_us);
	if (score) {
		detector_packet(cam->detector, src->video.par, cam->scored, wall_us);
		av_packet_unref(cam->scored);
	}
	if (ret < 0)
		return ret;
	update_rates(cam);
	return 0;
}

static void on_end(void *opaque, const struct source *src, int err)
{
	struct camera *cam = opaque;

	(void)src;
	(void)err;
	fragmenter_flush(cam->frag);
	/* Nothing stale for a live reader that opens before the next session. */
	hub_end_session(cam->hub);
	if (!cam->substream)
		detector_finish(cam->detector);
	writer_end_session(cam->writer, cam->index);
	fragmenter_close(cam->frag);
	cam->frag = NULL;
}

static const struct feed_consumer camera_consumer = {
	.start = on_start,
	.packet = on_packet,
	.end = on_end,
	.online = on_online,
	.offline = on_offline,
};

int camera_start(struct camera *cam, struct hook *hook, const char *mountpoint)
{
	struct detector_opts dopts = {
		.cfg = cam->cfg, .cam = cam->index, .writer = cam->writer,
		.events = cam->events, .hook = hook, .mountpoint = mountpoint,
	};
	/* Thread names are at most 15 characters. */
	char name[16];
	int ret = detector_new(&cam->detector, &dopts);

	cam->hook = hook;
	cam->mountpoint = mountpoint;

	if (ret < 0) {
		log_error(cam->conf->name, "motion: bad settings: %s", strerror(-ret));
		return ret;
	}
	if (cam->detector && cam->conf->motion_url) {
		snprintf(name, sizeof(name), "sub:%.11s", cam->conf->name);
		ret = substream_start(&cam->substream, &cam->sub_opts, name, cam->detector);
		if (ret < 0)
			return ret;
	}
	snprintf(name, sizeof(name), "cam:%.11s", cam->conf->name);
	/* A pushed camera's open already waits for its device: no backoff
	 * on top, or a board that connects waits for it. */
	return feed_start(&cam->feed, &(struct feed_opts){
				  .source = cam->main_opts, .thread = name,
				  .backoff_min_us = cam->push ? 200000 : 0,
				  .backoff_max_us = cam->push ? 500000 : 0,
			  }, &camera_consumer, cam);
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
	feed_free(cam->feed);
	substream_free(cam->substream);
	pushslot_free(cam->push);
	hub_free(cam->hub);
	snapshot_free(cam->snapshot);
	detector_free(cam->detector);
	events_free(cam->events);
	av_packet_free(&cam->scored);
	pthread_mutex_destroy(&cam->lock);
	stop_destroy(&cam->stop);
	free(cam);
}
