/* rebase.c - rewrites the decode times of a fragment's head (prft, moof)
 * in a copy, so the shared fragment bytes (also the live stream's) stay as
 * they are. Reads boxes in memory: the head of a fragment is small. */
#include "mp4/rebase.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <libavutil/intreadwrite.h>

#include "mp4/mp4box.h"

/* The box at the start of [p, p + n): its type, whole size and header
 * size; false if it is cut short or malformed. */
static bool box_at(const uint8_t *p, size_t n, uint32_t *type, size_t *size, size_t *hdr)
{
	uint64_t s;

	if (n < 8)
		return false;
	s = AV_RB32(p);
	*type = AV_RB32(p + 4);
	*hdr = 8;
	if (s == 1) {
		if (n < 16)
			return false;
		s = AV_RB64(p + 8);
		*hdr = 16;
	} else if (s == 0) {
		s = n;
	}
	if (s < *hdr || s > n)
		return false;
	*size = (size_t)s;
	return true;
}

/* The body of the first box of type among the boxes of [p, p + n), or
 * NULL; *body_n its length. */
static uint8_t *find(uint8_t *p, size_t n, uint32_t type, size_t *body_n)
{
	uint32_t t;
	size_t size, hdr;

	while (box_at(p, n, &t, &size, &hdr)) {
		if (t == type) {
			*body_n = size - hdr;
			return p + hdr;
		}
		p += size;
		n -= size;
	}
	return NULL;
}

static int track_index(const struct rebase *rb, uint32_t id)
{
	for (int t = 0; t < rb->n_tracks; t++)
		if (rb->track_id[t] == id)
			return t;
	return -1;
}

/* Calls fn for every traf of a moof body with its track and its tfdt
 * (version and where the time is); false if a traf is malformed. */
typedef void traf_fn(struct rebase *rb, int t, uint8_t *time, bool wide);

static bool each_traf(struct rebase *rb, uint8_t *moof, size_t n, traf_fn *fn)
{
	uint32_t type;
	size_t size, hdr, tn, fn_n;

	while (box_at(moof, n, &type, &size, &hdr)) {
		if (type == MP4BOX_FOURCC('t', 'r', 'a', 'f')) {
			uint8_t *tfhd = find(moof + hdr, size - hdr, MP4BOX_FOURCC('t', 'f', 'h', 'd'), &tn);
			uint8_t *tfdt = find(moof + hdr, size - hdr, MP4BOX_FOURCC('t', 'f', 'd', 't'), &fn_n);
			int t;

			if (!tfhd || tn < 8)
				return false;
			t = track_index(rb, AV_RB32(tfhd + 4));
			if (t >= 0 && tfdt) {
				bool wide = fn_n >= 1 && tfdt[0] == 1;

				if (fn_n < (wide ? 12u : 8u))
					return false;
				fn(rb, t, tfdt + 4, wide);
			}
		}
		moof += size;
		n -= size;
	}
	return true;
}

int rebase_init(struct rebase *rb, const uint8_t *init, size_t size)
{
	uint8_t *p = (uint8_t *)init, *moov;
	uint32_t type;
	size_t n, box, hdr;

	memset(rb, 0, sizeof(*rb));
	if (!(moov = find(p, size, MP4BOX_FOURCC('m', 'o', 'o', 'v'), &n)))
		return -EBADMSG;
	while (box_at(moov, n, &type, &box, &hdr)) {
		if (type == MP4BOX_FOURCC('t', 'r', 'a', 'k')) {
			size_t kn = 0, mn = 0, dn = 0;
			uint8_t *tkhd = find(moov + hdr, box - hdr, MP4BOX_FOURCC('t', 'k', 'h', 'd'), &kn);
			uint8_t *mdia = find(moov + hdr, box - hdr, MP4BOX_FOURCC('m', 'd', 'i', 'a'), &mn);
			uint8_t *mdhd = mdia ? find(mdia, mn, MP4BOX_FOURCC('m', 'd', 'h', 'd'), &dn) : NULL;
			/* tkhd: track_ID after the creation and modification times;
			 * mdhd: timescale after them; 64-bit times in version 1. */
			size_t at_id = tkhd && kn && tkhd[0] == 1 ? 20 : 12;
			size_t at_ts = mdhd && dn && mdhd[0] == 1 ? 20 : 12;

			if (!tkhd || !mdhd || kn < at_id + 4 || dn < at_ts + 4 ||
			    rb->n_tracks == REBASE_MAX_TRACKS)
				return -EBADMSG;
			rb->track_id[rb->n_tracks] = AV_RB32(tkhd + at_id);
			rb->timescale[rb->n_tracks] = AV_RB32(mdhd + at_ts);
			if (!rb->timescale[rb->n_tracks])
				return -EBADMSG;
			rb->n_tracks++;
		}
		moov += box;
		n -= box;
	}
	return rb->n_tracks ? 0 : -EBADMSG;
}

#define MEHD_SIZE 20   /* header, version and flags, 64-bit duration */

size_t rebase_header_size(size_t init_size)
{
	return init_size + MEHD_SIZE;
}

