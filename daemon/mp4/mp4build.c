/* mp4build.c - ftyp and moov of a progressive MP4 (ISO/IEC 14496-12) built
 * from sample tables; the sample data is laid out by the caller. */
#include "mp4/mp4build.h"

#include <string.h>

#include <libavutil/intreadwrite.h>

#include "mp4/mp4box.h"

#define FOURCC(s) MP4BOX_FOURCC((s)[0], (s)[1], (s)[2], (s)[3])
#define SIDX_SIZE 52

/* A big-endian writer. With p NULL it only counts, so the same code path
 * gives the size and the bytes and the two can never disagree. */
struct wr {
	uint8_t *p;
	size_t len;
};

static void put16(struct wr *w, uint16_t v)
{
	if (w->p)
		AV_WB16(w->p + w->len, v);
	w->len += 2;
}

static void put32(struct wr *w, uint32_t v)
{
	if (w->p)
		AV_WB32(w->p + w->len, v);
	w->len += 4;
}

static void put64(struct wr *w, uint64_t v)
{
	if (w->p)
		AV_WB64(w->p + w->len, v);
	w->len += 8;
}

/* 32 bits in version 0 boxes, 64 in version 1. */
static void put_v(struct wr *w, int version, uint64_t v)
{
	if (version)
		put64(w, v);
	else
		put32(w, v);
}

static void put_bytes(struct wr *w, const void *src, size_t n)
{
	if (w->p)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void put_zeros(struct wr *w, size_t n)
{
	if (w->p)
		memset(w->p + w->len, 0, n);
	w->len += n;
}

/* A slot for a 32-bit value known only later (a size or an entry count);
 * patch() fills it. */
static size_t reserve32(struct wr *w)
{
	size_t at = w->len;

	put32(w, 0);
	return at;
}

static void patch32(struct wr *w, size_t at, uint32_t v)
{
	if (w->p)
		AV_WB32(w->p + at, v);
}

static size_t box_begin(struct wr *w, const char *type)
{
	size_t at = reserve32(w);

	put32(w, FOURCC(type));
	return at;
}

static size_t fullbox_begin(struct wr *w, const char *type, int version, uint32_t flags)
{
	size_t at = box_begin(w, type);

	put32(w, (uint32_t)version << 24 | (flags & 0xffffff));
	return at;
}

/* mp4build_moov refuses anything over 4 GiB, so every size fits. */
static void box_end(struct wr *w, size_t at)
{
	patch32(w, at, (uint32_t)(w->len - at));
}

static void put_matrix(struct wr *w)
{
	static const uint32_t unity[9] = {
		0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000,
	};

	for (int i = 0; i < 9; i++)
		put32(w, unity[i]);
}

size_t mp4build_ftyp(uint8_t *out, size_t cap)
{
	static const char *const compatible[] = { "isom", "iso2", "avc1", "mp41" };
	struct wr w = { 0 };
	size_t at;

	/* Two passes, counting then writing, like the moov. */
	for (int pass = 0; pass < 2; pass++) {
		at = box_begin(&w, "ftyp");
		put32(&w, FOURCC("isom"));
		put32(&w, 512);
		for (size_t i = 0; i < sizeof(compatible) / sizeof(*compatible); i++)
			put32(&w, FOURCC(compatible[i]));
		box_end(&w, at);
		if (pass || !out || cap < w.len)
			break;
		w = (struct wr){ .p = out };
	}
	return w.len;
}

static bool needs_64(uint64_t v)
{
	return v > UINT32_MAX;
}

static uint64_t media_duration(const struct mp4build_track *t)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < t->n_samples; i++)
		sum += t->samples[i].duration;
	return sum;
}

static bool is_video(const struct mp4build_track *t)
{
	return t->handler == FOURCC("vide");
}

static bool is_sound(const struct mp4build_track *t)
{
	return t->handler == FOURCC("soun");
}

