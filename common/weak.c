/*  weak.c - scoring campaign assignments against weak labels (weak.h, docs/eval-weak.md).

    Observation ids, IPs, label prefixes, operations and cluster ids are interned in string
    tables, so every per-item array below is indexed by a dense id. The evaluation works on
    IPs: it first folds observations into their IP (first observation's cluster, split
    detection), then joins operations through the IPs that carry several (a tiny union-find
    over operation ids, which are few), then sorts (group, cluster) pairs of the labelled IPs
    to count spreads and fusions.
*/
#include "weak.h"

#include "err.h"
#include "obs.h"
#include "strtab.h"
#include "xalloc.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/*  How many IPs of a list the text report names before only counting the rest. */
#define S_MAX_LISTED 10

/*  Names of the four label-file columns, for messages. */
static const char *const s_columns[4] = {"session", "src_ip", "first_ts", "labels"};

/*  One observation id seen in the observations or the assignments. */
typedef struct {
    uint32_t ip;       /* IP id, or STRTAB_NONE when the record has no ip */
    uint64_t seq;      /* position of its first upsert in observation order */
    uint32_t identity; /* identity id of its assignment, or STRTAB_NONE */
    uint32_t campaign; /* campaign id of its assignment, or STRTAB_NONE */
    bool live;         /* upserted and not deleted since */
    bool assigned;     /* an assignment has been read for it */
} s_obs_t;

/*  One source IP seen in the observations or the labels file. */
typedef struct {
    uint32_t *prefixes; /* distinct label prefix ids carried by its sessions (owned) */
    size_t n_prefixes;  /* number of them */
    size_t cap;         /* allocated slots */
    bool in_labels;     /* named by a (good) line of the labels file */
} s_ip_t;

struct weak_t {
    strtab_t *obs_ids;           /* observation id -> index into obs */
    s_obs_t *obs;                /* observations by id index */
    size_t obs_cap;              /* allocated obs */
    uint64_t next_seq;           /* the next observation's seq */
    uint64_t dup_assigns;        /* second assignments for one id */
    strtab_t *ips;               /* IP -> index into ip */
    s_ip_t *ip;                  /* IPs by index */
    size_t ip_cap;               /* allocated ip */
    strtab_t *prefixes;          /* label prefix ("C1b") -> index into prefix_op */
    uint32_t *prefix_op;         /* prefix index -> operation id */
    size_t prefix_cap;           /* allocated prefix_op */
    strtab_t *ops;               /* folded operation ("C1") -> operation id */
    strtab_t *campaigns;         /* campaign id -> dense index */
    strtab_t *identities;        /* identity id -> dense index */
    uint64_t label_lines;        /* data lines of the labels file */
    uint64_t bad;                /* malformed label lines */
    char *bad_msg[WEAK_MAX_BAD]; /* the first malformed lines' messages (owned) */
};

/*  A (key, value) pair of dense ids, sorted to count spreads. */
typedef struct {
    uint32_t a; /* primary key (group, operation or cluster) */
    uint32_t b; /* secondary key */
} s_pair_t;

weak_t *
weak_new(void)
{
    weak_t *self = xcalloc(1, sizeof *self);
    self->obs_ids = strtab_new();
    self->ips = strtab_new();
    self->prefixes = strtab_new();
    self->ops = strtab_new();
    self->campaigns = strtab_new();
    self->identities = strtab_new();
    return self;
}

void
weak_destroy(weak_t **self_p)
{
    assert(self_p);
    weak_t *self = *self_p;
    if (!self) {
        return;
    }
    size_t n_ip = strtab_count(self->ips);
    for (size_t i = 0; i < n_ip; i++) {
        free(self->ip[i].prefixes);
    }
    for (size_t i = 0; i < WEAK_MAX_BAD; i++) {
        free(self->bad_msg[i]);
    }
    free(self->obs);
    free(self->ip);
    free(self->prefix_op);
    strtab_destroy(&self->obs_ids);
    strtab_destroy(&self->ips);
    strtab_destroy(&self->prefixes);
    strtab_destroy(&self->ops);
    strtab_destroy(&self->campaigns);
    strtab_destroy(&self->identities);
    free(self);
    *self_p = NULL;
}

const char *
weak_level_name(weak_level_t level)
{
    return level == WEAK_LEVEL_IDENTITY ? "identity" : "campaign";
}

bool
weak_is_generic(const char *operation)
{
    return operation[0] == 'G';
}

void
weak_operation(const char *label, char *out, size_t size, size_t *prefix_len)
{
    assert(size > 0);
    const char *us = strchr(label, '_');
    size_t len = us ? (size_t)(us - label) : strlen(label);
    if (prefix_len) {
        *prefix_len = len;
    }
    /*  Drop a run of lowercase letters that follows a digit: the variant suffix. */
    size_t end = len;
    while (end > 0 && islower((unsigned char)label[end - 1])) {
        end--;
    }
    if (end == len || end == 0 || !isdigit((unsigned char)label[end - 1])) {
        end = len;
    }
    if (end >= size) {
        end = size - 1;
    }
    memcpy(out, label, end);
    out[end] = '\0';
}

/*  Compares two strings with digit runs compared as numbers ("C2" < "C10"), then bytewise. */
static int
s_natcmp(const char *a, const char *b)
{
    const char *p = a;
    const char *q = b;
    while (*p && *q) {
        if (isdigit((unsigned char)*p) && isdigit((unsigned char)*q)) {
            while (*p == '0') {
                p++;
            }
            while (*q == '0') {
                q++;
            }
            size_t lp = 0;
            size_t lq = 0;
            while (isdigit((unsigned char)p[lp])) {
                lp++;
            }
            while (isdigit((unsigned char)q[lq])) {
                lq++;
            }
            if (lp != lq) {
                return lp < lq ? -1 : 1;
            }
            int c = memcmp(p, q, lp);
            if (c != 0) {
                return c;
            }
            p += lp;
            q += lq;
            continue;
        }
        if (*p != *q) {
            return (unsigned char)*p < (unsigned char)*q ? -1 : 1;
        }
        p++;
        q++;
    }
    if (*p || *q) {
        return *p ? 1 : -1;
    }
    return strcmp(a, b);
}

