/* fuzz_pushed.c - libFuzzer target for a browser camera's stream: the bytes
 * a page (or anybody holding the camera's token) sends to /ws/push/NAME,
 * read the way the camera's feed reads them: pieces queued in a push slot,
 * avsource's own AVIO over them, the container named by the first bytes,
 * the Annex B filter, timestamps. Whatever comes, the source opens or
 * refuses, and every packet it gives is one the recorder can take.
 * Input: a byte that sets the piece size, then the stream. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <libavformat/avformat.h>

#include "ingest/avsource.h"
#include "ingest/pushslot.h"
#include "ingest/source.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/stop.h"

#define MAX_PACKETS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Time stands still: no deadline passes while FFmpeg parses (a slow run
 * under the sanitizers would be cut short, and differently each time), and
 * a wait for bytes past the end of the stream lasts the one µs timeout. */
static int64_t still(const struct clock *c)
{
	(void)c;
	return 0;
}

static const struct clock still_clock = { .wall_us = still, .monotonic_us = still };

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	struct stop stop;
	struct pushslot *slot;
	struct source *src = NULL;
	char holder[48];
	size_t piece;
	struct source_opts opts = {
		.url = "", .timeout_us = 1, .stop = &stop, .clock = &still_clock, .tag = "fuzz",
		.ops = &avsource_ops,
	};

	if (size < 1)
		return 0;
	if (!quiet) {
		av_log_set_level(AV_LOG_QUIET);
		log_set_level(LOG_CRIT);
		source_bound_memory();   /* as camfs runs */
		quiet = true;
	}
	piece = 1 + (size_t)data[0] * 64;   /* 1 byte to ~16 KiB: every cut */
	data++, size--;
	check(stop_init(&stop) == 0);
	check(pushslot_new(&slot, &stop, PUSHSLOT_STREAM) == 0);
	opts.push = slot;
	check(pushslot_attach(slot, "fuzz", NULL, NULL, holder) == 0);
	/* What the slot holds at most (PUSHSLOT_QUEUE pieces) is all a page
	 * can have waiting; the rest would wait for the feed. */
	for (size_t off = 0; off < size; off += piece)
		if (pushslot_put_bytes(slot, data + off, size - off < piece ? size - off : piece) < 0)
			break;

	if (source_open(&src, &opts) == 0) {
		AVPacket *pkt = av_packet_alloc();

		check(pkt != NULL);
		check(src->video.par != NULL && src->video.time_base.num > 0 &&
		      src->video.time_base.den > 0);
		for (int n = 0; n < MAX_PACKETS && source_read(src, pkt) == 0; n++) {
			check(pkt->stream_index == SOURCE_VIDEO ||
			      (pkt->stream_index == SOURCE_AUDIO && src->audio.par));
			check(pkt->dts != AV_NOPTS_VALUE);
			av_packet_unref(pkt);
		}
		av_packet_free(&pkt);
		source_close(src);
	}
	pushslot_detach(slot);
	pushslot_free(slot);
	stop_destroy(&stop);
	return 0;
}
