// SPDX-License-Identifier: MIT
/* SIGINT/SIGTERM as a request to stop the loops that drive an engine. */
#include <signal.h>

#include "recorder/recorder.h"

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

void dt_catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	/* no SA_RESTART: a blocking poll must return to see the flag */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int dt_stop_signal(void)
{
	return stop_signal;
}