static int
s_natcmp_p(const void *a, const void *b)
{
    return s_natcmp(*(const char *const *)a, *(const char *const *)b);
}

/*  qsort() that accepts an empty (possibly NULL) array, which qsort itself does not. */
static void
s_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1) {
        qsort(base, n, size, cmp);
    }
}

/*  --------------------------------------------------------------------------------------
    Labels */

/*  Returns the index of ip, adding it. STRTAB_NONE when the table is full. */
static uint32_t
s_ip_intern(weak_t *self, const char *ip, size_t len)
{
    size_t before = strtab_count(self->ips);
    uint32_t idx = strtab_intern(self->ips, ip, len);
    if (idx != STRTAB_NONE && idx == before) {
        xgrow(&self->ip, &self->ip_cap, before + 1);
        self->ip[idx] = (s_ip_t){0};
    }
    return idx;
}

/*  Records a malformed line: counts it, formats why, keeps the message. */
static int s_bad_line(weak_t *self, char *why, size_t why_size, const char *source, uint64_t lineno,
                      int column, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static int
s_bad_line(weak_t *self, char *why, size_t why_size, const char *source, uint64_t lineno,
           int column, const char *fmt, ...)
{
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    char msg[512];
    if (column > 0 && column <= 4) {
        snprintf(msg, sizeof msg, "%s:%" PRIu64 ": column %d (%s): %s", source, lineno, column,
                 s_columns[column - 1], detail);
    } else {
        snprintf(msg, sizeof msg, "%s:%" PRIu64 ": column %d: %s", source, lineno, column, detail);
    }
    if (why && why_size > 0) {
        snprintf(why, why_size, "%s", msg);
    }
    if (self->bad < WEAK_MAX_BAD) {
        self->bad_msg[self->bad] = xstrdup(msg);
    }
    self->bad++;
    return CADRE_ERECORD;
}

/*  Adds prefix (len bytes) to ip's label set. Returns 0 or CADRE_ELIMIT. */
static int
s_add_prefix(weak_t *self, uint32_t ip, const char *label, size_t len)
{
    size_t before = strtab_count(self->prefixes);
    uint32_t pid = strtab_intern(self->prefixes, label, len);
    if (pid == STRTAB_NONE) {
        return CADRE_ELIMIT;
    }
    if (pid == before) {
        char op[OBS_MAX_SHORT + 1];
        weak_operation(strtab_str(self->prefixes, pid), op, sizeof op, NULL);
        uint32_t oid = strtab_intern(self->ops, op, strlen(op));
        if (oid == STRTAB_NONE) {
            return CADRE_ELIMIT;
        }
        xgrow(&self->prefix_op, &self->prefix_cap, before + 1);
        self->prefix_op[pid] = oid;
    }
    s_ip_t *rec = &self->ip[ip];
    for (size_t i = 0; i < rec->n_prefixes; i++) {
        if (rec->prefixes[i] == pid) {
            return 0;
        }
    }
    xgrow(&rec->prefixes, &rec->cap, rec->n_prefixes + 1);
    rec->prefixes[rec->n_prefixes++] = pid;
    return 0;
}

int
weak_add_label_line(weak_t *self, const char *line, size_t len, const char *source, uint64_t lineno,
                    char *why, size_t why_size)
{
    if (why && why_size > 0) {
        why[0] = '\0';
    }
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
        len--;
    }
    bool blank = true;
    for (size_t i = 0; i < len && blank; i++) {
        blank = line[i] == ' ' || line[i] == '\t';
    }
    if (blank) {
        return 0;
    }
    if (lineno == 1 && len >= 8 && memcmp(line, "session\t", 8) == 0) {
        return 0;
    }
    self->label_lines++;
    /*  Split into exactly four tab-separated columns. */
    const char *col[4];
    size_t col_len[4];
    size_t n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != '\t') {
            continue;
        }
        if (n == 4) {
            return s_bad_line(self, why, why_size, source, lineno, 5,
                              "unexpected extra column: expected 4 tab-separated columns "
                              "(session, src_ip, first_ts, labels)");
        }
        col[n] = line + start;
        col_len[n] = i - start;
        n++;
        start = i + 1;
    }
    if (n < 4) {
        return s_bad_line(self, why, why_size, source, lineno, (int)n + 1,
                          "missing: expected 4 tab-separated columns, got %zu", n);
    }
    for (int c = 0; c < 4; c++) {
        obs_error_t err = {0};
        if (obs_check_string(col[c], col_len[c], OBS_MAX_SHORT, &err, s_columns[c]) != 0) {
            return s_bad_line(self, why, why_size, source, lineno, c + 1, "%s", err.message);
        }
    }
    if (col_len[1] == 0) {
        return s_bad_line(self, why, why_size, source, lineno, 2, "empty source IP");
    }
    uint32_t ip = s_ip_intern(self, col[1], col_len[1]);
    if (ip == STRTAB_NONE) {
        return CADRE_ELIMIT;
    }
    self->ip[ip].in_labels = true;
    /*  Labels: comma-separated, surrounding blanks trimmed, empty items ignored. */
    const char *p = col[3];
    const char *end = col[3] + col_len[3];
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        const char *a = p;
        const char *b = stop;
        while (a < b && (*a == ' ' || *a == '\t')) {
            a++;
        }
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) {
            b--;
        }
        if (b > a) {
            const char *us = memchr(a, '_', (size_t)(b - a));
            size_t plen = us ? (size_t)(us - a) : (size_t)(b - a);
            if (plen == 0) {
                return s_bad_line(self, why, why_size, source, lineno, 4,
                                  "label '%.*s' has an empty operation prefix", (int)(b - a), a);
            }
            int rc = s_add_prefix(self, ip, a, plen);
            if (rc < 0) {
                return rc;
            }
        }
        p = comma ? comma + 1 : end;
    }
    return 0;
}

