/* file.c - what a node of the tree is when opened, decided once for every
 * export: size, life, time, validator, type, and bytes as pieces. */
#include "fs/file.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libavutil/intreadwrite.h>
#include <libavutil/murmur3.h>

#include "ingest/camera.h"
#include "record/vfile.h"
#include "stream/snapshot.h"

struct file {
	atomic_int refs;
	struct tree *tree;
	enum tree_kind kind;
	enum tree_life life;
	const char *type;
	time_t mtime;
	uint64_t size;              /* at open */
	/* The content, one of: */
	const uint8_t *bytes;       /* in memory: data or jpeg.data */
	char *data;                 /* a generated file's; owned */
	struct snapshot_jpeg jpeg;  /* live.jpg's; a reference */
	int fd;                     /* a store file's; owned */
	int cam;                    /* a store file's camera and path, to ask */
	char path[4096];            /*   the writer what is committed */
	struct vfile *vf;           /* a clip's build; a reference */
	struct hub_reader *reader;  /* live.mp4's; owned */
};

static const char *content_type(enum tree_kind kind, const char *path)
{
	size_t n = strlen(path);

	switch (kind) {
	case TREE_STATUS:
	case TREE_LISTING:
		return "application/json";
	case TREE_CLIPS_README:
		return "text/plain";
	case TREE_DAY_MOTION:
		return "text/csv";
	case TREE_LIVE_JPG:
		return "image/jpeg";
	case TREE_STORE_FILE:   /* a segment, its sidecar or a snapshot */
		if (n >= 4 && strcmp(path + n - 4, ".jpg") == 0)
			return "image/jpeg";
		if (n >= 4 && strcmp(path + n - 4, ".csv") == 0)
			return "text/csv";
		return "video/mp4";
	default:
		return "video/mp4";
	}
}

/* A store file's stat now, its size what may be read now. */
static int store_stat_now(struct file *f, struct stat *st)
{
	if (fstat(f->fd, st) < 0)
		return -errno;
	if (f->life == TREE_GROWING)
		tree_store_file_life(f->tree, f->cam, f->path, st);
	else
		st->st_size = f->size;
	return 0;
}

static int open_store(struct file *f, const struct tree_node_info *info)
{
	struct stat st;

	/* The fd keeps the footage readable even if retention deletes it. */
	f->fd = tree_open_store_file(f->tree, info->path);
	if (f->fd < 0)
		return f->fd;
	if (fstat(f->fd, &st) < 0)
		return -errno;
	f->cam = info->cam;
	snprintf(f->path, sizeof(f->path), "%s", info->path);
	f->life = tree_store_file_life(f->tree, f->cam, f->path, &st);
	f->size = st.st_size;
	f->mtime = st.st_mtime;
	return 0;
}

int file_open(struct file **out, struct tree *t, uint64_t ino, hub_wake_fn *wake, void *opaque)
{
	struct tree_node_info info;
	struct tree_attr attr;
	struct file *f = NULL;
	size_t size;
	int ret;

	*out = NULL;
	ret = tree_info(t, ino, &info);
	if (ret < 0)
		return ret;
	if (!(f = calloc(1, sizeof(*f))))
		return -ENOMEM;
	atomic_init(&f->refs, 1);
	f->tree = t;
	f->fd = -1;
	f->kind = info.kind;
	f->type = content_type(info.kind, info.path);
	/* Generated files and live ones are made now, from the present. */
	f->life = TREE_CURRENT;
	f->mtime = time(NULL);
	switch (info.kind) {
	case TREE_STORE_FILE:
		ret = open_store(f, &info);
		break;
	case TREE_STATUS:
	case TREE_LISTING:
	case TREE_CLIPS_README:
	case TREE_DAY_MOTION:
		ret = tree_render(t, &info, &f->data, &size);
		f->bytes = (const uint8_t *)f->data;
		f->size = size;
		break;
	case TREE_LIVE_JPG:
		ret = snapshot_get_jpeg(camera_snapshot(tree_camera(t, info.cam)), &f->jpeg);
		if (ret == -EAGAIN)
			ret = 0;    /* no keyframe yet: an empty file */
		f->bytes = f->jpeg.data;
		f->size = f->jpeg.buf ? f->jpeg.size : 0;
		break;
	case TREE_CLIP:
	case TREE_DAY_MP4:
	case TREE_EVENT_CLIP:
		/* The build its lookup made; a later lookup may make another,
		 * which this open never sees. */
		f->vf = tree_vfile(t, ino, &attr);
		ret = f->vf ? 0 : -ENOENT;
		if (f->vf) {
			vfile_handle_open(f->vf);
			f->size = f->vf->size;
			f->life = attr.life;
			f->mtime = attr.st.st_mtime;
		}
		break;
	case TREE_LIVE_MP4:
		f->reader = hub_reader_new_positioned(camera_hub(tree_camera(t, info.cam)),
						      wake, opaque, TREE_LIVE_SIZE);
		ret = f->reader ? 0 : -ENOMEM;
		f->life = TREE_ENDLESS;
		f->size = TREE_LIVE_SIZE;
		break;
	default:
		ret = -EISDIR;
	}
	if (ret < 0) {
		file_close(f);
		return ret;
	}
	*out = f;
	return 0;
}

struct file *file_ref(struct file *f)
{
	atomic_fetch_add(&f->refs, 1);
	return f;
}

void file_close(struct file *f)
{
	if (!f || atomic_fetch_sub(&f->refs, 1) > 1)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f->data);
	av_buffer_unref(&f->jpeg.buf);
	if (f->vf)
		vfile_handle_close(f->vf);
	vfile_unref(&f->vf);
	hub_reader_free(f->reader);
	free(f);
}