static void put_tkhd(struct wr *w, const struct mp4build_track *t)
{
	int v = needs_64(t->edit_duration);
	/* enabled | in movie */
	size_t at = fullbox_begin(w, "tkhd", v, 3);

	put_v(w, v, 0);                 /* creation time */
	put_v(w, v, 0);                 /* modification time */
	put32(w, t->track_id);
	put32(w, 0);                    /* reserved */
	put_v(w, v, t->edit_duration);
	put_zeros(w, 8);                /* reserved */
	put16(w, 0);                    /* layer */
	put16(w, 0);                    /* alternate group */
	put16(w, is_sound(t) ? 0x0100 : 0);
	put16(w, 0);                    /* reserved */
	put_matrix(w);
	put32(w, is_video(t) ? (uint32_t)t->width << 16 : 0);
	put32(w, is_video(t) ? (uint32_t)t->height << 16 : 0);
	box_end(w, at);
}

static void put_edts(struct wr *w, const struct mp4build_track *t)
{
	int v = needs_64(t->edit_duration) || t->edit_media_time < INT32_MIN ||
		t->edit_media_time > INT32_MAX;
	size_t edts = box_begin(w, "edts");
	size_t at = fullbox_begin(w, "elst", v, 0);

	put32(w, 1);
	put_v(w, v, t->edit_duration);
	put_v(w, v, (uint64_t)t->edit_media_time);
	put32(w, 0x00010000);           /* rate 1.0 */
	box_end(w, at);
	box_end(w, edts);
}

static void put_mdhd(struct wr *w, const struct mp4build_track *t, uint64_t duration)
{
	int v = needs_64(duration);
	size_t at = fullbox_begin(w, "mdhd", v, 0);

	put_v(w, v, 0);
	put_v(w, v, 0);
	put32(w, t->timescale);
	put_v(w, v, duration);
	/* 'und' as three 5-bit letters minus 0x60 */
	put16(w, ('u' - 0x60) << 10 | ('n' - 0x60) << 5 | ('d' - 0x60));
	put16(w, 0);
	box_end(w, at);
}

static void put_hdlr(struct wr *w, const struct mp4build_track *t)
{
	const char *name = is_video(t) ? "VideoHandler" : is_sound(t) ? "SoundHandler" : "";
	size_t at = fullbox_begin(w, "hdlr", 0, 0);

	put32(w, 0);                    /* pre_defined */
	put32(w, t->handler);
	put_zeros(w, 12);
	put_bytes(w, name, strlen(name) + 1);
	box_end(w, at);
}

static void put_media_header(struct wr *w, const struct mp4build_track *t)
{
	size_t at;

	if (is_video(t)) {
		at = fullbox_begin(w, "vmhd", 0, 1);
		put_zeros(w, 8);        /* graphicsmode, opcolor */
	} else if (is_sound(t)) {
		at = fullbox_begin(w, "smhd", 0, 0);
		put_zeros(w, 4);        /* balance, reserved */
	} else {
		at = fullbox_begin(w, "nmhd", 0, 0);
	}
	box_end(w, at);
}

static void put_dinf(struct wr *w)
{
	size_t dinf = box_begin(w, "dinf");
	size_t dref = fullbox_begin(w, "dref", 0, 0);
	size_t url;

	put32(w, 1);
	/* flag 1: the data is in this file */
	url = fullbox_begin(w, "url ", 0, 1);
	box_end(w, url);
	box_end(w, dref);
	box_end(w, dinf);
}

static void put_stts(struct wr *w, const struct mp4build_track *t)
{
	size_t at = fullbox_begin(w, "stts", 0, 0);
	size_t count = reserve32(w);
	uint32_t n = 0;

	for (size_t i = 0, j; i < t->n_samples; i = j) {
		for (j = i + 1; j < t->n_samples && t->samples[j].duration == t->samples[i].duration; j++)
			;
		put32(w, (uint32_t)(j - i));
		put32(w, t->samples[i].duration);
		n++;
	}
	patch32(w, count, n);
	box_end(w, at);
}

