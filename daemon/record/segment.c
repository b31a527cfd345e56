/* segment.c - writes a segment file in the order docs/durability.md sets:
 * create, write init and first fragment, fsync the directory; append whole
 * fragments; fdatasync in batches; cut back any torn write. */
#include "record/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <libavutil/intreadwrite.h>
#include <libavutil/mathematics.h>

#include "stream/fragment.h"
#include "record/store.h"

static int write_all(int fd, struct iovec *iov, int n_iov)
{
	while (n_iov > 0) {
		ssize_t n = writev(fd, iov, n_iov);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		for (; n_iov > 0 && (size_t)n >= iov->iov_len; iov++, n_iov--)
			n -= (ssize_t)iov->iov_len;
		if (n_iov > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Writes a fragment, its head (prft, moof) rebased in a copy: the bytes
 * are shared with the live stream, which keeps the session's timeline. */
static int write_fragment(struct segment *seg, const struct fragment *frag)
{
	uint8_t few[1024], *head = few;
	size_t n = seg->rebase.n_tracks && frag->kind == FRAGMENT_MEDIA ?
		   rebase_head_size(frag->data, frag->size) : 0;
	struct iovec iov[2] = {
		{ (void *)frag->data, frag->size },
	};
	int ret;

	if (n == 0)
		return write_all(seg->fd, iov, 1);
	if (n > sizeof(few) && !(head = malloc(n)))
		return -ENOMEM;
	ret = rebase_head(&seg->rebase, frag->data, n, head);
	iov[0] = (struct iovec){ head, n };
	iov[1] = (struct iovec){ (void *)(frag->data + n), frag->size - n };
	if (ret == 0)
		ret = write_all(seg->fd, iov, 2);
	if (head != few)
		free(head);
	return ret;
}

int segment_append(struct segment *seg, const struct fragment *frag)
{
	int ret = write_fragment(seg, frag);

	if (ret < 0) {
		/* A torn fragment at the end would make the tail unplayable. */
		if (ftruncate(seg->fd, seg->size) < 0 || lseek(seg->fd, seg->size, SEEK_SET) < 0)
			return -errno;
		return ret;
	}
	if (frag->kind == FRAGMENT_MEDIA) {
		if (seg->fragments++ == 0)
			seg->start_media_us = frag->media_us;
		seg->end_media_us = frag->media_us + frag->duration_us;
	}
	seg->size += frag->size;
	seg->dirty = true;
	return 0;
}

/* Writes the init segment, with a mehd for the duration when it can. */
static int write_init(struct segment *seg, const struct fragment *init)
{
	size_t n = rebase_header_size(init->size);
	uint8_t *head = seg->rebase.n_tracks ? malloc(n) : NULL;
	struct iovec iov = { (void *)init->data, init->size };
	int ret;

	if (head && rebase_header(init->data, init->size, head, &seg->duration_at,
				  &seg->timescale) == 0)
		iov = (struct iovec){ head, n };
	else
		seg->duration_at = 0;
	ret = write_all(seg->fd, &iov, 1);
	free(head);
	if (ret < 0)
		return ret;
	seg->size += iov.iov_len;
	seg->dirty = true;
	return 0;
}

int segment_open(struct segment **out, const char *store, const char *camera,
		 const struct fragment *init, const struct fragment *first)
{
	struct segment *seg = calloc(1, sizeof(*seg));
	int ret;

	*out = NULL;
	if (!seg)
		return -ENOMEM;
	seg->fd = -1;
	seg->generation = init->generation;
	/* Footage still gets written if its boxes cannot be read for this. */
	if (rebase_init(&seg->rebase, init->data, init->size) < 0 ||
	    rebase_start(&seg->rebase, first->data, first->size) < 0)
		seg->rebase.n_tracks = 0;
	seg->start_wall_us = first->wall_us;
	ret = store_new_segment_path(store, camera, first->wall_us, seg->path, sizeof(seg->path));
	if (ret < 0)
		goto out;
	seg->fd = open(seg->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (seg->fd < 0) {
		ret = -errno;
		goto out;
	}
	/* Init and first fragment before the name is made durable: a crash
	 * leaves either no file or one that starts playable. */
	if ((ret = write_init(seg, init)) < 0 ||
	    (ret = segment_append(seg, first)) < 0 ||
	    (ret = segment_sync(seg)) < 0 ||
	    (ret = store_sync_parent(seg->path)) < 0)
		goto out;
out:
	if (ret < 0) {
		if (seg->fd >= 0) {
			close(seg->fd);
			unlink(seg->path);
		}
		free(seg);
		return ret;
	}
	*out = seg;
	return 0;
}

int segment_sync(struct segment *seg)
{
	if (!seg->dirty)
		return 0;
	if (fdatasync(seg->fd) < 0)
		return -errno;
	seg->dirty = false;
	return 0;
}

void segment_close(struct segment *seg)
{
	uint8_t d[8];

	if (!seg)
		return;
	/* Its duration, now known: players need not read every fragment for
	 * it. A crash before leaves 0, "unknown", as while it was written. */
	if (seg->duration_at && seg->fragments) {
		AV_WB64(d, av_rescale(seg->end_media_us - seg->start_media_us, seg->timescale, 1000000));
		if (pwrite(seg->fd, d, sizeof(d), (off_t)seg->duration_at) == (ssize_t)sizeof(d))
			seg->dirty = true;
	}
	segment_sync(seg);
	close(seg->fd);
	free(seg);
}
