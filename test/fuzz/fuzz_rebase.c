/* fuzz_rebase.c - libFuzzer target for rebase.c: any init segment and
 * fragment give 0 or -EBADMSG and no access outside them. Input: a 16-bit
 * big-endian init length, the init, then the fragment. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libavutil/intreadwrite.h>

#include "mp4/rebase.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rebase rb;
	size_t n, head, at;
	uint32_t ts;
	uint8_t *init, *frag, *out;
	int ret;

	if (size < 2)
		return 0;
	n = AV_RB16(data);
	if (n > size - 2)
		return 0;
	/* Copies of their own size, so any overrun is caught. */
	init = malloc(n ? n : 1);
	frag = malloc(size - 2 - n ? size - 2 - n : 1);
	check(init && frag);
	memcpy(init, data + 2, n);
	memcpy(frag, data + 2 + n, size - 2 - n);

	out = malloc(rebase_header_size(n));
	check(out != NULL);
	ret = rebase_header(init, n, out, &at, &ts);
	check(ret == 0 || ret == -EBADMSG);
	if (ret == 0)
		check(at + 8 <= rebase_header_size(n));
	free(out);

	ret = rebase_init(&rb, init, n);
	check(ret == 0 || ret == -EBADMSG);
	if (ret == 0) {
		check(rb.n_tracks >= 1 && rb.n_tracks <= REBASE_MAX_TRACKS);
		ret = rebase_start(&rb, frag, size - 2 - n);
		check(ret == 0 || ret == -EBADMSG);
		head = rebase_head_size(frag, size - 2 - n);
		check(head <= size - 2 - n);
		if (ret == 0 && head) {
			out = malloc(head);
			check(out != NULL);
			ret = rebase_head(&rb, frag, head, out);
			check(ret == 0 || ret == -EBADMSG);
			free(out);
		}
	}
	free(init);
	free(frag);
	return 0;
}
