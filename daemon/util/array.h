/* array.h - growing a malloc'd array by doubling, the one helper the
 * modules that build lists (clips, extents) and reassemble messages (a
 * WebSocket's fragments) share. */
#ifndef CAMFS_ARRAY_H
#define CAMFS_ARRAY_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Makes room for need items in *arrayp (of elem bytes, room for *cap):
 * doubles the room until they fit, starting at 16. 0 or -ENOMEM (the array
 * is then unchanged), also when the doubled size would not fit a size_t:
 * counts can come from files that lie. */
static inline int array_reserve(void *arrayp, size_t *cap, size_t need, size_t elem)
{
	void **array = arrayp;
	size_t c;
	void *grown;

	if (need <= *cap)
		return 0;
	c = *cap ? *cap : 8;
	do {
		if (c > SIZE_MAX / 2 / elem)
			return -ENOMEM;
		c *= 2;
	} while (c < need);
	grown = realloc(*array, c * elem);
	if (!grown)
		return -ENOMEM;
	*array = grown;
	*cap = c;
	return 0;
}

/* Makes room for one more item after n: array_reserve(n + 1). */
static inline int array_grow(void *arrayp, size_t *cap, size_t n, size_t elem)
{
	return array_reserve(arrayp, cap, n + 1, elem);
}

#endif
