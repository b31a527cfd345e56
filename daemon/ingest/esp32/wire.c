/* wire.c - the board's formats, checked byte by byte: everything here comes
 * from a LAN peer that sends no password. */
#include "ingest/esp32/wire.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libavutil/intreadwrite.h>

/* The time after FF D9 is at most 12 digits; anything else there is not
 * a frame of this protocol. */
#define TRAILER_MAX 12

int esp32_split_frame(const uint8_t *msg, size_t len, size_t *jpeg_size, int64_t *board_s)
{
	size_t end = 0;

	*board_s = -1;
	if (len < 4 || msg[0] != 0xff || msg[1] != 0xd8)
		return -EINVAL;
	for (size_t i = len - 2; i >= 2 && len - i <= TRAILER_MAX + 2; i--)
		if (msg[i] == 0xff && msg[i + 1] == 0xd9) {
			end = i + 2;
			break;
		}
	if (!end)
		return -EINVAL;
	*jpeg_size = end;
	if (end < len) {
		int64_t t = 0;

		for (size_t i = end; i < len; i++) {
			if (msg[i] < '0' || msg[i] > '9')
				return 0;
			t = t * 10 + (msg[i] - '0');
		}
		*board_s = t;
	}
	return 0;
}

int esp32_jpeg_size(const uint8_t *jpeg, size_t len, int *width, int *height)
{
	size_t i = 2;

	while (i + 4 <= len) {
		uint8_t marker;
		size_t seg;

		if (jpeg[i] != 0xff)
			return -EINVAL;
		marker = jpeg[i + 1];
		if (marker == 0xff) {        /* fill byte */
			i++;
			continue;
		}
		if (marker == 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker == 0x01) {
			i += 2;              /* no length */
			continue;
		}
		if (marker == 0xda || marker == 0xd9)
			return -EINVAL;      /* the scan, or the end, before any SOF */
		seg = AV_RB16(jpeg + i + 2);
		if (seg < 2 || i + 2 + seg > len)
			return -EINVAL;
		if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 &&
		    marker != 0xcc) {
			if (seg < 7)
				return -EINVAL;
			*height = AV_RB16(jpeg + i + 5);
			*width = AV_RB16(jpeg + i + 7);
			return *width > 0 && *height > 0 ? 0 : -EINVAL;
		}
		i += 2 + seg;
	}
	return -EINVAL;
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static bool printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static bool is_word(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(s, word, len) == 0;
}

/* key=value, each bounded; false when it is not one. */
static bool parse_setting(const char *p, size_t len, struct esp32_text *out)
{
	const char *eq = memchr(p, '=', len);
	size_t klen, vlen;

	if (!eq)
		return false;
	klen = (size_t)(eq - p);
	vlen = len - klen - 1;
	if (klen == 0 || klen >= ESP32_KEY_MAX || vlen >= ESP32_VALUE_MAX)
		return false;
	for (size_t i = 0; i < klen; i++)
		if (!is_key_char(p[i]))
			return false;
	if (!printable(eq + 1, vlen))
		return false;
	memcpy(out->key, p, klen);
	out->key[klen] = '\0';
	memcpy(out->value, eq + 1, vlen);
	out->value[vlen] = '\0';
	return true;
}

int esp32_parse_text(const char *msg, size_t len, struct esp32_text *out)
{
	size_t i = 1;
	int64_t t = 0;
	const char *p;
	size_t plen;

	memset(out, 0, sizeof(*out));
	if (len < 3 || msg[0] != '#')
		return -EINVAL;
	for (; i < len && msg[i] >= '0' && msg[i] <= '9'; i++) {
		if (i > TRAILER_MAX)
			return -EINVAL;
		t = t * 10 + (msg[i] - '0');
	}
	if (i == 1 || i >= len || msg[i] != '|')
		return -EINVAL;
	out->board_s = t;
	p = out->payload = msg + i + 1;
	plen = out->payload_len = len - i - 1;
	if (plen && p[0] == '{')
		out->kind = ESP32_TEXT_STATUS;
	else if (is_word(p, plen, "MotionStart"))
		out->kind = ESP32_TEXT_MOTION_START;
	else if (is_word(p, plen, "MotionEnd"))
		out->kind = ESP32_TEXT_MOTION_END;
	else if (is_word(p, plen, "paused"))
		out->kind = ESP32_TEXT_PAUSED;
	else if (parse_setting(p, plen, out))
		out->kind = ESP32_TEXT_SETTING;
	else
		return -EINVAL;
	return 0;
}

/* A scalar member as a short string; NULL for objects, arrays, nulls. */
static bool scalar_text(json_t *v, char out[ESP32_VALUE_MAX])
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (json_string_length(v) >= ESP32_VALUE_MAX ||
		    !printable(json_string_value(v), json_string_length(v)))
			return false;
		memcpy(out, json_string_value(v), json_string_length(v) + 1);
		return true;
	case JSON_INTEGER:
		snprintf(out, ESP32_VALUE_MAX, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return true;
	case JSON_REAL:
		snprintf(out, ESP32_VALUE_MAX, "%g", json_real_value(v));
		return true;
	case JSON_TRUE:
	case JSON_FALSE:
		snprintf(out, ESP32_VALUE_MAX, "%s", json_is_true(v) ? "true" : "false");
		return true;
	default:
		return false;
	}
}

int esp32_parse_status(const char *json, size_t len, char host[ESP32_HOST_MAX],
		       json_t **fields)
{
	json_error_t error;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &error);
	json_t *h, *v;
	const char *key;

	host[0] = '\0';
	if (fields)
		*fields = NULL;
	if (!json_is_object(root)) {
		json_decref(root);
		return -EINVAL;
	}
	h = json_object_get(root, "hostName");
	if (json_is_string(h) && json_string_length(h) > 0 &&
	    json_string_length(h) < ESP32_HOST_MAX &&
	    printable(json_string_value(h), json_string_length(h)) &&
	    !strchr(json_string_value(h), ' '))
		memcpy(host, json_string_value(h), json_string_length(h) + 1);
	if (fields && (*fields = json_object())) {
		json_object_foreach(root, key, v) {
			char text[ESP32_VALUE_MAX];
			size_t klen = strlen(key);
			bool ok = klen > 0 && klen < ESP32_KEY_MAX;

			for (size_t i = 0; ok && i < klen; i++)
				ok = is_key_char(key[i]);
			if (!ok || !scalar_text(v, text))
				continue;
			if (json_object_size(*fields) >= ESP32_FIELDS_MAX)
				break;
			json_object_set_new(*fields, key, json_string(text));
		}
	}
	json_decref(root);
	return 0;
}

bool esp32_command_ok(const char *cmd, size_t len)
{
	size_t i = 0;

	if (len == 0 || len > ESP32_COMMAND_MAX || !printable(cmd, len))
		return false;
	if (is_word(cmd, len, "status") || is_word(cmd, len, "status?q"))
		return true;
	while (i < len) {
		size_t item = i, klen;

		while (i < len && is_key_char(cmd[i]))
			i++;
		klen = i - item;
		if (klen == 0)
			return false;
		if (i < len && cmd[i] == '=') {
			i++;
			while (i < len && cmd[i] != ';')
				i++;
		}
		if (i < len && cmd[i] != ';')
			return false;
		if (i < len && ++i == len)
			return false;          /* a trailing ';' */
	}
	return true;
}