int
weak_read_labels(weak_t *self, FILE *file, const char *source)
{
    char *line = NULL;
    size_t cap = 0;
    uint64_t lineno = 0;
    ssize_t got;
    int rc = 0;
    errno = 0;
    while ((got = getline(&line, &cap, file)) >= 0) {
        lineno++;
        rc = weak_add_label_line(self, line, (size_t)got, source, lineno, NULL, 0);
        if (rc == CADRE_ERECORD) {
            rc = 0;
        } else if (rc < 0) {
            break;
        }
    }
    if (rc == 0 && ferror(file)) {
        rc = errno ? -errno : -EIO;
    }
    free(line);
    return rc;
}

uint64_t
weak_bad_count(const weak_t *self)
{
    return self->bad;
}

const char *
weak_bad_at(const weak_t *self, size_t i)
{
    assert(i < WEAK_MAX_BAD && i < self->bad);
    return self->bad_msg[i];
}

/*  --------------------------------------------------------------------------------------
    Observations and assignments */

/*  Returns the index of observation id, adding it. STRTAB_NONE when the table is full. */
static uint32_t
s_obs_intern(weak_t *self, const char *id)
{
    size_t before = strtab_count(self->obs_ids);
    uint32_t idx = strtab_intern(self->obs_ids, id, strlen(id));
    if (idx != STRTAB_NONE && idx == before) {
        xgrow(&self->obs, &self->obs_cap, before + 1);
        self->obs[idx] = (s_obs_t){
            .ip = STRTAB_NONE, .seq = UINT64_MAX, .identity = STRTAB_NONE, .campaign = STRTAB_NONE};
    }
    return idx;
}

int
weak_add_observation(weak_t *self, const char *id, const char *ip)
{
    uint32_t idx = s_obs_intern(self, id);
    if (idx == STRTAB_NONE) {
        return CADRE_ELIMIT;
    }
    uint32_t ip_idx = STRTAB_NONE;
    if (ip && *ip) {
        ip_idx = s_ip_intern(self, ip, strlen(ip));
        if (ip_idx == STRTAB_NONE) {
            return CADRE_ELIMIT;
        }
    }
    s_obs_t *o = &self->obs[idx];
    o->ip = ip_idx;
    o->live = true;
    if (o->seq == UINT64_MAX) {
        o->seq = self->next_seq++;
    }
    return 0;
}

void
weak_delete_observation(weak_t *self, const char *id)
{
    uint32_t idx = strtab_find(self->obs_ids, id, strlen(id));
    if (idx != STRTAB_NONE) {
        self->obs[idx].live = false;
    }
}

int
weak_add_assignment(weak_t *self, const char *id, const char *identity, const char *campaign)
{
    uint32_t idx = s_obs_intern(self, id);
    if (idx == STRTAB_NONE) {
        return CADRE_ELIMIT;
    }
    s_obs_t *o = &self->obs[idx];
    if (o->assigned) {
        self->dup_assigns++;
        return 0;
    }
    o->assigned = true;
    if (identity) {
        o->identity = strtab_intern(self->identities, identity, strlen(identity));
        if (o->identity == STRTAB_NONE) {
            return CADRE_ELIMIT;
        }
    }
    if (campaign) {
        o->campaign = strtab_intern(self->campaigns, campaign, strlen(campaign));
        if (o->campaign == STRTAB_NONE) {
            return CADRE_ELIMIT;
        }
    }
    return 0;
}

/*  --------------------------------------------------------------------------------------
    Evaluation */

static int
s_pair_cmp(const void *x, const void *y)
{
    const s_pair_t *a = x;
    const s_pair_t *b = y;
    if (a->a != b->a) {
        return a->a < b->a ? -1 : 1;
    }
    if (a->b != b->b) {
        return a->b < b->b ? -1 : 1;
    }
    return 0;
}

/*  Finds the root of x in a parent array, halving paths. */
static uint32_t
s_uf_find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/*  Joins the sets of x and y; the smaller root wins, so roots do not depend on order. */
static void
s_uf_union(uint32_t *parent, uint32_t x, uint32_t y)
{
    uint32_t rx = s_uf_find(parent, x);
    uint32_t ry = s_uf_find(parent, y);
    if (rx < ry) {
        parent[ry] = rx;
    } else if (ry < rx) {
        parent[rx] = ry;
    }
}

/*  The working state of one evaluation. */
typedef struct {
    weak_t *w;             /* the inputs */
    strtab_t *cl;          /* cluster ids of the chosen level (borrowed from w) */
    size_t n_cl;           /* number of clusters */
    uint32_t *ip_cluster;  /* IP -> its cluster, or STRTAB_NONE */
    bool *ip_present;      /* IP -> has a live observation */
    uint64_t *cl_size;     /* cluster -> IPs */
    uint64_t *cl_labelled; /* cluster -> labelled IPs */
    uint32_t *ip_group;    /* IP -> truth group (pre-sort index), or STRTAB_NONE */
} s_eval_t;

