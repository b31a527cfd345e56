/* uploads.h - the camera-upload watcher: snapshots that cameras upload (by
 * FTP) into their events_incoming folder are filed as the camera's events. */
#ifndef CAMFS_UPLOADS_H
#define CAMFS_UPLOADS_H

#include <stdint.h>

struct config;
struct events;
struct uploads;

/* Called on the watcher thread for each filed upload: stem and path as
 * events_take_upload() wrote them, only valid during the call. */
typedef void uploads_event_fn(int cam, const char *stem, const char *path, int64_t wall_us,
			       void *opaque);

/* Watches cfg->cameras[i].events_incoming, with every folder below it, for
 * each camera that has one; events[i] is camera i's event store (used, not
 * owned; it must outlive the watcher). Missing folders are created (0755:
 * the FTP server's user needs write access to them).
 *
 * One thread, "camfs-uploads", takes each upload once it is complete
 * (closed after writing, or renamed in), files uploads already there at
 * start, and ignores hidden names ('.' first: uploaders' temp files) until
 * they are renamed. A whole JPEG is filed with events_take_upload() (a
 * copy) at the time it is taken, and the upload removed. Anything else
 * goes to <incoming>/rejected/ (never overwriting: name_2.ext, ...),
 * logged; a link, or a file with other hard links, is never read. An
 * upload that cannot be filed (disk full) stays where it is until the next
 * start.
 *
 * Nothing an uploader does in the folder makes the watcher read, move or
 * delete anything outside it: no link is followed (see uploads.c). Disk use
 * is bounded: an upload over cfg->upload_max_size is deleted unread; once
 * a camera filed cfg->upload_max_per_day bytes on a day, its further
 * uploads that day are deleted; rejected/ keeps at most 100 files, and
 * further rejects are deleted. At most 4096 folders per camera are
 * watched.
 *
 * libinotifytools keeps its state in globals, so one watcher per process:
 * -EBUSY while another exists. 0 or negative errno; a folder that cannot be
 * watched is logged and the others still work. on_event may be NULL. */
int uploads_new(struct uploads **out, const struct config *cfg, struct events **events,
		 uploads_event_fn *on_event, void *opaque);

/* Stops the thread (at once, also mid-scan between two files) and frees
 * everything. Accepts NULL. */
void uploads_free(struct uploads *in);

#endif
