/* server.h - the HTTP export: the tree at /cams, the viewer at /, live
 * streams, the event feed; libwebsockets on one event loop thread, blocking
 * work on a few workers. See docs/http.md. */
#ifndef CAMFS_HTTP_SERVER_H
#define CAMFS_HTTP_SERVER_H

struct camera;
struct config;
struct http_server;
struct tree;

/* Binds cfg->http (a port in use fails here, before daemonizing) and loads
 * the TLS certificate and the users. Starts no thread. cams and tree must
 * outlive the server. *out is NULL when cfg->http is off. */
int http_server_new(struct http_server **out, const struct config *cfg, struct camera **cams,
		    struct tree *tree);
/* Starts the event loop thread "camfs-http" and its workers, and takes
 * SIGHUP (read the TLS certificate and users again) from whatever handled
 * it before: call it after mount_new. Accepts NULL. */
int http_server_start(struct http_server *s);
/* Stops, closes every connection, frees. Before the tree and the cameras
 * go. Accepts NULL. */
void http_server_free(struct http_server *s);

#endif
