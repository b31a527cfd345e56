/* test_array.c - array_grow: room doubles from 16 keeping what was there,
 * and a size that would overflow is refused with the array unchanged. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/array.h"

static void test_doubles_and_keeps(void **state)
{
	int *v = NULL;
	size_t n = 0, cap = 0;

	(void)state;
	for (int i = 0; i < 40; i++) {
		assert_int_equal(array_grow(&v, &cap, n, sizeof(*v)), 0);
		assert_true(n < cap);
		v[n++] = i;
		if (n == 1)
			assert_int_equal(cap, 16);
	}
	assert_int_equal(cap, 64);
	for (int i = 0; i < 40; i++)
		assert_int_equal(v[i], i);
	/* Not full: no realloc, the same memory. */
	int *before = v;
	assert_int_equal(array_grow(&v, &cap, n, sizeof(*v)), 0);
	assert_ptr_equal(v, before);
	free(v);
}

static void test_refuses_overflow(void **state)
{
	void *v = NULL;
	size_t elem = 24, cap = SIZE_MAX / 2 / elem + 1;

	(void)state;
	/* Doubled, cap * elem wraps round to a few bytes, which realloc would
	 * gladly give. */
	assert_int_equal(array_grow(&v, &cap, cap, elem), -ENOMEM);
	assert_null(v);
	assert_int_equal(cap, SIZE_MAX / 2 / elem + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles_and_keeps),
		cmocka_unit_test(test_refuses_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
