/* feed.h - GET /events: Server-Sent Events of camera status changes and
 * event starts and ends, so the viewer and scripts need not poll. Event loop
 * thread only. */
#ifndef CAMFS_HTTP_FEED_H
#define CAMFS_HTTP_FEED_H

struct http_conn;
struct http_feed;
struct http_server;

#define HTTP_FEED_KEPT 64          /* events kept for clients that fall behind */
#define HTTP_FEED_PING_S 15        /* a comment line this often keeps proxies open */

int http_feed_new(struct http_feed **out, struct http_server *s);
void http_feed_free(struct http_feed *f);   /* accepts NULL */

/* Answers GET /events: first a "status" event per camera with its state
 * now, then every change:
 *   event: status   data: {"camera", "online", "codec", "width", "height",
 *                          "fps", "since", "error"}
 *   event: motion   data: {"camera", "phase": "start"|"end", "time"}
 * Times are ISO 8601 with the zone's offset. */
void http_feed_start(struct http_conn *c);
int http_feed_writeable(struct http_conn *c);
void http_feed_end(struct http_conn *c);
/* Once a second: compares every camera's status with the last seen. */
void http_feed_tick(struct http_feed *f);

#endif
