/* listener.h - where ESP32-CAM boards connect (esp32_listen): a WebSocket
 * server on its own port and thread ("camfs-esp32") that takes each board's
 * frames, texts and commands (docs/esp32.md). Boards send no password: only
 * esp32_allow's networks may connect, and every buffer and count a board
 * can make us hold is bounded. */
#ifndef CAMFS_ESP32_LISTENER_H
#define CAMFS_ESP32_LISTENER_H

struct camera;
struct clock;
struct config;
struct esp32_listener;

/* Boards connected at once; more are turned away. */
#define ESP32_BOARDS_MAX 16
/* The largest message: a UXGA JPEG at the best quality is ~400 KiB. */
#define ESP32_MESSAGE_MAX (1024 * 1024)
/* A board that completes no message for this long is closed (the firmware
 * sends a frame, a status or "paused" at least every 2 s; the server it
 * was written for closed quiet boards after 10 s). */
#define ESP32_IDLE_S 10

/* Binds cfg->esp32_listen (a port in use fails here, before daemonizing);
 * starts no thread. *out is NULL when it is off. cfg, cams and clock must
 * outlive it. */
int esp32_listener_new(struct esp32_listener **out, const struct config *cfg,
		       struct camera **cams, const struct clock *clock);
/* Starts the thread. Accepts NULL. */
int esp32_listener_start(struct esp32_listener *l);
/* Closes every board (their cameras see the end) and frees; before the
 * cameras go. Accepts NULL. */
void esp32_listener_free(struct esp32_listener *l);

#endif
