// SPDX-License-Identifier: MIT
/*
 * JUnit XML, as CI systems render it: one testsuite, one testcase per
 * endpoint (classname "deetune.diff.<protocol>"), a <failure> per
 * differing exchange and an <error> per exchange whose replay failed,
 * each carrying the differences in its message and text; an endpoint
 * whose exchanges were all skipped is <skipped/>. The structure is the
 * one fixtures/diff/junit.xsd describes.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "diff/diff_int.h"

/* Longest message attribute; the element's text has everything. */
#define MESSAGE_MAX 4000

/*
 * Writes s as XML character data, or as an attribute value (newlines and
 * tabs as references, quotes escaped). Report strings are escaped already;
 * anything XML 1.0 cannot carry becomes '?' all the same.
 */
static void xml_put(FILE *out, const char *s, size_t len, bool attr)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, step;

	while (i < len) {
		step = dt_utf8_seq_len(p + i, len - i);
		if (step > 1 && !(step == 3 && p[i] == 0xef &&
				  p[i + 1] == 0xbf && p[i + 2] >= 0xbe)) {
			fwrite(p + i, 1, step, out);
			i += step;
			continue;
		}
		switch (p[i]) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs(attr ? "&quot;" : "\"", out); break;
		case '\n': fputs(attr ? "&#10;" : "\n", out); break;
		case '\t': fputs(attr ? "&#9;" : "\t", out); break;
		default:
			fputc(step == 1 && p[i] >= 0x20 && p[i] != 0x7f ?
				      p[i] : '?', out);
		}
		i++;
	}
}

static void xml_attr(FILE *out, const char *name, const char *value)
{
	fprintf(out, " %s=\"", name);
	xml_put(out, value, strlen(value), true);
	fputc('"', out);
}

static void xml_attr_u64(FILE *out, const char *name, uint64_t value)
{
	fprintf(out, " %s=\"%" PRIu64 "\"", name, value);
}

/* The differences of an exchange as lines of text. */
static void describe(struct dt_sbuf *b, const struct dt_diff_exchange *x)
{
	size_t i;

	dt_sbuf_printf(b, "exchange #%" PRIu64, x->recorded_id);
	if (x->replayed_id)
		dt_sbuf_printf(b, " (replay #%" PRIu64 ")", x->replayed_id);
	dt_sbuf_printf(b, " %s: %s", x->request,
		       dt_diff_outcome_name(x->outcome));
	if (x->reason)
		dt_sbuf_printf(b, ": %s", x->reason);
	dt_sbuf_putc(b, '\n');
	for (i = 0; i < x->nitems; i++) {
		const struct dt_diff_item *it = &x->items[i];

		dt_sbuf_printf(b, "%s: %s -> %s", it->field,
			       it->expected ? it->expected : "(absent)",
			       it->actual ? it->actual : "(absent)");
		if (it->why != DT_DIFF_UNEXPLAINED)
			dt_sbuf_printf(b, " [noise: %s]",
				       dt_diff_why_name(it->why));
		if (it->note)
			dt_sbuf_printf(b, " (%s)", it->note);
		dt_sbuf_putc(b, '\n');
	}
	if (x->differences + x->noise > x->nitems)
		dt_sbuf_printf(b, "... and %" PRIu64 " more\n",
			       x->differences + x->noise - x->nitems);
}

/* <failure> or <error> for one exchange. */
static int write_problem(FILE *out, const char *element, const char *type,
			 const struct dt_diff_exchange *x)
{
	struct dt_sbuf b = { 0 };

	describe(&b, x);
	if (b.oom)
		return -ENOMEM;
	fprintf(out, "      <%s", element);
	xml_attr(out, "type", type);
	fputs(" message=\"", out);
	xml_put(out, b.p, b.len < MESSAGE_MAX ? b.len : MESSAGE_MAX, true);
	fputs("\">", out);
	xml_put(out, b.p, b.len, false);
	fprintf(out, "</%s>\n", element);
	dt_sbuf_release(&b);
	return 0;
}

static uint64_t listed(const struct dt_diff_endpoint *ep,
		       enum dt_diff_outcome outcome)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < ep->nexchanges; i++)
		n += ep->exchanges[i].outcome == outcome;
	return n;
}

/* A failure or error standing for the exchanges past the listing limit. */
static void write_unlisted(FILE *out, const struct dt_diff_endpoint *ep,
			   const char *element, enum dt_diff_outcome outcome)
{
	uint64_t n = ep->counts[outcome] - listed(ep, outcome);

	if (!n)
		return;
	fprintf(out, "      <%s type=\"%s\" message=\"%" PRIu64 " more "
		"exchanges %s (not listed)\"/>\n", element,
		dt_diff_outcome_name(outcome), n,
		dt_diff_outcome_name(outcome));
}