/*  Fills the spread of the IPs whose pairs (key, cluster) are run[0..n) (sorted). */
static void
s_spread(const s_eval_t *ev, const s_pair_t *run, size_t n, weak_spread_t *out)
{
    out->ips = n;
    uint32_t best = STRTAB_NONE;
    uint64_t best_n = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && run[j].b == run[i].b) {
            j++;
        }
        out->clusters++;
        uint64_t cnt = j - i;
        if (best == STRTAB_NONE || cnt > best_n ||
            (cnt == best_n && strcmp(strtab_str(ev->cl, run[i].b), strtab_str(ev->cl, best)) < 0)) {
            best = run[i].b;
            best_n = cnt;
        }
        i = j;
    }
    if (best != STRTAB_NONE) {
        out->main_cluster = xstrdup(strtab_str(ev->cl, best));
        out->main_share = best_n;
        out->main_labelled = ev->cl_labelled[best];
        out->main_size = ev->cl_size[best];
    }
}

/*  Orders truth groups: most evaluated IPs first, then most label IPs, then by name. */
static int
s_group_cmp(const void *x, const void *y)
{
    const weak_spread_t *a = x;
    const weak_spread_t *b = y;
    if (a->ips != b->ips) {
        return a->ips > b->ips ? -1 : 1;
    }
    if (a->label_ips != b->label_ips) {
        return a->label_ips > b->label_ips ? -1 : 1;
    }
    return s_natcmp(a->name, b->name);
}

static int
s_fusion_cmp(const void *x, const void *y)
{
    const weak_fusion_t *a = x;
    const weak_fusion_t *b = y;
    if (a->labelled != b->labelled) {
        return a->labelled > b->labelled ? -1 : 1;
    }
    return strcmp(a->cluster, b->cluster);
}

static int
s_part_cmp(const void *x, const void *y)
{
    const weak_part_t *a = x;
    const weak_part_t *b = y;
    if (a->ips != b->ips) {
        return a->ips > b->ips ? -1 : 1;
    }
    return a->group < b->group ? -1 : a->group > b->group;
}

static int
s_member_cmp(const void *x, const void *y)
{
    return s_natcmp(((const weak_member_t *)x)->name, ((const weak_member_t *)y)->name);
}

/*  Folds observations into IPs: counts, each IP's cluster, split IPs, cluster sizes. */
static void
s_eval_ips(s_eval_t *ev, weak_report_t *r)
{
    weak_t *w = ev->w;
    size_t n_ip = strtab_count(w->ips);
    uint64_t *ip_seq = xmalloc((n_ip ? n_ip : 1) * sizeof *ip_seq);
    uint32_t *ip_any = xmalloc((n_ip ? n_ip : 1) * sizeof *ip_any);
    bool *ip_split = xcalloc(n_ip ? n_ip : 1, sizeof *ip_split);
    for (size_t i = 0; i < n_ip; i++) {
        ip_seq[i] = UINT64_MAX;
        ip_any[i] = STRTAB_NONE;
        ev->ip_cluster[i] = STRTAB_NONE;
    }
    size_t n_camp = strtab_count(w->campaigns);
    size_t n_ident = strtab_count(w->identities);
    bool *camp_seen = xcalloc(n_camp ? n_camp : 1, 1);
    bool *ident_seen = xcalloc(n_ident ? n_ident : 1, 1);
    size_t n_obs = strtab_count(w->obs_ids);
    for (size_t i = 0; i < n_obs; i++) {
        const s_obs_t *o = &w->obs[i];
        if (!o->live) {
            r->unknown_assigns += o->assigned;
            continue;
        }
        r->observations++;
        if (o->campaign != STRTAB_NONE && !camp_seen[o->campaign]) {
            camp_seen[o->campaign] = true;
            r->campaigns++;
        }
        if (o->identity != STRTAB_NONE && !ident_seen[o->identity]) {
            ident_seen[o->identity] = true;
            r->identities++;
        }
        uint32_t c = r->level == WEAK_LEVEL_IDENTITY ? o->identity : o->campaign;
        if (c == STRTAB_NONE) {
            r->unassigned_obs++;
        }
        if (o->ip == STRTAB_NONE) {
            r->obs_without_ip++;
            continue;
        }
        ev->ip_present[o->ip] = true;
        if (c == STRTAB_NONE) {
            continue;
        }
        if (ip_any[o->ip] == STRTAB_NONE) {
            ip_any[o->ip] = c;
        } else if (ip_any[o->ip] != c) {
            ip_split[o->ip] = true;
        }
        if (o->seq < ip_seq[o->ip]) {
            ip_seq[o->ip] = o->seq;
            ev->ip_cluster[o->ip] = c;
        }
    }
    r->split_ips = xmalloc((n_ip ? n_ip : 1) * sizeof *r->split_ips);
    for (size_t i = 0; i < n_ip; i++) {
        r->ips += ev->ip_present[i];
        if (ip_split[i]) {
            r->split_ips[r->n_split_ips++] = xstrdup(strtab_str(w->ips, (uint32_t)i));
        }
        if (ev->ip_cluster[i] != STRTAB_NONE) {
            ev->cl_size[ev->ip_cluster[i]]++;
        }
    }
    s_sort(r->split_ips, r->n_split_ips, sizeof *r->split_ips, s_natcmp_p);
    uint32_t largest = STRTAB_NONE;
    for (uint32_t c = 0; c < ev->n_cl; c++) {
        if (ev->cl_size[c] == 0) {
            continue;
        }
        r->clusters++;
        if (largest == STRTAB_NONE || ev->cl_size[c] > ev->cl_size[largest] ||
            (ev->cl_size[c] == ev->cl_size[largest] &&
             strcmp(strtab_str(ev->cl, c), strtab_str(ev->cl, largest)) < 0)) {
            largest = c;
        }
    }
    if (largest != STRTAB_NONE) {
        r->largest_size = ev->cl_size[largest];
        r->largest_cluster = xstrdup(strtab_str(ev->cl, largest));
    }
    free(ip_seq);
    free(ip_any);
    free(ip_split);
    free(camp_seen);
    free(ident_seen);
}

