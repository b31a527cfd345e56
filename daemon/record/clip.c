/* clip.c - builds virtual MP4s from segment indexes. Two passes over the
 * segments in time order: find the keyframe at or before the start, then
 * take samples until the end, each run of contiguous samples a chunk, and
 * each segment's share one byte range of its file. */
#include "record/clip.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/intreadwrite.h>

#include "util/array.h"
#include "mp4/index.h"
#include "util/log.h"
#include "mp4/mp4box.h"
#include "mp4/mp4build.h"
#include "record/store.h"
#include "record/vfile.h"
#include "record/writer.h"

#define CACHE_SLOTS 512
/* Camera timestamps that disagree with the wall clock by more than this
 * between two frames are a jump (a camera clock stepped), not footage. */
#define JUMP_US 2000000

/* Indexes by path. A segment that grew since (the one being written) is
 * indexed again. Guarded by cache_lock, which a build holds throughout. A
 * build uses each segment's index right after opening it, so it may evict
 * indexes it used before; it copies what it keeps (struct build's ref). */
struct cached {
	char path[PATH_MAX];
	uint64_t size;
	uint64_t used;          /* for evicting the least recently used */
	struct index ix;
};
static struct cached cache[CACHE_SLOTS];
static uint64_t cache_clock;
static uint64_t build_began;    /* cache_clock when the current build began */
static uint64_t indexes_read;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

struct segment_ref {
	char path[PATH_MAX];
	int64_t name_us;        /* the local time its name says */
	int fd;
	const struct index *ix; /* in the cache */
	int vt, at;             /* video and audio track in ix, -1 if none */
};

struct out_track {
	struct mp4build_sample *samples;
	size_t n_samples, cap_samples;
	struct mp4build_chunk *chunks;
	size_t n_chunks, cap_chunks;
	uint64_t duration;      /* sum of sample durations so far */
};

struct range {                  /* one segment's bytes in the clip's mdat */
	int slot;
	uint64_t pos, len;
};

struct build {
	/* The first segment's video and audio tracks, without samples (stsd
	 * copied): the clip's format; a segment that differs ends the clip. */
	struct index_track ref[2];
	bool has_audio;
	struct out_track tr[2]; /* 0 video, 1 audio */
	struct range *ranges;
	size_t n_ranges, cap_ranges;
	uint64_t payload;       /* mdat payload bytes so far */
	int64_t edit_video;     /* out time of the frame at start; -1 until found */
};

/* The slot to index a new segment into: the least recently used, unless
 * this build used every slot. Then it is the one the build used last: a
 * build over more segments than the cache holds keeps its first ones for
 * the next build over the same range (plain LRU would keep none). */
static struct cached *victim(void)
{
	struct cached *oldest = &cache[0], *newest = &cache[0];

	for (int i = 1; i < CACHE_SLOTS; i++) {
		if (cache[i].used < oldest->used)
			oldest = &cache[i];
		if (cache[i].used > newest->used)
			newest = &cache[i];
	}
	return oldest->used <= build_began ? oldest : newest;
}

/* Caller holds cache_lock. */
static const struct index *cached_index(int fd, const char *path, uint64_t size, int *err)
{
	struct cached *slot = NULL;

	for (int i = 0; i < CACHE_SLOTS; i++)
		if (strcmp(cache[i].path, path) == 0) {
			slot = &cache[i];
			break;
		}
	if (slot && slot->size == size) {
		slot->used = ++cache_clock;
		return &slot->ix;
	}
	if (!slot)
		slot = victim();
	index_clear(&slot->ix);
	slot->path[0] = '\0';
	indexes_read++;
	*err = index_read(fd, size, &slot->ix);
	if (*err < 0)
		return NULL;
	snprintf(slot->path, sizeof(slot->path), "%s", path);
	slot->size = size;
	slot->used = ++cache_clock;
	return &slot->ix;
}

uint64_t clip_indexes_read(void)
{
	uint64_t n;

	pthread_mutex_lock(&cache_lock);
	n = indexes_read;
	pthread_mutex_unlock(&cache_lock);
	return n;
}

void clip_cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < CACHE_SLOTS; i++) {
		index_clear(&cache[i].ix);
		cache[i].path[0] = '\0';
		cache[i].used = 0;
	}
	pthread_mutex_unlock(&cache_lock);
}

