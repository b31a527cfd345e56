/* mp4box.h - reads ISO BMFF box headers from a file descriptor; enough to
 * walk the top level of a fragmented MP4 (ftyp, moov, moof, mdat, ...). */
#ifndef CAMFS_MP4BOX_H
#define CAMFS_MP4BOX_H

#include <stddef.h>
#include <stdint.h>

#define MP4BOX_FOURCC(a, b, c, d) \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

struct mp4box {
	uint32_t type;         /* MP4BOX_FOURCC('m','o','o','f') */
	uint64_t offset;       /* of the box header in the file */
	uint64_t size;         /* whole box, header included */
	uint32_t header_size;  /* 8, or 16 with a 64-bit size */
};

/* Reads the header of the box at offset in a file of file_size bytes.
 * 0: box filled and it lies wholly inside the file. -ENODATA: offset is at
 * the end. -EBADMSG: the header is cut short, malformed, or the box runs past
 * file_size (box still filled when its header was readable). -errno on I/O. */
int mp4box_read(int fd, uint64_t offset, uint64_t file_size, struct mp4box *box);

/* Points *p at [offset, offset + len) of the file (len 8 or 16), valid until
 * the next call: 0, -EBADMSG when the file ends first, or -errno. */
typedef int mp4box_fetch_fn(void *opaque, uint64_t offset, size_t len, const uint8_t **p);
/* mp4box_read with the header bytes from fetch: for a reader that keeps
 * the file in a buffer of its own. */
int mp4box_read_from(mp4box_fetch_fn *fetch, void *opaque, uint64_t offset,
		     uint64_t file_size, struct mp4box *box);

/* Reads all of [offset, offset + len) with pread. -EBADMSG when the file
 * ends first (shorter than its size said: it shrank), else 0 or -errno. */
int mp4box_read_full(int fd, uint64_t offset, uint8_t *buf, size_t len);

#endif
