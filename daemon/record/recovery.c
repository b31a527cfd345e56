/* recovery.c - the start-up pass over the newest segments: cut a torn tail
 * back to the last complete fragment, or remove a segment with none. */
#include "record/recovery.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/array.h"
#include "util/log.h"
#include "mp4/mp4box.h"
#include "record/sidecar.h"
#include "record/store.h"

#define TAG "recovery"

#define FTYP MP4BOX_FOURCC('f', 't', 'y', 'p')
#define MOOV MP4BOX_FOURCC('m', 'o', 'o', 'v')
#define MOOF MP4BOX_FOURCC('m', 'o', 'o', 'f')
#define MDAT MP4BOX_FOURCC('m', 'd', 'a', 't')
#define MFRA MP4BOX_FOURCC('m', 'f', 'r', 'a')

/* Where the playable part of the file ends: the end of the last mdat that
 * completes a moof, or 0 when there is no ftyp+moov or no such fragment.
 * Boxes between fragments (prft, styp, sidx, emsg, ...) are walked over; a
 * box after the last fragment without its mdat (a prft or moof whose
 * fragment was cut) falls outside the result, so trimming drops it. */
static int64_t playable_end(int fd, uint64_t file_size)
{
	struct mp4box box;
	uint64_t off = 0, end = 0;
	bool init = false, in_fragment = false;
	int ret;

	ret = mp4box_read(fd, 0, file_size, &box);
	if (ret == -ENODATA || ret == -EBADMSG)
		return 0;
	if (ret < 0)
		return ret;
	/* Not starting with ftyp: zeros from a power cut, or not ours. */
	if (box.type != FTYP)
		return 0;
	for (;;) {
		ret = mp4box_read(fd, off, file_size, &box);
		if (ret == -ENODATA || ret == -EBADMSG)
			break;   /* the end, or the torn (or garbage) tail */
		if (ret < 0)
			return ret;
		if (!init) {
			if (box.type == MOOF || box.type == MDAT)
				break;
			init = box.type == MOOV;
		} else if (box.type == MOOF) {
			in_fragment = true;
		} else if (box.type == MDAT && in_fragment) {
			end = box.offset + box.size;
			in_fragment = false;
		} else if (box.type == MFRA && off == end && end) {
			/* The muxer's trailer right after the last fragment:
			 * a finished file, nothing torn. */
			end = box.offset + box.size;
		}
		off += box.size;
	}
	return init ? (int64_t)end : 0;
}

/* Removes the segment and its motion sidecar, then makes that durable. */
static int remove_segment(const char *path)
{
	if (unlink(path) < 0)
		return -errno;
	sidecar_remove(path);
	return store_sync_parent(path);
}

/* recovery_check_segment, also telling how many bytes went. */
static int check(const char *path, int64_t *cut)
{
	struct stat st;
	int64_t end;
	int fd, ret;

	*cut = 0;
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	end = playable_end(fd, (uint64_t)st.st_size);
	if (end < 0) {
		ret = (int)end;
		goto out;
	}
	*cut = st.st_size - end;
	if (end == 0) {
		close(fd);
		fd = -1;
		ret = remove_segment(path);
		if (ret == 0)
			ret = RECOVERY_REMOVED;
		goto out;
	}
	if (end == st.st_size) {
		ret = RECOVERY_INTACT;
		goto out;
	}
	if (ftruncate(fd, end) < 0 || fdatasync(fd) < 0) {
		ret = -errno;
		goto out;
	}
	ret = RECOVERY_TRIMMED;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

int recovery_check_segment(const char *path)
{
	int64_t cut;

	return check(path, &cut);
}

struct camera_counts {
	struct {
		const char *camera;
		int seen;
	} *v;
	size_t n, cap;
};

/* How many of this camera's segments were already met, counting this one. */
static int count_camera(struct camera_counts *c, const char *camera)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].camera, camera) == 0)
			return ++c->v[i].seen;
	if (array_grow(&c->v, &c->cap, c->n, sizeof(*c->v)) < 0)
		return -ENOMEM;
	c->v[c->n].camera = camera;
	c->v[c->n].seen = 1;
	c->n++;
	return 1;
}

int recovery_run(const char *store)
{
	struct store_segment *segs = NULL;
	struct camera_counts cams = { 0 };
	size_t n = 0;
	int ret, first_err = 0;

	ret = store_list_segments(store, &segs, &n);
	if (ret < 0) {
		log_error(TAG, "%s: %s", store, strerror(-ret));
		return ret;
	}
	/* Newest first, so the first two met per camera are its newest two. */
	for (size_t i = n; i-- > 0;) {
		const struct store_segment *s = &segs[i];
		int64_t cut;
		int seen = count_camera(&cams, s->camera);

		if (seen < 0) {
			first_err = seen;
			break;
		}
		if (seen > 2)
			continue;
		ret = check(s->path, &cut);
		if (ret == RECOVERY_TRIMMED)
			log_notice(TAG, "%s: trimmed %" PRId64 " bytes of a torn fragment",
				   s->path, cut);
		else if (ret == RECOVERY_REMOVED)
			log_notice(TAG, "%s: removed (%" PRId64 " bytes, no complete fragment)",
				   s->path, cut);
		else if (ret < 0 && ret != -ENOENT) {
			log_warning(TAG, "%s: %s", s->path, strerror(-ret));
			if (!first_err)
				first_err = ret;
		}
	}
	free(cams.v);
	store_segments_free(segs, n);
	return first_err;
}
