/*  weak.h - scoring campaign assignments against weak labels (docs/eval-weak.md).

    Real honeypot data has no ground truth, only weak labels: hand-checked signatures on
    some Cowrie sessions (labels_weak.tsv: session, src_ip, first_ts, labels). This module
    lifts observations, assignments and labels to source IPs and compares them there:

    - an IP's predicted cluster is the campaign (or identity) of its first observation in
      observation order; an IP whose observations landed in different clusters is "split";
    - a label's operation is its prefix before the first '_', with a lowercase variant suffix
      after the number dropped (C1b and C1c are operation C1); operations starting with 'G'
      are generic tool families and are no truth;
    - operations that co-occur on one IP are joined (union-find over operations through
      IPs); the resulting groups ("C1+C2") are the truth classes;
    - only labelled IPs (carrying a non-generic operation) are scored: unlabelled IPs are
      unknown, not negatives.

    weak_t accumulates the three inputs in any order; weak_evaluate() builds a weak_report_t,
    a plain value record that owns all its strings. Everything is linear in the input size
    up to a sort of the labelled IPs.
*/
#ifndef CADRE_WEAK_H
#define CADRE_WEAK_H

#include "metrics.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*  How many bad label lines keep their message (the rest are only counted). */
#define WEAK_MAX_BAD 20

/*  Which assignment label is an IP's predicted cluster. */
typedef enum { WEAK_LEVEL_CAMPAIGN = 0, WEAK_LEVEL_IDENTITY } weak_level_t;

typedef struct weak_t weak_t;

/*  One operation as written before folding (C1, C1b, C2) inside a truth group. */
typedef struct {
    char *name;   /* the label prefix, e.g. "C1b" (owned) */
    uint64_t ips; /* evaluated IPs carrying it */
} weak_member_t;

/*  How the evaluated IPs of one truth group (or one generic operation) spread over the
    predicted clusters. */
typedef struct {
    char *name;             /* "C1+C2", or the generic operation "G1" (owned) */
    weak_member_t *members; /* label prefixes in the group, natural order (owned) */
    size_t n_members;       /* number of members (0 for a generic operation) */
    uint64_t label_ips;     /* IPs of the labels file in it, present or not */
    uint64_t ips;           /* evaluated IPs (in the observations, with a cluster) */
    uint64_t clusters;      /* distinct clusters they fall into (fragmentation) */
    char *main_cluster;     /* the cluster holding most of them, or NULL if ips == 0 */
    uint64_t main_share;    /* how many of them it holds */
    uint64_t main_labelled; /* labelled IPs of any group in the main cluster */
    uint64_t main_size;     /* all IPs in the main cluster, unlabelled ones included */
    uint64_t with_truth;    /* generic only: how many of its IPs also carry a truth group */
} weak_spread_t;

/*  One group's share of a fused cluster. */
typedef struct {
    size_t group; /* index into weak_report_t.groups */
    uint64_t ips; /* its IPs in the cluster */
} weak_part_t;

/*  A predicted cluster holding IPs of two or more truth groups. */
typedef struct {
    char *cluster;      /* cluster id (owned) */
    uint64_t size;      /* all IPs in it */
    uint64_t labelled;  /* labelled IPs in it */
    weak_part_t *parts; /* groups present, most IPs first (owned) */
    size_t n_parts;     /* number of groups present (>= 2) */
} weak_fusion_t;

/*  The result of one evaluation. A plain value; weak_report_destroy() frees it. */
typedef struct {
    weak_level_t level; /* which cluster layer was scored */

    uint64_t observations;      /* live observations */
    uint64_t obs_without_ip;    /* live observations with no ip (ignored) */
    uint64_t ips;               /* distinct IPs of the live observations */
    uint64_t unassigned_obs;    /* live observations without a cluster at this level */
    uint64_t unknown_assigns;   /* assignments for ids that are no live observation */
    uint64_t duplicate_assigns; /* second assignments for one id (the first one counts) */
    uint64_t campaigns;         /* distinct campaigns over the live observations */
    uint64_t identities;        /* distinct identities over the live observations */
    uint64_t clusters;          /* distinct clusters at this level, over IPs */
    uint64_t largest_size;      /* IPs in the largest cluster */
    char *largest_cluster;      /* its id, or NULL when there is none (owned) */
    char **split_ips;           /* IPs whose observations are in different clusters (owned) */
    size_t n_split_ips;         /* number of them */

    uint64_t label_lines;      /* data lines read from the labels file (header excluded) */
    uint64_t bad_lines;        /* of which malformed (skipped) */
    uint64_t label_ips;        /* distinct IPs in the labels file */
    uint64_t labelled_ips;     /* IPs scored: truth group, in the observations, clustered */
    uint64_t generic_only_ips; /* present IPs whose labels are all generic */
    uint64_t unclustered_ips;  /* labelled IPs in the observations but without a cluster */
    char **absent_ips;         /* labels-file IPs absent from the observations (owned) */
    size_t n_absent_ips;       /* number of them */

    weak_spread_t *groups;  /* truth groups, most evaluated IPs first (owned) */
    size_t n_groups;        /* number of groups */
    weak_fusion_t *fusions; /* fused clusters, most labelled IPs first (owned) */
    size_t n_fusions;       /* number of fused clusters */
    weak_spread_t *generic; /* generic operations, natural order (owned) */
    size_t n_generic;       /* number of generic operations */

    metrics_t metrics; /* SPEC §9 scores over the labelled IPs */
} weak_report_t;

