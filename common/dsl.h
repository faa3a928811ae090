/*  dsl.h - the synthetic campaign DSL (SPEC §8, R§8): a YAML document parsed into a plain
    corpus description that the generator (gen.h) turns into observations.

    Shapes: `{campaign: {...}}`, `{corpus: {campaigns: [...], noise: {scanner_count: N}}}`, or
    (cadre extension) `{include_fixtures: [files...], extra_noise_scanners: N}`, whose files
    are resolved relative to the including file and expanded recursively as R§10 describes.

    Scalars follow YAML 1.1 implicit typing as PyYAML's safe_load does: a plain `null`, `~`
    or empty value is null; quoted scalars are always strings. Every node remembers its
    file:line:column, and every validation error and warning carries it.

    The loaded corpus owns all of its memory; dsl_corpus_destroy() frees it.
*/
#ifndef CADRE_DSL_H
#define CADRE_DSL_H

#include "obs.h"
#include "ukc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Limits beyond DECNET's own checks (values over them are validation errors). Each field
    has its own maximum, and the whole corpus (every included file counted each time it is
    included) has maxima on what the generator will hold in memory (docs/dsl.md §8). */
#define DSL_MAX_ROTATION_COUNT 100000  /* rows of one rotating actor */
#define DSL_MAX_DURATION_DAYS 100000   /* duration_days */
#define DSL_MAX_JITTER 1000000000      /* jitter_seconds */
#define DSL_MAX_COUNT 100000           /* target_selector.count (OBS_MAX_SESSIONS) */
#define DSL_MAX_NOISE 1000000          /* noise.scanner_count, extra_noise_scanners */
#define DSL_MAX_INCLUDE_DEPTH 32       /* nesting of include_fixtures files */
#define DSL_MAX_FILE_BYTES (16u << 20) /* one DSL file */
#define DSL_MAX_FILES_LOADED 10000     /* files read for one document, includes each time */
#define DSL_MAX_OBSERVATIONS 1000000   /* observation rows of the corpus, noise included */
#define DSL_MAX_SESSIONS 1000000       /* sessions of the corpus (counts of observable phases) */
#define DSL_MAX_SESSION_ITEMS 10000000 /* commands and credential pairs copied into sessions */
#define DSL_MAX_TEXT (256u << 20)      /* bytes of DSL text copied into the records */

/*  A position in a DSL file, 1-based. file is borrowed from the corpus that holds it. */
typedef struct {
    const char *file; /* file name as given (or the buffer's name) */
    int line;         /* 1-based line */
    int column;       /* 1-based column */
} dsl_mark_t;

/*  One DSL actor: an operator or tool instance, emitting one or more observation rows. */
typedef struct {
    char *id;               /* actor id (required, unique within its campaign) */
    int64_t asn;            /* default 0 */
    bool rotating;          /* ip_pool == "rotating" (then rotation_count rows, else 1) */
    int64_t rotation_count; /* rows when rotating; default 1, >= 1 */
    int64_t *rotation_asns; /* per-row ASN (row r gets [r mod n]); NULL when absent */
    size_t n_rotation_asns; /* number of rotation_asns */
    char *ja3;              /* NULL when null/absent */
    char *hassh;            /* NULL when null/absent */
    int64_t *hours;         /* hours_active_utc (0..23); default 0..23 */
    size_t n_hours;         /* number of hours (>= 1) */
    int64_t jitter;         /* jitter_seconds, default 60, >= 0 */
    bool has_active_days;   /* active_days was given as a list (an empty list, as in DECNET,
                               leaves no day to schedule on); false when absent or null */
    int64_t *active_days;   /* active_days in list order, duplicates kept */
    size_t n_active_days;   /* number of active_days */
    bool has_kd;            /* cadre extension: kd_simhash given */
    uint64_t kd_simhash;    /* keystroke SimHash attached to each row */
    dsl_mark_t mark;        /* where the actor mapping starts */
} dsl_actor_t;

/*  One DSL phase: `count` sessions of one UKC phase by one actor. */
typedef struct {
    ukc_phase_t phase;     /* the UKC phase */
    size_t actor;          /* index into the campaign's actors (default 0) */
    bool has_commands;     /* tool_signature.commands given (else the phase's defaults) */
    char **commands;       /* commands when has_commands ([] = none) */
    size_t n_commands;     /* number of commands */
    obs_cred_t *creds;     /* tool_signature.credentials ([] when null/absent) */
    size_t n_creds;        /* number of credential pairs */
    char *c2;              /* tool_signature.c2_callback, NULL when null/absent */
    char *payload_hash;    /* SHA-256 hex of tool_signature.payload_hash's seed, or NULL */
    int64_t count;         /* target_selector.count, default 1 (<= 0 emits nothing) */
    bool previous_success; /* target_selector.decky == "previous_success" */
    double dwell;          /* dwell_seconds, default 5.0 (session duration) */
    dsl_mark_t mark;       /* where the phase mapping starts */
} dsl_phase_t;

/*  An inclusive [start, end] range of paused days. */
typedef struct {
    int64_t start; /* first paused day */
    int64_t end;   /* last paused day */
} dsl_pause_t;

/*  One campaign. */
typedef struct {
    char *id;              /* campaign id (required) */
    dsl_actor_t *actors;   /* actors in document order (>= 1) */
    size_t n_actors;       /* number of actors */
    dsl_phase_t *phases;   /* phases in document order */
    size_t n_phases;       /* number of phases */
    int64_t duration_days; /* default 1; days 0..duration_days-1 */
    dsl_pause_t *pauses;   /* pause_windows */
    size_t n_pauses;       /* number of pause windows */
    dsl_mark_t mark;       /* where the campaign mapping starts */
} dsl_campaign_t;

/*  A whole corpus: campaigns in generation order plus background noise. */
typedef struct dsl_corpus_t {
    dsl_campaign_t *campaigns; /* campaigns in generation order */
    size_t n_campaigns;        /* number of campaigns */
    int64_t noise_scanners;    /* noise.scanner_count (0 when null/absent) */
    char **warnings;           /* "file:line:col: message" warnings, e.g. unobservable phases */
    size_t n_warnings;         /* number of warnings */
    char **files;              /* every file name marks point into (owned) */
    size_t n_files;            /* number of file names */
} dsl_corpus_t;

/*  Loads and validates a DSL file. Returns 0 and stores a new corpus in *out, or a negative
    code (CADRE_EDSL for validation errors, -errno when a file cannot be read, CADRE_ELIMIT
    for a file over DSL_MAX_FILE_BYTES) with a "file:line:col: message" description written
    into err (errlen bytes, always terminated when errlen > 0); *out is then left untouched.
    Warnings do not fail the load: they are collected in the corpus. */
int dsl_load_file(const char *path, dsl_corpus_t **out, char *err, size_t errlen);
/*  Same for a document in memory; name labels marks and base_dir resolves include_fixtures
    (NULL = the current directory). */
int dsl_load_buffer(const char *buf, size_t len, const char *name, const char *base_dir,
                    dsl_corpus_t **out, char *err, size_t errlen);
/*  Frees the corpus and NULLs *self_p; NULL is a no-op. */
void dsl_corpus_destroy(dsl_corpus_t **self_p);

/*  The default commands of a phase used when tool_signature.commands is absent (R§8.2):
    sets *n and returns a static array (NULL with *n = 0 for phases without defaults). */
const char *const *dsl_default_commands(ukc_phase_t phase, size_t *n);

#endif
