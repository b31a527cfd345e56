/* array.h - growing a malloc'd array by doubling, the one helper the
 * modules that build lists (clips, extents) share. */
#ifndef CAMFS_ARRAY_H
#define CAMFS_ARRAY_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Makes room for one more item in *arrayp (n items of elem bytes, room for
 * *cap): doubles the room when full, starting at 16. 0 or -ENOMEM (the
 * array is then unchanged), also when the doubled size would not fit a
 * size_t: counts can come from files that lie. */
static inline int array_grow(void *arrayp, size_t *cap, size_t n, size_t elem)
{
	void **array = arrayp;
	size_t c;
	void *grown;

	if (n < *cap)
		return 0;
	c = *cap ? *cap : 8;
	if (c > SIZE_MAX / 2 / elem)
		return -ENOMEM;
	c *= 2;
	grown = realloc(*array, c * elem);
	if (!grown)
		return -ENOMEM;
	*array = grown;
	*cap = c;
	return 0;
}

#endif
