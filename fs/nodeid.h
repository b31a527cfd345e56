/* nodeid.h - node ids derived from what a node is (its camera's name, its
 * kind, its date, its name), so the same file has the same id whenever it
 * is looked up, after the kernel forgot it and across a restart: what NFS
 * file handles need (libfuse doc/README.NFS). An id also reads back as the
 * node's path, for a handle the tree holds no node for. The scheme is in
 * docs/tree-and-files.md. */
#ifndef CAMFS_NODEID_H
#define CAMFS_NODEID_H

#include <stddef.h>
#include <stdint.h>

#include "fs/tree.h"

/* The id of a node of kind, named name, in the directory of id dir (of
 * dir_kind). camera: its camera's name (NULL at the root). Never 0 or
 * TREE_ROOT_INO. A name the scheme has no room for (a clip's range, a
 * suffix over 15) gets a hash of its path: the same every time, but it does
 * not read back. */
uint64_t nodeid_child(uint64_t dir, enum tree_kind dir_kind, enum tree_kind kind,
		      const char *camera, const char *name);

/* The same name's hashed id: for the rare id taken by another node. */
uint64_t nodeid_hashed(uint64_t dir, const char *name);

/* The path from the root ("door/2026-12-06/10-00-00.mp4", "" for the
 * root) of the node with id, among the cameras named cameras[0..n-1].
 * 0, or -ESTALE for an id that does not read back. */
int nodeid_path(uint64_t id, const char *const *cameras, int n, char *path, size_t size);

/* The 16 bits that stand for a camera name in its nodes' ids. */
uint16_t nodeid_camera(const char *camera);

#endif