static void put_ctts(struct wr *w, const struct mp4build_track *t)
{
	bool any = false, negative = false;
	size_t at, count;
	uint32_t n = 0;

	for (size_t i = 0; i < t->n_samples; i++) {
		any |= t->samples[i].cts_offset != 0;
		negative |= t->samples[i].cts_offset < 0;
	}
	if (!any)
		return;
	/* Version 0 offsets are unsigned; same bits when none is negative. */
	at = fullbox_begin(w, "ctts", negative, 0);
	count = reserve32(w);
	for (size_t i = 0, j; i < t->n_samples; i = j) {
		for (j = i + 1; j < t->n_samples &&
		     t->samples[j].cts_offset == t->samples[i].cts_offset; j++)
			;
		put32(w, (uint32_t)(j - i));
		put32(w, (uint32_t)t->samples[i].cts_offset);
		n++;
	}
	patch32(w, count, n);
	box_end(w, at);
}

/* Without stss every sample is a sync sample: right for audio, and for
 * video only when all are keyframes. */
static void put_stss(struct wr *w, const struct mp4build_track *t)
{
	size_t at, count;
	uint32_t n = 0;
	size_t i;

	if (!is_video(t))
		return;
	for (i = 0; i < t->n_samples && t->samples[i].keyframe; i++)
		;
	if (i == t->n_samples)
		return;
	at = fullbox_begin(w, "stss", 0, 0);
	count = reserve32(w);
	for (i = 0; i < t->n_samples; i++) {
		if (t->samples[i].keyframe) {
			put32(w, (uint32_t)(i + 1));
			n++;
		}
	}
	patch32(w, count, n);
	box_end(w, at);
}

static void put_stsc(struct wr *w, const struct mp4build_track *t)
{
	size_t at = fullbox_begin(w, "stsc", 0, 0);
	size_t count = reserve32(w);
	uint32_t n = 0, chunk_no = 0, last = 0;

	for (size_t i = 0; i < t->n_chunks; i++) {
		uint32_t k = t->chunks[i].n_samples;

		if (!k)
			continue;       /* not in co64 either */
		chunk_no++;
		if (n && k == last)
			continue;
		put32(w, chunk_no);
		put32(w, k);
		put32(w, 1);            /* sample description index */
		last = k;
		n++;
	}
	patch32(w, count, n);
	box_end(w, at);
}

static void put_stsz(struct wr *w, const struct mp4build_track *t)
{
	size_t at = fullbox_begin(w, "stsz", 0, 0);
	size_t i;

	for (i = 1; i < t->n_samples && t->samples[i].size == t->samples[0].size; i++)
		;
	if (t->n_samples && i == t->n_samples) {
		put32(w, t->samples[0].size);
		put32(w, (uint32_t)t->n_samples);
	} else {
		put32(w, 0);
		put32(w, (uint32_t)t->n_samples);
		for (i = 0; i < t->n_samples; i++)
			put32(w, t->samples[i].size);
	}
	box_end(w, at);
}

/* Always 64-bit, so the moov's size never depends on the offsets. */
static void put_co64(struct wr *w, const struct mp4build_track *t)
{
	size_t at = fullbox_begin(w, "co64", 0, 0);
	size_t count = reserve32(w);
	uint32_t n = 0;

	for (size_t i = 0; i < t->n_chunks; i++) {
		if (!t->chunks[i].n_samples)
			continue;
		put64(w, t->chunks[i].offset);
		n++;
	}
	patch32(w, count, n);
	box_end(w, at);
}

static void put_trak(struct wr *w, const struct mp4build_track *t)
{
	size_t trak = box_begin(w, "trak");
	size_t mdia, minf, stbl;

	put_tkhd(w, t);
	put_edts(w, t);
	mdia = box_begin(w, "mdia");
	put_mdhd(w, t, media_duration(t));
	put_hdlr(w, t);
	minf = box_begin(w, "minf");
	put_media_header(w, t);
	put_dinf(w);
	stbl = box_begin(w, "stbl");
	put_bytes(w, t->stsd, t->stsd_size);
	put_stts(w, t);
	put_ctts(w, t);
	put_stss(w, t);
	put_stsc(w, t);
	put_stsz(w, t);
	put_co64(w, t);
	box_end(w, stbl);
	box_end(w, minf);
	box_end(w, mdia);
	box_end(w, trak);
}

