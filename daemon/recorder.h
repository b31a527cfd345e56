/* recorder.h - everything that records, as one object with one lifecycle:
 * the writer, a camera per configured camera, the on_event hooks and the
 * upload watcher; made, started and stopped in a fixed order. */
#ifndef CAMFS_RECORDER_H
#define CAMFS_RECORDER_H

#include <stdbool.h>
#include <stddef.h>

struct camera;
struct clock;
struct config;
struct recorder;
struct writer;

/* Prepares the store (creates it, runs recovery) and makes the writer and
 * the cameras; starts no thread. cfg and clock must outlive the recorder.
 * 0 or negative errno (logged). */
int recorder_new(struct recorder **out, const struct config *cfg, const struct clock *clock);

/* For the tree and its exports: cfg->n_cameras cameras, owned by r. */
struct camera **recorder_cameras(struct recorder *r);
struct writer *recorder_writer(struct recorder *r);

/* Starts every thread: writer, cameras (with their substreams), hooks
 * supervisor, upload watcher. Call after daemonizing (a fork keeps only the
 * calling thread). The threads start with SIGINT, SIGTERM and SIGHUP
 * blocked, so only the caller's thread receives them. mountpoint: absolute,
 * for the clip paths given to hooks (copied); NULL if not mounted. */
int recorder_start(struct recorder *r, const char *mountpoint);

/* Whether the writer and every camera's threads go round their loops
 * (writer_alive, camera_alive). When not, the first stuck one's name goes
 * in stuck ("writer" or the camera's). For the service watchdog. */
bool recorder_alive(struct recorder *r, char *stuck, size_t n);

/* Live readers reach end of stream and every camera is asked to stop;
 * returns at once. Call before the exports go, so none is left parked. */
void recorder_request_stop(struct recorder *r);

/* Stops what runs, in reverse (upload watcher, cameras, hooks, writer:
 * what runs hooks goes before the hooks, what pushes to the writer before
 * the writer), and frees. Accepts NULL. */
void recorder_free(struct recorder *r);

#endif
