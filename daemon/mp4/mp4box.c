/* mp4box.c - ISO BMFF box headers, read with pread or from a reader's own
 * buffer: 32-bit size, size 1 = 64-bit largesize, size 0 = to the end of file. */
#include "mp4/mp4box.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/intreadwrite.h>

int mp4box_read_full(int fd, uint64_t offset, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, buf + done, len - done, (off_t)(offset + done));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EBADMSG;
		done += (size_t)r;
	}
	return 0;
}

int mp4box_read_from(mp4box_fetch_fn *fetch, void *opaque, uint64_t offset,
		     uint64_t file_size, struct mp4box *box)
{
	const uint8_t *h;
	uint64_t left;
	uint32_t size32;
	int ret;

	memset(box, 0, sizeof(*box));
	if (offset == file_size)
		return -ENODATA;
	if (offset > file_size || file_size - offset < 8)
		return -EBADMSG;
	left = file_size - offset;
	ret = fetch(opaque, offset, 8, &h);
	if (ret < 0)
		return ret;
	size32 = AV_RB32(h);
	if (size32 == 1) {
		if (left < 16)
			return -EBADMSG;
		ret = fetch(opaque, offset, 16, &h);
		if (ret < 0)
			return ret;
	}

	box->type = AV_RB32(h + 4);
	box->offset = offset;
	if (size32 == 1) {
		box->header_size = 16;
		box->size = AV_RB64(h + 8);
	} else {
		box->header_size = 8;
		box->size = size32 ? size32 : left;
	}
	if (box->size < box->header_size || box->size > left)
		return -EBADMSG;
	return 0;
}

struct fd_fetch {
	int fd;
	uint8_t h[16];
};

static int fetch_fd(void *opaque, uint64_t offset, size_t len, const uint8_t **p)
{
	struct fd_fetch *f = opaque;

	*p = f->h;
	return mp4box_read_full(f->fd, offset, f->h, len);
}

int mp4box_read(int fd, uint64_t offset, uint64_t file_size, struct mp4box *box)
{
	struct fd_fetch f = { .fd = fd };

	return mp4box_read_from(fetch_fd, &f, offset, file_size, box);
}
