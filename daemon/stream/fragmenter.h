/* fragmenter.h - muxes a camera's packets once, with libavformat's mov muxer
 * writing fragmented MP4 into memory. Emits the init segment, then one media
 * fragment per video frame (with the audio that came with it). */
#ifndef CAMFS_FRAGMENTER_H
#define CAMFS_FRAGMENTER_H

#include <stdint.h>
#include <libavcodec/avcodec.h>

struct source;
struct fragment;
struct fragmenter;

/* Called from the muxing thread for each finished unit; the callee takes the
 * reference it is given. */
typedef void fragmenter_emit_fn(struct fragment *frag, void *opaque);

/* Writes the init segment for src's streams (emitted before returning).
 * generation is stamped on every fragment. */
int fragmenter_open(struct fragmenter **out, const struct source *src,
		    uint32_t generation, fragmenter_emit_fn *emit, void *opaque);
/* Places the session's first keyframe at media time start_us instead of 0,
 * so a reconnect can carry on the previous session's timeline (live readers
 * then see one stream with a gap, not time going back). Call before the
 * first write. */
void fragmenter_set_start(struct fragmenter *f, int64_t start_us);
/* Takes pkt's data (pkt is left blank). wall_us: when it arrived. */
int fragmenter_write(struct fragmenter *f, AVPacket *pkt, int64_t wall_us);
/* Emits the pending fragment, if any. */
int fragmenter_flush(struct fragmenter *f);
/* Accepts NULL. Does not flush. */
void fragmenter_close(struct fragmenter *f);

#endif
