/* substream.h - a camera's motion substream (motion_url): a low-resolution
 * stream of the same camera, read on its own thread only to score motion,
 * so recording never waits on it. Reconnects with backoff; its failures
 * are logged once per reason and never take the camera offline. */
#ifndef CAMFS_SUBSTREAM_H
#define CAMFS_SUBSTREAM_H

struct camera;
struct substream;

/* Starts reading cam->conf->motion_url into cam->detector. 0 or negative
 * errno. */
int substream_start(struct substream **out, struct camera *cam);
/* Joins the thread, which ends once camera_request_stop(cam) was called.
 * Accepts NULL. */
void substream_free(struct substream *s);

#endif
