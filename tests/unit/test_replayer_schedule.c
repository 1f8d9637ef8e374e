// SPDX-License-Identifier: MIT
/*
 * Unit tests of replay scheduling: the recorded pacing scaled by --speed,
 * the --rate token bucket, the --concurrency gate shared by threads, and
 * the progress line's text.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "replayer/replayer_int.h"

#define MS 1000000ull
#define SEC 1000000000ull

static void test_pacer_speed_one(void **state)
{
	struct rp_pacer p;
	uint64_t rec0 = 1700000000 * SEC, start = 5 * SEC;

	(void)state;
	rp_pacer_init(&p, rec0, start, 1.0);
	assert_int_equal(rp_pacer_due(&p, rec0), start);
	assert_int_equal(rp_pacer_due(&p, rec0 + 1), start + 1);
	assert_int_equal(rp_pacer_due(&p, rec0 + 250 * MS), start + 250 * MS);
	assert_int_equal(rp_pacer_due(&p, rec0 + 3600 * SEC),
			 start + 3600 * SEC);
	/* unknown or earlier than the first start: at once */
	assert_int_equal(rp_pacer_due(&p, 0), start);
	assert_int_equal(rp_pacer_due(&p, rec0 - SEC), start);
}

static void test_pacer_scaled(void **state)
{
	struct rp_pacer p;
	uint64_t rec0 = 100 * SEC, start = SEC;

	(void)state;
	rp_pacer_init(&p, rec0, start, 2.0);
	assert_int_equal(rp_pacer_due(&p, rec0 + 100 * MS), start + 50 * MS);
	assert_int_equal(rp_pacer_due(&p, rec0 + 3), start + 2); /* rounded */
	rp_pacer_init(&p, rec0, start, 0.5);
	assert_int_equal(rp_pacer_due(&p, rec0 + 100 * MS), start + 200 * MS);
	rp_pacer_init(&p, rec0, start, 0.25);
	assert_int_equal(rp_pacer_due(&p, rec0 + 7 * SEC), start + 28 * SEC);
	/* max: everything at once */
	rp_pacer_init(&p, rec0, start, 0);
	assert_int_equal(rp_pacer_due(&p, rec0 + 7 * SEC), start);
	/* a gap too long to add saturates instead of wrapping */
	rp_pacer_init(&p, 1, UINT64_MAX - 10, 1e-9);
	assert_int_equal(rp_pacer_due(&p, UINT64_MAX / 2), UINT64_MAX);
}

static void test_rate_spacing(void **state)
{
	struct rp_rate r;
	uint64_t t0 = 10 * SEC, at;

	(void)state;
	rp_rate_init(&r, 10, t0);
	assert_int_equal(rp_rate_take(&r, t0), 0);
	at = rp_rate_take(&r, t0);
	/* the next token in 100 ms, not sooner */
	assert_true(at >= t0 + 100 * MS && at <= t0 + 100 * MS + 10);
	assert_int_equal(rp_rate_take(&r, t0 + 50 * MS) >= t0 + 100 * MS, 1);
	assert_int_equal(rp_rate_take(&r, at), 0);
	/* idle for a long time: no burst beyond one token at 10/s */
	assert_int_equal(rp_rate_take(&r, t0 + 60 * SEC), 0);
	assert_true(rp_rate_take(&r, t0 + 60 * SEC) > t0 + 60 * SEC);
}

static void test_rate_average(void **state)
{
	struct rp_rate r;
	uint64_t now = SEC, taken = 0, at;

	(void)state;
	/* at 5000/s with 1 ms steps, a second admits about 5000 */
	rp_rate_init(&r, 5000, now);
	for (uint64_t end = now + SEC; now < end; now += MS) {
		while (!(at = rp_rate_take(&r, now)))
			taken++;
		assert_true(at > now);
	}
	assert_true(taken >= 4990 && taken <= 5060);
	/* no cap */
	rp_rate_init(&r, 0, now);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(rp_rate_take(&r, now), 0);
}

static int wakes;

static void count_wake(void *ctx)
{
	(void)ctx;
	wakes++;
}

static void test_gate_concurrency(void **state)
{
	struct rp_gate g;
	uint64_t retry = 0, now = rp_now();

	(void)state;
	wakes = 0;
	assert_int_equal(rp_gate_init(&g, 2, 0), 0);
	assert_int_equal(rp_gate_add_waker(&g, count_wake, NULL), 0);
	assert_int_equal(rp_gate_try(&g, now, &retry), 1);
	assert_int_equal(rp_gate_try(&g, now, &retry), 1);
	assert_int_equal(rp_gate_try(&g, now, &retry), 0);
	assert_int_equal(retry, UINT64_MAX);
	rp_gate_release(&g);
	assert_int_equal(wakes, 1);
	assert_int_equal(rp_gate_try(&g, now, &retry), 1);
	rp_gate_stop(&g);
	assert_true(rp_gate_stopped(&g));
	assert_int_equal(rp_gate_try(&g, now, &retry), -ECANCELED);
	assert_int_equal(rp_gate_wait(&g, 0, NULL), -ECANCELED);
	assert_int_equal(wakes, 2);
	rp_gate_destroy(&g);
}

