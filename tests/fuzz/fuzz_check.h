/* SPDX-License-Identifier: MIT */
/* Shared by the libFuzzer targets: an invariant that must hold on any
 * input; a failure aborts, which libFuzzer reports with the input. */
#ifndef DEETUNE_FUZZ_CHECK_H
#define DEETUNE_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",         \
				__FILE__, __LINE__, #cond);                  \
			abort();                                             \
		}                                                            \
	} while (0)

#endif /* DEETUNE_FUZZ_CHECK_H */
