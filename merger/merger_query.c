/*  merger_query.c - QUERY answers from the engine's state (see merger_query.h). */
#include "merger_query.h"

#include "explain.h"
#include "strtab.h"

#include "err.h"
#include "jsonio.h"
#include "wire_msg.h"
#include "xalloc.h"

#include <assert.h>
#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  The two id layers a look-up can ask about. */
typedef enum { S_IDENTITY = 0, S_CAMPAIGN = 1 } s_layer_t;

/*  A live slot and its input sequence (report.c's order). */
typedef struct {
    uint64_t seq; /* input sequence */
    size_t slot;  /* slot */
} s_order_t;

struct merger_query_t {
    zhashx_t *index[2];     /* per layer: id -> record index + 1 (keys owned by the table) */
    size_t indexed[2];      /* per layer: records indexed so far (ids are never removed) */
    size_t *order;          /* live slots in input order */
    size_t n_order;         /* count */
    bool order_valid;       /* order describes the state of order_version */
    uint64_t order_version; /* the caller's version when order was built */
};

merger_query_t *
merger_query_new(void)
{
    merger_query_t *self = xcalloc(1, sizeof *self);
    for (int l = 0; l < 2; l++) {
        self->index[l] = zhashx_new();
        assert(self->index[l]);
    }
    return self;
}

void
merger_query_destroy(merger_query_t **self_p)
{
    assert(self_p);
    merger_query_t *self = *self_p;
    if (!self) {
        return;
    }
    for (int l = 0; l < 2; l++) {
        zhashx_destroy(&self->index[l]);
    }
    free(self->order);
    free(self);
    *self_p = NULL;
}

/*  --------------------------------------------------------------------------------------
    Records */

static size_t
s_count(const cluster_t *c, s_layer_t layer)
{
    return layer == S_IDENTITY ? cluster_identity_count(c) : cluster_campaign_count(c);
}

/*  Renders record i of a layer as its JSON line (no newline); the caller frees *text. */
static int
s_record_text(const cluster_t *c, s_layer_t layer, size_t i, char **text)
{
    size_t len = 0;
    int rc;
    if (layer == S_IDENTITY) {
        rec_identity_t r;
        cluster_identity_record(c, i, &r);
        rc = jsonio_identity_encode(&r, text, &len);
        rec_identity_clear(&r);
    } else {
        rec_campaign_t r;
        cluster_campaign_record(c, i, &r);
        rc = jsonio_campaign_encode(&r, text, &len);
        rec_campaign_clear(&r);
    }
    return rc;
}

/*  The merged_into pointer of record i (borrowed from the engine), or NULL when live. */
static const char *
s_merged_into(const cluster_t *c, s_layer_t layer, size_t i)
{
    const char *into;
    if (layer == S_IDENTITY) {
        rec_identity_t r;
        cluster_identity_record(c, i, &r);
        into = r.merged_into;
        rec_identity_clear(&r);
    } else {
        rec_campaign_t r;
        cluster_campaign_record(c, i, &r);
        into = r.merged_into;
        rec_campaign_clear(&r);
    }
    return into;
}

/*  Indexes the ids formed since the last call. */
static void
s_index_update(merger_query_t *self, const cluster_t *c, s_layer_t layer)
{
    size_t n = s_count(c, layer);
    for (size_t i = self->indexed[layer]; i < n; i++) {
        const char *id;
        if (layer == S_IDENTITY) {
            rec_identity_t r;
            cluster_identity_record(c, i, &r);
            id = r.id;
            rec_identity_clear(&r);
        } else {
            rec_campaign_t r;
            cluster_campaign_record(c, i, &r);
            id = r.id;
            rec_campaign_clear(&r);
        }
        /* Ids are strings the engine keeps for its lifetime; the table copies them anyway. */
        zhashx_insert(self->index[layer], id, (void *)(uintptr_t)(i + 1));
    }
    self->indexed[layer] = n;
}

