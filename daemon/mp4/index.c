/* index.c - a segment's sample index read back from its boxes: tracks from the
 * moov, samples from every whole prft+moof+mdat fragment, a torn tail left out. */
#include "mp4/index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/intreadwrite.h>

#include "util/array.h"
#include "mp4/mp4box.h"

/* Boxes are read through a window of the file this big, refilled with one
 * pread where a needed range falls outside it: a segment's thousands of small
 * prft/moof/mdat headers and bodies cost a handful of reads. It never grows;
 * a body larger than it goes to a buffer of its own. */
#define WINDOW_SIZE (256u << 10)
/* Past a large mdat, a refill reads only this much: enough for the next
 * prft, moof and mdat header, not the next frame's sample data (at 1080p a
 * full window per fragment would read the file many times over). */
#define SMALL_AHEAD (1u << 10)
#define LARGE_MDAT (16u << 10)

/* A camfs moov or moof is a few hundred bytes; anything near this is not ours,
 * and the cap keeps a lying header from costing a huge allocation. */
#define BOX_MAX (16u << 20)
#define NTP_UNIX_OFFSET 2208988800u   /* seconds from 1900 to 1970 */

#define TFHD_BASE_DATA_OFFSET   0x000001
#define TFHD_SAMPLE_DESC_INDEX  0x000002
#define TFHD_DEFAULT_DURATION   0x000008
#define TFHD_DEFAULT_SIZE       0x000010
#define TFHD_DEFAULT_FLAGS      0x000020
#define TFHD_DEFAULT_BASE_MOOF  0x020000

#define TRUN_DATA_OFFSET        0x000001
#define TRUN_FIRST_SAMPLE_FLAGS 0x000004
#define TRUN_DURATION           0x000100
#define TRUN_SIZE               0x000200
#define TRUN_FLAGS              0x000400
#define TRUN_CTS_OFFSET         0x000800

#define SAMPLE_IS_NON_SYNC      0x00010000

/* A bounds-checked big-endian reader over bytes in memory. Reading past the
 * end marks it bad and yields zeros, so a parser checks once per box. */
struct cursor {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static const uint8_t *take(struct cursor *c, size_t n)
{
	const uint8_t *p = c->p;

