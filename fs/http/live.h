/* live.h - the HTTP export's live streams: live.mp4 as an endless response
 * from the camera's hub, live.mjpeg of keyframe JPEGs, and /ws/live, every
 * camera's live.mp4 multiplexed on one WebSocket. Event loop thread only. */
#ifndef CAMFS_HTTP_LIVE_H
#define CAMFS_HTTP_LIVE_H

#include <stdbool.h>
#include <stddef.h>

struct http_conn;
struct http_live;
struct http_server;

#define HTTP_LIVE_WS_MSG_MAX 4096      /* a control message, reassembled */
#define HTTP_MJPEG_BOUNDARY "camfsframe"

int http_live_new(struct http_live **out, struct http_server *s);
/* After every connection closed. Accepts NULL. */
void http_live_free(struct http_live *l);

/* Answers GET/HEAD of camera cam's live.mp4, or its live.mjpeg. */
void http_live_start(struct http_conn *c, int cam, bool mjpeg);
/* Writes what is there; -1 closes. */
int http_live_writeable(struct http_conn *c);
/* The fps cap of a live.mjpeg client let the next picture go. */
int http_live_timer(struct http_conn *c);
/* c's live state goes (the request ended or the connection closed). */
void http_live_end(struct http_conn *c);
/* On the loop after a wakeup: MJPEG cameras with news. */
void http_live_service(struct http_live *l);

/* /ws/live: each binary message is one unit of a camera's live.mp4 (its
 * init segment or one moof+mdat fragment), prefixed by one byte n and the n
 * bytes of the camera's name. The client sends text messages
 * {"cameras": ["door", ...]} naming the cameras it wants (replacing the
 * previous set); the server sends {"camera": "door", "end": true} when a
 * camera's stream ends (a codec change: a new init segment follows). */
int http_live_ws_open(struct http_conn *c);
int http_live_ws_receive(struct http_conn *c, const void *in, size_t len);
int http_live_ws_writeable(struct http_conn *c);

#endif
