/* fuzz_esp32_wire.c - libFuzzer target for ingest/esp32/wire.c: whatever a
 * board (or anybody on the LAN who can reach esp32_listen) sends as a
 * frame, a text or a status is read within bounds, and what is kept obeys
 * the documented limits; and no command over the board's 127 bytes passes.
 * Input: a selector byte, then the message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/esp32/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_fields(json_t *fields)
{
	const char *key;
	json_t *v;

	check(json_object_size(fields) <= ESP32_FIELDS_MAX);
	json_object_foreach(fields, key, v)
		check(strlen(key) < ESP32_KEY_MAX && json_is_string(v) &&
		      json_string_length(v) < ESP32_VALUE_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char host[ESP32_HOST_MAX];
	struct esp32_text t;
	json_t *fields;
	uint8_t *msg;
	size_t n, jpeg_size;
	int64_t board_s;
	int w, h;

	if (size < 1)
		return 0;
	/* A copy of its own size, so an overrun is caught. */
	n = size - 1;
	msg = malloc(n ? n : 1);
	check(msg != NULL);
	memcpy(msg, data + 1, n);
	switch (data[0] % 5) {
	case 0:
		if (esp32_split_frame(msg, n, &jpeg_size, &board_s) == 0)
			check(jpeg_size >= 4 && jpeg_size <= n && msg[jpeg_size - 1] == 0xd9 &&
			      board_s >= -1 && board_s < 1000000000000LL);
		break;
	case 1:
		if (esp32_jpeg_size(msg, n, &w, &h) == 0)
			check(w > 0 && h > 0 && w < 65536 && h < 65536);
		break;
	case 2:
		if (esp32_parse_text((const char *)msg, n, &t) == 0) {
			check(t.payload >= (const char *)msg && t.payload + t.payload_len <= (const char *)msg + n);
			if (t.kind == ESP32_TEXT_SETTING)
				check(strlen(t.key) > 0 && strlen(t.key) < ESP32_KEY_MAX &&
				      strlen(t.value) < ESP32_VALUE_MAX);
		}
		break;
	case 3:
		if (esp32_parse_status((const char *)msg, n, host, &fields) == 0) {
			check(strlen(host) < ESP32_HOST_MAX && !strchr(host, ' '));
			check_fields(fields);
			json_decref(fields);
		}
		break;
	case 4:
		if (esp32_command_ok((const char *)msg, n))
			check(n >= 1 && n <= ESP32_COMMAND_MAX && !memchr(msg, '\0', n) &&
			      !memchr(msg, '\n', n));
		break;
	}
	free(msg);
	return 0;
}
