/*  gen.c - the synthetic corpus generator (see gen.h).

    The draw order is DECNET's factory's (R§8.4), since bit-exact output depends on it:
    per campaign, first every actor's identity id and every row's attacker id and IP, then
    the sessions phase by phase (day, hour, jitter, offset, session id, decky), and after all
    campaigns the noise scanners. Rows are emitted once their campaign is complete.
*/
#include "gen.h"

#include "err.h"
#include "pyrand.h"
#include "xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define GEN_DECKIES 20 /* deckies decky-01 .. decky-20 */

/*  Generation state of one actor. */
typedef struct {
    char identity[40];   /* truth identity label "id-<uuid>" */
    obs_t **rows;        /* its observation rows, owned until emitted */
    size_t n_rows;       /* number of rows */
    const char *success; /* decky of its last exploitation/persistence session, or NULL */
} s_actor_t;

static char *
s_prefixed_uuid(pyrand_t *rng, const char *prefix)
{
    char u[37];
    pyrand_uuid(rng, u);
    return xasprintf("%s%s", prefix, u);
}

/*  A random public-looking IPv4 address, redrawing reserved first octets (R§8.4). */
static char *
s_draw_ip(pyrand_t *rng)
{
    for (;;) {
        int64_t a = pyrand_randint(rng, 1, 223);
        if (a == 10 || a == 127) {
            continue;
        }
        int64_t b = pyrand_randint(rng, 0, 255);
        if ((a == 172 && b >= 16 && b <= 31) || (a == 192 && b == 168)) {
            continue;
        }
        int64_t c = pyrand_randint(rng, 0, 255);
        int64_t d = pyrand_randint(rng, 1, 254);
        return xasprintf("%" PRId64 ".%" PRId64 ".%" PRId64 ".%" PRId64, a, b, c, d);
    }
}

static bool
s_paused(const dsl_campaign_t *c, int64_t day)
{
    for (size_t i = 0; i < c->n_pauses; i++) {
        if (day >= c->pauses[i].start && day <= c->pauses[i].end) {
            return true;
        }
    }
    return false;
}

/*  The days an actor's sessions may fall on: its active days that are within the campaign
    and not paused (list order, duplicates kept), or every non-paused day. */
static int64_t *
s_day_pool(const dsl_campaign_t *c, const dsl_actor_t *a, size_t *n)
{
    *n = 0;
    if (a->has_active_days) {
        int64_t *pool = xcalloc(a->n_active_days, sizeof *pool);
        for (size_t i = 0; i < a->n_active_days; i++) {
            int64_t d = a->active_days[i];
            if (d >= 0 && d < c->duration_days && !s_paused(c, d)) {
                pool[(*n)++] = d;
            }
        }
        return pool;
    }
    int64_t *pool = xcalloc(c->duration_days > 0 ? (size_t)c->duration_days : 1, sizeof *pool);
    for (int64_t d = 0; d < c->duration_days; d++) {
        if (!s_paused(c, d)) {
            pool[(*n)++] = d;
        }
    }
    return pool;
}

static void
s_fill_session(obs_session_t *s, const dsl_phase_t *p)
{
    s->phase = p->phase;
    s->duration = p->dwell;
    size_t n_cmd = 0;
    const char *const *cmds = NULL;
    if (p->has_commands) {
        cmds = (const char *const *)p->commands;
        n_cmd = p->n_commands;
    } else {
        cmds = dsl_default_commands(p->phase, &n_cmd);
    }
    s->commands = xcalloc(n_cmd, sizeof *s->commands);
    for (size_t i = 0; i < n_cmd; i++) {
        s->commands[i] = xstrdup(cmds[i]);
    }
    s->n_commands = n_cmd;
    s->creds = xcalloc(p->n_creds, sizeof *s->creds);
    for (size_t i = 0; i < p->n_creds; i++) {
        s->creds[i].user = xstrdup(p->creds[i].user);
        s->creds[i].pass = xstrdup(p->creds[i].pass);
    }
    s->n_creds = p->n_creds;
    s->payload_hash = p->payload_hash ? xstrdup(p->payload_hash) : NULL;
    s->c2 = p->c2 ? xstrdup(p->c2) : NULL;
}