/*  Joins operations through IPs and builds the (unsorted) truth groups with their names,
    members and label IP counts; sets ev->ip_group to these pre-sort group indices. */
static void
s_eval_groups(s_eval_t *ev, weak_report_t *r)
{
    weak_t *w = ev->w;
    size_t n_ops = strtab_count(w->ops);
    size_t n_ip = strtab_count(w->ips);
    uint32_t *parent = xmalloc((n_ops ? n_ops : 1) * sizeof *parent);
    for (uint32_t i = 0; i < n_ops; i++) {
        parent[i] = i;
    }
    for (size_t i = 0; i < n_ip; i++) {
        const s_ip_t *ip = &w->ip[i];
        uint32_t first = STRTAB_NONE;
        for (size_t k = 0; k < ip->n_prefixes; k++) {
            uint32_t op = w->prefix_op[ip->prefixes[k]];
            if (weak_is_generic(strtab_str(w->ops, op))) {
                continue;
            }
            if (first == STRTAB_NONE) {
                first = op;
            } else {
                s_uf_union(parent, first, op);
            }
        }
    }
    /*  One group per root of a non-generic operation, numbered by root. */
    uint32_t *op_group = xmalloc((n_ops ? n_ops : 1) * sizeof *op_group);
    uint32_t *root_group = xmalloc((n_ops ? n_ops : 1) * sizeof *root_group);
    size_t n_groups = 0;
    for (uint32_t i = 0; i < n_ops; i++) {
        root_group[i] = STRTAB_NONE;
    }
    for (uint32_t i = 0; i < n_ops; i++) {
        op_group[i] = STRTAB_NONE;
        if (weak_is_generic(strtab_str(w->ops, i))) {
            continue;
        }
        uint32_t root = s_uf_find(parent, i);
        if (root_group[root] == STRTAB_NONE) {
            root_group[root] = (uint32_t)n_groups++;
        }
        op_group[i] = root_group[root];
    }
    r->groups = xcalloc(n_groups ? n_groups : 1, sizeof *r->groups);
    r->n_groups = n_groups;
    /*  Group names: the operations joined with '+', in natural order. */
    const char **names = xmalloc((n_ops ? n_ops : 1) * sizeof *names);
    for (size_t g = 0; g < n_groups; g++) {
        size_t n = 0;
        size_t len = 1;
        for (uint32_t i = 0; i < n_ops; i++) {
            if (op_group[i] == g) {
                names[n++] = strtab_str(w->ops, i);
                len += strlen(names[n - 1]) + 1;
            }
        }
        s_sort(names, n, sizeof *names, s_natcmp_p);
        char *name = xmalloc(len);
        name[0] = '\0';
        for (size_t k = 0; k < n; k++) {
            if (k > 0) {
                strcat(name, "+");
            }
            strcat(name, names[k]);
        }
        r->groups[g].name = name;
    }
    free(names);
    /*  Members: the label prefixes of each group, with their evaluated IP counts. */
    size_t n_pre = strtab_count(w->prefixes);
    uint64_t *pre_ips = xcalloc(n_pre ? n_pre : 1, sizeof *pre_ips);
    for (size_t i = 0; i < n_ip; i++) {
        const s_ip_t *ip = &w->ip[i];
        ev->ip_group[i] = STRTAB_NONE;
        for (size_t k = 0; k < ip->n_prefixes; k++) {
            uint32_t g = op_group[w->prefix_op[ip->prefixes[k]]];
            if (g != STRTAB_NONE) {
                ev->ip_group[i] = g;
            }
        }
        if (ev->ip_group[i] == STRTAB_NONE) {
            continue;
        }
        r->groups[ev->ip_group[i]].label_ips++;
        if (ev->ip_present[i] && ev->ip_cluster[i] != STRTAB_NONE) {
            for (size_t k = 0; k < ip->n_prefixes; k++) {
                pre_ips[ip->prefixes[k]]++;
            }
        }
    }
    for (uint32_t p = 0; p < n_pre; p++) {
        uint32_t g = op_group[w->prefix_op[p]];
        if (g != STRTAB_NONE) {
            r->groups[g].n_members++;
        }
    }
    for (size_t g = 0; g < n_groups; g++) {
        r->groups[g].members = xcalloc(r->groups[g].n_members, sizeof *r->groups[g].members);
        r->groups[g].n_members = 0;
    }
    for (uint32_t p = 0; p < n_pre; p++) {
        uint32_t g = op_group[w->prefix_op[p]];
        if (g == STRTAB_NONE) {
            continue;
        }
        weak_spread_t *grp = &r->groups[g];
        grp->members[grp->n_members++] =
            (weak_member_t){.name = xstrdup(strtab_str(w->prefixes, p)), .ips = pre_ips[p]};
    }
    for (size_t g = 0; g < n_groups; g++) {
        s_sort(r->groups[g].members, r->groups[g].n_members, sizeof *r->groups[g].members,
               s_member_cmp);
    }
    free(pre_ips);
    free(parent);
    free(root_group);
    free(op_group);
}

