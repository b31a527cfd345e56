/* service.h - camfs as a systemd service (sd_notify(3)): READY=1 once the
 * tree is mounted and every camera started, STATUS= with the cameras
 * online, WATCHDOG=1 pings only while the writer and every camera's threads
 * go round their loops (recorder_alive), so systemd restarts a wedged
 * daemon, and STOPPING=1 at the end. Outside a Type=notify unit
 * (NOTIFY_SOCKET unset) it does nothing. */
#ifndef CAMFS_SERVICE_H
#define CAMFS_SERVICE_H

struct config;
struct recorder;
struct service;

/* Says READY=1 and starts the thread that keeps STATUS and the watchdog.
 * Call once the recorder runs and after daemonizing. 0 or negative errno. */
int service_start(struct service **out, struct recorder *r, const struct config *cfg);
/* Says STOPPING=1, stops the thread and frees. Accepts NULL. */
void service_free(struct service *s);

#endif