enum tree_life file_life(const struct file *f)
{
	return f->life;
}

struct hub_reader *file_reader(struct file *f)
{
	return f->reader;
}

uint64_t file_size(struct file *f)
{
	struct stat st;

	/* What is durable now, or all of it once it closed. */
	if (f->fd >= 0 && f->life == TREE_GROWING && store_stat_now(f, &st) == 0)
		return (uint64_t)st.st_size;
	return f->size;
}

static void hash_identity(struct AVMurMur3 *h, const struct stat *st)
{
	uint64_t id[4] = { st->st_dev, st->st_ino, (uint64_t)st->st_mtim.tv_sec,
			   (uint64_t)st->st_mtim.tv_nsec };

	av_murmur3_update(h, (const uint8_t *)id, sizeof(id));
}

/* A clip is its header bytes and ranges of segment files: the validator
 * takes the bytes, and each range as its file's identity and place. */
static void hash_vfile(struct AVMurMur3 *h, const struct vfile *vf)
{
	int src = -1;

	for (size_t i = 0; i < vf->n_ext; i++) {
		const struct vfile_extent *e = &vf->ext[i];
		uint64_t place[2] = { e->pos, e->len };

		if (e->data) {
			av_murmur3_update(h, e->data, e->len);
			continue;
		}
		if (e->src != src) {   /* a segment's ranges follow each other */
			uint64_t id[4];

			src = e->src;
			vfile_source_id(vf, src, id);
			av_murmur3_update(h, (const uint8_t *)id, sizeof(id));
		}
		av_murmur3_update(h, (const uint8_t *)place, sizeof(place));
	}
}

int file_attr(struct file *f, struct file_attr *out)
{
	struct AVMurMur3 *h = NULL;
	uint8_t sum[16];
	struct stat st;

	memset(out, 0, sizeof(*out));
	out->kind = f->kind;
	out->life = f->life;
	out->type = f->type;
	out->size = f->size;
	out->mtime = f->mtime;
	if (f->reader)
		return 0;   /* a stream has no validator */
	if (!(h = av_murmur3_alloc()))
		return -ENOMEM;
	av_murmur3_init(h);
	if (f->fd >= 0) {
		/* A store file only grows, never changes what it has: its
		 * identity and size name its bytes. */
		if (store_stat_now(f, &st) == 0) {
			out->size = st.st_size;
			out->mtime = st.st_mtime;
		} else {
			memset(&st, 0, sizeof(st));
			st.st_size = f->size;
		}
		hash_identity(h, &st);
		av_murmur3_update(h, (const uint8_t *)&out->size, sizeof(out->size));
	} else if (f->vf) {
		hash_vfile(h, f->vf);
	} else if (f->size) {
		av_murmur3_update(h, f->bytes, f->size);
	}
	av_murmur3_final(h, sum);
	av_free(h);
	snprintf(out->etag, sizeof(out->etag), "\"%016" PRIx64 "%016" PRIx64 "\"",
		 AV_RB64(sum), AV_RB64(sum + 8));
	return 0;
}

size_t file_pieces(struct file *f, uint64_t off, size_t len, struct file_piece *out, size_t max)
{
	struct vfile_extent ext[16];
	uint64_t end;
	size_t need, done = 0;

	if (f->reader)
		return 0;
	if (!f->vf) {
		/* One piece: the bytes in memory, or the store file's range. */
		end = file_size(f);
		if (off >= end || len == 0)
			return 0;
		if (max > 0)
			out[0] = (struct file_piece){
				.data = f->bytes ? f->bytes + off : NULL, .fd = f->fd, .src = -1,
				.pos = off,
				.len = end - off < len ? (size_t)(end - off) : len,
			};
		return 1;
	}
	need = vfile_slice(f->vf, off, len, NULL, 0);
	while (done < max && done < need) {
		size_t k = vfile_slice(f->vf, off, len, ext,
				       max - done < 16 ? max - done : 16);

		for (size_t i = 0; i < k; i++) {
			out[done++] = (struct file_piece){
				.data = ext[i].data, .fd = -1, .src = ext[i].data ? -1 : ext[i].src,
				.pos = ext[i].pos, .len = ext[i].len,
			};
			off += ext[i].len;
			len -= ext[i].len;
		}
		if (k == 0)
			break;
	}
	return need;
}

int file_pieces_hold(struct file *f, struct file_piece *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int fd;

		if (p[i].src < 0)
			continue;
		if ((fd = vfile_pin(f->vf, p[i].src)) < 0) {
			file_pieces_release(f, p, i);
			return fd;
		}
		p[i].fd = fd;
	}
	return 0;
}

void file_pieces_release(struct file *f, struct file_piece *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].src >= 0 && p[i].fd >= 0) {
			vfile_unpin(f->vf, p[i].src);
			p[i].fd = -1;
		}
}

ssize_t file_read(struct file *f, void *buf, size_t len, uint64_t off)
{
	struct file_piece p[8];
	size_t got = 0;
	int ret;

	if (f->reader)
		return -ESPIPE;
	while (got < len) {
		size_t n = file_pieces(f, off + got, len - got, p, 8);

		if (n == 0)
			break;
		n = n < 8 ? n : 8;
		if ((ret = file_pieces_hold(f, p, n)) < 0)
			return ret;
		for (size_t i = 0; i < n; i++) {
			if (p[i].data) {
				memcpy((char *)buf + got, p[i].data, p[i].len);
			} else if (pread(p[i].fd, (char *)buf + got, p[i].len, (off_t)p[i].pos) !=
				   (ssize_t)p[i].len) {
				file_pieces_release(f, p, n);
				return -EIO;
			}
			got += p[i].len;
		}
		file_pieces_release(f, p, n);
	}
	return (ssize_t)got;
}
