/* test_deadline.c - a deadline_cond_init condvar times out on the monotonic
 * clock: a deadline_after_us deadline is neither early nor long past. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "util/deadline.h"

static int64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t ts_us(struct timespec ts)
{
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void test_deadline_is_monotonic_now_plus(void **state)
{
	int64_t before, after;
	struct timespec ts;

	(void)state;
	before = monotonic_us();
	ts = deadline_after_us(1999999);   /* carries into the seconds */
	after = monotonic_us();
	assert_true(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000);
	assert_true(ts_us(ts) >= before + 1999999);
	assert_true(ts_us(ts) <= after + 1999999);
}

/* On a condvar that kept the default clock (CLOCK_REALTIME), a monotonic
 * deadline (seconds since boot) lies decades in the past and the wait
 * returns at once. */
static void test_wait_lasts_until_the_deadline(void **state)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cond;
	struct timespec ts;
	int64_t start;
	int ret;

	(void)state;
	assert_int_equal(deadline_cond_init(&cond), 0);
	pthread_mutex_lock(&lock);
	start = monotonic_us();
	ts = deadline_after_us(50000);
	do
		ret = pthread_cond_timedwait(&cond, &lock, &ts);
	while (ret == 0);   /* a spurious wake-up */
	pthread_mutex_unlock(&lock);
	assert_int_equal(ret, ETIMEDOUT);
	assert_true(monotonic_us() - start >= 50000);
	pthread_cond_destroy(&cond);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deadline_is_monotonic_now_plus),
		cmocka_unit_test(test_wait_lasts_until_the_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
