/* stop.h - a stop token: an atomic flag a thread checks cheaply, and waits
 * that end the moment it is raised. Waits are timed on CLOCK_MONOTONIC, so
 * a step of the wall clock neither stretches nor cuts them. */
#ifndef CAMFS_STOP_H
#define CAMFS_STOP_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Another monitor (a mutex and a condition variable, the condition on
 * CLOCK_MONOTONIC) that a raised token must wake too: a queue whose
 * consumer waits for data or a stop. Linked while such a wait may happen. */
struct stop_link {
	pthread_mutex_t *lock;
	pthread_cond_t *cond;
	struct stop_link *next;      /* guarded by the token's lock */
};

struct stop {
	atomic_bool requested;
	pthread_mutex_t lock;
	pthread_cond_t cond;         /* CLOCK_MONOTONIC; broadcast once, on request */
	struct stop_link *links;     /* guarded by lock */
};

/* 0 or a negative errno. */
int stop_init(struct stop *s);
/* No thread may wait on s any more. */
void stop_destroy(struct stop *s);

/* Raises the flag and wakes every wait on s and on its links. Idempotent;
 * any thread. */
void stop_request(struct stop *s);
/* Whether stop_request was called; false for NULL. */
bool stop_requested(const struct stop *s);

/* Waits until the CLOCK_MONOTONIC time deadline_us (µs) or a stop,
 * whichever comes first; true if stopped. */
bool stop_wait_until(struct stop *s, int64_t deadline_us);
/* Waits delay_us (<= 0: not at all) or until a stop; true if stopped. A
 * NULL s just sleeps. */
bool stop_sleep(struct stop *s, int64_t delay_us);

/* set: SIGINT, SIGTERM and SIGHUP, the signals that stop camfs. */
void stop_signals(sigset_t *set);
/* Blocks them in the calling thread; threads it makes now inherit the mask, so only the main
 * thread sees them. old: the mask before, for pthread_sigmask(SIG_SETMASK). */
void stop_signals_block(sigset_t *old);

/* Makes stop_request broadcast cond under lock too. After linking, a
 * waiter that checks stop_requested() under lock before each wait on cond
 * cannot miss the stop. */
void stop_link(struct stop *s, struct stop_link *l, pthread_mutex_t *lock, pthread_cond_t *cond);
/* Accepts a link that was never made (zeroed). */
void stop_unlink(struct stop *s, struct stop_link *l);

#endif
