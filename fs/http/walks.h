/* walks.h - the tree walks of recently served clips, held a while: a
 * seeking player's next Range request finds the clip's node and its build,
 * as the kernel's dentry cache keeps them for the mount. */
#ifndef CAMFS_HTTP_WALKS_H
#define CAMFS_HTTP_WALKS_H

#include <stdint.h>

#define HTTP_WALKS_MAX 8                          /* walks held at most */
#define HTTP_WALKS_IDLE_US (30 * 1000000LL)       /* released unused after */

struct http_walks;

/* release(opaque, ino) drops a walk that ended at ino (tree_walk_release). */
int http_walks_new(struct http_walks **out, void (*release)(void *opaque, uint64_t ino),
		   void *opaque);
/* Releases every walk held. Accepts NULL. */
void http_walks_free(struct http_walks *w);
/* Takes over the walk of path, which ended at ino, used at now_us. When
 * path is held already, the new walk is released at once (the held one
 * holds the same node) and the held one counts as used; past
 * HTTP_WALKS_MAX the least recently used is released. Thread-safe. */
void http_walks_hold(struct http_walks *w, const char *path, uint64_t ino, int64_t now_us);
/* Releases the walks unused since now_us - HTTP_WALKS_IDLE_US: a clip
 * nobody reads keeps no segment files open. Thread-safe. */
void http_walks_expire(struct http_walks *w, int64_t now_us);

#endif