static int by_time(const void *a, const void *b)
{
	const struct segment_ref *x = a, *y = b;

	if (x->name_us != y->name_us)
		return x->name_us < y->name_us ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int open_segment(const struct clip_source *src, struct segment_ref *s);

/* The wall clock of a segment's first video frame, from its prft; 0 if
 * the file has none (or cannot be read). Its index stays in the cache for
 * the build. */
static int64_t first_frame_wall_us(const struct clip_source *src, const char *path)
{
	struct segment_ref s = { .fd = -1 };
	int64_t w = 0;

	snprintf(s.path, sizeof(s.path), "%s", path);
	pthread_mutex_lock(&cache_lock);
	if (open_segment(src, &s) == 0 && s.ix->tracks[s.vt].n_samples)
		w = index_wall_us(s.ix, s.vt, s.ix->tracks[s.vt].samples[0].dts);
	pthread_mutex_unlock(&cache_lock);
	if (s.fd >= 0)
		close(s.fd);
	return w;
}

int clip_segment_span(const struct clip_source *src, const char *path, int64_t *start_us,
		      int64_t *duration_us)
{
	struct segment_ref s = { .fd = -1 };
	int ret;

	snprintf(s.path, sizeof(s.path), "%s", path);
	pthread_mutex_lock(&cache_lock);
	ret = open_segment(src, &s);
	if (ret == 0) {
		const struct index_track *t = &s.ix->tracks[s.vt];

		*start_us = t->n_samples ? index_wall_us(s.ix, s.vt, t->samples[0].dts) : 0;
		*duration_us = t->n_samples ? (int64_t)((t->samples[t->n_samples - 1].dts +
							t->samples[t->n_samples - 1].duration -
							t->samples[0].dts) * 1000000 / t->timescale) : 0;
		if (!*start_us)
			ret = -ENODATA;   /* no wall clock: not a recorded segment's */
	}
	pthread_mutex_unlock(&cache_lock);
	if (s.fd >= 0)
		close(s.fd);
	return ret;
}

/* Whether the clocks change on date day (it is not 24 hours long). */
static bool clocks_change_on(const struct tm *day)
{
	struct tm from = *day, to = *day;

	from.tm_isdst = to.tm_isdst = -1;
	to.tm_mday++;
	return mktime(&to) - mktime(&from) != 24 * 3600;
}

/* The time the name of a segment in folder dir of date day stands for, or
 * -1 if it is no segment's name. In the hour the clocks repeat when DST
 * ends, a name stands for two times: the file's first frame tells which
 * (its index is read for that hour's names only). Only on a date whose
 * clocks change (clocks_change) can a name be one of those. */
static int64_t name_time_us(const struct clip_source *src, const char *dir, const struct tm *day,
			    bool clocks_change, const char *name)
{
	struct tm tm = *day, dst, std;
	int64_t t_dst, t_std, w;
	unsigned long seq;
	char path[PATH_MAX];

	if (!store_parse_segment_name(name, &tm, &seq))
		return -1;
	tm.tm_isdst = -1;
	if (!clocks_change)
		return (int64_t)mktime(&tm) * 1000000;
	dst = std = tm;
	dst.tm_isdst = 1;
	std.tm_isdst = 0;
	t_dst = (int64_t)mktime(&dst) * 1000000;
	t_std = (int64_t)mktime(&std) * 1000000;
	/* mktime moves a time that does not exist in the DST state asked for
	 * (by the zone's shift, 30 minutes in some): only a repeated time
	 * keeps its clock reading, and its state, both ways. */
	if (t_dst == t_std || dst.tm_isdst <= 0 || std.tm_isdst != 0 ||
	    dst.tm_hour != tm.tm_hour || std.tm_hour != tm.tm_hour ||
	    dst.tm_min != tm.tm_min || std.tm_min != tm.tm_min)
		return (int64_t)mktime(&tm) * 1000000;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(w = first_frame_wall_us(src, path)))
		return (int64_t)mktime(&tm) * 1000000;
	return llabs(w - t_std) < llabs(w - t_dst) ? t_std : t_dst;
}

/* Whether a file could not be opened for want of fds or memory: the
 * build fails rather than leave the segment out. */
static bool is_fatal(int err)
{
	return err == -EMFILE || err == -ENFILE || err == -ENOMEM;
}

/* The segments that may hold footage of [start, end): all named before the
 * end, from the second-last named at or before the start (a name is the
 * first frame's time cut to the second, so the one named just before the
 * start may begin after it). */
static int list_segments(const struct clip_source *src, int64_t start_us, int64_t end_us,
			 struct segment_ref **out, size_t *n_out)
{
	struct segment_ref *v = NULL;
	size_t n = 0, cap = 0, first = 0;
	char last[STORE_DATE_LEN];

