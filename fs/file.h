/* file.h - a node of the tree opened as a file, whatever exports it: its
 * size, life, time, validator and type, and its bytes as pieces (memory and
 * store-file ranges) or, for live.mp4, a hub reader. FUSE and HTTP translate. */
#ifndef CAMFS_FILE_H
#define CAMFS_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "fs/tree.h"
#include "stream/hub.h"

struct file;

/* A quoted 128-bit hex validator and its NUL. */
#define FILE_ETAG_MAX 35

/* What an export tells its client about an open file, as of the call. */
struct file_attr {
	enum tree_kind kind;
	enum tree_life life;     /* what may be cached: see enum tree_life */
	const char *type;        /* Content-Type: video/mp4, image/jpeg, text/csv,
				  * application/json or text/plain */
	uint64_t size;           /* the bytes readable now, [0, size); live.mp4:
				  * TREE_LIVE_SIZE, and no bytes by range */
	time_t mtime;            /* a fixed file's is the same at every open */
	char etag[FILE_ETAG_MAX];/* a strong validator of [0, size), quoted as an
				  * HTTP ETag: the same value means the same bytes,
				  * at any open; "" for live.mp4 */
};

/* Some of a file's bytes: in memory, or a range of a store file. */
struct file_piece {
	const void *data;        /* the bytes, or NULL: bytes [pos, pos + len) of fd */
	int fd;                  /* the file holds it: never closed by the caller;
				  * -1 for a clip's range until file_pieces_hold */
	int src;                 /* a clip's range: its source in the clip, else -1 */
	uint64_t pos;
	size_t len;
};

/* Opens node ino of tree t (-EISDIR for a directory, -ENOENT for a node
 * that is gone). What the file is and its bytes are decided here, once:
 * a store file's fd (reached through no link, so it stays readable if
 * retention deletes it), a generated file's bytes, live.jpg's JPEG, a
 * clip's build, live.mp4's hub reader. The file needs no node after this.
 * For live.mp4, wake(reader, waiter, opaque) is the reader's hub_wake_fn
 * (called on the camera's thread with the hub lock held, see hub.h); it
 * is unused for other files and may be NULL then. One reference, the
 * opener's. 0 or negative errno. */
int file_open(struct file **out, struct tree *t, uint64_t ino, hub_wake_fn *wake, void *opaque);
/* Another reference to f, e.g. one per read being answered: an export may
 * have its reply's bytes in flight after its client closed the file. */
struct file *file_ref(struct file *f);
/* Drops a reference; the last frees the file (closing its fds, freeing its
 * hub reader: nothing may be parked on it then). Accepts NULL. */
void file_close(struct file *f);

enum tree_life file_life(const struct file *f);
/* The bytes readable now: for a growing store file, what is there by now
 * (the segment being written: what the writer has committed; it only
 * grows); for any other file, its size at open. Cheap: no validator. */
uint64_t file_size(struct file *f);
/* Everything an export tells about f, with the size and validator taken
 * together. Making the validator reads a generated file's or a clip's
 * header bytes: for a response, not for every stat. 0 or -ENOMEM. */
int file_attr(struct file *f, struct file_attr *out);

/* The pieces covering [off, off + len) of f, cut at the end it has now
 * (the segment being written: what is committed at this call; never past
 * it, so a read of a growing file never sees a torn fragment). Fills at
 * most max pieces into out and returns how many the range needs: 0 at or
 * past the end and for live.mp4; more than max means call again with
 * room for that many. Pieces stay valid while f is held; their fds are
 * there once held (file_pieces_hold). */
size_t file_pieces(struct file *f, uint64_t off, size_t len, struct file_piece *out, size_t max);
/* Gives the n pieces their fds (a clip's segments are opened on demand,
 * within a bound on fds) and keeps them open until file_pieces_release.
 * 0 or negative errno (-EMFILE, -EIO: a segment gone), nothing held then. */
int file_pieces_hold(struct file *f, struct file_piece *p, size_t n);
void file_pieces_release(struct file *f, struct file_piece *p, size_t n);
/* Copies [off, off + len) of f into buf (pread for store ranges), for an
 * export that sends from a buffer. Bytes copied (short only at the end),
 * or negative errno; -ESPIPE for live.mp4. */
ssize_t file_read(struct file *f, void *buf, size_t len, uint64_t off);

/* live.mp4's hub reader (hub.h: read, park a waiter, poll, unpark), or NULL
 * for every other file. */
struct hub_reader *file_reader(struct file *f);

#endif
