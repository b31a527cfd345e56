/* stop.c - the stop token: a flag, a monotonic condition variable it
 * broadcasts once, and the other monitors it must wake. */
#include "util/stop.h"

#include <errno.h>
#include <time.h>

#include "util/deadline.h"

void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

void stop_signals_block(sigset_t *old)
{
	sigset_t set;

	stop_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

int stop_init(struct stop *s)
{
	int ret;

	atomic_init(&s->requested, false);
	s->links = NULL;
	if ((ret = pthread_mutex_init(&s->lock, NULL)) != 0)
		return -ret;
	ret = deadline_cond_init(&s->cond);
	if (ret < 0)
		pthread_mutex_destroy(&s->lock);
	return ret;
}

void stop_destroy(struct stop *s)
{
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
}

void stop_request(struct stop *s)
{
	pthread_mutex_lock(&s->lock);
	atomic_store(&s->requested, true);
	pthread_cond_broadcast(&s->cond);
	/* Taking each link's lock orders this after a waiter's check of the
	 * flag and before its wait, so the broadcast cannot fall between. */
	for (struct stop_link *l = s->links; l; l = l->next) {
		pthread_mutex_lock(l->lock);
		pthread_cond_broadcast(l->cond);
		pthread_mutex_unlock(l->lock);
	}
	pthread_mutex_unlock(&s->lock);
}

bool stop_requested(const struct stop *s)
{
	return s && atomic_load(&s->requested);
}

bool stop_wait_until(struct stop *s, int64_t deadline_us)
{
	bool stopped;

	pthread_mutex_lock(&s->lock);
	while (!(stopped = atomic_load(&s->requested)))
		if (deadline_wait_until(&s->cond, &s->lock, deadline_us) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&s->lock);
	return stopped;
}

bool stop_sleep(struct stop *s, int64_t delay_us)
{
	if (!s) {
		struct timespec ts = { delay_us / 1000000, (delay_us % 1000000) * 1000 };

		if (delay_us > 0)
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		return false;
	}
	if (delay_us <= 0)
		return stop_requested(s);
	return stop_wait_until(s, deadline_now_us() + delay_us);
}

void stop_link(struct stop *s, struct stop_link *l, pthread_mutex_t *lock, pthread_cond_t *cond)
{
	l->lock = lock;
	l->cond = cond;
	pthread_mutex_lock(&s->lock);
	l->next = s->links;
	s->links = l;
	pthread_mutex_unlock(&s->lock);
}

void stop_unlink(struct stop *s, struct stop_link *l)
{
	pthread_mutex_lock(&s->lock);
	for (struct stop_link **p = &s->links; *p; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			break;
		}
	pthread_mutex_unlock(&s->lock);
	l->next = NULL;
}