	/* A segment never spans midnight, so its date folder is that of its
	 * start: look from the day before the start to the day of the end, a
	 * calendar date at a time (days are 23 or 25 hours at DST changes). */
	store_date_name(end_us, last);
	for (int64_t day = store_date_step_us(start_us, -1);; day = store_date_step_us(day, 1)) {
		char date[STORE_DATE_LEN], dir[PATH_MAX - 256];
		struct tm tm = { 0 };
		bool clocks_change;
		DIR *d;
		struct dirent *e;
		int fd;

		store_date_name(day, date);
		if (strcmp(date, last) > 0)   /* "YYYY-MM-DD" sorts as dates do */
			break;
		store_parse_date(date, &tm);
		clocks_change = clocks_change_on(&tm);
		snprintf(dir, sizeof(dir), "%s/%s/%s", src->store, src->camera, date);
		/* Through no link in the store: see store_open. */
		if ((fd = store_open(src->store, dir, O_RDONLY | O_DIRECTORY)) < 0 && is_fatal(fd)) {
			free(v);
			return fd;   /* not "no footage that day" */
		}
		if (fd < 0)
			continue;
		if (!(d = fdopendir(fd))) {
			close(fd);
			continue;
		}
		while ((e = readdir(d))) {
			int64_t t;

			if ((t = name_time_us(src, dir, &tm, clocks_change, e->d_name)) < 0 || t >= end_us)
				continue;
			if (array_grow(&v, &cap, n, sizeof(*v)) < 0) {
				closedir(d);
				free(v);
				return -ENOMEM;
			}
			memset(&v[n], 0, sizeof(v[n]));
			snprintf(v[n].path, sizeof(v[n].path), "%s/%s", dir, e->d_name);
			v[n].name_us = t;
			v[n].fd = -1;
			n++;
		}
		closedir(d);
	}
	if (n)   /* v is NULL when empty: not for qsort or memmove */
		qsort(v, n, sizeof(*v), by_time);
	for (size_t i = 0; i < n; i++)
		if (v[i].name_us <= start_us)
			first = i > 0 ? i - 1 : 0;
	if (first)
		memmove(v, v + first, (n - first) * sizeof(*v));
	*out = v;
	*n_out = n - first;
	return 0;
}

/* Opens and indexes a segment (to what is durable, if it is being
 * written), through the vfile fd pool. Caller holds cache_lock. */
static int open_segment(const struct clip_source *src, struct segment_ref *s)
{
	struct stat st;
	int64_t committed;
	int err = 0;

	s->fd = vfile_open_file(src->store, s->path);
	if (s->fd < 0) {
		err = s->fd;
		s->fd = -1;
		return err;
	}
	if (fstat(s->fd, &st) < 0)
		return -errno;
	committed = writer_committed_size(src->writer, src->cam, s->path);
	s->ix = cached_index(s->fd, s->path, committed >= 0 ? (uint64_t)committed : (uint64_t)st.st_size, &err);
	if (!s->ix)
		return err;
	s->vt = index_video_track(s->ix);
	s->at = -1;
	for (int t = 0; t < s->ix->n_tracks; t++)
		if (t != s->vt && s->ix->tracks[t].handler == MP4BOX_FOURCC('s', 'o', 'u', 'n'))
			s->at = t;
	return s->vt < 0 ? -EBADMSG : 0;
}

/* Wall time of a video sample; without a prft, from the name. */
static int64_t sample_wall(const struct segment_ref *s, size_t j)
{
	const struct index_track *t = &s->ix->tracks[s->vt];
	int64_t w = index_wall_us(s->ix, s->vt, t->samples[j].dts);

	if (w)
		return w;
	return s->name_us + (int64_t)((t->samples[j].dts - t->samples[0].dts) * 1000000 / t->timescale);
}

static bool same_stsd(const struct index_track *a, const struct index_track *b)
{
	return a->stsd_size == b->stsd_size && memcmp(a->stsd, b->stsd, a->stsd_size) == 0;
}

/* Keeps the format of the clip's first segment s in b->ref. */
static int keep_format(struct build *b, const struct segment_ref *s)
{
	const int from[2] = { s->vt, s->at };

	b->has_audio = s->at >= 0;
	for (int k = 0; k < 1 + b->has_audio; k++) {
		b->ref[k] = s->ix->tracks[from[k]];
		b->ref[k].samples = NULL;
		b->ref[k].n_samples = 0;
		if (!(b->ref[k].stsd = malloc(b->ref[k].stsd_size)))
			return -ENOMEM;
		memcpy(b->ref[k].stsd, s->ix->tracks[from[k]].stsd, b->ref[k].stsd_size);
	}
	return 0;
}

