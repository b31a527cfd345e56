/* fuzz_urlpath.c - libFuzzer target for urlpath_parse: any bytes give 0 or
 * a refusal, and what is accepted is only names the tree could hold. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/http/urlpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly size bytes, no NUL: ASan catches a read past the end. */
	char *path = malloc(size ? size : 1);
	struct urlpath u;
	size_t total = 0;
	int ret;

	if (!path)
		abort();
	memcpy(path, data, size);
	ret = urlpath_parse(&u, path, size);
	if (ret != 0 && ret != -EINVAL && ret != -ENOENT && ret != -ENAMETOOLONG)
		abort();
	if (ret == 0) {
		if (u.n < 0 || u.n > URLPATH_MAX_DEPTH)
			abort();
		for (int i = 0; i < u.n; i++) {
			size_t len = strlen(u.part[i]);

			if (len == 0 || len > URLPATH_NAME_MAX || strchr(u.part[i], '/') ||
			    strchr(u.part[i], '\\') || strchr(u.part[i], ' ') ||
			    strcmp(u.part[i], ".") == 0 || strcmp(u.part[i], "..") == 0)
				abort();
			for (size_t k = 0; k < len; k++)
				if ((unsigned char)u.part[i][k] < 0x20 || u.part[i][k] == 0x7f)
					abort();
			total += len + 1;
		}
		if (total > size)
			abort();
	}
	free(path);
	return 0;
}