/*  The record index of an id, or false when no such id was ever formed. */
static bool
s_lookup(merger_query_t *self, const cluster_t *c, s_layer_t layer, const char *id, size_t *i)
{
    s_index_update(self, c, layer);
    uintptr_t v = (uintptr_t)zhashx_lookup(self->index[layer], id);
    if (v == 0) {
        return false;
    }
    *i = (size_t)(v - 1);
    return true;
}

/*  {what: "identity" | "campaign", id}: the record of the live id at the end of the
    merged_into chain. */
static int
s_answer_record(merger_query_t *self, const cluster_t *c, s_layer_t layer, const char *id,
                wire_buf_t *out)
{
    const char *name = layer == S_IDENTITY ? "identity" : "campaign";
    size_t i = 0;
    if (!s_lookup(self, c, layer, id, &i)) {
        char *msg = xasprintf("unknown %s '%s'", name, id);
        wmsg_reply_error_encode(msg, out);
        free(msg);
        return 0;
    }
    /* A chain visits each id at most once; a longer walk would mean a cycle. */
    size_t steps = 0;
    const char *into;
    while ((into = s_merged_into(c, layer, i)) != NULL && steps++ < self->indexed[layer]) {
        if (!s_lookup(self, c, layer, into, &i)) {
            break;
        }
    }
    char *text = NULL;
    int rc = s_record_text(c, layer, i, &text);
    if (rc != 0) {
        char *msg = xasprintf("%s '%s' cannot be encoded: %s", name, id, cadre_strerror(rc));
        wmsg_reply_error_encode(msg, out);
        free(msg);
    } else {
        wmsg_reply_t r = {.kind = WMSG_REPLY_TEXT, .text = text};
        wmsg_reply_encode(&r, out);
    }
    free(text);
    return 0;
}

/*  The [offset, offset + n) window of a list of total items, and the page's next offset. */
static size_t
s_window(const wmsg_query_t *q, size_t total, wmsg_reply_t *page)
{
    uint64_t limit = q->limit ? q->limit : MERGER_QUERY_LIMIT;
    if (limit > MERGER_QUERY_MAX_LIMIT) {
        limit = MERGER_QUERY_MAX_LIMIT;
    }
    size_t n = 0;
    if (q->offset < total) {
        n = total - (size_t)q->offset < limit ? total - (size_t)q->offset : (size_t)limit;
    }
    page->kind = WMSG_REPLY_PAGE;
    page->n = n;
    page->has_next = q->offset + n < total;
    page->next = q->offset + n;
    return n;
}

/*  {what: "identities" | "campaigns", offset, limit}: records in formation order. */
static int
s_answer_records(const cluster_t *c, s_layer_t layer, const wmsg_query_t *q, wire_buf_t *out)
{
    wmsg_reply_t page = {0};
    size_t n = s_window(q, s_count(c, layer), &page);
    page.texts = xcalloc(n + 1, sizeof *page.texts);
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        rc = s_record_text(c, layer, (size_t)q->offset + k, &page.texts[k]);
    }
    if (rc == 0) {
        wmsg_reply_encode(&page, out);
    } else {
        wmsg_reply_error_encode("a record cannot be encoded", out);
    }
    for (size_t k = 0; k < n; k++) {
        free(page.texts[k]);
    }
    free(page.texts);
    return 0;
}

/*  --------------------------------------------------------------------------------------
    Assignments */

static int
s_cmp_order(const void *a, const void *b)
{
    uint64_t x = ((const s_order_t *)a)->seq;
    uint64_t y = ((const s_order_t *)b)->seq;
    return (x > y) - (x < y);
}

/*  Rebuilds the input order of the live slots when the state changed. */
static void
s_order_update(merger_query_t *self, const cluster_t *c, uint64_t version)
{
    if (self->order_valid && self->order_version == version) {
        return;
    }
    size_t n = cluster_slots(c);
    s_order_t *ord = xcalloc(n + 1, sizeof *ord);
    size_t k = 0;
    for (size_t s = 0; s < n; s++) {
        if (cluster_slot_alive(c, s)) {
            ord[k++] = (s_order_t){cluster_slot_seq(c, s), s};
        }
    }
    if (k > 0) {
        qsort(ord, k, sizeof *ord, s_cmp_order);
    }
    free(self->order);
    self->order = xcalloc(k + 1, sizeof *self->order);
    for (size_t i = 0; i < k; i++) {
        self->order[i] = ord[i].slot;
    }
    free(ord);
    self->n_order = k;
    self->order_valid = true;
    self->order_version = version;
}