static bool same_format(const struct build *b, const struct segment_ref *s)
{
	return same_stsd(&s->ix->tracks[s->vt], &b->ref[0]) && (s->at >= 0) == b->has_audio &&
	       (!b->has_audio || same_stsd(&s->ix->tracks[s->at], &b->ref[1]));
}

/* Sample j's duration in a clip: its own, unless the camera's timestamps
 * jump between it and the next sample (their gap and the wall clock's
 * differ by over JUMP_US): then the wall clock's gap, so that a jump
 * neither stretches the clip by it nor squeezes the footage after it. The
 * last sample of a segment lasts to the next one's timestamp, jump
 * included: one longer than JUMP_US lasts as long as the one before. */
static uint32_t clip_duration(const struct segment_ref *s, int t, size_t j)
{
	const struct index_track *it = &s->ix->tracks[t];
	int64_t media_us, w0, w1, d;

	if (j + 1 >= it->n_samples) {
		d = (int64_t)it->samples[j].duration * 1000000 / it->timescale;
		return d > JUMP_US && j > 0 ? it->samples[j - 1].duration : it->samples[j].duration;
	}
	media_us = (int64_t)((it->samples[j + 1].dts - it->samples[j].dts) * 1000000 / it->timescale);
	w0 = index_wall_us(s->ix, t, it->samples[j].dts);
	w1 = index_wall_us(s->ix, t, it->samples[j + 1].dts);
	if (!w0 || !w1 || llabs(media_us - (w1 - w0)) <= JUMP_US)
		return it->samples[j].duration;
	d = (w1 - w0) * it->timescale / 1000000;
	return d < 1 ? 1 : d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

struct run {
	int track;              /* 0 video, 1 audio */
	uint32_t first, n;      /* in the out track's samples */
	uint64_t pos, len;      /* in the segment file */
};

/* Appends samples [from, to) of track t of segment s to out track k,
 * cutting them into runs of contiguous bytes. */
static int take(struct build *b, const struct segment_ref *s, int t, int k, size_t from, size_t to,
		struct run **runs, size_t *n_runs, size_t *cap_runs)
{
	const struct index_track *it = &s->ix->tracks[t];
	struct out_track *o = &b->tr[k];

	for (size_t j = from; j < to; j++) {
		const struct index_sample *x = &it->samples[j];
		struct run *last = *n_runs ? &(*runs)[*n_runs - 1] : NULL;

		if (array_grow(&o->samples, &o->cap_samples, o->n_samples, sizeof(*o->samples)) < 0)
			return -ENOMEM;
		o->samples[o->n_samples] = (struct mp4build_sample){
			.size = x->size, .duration = clip_duration(s, t, j),
			.cts_offset = x->cts_offset, .keyframe = x->keyframe,
		};
		if (last && last->track == k && last->pos + last->len == x->offset) {
			last->n++;
			last->len += x->size;
		} else {
			if (array_grow(runs, cap_runs, *n_runs, sizeof(**runs)) < 0)
				return -ENOMEM;
			(*runs)[(*n_runs)++] = (struct run){ k, o->n_samples, 1, x->offset, x->size };
		}
		o->duration += o->samples[o->n_samples].duration;
		o->n_samples++;
	}
	return 0;
}

/* Lays a segment's runs out: the clip's mdat takes the segment's bytes from
 * the first run to the end of the last as one byte range, and each run is a
 * chunk at its place in it. The fragment boxes between the runs ride along
 * unreferenced (about 140 bytes a frame), so a clip holds one extent per
 * segment instead of one per frame (a frame is a fragment). */
static int lay_out(struct build *b, int slot, const struct run *runs, size_t n)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (size_t i = 0; i < n; i++) {
		lo = runs[i].pos < lo ? runs[i].pos : lo;
		hi = runs[i].pos + runs[i].len > hi ? runs[i].pos + runs[i].len : hi;
	}
	for (size_t i = 0; i < n; i++) {
		struct out_track *o = &b->tr[runs[i].track];

		if (array_grow(&o->chunks, &o->cap_chunks, o->n_chunks, sizeof(*o->chunks)) < 0)
			return -ENOMEM;
		o->chunks[o->n_chunks++] = (struct mp4build_chunk){
			.offset = b->payload + runs[i].pos - lo,
			.first_sample = runs[i].first, .n_samples = runs[i].n,
		};
	}
	if (array_grow(&b->ranges, &b->cap_ranges, b->n_ranges, sizeof(*b->ranges)) < 0)
		return -ENOMEM;
	b->ranges[b->n_ranges++] = (struct range){ slot, lo, hi - lo };
	b->payload += hi - lo;
	return 0;
}

