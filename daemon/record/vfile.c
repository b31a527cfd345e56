/* vfile.c - extent lists: append while building, binary-search on read. */
#include "record/vfile.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/array.h"

struct vfile *vfile_new(void)
{
	struct vfile *v = calloc(1, sizeof(*v));

	if (v)
		atomic_init(&v->refs, 1);
	return v;
}

struct vfile *vfile_ref(struct vfile *v)
{
	atomic_fetch_add(&v->refs, 1);
	return v;
}

void vfile_unref(struct vfile **vp)
{
	struct vfile *v = *vp;

	*vp = NULL;
	if (!v || atomic_fetch_sub(&v->refs, 1) != 1)
		return;
	for (size_t i = 0; i < v->n_owned; i++)
		free(v->owned[i]);
	for (size_t i = 0; i < v->n_fds; i++)
		close(v->fds[i]);
	free(v->owned);
	free(v->fds);
	free(v->ext);
	free(v);
}

static int add_extent(struct vfile *v, const uint8_t *data, int fd, uint64_t pos, uint64_t len)
{
	struct vfile_extent *last = v->n_ext ? &v->ext[v->n_ext - 1] : NULL;

	if (len == 0)
		return 0;
	if (last && !data && !last->data && last->fd == fd && last->pos + last->len == pos) {
		last->len += len;
	} else {
		if (array_grow(&v->ext, &v->cap_ext, v->n_ext, sizeof(*v->ext)) < 0)
			return -ENOMEM;
		v->ext[v->n_ext++] = (struct vfile_extent){
			.start = v->size, .len = len, .data = data, .fd = fd, .pos = pos,
		};
	}
	v->size += len;
	return 0;
}

int vfile_add_owned(struct vfile *v, uint8_t *data, size_t len)
{
	if (array_grow(&v->owned, &v->cap_owned, v->n_owned, sizeof(*v->owned)) < 0) {
		free(data);
		return -ENOMEM;
	}
	v->owned[v->n_owned++] = data;
	return add_extent(v, data, -1, 0, len);
}

int vfile_add_fd(struct vfile *v, int fd)
{
	if (array_grow(&v->fds, &v->cap_fds, v->n_fds, sizeof(*v->fds)) < 0) {
		close(fd);
		return -ENOMEM;
	}
	v->fds[v->n_fds] = fd;
	return v->n_fds++;
}

int vfile_add_range(struct vfile *v, int slot, uint64_t pos, uint64_t len)
{
	return add_extent(v, NULL, v->fds[slot], pos, len);
}

/* The last extent starting at or before off (extents are sorted by start,
 * contiguous and never empty, so that is the one holding off). */
static size_t find(const struct vfile *v, uint64_t off)
{
	size_t lo = 0, hi = v->n_ext;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (v->ext[mid].start <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

size_t vfile_slice(const struct vfile *v, uint64_t off, size_t size,
		   struct vfile_extent *out, size_t max)
{
	size_t first, n;
	uint64_t end;

	if (off >= v->size || size == 0)
		return 0;
	end = off + size < v->size ? off + size : v->size;
	/* Two searches give the count without walking the range, so a caller
	 * can size its array for exactly this read first. */
	first = find(v, off);
	n = find(v, end - 1) - first + 1;
	if (!out)
		return n;
	if (n > max)
		n = max;
	for (size_t k = 0; k < n; k++) {
		const struct vfile_extent *e = &v->ext[first + k];
		uint64_t from = off > e->start ? off - e->start : 0;
		uint64_t to = end - e->start < e->len ? end - e->start : e->len;

		out[k] = *e;
		out[k].start = e->start + from;
		out[k].len = to - from;
		if (e->data)
			out[k].data = e->data + from;
		else
			out[k].pos = e->pos + from;
	}
	return n;
}
