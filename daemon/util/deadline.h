/* deadline.h - timed condition-variable waits on CLOCK_MONOTONIC, so a wall
 * clock stepped back (NTP, an RTC set by hand) does not stretch a wait. */
#ifndef CAMFS_DEADLINE_H
#define CAMFS_DEADLINE_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* pthread_cond_init for a condvar whose timed waits take deadline_after_us()
 * deadlines. 0 or negative errno. */
static inline int deadline_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	int ret = pthread_condattr_init(&attr);

	if (ret)
		return -ret;
	ret = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!ret)
		ret = pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
	return -ret;
}

/* CLOCK_MONOTONIC now, in µs: the clock of every deadline here. */
static inline int64_t deadline_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* pthread_cond_timedwait until the CLOCK_MONOTONIC time deadline_us, on a
 * condvar made by deadline_cond_init. Returns its result. */
static inline int deadline_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock,
				      int64_t deadline_us)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_us / 1000000),
		.tv_nsec = (long)(deadline_us % 1000000) * 1000,
	};

	return pthread_cond_timedwait(cond, lock, &ts);
}

/* The CLOCK_MONOTONIC time us (>= 0) from now, for pthread_cond_timedwait
 * on a condvar made by deadline_cond_init. */
static inline struct timespec deadline_after_us(int64_t us)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(us / 1000000);
	ts.tv_nsec += (long)(us % 1000000) * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

#endif
