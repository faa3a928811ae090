/*  fuzz_cowrie.h - what the Cowrie targets (fuzz_cowrie.c, fuzz_fatt.c) share: the sink
    that checks every observation the adapter builds, and the adapter's bookkeeping. */
#ifndef CADRE_FUZZ_FUZZ_COWRIE_H
#define CADRE_FUZZ_FUZZ_COWRIE_H

#include "fuzz_obs.h"

#include "cowrie.h"

/*  A cowrie_sink_fn: an observation built from any input is valid and survives both round
    trips (it is written to files and sent to the broker as it is). */
static inline int
fuzz_cowrie_sink(const obs_t *obs, void *arg)
{
    size_t *count = arg;
    (*count)++;
    fuzz_obs_round_trip(obs);
    return 0;
}

/*  Checks the adapter's counters and bad-line reports. */
static inline void
fuzz_cowrie_books(const cowrie_t *c)
{
    FUZZ_CHECK(cowrie_bad(c) <= cowrie_lines(c), "more bad lines than lines");
    FUZZ_CHECK(cowrie_fatt_bad(c) <= cowrie_fatt_lines(c), "more bad fatt lines than lines");
    FUZZ_CHECK(cowrie_fatt_records(c) <= cowrie_fatt_lines(c), "more fatt records than lines");
    FUZZ_CHECK(cowrie_open(c) <= cowrie_open_peak(c), "open sources above their peak");
    size_t n = cowrie_bad_reported(c);
    FUZZ_CHECK(n <= COWRIE_MAX_REPORTED && n <= cowrie_bad(c) + cowrie_fatt_bad(c),
               "%zu bad lines reported", n);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(cowrie_bad_at(c, i)->message[0] != '\0', "a bad line without a reason");
    }
}

/*  Runs what the adapter offers on a single line outside an adapter: the event time, and the
    line as a command (phase rules and the C2 host they extract) and as a time string. */
static inline void
fuzz_cowrie_line_helpers(const char *line, size_t len)
{
    double t = 0;
    (void)cowrie_event_time(line, len, &t);
    char *text = malloc(len + 1);
    FUZZ_CHECK(text != NULL, "out of memory");
    memcpy(text, line, len);
    text[len] = '\0';
    char *c2 = NULL;
    ukc_phase_t phase = cowrie_command_phase(text, &c2);
    FUZZ_CHECK((size_t)phase < (size_t)UKC_PHASE_COUNT, "phase %d out of range", (int)phase);
    free(c2);
    (void)cowrie_parse_time(text, &t);
    free(text);
}

#endif
