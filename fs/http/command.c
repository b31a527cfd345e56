/* command.c - the body is kept (bounded) as it comes; the answer waits for
 * both the whole body and the login, in whichever order they finish. */
#include "fs/http/command.h"

#include <errno.h>
#include <string.h>

#include "config.h"
#include "fs/http/http_internal.h"
#include "ingest/camera.h"
#include "ingest/esp32/wire.h"
#include "ingest/pushslot.h"
#include "util/log.h"

bool http_command_path(const struct http_conn *c)
{
	const struct urlpath *u = &c->req.path;

	return u->n == 3 && strcmp(u->part[0], "cams") == 0 &&
	       strcmp(u->part[2], "command") == 0;
}

void http_command_body(struct http_conn *c, const void *in, size_t len)
{
	struct http_request *r = &c->req;

	if (len > sizeof(r->command) - r->command_len) {
		r->command_over = true;
		return;
	}
	memcpy(r->command + r->command_len, in, len);
	r->command_len += len;
}

static void answer(struct http_conn *c)
{
	struct http_request *r = &c->req;
	int cam = http_camera_index(c->srv, r->path.part[1]);
	struct pushslot *slot = cam >= 0 && c->srv->cfg->cameras[cam].push == CONFIG_PUSH_ESP32 ?
		camera_pushslot(c->srv->cams[cam]) : NULL;
	size_t len = r->command_len;
	int ret;

	while (len && (r->command[len - 1] == '\n' || r->command[len - 1] == '\r'))
		len--;
	if (!slot) {
		http_error(c, 404, "404 Not a camera that takes commands (push = esp32)\n");
		return;
	}
	if (r->command_over || len > ESP32_COMMAND_MAX) {
		http_error(c, 413, "413 A command is at most 127 bytes: the board's buffer holds "
			   "no more\n");
		return;
	}
	if (!esp32_command_ok(r->command, len)) {
		http_error(c, 400, "400 Not a command: KEY=VALUE[;KEY=VALUE...] or status\n");
		return;
	}
	if (memmem(r->command, len, "reset", 5) && !r->confirm_reset) {
		http_error(c, 400, "400 reset reboots the board: add ?confirm=reset\n");
		return;
	}
	ret = pushslot_command(slot, r->command, len);
	if (ret == -ENOTCONN) {
		http_error(c, 503, "503 The board is not connected\n");
	} else if (ret == -EBUSY) {
		http_add_header(c, "retry-after:", "1");
		http_error(c, 409, "409 Another command is waiting to be sent\n");
	} else if (ret < 0) {
		http_error(c, 500, "500 Cannot send\n");
	} else {
		log_info(c->srv->cfg->cameras[cam].name, "%s%s%s sent a command: %.*s", r->peer,
			 r->user[0] ? " as " : "", r->user, (int)len, r->command);
		http_error(c, 202, "202 Sent to the board\n");
	}
}

void http_command_body_done(struct http_conn *c)
{
	c->req.command_done = true;
	if (c->req.command_routed)
		answer(c);
}

void http_command_route(struct http_conn *c)
{
	c->req.command_routed = true;
	if (c->req.command_done)
		answer(c);
}
