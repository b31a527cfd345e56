/* fuzz_index.c - libFuzzer target for index_read: any file gives 0 or
 * -EBADMSG, and an index that is returned points only inside what it covers. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mp4/index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd = -1;   /* one memfd, refilled for every input */

static void check(bool ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct index ix;
	int ret;

	if (fd < 0)
		fd = memfd_create("fuzz_index", MFD_CLOEXEC);
	check(fd >= 0);
	check(ftruncate(fd, 0) == 0);
	check(size == 0 || pwrite(fd, data, size, 0) == (ssize_t)size);

	ret = index_read(fd, size, &ix);
	check(ret == 0 || ret == -EBADMSG);
	if (ret == 0) {
		check(ix.indexed_size <= size);
		check(ix.n_tracks >= 1 && ix.n_tracks <= INDEX_MAX_TRACKS);
		for (size_t f = 0; f < ix.n_fragments; f++)
			check(ix.fragments[f].moof_offset < ix.indexed_size);
		for (int t = 0; t < ix.n_tracks; t++) {
			const struct index_track *tr = &ix.tracks[t];

			check(tr->timescale > 0 && tr->stsd && tr->stsd_size >= 8);
			for (size_t i = 0; i < tr->n_samples; i++) {
				const struct index_sample *s = &tr->samples[i];

				check(s->offset <= ix.indexed_size &&
				      s->size <= ix.indexed_size - s->offset);
				check(s->fragment < ix.n_fragments);
				index_wall_us(&ix, t, s->dts);
			}
			index_wall_us(&ix, t, UINT64_MAX);
		}
		index_video_track(&ix);
	} else {
		check(ix.n_tracks == 0 && !ix.fragments);
	}
	index_clear(&ix);
	return 0;
}
