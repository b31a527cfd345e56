/* files.h - GET and HEAD of files: the viewer's folder at /, and the tree at
 * /cams; the rules of ranges and conditional requests, pure and tested. */
#ifndef CAMFS_HTTP_FILES_H
#define CAMFS_HTTP_FILES_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct http_conn;

/* The Range header against a body of size bytes: 0 when it does not
 * apply (absent, not bytes=, several ranges, malformed: the whole body is
 * sent), 1 with [*start, *end) for a single satisfiable range, -1 when it
 * cannot be satisfied (416). */
int http_range_parse(const char *header, int64_t size, int64_t *start, int64_t *end);
/* Whether a conditional GET may be answered 304: If-None-Match (weak
 * comparison, "*", lists) when present, else If-Modified-Since against
 * mtime. Empty strings are absent headers. */
bool http_not_modified(const char *if_none_match, const char *if_modified_since,
		       const char *etag, time_t mtime);
/* Whether an Accept header prefers text/html to application/json (the
 * quality of the closest media range of each; "" prefers neither). */
bool http_prefers_html(const char *accept);
/* An RFC 7231 date ("Sun, 06 Nov 1994 08:49:37 GMT"). */
void http_date(time_t t, char out[40]);

/* Answers a path outside /cams, /events and /ws from the viewer's folder. */
void http_files_viewer(struct http_conn *c);
/* Answers a path under /cams from the tree, walked and opened on a
 * worker: a file through the file layer, a directory as its .index.json
 * or, for a browser, an HTML listing. */
void http_files_tree(struct http_conn *c);

#endif
