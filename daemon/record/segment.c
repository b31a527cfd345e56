/* segment.c - writes a segment file in the order docs/durability.md sets:
 * create, write init and first fragment, fsync the directory; append whole
 * fragments; fdatasync in batches; cut back any torn write. */
#include "record/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream/fragment.h"
#include "record/store.h"

static int write_all(int fd, const uint8_t *data, size_t size)
{
	while (size > 0) {
		ssize_t n = write(fd, data, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		data += n;
		size -= n;
	}
	return 0;
}

int segment_append(struct segment *seg, const struct fragment *frag)
{
	int ret = write_all(seg->fd, frag->data, frag->size);

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
	if ((ret = segment_append(seg, init)) < 0 ||
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
	if (!seg)
		return;
	segment_sync(seg);
	close(seg->fd);
	free(seg);
}
