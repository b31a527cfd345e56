/* wire.h - what an ESP32-CAM board sends and may be sent, as bytes
 * (docs/esp32.md): a frame is a JPEG with the board's time appended in
 * decimal digits; a text is "#TIME|PAYLOAD"; a command is "k=v;k=v" under
 * 128 bytes. Pure functions on untrusted input, no allocation beyond the
 * status's JSON; the listener and the fuzzer call them. */
#ifndef CAMFS_ESP32_WIRE_H
#define CAMFS_ESP32_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* The board fills a 128-byte buffer with an unbounded sprintf: a longer
 * command overwrites its memory. */
#define ESP32_COMMAND_MAX 127
#define ESP32_HOST_MAX 64          /* a hostName and its NUL */
#define ESP32_KEY_MAX 32           /* a setting's name and its NUL */
#define ESP32_VALUE_MAX 64         /* a setting's value and its NUL */
/* Status fields and settings kept per board: a board cannot make us hold
 * more. */
#define ESP32_FIELDS_MAX 48

/* Splits a binary message into its JPEG (FF D8 ... last FF D9) and the
 * board's time after it. *board_s is -1 when no digits follow, or what
 * follows is not 1 to 12 digits. -EINVAL: not a JPEG (no FF D8 at the
 * start, or no FF D9 within the last bytes). */
int esp32_split_frame(const uint8_t *msg, size_t len, size_t *jpeg_size, int64_t *board_s);

/* A JPEG's picture size from its first SOF marker. -EINVAL if none comes
 * before the scan, or a segment runs past the end. */
int esp32_jpeg_size(const uint8_t *jpeg, size_t len, int *width, int *height);

enum esp32_text_kind {
	ESP32_TEXT_STATUS,        /* a JSON object */
	ESP32_TEXT_MOTION_START,
	ESP32_TEXT_MOTION_END,
	ESP32_TEXT_PAUSED,
	ESP32_TEXT_SETTING,       /* key=value */
};

struct esp32_text {
	enum esp32_text_kind kind;
	int64_t board_s;              /* the board's time */
	const char *payload;          /* into the message; not NUL-terminated */
	size_t payload_len;
	char key[ESP32_KEY_MAX];      /* ESP32_TEXT_SETTING */
	char value[ESP32_VALUE_MAX];
};

/* Parses "#TIME|PAYLOAD". -EINVAL: not the protocol (no "#digits|", an
 * unknown payload, a setting whose key is not [A-Za-z0-9_] or whose value
 * is not printable or too long). */
int esp32_parse_text(const char *msg, size_t len, struct esp32_text *out);

/* The status JSON: its hostName into host ("" when none or not a short
 * printable string), and *fields (may be NULL: not wanted) a new object of
 * at most ESP32_FIELDS_MAX of its scalar members, each as a string.
 * -EINVAL: not a JSON object. */
int esp32_parse_status(const char *json, size_t len, char host[ESP32_HOST_MAX],
		       json_t **fields);

/* Whether cmd may go to a board: 1..ESP32_COMMAND_MAX bytes, "status",
 * "status?q", or key[=value] items joined by ';' with keys of
 * [A-Za-z0-9_] and printable values without ';'. */
bool esp32_command_ok(const char *cmd, size_t len);

#endif
