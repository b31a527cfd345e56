/* test_esp32_wire.c - the ESP32 board's formats as the firmware sends them
 * (docs/esp32.md), what is not them, and the networks boards may come from. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "ingest/esp32/wire.h"
#include "util/netlist.h"

/* The smallest JPEG head with a SOF0 of 800x600, then its end. */
static const uint8_t jpeg[] = {
	0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 'J', 'F', 0xff, 0xc0, 0x00, 0x11, 0x08,
	0x02, 0x58, 0x03, 0x20, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
	0xff, 0xda, 0x00, 0x02, 0x12, 0x34, 0xff, 0xd9,
};

static void test_frames(void **state)
{
	uint8_t msg[sizeof(jpeg) + 16];
	size_t size;
	int64_t t;
	int w, h;

	(void)state;
	memcpy(msg, jpeg, sizeof(jpeg));
	memcpy(msg + sizeof(jpeg), "1733500000", 10);
	assert_int_equal(esp32_split_frame(msg, sizeof(jpeg) + 10, &size, &t), 0);
	assert_int_equal(size, sizeof(jpeg));
	assert_int_equal(t, 1733500000);
	/* No digits: arrival time. Not digits: the same. */
	assert_int_equal(esp32_split_frame(msg, sizeof(jpeg), &size, &t), 0);
	assert_int_equal(t, -1);
	memcpy(msg + sizeof(jpeg), "17x", 3);
	assert_int_equal(esp32_split_frame(msg, sizeof(jpeg) + 3, &size, &t), 0);
	assert_int_equal(t, -1);
	/* Not a JPEG: no FF D8, or no FF D9 near the end. */
	assert_int_equal(esp32_split_frame((const uint8_t *)"RGB565....", 10, &size, &t), -EINVAL);
	memset(msg + sizeof(jpeg), '1', 16);
	assert_int_equal(esp32_split_frame(msg, sizeof(msg), &size, &t), -EINVAL);

	assert_int_equal(esp32_jpeg_size(jpeg, sizeof(jpeg), &w, &h), 0);
	assert_int_equal(w, 800);
	assert_int_equal(h, 600);
	assert_int_equal(esp32_jpeg_size(jpeg, 12, &w, &h), -EINVAL);
}

static void test_texts(void **state)
{
	struct esp32_text t;
	const char *status = "#1733500000|{\"hostName\":\"garage-cam\",\"framesize\":\"9\"}";
	char host[ESP32_HOST_MAX];
	json_t *fields;

	(void)state;
	assert_int_equal(esp32_parse_text(status, strlen(status), &t), 0);
	assert_int_equal(t.kind, ESP32_TEXT_STATUS);
	assert_int_equal(t.board_s, 1733500000);
	assert_int_equal(esp32_parse_status(t.payload, t.payload_len, host, &fields), 0);
	assert_string_equal(host, "garage-cam");
	assert_string_equal(json_string_value(json_object_get(fields, "framesize")), "9");
	json_decref(fields);
	assert_int_equal(esp32_parse_status("{\"fps\":10}", 10, host, NULL), 0);
	assert_string_equal(host, "");
	assert_int_equal(esp32_parse_status("[1]", 3, host, NULL), -EINVAL);

	assert_int_equal(esp32_parse_text("#1|MotionStart", 14, &t), 0);
	assert_int_equal(t.kind, ESP32_TEXT_MOTION_START);
	assert_int_equal(esp32_parse_text("#1|MotionEnd", 12, &t), 0);
	assert_int_equal(t.kind, ESP32_TEXT_MOTION_END);
	assert_int_equal(esp32_parse_text("#1|paused", 9, &t), 0);
	assert_int_equal(t.kind, ESP32_TEXT_PAUSED);
	assert_int_equal(esp32_parse_text("#1733500000|framesize=7", 23, &t), 0);
	assert_int_equal(t.kind, ESP32_TEXT_SETTING);
	assert_string_equal(t.key, "framesize");
	assert_string_equal(t.value, "7");
	assert_int_equal(esp32_parse_text("hello there", 11, &t), -EINVAL);
	assert_int_equal(esp32_parse_text("#|MotionStart", 13, &t), -EINVAL);
	assert_int_equal(esp32_parse_text("#1|Motion", 9, &t), -EINVAL);
	assert_int_equal(esp32_parse_text("#1|a b=1", 8, &t), -EINVAL);
}

static void test_commands(void **state)
{
	char long_cmd[129];

	(void)state;
	assert_true(esp32_command_ok("fps=5", 5));
	assert_true(esp32_command_ok("framesize=7;fps=10", 18));
	assert_true(esp32_command_ok("status", 6));
	assert_true(esp32_command_ok("reset", 5));
	assert_false(esp32_command_ok("", 0));
	assert_false(esp32_command_ok("fps=5;", 6));
	assert_false(esp32_command_ok("f ps=5", 6));
	assert_false(esp32_command_ok("fps=5\n", 6));
	memset(long_cmd, 'a', sizeof(long_cmd));
	assert_true(esp32_command_ok(long_cmd, 127));
	assert_false(esp32_command_ok(long_cmd, 128));
}

static void test_networks(void **state)
{
	struct netlist l;
	const char *bad;
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };

	(void)state;
	assert_int_equal(netlist_parse("192.168.0.0/16 10.1.2.3 fd00::/8", &l, &bad), 0);
	assert_int_equal(l.n, 3);
	inet_pton(AF_INET, "192.168.44.5", &a4.sin_addr);
	assert_true(netlist_contains(&l, (struct sockaddr *)&a4));
	inet_pton(AF_INET, "10.1.2.4", &a4.sin_addr);
	assert_false(netlist_contains(&l, (struct sockaddr *)&a4));
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &a6.sin6_addr);
	assert_true(netlist_contains(&l, (struct sockaddr *)&a6));
	inet_pton(AF_INET6, "fd12::1", &a6.sin6_addr);
	assert_true(netlist_contains(&l, (struct sockaddr *)&a6));
	inet_pton(AF_INET6, "2001:db8::1", &a6.sin6_addr);
	assert_false(netlist_contains(&l, (struct sockaddr *)&a6));
	assert_int_equal(netlist_parse("10.0.0.0/8 nope", &l, &bad), -EINVAL);
	assert_string_equal(bad, "nope");
	assert_int_equal(netlist_parse("", &l, &bad), 0);
	assert_int_equal(l.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_texts),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_networks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
