/*  test_ref_cluster.c - the brute-force reference clusterer (tests/ref/ref_cluster.h).

    Carries the R§11 identity-tier, veto, clustering, campaign-edge and centroid properties,
    plus cadre's campaign-layer fixes (SPEC §4: symmetric T, time-ordered first/last per decky,
    aggregation over all members), and checks the reference against itself on random corpora:
    union-find labels equal a BFS over the public tier functions, and both partitions are
    independent of input order. Every pair score is also checked for symmetry.
*/
#include "ref_cluster.h"

#include "obs.h"
#include "ukc.h"
#include "xalloc.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

/*  --------------------------------------------------------------------------------------
    Helpers */

#define ONES UINT64_MAX
#define T0 1767225600.0
#define DAY 86400.0

/*  Exact double comparison with both values printed on failure. */
#define assert_dbl_equal(got, want) s_assert_dbl((got), (want), 0.0, #got, __FILE__, __LINE__)
/*  Comparison within 1e-9 (R§12.19: shift tests compare approximately). */
#define assert_dbl_near(got, want) s_assert_dbl((got), (want), 1e-9, #got, __FILE__, __LINE__)

static void
s_assert_dbl(double got, double want, double tol, const char *expr, const char *file, int line)
{
    if (!(fabs(got - want) <= tol)) {
        print_error("%s = %.17g, want %.17g (tolerance %g)\n", expr, got, want, tol);
        _fail(file, line);
    }
}

/*  A new observation with optional ja3 and hassh (NULL = absent). */
static obs_t *
o_new(const char *id, const char *ja3, const char *hassh)
{
    obs_t *o = obs_new();
    o->id = xstrdup(id);
    o->ja3 = ja3 ? xstrdup(ja3) : NULL;
    o->hassh = hassh ? xstrdup(hassh) : NULL;
    return o;
}

/*  Appends a session; decky may be NULL. */
static obs_session_t *
o_sess(obs_t *o, const char *decky, ukc_phase_t phase, double start, double duration)
{
    obs_session_t *s = obs_add_session(o);
    s->decky = decky ? xstrdup(decky) : NULL;
    s->phase = phase;
    s->start = start;
    s->duration = duration;
    return s;
}

/*  A session with no decky and no window that only carries a payload hash. */
static void
o_payload(obs_t *o, const char *payload)
{
    o_sess(o, NULL, UKC_DELIVERY, 0.0, 0.0)->payload_hash = xstrdup(payload);
}

/*  A session with no decky and no window that only carries a C2 endpoint. */
static void
o_c2(obs_t *o, const char *c2)
{
    o_sess(o, NULL, UKC_COMMAND_AND_CONTROL, 0.0, 0.0)->c2 = xstrdup(c2);
}

static void
s_add_cmd(obs_session_t *s, const char *cmd)
{
    s->commands = xrealloc(s->commands, (s->n_commands + 1) * sizeof *s->commands);
    s->commands[s->n_commands++] = xstrdup(cmd);
}

/*  A session of this phase running these n commands. */
static void
o_cmds(obs_t *o, ukc_phase_t phase, const char *const *cmds, size_t n)
{
    obs_session_t *s = o_sess(o, NULL, phase, 0.0, 0.0);
    for (size_t i = 0; i < n; i++) {
        s_add_cmd(s, cmds[i]);
    }
}

/*  A credential_access session trying one (user, pass) pair. */
static void
o_cred(obs_t *o, const char *user, const char *pass)
{
    obs_session_t *s = o_sess(o, NULL, UKC_CREDENTIAL_ACCESS, 0.0, 0.0);
    s->creds = xrealloc(s->creds, (s->n_creds + 1) * sizeof *s->creds);
    s->creds[s->n_creds].user = xstrdup(user);
    s->creds[s->n_creds].pass = xstrdup(pass);
    s->n_creds++;
}

static void
o_asn(obs_t *o, int64_t asn)
{
    o->has_asn = true;
    o->asn = asn;
}

static void
o_kd(obs_t *o, uint64_t kd)
{
    o->has_kd = true;
    o->kd_simhash = kd;
}

/*  Identity tiers of (a, b) with default weights; checks that (b, a) gives the same. */
static ref_id_tiers_t
s_id(const obs_t *a, const obs_t *b)
{
    ref_weights_t w;
    ref_weights_default(&w);
    ref_id_tiers_t t, r;
    ref_identity_tiers(a, b, &w, &t);
    ref_identity_tiers(b, a, &w, &r);
    assert_true(t.h == r.h && t.m == r.m && t.l == r.l && t.v == r.v);
    assert_true(t.weight == r.weight);
    return t;
}

/*  Campaign tiers of two member lists with default weights; checks the reverse order too. */
static ref_camp_tiers_t
s_camp(const obs_t *const *a, size_t na, const obs_t *const *b, size_t nb)
{
    ref_weights_t w;
    ref_weights_default(&w);
    ref_camp_tiers_t t, r;
    ref_campaign_tiers(a, na, b, nb, &w, &t);
    ref_campaign_tiers(b, nb, a, na, &w, &r);
    assert_true(t.p == r.p && t.i == r.i && t.t == r.t && t.c == r.c && t.k == r.k);
    assert_true(t.weight == r.weight);
    return t;
}

/*  Campaign tiers of two one-observation identities. */
static ref_camp_tiers_t
s_camp1(const obs_t *a, const obs_t *b)
{
    return s_camp(&a, 1, &b, 1);
}

static void
s_destroy_all(obs_t **obs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        obs_destroy(&obs[i]);
    }
}

/*  ref_identity_partition over n observations into labels. */
static void
s_partition(obs_t **obs, size_t n, uint32_t *labels)
{
    ref_weights_t w;
    ref_weights_default(&w);
    ref_identity_partition((const obs_t *const *)obs, n, &w, labels);
}

/*  --------------------------------------------------------------------------------------
    Identity tier H (R§3.1, R§11) */

