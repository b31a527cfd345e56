/* urlpath.h - a request's path, as libwebsockets hands it over, checked and
 * split into the names of tree components. Pure: no I/O; fuzzed. */
#ifndef CAMFS_HTTP_URLPATH_H
#define CAMFS_HTTP_URLPATH_H

#include <stdbool.h>
#include <stddef.h>

#define URLPATH_MAX 1024        /* bytes of a path; longer is 414 */
#define URLPATH_MAX_DEPTH 8     /* components; deeper is 404: the tree is shallower */
#define URLPATH_NAME_MAX 255    /* bytes of one component, as in the mount */

struct urlpath {
	const char *part[URLPATH_MAX_DEPTH];  /* into buf, each NUL-terminated */
	int n;
	bool slash;                 /* the path ended in "/" (a directory asked as one) */
	char buf[URLPATH_MAX + 1];
};

/*
 * libwebsockets has percent-decoded the path once already (and folded "//",
 * "/./" and "/../", turned a literal '+' into a space, refused %00): path is
 * never decoded again here, so "%252e" stays the name "%2e". What it is
 * checked for, whoever produced it:
 *   -ENAMETOOLONG  longer than URLPATH_MAX (414)
 *   -EINVAL        not starting with '/'; a control byte, DEL or '\'; bytes
 *                  that are not shortest-form UTF-8 (overlong, surrogates,
 *                  past U+10FFFF, cut short) (400)
 *   -ENOENT        an empty component inside, ".", "..", a component longer
 *                  than URLPATH_NAME_MAX, more than URLPATH_MAX_DEPTH (404)
 * A space is read back as '+': tree names never hold a space, and clip names
 * hold '+' (".../clips/2026-12-05T10-00-00+5m.mp4"). "/" is zero components.
 */
int urlpath_parse(struct urlpath *out, const char *path, size_t len);

#endif
