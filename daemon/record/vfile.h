/* vfile.h - a virtual file as a list of extents, each either bytes held in
 * memory or a byte range of an open store file. Its size is known when it
 * is built, every range reads the same on every read, and file ranges can be
 * answered zero-copy. Refcounted: handles keep it after the name is gone. */
#ifndef CAMFS_VFILE_H
#define CAMFS_VFILE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct vfile_extent {
	uint64_t start;          /* offset in the virtual file */
	uint64_t len;
	const uint8_t *data;     /* in-memory bytes, or NULL for a file range */
	int fd;                  /* file range: an fd the vfile holds */
	uint64_t pos;            /* file range: offset in that file */
};

struct vfile {
	atomic_int refs;
	uint64_t size;
	struct vfile_extent *ext;
	size_t n_ext, cap_ext;
	uint8_t **owned;         /* memory the extents point into */
	size_t n_owned, cap_owned;
	int *fds;                /* fds the extents use; closed on free */
	size_t n_fds, cap_fds;
};

/* An empty vfile with refs = 1, or NULL. */
struct vfile *vfile_new(void);
struct vfile *vfile_ref(struct vfile *v);
/* Drops a reference; frees memory and closes fds on the last. NULL ok. */
void vfile_unref(struct vfile **v);

/* Appends len bytes of data, which the vfile takes ownership of (freed
 * with it). On failure data is freed too. 0 or -ENOMEM. */
int vfile_add_owned(struct vfile *v, uint8_t *data, size_t len);
/* Takes ownership of fd (closed with the vfile); returns its slot for
 * vfile_add_range. -ENOMEM (fd closed). */
int vfile_add_fd(struct vfile *v, int fd);
/* Appends bytes [pos, pos+len) of the fd in slot; merged with the previous
 * extent when it continues it. 0 or -ENOMEM. */
int vfile_add_range(struct vfile *v, int slot, uint64_t pos, uint64_t len);

/* The pieces covering [off, off+size) clipped to the file: fills out (at
 * most max) with extents whose start/len/pos are trimmed to the request.
 * Returns the number of pieces (0 at or past the end). With out NULL, fills
 * nothing and returns how many pieces the whole range needs (max ignored):
 * a clip has one extent per segment, so a read can need any number. */
size_t vfile_slice(const struct vfile *v, uint64_t off, size_t size,
		   struct vfile_extent *out, size_t max);

#endif
