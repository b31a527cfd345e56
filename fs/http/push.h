/* push.h - /ws/push/NAME: a browser camera (webview/camera.html) pushes its
 * MediaRecorder output for camera NAME (push = browser). The first message
 * is the camera's token, as text; then binary messages are the stream,
 * queued for the camera's feed (pushslot.h). A newer connection with the
 * token takes the camera over: a phone that lost its network reconnects
 * before the old connection times out. Event loop thread only. See
 * docs/browser-cameras.md. */
#ifndef CAMFS_HTTP_PUSH_H
#define CAMFS_HTTP_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_conn;
struct http_server;

/* The token must come within this; the stream may pause no longer than
 * the camera's stall_seconds. */
#define HTTP_PUSH_TOKEN_S 10
/* Bytes a connection holds while the feed is still finishing the last
 * connection's stream. */
#define HTTP_PUSH_PENDING_MAX (4 * 1024 * 1024)

/* The camera a WebSocket path /ws/push/NAME pushes to, or -1 (not such a
 * path, no such camera, not push = browser). */
int http_push_camera(const struct http_server *s, const char *uri);
/* LWS_CALLBACK_ESTABLISHED of a push path. */
int http_push_open(struct http_conn *c, int cam);
/* LWS_CALLBACK_RECEIVE. Non-zero: close (the reason is set). */
int http_push_receive(struct http_conn *c, const void *in, size_t len);
/* LWS_CALLBACK_SERVER_WRITEABLE: non-zero closes (with the reason kept). */
int http_push_writeable(struct http_conn *c);
/* Once a second: a stalled stream is closed, a waiting one attaches. */
void http_push_tick(struct http_conn *c, int64_t now_us);
/* The connection is gone. */
void http_push_closed(struct http_conn *c);

#endif