	if (c->bad || c->left < n) {
		c->bad = true;
		c->left = 0;
		return NULL;
	}
	c->p += n;
	c->left -= n;
	return p;
}

/* The next n (1, 3, 4 or 8) bytes of c as a big-endian number; 0 past the end. */
static uint64_t get_be(struct cursor *c, size_t n)
{
	const uint8_t *p = take(c, n);

	if (!p)
		return 0;
	switch (n) {
	case 1: return AV_RB8(p);
	case 3: return AV_RB24(p);
	case 4: return AV_RB32(p);
	default: return AV_RB64(p);
	}
}

static uint8_t get_u8(struct cursor *c) { return (uint8_t)get_be(c, 1); }
static uint32_t get_u24(struct cursor *c) { return (uint32_t)get_be(c, 3); }
static uint32_t get_u32(struct cursor *c) { return (uint32_t)get_be(c, 4); }
static uint64_t get_u64(struct cursor *c) { return get_be(c, 8); }

static void skip(struct cursor *c, size_t n)
{
	take(c, n);
}

/* The next child box in c: its type and a cursor over its body. 1: a box,
 * 0: c is used up, -EBADMSG: a header that does not fit its parent. */
static int next_box(struct cursor *c, uint32_t *type, struct cursor *body)
{
	uint64_t size;
	size_t hdr = 8;

	if (c->left == 0 && !c->bad)
		return 0;
	size = get_u32(c);
	*type = get_u32(c);
	if (size == 1) {
		size = get_u64(c);
		hdr = 16;
	} else if (size == 0) {
		size = c->left + hdr;   /* to the end of the parent */
	}
	if (c->bad || size < hdr || size - hdr > c->left)
		return -EBADMSG;
	body->p = take(c, size - hdr);
	body->left = size - hdr;
	body->bad = false;
	return 1;
}

/* A full box's version; its flags into *flags when asked. */
static uint8_t full_box(struct cursor *c, uint32_t *flags)
{
	uint8_t version = get_u8(c);
	uint32_t f = get_u24(c);

	if (flags)
		*flags = f;
	return version;
}

/* The first child of type in c (c itself left untouched). */
static bool find_box(struct cursor c, uint32_t type, struct cursor *body)
{
	uint32_t t;

	while (next_box(&c, &t, body) > 0)
		if (t == type)
			return true;
	return false;
}


/* What index_read keeps besides the index itself. */
struct reader {
	int fd;
	uint64_t file_size;
	struct index *ix;
	uint8_t *win;            /* WINDOW_SIZE bytes of the file from win_off */
	size_t ahead;            /* how much a refill reads: see SMALL_AHEAD */
	uint64_t win_off;
	size_t win_len;          /* how many of them are valid */
	uint8_t *buf;            /* a box body too big for the window */
	size_t buf_cap;
	size_t samples_cap[INDEX_MAX_TRACKS];
	size_t fragments_cap;
	struct {                 /* mvex/trex, by track */
		uint32_t duration, size, flags;
	} trex[INDEX_MAX_TRACKS];
	uint64_t next_dts[INDEX_MAX_TRACKS];   /* for a traf without tfdt */
	bool have_prft;          /* one seen since the last moof */
	uint64_t prft_offset;
	struct index_fragment prft;
};

/* [offset, offset + len) of the file, len <= WINDOW_SIZE, in the window:
 * *p points at it (valid until the next call). Errors as read_full's. */
static int window_get(struct reader *r, uint64_t offset, size_t len, const uint8_t **p)
{
	size_t want, got = 0;

	if (offset >= r->win_off && offset - r->win_off <= r->win_len &&
	    len <= r->win_len - (offset - r->win_off)) {
		*p = r->win + (offset - r->win_off);
		return 0;
	}
	if (!r->win && !(r->win = malloc(WINDOW_SIZE)))
		return -ENOMEM;
	/* As much as the window holds from offset on, short of file_size (a
	 * file that shrank under us gives less: only the part asked for must
	 * be there). */
	want = r->ahead ? r->ahead : WINDOW_SIZE;
	if (r->file_size > offset && r->file_size - offset < want)
		want = (size_t)(r->file_size - offset);
	if (want < len)
		want = len;
	r->win_off = offset;
	r->win_len = 0;
	while (got < want) {
		ssize_t n = pread(r->fd, r->win + got, want - got, (off_t)(offset + got));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (got >= len)
				break;
			/* An error beyond the range asked for is not this
			 * read's: retry exactly what it needs, as before. */
			if (want > len) {
				want = len;
				continue;
			}
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	r->win_len = got;
	if (got < len)
		return -EBADMSG;   /* shorter than file_size said */
	*p = r->win;
	return 0;
}

static int fetch_window(void *opaque, uint64_t offset, size_t len, const uint8_t **p)
{
	return window_get(opaque, offset, len, p);
}

/* The header of the box at offset, as mp4box_read reads it, from the window. */
static int read_box(struct reader *r, uint64_t offset, struct mp4box *box)
{
	return mp4box_read_from(fetch_window, r, offset, r->file_size, box);
}

/* The body of box, with a cursor over it: in the window, or read into
 * r->buf when it is bigger. Valid until the next read. */
static int load_body(struct reader *r, const struct mp4box *box, struct cursor *c)
{
	uint64_t len = box->size - box->header_size;
	const uint8_t *p;
	int ret;

	if (len > BOX_MAX)
		return -EBADMSG;
	if (len <= WINDOW_SIZE) {
		ret = window_get(r, box->offset + box->header_size, (size_t)len, &p);
		if (ret < 0)
			return ret;
		*c = (struct cursor){ .p = p, .left = len };
		return 0;
	}
	if (len > r->buf_cap) {
		uint8_t *grown = realloc(r->buf, len);

		if (!grown)
			return -ENOMEM;
		r->buf = grown;
		r->buf_cap = len;
	}
	ret = mp4box_read_full(r->fd, box->offset + box->header_size, r->buf, len);
	if (ret < 0)
		return ret;
	*c = (struct cursor){ .p = r->buf, .left = len };
	return 0;
}

static int track_by_id(const struct index *ix, uint32_t track_id)
{
	for (int t = 0; t < ix->n_tracks; t++)
		if (ix->tracks[t].track_id == track_id)
			return t;
	return -1;
}

static int parse_trak(struct index *ix, struct cursor trak)
{
	struct cursor tkhd, mdia, mdhd, hdlr, minf, stbl, stsd;
	struct index_track *tr;
	uint8_t version;

	if (ix->n_tracks == INDEX_MAX_TRACKS)
		return -EBADMSG;
	if (!find_box(trak, MP4BOX_FOURCC('t', 'k', 'h', 'd'), &tkhd) ||
	    !find_box(trak, MP4BOX_FOURCC('m', 'd', 'i', 'a'), &mdia) ||
	    !find_box(mdia, MP4BOX_FOURCC('m', 'd', 'h', 'd'), &mdhd) ||
	    !find_box(mdia, MP4BOX_FOURCC('h', 'd', 'l', 'r'), &hdlr) ||
	    !find_box(mdia, MP4BOX_FOURCC('m', 'i', 'n', 'f'), &minf) ||
	    !find_box(minf, MP4BOX_FOURCC('s', 't', 'b', 'l'), &stbl) ||
	    !find_box(stbl, MP4BOX_FOURCC('s', 't', 's', 'd'), &stsd))
		return -EBADMSG;
	tr = &ix->tracks[ix->n_tracks];

	/* tkhd: times, track_ID, then reserved, duration, 52 bytes of layer,
	 * volume and matrix before the 16.16 width and height. */
	version = full_box(&tkhd, NULL);
	skip(&tkhd, version == 1 ? 16 : 8);
	tr->track_id = get_u32(&tkhd);
	skip(&tkhd, 4 + (version == 1 ? 8 : 4) + 8 + 8 + 36);
	tr->width = (uint16_t)(get_u32(&tkhd) >> 16);
	tr->height = (uint16_t)(get_u32(&tkhd) >> 16);

	version = full_box(&mdhd, NULL);
	skip(&mdhd, version == 1 ? 16 : 8);
	tr->timescale = get_u32(&mdhd);

	full_box(&hdlr, NULL);
	skip(&hdlr, 4);
	tr->handler = get_u32(&hdlr);

	if (tkhd.bad || mdhd.bad || hdlr.bad || tr->timescale == 0 || tr->track_id == 0 ||
	    track_by_id(ix, tr->track_id) >= 0)
		return -EBADMSG;

	/* The whole box, with an 8-byte header whatever size form it came in. */
	tr->stsd_size = stsd.left + 8;
	tr->stsd = malloc(tr->stsd_size);
	if (!tr->stsd)
		return -ENOMEM;
	AV_WB32(tr->stsd, (uint32_t)tr->stsd_size);
	AV_WB32(tr->stsd + 4, MP4BOX_FOURCC('s', 't', 's', 'd'));
	memcpy(tr->stsd + 8, stsd.p, stsd.left);
	ix->n_tracks++;
	return 0;
}

static int parse_moov(struct reader *r, struct cursor moov)
{
	struct cursor c = moov, body, mvex;
	uint32_t type;
	int ret;

	while ((ret = next_box(&c, &type, &body)) > 0) {
		if (type == MP4BOX_FOURCC('t', 'r', 'a', 'k') && (ret = parse_trak(r->ix, body)) < 0)
			return ret;
	}
	if (ret < 0 || r->ix->n_tracks == 0)
		return -EBADMSG;

	if (!find_box(moov, MP4BOX_FOURCC('m', 'v', 'e', 'x'), &mvex))
		return 0;
	while ((ret = next_box(&mvex, &type, &body)) > 0) {
		int t;

		if (type != MP4BOX_FOURCC('t', 'r', 'e', 'x'))
			continue;
		full_box(&body, NULL);
		t = track_by_id(r->ix, get_u32(&body));
		skip(&body, 4);   /* default_sample_description_index */
		if (t >= 0) {
			r->trex[t].duration = get_u32(&body);
			r->trex[t].size = get_u32(&body);
			r->trex[t].flags = get_u32(&body);
		}
		if (body.bad)
			return -EBADMSG;
	}
	return ret < 0 ? -EBADMSG : 0;
}

static int parse_prft(struct reader *r, const struct mp4box *box)
{
	struct index_fragment p = { 0 };
	struct cursor c;
	uint64_t ntp, secs;
	uint8_t version;
	int ret = load_body(r, box, &c);

	if (ret < 0)
		return ret;
	version = full_box(&c, NULL);
	p.prft_track_id = get_u32(&c);
	ntp = get_u64(&c);
	p.prft_media_time = version == 0 ? get_u32(&c) : get_u64(&c);
	if (c.bad || track_by_id(r->ix, p.prft_track_id) < 0)
		return -EBADMSG;
	/* NTP: seconds since 1900 above, a binary fraction below, rounded to
	 * the nearest µs (writers floor µs into the fraction, so flooring back
	 * would lose one). A clock before 1970 is no clock at all. */
	secs = ntp >> 32;
	r->have_prft = secs > NTP_UNIX_OFFSET;
	if (!r->have_prft)
		return 0;
	p.wall_us = (int64_t)(secs - NTP_UNIX_OFFSET) * 1000000 +
		    (int64_t)(((ntp & 0xffffffffu) * 1000000 + (1u << 31)) >> 32);
	r->prft = p;
	r->prft_offset = box->offset;
	return 0;
}

/* Where the samples of this traf may lie: within the fragment's mdat. */
struct fragment_span {
	uint64_t moof, data_start, data_end;
	uint64_t prev_traf_end;   /* base for a traf with no offset of its own */
};

static int parse_trun(struct reader *r, int t, struct cursor trun, const uint32_t defaults[3],
		      uint64_t base, uint64_t *next_data, const struct fragment_span *span)
{
	struct index_track *tr = &r->ix->tracks[t];
	uint32_t flags, count, first_flags = 0, entry = 0;
	uint64_t offset = *next_data;

	full_box(&trun, &flags);
	count = get_u32(&trun);
	if (flags & TRUN_DATA_OFFSET)
		offset = base + (uint64_t)(int64_t)(int32_t)get_u32(&trun);
	if (flags & TRUN_FIRST_SAMPLE_FLAGS)
		first_flags = get_u32(&trun);
	for (uint32_t bit = TRUN_DURATION; bit <= TRUN_CTS_OFFSET; bit <<= 1)
		entry += flags & bit ? 4 : 0;
	/* A count the box or the mdat cannot hold is a lie, not an allocation. */
	if (trun.bad || (entry && count > trun.left / entry) ||
	    count > span->data_end - span->data_start)
		return -EBADMSG;

	for (uint32_t i = 0; i < count; i++) {
		struct index_sample *s;
		uint32_t sflags;

		if (array_grow(&tr->samples, &r->samples_cap[t], tr->n_samples, sizeof(*s)) < 0)
			return -ENOMEM;
		s = &tr->samples[tr->n_samples];
		s->duration = flags & TRUN_DURATION ? get_u32(&trun) : defaults[0];
		s->size = flags & TRUN_SIZE ? get_u32(&trun) : defaults[1];
		sflags = flags & TRUN_FLAGS ? get_u32(&trun) :
			 i == 0 && (flags & TRUN_FIRST_SAMPLE_FLAGS) ? first_flags : defaults[2];
		/* Signed in version 1; version 0 says unsigned, but muxers put
		 * negative values there too, and demuxers read them signed. */
		s->cts_offset = flags & TRUN_CTS_OFFSET ? (int32_t)get_u32(&trun) : 0;
		s->keyframe = !(sflags & SAMPLE_IS_NON_SYNC);
		s->offset = offset;
		s->dts = r->next_dts[t];
		s->fragment = (uint32_t)r->ix->n_fragments;
		if (trun.bad || offset < span->data_start || offset > span->data_end ||
		    s->size > span->data_end - offset)
			return -EBADMSG;
		offset += s->size;
		r->next_dts[t] += s->duration;
		tr->n_samples++;
	}
	*next_data = offset;
	return 0;
}

static int parse_traf(struct reader *r, struct cursor traf, struct fragment_span *span)
{
	struct cursor tfhd, body;
	uint32_t flags, type, defaults[3];
	uint64_t base, next_data;
	int t, ret;

	if (!find_box(traf, MP4BOX_FOURCC('t', 'f', 'h', 'd'), &tfhd))
		return -EBADMSG;
	full_box(&tfhd, &flags);
	t = track_by_id(r->ix, get_u32(&tfhd));
	if (t < 0)
		return -EBADMSG;
	/* Base data offset, by ISO 14496-12 8.8.7.1: explicit, else the moof
	 * (default-base-is-moof, which camfs writes), else the moof for the
	 * first traf and the end of the previous traf's data after that. */
	if (flags & TFHD_BASE_DATA_OFFSET)
		base = get_u64(&tfhd);
	else if (flags & TFHD_DEFAULT_BASE_MOOF)
		base = span->moof;
	else
		base = span->prev_traf_end;
	if (flags & TFHD_SAMPLE_DESC_INDEX)
		skip(&tfhd, 4);
	defaults[0] = flags & TFHD_DEFAULT_DURATION ? get_u32(&tfhd) : r->trex[t].duration;
	defaults[1] = flags & TFHD_DEFAULT_SIZE ? get_u32(&tfhd) : r->trex[t].size;
	defaults[2] = flags & TFHD_DEFAULT_FLAGS ? get_u32(&tfhd) : r->trex[t].flags;
	if (tfhd.bad)
		return -EBADMSG;

	if (find_box(traf, MP4BOX_FOURCC('t', 'f', 'd', 't'), &body)) {
		uint8_t version = full_box(&body, NULL);

		r->next_dts[t] = version == 1 ? get_u64(&body) : get_u32(&body);
		if (body.bad)
			return -EBADMSG;
	}

	/* A trun without data_offset follows the previous run; the first one
	 * starts at the base. */
	next_data = base;
	while ((ret = next_box(&traf, &type, &body)) > 0) {
		if (type != MP4BOX_FOURCC('t', 'r', 'u', 'n'))
			continue;
		ret = parse_trun(r, t, body, defaults, base, &next_data, span);
		if (ret < 0)
			return ret;
	}
	if (ret < 0)
		return -EBADMSG;
	span->prev_traf_end = next_data;
	return 0;
}

/* One whole fragment: moof, then mdat (both known to lie in the file). */
static int parse_fragment(struct reader *r, const struct mp4box *moof, const struct mp4box *mdat)
{
	struct fragment_span span = {
		.moof = moof->offset, .prev_traf_end = moof->offset,
		.data_start = mdat->offset + mdat->header_size, .data_end = mdat->offset + mdat->size,
	};
	struct index *ix = r->ix;
	struct index_fragment *frag;
	struct cursor c, body;
	uint32_t type;
	size_t before[INDEX_MAX_TRACKS];
	int ret = load_body(r, moof, &c), ref;

	if (ret < 0)
		return ret;
	for (int t = 0; t < ix->n_tracks; t++)
		before[t] = ix->tracks[t].n_samples;
	if (!find_box(c, MP4BOX_FOURCC('m', 'f', 'h', 'd'), &body))
		return -EBADMSG;
	while ((ret = next_box(&c, &type, &body)) > 0) {
		if (type == MP4BOX_FOURCC('t', 'r', 'a', 'f') && (ret = parse_traf(r, body, &span)) < 0)
			return ret;
	}
	if (ret < 0)
		return -EBADMSG;

	if (array_grow(&ix->fragments, &r->fragments_cap, ix->n_fragments, sizeof(*frag)) < 0)
		return -ENOMEM;
	frag = &ix->fragments[ix->n_fragments++];
	*frag = r->have_prft ? r->prft : (struct index_fragment){ 0 };
	/* prft's media time is the packet's own timestamp, which moves when
	 * the camera's clock is stepped, while the muxer keeps tfdt going on:
	 * the wall clock is pinned to the fragment's first sample as this file
	 * times it, so a step does not shift the wall time of what follows. */
	ref = r->have_prft ? track_by_id(ix, frag->prft_track_id) : -1;
	if (ref >= 0 && ix->tracks[ref].n_samples > before[ref]) {
		const struct index_sample *first = &ix->tracks[ref].samples[before[ref]];
		int64_t pts = (int64_t)first->dts + first->cts_offset;

		frag->prft_media_time = pts > 0 ? (uint64_t)pts : 0;
	}
	/* The fragment starts at its prft, so consecutive fragments tile the
	 * file from the end of the moov to indexed_size. */
	frag->moof_offset = r->have_prft ? r->prft_offset : moof->offset;
	r->have_prft = false;
	ix->indexed_size = mdat->offset + mdat->size;
	return 0;
}

static int read_boxes(struct reader *r)
{
	struct mp4box box, mdat;
	struct cursor c;
	uint64_t off;
	int ret;

	ret = read_box(r, 0, &box);
	if (ret < 0)
		return ret == -ENODATA ? -EBADMSG : ret;
	if (box.type != MP4BOX_FOURCC('f', 't', 'y', 'p'))
		return -EBADMSG;
	ret = read_box(r, box.size, &box);
	if (ret < 0)
		return ret == -ENODATA ? -EBADMSG : ret;
	if (box.type != MP4BOX_FOURCC('m', 'o', 'o', 'v'))
		return -EBADMSG;
	if ((ret = load_body(r, &box, &c)) < 0 || (ret = parse_moov(r, c)) < 0)
		return ret;
	off = r->ix->indexed_size = box.offset + box.size;

	/* From here on, a box cut short is the torn tail of a file still being
	 * written (or a crash): the index ends before it. */
	for (;; off = box.offset + box.size) {
		ret = read_box(r, off, &box);
		if (ret == -ENODATA || ret == -EBADMSG)
			return 0;
		if (ret < 0)
			return ret;
		if (box.type == MP4BOX_FOURCC('p', 'r', 'f', 't')) {
			if ((ret = parse_prft(r, &box)) < 0)
				return ret;
		} else if (box.type == MP4BOX_FOURCC('m', 'o', 'o', 'f')) {
			ret = read_box(r, box.offset + box.size, &mdat);
			if (ret == -ENODATA || ret == -EBADMSG ||
			    (ret == 0 && mdat.type != MP4BOX_FOURCC('m', 'd', 'a', 't')))
				return 0;
			if (ret < 0)
				return ret;
			if ((ret = parse_fragment(r, &box, &mdat)) < 0)
				return ret;
			/* Small frames: many fragments per refill. Large ones:
			 * read only the boxes. */
			r->ahead = mdat.size > LARGE_MDAT ? SMALL_AHEAD : WINDOW_SIZE;
			box = mdat;
		}
	}
}

/* Gives back the room the arrays grew into: indexes are kept (clips cache
 * hundreds), and doubling leaves a quarter of it empty on average. */
static void fit(struct index *ix)
{
	void *p;

	for (int t = 0; t < ix->n_tracks; t++)
		if (ix->tracks[t].n_samples &&
		    (p = realloc(ix->tracks[t].samples, ix->tracks[t].n_samples * sizeof(struct index_sample))))
			ix->tracks[t].samples = p;
	if (ix->n_fragments &&
	    (p = realloc(ix->fragments, ix->n_fragments * sizeof(*ix->fragments))))
		ix->fragments = p;
}

int index_read(int fd, uint64_t file_size, struct index *out)
{
	struct reader r = { .fd = fd, .file_size = file_size, .ix = out };
	int ret;

	memset(out, 0, sizeof(*out));
	ret = read_boxes(&r);
	free(r.win);
	free(r.buf);
	if (ret < 0)
		index_clear(out);
	else
		fit(out);
	return ret;
}

void index_clear(struct index *ix)
{
	if (!ix)
		return;
	for (int t = 0; t < INDEX_MAX_TRACKS; t++) {
		free(ix->tracks[t].stsd);
		free(ix->tracks[t].samples);
	}
	free(ix->fragments);
	memset(ix, 0, sizeof(*ix));
}

int index_video_track(const struct index *ix)
{
	for (int t = 0; t < ix->n_tracks; t++)
		if (ix->tracks[t].handler == MP4BOX_FOURCC('v', 'i', 'd', 'e'))
			return t;
	return -1;
}

/* The fragment holding track t's last sample at or before dts (the first
 * fragment if dts comes before them all). */
static size_t fragment_at(const struct index *ix, int t, uint64_t dts)
{
	const struct index_track *tr = &ix->tracks[t];
	size_t lo = 0, hi = tr->n_samples;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tr->samples[mid].dts <= dts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? tr->samples[lo - 1].fragment : 0;
}

int64_t index_wall_us(const struct index *ix, int t, uint64_t dts)
{
	const struct index_fragment *f = NULL;
	size_t k;
	__int128 num, den, us;
	int ref;

	if (t < 0 || t >= ix->n_tracks || ix->n_fragments == 0)
		return 0;
	/* The nearest prft at or before; failing that the first after, as
	 * the wall clock runs at media speed either way. */
	k = fragment_at(ix, t, dts);
	for (size_t i = k + 1; i-- > 0 && !f;)
		if (ix->fragments[i].wall_us)
			f = &ix->fragments[i];
	for (size_t i = k + 1; i < ix->n_fragments && !f; i++)
		if (ix->fragments[i].wall_us)
			f = &ix->fragments[i];
	if (!f || (ref = track_by_id(ix, f->prft_track_id)) < 0)
		return 0;

	/* prft's media time is in its reference track's timescale, which
	 * need not be t's: compare both in seconds, exactly. */
	num = (__int128)dts * ix->tracks[ref].timescale -
	      (__int128)f->prft_media_time * ix->tracks[t].timescale;
	den = (__int128)ix->tracks[t].timescale * ix->tracks[ref].timescale;
	us = f->wall_us + num * 1000000 / den;
	if (us > INT64_MAX || us < INT64_MIN)
		return 0;
	return (int64_t)us;
}