static void write_system_out(FILE *out, const struct dt_diff_endpoint *ep)
{
	struct dt_sbuf b = { 0 };
	size_t i;
	int o;

	for (o = 0; o < DT_DIFF_NOUTCOMES; o++)
		dt_sbuf_printf(&b, "%s%" PRIu64 " %s", o ? ", " : "",
			       ep->counts[o],
			       dt_diff_outcome_name((enum dt_diff_outcome)o));
	dt_sbuf_putc(&b, '\n');
	for (i = 0; i < ep->nexchanges; i++)
		if (ep->exchanges[i].outcome == DT_DIFF_NOISE_ONLY ||
		    ep->exchanges[i].outcome == DT_DIFF_SKIPPED)
			describe(&b, &ep->exchanges[i]);
	if (!b.oom) {
		fputs("      <system-out>", out);
		xml_put(out, b.p, b.len, false);
		fputs("</system-out>\n", out);
	}
	dt_sbuf_release(&b);
}

static uint64_t total(const struct dt_diff_endpoint *ep)
{
	uint64_t n = 0;
	int o;

	for (o = 0; o < DT_DIFF_NOUTCOMES; o++)
		n += ep->counts[o];
	return n;
}

static int write_testcase(FILE *out, const struct dt_diff_endpoint *ep)
{
	char classname[32];
	size_t i;
	int ret = 0;

	snprintf(classname, sizeof(classname), "deetune.diff.%s",
		 dt_protocol_name(ep->protocol));
	fputs("    <testcase", out);
	xml_attr(out, "name", ep->name);
	xml_attr(out, "classname", classname);
	fputs(">\n", out);
	if (ep->counts[DT_DIFF_SKIPPED] == total(ep))
		fputs("      <skipped message=\"nothing to compare\"/>\n", out);
	for (i = 0; i < ep->nexchanges && !ret; i++) {
		const struct dt_diff_exchange *x = &ep->exchanges[i];

		if (x->outcome == DT_DIFF_DIFFER)
			ret = write_problem(out, "failure", "difference", x);
		else if (x->outcome == DT_DIFF_FAILED)
			ret = write_problem(out, "error", "replay", x);
	}
	write_unlisted(out, ep, "failure", DT_DIFF_DIFFER);
	write_unlisted(out, ep, "error", DT_DIFF_FAILED);
	write_system_out(out, ep);
	fputs("    </testcase>\n", out);
	return ret;
}

/* Counts testcases by their worst outcome: failure, error, skipped. */
static void testcase_counts(const struct dt_diff_report *r, uint64_t *failures,
			    uint64_t *errors, uint64_t *skipped)
{
	size_t i;

	*failures = *errors = *skipped = 0;
	for (i = 0; i < r->nendpoints; i++) {
		const struct dt_diff_endpoint *ep = &r->endpoints[i];

		if (ep->counts[DT_DIFF_DIFFER])
			(*failures)++;
		else if (ep->counts[DT_DIFF_FAILED])
			(*errors)++;
		else if (ep->counts[DT_DIFF_SKIPPED] == total(ep))
			(*skipped)++;
	}
}

static void write_suite_head(FILE *out, const struct dt_diff_report *r,
			     const char *element)
{
	uint64_t failures, errors, skipped;

	testcase_counts(r, &failures, &errors, &skipped);
	fprintf(out, "<%s", element);
	xml_attr(out, "name", "deetune diff");
	xml_attr_u64(out, "tests", r->nendpoints);
	xml_attr_u64(out, "failures", failures);
	xml_attr_u64(out, "errors", errors);
	xml_attr_u64(out, "skipped", skipped);
	fputs(">\n", out);
}

static void write_property(FILE *out, const char *name, const char *value)
{
	if (!value)
		return;
	fputs("      <property", out);
	xml_attr(out, "name", name);
	xml_attr(out, "value", value);
	fputs("/>\n", out);
}

int dt_diff_write_junit(FILE *out, const struct dt_diff_report *r)
{
	size_t i;
	int ret = 0;

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	write_suite_head(out, r, "testsuites");
	fputs("  ", out);
	write_suite_head(out, r, "testsuite");
	fputs("    <properties>\n", out);
	write_property(out, "recorded", r->recorded_label);
	write_property(out, "replayed", r->replayed_label);
	write_property(out, "noise_from", r->noise_label);
	fputs("    </properties>\n", out);
	for (i = 0; i < r->nendpoints && !ret; i++)
		ret = write_testcase(out, &r->endpoints[i]);
	fputs("  </testsuite>\n</testsuites>\n", out);
	if (!ret && ferror(out))
		ret = -EIO;
	return ret;
}
