/* substream.h - a camera's motion substream (motion_url): a low-resolution
 * stream of the same camera, read by a feed of its own only to score
 * motion, so recording never waits on it. Its failures are logged once per
 * reason and never take the camera offline. */
#ifndef CAMFS_SUBSTREAM_H
#define CAMFS_SUBSTREAM_H

#include <stdbool.h>
#include <stdint.h>

struct detector;
struct source_opts;
struct substream;

/* Starts a feed of opts (its stop token ends it; its pointers must outlive
 * the substream) on thread "thread", scoring its video into detector. 0 or
 * negative errno. */
int substream_start(struct substream **out, const struct source_opts *opts, const char *thread,
		    struct detector *detector);
/* feed_alive of its feed (feed.h). */
bool substream_alive(struct substream *s, int64_t now_us);
/* Joins the feed, which ends once opts->stop is raised. Accepts NULL. */
void substream_free(struct substream *s);

#endif
