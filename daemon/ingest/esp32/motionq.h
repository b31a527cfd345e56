/* motionq.h - a board's MotionStart, filed off the listener's loop: filing
 * a camera event writes and fsyncs its JPEG (tens of ms on a busy disk),
 * which the one loop every board shares cannot spend while boards send
 * frames. A bounded queue and one thread ("camfs-esp32-ev") hand each to
 * its camera in the order the boards sent them. (A MotionEnd is only
 * logged: the listener does that itself.) */
#ifndef CAMFS_ESP32_MOTIONQ_H
#define CAMFS_ESP32_MOTIONQ_H

#include <stddef.h>
#include <stdint.h>

struct camera;
struct motionq;

/* Reports waiting at most: each holds a copy of its snapshot. */
#define MOTIONQ_MAX 8

/* Starts the thread. 0 or negative errno. */
int motionq_new(struct motionq **out);
/* Files what is queued, then ends the thread. Accepts NULL. */
void motionq_free(struct motionq *q);
/* Queues the board's MotionStart at wall_us for cam (camera_device_motion),
 * with a copy of jpeg (may be NULL). -ENOBUFS when MOTIONQ_MAX wait (a
 * board that sends reports faster than a disk takes them), -ENOMEM. */
int motionq_put(struct motionq *q, struct camera *cam, int64_t wall_us, const void *jpeg,
		size_t size);

#endif