static void
test_high_fingerprint_match(void **state)
{
    (void)state;
    obs_t *a = o_new("a", "J", NULL), *b = o_new("b", "J", NULL);
    assert_dbl_equal(s_id(a, b).h, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);

    a = o_new("a", NULL, "H");
    b = o_new("b", NULL, "H");
    assert_dbl_equal(s_id(a, b).h, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  ja4 is a third slot with the same rules. */
    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    a->ja4 = xstrdup("t13d");
    b->ja4 = xstrdup("t13d");
    assert_dbl_equal(s_id(a, b).h, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

static void
test_high_payload_and_c2_match(void **state)
{
    (void)state;
    obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
    o_payload(a, "p1");
    o_payload(b, "p1");
    assert_dbl_equal(s_id(a, b).h, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);

    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    o_c2(a, "c2.example:443");
    o_c2(a, "other");
    o_c2(b, "c2.example:443");
    assert_dbl_equal(s_id(a, b).h, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

static void
test_high_all_different(void **state)
{
    (void)state;
    obs_t *a = o_new("a", "J1", "H1"), *b = o_new("b", "J2", "H2");
    o_payload(a, "p1");
    o_payload(b, "p2");
    o_c2(a, "c1");
    o_c2(b, "c2");
    assert_dbl_equal(s_id(a, b).h, 0.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

static void
test_high_null_fingerprints_nothing_shared(void **state)
{
    (void)state;
    obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
    o_payload(a, "p1");
    o_c2(b, "c1");
    assert_dbl_equal(s_id(a, b).h, 0.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

static void
test_high_veto_distinct_fingerprints(void **state)
{
    (void)state;
    /*  Distinct JA3 and HASSH: a shared C2 or payload does not count. */
    obs_t *a = o_new("a", "J1", "H1"), *b = o_new("b", "J2", "H2");
    o_c2(a, "c2");
    o_c2(b, "c2");
    assert_dbl_equal(s_id(a, b).h, 0.0);
    obs_destroy(&a);
    obs_destroy(&b);

    a = o_new("a", "J1", "H1");
    b = o_new("b", "J2", "H2");
    o_payload(a, "p");
    o_payload(b, "p");
    assert_dbl_equal(s_id(a, b).h, 0.0);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  A comparable ja4 that differs vetoes too; a one-sided ja4 does not. */
    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    a->ja4 = xstrdup("x");
    b->ja4 = xstrdup("y");
    o_c2(a, "c2");
    o_c2(b, "c2");
    assert_dbl_equal(s_id(a, b).h, 0.0);
    free(b->ja4);
    b->ja4 = NULL;
    assert_dbl_equal(s_id(a, b).h, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

static void
test_high_unfingerprinted_shared_c2(void **state)
{
    (void)state;
    obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
    o_c2(a, "c2");
    o_c2(b, "c2");
    assert_dbl_equal(s_id(a, b).h, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  One side fingerprinted, the other not: nothing comparable. */
    a = o_new("a", "J1", "H1");
    b = o_new("b", NULL, NULL);
    o_c2(a, "c2");
    o_c2(b, "c2");
    assert_dbl_equal(s_id(a, b).h, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

static void
test_high_ja3_agrees_hassh_differs(void **state)
{
    (void)state;
    obs_t *a = o_new("a", "J", "H1"), *b = o_new("b", "J", "H2");
    o_c2(a, "c2");
    o_c2(b, "c2");
    assert_dbl_equal(s_id(a, b).h, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

static void
test_high_only_ja3_comparable_differs(void **state)
{
    (void)state;
    obs_t *a = o_new("a", "J1", NULL), *b = o_new("b", "J2", NULL);
    o_c2(a, "c2");
    o_c2(b, "c2");
    assert_dbl_equal(s_id(a, b).h, 0.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

static void
test_high_empty_sets(void **state)
{
    (void)state;
    obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
    ref_id_tiers_t t = s_id(a, b);
    assert_dbl_equal(t.h, 0.0);
    assert_dbl_equal(t.weight, 0.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

/*  "" is a fingerprint value (R§12.16), but an empty payload or C2 is not collected. */
static void
test_high_empty_strings(void **state)
{
    (void)state;
    obs_t *a = o_new("a", "", NULL), *b = o_new("b", "", NULL);
    assert_dbl_equal(s_id(a, b).h, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  "" against "x" is comparable and differs: veto. */
    a = o_new("a", "", NULL);
    b = o_new("b", "x", NULL);
    o_c2(a, "c2");
    o_c2(b, "c2");
    assert_dbl_equal(s_id(a, b).h, 0.0);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  "" against NULL is not comparable. */
    a = o_new("a", "", NULL);
    b = o_new("b", NULL, NULL);
    o_c2(a, "c2");
    o_c2(b, "c2");
    assert_dbl_equal(s_id(a, b).h, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);

    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    o_payload(a, "");
    o_payload(b, "");
    o_c2(a, "");
    o_c2(b, "");
    assert_dbl_equal(s_id(a, b).h, 0.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

/*  All 81 assignments of {null, x, y} to a.ja3, a.hassh, b.ja3, b.hassh with a shared C2:
    exactly 24 are vetoed, and H = 1 iff a comparable slot agrees or none is comparable. */
static void
test_veto_truth_table(void **state)
{
    (void)state;
    static const char *const vals[3] = {NULL, "x", "y"};
    int vetoed = 0;
    for (int code = 0; code < 81; code++) {
        const char *aj = vals[code % 3], *ah = vals[(code / 3) % 3];
        const char *bj = vals[(code / 9) % 3], *bh = vals[(code / 27) % 3];
        obs_t *a = o_new("a", aj, ah), *b = o_new("b", bj, bh);
        o_c2(a, "c2");
        o_c2(b, "c2");
        double h = s_id(a, b).h;
        bool ja3_cmp = aj && bj, hassh_cmp = ah && bh;
        bool agree = (ja3_cmp && strcmp(aj, bj) == 0) || (hassh_cmp && strcmp(ah, bh) == 0);
        double want = (agree || !(ja3_cmp || hassh_cmp)) ? 1.0 : 0.0;
        assert_dbl_equal(h, want);
        if (h == 0.0) {
            vetoed++;
        }
        obs_destroy(&a);
        obs_destroy(&b);
    }
    assert_int_equal(vetoed, 24);
}

/*  --------------------------------------------------------------------------------------
    Identity tiers M, L, V and the weight */

static void
test_medium(void **state)
{
    (void)state;
    static const char *const four[] = {"ls", "id", "uname -a", "whoami"};
    static const char *const two[] = {"ls", "id"};
    static const char *const other[] = {"cat /etc/passwd"};

    obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
    o_cmds(a, UKC_DISCOVERY, four, 4);
    o_cmds(b, UKC_DISCOVERY, four, 4);
    assert_dbl_equal(s_id(a, b).m, 1.0);
    obs_destroy(&b);

    b = o_new("b", NULL, NULL);
    o_cmds(b, UKC_DISCOVERY, two, 2);
    assert_dbl_equal(s_id(a, b).m, 0.5);

    /*  The maximum over phases keyed on both sides. */
    o_cmds(a, UKC_PERSISTENCE, other, 1);
    o_cmds(b, UKC_PERSISTENCE, other, 1);
    assert_dbl_equal(s_id(a, b).m, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  Same commands under different phases: no shared phase. */
    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    o_cmds(a, UKC_DISCOVERY, four, 4);
    o_cmds(b, UKC_EXECUTION, four, 4);
    assert_dbl_equal(s_id(a, b).m, 0.0);
    obs_destroy(&b);

    /*  Disjoint sets under one phase. */
    b = o_new("b", NULL, NULL);
    o_cmds(b, UKC_DISCOVERY, other, 1);
    assert_dbl_equal(s_id(a, b).m, 0.0);
    obs_destroy(&b);

    /*  Commands are a set per phase, pooled across sessions: duplicates count once. */
    b = o_new("b", NULL, NULL);
    o_cmds(b, UKC_DISCOVERY, two, 2);
    o_cmds(b, UKC_DISCOVERY, two, 2);
    o_cmds(b, UKC_DISCOVERY, four + 2, 2);
    assert_dbl_equal(s_id(a, b).m, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

static void
test_low(void **state)
{
    (void)state;
    obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
    o_cred(a, "root", "toor");
    o_cred(b, "root", "toor");
    assert_dbl_equal(s_id(a, b).l, 1.0);
    o_cred(b, "admin", "admin");
    o_cred(b, "pi", "raspberry");
    assert_dbl_equal(s_id(a, b).l, 1.0 / 3.0);
    obs_destroy(&a);

    a = o_new("a", NULL, NULL);
    assert_dbl_equal(s_id(a, b).l, 0.0);
    /*  A pair is ordered: (toor, root) is not (root, toor). */
    o_cred(a, "toor", "root");
    assert_dbl_equal(s_id(a, b).l, 0.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

static void
test_asn(void **state)
{
    (void)state;
    obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
    assert_dbl_equal(s_id(a, b).v, 0.0);
    o_asn(a, 64512);
    assert_dbl_equal(s_id(a, b).v, 0.0);
    o_asn(b, 64512);
    assert_dbl_equal(s_id(a, b).v, 1.0);
    o_asn(b, 64513);
    assert_dbl_equal(s_id(a, b).v, 0.0);
    /*  ASN 0 is a value. */
    o_asn(a, 0);
    o_asn(b, 0);
    assert_dbl_equal(s_id(a, b).v, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

static void
test_identity_weight(void **state)
{
    (void)state;
    static const char *const cmds[] = {"uname -a"};
    obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
    assert_dbl_equal(s_id(a, b).weight, 0.0);

    /*  Each weak signal alone stays strictly between 0 and 1. */
    o_cmds(a, UKC_DISCOVERY, cmds, 1);
    o_cmds(b, UKC_DISCOVERY, cmds, 1);
    assert_dbl_equal(s_id(a, b).weight, 0.6);
    obs_destroy(&a);
    obs_destroy(&b);

    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    o_cred(a, "root", "toor");
    o_cred(b, "root", "toor");
    assert_dbl_equal(s_id(a, b).weight, 0.2);
    obs_destroy(&a);
    obs_destroy(&b);

    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    o_asn(a, 7922);
    o_asn(b, 7922);
    assert_dbl_equal(s_id(a, b).weight, 0.05);

    /*  All three weak: 0.6 + 0.2 + 0.05 = 0.8500000000000001 < 1. */
    o_cmds(a, UKC_DISCOVERY, cmds, 1);
    o_cmds(b, UKC_DISCOVERY, cmds, 1);
    o_cred(a, "root", "toor");
    o_cred(b, "root", "toor");
    ref_id_tiers_t t = s_id(a, b);
    assert_dbl_equal(t.h, 0.0);
    assert_dbl_equal(t.weight, 0.8500000000000001);
    assert_true(t.weight < 1.0);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  High alone reaches 1; high + medium too. */
    a = o_new("a", "J", NULL);
    b = o_new("b", "J", NULL);
    assert_dbl_equal(s_id(a, b).weight, 1.0);
    o_cmds(a, UKC_DISCOVERY, cmds, 1);
    o_cmds(b, UKC_DISCOVERY, cmds, 1);
    assert_dbl_equal(s_id(a, b).weight, 1.6);
    assert_true(s_id(a, b).weight >= 1.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

/*  --------------------------------------------------------------------------------------
    Identity partition (R§11 "Identity clustering") */

static void
test_partition_basic(void **state)
{
    (void)state;
    uint32_t lab[5];

    /*  Distinct JA3s and a bare observation: 3 components. */
    obs_t *o[5] = {o_new("a", "J1", NULL), o_new("b", "J2", NULL), o_new("c", NULL, NULL)};
    s_partition(o, 3, lab);
    assert_int_equal(lab[0], 0);
    assert_int_equal(lab[1], 1);
    assert_int_equal(lab[2], 2);
    s_destroy_all(o, 3);

    /*  A shared JA3 unions. */
    o[0] = o_new("a", "J", NULL);
    o[1] = o_new("b", "J", NULL);
    s_partition(o, 2, lab);
    assert_int_equal(lab[0], 0);
    assert_int_equal(lab[1], 0);
    s_destroy_all(o, 2);

    /*  Two signal-less observations stay apart. */
    o[0] = o_new("a", NULL, NULL);
    o[1] = o_new("b", NULL, NULL);
    s_partition(o, 2, lab);
    assert_int_equal(lab[0], 0);
    assert_int_equal(lab[1], 1);
    s_destroy_all(o, 2);

    /*  Canonical labels: the smallest index of the component. */
    o[0] = o_new("a", "J1", NULL);
    o[1] = o_new("b", "J2", NULL);
    o[2] = o_new("c", "J1", NULL);
    o[3] = o_new("d", NULL, NULL);
    o[4] = o_new("e", "J2", NULL);
    s_partition(o, 5, lab);
    static const uint32_t want[5] = {0, 1, 0, 3, 1};
    assert_memory_equal(lab, want, sizeof want);
    s_destroy_all(o, 5);

    /*  Empty input. */
    ref_weights_t w;
    ref_weights_default(&w);
    ref_identity_partition(NULL, 0, &w, NULL);
}

/*  A-B by JA3, B-C by payload; C comes first, and A and C share nothing directly. */
static void
test_partition_transitive(void **state)
{
    (void)state;
    obs_t *o[3] = {o_new("c", NULL, NULL), o_new("a", "J", NULL), o_new("b", "J", NULL)};
    o_payload(o[0], "p");
    o_payload(o[2], "p");
    assert_true(s_id(o[0], o[1]).weight < 1.0);
    uint32_t lab[3];
    s_partition(o, 3, lab);
    assert_int_equal(lab[0], 0);
    assert_int_equal(lab[1], 0);
    assert_int_equal(lab[2], 0);
    s_destroy_all(o, 3);
}

static void
test_partition_weak_never_fuse(void **state)
{
    (void)state;
    static const char *const cmds[] = {"whoami", "id"};
    uint32_t lab[2];
    for (int kind = 0; kind < 4; kind++) {
        obs_t *o[2] = {o_new("a", NULL, NULL), o_new("b", NULL, NULL)};
        for (int k = 0; k < 2; k++) {
            if (kind == 0 || kind == 3) {
                o_cred(o[k], "root", "toor");
            }
            if (kind == 1 || kind == 3) {
                o_asn(o[k], 64512);
            }
            if (kind == 2 || kind == 3) {
                o_cmds(o[k], UKC_DISCOVERY, cmds, 2);
            }
        }
        s_partition(o, 2, lab);
        assert_int_equal(lab[0], 0);
        assert_int_equal(lab[1], 1);
        s_destroy_all(o, 2);
    }
}

/*  --------------------------------------------------------------------------------------
    Campaign tier P (R§4.1, R§11 "Campaign edges") */

static void
test_handoff(void **state)
{
    (void)state;
    /*  C2 then discovery 600 s later on one decky. */
    obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
    o_sess(a, "decky-01", UKC_COMMAND_AND_CONTROL, T0, 5.0);
    o_sess(b, "decky-01", UKC_DISCOVERY, T0 + 605.0, 5.0);
    assert_dbl_equal(s_camp1(a, b).p, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  Persistence then lateral movement 60 s later, either argument order (s_camp1 checks
        the reverse order gives the same tiers). */
    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    o_sess(a, "decky-02", UKC_PERSISTENCE, T0, 0.0);
    o_sess(b, "decky-02", UKC_LATERAL_MOVEMENT, T0 + 60.0, 0.0);
    assert_dbl_equal(s_camp1(a, b).p, 1.0);
    assert_dbl_equal(s_camp1(b, a).p, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

static void
test_handoff_negative(void **state)
{
    (void)state;
    struct {
        const char *decky_b; /* decky of the in-side session */
        ukc_phase_t out;     /* phase of the out-side session */
        ukc_phase_t in;      /* phase of the in-side session */
        double gap;          /* in start - out end */
        double want;         /* expected P */
    } cases[] = {
        {"decky-02", UKC_COMMAND_AND_CONTROL, UKC_DISCOVERY, 600.0, 0.0}, /* other decky */
        {"decky-01", UKC_EXPLOITATION, UKC_DISCOVERY, 600.0, 0.0},        /* not an out phase */
        {"decky-01", UKC_COMMAND_AND_CONTROL, UKC_EXECUTION, 600.0, 0.0}, /* not an in phase */
        {"decky-01", UKC_COMMAND_AND_CONTROL, UKC_DISCOVERY, 25 * 3600.0, 0.0}, /* 25 h */
        {"decky-01", UKC_COMMAND_AND_CONTROL, UKC_DISCOVERY, -1.0, 0.0},        /* negative */
        {"decky-01", UKC_COMMAND_AND_CONTROL, UKC_DISCOVERY, DAY, 1.0},         /* bounds */
        {"decky-01", UKC_PERSISTENCE, UKC_LATERAL_MOVEMENT, 0.0, 1.0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
        o_sess(a, "decky-01", cases[k].out, T0, 30.0);
        o_sess(b, cases[k].decky_b, cases[k].in, T0 + 30.0 + cases[k].gap, 5.0);
        assert_dbl_equal(s_camp1(a, b).p, cases[k].want);
        obs_destroy(&a);
        obs_destroy(&b);
    }
}

/*  --------------------------------------------------------------------------------------
    Campaign tiers I, T, C, K */

static void
test_infra(void **state)
{
    (void)state;
    obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
    assert_dbl_equal(s_camp1(a, b).i, 0.0);
    o_payload(a, "p");
    o_c2(a, "c");
    o_payload(b, "p");
    o_c2(b, "c");
    assert_dbl_equal(s_camp1(a, b).i, 1.0);
    obs_destroy(&b);

    b = o_new("b", NULL, NULL);
    o_payload(b, "q");
    o_c2(b, "d");
    assert_dbl_equal(s_camp1(a, b).i, 0.0);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  Payloads and C2 share one untagged set; {x} vs {x, y} = 0.5. */
    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    o_payload(a, "x");
    o_c2(b, "x");
    assert_dbl_equal(s_camp1(a, b).i, 1.0);
    o_payload(b, "y");
    assert_dbl_equal(s_camp1(a, b).i, 0.5);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  Empty payload and C2 strings are not collected. */
    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    o_payload(a, "");
    o_c2(a, "");
    o_payload(b, "");
    o_c2(b, "");
    assert_dbl_equal(s_camp1(a, b).i, 0.0);
    assert_dbl_equal(s_camp1(a, b).weight, 0.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

static void
test_temporal(void **state)
{
    (void)state;
    struct {
        double a0, a1, b0, b1; /* a's window [a0, a1), b's [b0, b1), relative to T0 */
        double want;           /* expected T */
    } cases[] = {
        {0, 100, 0, 100, 1.0},   /* full */
        {0, 100, 50, 150, 0.5},  /* half: overlap 50 / min(100, 100) */
        {0, 100, 200, 300, 0.0}, /* disjoint */
        {0, 100, 100, 200, 0.0}, /* touching */
        {0, 0, 0, 100, 0.0},     /* a has only a zero-length window: empty */
        {10, 20, 0, 100, 1.0},   /* a inside b: symmetric form gives 1 both ways */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
        o_sess(a, NULL, UKC_DELIVERY, T0 + cases[k].a0, cases[k].a1 - cases[k].a0);
        o_sess(b, NULL, UKC_DELIVERY, T0 + cases[k].b0, cases[k].b1 - cases[k].b0);
        assert_dbl_equal(s_camp1(a, b).t, cases[k].want);
        obs_destroy(&a);
        obs_destroy(&b);
    }

    /*  No sessions at all. */
    obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
    o_sess(b, NULL, UKC_DELIVERY, T0, 100.0);
    assert_dbl_equal(s_camp1(a, b).t, 0.0);

    /*  Overlapping windows of one identity are merged, not double counted: a's union is
        [0, 150) (two windows), b's [0, 150): T = 1 exactly, not more. */
    o_sess(a, NULL, UKC_DELIVERY, T0, 100.0);
    o_sess(a, NULL, UKC_DISCOVERY, T0 + 50.0, 100.0);
    o_sess(b, NULL, UKC_DELIVERY, T0 + 50.0, 100.0);
    assert_dbl_equal(s_camp1(a, b).t, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  Union lengths: a = [0,100) + [200,300) (200 s), b = [50,250) (200 s): overlap 100. */
    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    o_sess(a, NULL, UKC_DELIVERY, T0 + 200.0, 100.0);
    o_sess(a, NULL, UKC_DELIVERY, T0, 100.0);
    o_sess(b, NULL, UKC_DELIVERY, T0 + 50.0, 200.0);
    assert_dbl_equal(s_camp1(a, b).t, 0.5);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  a = [0,100) + [50,150) merges to [0,150); b = [100,300): 50 / min(150, 200). Unmerged
        windows would give 50 / min(200, 200) instead. */
    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    o_sess(a, NULL, UKC_DELIVERY, T0 + 50.0, 100.0);
    o_sess(a, NULL, UKC_DELIVERY, T0, 100.0);
    o_sess(b, NULL, UKC_DELIVERY, T0 + 100.0, 200.0);
    assert_dbl_equal(s_camp1(a, b).t, 1.0 / 3.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

static void
test_cohort(void **state)
{
    (void)state;
    obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
    assert_dbl_equal(s_camp1(a, b).c, 0.0);
    o_asn(a, 64512);
    o_asn(b, 64512);
    assert_dbl_equal(s_camp1(a, b).c, 1.0);
    o_asn(b, 64513);
    assert_dbl_equal(s_camp1(a, b).c, 0.0);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  Tags keep an ASN apart from a decky with the same text. */
    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    o_asn(a, 64512);
    o_sess(b, "64512", UKC_DELIVERY, T0, 0.0);
    assert_dbl_equal(s_camp1(a, b).c, 0.0);
    /*  {asn 64512} vs {asn 64512, decky 64512}: 1/2. */
    o_asn(b, 64512);
    assert_dbl_equal(s_camp1(a, b).c, 0.5);
    obs_destroy(&a);
    obs_destroy(&b);
}

static void
test_keystroke(void **state)
{
    (void)state;
    obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
    assert_dbl_equal(s_camp1(a, b).k, 0.0);
    o_kd(a, 0x0123456789abcdefu);
    assert_dbl_equal(s_camp1(a, b).k, 0.0);
    struct {
        uint64_t flip; /* bits of b's value that differ from a's */
        double want;   /* expected K */
    } cases[] = {
        {0, 1.0}, {0x1, 0.875}, {0xf, 0.5}, {0x7f, 0.125}, {0xff, 0.0}, {ONES, 0.0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        o_kd(b, a->kd_simhash ^ cases[k].flip);
        assert_dbl_equal(s_camp1(a, b).k, cases[k].want);
    }
    /*  Zero is a real centroid. */
    o_kd(a, 0);
    o_kd(b, 0);
    assert_dbl_equal(s_camp1(a, b).k, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

static void
test_centroid(void **state)
{
    (void)state;
    obs_t *o[3] = {o_new("a", NULL, NULL), o_new("b", NULL, NULL), o_new("c", NULL, NULL)};
    const obs_t *const *m = (const obs_t *const *)o;

    ref_centroid_t c = ref_kd_centroid(m, 0);
    assert_false(c.present);
    c = ref_kd_centroid(m, 3);
    assert_false(c.present);

    o_kd(o[0], 0xdeadbeefcafef00du);
    c = ref_kd_centroid(m, 1);
    assert_true(c.present);
    assert_true(c.value == 0xdeadbeefcafef00du);
    /*  Members without a value are skipped. */
    c = ref_kd_centroid(m, 3);
    assert_true(c.present && c.value == 0xdeadbeefcafef00du);

    o_kd(o[0], ONES);
    o_kd(o[1], ONES);
    o_kd(o[2], 0);
    c = ref_kd_centroid(m, 3);
    assert_true(c.present && c.value == ONES);
    /*  (ones, 0): every bit ties, ties give 0. */
    const obs_t *pair[2] = {o[0], o[2]};
    c = ref_kd_centroid(pair, 2);
    assert_true(c.present && c.value == 0);
    s_destroy_all(o, 3);
}

/*  --------------------------------------------------------------------------------------
    Campaign weight (R§4.2, R§11) */

static void
test_campaign_weight(void **state)
{
    (void)state;
    /*  P alone reaches 1 (the shared decky adds a cohort share, 1.1 in all). */
    obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
    o_sess(a, "decky-01", UKC_COMMAND_AND_CONTROL, T0, 0.0);
    o_sess(b, "decky-01", UKC_DISCOVERY, T0 + 600.0, 0.0);
    ref_camp_tiers_t t = s_camp1(a, b);
    assert_dbl_equal(t.p, 1.0);
    assert_dbl_equal(t.i + t.t + t.k, 0.0);
    assert_true(t.weight >= 1.0);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  Cohort alone stays below. */
    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    o_asn(a, 64512);
    o_asn(b, 64512);
    assert_dbl_equal(s_camp1(a, b).weight, 0.1);

    /*  Shared deckies + ASNs stay below (no handoff: the phases do not hand off). */
    o_sess(a, "decky-01", UKC_DISCOVERY, T0, 0.0);
    o_sess(b, "decky-01", UKC_COMMAND_AND_CONTROL, T0 + 600.0, 0.0);
    t = s_camp1(a, b);
    assert_dbl_equal(t.c, 1.0);
    assert_dbl_equal(t.weight, 0.1);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  Infra alone reaches 1. */
    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    o_c2(a, "c2");
    o_c2(b, "c2");
    assert_dbl_equal(s_camp1(a, b).weight, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  Typing alone stays below; typing + an identical window is exactly 1.0
        (0.4 + 0.6 == 1.0); the window without typing stays below. */
    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    o_kd(a, 42);
    o_kd(b, 42);
    assert_dbl_equal(s_camp1(a, b).weight, 0.6);
    o_sess(a, NULL, UKC_DELIVERY, T0, 100.0);
    o_sess(b, NULL, UKC_DELIVERY, T0, 100.0);
    assert_dbl_equal(s_camp1(a, b).weight, 1.0);
    a->has_kd = false;
    assert_dbl_equal(s_camp1(a, b).weight, 0.4);
    obs_destroy(&a);
    obs_destroy(&b);

    /*  R§12.19: 0.4*1 + 0.1*0.75 + 0.6*0.875 = 1.0 exactly. C = 3/4: a {asn 1, decky d1,
        decky d2}, b adds decky d3; K = 0.875: one bit. */
    a = o_new("a", NULL, NULL);
    b = o_new("b", NULL, NULL);
    o_asn(a, 1);
    o_asn(b, 1);
    o_kd(a, 0);
    o_kd(b, 1);
    o_sess(a, "d1", UKC_DELIVERY, T0, 100.0);
    o_sess(a, "d2", UKC_DELIVERY, T0, 100.0);
    o_sess(b, "d1", UKC_DELIVERY, T0, 100.0);
    o_sess(b, "d2", UKC_DELIVERY, T0, 100.0);
    o_sess(b, "d3", UKC_DELIVERY, T0, 100.0);
    t = s_camp1(a, b);
    assert_dbl_equal(t.t, 1.0);
    assert_dbl_equal(t.c, 0.75);
    assert_dbl_equal(t.k, 0.875);
    assert_dbl_equal(t.weight, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

/*  +90 days on every time leaves T, P and w unchanged (approximately). */
static void
test_campaign_shift_invariance(void **state)
{
    (void)state;
    double shifts[2] = {0.0, 90 * DAY};
    ref_camp_tiers_t t[2];
    for (int k = 0; k < 2; k++) {
        obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
        double s = T0 + 7 * DAY + 0.25 + shifts[k];
        o_sess(a, "decky-03", UKC_COMMAND_AND_CONTROL, s, 321.5);
        o_sess(a, NULL, UKC_DELIVERY, s + 1000.0, 77.125);
        o_sess(b, "decky-03", UKC_DISCOVERY, s + 900.0, 1000.0);
        o_sess(b, "decky-04", UKC_EXECUTION, s + 60.0, 100.0);
        o_asn(a, 64540);
        o_asn(b, 64541);
        o_kd(a, 0xff00);
        o_kd(b, 0xff01);
        t[k] = s_camp1(a, b);
        obs_destroy(&a);
        obs_destroy(&b);
    }
    assert_dbl_equal(t[0].p, 1.0);
    assert_true(t[0].t > 0.0 && t[0].t < 1.0);
    assert_dbl_near(t[1].t, t[0].t);
    assert_dbl_equal(t[1].p, t[0].p);
    assert_dbl_near(t[1].weight, t[0].weight);
}

/*  --------------------------------------------------------------------------------------
    cadre's campaign-layer fixes (SPEC §4) */

/*  R§12.5's example: I = 0.5, a's window inside b's, C = 1. DECNET gives 1.0 one way and
    0.64 the other; the symmetric T gives 1.0 both ways. */
static void
test_fix_symmetric_temporal(void **state)
{
    (void)state;
    obs_t *a = o_new("a", NULL, NULL), *b = o_new("b", NULL, NULL);
    o_sess(a, NULL, UKC_DELIVERY, T0 + 10.0, 10.0)->payload_hash = xstrdup("x");
    o_sess(b, NULL, UKC_DELIVERY, T0, 100.0)->payload_hash = xstrdup("x");
    o_c2(b, "y");
    o_asn(a, 64530);
    o_asn(b, 64530);
    ref_weights_t w;
    ref_weights_default(&w);
    ref_camp_tiers_t ab, ba;
    ref_campaign_tiers((const obs_t *const *)&a, 1, (const obs_t *const *)&b, 1, &w, &ab);
    ref_campaign_tiers((const obs_t *const *)&b, 1, (const obs_t *const *)&a, 1, &w, &ba);
    assert_dbl_equal(ab.i, 0.5);
    assert_dbl_equal(ab.c, 1.0);
    assert_dbl_equal(ab.t, 1.0);
    assert_dbl_equal(ba.t, 1.0);
    assert_dbl_equal(ab.weight, 1.0);
    assert_dbl_equal(ba.weight, 1.0);
    obs_destroy(&a);
    obs_destroy(&b);
}

/*  First/last per decky follow start time (ties: observation id, session index), not list
    order. */
static void
test_fix_time_order(void **state)
{
    (void)state;
    /*  List [discovery@200, C2@100] on d: first = C2@100, last = discovery ending 210. */
    obs_t *a = o_new("a", NULL, NULL);
    o_sess(a, "d", UKC_DISCOVERY, T0 + 200.0, 10.0);
    o_sess(a, "d", UKC_COMMAND_AND_CONTROL, T0 + 100.0, 10.0);
    /*  A C2 ending at 60 would hand off to a list-order first (discovery@200): not here. */
    obs_t *b = o_new("b", NULL, NULL);
    o_sess(b, "d", UKC_COMMAND_AND_CONTROL, T0 + 50.0, 10.0);
    assert_dbl_equal(s_camp1(a, b).p, 0.0);
    obs_destroy(&b);
    /*  A discovery at 1000 would follow a list-order last (C2 ending 110): not here. */
    b = o_new("b", NULL, NULL);
    o_sess(b, "d", UKC_DISCOVERY, T0 + 1000.0, 10.0);
    assert_dbl_equal(s_camp1(a, b).p, 0.0);
    obs_destroy(&b);
    obs_destroy(&a);

    /*  List [C2@500, discovery@100] on d: first = discovery@100, last = C2 ending 510. */
    a = o_new("a", NULL, NULL);
    o_sess(a, "d", UKC_COMMAND_AND_CONTROL, T0 + 500.0, 10.0);
    o_sess(a, "d", UKC_DISCOVERY, T0 + 100.0, 10.0);
    b = o_new("b", NULL, NULL);
    o_sess(b, "d", UKC_DISCOVERY, T0 + 1000.0, 10.0);
    assert_dbl_equal(s_camp1(a, b).p, 1.0);
    obs_destroy(&b);
    b = o_new("b", NULL, NULL);
    o_sess(b, "d", UKC_COMMAND_AND_CONTROL, T0 + 40.0, 10.0);
    assert_dbl_equal(s_camp1(a, b).p, 1.0);
    obs_destroy(&b);
    obs_destroy(&a);

    /*  last_seen is the end of the last-starting session, not the largest end:
        persistence@100 for 5000 s, then C2@200 ending 210; a discovery at 1000 is 790 s
        after that C2 (it would be before a 5100 end). */
    a = o_new("a", NULL, NULL);
    o_sess(a, "d", UKC_PERSISTENCE, T0 + 100.0, 5000.0);
    o_sess(a, "d", UKC_COMMAND_AND_CONTROL, T0 + 200.0, 10.0);
    b = o_new("b", NULL, NULL);
    o_sess(b, "d", UKC_DISCOVERY, T0 + 1000.0, 10.0);
    assert_dbl_equal(s_camp1(a, b).p, 1.0);
    obs_destroy(&b);
    obs_destroy(&a);
}

/*  Equal starts are ordered by observation id in byte order (strcmp), then by session index
    within the observation, whatever the members' order in the list. */
static void
s_tie_members(const char *id_disc, const char *id_c2, double want_p)
{
    obs_t *m[2] = {o_new(id_disc, NULL, NULL), o_new(id_c2, NULL, NULL)};
    obs_t *probe_in = o_new("in", NULL, NULL), *probe_out = o_new("out", NULL, NULL);
    o_sess(probe_in, "d", UKC_DISCOVERY, T0 + 700.0, 0.0);
    o_sess(probe_out, "d", UKC_COMMAND_AND_CONTROL, T0 + 50.0, 0.0);
    const obs_t *const *pin = (const obs_t *const *)&probe_in;
    const obs_t *const *pout = (const obs_t *const *)&probe_out;
    o_sess(m[0], "d", UKC_DISCOVERY, T0 + 100.0, 0.0);
    o_sess(m[1], "d", UKC_COMMAND_AND_CONTROL, T0 + 100.0, 0.0);
    /*  want_p 1: first = discovery, last = C2, so both probes fire; 0: the reverse, neither
        fires. The same in either member order. */
    const obs_t *given[2] = {m[0], m[1]};
    const obs_t *swapped[2] = {m[1], m[0]};
    assert_dbl_equal(s_camp(given, 2, pin, 1).p, want_p);
    assert_dbl_equal(s_camp(given, 2, pout, 1).p, want_p);
    assert_dbl_equal(s_camp(swapped, 2, pin, 1).p, want_p);
    assert_dbl_equal(s_camp(swapped, 2, pout, 1).p, want_p);
    s_destroy_all(m, 2);
    obs_destroy(&probe_in);
    obs_destroy(&probe_out);
}

static void
test_fix_time_order_ties(void **state)
{
    (void)state;
    /*  Discovery in "m0", C2 in "m1": "m0" < "m1", so first = discovery, last = C2. */
    s_tie_members("m0", "m1", 1.0);
    /*  Discovery in "m1", C2 in "m0": first = C2, last = discovery, whatever the list order
        (ordering by member index would make the list [m1, m0] fire both probes). */
    s_tie_members("m1", "m0", 0.0);
    /*  Byte order, not numeric or case-folded: "o10" < "o9" and "B" < "a". */
    s_tie_members("o10", "o9", 1.0);
    s_tie_members("o9", "o10", 0.0);
    s_tie_members("B", "a", 1.0);
    s_tie_members("a", "B", 0.0);

    /*  Within one observation the session index breaks the tie. */
    obs_t *probe_in = o_new("in", NULL, NULL), *probe_out = o_new("out", NULL, NULL);
    o_sess(probe_in, "d", UKC_DISCOVERY, T0 + 700.0, 0.0);
    o_sess(probe_out, "d", UKC_COMMAND_AND_CONTROL, T0 + 50.0, 0.0);
    obs_t *one = o_new("one", NULL, NULL);
    o_sess(one, "d", UKC_DISCOVERY, T0 + 100.0, 0.0);
    o_sess(one, "d", UKC_COMMAND_AND_CONTROL, T0 + 100.0, 0.0);
    assert_dbl_equal(s_camp1(one, probe_in).p, 1.0);
    assert_dbl_equal(s_camp1(one, probe_out).p, 1.0);
    obs_destroy(&one);
    one = o_new("one", NULL, NULL);
    o_sess(one, "d", UKC_COMMAND_AND_CONTROL, T0 + 100.0, 0.0);
    o_sess(one, "d", UKC_DISCOVERY, T0 + 100.0, 0.0);
    assert_dbl_equal(s_camp1(one, probe_in).p, 0.0);
    assert_dbl_equal(s_camp1(one, probe_out).p, 0.0);
    obs_destroy(&one);
    obs_destroy(&probe_in);
    obs_destroy(&probe_out);
}

/*  Identity features aggregate every member observation. */
static void
test_fix_aggregation(void **state)
{
    (void)state;
    obs_t *o[3] = {o_new("o1", "J1", NULL), o_new("o2", "J1", NULL), o_new("o3", "J2", NULL)};
    o_sess(o[0], NULL, UKC_DELIVERY, T0, 50.0);
    o_sess(o[1], NULL, UKC_DELIVERY, T0 + 50.0, 50.0)->payload_hash = xstrdup("P");
    o_payload(o[2], "P");
    const obs_t *const *mm = (const obs_t *const *)o;
    ref_camp_tiers_t t = s_camp(mm, 2, mm + 2, 1);
    assert_dbl_equal(t.i, 1.0);
    assert_true(t.weight >= 1.0);
    /*  Only the first member: nothing shared. */
    assert_dbl_equal(s_camp(mm, 1, mm + 2, 1).weight, 0.0);

    /*  Windows of both members form one union [0, 100); against [40, 140) the overlap is
        60 / min(100, 100). Each member alone would give 10 / 50 and 50 / 50. */
    obs_t *w = o_new("w", NULL, NULL);
    o_sess(w, NULL, UKC_DELIVERY, T0 + 40.0, 100.0);
    const obs_t *const *ww = (const obs_t *const *)&w;
    assert_dbl_equal(s_camp(mm, 2, ww, 1).t, 0.6);
    assert_dbl_equal(s_camp(mm, 1, ww, 1).t, 0.2);
    assert_dbl_equal(s_camp(mm + 1, 1, ww, 1).t, 1.0);
    obs_destroy(&w);

    /*  The ASN cohort and the keystroke centroid also come from every member: o1 has
        neither, o2 has both; then a third member outvotes o2's hash. */
    obs_t *probe = o_new("probe", NULL, NULL);
    o_asn(probe, 64512);
    o_kd(probe, 0xff);
    const obs_t *const *pp = (const obs_t *const *)&probe;
    o_asn(o[1], 64512);
    o_kd(o[1], 0xff);
    ref_camp_tiers_t tp = s_camp(mm, 2, pp, 1);
    assert_dbl_equal(tp.c, 1.0);
    assert_dbl_equal(tp.k, 1.0);
    o_kd(o[0], 0);
    o_kd(o[2], 0);
    assert_dbl_equal(s_camp(mm, 3, pp, 1).k, 0.0);
    o[0]->has_kd = false;
    o[2]->has_kd = false;
    obs_destroy(&probe);

    /*  Chained: o3 is vetoed out of o1/o2's identity but joins their campaign. */
    uint32_t ident[3], camp[3];
    ref_weights_t wt;
    ref_weights_default(&wt);
    ref_cluster(mm, 3, &wt, ident, camp);
    static const uint32_t want_ident[3] = {0, 0, 2};
    static const uint32_t want_camp[3] = {0, 0, 0};
    assert_memory_equal(ident, want_ident, sizeof ident);
    assert_memory_equal(camp, want_camp, sizeof camp);
    s_destroy_all(o, 3);
}

/*  --------------------------------------------------------------------------------------
    ref_cluster (both layers) */

static void
test_cluster_small(void **state)
{
    (void)state;
    ref_weights_t w;
    ref_weights_default(&w);
    ref_cluster(NULL, 0, &w, NULL, NULL);

    /*  0,1: vetoed identities sharing a C2 (R§10 F5) -> one campaign.
        2,3: handoff alone (C2 then discovery on decky-07) -> one campaign.
        4: a bare scanner; 5: same JA3 as 0 -> 0's identity. */
    obs_t *o[6] = {o_new("a", "J1", "H1"), o_new("b", "J2", "H2"), o_new("c", "J3", NULL),
                   o_new("d", "J4", NULL), o_new("e", NULL, NULL), o_new("f", "J1", NULL)};
    o_c2(o[0], "c2.example");
    o_c2(o[1], "c2.example");
    o_sess(o[2], "decky-07", UKC_COMMAND_AND_CONTROL, T0, 5.0);
    o_sess(o[3], "decky-07", UKC_DISCOVERY, T0 + 3600.0, 5.0);
    o_sess(o[4], "decky-07", UKC_DELIVERY, T0 + 10.0, 1.0);
    o_asn(o[4], 1000);
    uint32_t ident[6], camp[6];
    ref_cluster((const obs_t *const *)o, 6, &w, ident, camp);
    static const uint32_t want_ident[6] = {0, 1, 2, 3, 4, 0};
    static const uint32_t want_camp[6] = {0, 0, 2, 2, 4, 0};
    assert_memory_equal(ident, want_ident, sizeof ident);
    assert_memory_equal(camp, want_camp, sizeof camp);

    /*  A stricter campaign threshold keeps the handoff pair apart. */
    w.camp_threshold = 1.5;
    ref_cluster((const obs_t *const *)o, 6, &w, ident, camp);
    static const uint32_t want_strict[6] = {0, 1, 2, 3, 4, 0};
    assert_memory_equal(camp, want_strict, sizeof camp);
    s_destroy_all(o, 6);
}

/*  --------------------------------------------------------------------------------------
    Random corpora */

/*  xorshift64* - a small deterministic generator for test corpora. */
static uint64_t
s_rand(uint64_t *st)
{
    *st ^= *st >> 12;
    *st ^= *st << 25;
    *st ^= *st >> 27;
    return *st * 0x2545f4914f6cdd1du;
}

static uint32_t
s_below(uint64_t *st, uint32_t n)
{
    return (uint32_t)(s_rand(st) % n);
}

/*  A random observation drawing signals from pools scaled by n, so some pairs share keys and
    most do not. With session_counter, session starts are distinct across the corpus (no
    ties); without it (NULL), they fall on 24 hourly slots, so sessions on one decky often
    start at the same time. */
static obs_t *
s_random_obs(uint64_t *st, size_t i, size_t n, size_t *session_counter)
{
    char buf[64];
    uint32_t pool = (uint32_t)(n / 3 + 1);
    snprintf(buf, sizeof buf, "att-%zu", i);
    obs_t *o = o_new(buf, NULL, NULL);
    if (s_below(st, 2) == 0) {
        snprintf(buf, sizeof buf, "ja3-%u", s_below(st, pool));
        o->ja3 = xstrdup(buf);
    }
    if (s_below(st, 3) == 0) {
        snprintf(buf, sizeof buf, "hassh-%u", s_below(st, pool));
        o->hassh = xstrdup(buf);
    }
    if (s_below(st, 10) == 0) {
        snprintf(buf, sizeof buf, "ja4-%u", s_below(st, 4));
        o->ja4 = xstrdup(buf);
    }
    if (s_below(st, 4) != 0) {
        o_asn(o, 64500 + s_below(st, 8));
    }
    if (s_below(st, 3) == 0) {
        /*  A few base hashes with 0-1 flipped bits, so K spans 1, 0.875 and 0. */
        uint64_t kd = 0x9e3779b97f4a7c15u * (1 + s_below(st, 6));
        if (s_below(st, 2) == 0) {
            kd ^= (uint64_t)1 << s_below(st, 64);
        }
        o_kd(o, kd);
    }
    static const char *const cmds[] = {"whoami", "id", "uname -a", "ls", "crontab -l"};
    uint32_t n_sessions = 1 + s_below(st, 4);
    for (uint32_t s = 0; s < n_sessions; s++) {
        const char *decky = NULL;
        if (s_below(st, 10) != 0) {
            snprintf(buf, sizeof buf, "decky-%02u", 1 + s_below(st, 20));
            decky = buf;
        }
        static const ukc_phase_t phases[] = {
            UKC_DELIVERY,  UKC_EXPLOITATION,     UKC_PERSISTENCE, UKC_COMMAND_AND_CONTROL,
            UKC_DISCOVERY, UKC_LATERAL_MOVEMENT, UKC_EXECUTION,   UKC_CREDENTIAL_ACCESS};
        ukc_phase_t phase = phases[s_below(st, 8)];
        double start = session_counter ? T0 + (double)s_below(st, 5 * 86400) +
                                             1e-3 * (double)(*session_counter)++
                                       : T0 + 3600.0 * (double)s_below(st, 24);
        double dur = s_below(st, 3) == 0 ? 0.0 : (double)s_below(st, 7200) + 0.5;
        obs_session_t *sess = o_sess(o, decky, phase, start, dur);
        if (s_below(st, 6) == 0) {
            snprintf(buf, sizeof buf, "pay-%u", s_below(st, pool));
            sess->payload_hash = xstrdup(buf);
        }
        if (s_below(st, 8) == 0) {
            snprintf(buf, sizeof buf, "c2-%u", s_below(st, pool));
            sess->c2 = xstrdup(buf);
        }
        if (s_below(st, 2) == 0) {
            s_add_cmd(sess, cmds[s_below(st, 5)]);
        }
    }
    return o;
}

/*  n random observations; ties as in s_random_obs (false: distinct starts). */
static obs_t **
s_random_corpus_t(uint64_t seed, size_t n, bool ties)
{
    uint64_t st = seed;
    size_t counter = 0;
    obs_t **obs = xcalloc(n, sizeof *obs);
    for (size_t i = 0; i < n; i++) {
        obs[i] = s_random_obs(&st, i, n, ties ? NULL : &counter);
    }
    return obs;
}

/*  n random observations with distinct session starts. */
static obs_t **
s_random_corpus(uint64_t seed, size_t n)
{
    return s_random_corpus_t(seed, n, false);
}

static void
s_free_corpus(obs_t **obs, size_t n)
{
    s_destroy_all(obs, n);
    free(obs);
}

/*  Canonical labels by BFS over an adjacency matrix (an independent path to the same
    partition as union-find): label = smallest index reached. */
static void
s_bfs_labels(const bool *adj, size_t n, uint32_t *label)
{
    size_t *queue = xmalloc(n * sizeof *queue);
    for (size_t i = 0; i < n; i++) {
        label[i] = UINT32_MAX;
    }
    for (size_t i = 0; i < n; i++) {
        if (label[i] != UINT32_MAX) {
            continue;
        }
        size_t head = 0, tail = 0;
        queue[tail++] = i;
        label[i] = (uint32_t)i;
        while (head < tail) {
            size_t x = queue[head++];
            for (size_t y = 0; y < n; y++) {
                if (adj[x * n + y] && label[y] == UINT32_MAX) {
                    label[y] = (uint32_t)i;
                    queue[tail++] = y;
                }
            }
        }
    }
    free(queue);
}

/*  ref_cluster agrees with a BFS over the public pair functions: identities over
    ref_identity_tiers, campaigns over ref_campaign_tiers of the identities' member lists. */
static void
test_random_matches_bfs(void **state)
{
    (void)state;
    ref_weights_t w;
    ref_weights_default(&w);
    for (uint64_t seed = 1; seed <= 4; seed++) {
        size_t n = 120;
        obs_t **obs = s_random_corpus(seed * 0x9e3779b97f4a7c15u, n);
        const obs_t *const *co = (const obs_t *const *)obs;
        uint32_t *ident = xmalloc(n * sizeof *ident), *camp = xmalloc(n * sizeof *camp);
        ref_cluster(co, n, &w, ident, camp);

        bool *adj = xcalloc(n * n, sizeof *adj);
        for (size_t i = 0; i < n; i++) {
            for (size_t j = i + 1; j < n; j++) {
                ref_id_tiers_t t;
                ref_identity_tiers(obs[i], obs[j], &w, &t);
                adj[i * n + j] = adj[j * n + i] = t.weight >= w.id_threshold;
                /*  R§13.2: an edge iff H = 1. */
                assert_true((t.weight >= 1.0) == (t.h == 1.0));
            }
        }
        uint32_t *want = xmalloc(n * sizeof *want);
        s_bfs_labels(adj, n, want);
        assert_memory_equal(ident, want, n * sizeof *want);

        /*  Identities in order of their smallest member, members in index order. */
        size_t n_ident = 0;
        size_t *root = xmalloc(n * sizeof *root);
        for (size_t i = 0; i < n; i++) {
            if (ident[i] == i) {
                root[n_ident++] = i;
            }
        }
        const obs_t ***members = xcalloc(n_ident, sizeof *members);
        size_t *count = xcalloc(n_ident, sizeof *count);
        for (size_t k = 0; k < n_ident; k++) {
            members[k] = xmalloc(n * sizeof **members);
            for (size_t i = root[k]; i < n; i++) {
                if (ident[i] == root[k]) {
                    members[k][count[k]++] = obs[i];
                }
            }
        }
        bool *cadj = xcalloc(n_ident * n_ident, sizeof *cadj);
        size_t edges = 0;
        for (size_t x = 0; x < n_ident; x++) {
            for (size_t y = x + 1; y < n_ident; y++) {
                ref_camp_tiers_t t;
                ref_campaign_tiers(members[x], count[x], members[y], count[y], &w, &t);
                cadj[x * n_ident + y] = cadj[y * n_ident + x] = t.weight >= w.camp_threshold;
                edges += t.weight >= w.camp_threshold;
            }
        }
        assert_true(edges > 0);
        uint32_t *clab = xmalloc(n_ident * sizeof *clab);
        s_bfs_labels(cadj, n_ident, clab);
        for (size_t i = 0; i < n; i++) {
            size_t k = 0;
            while (root[k] != ident[i]) {
                k++;
            }
            assert_int_equal(camp[i], root[clab[k]]);
        }
        /*  Some merging happened at both layers, and not everything merged. */
        assert_true(n_ident < n && n_ident > n / 4);

        for (size_t k = 0; k < n_ident; k++) {
            free(members[k]);
        }
        free(clab);
        free(cadj);
        free(count);
        free(members);
        free(root);
        free(want);
        free(adj);
        free(camp);
        free(ident);
        s_free_corpus(obs, n);
    }
}

/*  True when two observations with the same identity label have sessions on one decky with
    the same start: a tie the time order must break by content. */
static bool
s_identity_tie(obs_t **obs, size_t n, const uint32_t *ident)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (ident[i] != ident[j]) {
                continue;
            }
            for (size_t s = 0; s < obs[i]->n_sessions; s++) {
                for (size_t t = 0; t < obs[j]->n_sessions; t++) {
                    const obs_session_t *a = &obs[i]->sessions[s], *b = &obs[j]->sessions[t];
                    if (a->decky && b->decky && strcmp(a->decky, b->decky) == 0 &&
                        a->start == b->start) {
                        return true;
                    }
                }
            }
        }
    }
    return false;
}

/*  Both partitions are independent of input order (labels are canonical per order, so the
    comparison is of same-component relations), on a corpus without start ties and on one
    where observations of one identity start sessions on one decky at the same time. */
static void
test_random_order_independent(void **state)
{
    (void)state;
    ref_weights_t w;
    ref_weights_default(&w);
    size_t n = 300;
    for (int ties = 0; ties < 2; ties++) {
        obs_t **obs = s_random_corpus_t(0xc0ffee, n, ties);
        uint32_t *ident = xmalloc(n * sizeof *ident), *camp = xmalloc(n * sizeof *camp);
        ref_cluster((const obs_t *const *)obs, n, &w, ident, camp);
        for (size_t i = 0; i < n; i++) {
            assert_true(ident[i] <= i && ident[ident[i]] == ident[i]);
            assert_true(camp[i] <= ident[i] && camp[camp[i]] == camp[i]);
        }
        assert_int_equal(s_identity_tie(obs, n, ident), ties);

        uint64_t st = 77;
        size_t *perm = xmalloc(n * sizeof *perm);
        const obs_t **shuffled = xmalloc(n * sizeof *shuffled);
        uint32_t *ident2 = xmalloc(n * sizeof *ident2), *camp2 = xmalloc(n * sizeof *camp2);
        for (int round = 0; round < 3; round++) {
            for (size_t i = 0; i < n; i++) {
                perm[i] = i;
            }
            for (size_t i = n - 1; i > 0; i--) {
                size_t j = s_below(&st, (uint32_t)(i + 1));
                size_t tmp = perm[i];
                perm[i] = perm[j];
                perm[j] = tmp;
            }
            for (size_t i = 0; i < n; i++) {
                shuffled[i] = obs[perm[i]];
            }
            ref_cluster(shuffled, n, &w, ident2, camp2);
            for (size_t x = 0; x < n; x++) {
                for (size_t y = x + 1; y < n; y++) {
                    assert_int_equal(ident2[x] == ident2[y], ident[perm[x]] == ident[perm[y]]);
                    assert_int_equal(camp2[x] == camp2[y], camp[perm[x]] == camp[perm[y]]);
                }
            }
        }
        free(camp2);
        free(ident2);
        free(shuffled);
        free(perm);
        free(camp);
        free(ident);
        s_free_corpus(obs, n);
    }
}

/*  About 2,000 observations: reports the time (well under a second in a release build). */
static void
test_random_scale(void **state)
{
    (void)state;
    ref_weights_t w;
    ref_weights_default(&w);
    size_t n = 2000;
    obs_t **obs = s_random_corpus(0x5eed, n);
    uint32_t *ident = xmalloc(n * sizeof *ident), *camp = xmalloc(n * sizeof *camp);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ref_cluster((const obs_t *const *)obs, n, &w, ident, camp);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    size_t n_ident = 0, n_camp = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(ident[i] <= i && camp[i] <= ident[i]);
        n_ident += ident[i] == i;
        n_camp += camp[i] == i;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("ref_cluster: %zu observations -> %zu identities, %zu campaigns in %.3f s\n", n, n_ident,
           n_camp, secs);
    assert_true(n_camp < n_ident && n_ident < n);
    free(camp);
    free(ident);
    s_free_corpus(obs, n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_high_fingerprint_match),
        cmocka_unit_test(test_high_payload_and_c2_match),
        cmocka_unit_test(test_high_all_different),
        cmocka_unit_test(test_high_null_fingerprints_nothing_shared),
        cmocka_unit_test(test_high_veto_distinct_fingerprints),
        cmocka_unit_test(test_high_unfingerprinted_shared_c2),
        cmocka_unit_test(test_high_ja3_agrees_hassh_differs),
        cmocka_unit_test(test_high_only_ja3_comparable_differs),
        cmocka_unit_test(test_high_empty_sets),
        cmocka_unit_test(test_high_empty_strings),
        cmocka_unit_test(test_veto_truth_table),
        cmocka_unit_test(test_medium),
        cmocka_unit_test(test_low),
        cmocka_unit_test(test_asn),
        cmocka_unit_test(test_identity_weight),
        cmocka_unit_test(test_partition_basic),
        cmocka_unit_test(test_partition_transitive),
        cmocka_unit_test(test_partition_weak_never_fuse),
        cmocka_unit_test(test_handoff),
        cmocka_unit_test(test_handoff_negative),
        cmocka_unit_test(test_infra),
        cmocka_unit_test(test_temporal),
        cmocka_unit_test(test_cohort),
        cmocka_unit_test(test_keystroke),
        cmocka_unit_test(test_centroid),
        cmocka_unit_test(test_campaign_weight),
        cmocka_unit_test(test_campaign_shift_invariance),
        cmocka_unit_test(test_fix_symmetric_temporal),
        cmocka_unit_test(test_fix_time_order),
        cmocka_unit_test(test_fix_time_order_ties),
        cmocka_unit_test(test_fix_aggregation),
        cmocka_unit_test(test_cluster_small),
        cmocka_unit_test(test_random_matches_bfs),
        cmocka_unit_test(test_random_order_independent),
        cmocka_unit_test(test_random_scale),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
