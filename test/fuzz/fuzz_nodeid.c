/* fuzz_nodeid.c - libFuzzer target for nodeid.c: any id (an NFS handle a
 * client made up) reads back as a path or -ESTALE, within the buffer; and a
 * file name of a day folder that gets an id of its own reads back as
 * itself. Input: 8 bytes of id, a kind byte, then the name. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/nodeid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const cameras[] = { "door", "garage" };
	char name[256], path[64];
	uint64_t id, cam, day, file;
	enum tree_kind kind;
	size_t n;
	int ret;

	if (size < 9)
		return 0;
	memcpy(&id, data, sizeof(id));
	kind = (enum tree_kind)(data[8] % 16);
	n = size - 9 < sizeof(name) - 1 ? size - 9 : sizeof(name) - 1;
	memcpy(name, data + 9, n);
	name[n] = '\0';

	/* A small buffer: a path that does not fit is -ESTALE, not cut. */
	ret = nodeid_path(id, cameras, 2, path, sizeof(path));
	check(ret == 0 || ret == -ESTALE);
	if (ret == 0)
		check(strlen(path) < sizeof(path) && !strstr(path, "..") && path[0] != '/');

	cam = nodeid_child(TREE_ROOT_INO, TREE_ROOT, TREE_CAMERA, "door", "door");
	day = nodeid_child(cam, TREE_CAMERA, TREE_DAY, "door", "2026-12-06");
	file = nodeid_child(day, TREE_DAY, kind, "door", name);
	check(file != 0 && file != TREE_ROOT_INO);
	if (kind == TREE_STORE_FILE && nodeid_path(file, cameras, 2, path, sizeof(path)) == 0) {
		const char *slash = strrchr(path, '/');

		check(slash && strcmp(slash + 1, name) == 0);
	}
	return 0;
}
