/* SPDX-License-Identifier: MIT */
/*
 * Private interface between the engine (engine.c) and one recording task
 * (task.c). The engine owns the probes and the assembler; a task decides
 * which exchanges it keeps and writes them, redacted, to its file.
 */
#ifndef DEETUNE_RECORDER_TASK_H
#define DEETUNE_RECORDER_TASK_H

#include "recorder/recorder.h"

struct dt_task;

/* Engine-wide counters a task reports as differences since its start. */
struct dt_task_counters {
	uint64_t drops[4];         /* by enum dt_drop_reason */
	uint64_t events, bytes;
	uint64_t gaps, unpaired, malformed, evicted;
};

/*
 * Copies the spec, compiles its redaction rules and writes the session
 * header to spec->fd, which the task owns from this call on (closed on
 * failure too). base: the engine's counters now. On success *out is owned
 * by the caller (dt_task_free). Returns 0, -EINVAL with a message in err,
 * or another negative errno.
 */
int dt_task_new(struct dt_task **out, const struct dt_task_spec *spec,
		uint64_t id, const struct dt_task_counters *base,
		char *err, size_t errlen);
uint64_t dt_task_id(const struct dt_task *t);
const struct dt_task_spec *dt_task_spec(const struct dt_task *t);
/* False once the task reached an end (dt_task_end still to be called). */
bool dt_task_running(const struct dt_task *t);
/* True when the task keeps x: selectors, --match and sampling; counts
 * what sampling left out. */
bool dt_task_wants(struct dt_task *t, const struct dt_exchange *x);
/* Redacts and writes x. may_modify: nobody looks at x afterwards, so it
 * is redacted in place instead of in a copy. Policies reached (count,
 * max-bytes) and write errors end the task's running state. */
void dt_task_write(struct dt_task *t, struct dt_exchange *x, bool may_modify);
/* Once per engine poll: the once-a-second flush and max-bytes; buffered:
 * the bytes the assembler holds now. True when the duration is over: the
 * engine then ends the task (it may first flush the assembler into it). */
bool dt_task_tick(struct dt_task *t, uint64_t now_mono_ns, uint64_t buffered);
/* Ends a running task (no effect on an ended one); reason as in
 * struct dt_task_info. */
void dt_task_end(struct dt_task *t, enum dt_task_state st, const char *reason);
/* Finalizes the file (trailer with the statistics, or truncation to
 * whole frames after a write error) and closes it. conns_open: the
 * connections the assembler tracks before its end-of-recording flush. */
void dt_task_finish(struct dt_task *t, const struct dt_task_counters *now,
		    uint64_t conns_open);
void dt_task_info(const struct dt_task *t, const struct dt_task_counters *now,
		  struct dt_task_info *info);
void dt_task_free(struct dt_task *t);

#endif /* DEETUNE_RECORDER_TASK_H */