/*  Builds the generic operations' spreads over the present, clustered IPs. */
static void
s_eval_generic(s_eval_t *ev, weak_report_t *r)
{
    weak_t *w = ev->w;
    size_t n_ops = strtab_count(w->ops);
    size_t n_ip = strtab_count(w->ips);
    uint32_t *gen_idx = xmalloc((n_ops ? n_ops : 1) * sizeof *gen_idx);
    const char **names = xmalloc((n_ops ? n_ops : 1) * sizeof *names);
    size_t n_gen = 0;
    for (uint32_t i = 0; i < n_ops; i++) {
        if (weak_is_generic(strtab_str(w->ops, i))) {
            names[n_gen++] = strtab_str(w->ops, i);
        }
    }
    s_sort(names, n_gen, sizeof *names, s_natcmp_p);
    for (uint32_t i = 0; i < n_ops; i++) {
        gen_idx[i] = STRTAB_NONE;
    }
    for (size_t k = 0; k < n_gen; k++) {
        gen_idx[strtab_find(w->ops, names[k], strlen(names[k]))] = (uint32_t)k;
    }
    r->generic = xcalloc(n_gen ? n_gen : 1, sizeof *r->generic);
    r->n_generic = n_gen;
    for (size_t k = 0; k < n_gen; k++) {
        r->generic[k].name = xstrdup(names[k]);
    }
    s_pair_t *pairs = NULL;
    size_t n_pairs = 0;
    size_t pairs_cap = 0;
    bool *seen = xcalloc(n_gen ? n_gen : 1, 1);
    for (size_t i = 0; i < n_ip; i++) {
        const s_ip_t *ip = &w->ip[i];
        memset(seen, 0, n_gen ? n_gen : 1);
        for (size_t k = 0; k < ip->n_prefixes; k++) {
            uint32_t g = gen_idx[w->prefix_op[ip->prefixes[k]]];
            if (g == STRTAB_NONE || seen[g]) {
                continue;
            }
            seen[g] = true;
            r->generic[g].label_ips++;
            if (!ev->ip_present[i] || ev->ip_cluster[i] == STRTAB_NONE) {
                continue;
            }
            r->generic[g].with_truth += ev->ip_group[i] != STRTAB_NONE;
            xgrow(&pairs, &pairs_cap, n_pairs + 1);
            pairs[n_pairs++] = (s_pair_t){.a = g, .b = ev->ip_cluster[i]};
        }
    }
    s_sort(pairs, n_pairs, sizeof *pairs, s_pair_cmp);
    for (size_t i = 0; i < n_pairs;) {
        size_t j = i;
        while (j < n_pairs && pairs[j].a == pairs[i].a) {
            j++;
        }
        s_spread(ev, pairs + i, j - i, &r->generic[pairs[i].a]);
        i = j;
    }
    free(pairs);
    free(seen);
    free(names);
    free(gen_idx);
}

weak_report_t *
weak_evaluate(weak_t *self, weak_level_t level)
{
    weak_report_t *r = xcalloc(1, sizeof *r);
    r->level = level;
    s_eval_t ev = {.w = self};
    ev.cl = level == WEAK_LEVEL_IDENTITY ? self->identities : self->campaigns;
    ev.n_cl = strtab_count(ev.cl);
    size_t n_ip = strtab_count(self->ips);
    size_t ip_slots = n_ip ? n_ip : 1;
    ev.ip_cluster = xmalloc(ip_slots * sizeof *ev.ip_cluster);
    ev.ip_present = xcalloc(ip_slots, sizeof *ev.ip_present);
    ev.ip_group = xmalloc(ip_slots * sizeof *ev.ip_group);
    ev.cl_size = xcalloc(ev.n_cl ? ev.n_cl : 1, sizeof *ev.cl_size);
    ev.cl_labelled = xcalloc(ev.n_cl ? ev.n_cl : 1, sizeof *ev.cl_labelled);
    r->duplicate_assigns = self->dup_assigns;
    s_eval_ips(&ev, r);

    s_eval_groups(&ev, r);
    size_t n_groups = r->n_groups;

    /*  Label-file IPs: scored, generic only, unclustered or absent. */
    r->label_lines = self->label_lines;
    r->bad_lines = self->bad;
    r->absent_ips = xmalloc(ip_slots * sizeof *r->absent_ips);
    s_pair_t *items = xmalloc(ip_slots * sizeof *items);
    size_t n_items = 0;
    for (size_t i = 0; i < n_ip; i++) {
        const s_ip_t *ip = &self->ip[i];
        if (!ip->in_labels) {
            continue;
        }
        r->label_ips++;
        if (!ev.ip_present[i]) {
            r->absent_ips[r->n_absent_ips++] = xstrdup(strtab_str(self->ips, (uint32_t)i));
            continue;
        }
        if (ev.ip_group[i] == STRTAB_NONE) {
            r->generic_only_ips += ip->n_prefixes > 0;
            continue;
        }
        if (ev.ip_cluster[i] == STRTAB_NONE) {
            r->unclustered_ips++;
            continue;
        }
        items[n_items++] = (s_pair_t){.a = ev.ip_group[i], .b = ev.ip_cluster[i]};
        ev.cl_labelled[ev.ip_cluster[i]]++;
    }
    s_sort(r->absent_ips, r->n_absent_ips, sizeof *r->absent_ips, s_natcmp_p);
    r->labelled_ips = n_items;

    /*  Metrics over the labelled IPs (labels are dense ids already). */
    uint32_t *truth = xmalloc((n_items ? n_items : 1) * sizeof *truth);
    uint32_t *pred = xmalloc((n_items ? n_items : 1) * sizeof *pred);
    for (size_t i = 0; i < n_items; i++) {
        truth[i] = items[i].a;
        pred[i] = items[i].b;
    }
    int rc = metrics_score(truth, pred, n_items, &r->metrics);
    assert(rc == 0);
    (void)rc;
    free(truth);
    free(pred);

    /*  Spread of each group: items sorted by (group, cluster). */
    s_sort(items, n_items, sizeof *items, s_pair_cmp);
    for (size_t i = 0; i < n_items;) {
        size_t j = i;
        while (j < n_items && items[j].a == items[i].a) {
            j++;
        }
        s_spread(&ev, items + i, j - i, &r->groups[items[i].a]);
        i = j;
    }
    /*  Sort the groups and renumber: remap[old] = new. */
    for (size_t g = 0; g < n_groups; g++) {
        r->groups[g].with_truth = g; /* the old index, kept through the sort */
    }
    s_sort(r->groups, n_groups, sizeof *r->groups, s_group_cmp);
    uint32_t *remap = xmalloc((n_groups ? n_groups : 1) * sizeof *remap);
    for (size_t g = 0; g < n_groups; g++) {
        remap[r->groups[g].with_truth] = (uint32_t)g;
        r->groups[g].with_truth = 0;
    }
    for (size_t i = 0; i < n_ip; i++) {
        if (ev.ip_group[i] != STRTAB_NONE) {
            ev.ip_group[i] = remap[ev.ip_group[i]];
        }
    }

    /*  Fusions: items sorted by (cluster, group). */
    for (size_t i = 0; i < n_items; i++) {
        items[i] = (s_pair_t){.a = items[i].b, .b = remap[items[i].a]};
    }
    free(remap);
    s_sort(items, n_items, sizeof *items, s_pair_cmp);
    size_t fusions_cap = 0;
    for (size_t i = 0; i < n_items;) {
        size_t j = i;
        size_t n_parts = 0;
        while (j < n_items && items[j].a == items[i].a) {
            n_parts += j == i || items[j].b != items[j - 1].b;
            j++;
        }
        if (n_parts >= 2) {
            xgrow(&r->fusions, &fusions_cap, r->n_fusions + 1);
            weak_fusion_t *f = &r->fusions[r->n_fusions++];
            *f = (weak_fusion_t){.cluster = xstrdup(strtab_str(ev.cl, items[i].a)),
                                 .size = ev.cl_size[items[i].a],
                                 .labelled = j - i,
                                 .parts = xcalloc(n_parts, sizeof *f->parts),
                                 .n_parts = 0};
            for (size_t k = i; k < j; k++) {
                if (k == i || items[k].b != items[k - 1].b) {
                    f->parts[f->n_parts++] = (weak_part_t){.group = items[k].b};
                }
                f->parts[f->n_parts - 1].ips++;
            }
            s_sort(f->parts, f->n_parts, sizeof *f->parts, s_part_cmp);
        }
        i = j;
    }
    s_sort(r->fusions, r->n_fusions, sizeof *r->fusions, s_fusion_cmp);

    s_eval_generic(&ev, r);

    free(items);
    free(ev.ip_cluster);
    free(ev.ip_present);
    free(ev.ip_group);
    free(ev.cl_size);
    free(ev.cl_labelled);
    return r;
}

