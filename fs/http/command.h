/* command.h - POST /cams/NAME/command: a logged-in user's command to the
 * camera's pushing board ("fps=5", "framesize=7", "pause=1", "status"),
 * handed to the board's connection (pushslot_command). Event loop thread
 * only. See docs/http.md. */
#ifndef CAMFS_HTTP_COMMAND_H
#define CAMFS_HTTP_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

struct http_conn;

/* Whether the request's path is a command's. */
bool http_command_path(const struct http_conn *c);
/* A piece of the request's body (LWS_CALLBACK_HTTP_BODY). */
void http_command_body(struct http_conn *c, const void *in, size_t len);
/* The body is in (LWS_CALLBACK_HTTP_BODY_COMPLETION). */
void http_command_body_done(struct http_conn *c);
/* The request passed its checks and the login: answered once the body is in. */
void http_command_route(struct http_conn *c);

#endif