static wmsg_assignment_t
s_assignment_of(const cluster_t *c, size_t slot)
{
    /* Borrowed strings: the reply is encoded before the engine changes. */
    return (wmsg_assignment_t){.id = (char *)cluster_slot_name(c, slot),
                               .identity = (char *)cluster_identity_of(c, slot),
                               .campaign = (char *)cluster_campaign_of(c, slot)};
}

/*  {what: "assignments", offset, limit}: live observations in input order. */
static int
s_answer_assignments(merger_query_t *self, const cluster_t *c, uint64_t version,
                     const wmsg_query_t *q, wire_buf_t *out)
{
    s_order_update(self, c, version);
    wmsg_reply_t page = {0};
    size_t n = s_window(q, self->n_order, &page);
    page.assignments = xcalloc(n + 1, sizeof *page.assignments);
    for (size_t k = 0; k < n; k++) {
        page.assignments[k] = s_assignment_of(c, self->order[q->offset + k]);
    }
    wmsg_reply_encode(&page, out);
    free(page.assignments);
    return 0;
}

/*  {what: "assignment", id}: one observation's identity and campaign. */
static int
s_answer_assignment(const cluster_t *c, const char *id, wire_buf_t *out)
{
    int64_t slot = cluster_find(c, id);
    if (slot < 0 || !cluster_slot_alive(c, (size_t)slot)) {
        char *msg = xasprintf("unknown observation '%s'", id);
        wmsg_reply_error_encode(msg, out);
        free(msg);
        return 0;
    }
    wmsg_reply_t r = {.kind = WMSG_REPLY_ASSIGNMENT,
                      .assignment = s_assignment_of(c, (size_t)slot)};
    wmsg_reply_encode(&r, out);
    return 0;
}

/*  {what: "members", id}: the live observations of an identity, or the live identities of
    a campaign (after following merged_into), one id per line, in input order. */
static int
s_answer_members(merger_query_t *self, const cluster_t *c, uint64_t version, const char *id,
                 wire_buf_t *out)
{
    size_t i = 0;
    s_layer_t layer = S_IDENTITY;
    if (!s_lookup(self, c, S_IDENTITY, id, &i)) {
        layer = S_CAMPAIGN;
        if (!s_lookup(self, c, S_CAMPAIGN, id, &i)) {
            char *msg = xasprintf("unknown identity or campaign '%s'", id);
            wmsg_reply_error_encode(msg, out);
            free(msg);
            return 0;
        }
    }
    size_t steps = 0;
    const char *into;
    const char *live = id;
    while ((into = s_merged_into(c, layer, i)) != NULL && steps++ < self->indexed[layer]) {
        live = into;
        if (!s_lookup(self, c, layer, into, &i)) {
            break;
        }
    }
    s_order_update(self, c, version);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    strtab_t *seen = strtab_new();
    for (size_t k = 0; k < self->n_order; k++) {
        size_t slot = self->order[k];
        const char *ident = cluster_identity_of(c, slot);
        if (layer == S_IDENTITY) {
            if (ident && strcmp(ident, live) == 0) {
                fprintf(f, "%s%s", ftell(f) ? "\n" : "", cluster_slot_name(c, slot));
            }
        } else {
            const char *camp = cluster_campaign_of(c, slot);
            size_t before = strtab_count(seen);
            if (camp && strcmp(camp, live) == 0 &&
                (strtab_intern(seen, ident, strlen(ident)), strtab_count(seen) > before)) {
                fprintf(f, "%s%s", ftell(f) ? "\n" : "", ident);
            }
        }
    }
    fclose(f);
    strtab_destroy(&seen);
    wmsg_reply_t r = {.kind = WMSG_REPLY_TEXT, .text = text};
    wmsg_reply_encode(&r, out);
    free(text);
    return 0;
}