/*  Frees what a spread owns. */
static void
s_spread_clear(weak_spread_t *s)
{
    free(s->name);
    free(s->main_cluster);
    for (size_t i = 0; i < s->n_members; i++) {
        free(s->members[i].name);
    }
    free(s->members);
}

void
weak_report_destroy(weak_report_t **self_p)
{
    assert(self_p);
    weak_report_t *r = *self_p;
    if (!r) {
        return;
    }
    free(r->largest_cluster);
    for (size_t i = 0; i < r->n_split_ips; i++) {
        free(r->split_ips[i]);
    }
    free(r->split_ips);
    for (size_t i = 0; i < r->n_absent_ips; i++) {
        free(r->absent_ips[i]);
    }
    free(r->absent_ips);
    for (size_t i = 0; i < r->n_groups; i++) {
        s_spread_clear(&r->groups[i]);
    }
    free(r->groups);
    for (size_t i = 0; i < r->n_fusions; i++) {
        free(r->fusions[i].cluster);
        free(r->fusions[i].parts);
    }
    free(r->fusions);
    for (size_t i = 0; i < r->n_generic; i++) {
        s_spread_clear(&r->generic[i]);
    }
    free(r->generic);
    free(r);
    *self_p = NULL;
}

/*  --------------------------------------------------------------------------------------
    Text report */

/*  A share as a percentage (0 when the whole is 0). */
static double
s_pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/*  Prints up to S_MAX_LISTED names of a list, then how many more. */
static void
s_print_list(FILE *out, const char *what, char *const *v, size_t n)
{
    if (n == 0) {
        return;
    }
    fprintf(out, "  %s:", what);
    for (size_t i = 0; i < n && i < S_MAX_LISTED; i++) {
        fprintf(out, " %s", v[i]);
    }
    if (n > S_MAX_LISTED) {
        fprintf(out, " ... (%zu more)", n - S_MAX_LISTED);
    }
    fputc('\n', out);
}

/*  "IP" or "IPs" after a count. */
static const char *
s_ips(uint64_t n)
{
    return n == 1 ? "IP" : "IPs";
}

/*  Prints one spread line (without the leading name). Truth groups show the purity of their
    main cluster; generic operations, which are no truth, only its size. */