static void put_mvhd(struct wr *w, const struct mp4build_track *tracks, int n_tracks,
		     uint32_t timescale)
{
	uint64_t duration = 0;
	uint32_t next_id = 1;
	size_t at;
	int v;

	for (int i = 0; i < n_tracks; i++) {
		if (tracks[i].edit_duration > duration)
			duration = tracks[i].edit_duration;
		if (tracks[i].track_id >= next_id)
			next_id = tracks[i].track_id + 1;
	}
	v = needs_64(duration);
	at = fullbox_begin(w, "mvhd", v, 0);
	put_v(w, v, 0);
	put_v(w, v, 0);
	put32(w, timescale);
	put_v(w, v, duration);
	put32(w, 0x00010000);           /* rate 1.0 */
	put16(w, 0x0100);               /* volume 1.0 */
	put_zeros(w, 10);               /* reserved */
	put_matrix(w);
	put_zeros(w, 24);               /* pre_defined */
	put32(w, next_id);
	box_end(w, at);
}

/* The chunks must take the samples in order, each chunk starting where the
 * previous one ended, and cover them all: that is all stsc can say. The
 * stsd must be one whole stsd box. */
static bool track_ok(const struct mp4build_track *t)
{
	uint64_t next = 0;

	if (!t->stsd || t->stsd_size < 16 || AV_RB32(t->stsd) != t->stsd_size ||
	    AV_RB32(t->stsd + 4) != FOURCC("stsd"))
		return false;
	if (t->n_samples > UINT32_MAX || (t->n_samples && !t->samples) ||
	    (t->n_chunks && !t->chunks))
		return false;
	for (size_t i = 0; i < t->n_chunks; i++) {
		if (t->chunks[i].n_samples && t->chunks[i].first_sample != next)
			return false;
		next += t->chunks[i].n_samples;
	}
	return next == t->n_samples;
}

/* Returns 0 (and writes nothing) when a track is malformed (see track_ok)
 * or the moov would not fit a 32-bit box size; otherwise the size, having
 * written the box only if cap holds all of it. Chunks with no samples are
 * left out. */
size_t mp4build_moov(const struct mp4build_track *tracks, int n_tracks,
		     uint32_t movie_timescale, uint8_t *out, size_t cap)
{
	struct wr w = { 0 };
	size_t at;

	if (n_tracks < 0 || (n_tracks && !tracks))
		return 0;
	for (int i = 0; i < n_tracks; i++)
		if (!track_ok(&tracks[i]))
			return 0;
	for (int pass = 0; pass < 2; pass++) {
		at = box_begin(&w, "moov");
		put_mvhd(&w, tracks, n_tracks, movie_timescale);
		for (int i = 0; i < n_tracks; i++)
			put_trak(&w, &tracks[i]);
		box_end(&w, at);
		if (w.len > UINT32_MAX)
			return 0;
		if (pass || !out || cap < w.len)
			break;
		w = (struct wr){ .p = out };
	}
	return w.len;
}

size_t mp4build_live_index(uint8_t out[MP4BUILD_LIVE_INDEX_SIZE], uint32_t track_id, uint64_t at,
			   uint64_t file_size)
{
	struct wr w = { .p = out };
	size_t box = fullbox_begin(&w, "sidx", 1, 0);

	put32(&w, track_id);
	put32(&w, 1000);                      /* timescale: nothing is timed */
	put64(&w, 0);                         /* earliest presentation time */
	/* first_offset counts from the sidx's end: the one reference lies
	 * at the file's end, so the index reaches it. */
	put64(&w, file_size - (at + SIDX_SIZE));
	put16(&w, 0);                         /* reserved */
	put16(&w, 1);                         /* reference count */
	put32(&w, 0);                         /* media, 0 bytes */
	put32(&w, 0);                         /* subsegment duration */
	put32(&w, 0);                         /* SAP: none claimed */
	box_end(&w, box);
	/* A udta whose one child claims 4 bytes, less than a box header:
	 * demuxers stop reading the udta there and go on after it; TagLib
	 * takes the file for damaged and stops. */
	box = box_begin(&w, "udta");
	put32(&w, 4);
	put_bytes(&w, "free", 4);
	box_end(&w, box);
	/* An empty REDA box (RED cameras' files have one): demuxers skip it
	 * as unknown; MediaInfo, which would otherwise walk every box to the
	 * end, reports what it has read when it meets one. */
	box = box_begin(&w, "REDA");
	box_end(&w, box);
	return w.len;
}