static void test_gate_rate(void **state)
{
	struct rp_gate g;
	uint64_t retry = 0, now;

	(void)state;
	assert_int_equal(rp_gate_init(&g, 100, 2), 0);
	now = rp_now();
	assert_int_equal(rp_gate_try(&g, now, &retry), 1);
	assert_int_equal(rp_gate_try(&g, now, &retry), 0);
	assert_true(retry > now && retry <= now + 500 * MS + 10);
	/* no slot is held by a refusal */
	assert_int_equal(g.inflight, 1);
	rp_gate_destroy(&g);
}

struct waiter {
	struct rp_gate *g;
	uint64_t due;
	const atomic_bool *abandon;
	uint64_t woke;
	int ret;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;

	w->ret = rp_gate_wait(w->g, w->due, w->abandon);
	w->woke = rp_now();
	return NULL;
}

static void test_gate_wait(void **state)
{
	struct rp_gate g;
	struct waiter w;
	pthread_t t;
	uint64_t retry, start;

	(void)state;
	assert_int_equal(rp_gate_init(&g, 1, 0), 0);
	/* waits for its due time */
	start = rp_now();
	w = (struct waiter){ .g = &g, .due = start + 30 * MS };
	assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
	pthread_join(t, NULL);
	assert_int_equal(w.ret, 0);
	assert_true(w.woke >= start + 30 * MS);
	/* then for the slot it holds to be released by another thread */
	w = (struct waiter){ .g = &g, .due = 0 };
	assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
	start = rp_now();
	while (rp_now() < start + 20 * MS)
		;
	rp_gate_release(&g);
	pthread_join(t, NULL);
	assert_int_equal(w.ret, 0);
	assert_true(w.woke >= start + 20 * MS);
	assert_int_equal(rp_gate_try(&g, rp_now(), &retry), 0);
	/* and gives up when stopped */
	w = (struct waiter){ .g = &g, .due = 0 };
	assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
	rp_gate_stop(&g);
	pthread_join(t, NULL);
	assert_int_equal(w.ret, -ECANCELED);
	rp_gate_destroy(&g);
}

static void test_retry_delay(void **state)
{
	(void)state;
	assert_int_equal(rp_retry_delay(0), 100 * MS);
	assert_int_equal(rp_retry_delay(1), 200 * MS);
	assert_int_equal(rp_retry_delay(5), 3200 * MS);
	assert_int_equal(rp_retry_delay(6), 3200 * MS);
	assert_int_equal(rp_retry_delay(UINT32_MAX), 3200 * MS);
}

/* A waiter gives up on its due time once its target is abandoned. */
static void test_gate_abandon(void **state)
{
	struct rp_gate g;
	struct waiter w;
	atomic_bool down;
	pthread_t t;
	uint64_t retry, start;

	(void)state;
	atomic_init(&down, false);
	assert_int_equal(rp_gate_init(&g, 1, 0), 0);
	start = rp_now();
	w = (struct waiter){ .g = &g, .due = start + 60 * SEC,
			     .abandon = &down };
	assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
	atomic_store(&down, true);
	pthread_join(t, NULL);
	assert_int_equal(w.ret, -EHOSTDOWN);
	assert_true(w.woke < start + SEC);
	/* it took no slot */
	assert_int_equal(rp_gate_try(&g, rp_now(), &retry), 1);
	rp_gate_destroy(&g);
}

static void test_poll_timeout(void **state)
{
	uint64_t now = rp_now();

	(void)state;
	assert_int_equal(rp_poll_timeout(now, now - 1), 0);
	assert_int_equal(rp_poll_timeout(now, now), 0);
	/* whole milliseconds, rounded down */
	assert_int_equal(rp_poll_timeout(now, now + 5 * MS), 5);
	assert_int_equal(rp_poll_timeout(now, now + 1500000), 1);
	/* the last fraction is slept */
	now = rp_now();
	assert_int_equal(rp_poll_timeout(now, now + 400000), 0);
	assert_true(rp_now() >= now + 400000);
}

static void test_progress_format(void **state)
{
	char line[160];

	(void)state;
	rp_progress_format(line, sizeof(line), 250, 3, 1000, 2 * SEC, 6 * SEC);
	assert_string_equal(line, "replaying: 250/1000 exchanges, 3 failed, "
				  "125/s, ETA 6s");
	rp_progress_format(line, sizeof(line), 0, 0, 10, 0, 3725 * SEC);
	assert_string_equal(line, "replaying: 0/10 exchanges, 0 failed, 0/s, "
				  "ETA 1h02m");
	rp_progress_format(line, sizeof(line), 1, 0, 2, SEC, 61 * SEC);
	assert_non_null(strstr(line, "ETA 1m01s"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pacer_speed_one),
		cmocka_unit_test(test_pacer_scaled),
		cmocka_unit_test(test_rate_spacing),
		cmocka_unit_test(test_rate_average),
		cmocka_unit_test(test_gate_concurrency),
		cmocka_unit_test(test_gate_rate),
		cmocka_unit_test(test_gate_wait),
		cmocka_unit_test(test_gate_abandon),
		cmocka_unit_test(test_retry_delay),
		cmocka_unit_test(test_poll_timeout),
		cmocka_unit_test(test_progress_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
