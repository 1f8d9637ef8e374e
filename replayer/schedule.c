// SPDX-License-Identifier: MIT
/*
 * When requests may start: the recorded pacing scaled by --speed, a token
 * bucket for --rate, and a count of requests in flight for --concurrency.
 * The gate is shared by the engines' threads; event-loop engines register
 * a waker so that a slot freed elsewhere ends their wait at once.
 */
#include <errno.h>
#include <time.h>

#include "replayer/replayer_int.h"

#define NS_PER_SEC 1e9
/* Retries wait 100 ms, doubling up to 3.2 s. */
#define RETRY_BASE_NS 100000000ull
#define RETRY_DOUBLINGS 5
#define ABANDON_POLL_NS 100000000ull
#define MS_NS 1000000ull
/* The bucket holds 10 ms worth of tokens: event loops wake at millisecond
 * granularity, so a strict one-at-a-time spacing would undershoot the
 * rate at high rates. */
#define RATE_BURST_SEC 0.01

static void timespec_of(uint64_t ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ns / 1000000000ull);
	ts->tv_nsec = (long)(ns % 1000000000ull);
}

uint64_t rp_retry_delay(unsigned attempt)
{
	return RETRY_BASE_NS << (attempt < RETRY_DOUBLINGS ? attempt :
							   RETRY_DOUBLINGS);
}

int rp_poll_timeout(uint64_t now, uint64_t until)
{
	struct timespec ts;

	if (until <= now)
		return 0;
	if (until - now >= MS_NS)
		return (int)((until - now) / MS_NS);
	timespec_of(until, &ts);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
	return 0;
}

void rp_pacer_init(struct rp_pacer *p, uint64_t rec_t0, uint64_t start,
		   double speed)
{
	p->rec_t0 = rec_t0;
	p->start = start;
	p->speed = speed;
}

uint64_t rp_pacer_due(const struct rp_pacer *p, uint64_t rec_ns)
{
	double offset;

	if (p->speed <= 0 || !rec_ns || rec_ns <= p->rec_t0)
		return p->start;
	offset = (double)(rec_ns - p->rec_t0) / p->speed;
	if (offset >= (double)(UINT64_MAX - p->start))
		return UINT64_MAX;
	return p->start + (uint64_t)(offset + 0.5);
}

void rp_rate_init(struct rp_rate *r, double per_sec, uint64_t now)
{
	r->per_sec = per_sec > 0 ? per_sec : 0;
	r->burst = r->per_sec * RATE_BURST_SEC;
	if (r->burst < 1.0)
		r->burst = 1.0;
	r->tokens = 1.0;
	r->last = now;
}

uint64_t rp_rate_take(struct rp_rate *r, uint64_t now)
{
	double missing;

	if (r->per_sec <= 0)
		return 0;
	if (now > r->last) {
		r->tokens += (double)(now - r->last) * r->per_sec / NS_PER_SEC;
		if (r->tokens > r->burst)
			r->tokens = r->burst;
		r->last = now;
	}
	if (r->tokens >= 1.0) {
		r->tokens -= 1.0;
		return 0;
	}
	missing = (1.0 - r->tokens) * NS_PER_SEC / r->per_sec;
	/* rounded up: waking early would find no token yet */
	return r->last + (uint64_t)missing + 1;
}

int rp_gate_init(struct rp_gate *g, unsigned concurrency, double rate)
{
	pthread_condattr_t attr;
	int ret;

	g->max_inflight = concurrency ? concurrency : 1;
	g->inflight = 0;
	g->stopped = false;
	g->nwake = 0;
	rp_rate_init(&g->rate, rate, rp_now());
	ret = pthread_condattr_init(&attr);
	if (ret)
		return -ret;
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	ret = pthread_cond_init(&g->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (ret)
		return -ret;
	ret = pthread_mutex_init(&g->lock, NULL);
	if (ret) {
		pthread_cond_destroy(&g->cond);
		return -ret;
	}
	return 0;
}

void rp_gate_destroy(struct rp_gate *g)
{
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
}

int rp_gate_add_waker(struct rp_gate *g, rp_wake_fn fn, void *ctx)
{
	if (g->nwake == RP_GATE_MAX_WAKERS)
		return -ENOSPC;
	g->wake[g->nwake] = fn;
	g->wake_ctx[g->nwake] = ctx;
	g->nwake++;
	return 0;
}

static void wake_all(struct rp_gate *g)
{
	pthread_cond_broadcast(&g->cond);
	/* wakers are fixed before the engines start: read without the lock */
	for (size_t i = 0; i < g->nwake; i++)
		g->wake[i](g->wake_ctx[i]);
}

/* Called with the lock held. */
static int try_locked(struct rp_gate *g, uint64_t now, uint64_t *retry_at)
{
	uint64_t at;

	if (g->stopped)
		return -ECANCELED;
	if (g->inflight >= g->max_inflight) {
		*retry_at = UINT64_MAX;
		return 0;
	}
	at = rp_rate_take(&g->rate, now);
	if (at) {
		*retry_at = at;
		return 0;
	}
	g->inflight++;
	return 1;
}

int rp_gate_try(struct rp_gate *g, uint64_t now, uint64_t *retry_at)
{
	int ret;

	pthread_mutex_lock(&g->lock);
	ret = try_locked(g, now, retry_at);
	pthread_mutex_unlock(&g->lock);
	return ret;
}

int rp_gate_wait(struct rp_gate *g, uint64_t due, const atomic_bool *abandon)
{
	struct timespec ts;
	uint64_t retry_at = due, now;
	int ret;

	pthread_mutex_lock(&g->lock);
	for (;;) {
		now = rp_now();
		if (g->stopped) {
			ret = -ECANCELED;
			break;
		}
		if (abandon && atomic_load(abandon)) {
			ret = -EHOSTDOWN;
			break;
		}
		if (now >= due) {
			ret = try_locked(g, now, &retry_at);
			if (ret)
				break;
		}
		/* the abandon flag has no waker: look at it now and then */
		if (abandon && retry_at > now + ABANDON_POLL_NS)
			retry_at = now + ABANDON_POLL_NS;
		if (retry_at == UINT64_MAX) {
			pthread_cond_wait(&g->cond, &g->lock);
		} else {
			timespec_of(retry_at, &ts);
			pthread_cond_timedwait(&g->cond, &g->lock, &ts);
		}
		retry_at = due;
	}
	pthread_mutex_unlock(&g->lock);
	return ret < 0 ? ret : 0;
}

void rp_gate_release(struct rp_gate *g)
{
	pthread_mutex_lock(&g->lock);
	if (g->inflight)
		g->inflight--;
	pthread_mutex_unlock(&g->lock);
	wake_all(g);
}

void rp_gate_stop(struct rp_gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->stopped = true;
	pthread_mutex_unlock(&g->lock);
	wake_all(g);
}

bool rp_gate_stopped(struct rp_gate *g)
{
	bool stopped;

	pthread_mutex_lock(&g->lock);
	stopped = g->stopped;
	pthread_mutex_unlock(&g->lock);
	return stopped;
}
