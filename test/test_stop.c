/* test_stop.c - the stop token: waits last their time on the monotonic
 * clock, end at once when the token is raised from another thread, and
 * wake a linked monitor too. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <time.h>

#include "util/deadline.h"
#include "util/stop.h"

#define MS 1000

struct raiser {
	struct stop *stop;
	int64_t after_us;
};

static void *raise_later(void *arg)
{
	struct raiser *r = arg;
	struct timespec ts = { 0, r->after_us * 1000 };

	nanosleep(&ts, NULL);
	stop_request(r->stop);
	return NULL;
}

/* The deadline is a CLOCK_MONOTONIC time: a wait timed on the wall clock
 * would take it for a date in 1970 and return at once. */
static void test_waits_its_time(void **state)
{
	struct stop s;
	int64_t t0;

	(void)state;
	assert_int_equal(stop_init(&s), 0);
	t0 = deadline_now_us();
	assert_false(stop_wait_until(&s, t0 + 150 * MS));
	assert_true(deadline_now_us() - t0 >= 150 * MS);
	t0 = deadline_now_us();
	assert_false(stop_sleep(&s, 100 * MS));
	assert_true(deadline_now_us() - t0 >= 100 * MS);
	assert_false(stop_sleep(&s, 0));
	assert_false(stop_sleep(NULL, 1 * MS));
	assert_false(stop_requested(NULL));
	stop_destroy(&s);
}

static void test_stop_ends_a_wait(void **state)
{
	struct stop s;
	struct raiser r = { &s, 50 * MS };
	pthread_t t;
	int64_t t0;

	(void)state;
	assert_int_equal(stop_init(&s), 0);
	assert_int_equal(pthread_create(&t, NULL, raise_later, &r), 0);
	t0 = deadline_now_us();
	assert_true(stop_sleep(&s, 30000 * MS));
	assert_true(deadline_now_us() - t0 < 5000 * MS);
	pthread_join(t, NULL);
	/* Raised stays raised: later waits do not wait. */
	assert_true(stop_requested(&s));
	t0 = deadline_now_us();
	assert_true(stop_sleep(&s, 30000 * MS));
	assert_true(stop_wait_until(&s, deadline_now_us() + 30000 * MS));
	assert_true(deadline_now_us() - t0 < 1000 * MS);
	stop_request(&s);   /* idempotent */
	stop_destroy(&s);
}

/* A monitor of its own (a queue's) that the token wakes. */
struct queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int items;
	struct stop *stop;
	struct stop_link link;
};

static void *consume(void *arg)
{
	struct queue *q = arg;
	intptr_t got;

	pthread_mutex_lock(&q->lock);
	while (!q->items && !stop_requested(q->stop))
		deadline_wait_until(&q->cond, &q->lock, deadline_now_us() + 30000 * MS);
	got = q->items;
	pthread_mutex_unlock(&q->lock);
	return (void *)got;
}

static void test_link_wakes_a_monitor(void **state)
{
	struct stop s;
	struct queue q = { .stop = &s };
	struct raiser r = { &s, 50 * MS };
	pthread_t t, raiser;
	void *got;
	int64_t t0;

	(void)state;
	assert_int_equal(stop_init(&s), 0);
	pthread_mutex_init(&q.lock, NULL);
	assert_int_equal(deadline_cond_init(&q.cond), 0);
	stop_link(&s, &q.link, &q.lock, &q.cond);
	t0 = deadline_now_us();
	assert_int_equal(pthread_create(&t, NULL, consume, &q), 0);
	assert_int_equal(pthread_create(&raiser, NULL, raise_later, &r), 0);
	pthread_join(t, &got);
	pthread_join(raiser, NULL);
	assert_true(deadline_now_us() - t0 < 5000 * MS);
	assert_int_equal((intptr_t)got, 0);
	stop_unlink(&s, &q.link);
	stop_unlink(&s, &q.link);   /* twice is harmless */
	assert_null(s.links);
	pthread_cond_destroy(&q.cond);
	pthread_mutex_destroy(&q.lock);
	stop_destroy(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_waits_its_time),
		cmocka_unit_test(test_stop_ends_a_wait),
		cmocka_unit_test(test_link_wakes_a_monitor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
