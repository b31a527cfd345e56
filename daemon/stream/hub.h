/* hub.h - a camera's live fan-out: the current init segment, the recent
 * fragments (the GOP cache) and the readers following them. The camera thread
 * publishes; readers (FUSE live.mp4, later HTTP) pull, or park and are woken. */
#ifndef CAMFS_HUB_H
#define CAMFS_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct fragment;
struct hub;
struct hub_reader;

/* Called with the hub's lock held, once for each parked waiter whose read
 * can now complete (data or end of stream). It may only call
 * hub_reader_read_locked() on r, must not block, and owns waiter again. */
typedef void hub_wake_fn(struct hub_reader *r, void *waiter, void *opaque);

/* max_bytes bounds the fragments kept (never less than the newest GOP). */
int hub_new(struct hub **out, size_t max_bytes);
/* Every reader must have been freed. Accepts NULL. */
void hub_free(struct hub *h);

/* Camera thread; takes the reference. An init segment byte-identical to the
 * current one is dropped: the stream goes on (a reconnect with the same
 * codec parameters). A different one starts a new generation: the kept
 * fragments are dropped and readers of the old generation reach end of
 * stream at their next fragment boundary. A media fragment is appended; a
 * keyframe fragment starts the newest GOP. Fragments older than the GOP
 * before the newest one go, and older ones still past max_bytes. Wakes the
 * parked waiters that can now complete. */
void hub_publish(struct hub *h, struct fragment *frag);
/* Camera thread: the session ended (connection lost, new timeline). The
 * kept fragments go, so a reader that opens while the camera is offline
 * gets nothing stale: it waits for the next session's first keyframe.
 * Readers already reading keep their place and go on with the next
 * session's fragments (if its init is the same; else a new generation ends
 * them), at its first keyframe. */
void hub_end_session(struct hub *h);
/* No more data will come (shutdown): every reader reaches end of stream
 * after what it has been given; parked waiters are woken. */
void hub_close(struct hub *h);

/* A reader whose stream starts with the current init segment and then the
 * newest GOP's first fragment. Before the first init and keyframe arrive,
 * its reads park. NULL on ENOMEM. */
struct hub_reader *hub_reader_new(struct hub *h, hub_wake_fn *wake, void *opaque);
/* Nothing may be parked on r (see hub_reader_unpark_any). Accepts NULL. */
void hub_reader_free(struct hub_reader *r);

/* Copies the next bytes of r's stream into buf, never crossing from one
 * fragment into the next within one call. Returns bytes (> 0), 0 at end of
 * stream, or -EAGAIN when nothing is there yet: then waiter (non-NULL) is
 * parked on r and wake() will be called for it exactly once, unless it is
 * taken back first. Several waiters may be parked; they are woken in order.
 * A reader that finished a fragment the hub no longer keeps (it fell behind)
 * continues at the newest GOP's first fragment, so its stream stays whole
 * fragments; that counts as a skip. */
ssize_t hub_reader_read(struct hub_reader *r, void *buf, size_t size, void *waiter);
/* The same with the hub's lock already held (from wake()); never parks:
 * -EAGAIN if nothing is there. */
ssize_t hub_reader_read_locked(struct hub_reader *r, void *buf, size_t size);
/* A positioned reader: its stream is a file that claims claimed bytes and
 * is read by offset (live.mp4 over FUSE, which players and file servers
 * read with seeks and pread). The stream is the init segment, the boxes
 * that keep demuxers and tag readers from scanning the file to that size
 * before they play (mp4build_live_index), and the fragments as for any
 * reader. It keeps the last 4 MiB of fragments it took and always the
 * head, so reads may come back or come out of order. It is ready for poll
 * (hub_reader_ready, hub_reader_park) when a read where its last read
 * ended would not park. */
struct hub_reader *hub_reader_new_positioned(struct hub *h, hub_wake_fn *wake, void *opaque,
					     uint64_t claimed);
/* Copies bytes at offset at of positioned reader r's stream into buf, never
 * crossing from one fragment into the next; or, if whole, all of
 * [at, at + size) across fragments once its last byte is there (for
 * programs that take a short read for the end of a file). Returns bytes
 * (> 0); 0 past the end of the stream, or for an offset more than 4 MiB
 * ahead of the bytes it has (a reader looking for the file's end; a whole
 * read ends there too); -EIO for bytes it no longer keeps; -EAGAIN when
 * they are not there yet: then waiter (non-NULL) is parked until they are
 * (or the stream ends), as for hub_reader_read. */
ssize_t hub_reader_pread(struct hub_reader *r, void *buf, size_t size, uint64_t at, bool whole,
			 void *waiter);
/* The same with the hub's lock already held (from wake()); never parks. */
ssize_t hub_reader_pread_locked(struct hub_reader *r, void *buf, size_t size, uint64_t at,
				bool whole);
/* Takes waiter back if it is still parked: true if it was (wake() will not
 * be called for it), false if wake() has it or had it. */
bool hub_reader_unpark(struct hub_reader *r, void *waiter);
/* Takes back any one parked waiter, or NULL when none is left. */
void *hub_reader_unpark_any(struct hub_reader *r);
/* Parks waiter without reading (poll() waiting for data): -EAGAIN when
 * parked, 0 when a read would not park. */
int hub_reader_park(struct hub_reader *r, void *waiter);
/* Called with the hub's lock held for each parked waiter; returns true when
 * it has answered and owns the waiter, which then leaves the hub. */
typedef bool hub_cancel_fn(struct hub_reader *r, void *waiter, void *arg);
/* Offers every parked waiter of the readers made with wake owner (one
 * export's own: another's waiters are not what its cancel expects) to cancel
 * (e.g. reads whose caller was interrupted, found by polling: a parked
 * request is alive for as long as it is parked, which an interrupt callback
 * cannot rely on). */
void hub_reap(struct hub *h, hub_wake_fn *owner, hub_cancel_fn *cancel, void *arg);
/* True if a read would not park (data or end of stream): for poll(). */
bool hub_reader_ready(struct hub_reader *r);
/* How many times r was skipped forward for falling behind. */
uint64_t hub_reader_skips(struct hub_reader *r);

#endif