int rebase_header(const uint8_t *init, size_t size, uint8_t *out, size_t *duration_at,
		  uint32_t *timescale)
{
	uint8_t *p = (uint8_t *)init, *moov, *mvex, *mvhd;
	size_t moov_n = 0, mvex_n = 0, mvhd_n = 0, at;

	moov = find(p, size, MP4BOX_FOURCC('m', 'o', 'o', 'v'), &moov_n);
	mvex = moov ? find(moov, moov_n, MP4BOX_FOURCC('m', 'v', 'e', 'x'), &mvex_n) : NULL;
	mvhd = moov ? find(moov, moov_n, MP4BOX_FOURCC('m', 'v', 'h', 'd'), &mvhd_n) : NULL;
	/* 32-bit box sizes only (an init segment is small); a mehd there
	 * already is left alone. */
	if (!mvex || !mvhd || mvhd_n < 24 || AV_RB32(moov - 8) != moov_n + 8 ||
	    AV_RB32(mvex - 8) != mvex_n + 8 || find(mvex, mvex_n, MP4BOX_FOURCC('m', 'e', 'h', 'd'), &at))
		return -EBADMSG;
	*timescale = AV_RB32(mvhd + (mvhd[0] == 1 ? 20 : 12));
	at = (size_t)(mvex - init);
	memcpy(out, init, at);
	AV_WB32(out + (moov - 8 - init), (uint32_t)(moov_n + 8 + MEHD_SIZE));
	AV_WB32(out + (mvex - 8 - init), (uint32_t)(mvex_n + 8 + MEHD_SIZE));
	AV_WB32(out + at, MEHD_SIZE);
	memcpy(out + at + 4, "mehd", 4);
	AV_WB32(out + at + 8, 1u << 24);   /* version 1, no flags */
	AV_WB64(out + at + 12, 0);
	memcpy(out + at + MEHD_SIZE, init + at, size - at);
	*duration_at = at + 12;
	return *timescale ? 0 : -EBADMSG;
}

/* rebase_start's traf_fn: keeps each track's first decode time in base. */
static void note_time(struct rebase *rb, int t, uint8_t *time, bool wide)
{
	rb->base[t] = wide ? AV_RB64(time) : AV_RB32(time);
}

int rebase_start(struct rebase *rb, const uint8_t *frag, size_t size)
{
	uint8_t *moof;
	size_t n;
	int first = -1;

	for (int t = 0; t < rb->n_tracks; t++)
		rb->base[t] = UINT64_MAX;
	moof = find((uint8_t *)frag, size, MP4BOX_FOURCC('m', 'o', 'o', 'f'), &n);
	if (!moof || !each_traf(rb, moof, n, note_time))
		return -EBADMSG;
	/* The earliest of the tracks' first times, compared in seconds. */
	for (int t = 0; t < rb->n_tracks; t++)
		if (rb->base[t] != UINT64_MAX &&
		    (first < 0 || (unsigned __int128)rb->base[t] * rb->timescale[first] <
				  (unsigned __int128)rb->base[first] * rb->timescale[t]))
			first = t;
	if (first < 0)
		return -EBADMSG;
	for (int t = 0; t < rb->n_tracks; t++)
		if (t != first)
			rb->base[t] = (uint64_t)((unsigned __int128)rb->base[first] * rb->timescale[t] /
						 rb->timescale[first]);
	return 0;
}

size_t rebase_head_size(const uint8_t *frag, size_t size)
{
	const uint8_t *p = frag;
	uint32_t type;
	size_t box, hdr, n = size;

	while (box_at(p, n, &type, &box, &hdr)) {
		if (type == MP4BOX_FOURCC('m', 'd', 'a', 't'))
			return (size_t)(p - frag);
		p += box;
		n -= box;
	}
	return 0;
}

static uint64_t less(uint64_t v, uint64_t base)
{
	return v > base ? v - base : 0;
}

/* rebase_head's traf_fn: moves a tfdt. */
static void move_time(struct rebase *rb, int t, uint8_t *time, bool wide)
{
	if (wide)
		AV_WB64(time, less(AV_RB64(time), rb->base[t]));
	else
		AV_WB32(time, (uint32_t)less(AV_RB32(time), rb->base[t]));
}

int rebase_head(const struct rebase *rb, const uint8_t *frag, size_t head, uint8_t *out)
{
	uint8_t *p = out;
	uint32_t type;
	size_t box, hdr, n = head;

	memcpy(out, frag, head);
	while (box_at(p, n, &type, &box, &hdr)) {
		if (type == MP4BOX_FOURCC('m', 'o', 'o', 'f') &&
		    !each_traf((struct rebase *)rb, p + hdr, box - hdr, move_time))
			return -EBADMSG;
		if (type == MP4BOX_FOURCC('p', 'r', 'f', 't') && box - hdr >= 20) {
			/* version, flags, reference track, NTP time, media time */
			uint8_t *b = p + hdr;
			int t = track_index(rb, AV_RB32(b + 4));
			bool wide = b[0] == 1;

			if (t >= 0 && box - hdr >= (wide ? 24u : 20u)) {
				if (wide)
					AV_WB64(b + 16, less(AV_RB64(b + 16), rb->base[t]));
				else
					AV_WB32(b + 16, (uint32_t)less(AV_RB32(b + 16), rb->base[t]));
			}
		}
		p += box;
		n -= box;
	}
	return 0;
}
