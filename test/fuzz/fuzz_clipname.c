/* fuzz_clipname.c - libFuzzer target for clipname_parse: any bytes give 0 or
 * -EINVAL, and an accepted name is a non-empty range that fits the limit. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs/clipname.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A zone with DST, so skipped and repeated hours are reachable; TZ from the
 * environment wins (contrib/fuzz.sh sets it, so a crash replays the same). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setenv("TZ", "Europe/Berlin", 0);
	tzset();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly size + 1 bytes, so ASan catches a read past the NUL. */
	char *name = malloc(size + 1);
	int64_t start_us = 0, end_us = 0;
	int ret;

	if (!name)
		abort();
	memcpy(name, data, size);
	name[size] = '\0';
	ret = clipname_parse(name, &start_us, &end_us);
	if (ret != 0 && ret != -EINVAL)
		abort();
	if (ret == 0) {
		time_t start = start_us / 1000000;
		struct tm tm;
		char shown[32];

		if (start_us >= end_us || end_us - start_us > (int64_t)CLIPNAME_MAX_SECONDS * 1000000 ||
		    start_us % 1000000 != 0 || end_us % 1000000 != 0)
			abort();
		/* The start shown in local time is the name's start, character for
		 * character. */
		if (!localtime_r(&start, &tm) ||
		    strftime(shown, sizeof(shown), "%Y-%m-%dT%H-%M-%S", &tm) != 19 ||
		    strncmp(shown, name, 19) != 0) {
			fprintf(stderr, "%s starts at %s\n", name, shown);
			abort();
		}
	}
	free(name);
	return 0;
}