static void
s_print_spread(FILE *out, const weak_spread_t *s, const char *lvl, bool generic)
{
    fprintf(out, "%" PRIu64 " %s in %" PRIu64 " %s%s", s->ips, s_ips(s->ips), s->clusters, lvl,
            s->clusters == 1 ? "" : "s");
    if (!s->main_cluster) {
        fputc('\n', out);
        return;
    }
    fprintf(out, "; main %s %s holds %" PRIu64 " (%.1f%%)", lvl, s->main_cluster, s->main_share,
            s_pct(s->main_share, s->ips));
    if (generic) {
        fprintf(out, ", %" PRIu64 " %s in all, %" PRIu64 " truth-labelled\n", s->main_size,
                s_ips(s->main_size), s->main_labelled);
        return;
    }
    fprintf(out, "; purity %" PRIu64 "/%" PRIu64 " labelled (%.1f%%), %" PRIu64 " %s in all\n",
            s->main_share, s->main_labelled, s_pct(s->main_share, s->main_labelled), s->main_size,
            s_ips(s->main_size));
}

int
weak_report_print(const weak_report_t *r, FILE *out)
{
    const char *lvl = weak_level_name(r->level);
    fprintf(out, "level: %s (an IP's %s is the %s of its first observation)\n", lvl, lvl, lvl);
    fprintf(out,
            "observations: %" PRIu64 " (%" PRIu64 " without ip, %" PRIu64 " without a %s), %" PRIu64
            " IPs, %" PRIu64 " identities, %" PRIu64 " campaigns\n",
            r->observations, r->obs_without_ip, r->unassigned_obs, lvl, r->ips, r->identities,
            r->campaigns);
    if (r->unknown_assigns || r->duplicate_assigns) {
        fprintf(out, "assignments: %" PRIu64 " for unknown observations, %" PRIu64 " duplicates\n",
                r->unknown_assigns, r->duplicate_assigns);
    }
    fprintf(out, "%ss over IPs: %" PRIu64 ", largest %s %s with %" PRIu64 " IPs\n", lvl,
            r->clusters, lvl, r->largest_cluster ? r->largest_cluster : "-", r->largest_size);
    fprintf(out,
            "split IPs: %zu (observations of one IP in different %ss; the first observation's "
            "%s is used)\n",
            r->n_split_ips, lvl, lvl);
    s_print_list(out, "split", r->split_ips, r->n_split_ips);
    fprintf(out,
            "labels: %" PRIu64 " lines (%" PRIu64 " bad), %" PRIu64 " IPs: %" PRIu64
            " labelled and scored, %" PRIu64 " generic only, %" PRIu64 " without a %s, %zu "
            "absent from the observations\n",
            r->label_lines, r->bad_lines, r->label_ips, r->labelled_ips, r->generic_only_ips,
            r->unclustered_ips, lvl, r->n_absent_ips);
    s_print_list(out, "absent", r->absent_ips, r->n_absent_ips);

    fprintf(out, "truth operations:");
    for (size_t g = 0; g < r->n_groups; g++) {
        fprintf(out, "%s %s (%" PRIu64 " %s)", g ? "," : "", r->groups[g].name, r->groups[g].ips,
                s_ips(r->groups[g].ips));
    }
    fprintf(out, "%s\n", r->n_groups ? "" : " none");
    fprintf(out, "  (label prefix before '_'; C1b, C1c fold into C1; G* generic, excluded; "
                 "operations sharing an IP joined)\n");
    for (size_t g = 0; g < r->n_groups; g++) {
        const weak_spread_t *s = &r->groups[g];
        fprintf(out, "  %s: %" PRIu64 " %s in the labels, %" PRIu64 " scored; labels", s->name,
                s->label_ips, s_ips(s->label_ips), s->ips);
        for (size_t k = 0; k < s->n_members; k++) {
            fprintf(out, "%s %s %" PRIu64, k ? "," : "", s->members[k].name, s->members[k].ips);
        }
        fputc('\n', out);
    }
    fprintf(out, "per operation:\n");
    for (size_t g = 0; g < r->n_groups; g++) {
        fprintf(out, "  %s: ", r->groups[g].name);
        s_print_spread(out, &r->groups[g], lvl, false);
    }
    fprintf(out, "fusions (%ss holding IPs of different truth operations): %zu\n", lvl,
            r->n_fusions);
    for (size_t i = 0; i < r->n_fusions; i++) {
        const weak_fusion_t *f = &r->fusions[i];
        fprintf(out, "  FUSED %s (%" PRIu64 " IPs, %" PRIu64 " labelled):", f->cluster, f->size,
                f->labelled);
        for (size_t k = 0; k < f->n_parts; k++) {
            fprintf(out, "%s %s %" PRIu64, k ? "," : "", r->groups[f->parts[k].group].name,
                    f->parts[k].ips);
        }
        fputc('\n', out);
    }
    fprintf(out, "generic labels (information only, not truth): %zu\n", r->n_generic);
    for (size_t i = 0; i < r->n_generic; i++) {
        const weak_spread_t *s = &r->generic[i];
        fprintf(out, "  %s: %" PRIu64 " %s in the labels, %" PRIu64 " also truth-labelled; ",
                s->name, s->label_ips, s_ips(s->label_ips), s->with_truth);
        s_print_spread(out, s, lvl, true);
    }
    const metrics_t *m = &r->metrics;
    fprintf(out, "metrics over %" PRIu64 " labelled IPs (SPEC §9):\n", r->labelled_ips);
    fprintf(out, "  adjusted_rand_index %.6f\n", m->adjusted_rand_index);
    fprintf(out, "  homogeneity         %.6f\n", m->homogeneity);
    fprintf(out, "  completeness        %.6f\n", m->completeness);
    fprintf(out, "  v_measure           %.6f\n", m->v_measure);
    fprintf(out, "  pairwise_precision  %.6f\n", m->pairwise_precision);
    fprintf(out, "  pairwise_recall     %.6f\n", m->pairwise_recall);
    fprintf(out, "  pairwise_f1         %.6f\n", m->pairwise_f1);
    if (fflush(out) != 0 || ferror(out)) {
        return errno ? -errno : -EIO;
    }
    return 0;
}