/*  {what: "explain", id, other}: core/explain.c's text for two live observations. */
static int
s_answer_explain(const cluster_t *c, const char *a, const char *b, wire_buf_t *out)
{
    int64_t sa = cluster_find(c, a);
    int64_t sb = cluster_find(c, b);
    const char *bad = sa < 0 || !cluster_slot_alive(c, (size_t)sa)   ? a
                      : sb < 0 || !cluster_slot_alive(c, (size_t)sb) ? b
                                                                     : NULL;
    if (bad) {
        char *msg = xasprintf("unknown observation '%s'", bad);
        wmsg_reply_error_encode(msg, out);
        free(msg);
        return 0;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    explain_pair(f, c, (size_t)sa, (size_t)sb);
    fclose(f);
    wmsg_reply_t r = {.kind = WMSG_REPLY_TEXT, .text = text};
    wmsg_reply_encode(&r, out);
    free(text);
    return 0;
}

/*  --------------------------------------------------------------------------------------
    Dispatch */

/*  Records a malformed query: the reason in err and an {error} reply. */
static int
s_malformed(wire_buf_t *out, char *err, size_t errlen, const char *reason)
{
    snprintf(err, errlen, "%s", reason);
    wmsg_reply_error_encode(reason, out);
    return CADRE_EPROTO;
}

int
merger_query_answer(merger_query_t *self, const cluster_t *c, uint64_t version, const char *health,
                    const void *body, size_t len, wire_buf_t *out, char *err, size_t errlen)
{
    assert(self && c && health && out);
    wmsg_query_t q;
    char why[256];
    if (wmsg_query_decode(body, len, &q, why, sizeof why) != 0) {
        char reason[300];
        snprintf(reason, sizeof reason, "malformed query: %s", why);
        return s_malformed(out, err, errlen, reason);
    }
    int rc = 0;
    const char *what = q.what;
    bool wants_id = strcmp(what, "identity") == 0 || strcmp(what, "campaign") == 0 ||
                    strcmp(what, "assignment") == 0 || strcmp(what, "members") == 0 ||
                    strcmp(what, "explain") == 0;
    if ((wants_id && !q.id) || (strcmp(what, "explain") == 0 && !q.other)) {
        char reason[300];
        snprintf(reason, sizeof reason, "query '%.64s' needs an id", what);
        rc = s_malformed(out, err, errlen, reason);
    } else if (strcmp(what, "health") == 0) {
        wmsg_reply_t r = {.kind = WMSG_REPLY_TEXT, .text = (char *)health};
        wmsg_reply_encode(&r, out);
    } else if (strcmp(what, "assignments") == 0) {
        rc = s_answer_assignments(self, c, version, &q, out);
    } else if (strcmp(what, "identities") == 0) {
        rc = s_answer_records(c, S_IDENTITY, &q, out);
    } else if (strcmp(what, "campaigns") == 0) {
        rc = s_answer_records(c, S_CAMPAIGN, &q, out);
    } else if (strcmp(what, "identity") == 0) {
        rc = s_answer_record(self, c, S_IDENTITY, q.id, out);
    } else if (strcmp(what, "campaign") == 0) {
        rc = s_answer_record(self, c, S_CAMPAIGN, q.id, out);
    } else if (strcmp(what, "assignment") == 0) {
        rc = s_answer_assignment(c, q.id, out);
    } else if (strcmp(what, "members") == 0) {
        rc = s_answer_members(self, c, version, q.id, out);
    } else if (strcmp(what, "explain") == 0) {
        rc = s_answer_explain(c, q.id, q.other, out);
    } else {
        char reason[300];
        snprintf(reason, sizeof reason, "unknown query '%.64s'", what);
        rc = s_malformed(out, err, errlen, reason);
    }
    wmsg_query_free(&q);
    return rc;
}
