/* demo.h - built-in synthetic cameras for `camfs --demo`: H.264 encoded in
 * process by libavcodec, with a running clock drawn into every frame. */
#ifndef CAMFS_DEMO_H
#define CAMFS_DEMO_H

/* URLs understood by source_open(): "demo:moving" (a box crossing the
 * picture) and "demo:static" (a still scene; only the clock changes).
 * Optional query: "demo:moving?size=640x360&fps=15&gop=30". */
#define DEMO_URL_PREFIX "demo:"

struct source_ops;
extern const struct source_ops demo_source_ops;

/* Query limits: size even, 128x96 to 3840x2160; fps 1..60; gop 1..1000
 * frames, default two seconds' worth. Anything else: AVERROR(EINVAL). */

struct demo_rect {
	int x, y, w, h;
};

/* Where the clock is drawn in a width x height demo picture. Outside it a
 * "demo:static" picture never changes. */
void demo_clock_rect(int width, int height, struct demo_rect *r);

#endif
