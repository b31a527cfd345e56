/* tree.h - the mounted tree as names and nodes over the recorder: cameras,
 * dates and segments from the store, status.json, live.mp4, live.jpg and a
 * hidden listing in every directory. No FUSE here: the exports use this. */
#ifndef CAMFS_TREE_H
#define CAMFS_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct camera;
struct config;
struct vfile;
struct tree;
struct writer;

#define TREE_ROOT_INO 1
#define TREE_LISTING_NAME ".index.json"
/* live.mp4 has no end; a large size is what players and SMB/NFS accept. */
#define TREE_LIVE_SIZE ((off_t)1 << 40)

enum tree_kind {
	TREE_ROOT,
	TREE_CAMERA,       /* <camera>/ */
	TREE_DAY,          /* <camera>/<date>/ */
	TREE_STATUS,       /* status.json, at the root or in a camera */
	TREE_LISTING,      /* .index.json in any directory */
	TREE_LIVE_MP4,
	TREE_LIVE_JPG,
	TREE_STORE_FILE,   /* a segment (or sidecar) in the store */
	TREE_CLIPS,        /* <camera>/clips/ */
	TREE_CLIPS_README, /* <camera>/clips/README.txt */
	TREE_CLIP,         /* <camera>/clips/<range>.mp4, made on lookup */
	TREE_DAY_MP4,      /* <camera>/<date>/day.mp4 */
	TREE_DAY_MOTION,   /* <camera>/<date>/motion.csv: the day's sidecars as one */
	TREE_EVENTS,       /* <camera>/events/ */
	TREE_EVENT_DAY,    /* <camera>/events/<date>/: snapshots are STORE_FILEs */
	TREE_EVENT_CLIP,   /* <camera>/events/<date>/<HH-MM-SS>-motion.mp4, made on lookup */
};

/* How long what a node shows holds: what an export may cache of it. */
enum tree_life {
	TREE_FIXED,    /* the same bytes and attributes for the node's life, at
			* every open: a finished segment, a settled clip */
	TREE_GROWING,  /* still being made: the segment being written and its
			* sidecar (reads reach what is there at read time), a
			* store file written to in the last seconds, a clip whose
			* range had not settled (each open has its own build) */
	TREE_CURRENT,  /* made at each open from the present: status.json,
			* listings, motion.csv, README.txt, live.jpg; directories */
	TREE_ENDLESS,  /* live.mp4: a stream, no end, no ranges */
};

/* A node's attributes, its kind and its life. */
struct tree_attr {
	struct stat st;
	enum tree_kind kind;
	enum tree_life life;
};

/* What an open needs to know about a node. */
struct tree_node_info {
	enum tree_kind kind;
	int cam;                  /* camera index, -1 at the root */
	char path[4096];          /* STORE_FILE: absolute store path; dirs: their store path */
	uint64_t dir_ino;         /* LISTING and STATUS: the directory they describe */
};

struct tree_entry {
	char name[256];
	struct stat st;
};

/* cams[i] is camera i of cfg; all must outlive the tree. */
int tree_new(struct tree **out, const struct config *cfg, struct camera **cams,
	     struct writer *writer);
void tree_free(struct tree *t);   /* accepts NULL */
/* The writer the tree asks for growing segments' committed sizes. */
struct writer *tree_writer(struct tree *t);

/* The camera of index cam (the tree's cams[cam]). */
struct camera *tree_camera(struct tree *t, int cam);

/* Resolves name in directory parent. On success *ino is the node (its
 * lookup count goes up by one) and attr, unless NULL, its attributes (NULL:
 * a generated file is not made just to size it). -ENOENT, -ENOTDIR. */
int tree_lookup(struct tree *t, uint64_t parent, const char *name, uint64_t *ino,
		struct tree_attr *attr);
/* Resolves path below the root, "door/2026-12-05/10-00-00.mp4" ("" is the
 * root), one name at a time with tree_lookup, for a request that no kernel
 * holds inodes for. On success *ino is the node, which the walk holds with
 * every directory above it until tree_walk_release(t, *ino); attr as for
 * tree_lookup. A "." or ".." or empty name (a leading, doubled or trailing
 * slash) is -EINVAL, a name over NAME_MAX bytes -ENAMETOOLONG, a name the
 * tree does not offer -ENOENT, a name below a file -ENOTDIR; on failure
 * nothing stays held. */
int tree_walk(struct tree *t, const char *path, uint64_t *ino, struct tree_attr *attr);
/* Drops what tree_walk took: a reference on ino and on each directory above. */
void tree_walk_release(struct tree *t, uint64_t ino);

/* For NFS file handles (the kernel's lookups of "." and ".."): one more
 * lookup of the node with id ino, or of the directory above it (*parent),
 * made from the id when the tree holds no such node (it was forgotten, or
 * camfs restarted). attr as for tree_lookup. 0 or -ESTALE. */
int tree_lookup_id(struct tree *t, uint64_t ino, struct tree_attr *attr);
int tree_lookup_parent(struct tree *t, uint64_t ino, uint64_t *parent, struct tree_attr *attr);
/* The inode of name in parent if the kernel holds it, else 0; no
 * reference is taken (for cache invalidation). */
uint64_t tree_peek(struct tree *t, uint64_t parent, const char *name);
/* The kernel dropped n references to ino. */
void tree_forget(struct tree *t, uint64_t ino, uint64_t n);
int tree_getattr(struct tree *t, uint64_t ino, struct tree_attr *attr);
int tree_info(struct tree *t, uint64_t ino, struct tree_node_info *out);
/* The virtual file of a CLIP, DAY_MP4 or EVENT_CLIP node, built when it was
 * looked up: a new reference the caller drops, or NULL; attr gets the
 * attributes of that build (TREE_FIXED: it is never built again, its range
 * had ended and settled when it was built). */
struct vfile *tree_vfile(struct tree *t, uint64_t ino, struct tree_attr *attr);

/* The entries of directory ino (without "." and ".."), sorted by name; the
 * caller frees *out. */
int tree_list(struct tree *t, uint64_t ino, struct tree_entry **out, size_t *n);

/* The bytes of a generated file (status.json, .index.json, clips/README.txt,
 * motion.csv) for node info, made now (TREE_CURRENT, mtime now):
 * malloc'd into *data; the caller frees. */
int tree_render(struct tree *t, const struct tree_node_info *info, char **data, size_t *size);

/* Opens a store file (a STORE_FILE's info.path) for reading: a regular file
 * reached through no symbolic link below the store (store_open_file). An
 * fd, or -ENOENT for anything else. */
int tree_open_store_file(struct tree *t, const char *path);
/* The life of store file path of camera cam, from st (its stat) and the
 * writer; st->st_size becomes what a reader may read now: the writer's
 * committed size (whole fragments) for the segment being written, else its
 * size on disk. */
enum tree_life tree_store_file_life(struct tree *t, int cam, const char *path, struct stat *st);

#endif