/*  Creates an empty evaluation. Never returns NULL. */
weak_t *weak_new(void);
/*  Frees it and NULLs *self_p; NULL *self_p is a no-op. */
void weak_destroy(weak_t **self_p);

/*  Adds one line of a labels file (len bytes, without or with its "\n" / "\r\n"): four
    tab-separated columns session, src_ip, first_ts, labels, the labels separated by commas
    (empty items ignored). A first line starting with "session\t" is the header and is
    skipped; blank lines are ignored. lineno is the 1-based line number, source names the
    file in messages. Returns 0, or CADRE_ERECORD for a malformed line (wrong column count,
    empty src_ip, a value that is not valid UTF-8 or is over OBS_MAX_SHORT bytes): the line
    is skipped and counted, and "source:line: column N (name): why" is written into why
    (why_size bytes; why may be NULL) and kept if fewer than WEAK_MAX_BAD were kept. */
int weak_add_label_line(weak_t *self, const char *line, size_t len, const char *source,
                        uint64_t lineno, char *why, size_t why_size);
/*  Reads a whole labels file from a borrowed FILE through weak_add_label_line(). Returns 0
    (malformed lines are counted and kept, see weak_bad_count) or -errno on a read error. */
int weak_read_labels(weak_t *self, FILE *file, const char *source);
/*  Malformed label lines so far. */
uint64_t weak_bad_count(const weak_t *self);
/*  The message of the i-th kept malformed line (i < min(weak_bad_count, WEAK_MAX_BAD)).
    Borrowed: valid until the evaluation is destroyed. */
const char *weak_bad_at(const weak_t *self, size_t i);

/*  Adds (upserts) observation id at source IP ip (NULL when the record has none); a later
    upsert of the same id replaces its IP but keeps its place in observation order.
    Returns 0 or CADRE_ELIMIT when too many distinct strings were seen. */
int weak_add_observation(weak_t *self, const char *id, const char *ip);
/*  Removes observation id (a delete record); an unknown id is ignored. */
void weak_delete_observation(weak_t *self, const char *id);
/*  Adds the assignment of observation id; identity and campaign may be NULL. A second
    assignment for one id is counted and ignored. Returns 0 or CADRE_ELIMIT. */
int weak_add_assignment(weak_t *self, const char *id, const char *identity, const char *campaign);

/*  Evaluates everything added so far at level. Returns a new report (the caller frees it
    with weak_report_destroy); never NULL. */
weak_report_t *weak_evaluate(weak_t *self, weak_level_t level);
/*  Frees the report and NULLs *self_p; NULL *self_p is a no-op. */
void weak_report_destroy(weak_report_t **self_p);
/*  Writes the report as stable, human-readable text. Returns 0 or -errno on a write error. */
int weak_report_print(const weak_report_t *self, FILE *out);

/*  The operation of a label written into out (size bytes, cut to fit): its prefix before the
    first '_' (the whole label without one), with lowercase letters after a trailing digit
    run dropped ("C1b_x" -> "C1", "C12ab" -> "C12", "Gx" -> "Gx"). prefix_len, when not NULL,
    receives the length of the unfolded prefix. */
void weak_operation(const char *label, char *out, size_t size, size_t *prefix_len);
/*  True when an operation is generic (starts with 'G'). */
bool weak_is_generic(const char *operation);
/*  The name of a level ("campaign", "identity"). */
const char *weak_level_name(weak_level_t level);

#endif
