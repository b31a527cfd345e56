/* demo.h - built-in synthetic cameras for `camfs --demo`: H.264 encoded in
 * process by libavcodec, with a running clock drawn into every frame. */
#ifndef CAMFS_DEMO_H
#define CAMFS_DEMO_H

/* URLs understood by source_open(): "demo:moving" (a box crossing the
 * picture) and "demo:static" (a still scene; only the clock changes).
 * Optional query: "demo:moving?size=640x360&fps=15&gop=30". */
#define DEMO_URL_PREFIX "demo:"

#endif
