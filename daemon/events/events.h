/* events.h - one camera's events in the store:
 *   STORE/<camera>/events/<YYYY-MM-DD>/<HH-MM-SS>-<kind>.jpg   the snapshot
 *   STORE/<camera>/events/<YYYY-MM-DD>/.spans                  when each ran
 * Dates and times are local, of the event's start. A name is never reused:
 * a second event of the same kind in the same second is <HH-MM-SS>-<kind>_2.
 * The tree lists the snapshots and makes each motion event's clip from its
 * span. Thread-safe: the camera thread, the upload watcher and the tree
 * share one struct events per camera. */
#ifndef CAMFS_EVENTS_H
#define CAMFS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVENTS_DIR "events"
#define EVENTS_SPANS ".spans"
/* "HH-MM-SS-camera_NNN" and a NUL, with room to spare. */
#define EVENTS_STEM_MAX 40

struct events;

/* store and camera are copied. */
int events_new(struct events **out, const char *store, const char *camera);
void events_free(struct events *ev);   /* accepts NULL */

/* A motion event starts at wall_us: writes the JPEG (data, size) as its
 * snapshot, records the open span, and remembers it as the camera's open
 * event. Its stem ("10-03-12-motion") goes to stem, the snapshot's store
 * path to path. An event still open is ended at wall_us first. 0 or
 * negative errno; without a JPEG (data NULL) the span is still recorded
 * and -ENODATA returned with stem set, path empty. */
int events_begin(struct events *ev, const char *kind, int64_t wall_us, const void *data,
		 size_t size, char *stem, char path[4096]);

/* The open event ends at wall_us (its span gets the end). No-op without
 * one. 0 or negative errno. */
int events_end(struct events *ev, int64_t wall_us);

/* Files the first size bytes of the open upload src_fd (read from offset
 * 0) as <HH-MM-SS>-camera.jpg for wall_us: a copy, written under a
 * temporary name, fsynced, then renamed into place. Never replaces a file.
 * The upload itself is not touched (the caller removes it). Its stem and
 * store path are written out as for events_begin. 0 or negative errno
 * (-ENODATA: src_fd had fewer bytes). */
int events_take_upload(struct events *ev, int src_fd, size_t size, int64_t wall_us, char *stem,
		       char path[4096]);

/* The same for a JPEG in memory: an event the camera itself reported. */
int events_add_camera(struct events *ev, const void *jpeg, size_t size, int64_t wall_us,
		      char *stem, char path[4096]);

/* The span of event stem on date ("YYYY-MM-DD"): start and end, µs. An
 * event still open has *open true and end = now. A span with a start but
 * no end that is not open (camfs stopped during it) ends at its start.
 * -ENOENT when unknown. */
int events_span(struct events *ev, const char *date, const char *stem, int64_t now_us,
		int64_t *start_us, int64_t *end_us, bool *open);

/* Deletes STORE/camera/events/ days older than retain_days (0: keep
 * forever) at now_us: those dated before the day retain_days calendar days
 * before now_us's local date. Folders not named as dates stay. Needs no
 * struct events: the writer runs it for every camera, recording or not.
 * Returns the number of days deleted, or negative errno. */
int events_expire(const char *store, const char *camera, int retain_days, int64_t now_us);

/* True for a snapshot name: <HH-MM-SS>-<kind>[_N].jpg, kind motion or
 * camera. stem (if not NULL) gets the name without ".jpg". */
bool events_is_snapshot_name(const char *name, char stem[EVENTS_STEM_MAX]);

#endif