/*  Draws one campaign's rows and sessions, then hands the rows to the sink in actor/row order. */
static int
s_campaign(pyrand_t *rng, const dsl_campaign_t *c, gen_sink_fn sink, void *arg)
{
    static const char *const deckies[GEN_DECKIES] = {
        "decky-01", "decky-02", "decky-03", "decky-04", "decky-05", "decky-06", "decky-07",
        "decky-08", "decky-09", "decky-10", "decky-11", "decky-12", "decky-13", "decky-14",
        "decky-15", "decky-16", "decky-17", "decky-18", "decky-19", "decky-20"};

    s_actor_t *actors = xcalloc(c->n_actors, sizeof *actors);
    for (size_t i = 0; i < c->n_actors; i++) {
        const dsl_actor_t *a = &c->actors[i];
        s_actor_t *st = &actors[i];
        char u[37];
        pyrand_uuid(rng, u);
        snprintf(st->identity, sizeof st->identity, "id-%s", u);
        st->n_rows = a->rotating ? (size_t)a->rotation_count : 1;
        st->rows = xcalloc(st->n_rows, sizeof *st->rows);
        for (size_t r = 0; r < st->n_rows; r++) {
            obs_t *o = obs_new();
            o->id = s_prefixed_uuid(rng, "att-");
            o->ip = s_draw_ip(rng);
            o->has_asn = true;
            o->asn = a->n_rotation_asns ? a->rotation_asns[r % a->n_rotation_asns] : a->asn;
            o->ja3 = a->ja3 ? xstrdup(a->ja3) : NULL;
            o->hassh = a->hassh ? xstrdup(a->hassh) : NULL;
            o->has_kd = a->has_kd;
            o->kd_simhash = a->kd_simhash;
            o->truth_campaign = xstrdup(c->id);
            o->truth_identity = xstrdup(st->identity);
            o->truth_actor = xstrdup(a->id);
            st->rows[r] = o;
        }
    }

    for (size_t pi = 0; pi < c->n_phases; pi++) {
        const dsl_phase_t *p = &c->phases[pi];
        if (!ukc_observable(p->phase)) {
            continue;
        }
        const dsl_actor_t *a = &c->actors[p->actor];
        s_actor_t *st = &actors[p->actor];
        /* The decky choices are fixed when the phase starts (R§8.4). */
        const char *sticky = st->success ? st->success : deckies[0];
        const char *const *choices = p->previous_success ? &sticky : deckies;
        size_t n_choices = p->previous_success ? 1 : GEN_DECKIES;
        size_t n_pool = 0;
        int64_t *pool = s_day_pool(c, a, &n_pool);
        for (int64_t s = 0; s < p->count && n_pool > 0; s++) {
            int64_t day = pool[pyrand_below(rng, n_pool)];
            int64_t hour = a->hours[pyrand_below(rng, a->n_hours)];
            int64_t offset = pyrand_randint(rng, -a->jitter, a->jitter);
            offset += pyrand_randint(rng, 0, 3600);
            obs_t *row = st->rows[(size_t)s % st->n_rows];
            obs_session_t *sess = obs_add_session(row);
            sess->start = GEN_T0 + (double)(day * 86400 + hour * 3600 + offset);
            sess->id = s_prefixed_uuid(rng, "sess-");
            const char *decky = choices[pyrand_below(rng, n_choices)];
            sess->decky = xstrdup(decky);
            s_fill_session(sess, p);
            if (p->phase == UKC_EXPLOITATION || p->phase == UKC_PERSISTENCE) {
                st->success = decky;
            }
        }
        free(pool);
    }

    int rc = 0;
    for (size_t i = 0; i < c->n_actors; i++) {
        for (size_t r = 0; r < actors[i].n_rows; r++) {
            if (rc == 0) {
                rc = sink(actors[i].rows[r], arg);
            }
            obs_destroy(&actors[i].rows[r]);
        }
        free(actors[i].rows);
    }
    free(actors);
    return rc;
}

/*  One delivery-only background scanner (R§8.4 step 3). */
static int
s_noise(pyrand_t *rng, int64_t index, gen_sink_fn sink, void *arg)
{
    obs_t *o = obs_new();
    char label[48];
    snprintf(label, sizeof label, "noise-scanner-%04" PRId64, index);
    o->id = s_prefixed_uuid(rng, "att-");
    o->ip = s_draw_ip(rng);
    o->has_asn = true;
    o->asn = pyrand_randint(rng, 1000, 65000);
    obs_session_t *s = obs_add_session(o);
    s->start = GEN_T0 + (double)pyrand_randint(rng, 0, 86400);
    s->id = s_prefixed_uuid(rng, "sess-");
    s->decky = xasprintf("decky-%02" PRId64, pyrand_randint(rng, 1, GEN_DECKIES));
    s->phase = UKC_DELIVERY;
    s->duration = 1.0;
    o->truth_campaign = xstrdup(label);
    o->truth_identity = xstrdup(label);
    o->truth_actor = xstrdup(label);
    int rc = sink(o, arg);
    obs_destroy(&o);
    return rc;
}

int
gen_run(const dsl_corpus_t *corpus, int64_t seed, gen_sink_fn sink, void *arg)
{
    pyrand_t rng;
    uint64_t magnitude = seed < 0 ? (uint64_t)0 - (uint64_t)seed : (uint64_t)seed;
    pyrand_seed(&rng, magnitude);
    for (size_t i = 0; i < corpus->n_campaigns; i++) {
        int rc = s_campaign(&rng, &corpus->campaigns[i], sink, arg);
        if (rc != 0) {
            return rc;
        }
    }
    for (int64_t i = 0; i < corpus->noise_scanners; i++) {
        int rc = s_noise(&rng, i, sink, arg);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/*  Appends "#r<copy>" to *s when it is present. */
static void
s_suffix(char **s, uint64_t copy)
{
    if (*s) {
        char *t = xasprintf("%s#r%" PRIu64, *s, copy);
        free(*s);
        *s = t;
    }
}

/*  splitmix64: a well-mixed 64-bit mask per copy, so copies' keystroke hashes are far apart. */
static uint64_t
s_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void
gen_replicate(obs_t *obs, uint64_t copy)
{
    if (copy == 0) {
        return;
    }
    s_suffix(&obs->id, copy);
    s_suffix(&obs->ja3, copy);
    s_suffix(&obs->ja4, copy);
    s_suffix(&obs->hassh, copy);
    s_suffix(&obs->truth_campaign, copy);
    s_suffix(&obs->truth_identity, copy);
    s_suffix(&obs->truth_actor, copy);
    if (obs->has_kd) {
        obs->kd_simhash ^= s_mix(copy);
    }
    for (size_t i = 0; i < obs->n_sessions; i++) {
        obs_session_t *s = &obs->sessions[i];
        s_suffix(&s->id, copy);
        s_suffix(&s->decky, copy);
        s_suffix(&s->payload_hash, copy);
        s_suffix(&s->c2, copy);
    }
}
