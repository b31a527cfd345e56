/* test_backoff.c - reconnect delays double from 1 s to the 30 s cap, stay
 * within +/-20% jitter, differ between cameras, and reset after success. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/backoff.h"

#define S 1000000

static void test_doubles_to_cap(void **state)
{
	struct backoff b;
	int64_t want[] = { 1 * S, 2 * S, 4 * S, 8 * S, 16 * S, 30 * S, 30 * S, 30 * S };

	(void)state;
	backoff_init(&b, 1 * S, 30 * S, 42);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int64_t d = backoff_next(&b);

		assert_true(d >= want[i] - want[i] / 5);
		assert_true(d <= want[i] + want[i] / 5);
	}
	backoff_reset(&b);
	int64_t d = backoff_next(&b);
	assert_true(d >= S - S / 5 && d <= S + S / 5);
}

static void test_jitter_spreads_cameras(void **state)
{
	struct backoff a, b;
	int same = 0;

	(void)state;
	backoff_init(&a, 1 * S, 30 * S, 1);
	backoff_init(&b, 1 * S, 30 * S, 2);
	for (int i = 0; i < 8; i++)
		same += backoff_next(&a) == backoff_next(&b);
	assert_true(same < 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles_to_cap),
		cmocka_unit_test(test_jitter_spreads_cameras),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