/* Takes segment s's samples from video sample `from` until wall time end;
 * the audio that came in the same fragments goes along. Returns 1 when the
 * end was reached. */
static int take_segment(const struct clip_source *src, struct build *b, struct vfile *v,
			struct segment_ref *s, size_t from, int64_t start_us, int64_t end_us)
{
	const struct index_track *vt = &s->ix->tracks[s->vt];
	struct run *runs = NULL;
	size_t n_runs = 0, cap_runs = 0, to = from;
	uint64_t passed = 0;    /* clip time of the samples from `from` to `to` */
	int slot, ret, done = 0;

	while (to < vt->n_samples) {
		int64_t w = sample_wall(s, to);

		if (w >= end_us) {
			done = 1;
			break;
		}
		/* The frame playback starts with, in the clip's own time. */
		if (b->edit_video < 0 && w >= start_us)
			b->edit_video = b->tr[0].duration + passed + vt->samples[to].cts_offset;
		passed += clip_duration(s, s->vt, to);
		to++;
	}
	if (to == from)
		return done;
	slot = vfile_add_file(v, src->store, s->path, s->fd);
	s->fd = -1;     /* the vfile holds it now, or closed it */
	if (slot < 0)
		return slot;
	ret = take(b, s, s->vt, 0, from, to, &runs, &n_runs, &cap_runs);
	if (ret == 0 && s->at >= 0) {
		const struct index_track *at = &s->ix->tracks[s->at];
		uint32_t f0 = vt->samples[from].fragment, f1 = vt->samples[to - 1].fragment;
		size_t a0 = 0, a1;

		while (a0 < at->n_samples && at->samples[a0].fragment < f0)
			a0++;
		for (a1 = a0; a1 < at->n_samples && at->samples[a1].fragment <= f1; a1++)
			;
		ret = take(b, s, s->at, 1, a0, a1, &runs, &n_runs, &cap_runs);
	}
	if (ret == 0)
		ret = lay_out(b, slot, runs, n_runs);
	free(runs);
	return ret < 0 ? ret : done;
}

/* Pass 1: the keyframe at or before start (segment *i0, sample *j0), or the
 * first footage after start. Caller holds cache_lock. */
static int find_begin(const struct clip_source *src, struct segment_ref *segs, size_t n,
		      int64_t start_us, size_t *i0, size_t *j0)
{
	*i0 = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		struct segment_ref *s = &segs[i];
		const struct index_track *vt;

		int err = open_segment(src, s);

		if (is_fatal(err))
			return err;
		if (err < 0 || s->ix->tracks[s->vt].n_samples == 0) {
			log_debug(src->camera, "clip: %s left out (no usable index)", s->path);
			s->ix = NULL;
			continue;
		}
		vt = &s->ix->tracks[s->vt];
		if (sample_wall(s, 0) > start_us) {
			if (*i0 == SIZE_MAX) {
				*i0 = i;
				*j0 = 0;
			}
			return 0;
		}
		for (size_t j = 0; j < vt->n_samples && sample_wall(s, j) <= start_us; j++)
			if (vt->samples[j].keyframe) {
				*i0 = i;
				*j0 = j;
			}
	}
	return *i0 == SIZE_MAX ? -ENOENT : 0;
}

