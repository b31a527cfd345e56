/* pushslot.h - where a pushing device meets its camera: the connection
 * thread attaches to the camera's slot, puts frames (or bytes) in,
 * detaches; the camera's feed opens the slot as a source, waiting for a
 * device to attach. At most one device per slot. Two kinds:
 * - JPEG frames (ESP32 boards): pushslot_source_ops reads them;
 * - a byte stream of a container (a browser's MediaRecorder output): the
 *   libavformat source reads it through pushslot_stream_*; one connection
 *   is one stream, read from its first byte by one feed session.
 * Also keeps what the device says of itself (status.json's "board") and
 * its one pending command. Thread-safe. */
#ifndef CAMFS_PUSHSLOT_H
#define CAMFS_PUSHSLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ingest/source.h"

struct pushslot;
struct stop;

/* Packets queued for the feed: ~6 s of a 10 fps board. */
#define PUSHSLOT_QUEUE 64
/* The longest command a device takes, and its NUL. */
#define PUSHSLOT_COMMAND_MAX 128

/* The source for a feed whose source_opts.push is a slot. Its open waits
 * for a device (SOURCE_ERROR_NO_DEVICE past the timeout), then for the
 * first frame, which gives the stream's size. Video only, MJPEG, pts in
 * µs of the device's clock (wall time); packet_wall_us is set. */
extern const struct source_ops pushslot_source_ops;

/* A byte stream is queued in pieces of at most this. */
#define PUSHSLOT_PIECE (64 * 1024)

enum pushslot_kind { PUSHSLOT_JPEG, PUSHSLOT_STREAM };

/* stop: the camera's token; it wakes a waiting open. */
int pushslot_new(struct pushslot **out, struct stop *stop, enum pushslot_kind kind);
void pushslot_free(struct pushslot *s);   /* accepts NULL */

/* Connection side. attach: -EBUSY when a device is attached already (its
 * address goes to holder, for the message); a stream slot: -EAGAIN while
 * the feed still reads the last connection's stream (moments). wake(opaque)
 * is called (from any thread) when a command is waiting. */
int pushslot_attach(struct pushslot *s, const char *peer, void (*wake)(void *), void *opaque,
		    char holder[48]);
/* A JPEG taken at wall_us by the device's clock. -EPIPE/-ENOBUFS as
 * inbox_put: the feed is not keeping up, which it notices itself. */
int pushslot_put_jpeg(struct pushslot *s, const uint8_t *jpeg, size_t size, int64_t wall_us);
/* The next piece of a stream (size <= PUSHSLOT_PIECE). Errors as
 * pushslot_put_jpeg; -EPIPE also when the feed gave up on this stream
 * (it restarted mid-stream): the device must connect again. */
int pushslot_put_bytes(struct pushslot *s, const uint8_t *data, size_t size);
void pushslot_detach(struct pushslot *s);
/* Replaces (replace) or updates the device's fields; takes fields. Keeps
 * at most max members. */
void pushslot_set_fields(struct pushslot *s, json_t *fields, bool replace, size_t max);
/* The waiting command into out (NUL-terminated), which is then sent; false
 * when none. */
bool pushslot_take_command(struct pushslot *s, char out[PUSHSLOT_COMMAND_MAX]);

/* Anyone: a copy of the fields with "connected", "address" (NULL when
 * none has attached). */
json_t *pushslot_fields(struct pushslot *s);
/* Queues cmd for the attached device: -ENOTCONN without one, -EBUSY while
 * another waits, -EMSGSIZE if too long. */
int pushslot_command(struct pushslot *s, const char *cmd, size_t len);

/* Feed side of a stream slot (the libavformat source). begin waits until
 * deadline_us (CLOCK_MONOTONIC) for a connection whose stream nobody read
 * yet: 0, SOURCE_ERROR_NO_DEVICE, AVERROR_EXIT. read takes the next piece
 * (inbox_take's answers). end: this session reads no more. */
int pushslot_stream_begin(struct pushslot *s, int64_t deadline_us);
int pushslot_stream_read(struct pushslot *s, AVPacket *pkt, int64_t deadline_us);
void pushslot_stream_end(struct pushslot *s);

#endif
