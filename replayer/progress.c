// SPDX-License-Identifier: MIT
/*
 * The live progress line on stderr: count, rate, failures and an ETA,
 * redrawn in place. Shown only after the first second, so short replays
 * print nothing but their summary.
 */
#include <inttypes.h>
#include <stdio.h>

#include "replayer/replayer_int.h"

#define NS 1000000000ull
#define SHOW_AFTER_NS NS
#define REDRAW_NS (NS / 5)

void rp_progress_init(struct rp_progress *p, bool enabled, uint64_t now)
{
	p->enabled = enabled;
	p->shown = false;
	p->start = now;
	p->drawn = 0;
}

static int format_duration(char *buf, size_t size, uint64_t ns)
{
	uint64_t s = (ns + NS / 2) / NS;

	if (s >= 3600)
		return snprintf(buf, size, "%" PRIu64 "h%02" PRIu64 "m",
				s / 3600, s / 60 % 60);
	if (s >= 60)
		return snprintf(buf, size, "%" PRIu64 "m%02" PRIu64 "s",
				s / 60, s % 60);
	return snprintf(buf, size, "%" PRIu64 "s", s);
}

int rp_progress_format(char *buf, size_t size, uint64_t done,
		       uint64_t failed, uint64_t total, uint64_t elapsed,
		       uint64_t eta)
{
	double rate = elapsed ? (double)done * 1e9 / (double)elapsed : 0;
	char eta_text[32];

	format_duration(eta_text, sizeof(eta_text), eta);
	return snprintf(buf, size, "replaying: %" PRIu64 "/%" PRIu64
			" exchanges, %" PRIu64 " failed, %.0f/s, ETA %s",
			done, total, failed, rate, eta_text);
}

/* Remaining work at the rate so far, but no sooner than the pacing lets
 * the last request start. */
static uint64_t estimate_eta(uint64_t done, uint64_t total, uint64_t elapsed,
			     uint64_t end_due, uint64_t now)
{
	uint64_t by_rate = 0, by_pace = end_due > now ? end_due - now : 0;

	if (done && total > done)
		by_rate = (uint64_t)((double)elapsed / (double)done *
				     (double)(total - done));
	return by_rate > by_pace ? by_rate : by_pace;
}

void rp_progress_update(struct rp_progress *p, uint64_t done,
			uint64_t failed, uint64_t total, uint64_t end_due,
			uint64_t now)
{
	uint64_t elapsed = now - p->start;
	char line[160];

	if (!p->enabled || elapsed < SHOW_AFTER_NS ||
	    (p->shown && now - p->drawn < REDRAW_NS))
		return;
	p->drawn = now;
	rp_progress_format(line, sizeof(line), done, failed, total, elapsed,
			   estimate_eta(done, total, elapsed, end_due, now));
	/* \033[K erases what a longer previous line left */
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	p->shown = true;
}

void rp_progress_end(struct rp_progress *p)
{
	if (!p->shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->shown = false;
}