/* ftyp, moov and the mdat header, then every range: the whole clip. */
static int assemble(struct build *b, struct vfile *v)
{
	const struct index_track *vt = &b->ref[0];
	const struct index_track *at = b->has_audio ? &b->ref[1] : NULL;
	struct mp4build_track tr[2];
	int n_tr = 1;
	uint8_t ftyp[64];
	size_t f = mp4build_ftyp(ftyp, sizeof(ftyp));
	uint64_t dur = b->tr[0].duration - b->edit_video;

	tr[0] = (struct mp4build_track){
		.track_id = 1, .timescale = vt->timescale, .handler = vt->handler,
		.width = vt->width, .height = vt->height, .stsd = vt->stsd, .stsd_size = vt->stsd_size,
		.samples = b->tr[0].samples, .n_samples = b->tr[0].n_samples,
		.chunks = b->tr[0].chunks, .n_chunks = b->tr[0].n_chunks,
		.edit_media_time = b->edit_video, .edit_duration = dur,
	};
	if (at && b->tr[1].n_samples) {
		tr[n_tr++] = (struct mp4build_track){
			.track_id = 2, .timescale = at->timescale, .handler = at->handler,
			.stsd = at->stsd, .stsd_size = at->stsd_size,
			.samples = b->tr[1].samples, .n_samples = b->tr[1].n_samples,
			.chunks = b->tr[1].chunks, .n_chunks = b->tr[1].n_chunks,
			.edit_media_time = (int64_t)((uint64_t)b->edit_video * at->timescale / vt->timescale),
			.edit_duration = dur,
		};
	}
	size_t m = mp4build_moov(tr, n_tr, vt->timescale, NULL, 0);
	size_t h = b->payload + 8 > UINT32_MAX ? 16 : 8;

	if (m == 0)
		return -EINVAL;   /* the builder refused these tables */
	uint64_t base = f + m + h;
	uint8_t *head = malloc(base);

	if (!head)
		return -ENOMEM;
	for (int k = 0; k < 2; k++)
		for (size_t c = 0; c < b->tr[k].n_chunks; c++)
			b->tr[k].chunks[c].offset += base;
	memcpy(head, ftyp, f);
	mp4build_moov(tr, n_tr, vt->timescale, head + f, m);
	uint8_t *p = head + f + m;
	uint64_t mdat = b->payload + h;
	AV_WB32(p, h == 8 ? (uint32_t)mdat : 1);   /* 1: the size follows, in 64 bits */
	memcpy(p + 4, "mdat", 4);
	if (h == 16)
		AV_WB64(p + 8, mdat);
	int ret = vfile_add_owned(v, head, base);
	for (size_t i = 0; ret == 0 && i < b->n_ranges; i++)
		ret = vfile_add_range(v, b->ranges[i].slot, b->ranges[i].pos, b->ranges[i].len);
	return ret;
}

int clip_build(const struct clip_source *src, int64_t start_us, int64_t end_us,
	       struct vfile **out)
{
	struct segment_ref *segs = NULL;
	struct build b = { .edit_video = -1 };
	struct vfile *v = vfile_new();
	size_t n = 0, i0, j0;
	int ret;

	*out = NULL;
	if (!v)
		return -ENOMEM;
	if (end_us <= start_us) {
		vfile_unref(&v);
		return -ENOENT;
	}
	ret = list_segments(src, start_us, end_us, &segs, &n);
	if (ret < 0) {
		log_warning(src->camera, "cannot build a clip: %s", strerror(-ret));
		vfile_unref(&v);
		return ret;
	}
	pthread_mutex_lock(&cache_lock);
	build_began = cache_clock;
	ret = find_begin(src, segs, n, start_us, &i0, &j0);
	if (ret == 0)
		ret = keep_format(&b, &segs[i0]);
	if (ret < 0)
		goto out;
	for (size_t i = i0; i < n; i++) {
		struct segment_ref *s = &segs[i];

		if (!s->ix) {
			if (s->fd >= 0)
				continue;   /* find_begin found no index in it */
			ret = open_segment(src, s);
			if (is_fatal(ret))
				goto out;
			if (ret < 0)
				continue;
		}
		if (!same_format(&b, s)) {
			log_debug(src->camera, "clip: codec change at %s ends the clip", s->path);
			break;
		}
		ret = take_segment(src, &b, v, s, i == i0 ? j0 : 0, start_us, end_us);
		if (ret < 0)
			goto out;
		if (ret == 1)
			break;
	}
	ret = 0;
	if (b.tr[0].n_samples == 0 || b.edit_video < 0) {
		ret = -ENOENT;
		goto out;
	}
	ret = assemble(&b, v);
out:
	pthread_mutex_unlock(&cache_lock);
	if (is_fatal(ret))
		log_warning(src->camera, "cannot build a clip of %d segments: %s", (int)n,
			    strerror(-ret));
	for (size_t i = 0; i < n; i++)
		if (segs[i].fd >= 0)
			close(segs[i].fd);
	free(segs);
	for (int k = 0; k < 2; k++) {
		free(b.ref[k].stsd);
		free(b.tr[k].samples);
		free(b.tr[k].chunks);
	}
	free(b.ranges);
	if (ret < 0) {
		vfile_unref(&v);
	} else {
		vfile_close_fds(v);   /* opened again by the first open of the clip */
		*out = v;
	}
	return ret;
}
