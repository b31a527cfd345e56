/* fuzz_http_request.c - libFuzzer target for request handling: the input is
 * the bytes a client sends on one connection (any number of requests,
 * HTTP/1.1 or an h2 preface, WebSocket upgrades), served by a real server
 * with no cameras; every answer must be well formed and every connection
 * freed. The header parsers are also fed the input directly. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "fs/http/auth.h"
#include "fs/http/feed.h"
#include "fs/http/files.h"
#include "fs/http/http_internal.h"
#include "fs/http/server.h"
#include "fs/tree.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config cfg;
static struct http_server *srv;
static struct tree *tree;   /* no cameras: the root, its listing, status.json */
static char webview[] = "/tmp/camfs-fuzz-web-XXXXXX";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[64];
	FILE *f;

	(void)argc;
	(void)argv;
	if (!mkdtemp(webview))
		abort();
	snprintf(path, sizeof(path), "%s/index.html", webview);
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs("<!doctype html>\n", f);
	fclose(f);
	config_init(&cfg);
	cfg.http_webview = strdup(webview);
	cfg.http_rate = 0;
	cfg.http_cors = strdup("https://a.example");
	/* Listens, unused: the fuzzer's connections are adopted. Port from
	 * the pid so parallel jobs do not collide. */
	snprintf(cfg.http.host, sizeof(cfg.http.host), "127.0.0.1");
	cfg.http.port = 20000 + getpid() % 20000;
	if (tree_new(&tree, &cfg, NULL, NULL) < 0 || http_server_new(&srv, &cfg, NULL, tree) < 0 ||
	    http_pool_new(&srv->pool, 1, 4, (void (*)(void *))lws_cancel_service, srv->ctx) < 0)
		abort();
	return 0;
}

/* One turn of the loop, never blocking. */
static void turn(void)
{
	lws_cancel_service(srv->ctx);
	lws_service(srv->ctx, 0);
}

static void parsers(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), user[HTTP_AUTH_USER_MAX], password[256];
	int64_t start, end;

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (http_range_parse(s, 1000, &start, &end) == 1 &&
	    (start < 0 || end > 1000 || start >= end))
		abort();
	http_not_modified(s, s, "\"a\"", 0);
	http_not_modified("", s, "\"a\"", 0);
	http_prefers_html(s);
	if (http_auth_parse_basic(s, user, password, sizeof(password)) == 0 &&
	    (strlen(user) == 0 || strchr(user, ':')))
		abort();
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	uint8_t buf[65536];

	parsers(data, size);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (http_server_adopt(srv, sv[0]) < 0) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	if (size && write(sv[1], data, size > 60000 ? 60000 : size) < 0)
		abort();
	shutdown(sv[1], SHUT_WR);
	/* Serve until the server closes, or a bounded number of turns (an
	 * endless /events answer never closes by itself). */
	for (int i = 0; i < 64; i++) {
		ssize_t n;

		turn();
		n = read(sv[1], buf, sizeof(buf));
		if (n == 0)
			break;
		if (n > 0 && i == 0 && size >= 4 && memcmp(data, "GET ", 4) == 0 &&
		    memcmp(buf, "HTTP/1.", 7) != 0 && memcmp(buf, "\x16\x03", 2) != 0)
			abort();   /* an HTTP/1.1 request gets an HTTP/1.1 answer or none */
	}
	close(sv[1]);
	for (int i = 0; i < 64 && srv->n_conns > 0; i++)
		turn();
	/* An idle /events stream learns its client left at its next write:
	 * the feed's ping, every HTTP_FEED_PING_S ticks. */
	for (int i = 0; i < HTTP_FEED_PING_S && srv->n_conns > 0; i++)
		http_feed_tick(srv->feed);
	/* Up to 2 s, not a number of turns: with every fuzzer on the machine
	 * at once, a pool worker answering a file may not have run yet. */
	for (int i = 0; i < 2000 && (srv->n_conns > 0 || srv->n_busy > 0); i++) {
		turn();
		if (srv->n_conns > 0 || srv->n_busy > 0)
			usleep(1000);
	}
	if (srv->n_conns != 0 || srv->n_busy != 0)
		abort();   /* a connection or its count outlived the client */
	return 0;
}
