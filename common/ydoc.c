/*  ydoc.c - YAML documents through libyaml's event parser (see ydoc.h).

    The parser's events are folded into nodes with an explicit stack of open collections,
    so nesting never recurses. Every node is also recorded in the document's node list,
    which is what ydoc_destroy() walks: aliases share nodes, so the tree is really a DAG
    and must not be freed by walking it.

    Scalar typing follows PyYAML's Resolver and SafeConstructor (YAML 1.1): the implicit
    patterns below are transcriptions of its regular expressions, tried in the same
    order, and the integer and float constructions follow its rules (underscores dropped,
    sign, then 0b / 0x / leading-0 octal / base 60 / decimal).
*/
#include "ydoc.h"

#include "err.h"
#include "xalloc.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define S_TAG_PREFIX "tag:yaml.org,2002:"

struct ydoc_node_t {
    ydoc_type_t type;    /* resolved type */
    ydoc_style_t style;  /* scalar style, YDOC_STYLE_NONE for collections */
    ydoc_mark_t mark;    /* where the node starts */
    char *text;          /* scalar text, NUL-terminated; NULL for collections */
    size_t len;          /* scalar text length */
    bool boolean;        /* YDOC_BOOL value */
    bool negative;       /* YDOC_INT: the value is negative */
    bool huge;           /* YDOC_INT: the magnitude exceeds UINT64_MAX */
    uint64_t magnitude;  /* YDOC_INT: absolute value (when !huge) */
    double real;         /* YDOC_FLOAT value */
    ydoc_node_t **items; /* sequence items, or mapping keys and values interleaved */
    size_t n_items;      /* number of entries in items (2 per mapping pair) */
    size_t cap_items;    /* allocated entries in items */
    size_t weight;       /* nodes in the subtree with aliases expanded (saturating) */
    bool complete;       /* the node's end event was seen (aliases may refer to it) */
};

struct ydoc_t {
    char *name;          /* name used in messages */
    ydoc_node_t *root;   /* root node */
    ydoc_node_t **nodes; /* every node, for destruction */
    size_t n_nodes;      /* number of nodes */
    size_t cap_nodes;    /* allocated entries in nodes */
};

/*  One anchor of the anchor table (open addressing, keyed by name). */
typedef struct {
    char *name;        /* anchor name, owned; NULL for an empty slot */
    ydoc_node_t *node; /* the node it names (latest definition wins) */
} anchor_t;

/*  State of one ydoc_parse() call. */
typedef struct {
    ydoc_t *doc;         /* the document being built */
    const char *buf;     /* the input, for locating reader errors */
    size_t len;          /* input length */
    char *err;           /* caller's error buffer */
    size_t errlen;       /* its size */
    ydoc_node_t **stack; /* open collections, innermost last */
    size_t depth;        /* number of open collections */
    size_t cap_stack;    /* allocated entries in stack */
    anchor_t *anchors;   /* anchor table (power-of-two size) */
    size_t n_slots;      /* table size */
    size_t n_anchors;    /* used slots */
} builder_t;

/* ----------------------------------------------------------------------------------------
   Errors */

__attribute__((format(printf, 3, 0))) static void
s_verror(builder_t *b, ydoc_mark_t mark, const char *fmt, va_list ap)
{
    if (b->err == NULL || b->errlen == 0) {
        return;
    }
    int n = snprintf(b->err, b->errlen, "%s:%d:%d: ", b->doc->name, mark.line, mark.column);
    if (n >= 0 && (size_t)n < b->errlen) {
        vsnprintf(b->err + n, b->errlen - (size_t)n, fmt, ap);
    }
}

__attribute__((format(printf, 3, 4))) static int
s_error(builder_t *b, ydoc_mark_t mark, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_verror(b, mark, fmt, ap);
    va_end(ap);
    return -1;
}

static ydoc_mark_t
s_mark(yaml_mark_t m)
{
    return (ydoc_mark_t){.line = (int)m.line + 1, .column = (int)m.column + 1};
}

/*  The 1-based line and column of a byte offset (reader errors carry only an offset). */
static ydoc_mark_t
s_mark_of_offset(const builder_t *b, size_t offset)
{
    ydoc_mark_t m = {.line = 1, .column = 1};
    for (size_t i = 0; i < offset && i < b->len; i++) {
        if (b->buf[i] == '\n') {
            m.line++;
            m.column = 1;
        } else if (((unsigned char)b->buf[i] & 0xc0) != 0x80) {
            m.column++;
        }
    }
    return m;
}

static int
s_parser_error(builder_t *b, const yaml_parser_t *p)
{
    const char *problem = p->problem ? p->problem : "unknown error";
    switch (p->error) {
    case YAML_MEMORY_ERROR:
        return s_error(b, (ydoc_mark_t){1, 1}, "out of memory while parsing YAML");
    case YAML_READER_ERROR:
        if (p->problem_value != -1) {
            return s_error(b, s_mark_of_offset(b, p->problem_offset), "%s (byte 0x%02x)", problem,
                           (unsigned)p->problem_value & 0xffu);
        }
        return s_error(b, s_mark_of_offset(b, p->problem_offset), "%s", problem);
    default:
        break;
    }
    if (p->context != NULL) {
        return s_error(b, s_mark(p->problem_mark), "%s (%s at line %d, column %d)", problem,
                       p->context, (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    }
    return s_error(b, s_mark(p->problem_mark), "%s", problem);
}

/* ----------------------------------------------------------------------------------------
   Implicit scalar patterns (PyYAML Resolver, YAML 1.1) */

static bool
s_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
s_is_digit_(char c)
{
    return s_is_digit(c) || c == '_';
}

static bool
s_eq(const char *s, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static bool
s_match_null(const char *s, size_t n)
{
    return n == 0 || s_eq(s, n, "~") || s_eq(s, n, "null") || s_eq(s, n, "Null") ||
           s_eq(s, n, "NULL");
}

/*  1 for true words, 0 for false words, -1 otherwise. Implicit resolution accepts the
    lower, Title and UPPER spellings only; an explicit !!bool accepts any case. */
static int
s_match_bool(const char *s, size_t n, bool any_case)
{
    static const char *const words[] = {"yes", "true", "on", "no", "false", "off"};
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        if (n != strlen(words[w])) {
            continue;
        }
        bool lower = true;
        bool upper = true;
        bool title = true;
        bool nocase = true;
        for (size_t i = 0; i < n; i++) {
            char lc = words[w][i];
            char uc = (char)(lc - 'a' + 'A');
            char c = s[i];
            lower = lower && c == lc;
            upper = upper && c == uc;
            title = title && c == (i == 0 ? uc : lc);
            nocase = nocase && (c == lc || c == uc);
        }
        if (lower || upper || title || (any_case && nocase)) {
            return w < 3 ? 1 : 0;
        }
    }
    return -1;
}

/*  Skips [0-9_]* from i; returns the new position. */
static size_t
s_skip_digits_(const char *s, size_t n, size_t i)
{
    while (i < n && s_is_digit_(s[i])) {
        i++;
    }
    return i;
}

/*  (:[0-5]?[0-9])+ from i; returns the new position, or i when not even one group. */
static size_t
s_skip_sexagesimal(const char *s, size_t n, size_t i)
{
    size_t j = i;
    for (;;) {
        if (j >= n || s[j] != ':') {
            return j;
        }
        size_t k = j + 1;
        if (k + 1 < n && s[k] >= '0' && s[k] <= '5' && s_is_digit(s[k + 1])) {
            k += 2;
        } else if (k < n && s_is_digit(s[k])) {
            k += 1;
        } else {
            return j;
        }
        j = k;
    }
}

/*  ([eE][-+][0-9]+)? from i: returns the position after it, or SIZE_MAX on a malformed
    exponent (an 'e' not followed by sign and digits). */
static size_t
s_skip_exponent(const char *s, size_t n, size_t i)
{
    if (i >= n || (s[i] != 'e' && s[i] != 'E')) {
        return i;
    }
    if (i + 1 >= n || (s[i + 1] != '-' && s[i + 1] != '+') || i + 2 >= n || !s_is_digit(s[i + 2])) {
        return SIZE_MAX;
    }
    i += 2;
    while (i < n && s_is_digit(s[i])) {
        i++;
    }
    return i;
}

static bool
s_match_float(const char *s, size_t n)
{
    size_t i = 0;
    if (n > 0 && s[0] == '.') {
        /* \.[0-9][0-9_]*([eE][-+][0-9]+)? | \.(nan|NaN|NAN) | \.(inf|Inf|INF) */
        if (s_eq(s, n, ".nan") || s_eq(s, n, ".NaN") || s_eq(s, n, ".NAN") || s_eq(s, n, ".inf") ||
            s_eq(s, n, ".Inf") || s_eq(s, n, ".INF")) {
            return true;
        }
        if (n < 2 || !s_is_digit(s[1])) {
            return false;
        }
        return s_skip_exponent(s, n, s_skip_digits_(s, n, 2)) == n;
    }
    if (i < n && (s[i] == '-' || s[i] == '+')) {
        i++;
    }
    if (s_eq(s + i, n - i, ".inf") || s_eq(s + i, n - i, ".Inf") || s_eq(s + i, n - i, ".INF")) {
        return true;
    }
    if (i >= n || !s_is_digit(s[i])) {
        return false;
    }
    size_t j = s_skip_digits_(s, n, i + 1);
    if (j < n && s[j] == '.') {
        /* [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)? */
        return s_skip_exponent(s, n, s_skip_digits_(s, n, j + 1)) == n;
    }
    /* [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]* */
    size_t k = s_skip_sexagesimal(s, n, j);
    if (k == j || k >= n || s[k] != '.') {
        return false;
    }
    return s_skip_digits_(s, n, k + 1) == n;
}

static bool
s_match_int(const char *s, size_t n)
{
    size_t i = 0;
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        i++;
    }
    if (i >= n) {
        return false;
    }
    if (s[i] == '0') {
        if (i + 1 == n) {
            return true; /* 0 */
        }
        char c = s[i + 1];
        size_t j = i + 2;
        if (c == 'b') {
            if (j >= n) {
                return false;
            }
            for (; j < n; j++) {
                if (s[j] != '0' && s[j] != '1' && s[j] != '_') {
                    return false;
                }
            }
            return true;
        }
        if (c == 'x') {
            if (j >= n) {
                return false;
            }
            for (; j < n; j++) {
                char h = s[j];
                bool hex = s_is_digit(h) || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F');
                if (!hex && h != '_') {
                    return false;
                }
            }
            return true;
        }
        for (j = i + 1; j < n; j++) {
            if (!((s[j] >= '0' && s[j] <= '7') || s[j] == '_')) {
                return false;
            }
        }
        return true;
    }
    if (s[i] < '1' || s[i] > '9') {
        return false;
    }
    size_t j = s_skip_digits_(s, n, i + 1);
    if (j == n) {
        return true;
    }
    size_t k = s_skip_sexagesimal(s, n, j);
    return k != j && k == n;
}

/*  n digits (exactly) at s. */
static bool
s_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!s_is_digit(s[i])) {
            return false;
        }
    }
    return true;
}

/*  One or two digits at s[*i]; advances *i. */
static bool
s_one_or_two_digits(const char *s, size_t n, size_t *i)
{
    if (*i >= n || !s_is_digit(s[*i])) {
        return false;
    }
    (*i)++;
    if (*i < n && s_is_digit(s[*i])) {
        (*i)++;
    }
    return true;
}

static bool
s_match_timestamp(const char *s, size_t n)
{
    if (n < 8 || !s_digits(s, 4) || s[4] != '-') {
        return false;
    }
    if (n == 10 && s_digits(s + 5, 2) && s[7] == '-' && s_digits(s + 8, 2)) {
        return true;
    }
    size_t i = 5;
    if (!s_one_or_two_digits(s, n, &i) || i >= n || s[i] != '-') {
        return false;
    }
    i++;
    if (!s_one_or_two_digits(s, n, &i) || i >= n) {
        return false;
    }
    if (s[i] == 'T' || s[i] == 't') {
        i++;
    } else if (s[i] == ' ' || s[i] == '\t') {
        while (i < n && (s[i] == ' ' || s[i] == '\t')) {
            i++;
        }
    } else {
        return false;
    }
    if (!s_one_or_two_digits(s, n, &i)) {
        return false;
    }
    for (int part = 0; part < 2; part++) {
        if (i + 3 > n || s[i] != ':' || !s_digits(s + i + 1, 2)) {
            return false;
        }
        i += 3;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s_is_digit(s[i])) {
            i++;
        }
    }
    if (i == n) {
        return true;
    }
    while (i < n && (s[i] == ' ' || s[i] == '\t')) {
        i++;
    }
    if (i < n && s[i] == 'Z') {
        return i + 1 == n;
    }
    if (i >= n || (s[i] != '-' && s[i] != '+')) {
        return false;
    }
    i++;
    if (!s_one_or_two_digits(s, n, &i)) {
        return false;
    }
    if (i == n) {
        return true;
    }
    return i + 3 == n && s[i] == ':' && s_digits(s + i + 1, 2);
}

/* ----------------------------------------------------------------------------------------
   Scalar construction (PyYAML SafeConstructor) */

/*  The text without underscores (and lowercased when lower), as a new string. */
static char *
s_clean(const char *s, size_t n, bool lower)
{
    char *out = xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '_') {
            continue;
        }
        if (lower && c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        out[k++] = c;
    }
    out[k] = '\0';
    return out;
}

/*  *v = *v * base + digit, setting *huge on overflow. */
static void
s_accumulate(uint64_t *v, uint64_t base, uint64_t digit, bool *huge)
{
    if (*huge || *v > (UINT64_MAX - digit) / base) {
        *huge = true;
        return;
    }
    *v = *v * base + digit;
}

static unsigned
s_digit_value(char c)
{
    if (c >= '0' && c <= '9') {
        return (unsigned)(c - '0');
    }
    if (c >= 'a' && c <= 'f') {
        return (unsigned)(c - 'a' + 10);
    }
    return (unsigned)(c - 'A' + 10);
}

/*  Builds an integer from text already matched by s_match_int (or tagged !!int).
    Returns -1 (with an error) when there are no digits, e.g. `0b_`. */
static int
s_make_int(builder_t *b, ydoc_node_t *node)
{
    char *clean = s_clean(node->text, node->len, false);
    const char *p = clean;
    node->type = YDOC_INT;
    node->negative = p[0] == '-';
    if (p[0] == '-' || p[0] == '+') {
        p++;
    }
    uint64_t base = 10;
    if (strcmp(p, "0") == 0) {
        p = "";
    } else if (p[0] == '0' && p[1] == 'b') {
        base = 2;
        p += 2;
    } else if (p[0] == '0' && p[1] == 'x') {
        base = 16;
        p += 2;
    } else if (p[0] == '0') {
        base = 8;
    } else if (strchr(p, ':') != NULL) {
        base = 60;
    }
    bool empty = p[0] == '\0' && base != 10;
    uint64_t v = 0;
    bool huge = false;
    if (base == 60) {
        /* Horner over the ':'-separated decimal parts gives PyYAML's sum of part * 60^k. */
        uint64_t part = 0;
        bool part_huge = false;
        for (const char *q = p;; q++) {
            if (*q == ':' || *q == '\0') {
                s_accumulate(&v, 60, 0, &huge);
                if (!huge && (part_huge || v > UINT64_MAX - part)) {
                    huge = true;
                } else if (!huge) {
                    v += part;
                }
                part = 0;
                part_huge = false;
                if (*q == '\0') {
                    break;
                }
            } else {
                s_accumulate(&part, 10, s_digit_value(*q), &part_huge);
            }
        }
    } else {
        for (const char *q = p; *q != '\0'; q++) {
            s_accumulate(&v, base, s_digit_value(*q), &huge);
        }
    }
    free(clean);
    if (empty) {
        return s_error(b, node->mark, "invalid integer '%s' (no digits)", node->text);
    }
    node->magnitude = v;
    node->huge = huge;
    if (v == 0 && !huge) {
        node->negative = false;
    }
    return 0;
}

/*  Builds a float from text matched by s_match_float (or a decimal integer tagged !!float). */
static void
s_make_float(ydoc_node_t *node)
{
    char *clean = s_clean(node->text, node->len, true);
    const char *p = clean;
    double sign = 1.0;
    if (p[0] == '-') {
        sign = -1.0;
    }
    if (p[0] == '-' || p[0] == '+') {
        p++;
    }
    node->type = YDOC_FLOAT;
    if (strcmp(p, ".inf") == 0) {
        node->real = sign * INFINITY;
    } else if (strcmp(p, ".nan") == 0) {
        node->real = NAN;
    } else if (strchr(p, ':') != NULL) {
        /* Parts summed from the last one up, as PyYAML does: value += part * 60^k, with
           60^k exact while it fits 64 bits. strtod() stops at each ':'. */
        size_t n_parts = 1;
        for (const char *q = p; *q != '\0'; q++) {
            n_parts += *q == ':';
        }
        const char **parts = xcalloc(n_parts, sizeof *parts);
        parts[0] = p;
        size_t k = 1;
        for (const char *q = p; *q != '\0'; q++) {
            if (*q == ':') {
                parts[k++] = q + 1;
            }
        }
        double value = 0.0;
        uint64_t base = 1;
        bool base_huge = false;
        double fbase = 1.0;
        for (size_t i = n_parts; i-- > 0;) {
            value += strtod(parts[i], NULL) * (base_huge ? fbase : (double)base);
            s_accumulate(&base, 60, 0, &base_huge);
            fbase *= 60.0;
        }
        free(parts);
        node->real = sign * value;
    } else {
        node->real = sign * strtod(p, NULL);
    }
    free(clean);
}

/*  Types a plain scalar without a specific tag (PyYAML's implicit resolution). */
static int
s_resolve_implicit(builder_t *b, ydoc_node_t *node)
{
    const char *s = node->text;
    size_t n = node->len;
    if (s_match_null(s, n)) {
        node->type = YDOC_NULL;
        return 0;
    }
    int bv = s_match_bool(s, n, false);
    if (bv >= 0) {
        node->type = YDOC_BOOL;
        node->boolean = bv == 1;
        return 0;
    }
    if (s_match_float(s, n)) {
        s_make_float(node);
        return 0;
    }
    if (s_match_int(s, n)) {
        return s_make_int(b, node);
    }
    if (s_match_timestamp(s, n)) {
        node->type = YDOC_TIMESTAMP;
        return 0;
    }
    if (s_eq(s, n, "<<")) {
        return s_error(b, node->mark, "merge keys ('<<') are not supported");
    }
    if (s_eq(s, n, "=")) {
        return s_error(b, node->mark, "the YAML value key ('=') is not supported");
    }
    node->type = YDOC_STR;
    return 0;
}

/*  True when s is a decimal integer ([-+]?(0|[1-9][0-9_]*)), accepted by !!float. */
static bool
s_match_decimal(const char *s, size_t n)
{
    size_t i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (i >= n) {
        return false;
    }
    if (s[i] == '0') {
        return i + 1 == n;
    }
    return s[i] >= '1' && s[i] <= '9' && s_skip_digits_(s, n, i + 1) == n;
}

/*  Types a scalar event. */
static int
s_resolve_scalar(builder_t *b, ydoc_node_t *node, const char *tag, bool plain_implicit)
{
    if (tag == NULL || strcmp(tag, "!") == 0) {
        if (plain_implicit) {
            return s_resolve_implicit(b, node);
        }
        node->type = YDOC_STR;
        return 0;
    }
    if (strncmp(tag, S_TAG_PREFIX, strlen(S_TAG_PREFIX)) != 0) {
        return s_error(b, node->mark, "unsupported tag '%s'", tag);
    }
    const char *t = tag + strlen(S_TAG_PREFIX);
    const char *s = node->text;
    size_t n = node->len;
    if (strcmp(t, "str") == 0) {
        node->type = YDOC_STR;
        return 0;
    }
    if (strcmp(t, "null") == 0) {
        node->type = YDOC_NULL;
        return 0;
    }
    if (strcmp(t, "bool") == 0) {
        int bv = s_match_bool(s, n, true);
        if (bv < 0) {
            return s_error(b, node->mark, "'%s' is not a valid !!bool", s);
        }
        node->type = YDOC_BOOL;
        node->boolean = bv == 1;
        return 0;
    }
    if (strcmp(t, "int") == 0) {
        if (!s_match_int(s, n)) {
            return s_error(b, node->mark, "'%s' is not a valid !!int", s);
        }
        return s_make_int(b, node);
    }
    if (strcmp(t, "float") == 0) {
        if (!s_match_float(s, n) && !s_match_decimal(s, n)) {
            return s_error(b, node->mark, "'%s' is not a valid !!float", s);
        }
        s_make_float(node);
        return 0;
    }
    if (strcmp(t, "timestamp") == 0) {
        if (!s_match_timestamp(s, n)) {
            return s_error(b, node->mark, "'%s' is not a valid !!timestamp", s);
        }
        node->type = YDOC_TIMESTAMP;
        return 0;
    }
    return s_error(b, node->mark, "unsupported tag '%s'", tag);
}

/* ----------------------------------------------------------------------------------------
   Building */

static size_t
s_sat_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static ydoc_node_t *
s_node_new(builder_t *b, ydoc_type_t type, ydoc_mark_t mark)
{
    ydoc_node_t *node = xcalloc(1, sizeof *node);
    node->type = type;
    node->mark = mark;
    node->weight = 1;
    xgrow(&b->doc->nodes, &b->doc->cap_nodes, b->doc->n_nodes + 1);
    b->doc->nodes[b->doc->n_nodes++] = node;
    return node;
}

static uint64_t
s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

static anchor_t *
s_anchor_slot(anchor_t *slots, size_t n_slots, const char *name)
{
    size_t i = (size_t)s_hash(name) & (n_slots - 1);
    while (slots[i].name != NULL && strcmp(slots[i].name, name) != 0) {
        i = (i + 1) & (n_slots - 1);
    }
    return &slots[i];
}

/*  Defines (or redefines) an anchor. */
static void
s_anchor_set(builder_t *b, const char *name, ydoc_node_t *node)
{
    if (2 * (b->n_anchors + 1) > b->n_slots) {
        size_t n_slots = b->n_slots ? 2 * b->n_slots : 16;
        anchor_t *slots = xcalloc(n_slots, sizeof *slots);
        for (size_t i = 0; i < b->n_slots; i++) {
            if (b->anchors[i].name != NULL) {
                *s_anchor_slot(slots, n_slots, b->anchors[i].name) = b->anchors[i];
            }
        }
        free(b->anchors);
        b->anchors = slots;
        b->n_slots = n_slots;
    }
    anchor_t *slot = s_anchor_slot(b->anchors, b->n_slots, name);
    if (slot->name == NULL) {
        slot->name = xstrdup(name);
        b->n_anchors++;
    }
    slot->node = node;
}

static ydoc_node_t *
s_anchor_get(const builder_t *b, const char *name)
{
    if (b->n_slots == 0) {
        return NULL;
    }
    return s_anchor_slot(b->anchors, b->n_slots, name)->node;
}

/*  Attaches node (new or aliased) to the innermost open collection, or makes it the root.
    Mapping keys must be scalars. */
static int
s_attach(builder_t *b, ydoc_node_t *node, ydoc_mark_t mark)
{
    if (b->depth == 0) {
        b->doc->root = node;
        return 0;
    }
    ydoc_node_t *parent = b->stack[b->depth - 1];
    if (parent->type == YDOC_MAP && parent->n_items % 2 == 0 && !ydoc_is_scalar(node)) {
        return s_error(b, mark, "mapping keys must be scalars, not a %s",
                       ydoc_type_name(node->type));
    }
    xgrow(&parent->items, &parent->cap_items, parent->n_items + 1);
    parent->items[parent->n_items++] = node;
    return 0;
}

/*  Adds a finished subtree's weight to the innermost open collection and checks that
    aliases have not blown the document up. */
static int
s_add_weight(builder_t *b, const ydoc_node_t *node, ydoc_mark_t mark)
{
    if (b->depth == 0) {
        return 0;
    }
    ydoc_node_t *parent = b->stack[b->depth - 1];
    parent->weight = s_sat_add(parent->weight, node->weight);
    if (parent->weight > s_sat_add(b->doc->n_nodes, YDOC_MAX_ALIAS_NODES)) {
        return s_error(b, mark, "aliases expand the document by more than %u nodes",
                       YDOC_MAX_ALIAS_NODES);
    }
    return 0;
}

/*  Compares two scalar keys by type and value (see ydoc.h). */
static int
s_key_cmp(const ydoc_node_t *a, const ydoc_node_t *b)
{
    if (a->type != b->type) {
        return a->type < b->type ? -1 : 1;
    }
    switch (a->type) {
    case YDOC_NULL:
        return 0;
    case YDOC_BOOL:
        return (int)a->boolean - (int)b->boolean;
    case YDOC_INT:
        if (!a->huge && !b->huge) {
            if (a->negative != b->negative) {
                return a->negative ? -1 : 1;
            }
            if (a->magnitude == b->magnitude) {
                return 0;
            }
            return (a->magnitude < b->magnitude) != a->negative ? -1 : 1;
        }
        break;
    case YDOC_FLOAT:
        if (!isnan(a->real) && !isnan(b->real)) {
            return a->real < b->real ? -1 : (a->real > b->real ? 1 : 0);
        }
        break;
    default:
        break;
    }
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->text, b->text, n);
    if (c != 0) {
        return c;
    }
    return a->len < b->len ? -1 : (a->len > b->len ? 1 : 0);
}

/*  A key and its position, for sorting. */
typedef struct {
    const ydoc_node_t *key; /* the key node */
    size_t index;           /* its pair index */
} keyref_t;

static int
s_keyref_cmp(const void *pa, const void *pb)
{
    const keyref_t *a = pa;
    const keyref_t *b = pb;
    int c = s_key_cmp(a->key, b->key);
    if (c != 0) {
        return c;
    }
    return a->index < b->index ? -1 : (a->index > b->index ? 1 : 0);
}

/*  Rejects a mapping with two equal keys, naming the earliest repeated one. */
static int
s_check_duplicates(builder_t *b, const ydoc_node_t *map)
{
    size_t pairs = map->n_items / 2;
    if (pairs < 2) {
        return 0;
    }
    keyref_t *refs = xcalloc(pairs, sizeof *refs);
    for (size_t i = 0; i < pairs; i++) {
        refs[i] = (keyref_t){.key = map->items[2 * i], .index = i};
    }
    qsort(refs, pairs, sizeof *refs, s_keyref_cmp);
    const ydoc_node_t *dup = NULL;
    const ydoc_node_t *first = NULL;
    size_t dup_index = SIZE_MAX;
    for (size_t i = 1; i < pairs; i++) {
        if (s_key_cmp(refs[i - 1].key, refs[i].key) == 0 && refs[i].index < dup_index) {
            /* refs[i - 1] is an earlier occurrence; find the group's first one. */
            size_t j = i - 1;
            while (j > 0 && s_key_cmp(refs[j - 1].key, refs[i].key) == 0) {
                j--;
            }
            dup = refs[i].key;
            dup_index = refs[i].index;
            first = refs[j].key;
        }
    }
    free(refs);
    if (dup == NULL) {
        return 0;
    }
    return s_error(b, dup->mark, "duplicate mapping key '%.80s' (first at line %d, column %d)",
                   dup->text, first->mark.line, first->mark.column);
}

static int
s_push(builder_t *b, ydoc_node_t *node, ydoc_mark_t mark)
{
    if (b->depth >= YDOC_MAX_DEPTH) {
        return s_error(b, mark, "collections nested deeper than %d levels", YDOC_MAX_DEPTH);
    }
    xgrow(&b->stack, &b->cap_stack, b->depth + 1);
    b->stack[b->depth++] = node;
    return 0;
}

static int
s_on_scalar(builder_t *b, const yaml_event_t *ev)
{
    ydoc_mark_t mark = s_mark(ev->start_mark);
    ydoc_node_t *node = s_node_new(b, YDOC_STR, mark);
    node->len = ev->data.scalar.length;
    node->text = xmalloc(node->len + 1);
    memcpy(node->text, ev->data.scalar.value, node->len);
    node->text[node->len] = '\0';
    switch (ev->data.scalar.style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
        node->style = YDOC_STYLE_SINGLE;
        break;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        node->style = YDOC_STYLE_DOUBLE;
        break;
    case YAML_LITERAL_SCALAR_STYLE:
        node->style = YDOC_STYLE_LITERAL;
        break;
    case YAML_FOLDED_SCALAR_STYLE:
        node->style = YDOC_STYLE_FOLDED;
        break;
    default:
        node->style = YDOC_STYLE_PLAIN;
        break;
    }
    if (s_resolve_scalar(b, node, (const char *)ev->data.scalar.tag,
                         ev->data.scalar.plain_implicit != 0) != 0) {
        return -1;
    }
    node->complete = true;
    if (ev->data.scalar.anchor != NULL) {
        s_anchor_set(b, (const char *)ev->data.scalar.anchor, node);
    }
    if (s_attach(b, node, mark) != 0) {
        return -1;
    }
    return s_add_weight(b, node, mark);
}

static int
s_on_alias(builder_t *b, const yaml_event_t *ev)
{
    ydoc_mark_t mark = s_mark(ev->start_mark);
    const char *name = (const char *)ev->data.alias.anchor;
    ydoc_node_t *node = s_anchor_get(b, name);
    if (node == NULL) {
        return s_error(b, mark, "undefined alias '%s'", name);
    }
    if (!node->complete) {
        return s_error(b, mark, "recursive alias '%s' is not supported", name);
    }
    if (s_attach(b, node, mark) != 0) {
        return -1;
    }
    return s_add_weight(b, node, mark);
}

static int
s_on_start(builder_t *b, const yaml_event_t *ev, bool map)
{
    ydoc_mark_t mark = s_mark(ev->start_mark);
    const char *tag =
        (const char *)(map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
    const char *anchor =
        (const char *)(map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor);
    const char *want = map ? S_TAG_PREFIX "map" : S_TAG_PREFIX "seq";
    if (tag != NULL && strcmp(tag, "!") != 0 && strcmp(tag, want) != 0) {
        return s_error(b, mark, "unsupported tag '%s'", tag);
    }
    ydoc_node_t *node = s_node_new(b, map ? YDOC_MAP : YDOC_SEQ, mark);
    if (anchor != NULL) {
        s_anchor_set(b, anchor, node);
    }
    if (s_attach(b, node, mark) != 0) {
        return -1;
    }
    return s_push(b, node, mark);
}

static int
s_on_end(builder_t *b)
{
    assert(b->depth > 0);
    ydoc_node_t *node = b->stack[--b->depth];
    node->complete = true;
    if (node->type == YDOC_MAP && s_check_duplicates(b, node) != 0) {
        return -1;
    }
    return s_add_weight(b, node, node->mark);
}

/*  Runs the event loop over the first document. Returns 0 or -1 (error written). */
static int
s_build(builder_t *b, yaml_parser_t *parser)
{
    bool in_document = false;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(parser, &ev)) {
            return s_parser_error(b, parser);
        }
        int rc = 0;
        bool done = false;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            rc = s_error(b, s_mark(ev.start_mark), "no YAML document in the input");
            break;
        case YAML_DOCUMENT_START_EVENT:
            in_document = true;
            break;
        case YAML_DOCUMENT_END_EVENT:
            done = in_document;
            break;
        case YAML_SCALAR_EVENT:
            rc = s_on_scalar(b, &ev);
            break;
        case YAML_ALIAS_EVENT:
            rc = s_on_alias(b, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            rc = s_on_start(b, &ev, false);
            break;
        case YAML_MAPPING_START_EVENT:
            rc = s_on_start(b, &ev, true);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            rc = s_on_end(b);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (rc != 0) {
            return rc;
        }
        if (done) {
            return 0;
        }
    }
}

/* ----------------------------------------------------------------------------------------
   Public API */

int
ydoc_read_file(const char *path, size_t max, char **buf_p, size_t *len_p, char *err, size_t errlen)
{
    *buf_p = NULL;
    *len_p = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    char *buf = NULL;
    size_t len = 0;
    size_t cap = 0;
    int rc = 0;
    for (;;) {
        xgrow(&buf, &cap, len + 8192 + 1);
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (len > max) {
            snprintf(err, errlen, "%s: larger than %zu bytes, the limit of such a file", path, max);
            rc = CADRE_ELIMIT;
            break;
        }
        if (got == 0) {
            if (ferror(f)) {
                int e = errno ? errno : EIO;
                snprintf(err, errlen, "%s: %s", path, strerror(e));
                rc = -e;
            }
            break;
        }
    }
    fclose(f);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *buf_p = buf;
    *len_p = len;
    return 0;
}

ydoc_t *
ydoc_parse(const char *buf, size_t len, const char *name, char *err, size_t errlen)
{
    assert(buf != NULL || len == 0);
    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }
    ydoc_t *doc = xcalloc(1, sizeof *doc);
    doc->name = xstrdup(name ? name : "<input>");
    builder_t b = {.doc = doc, .buf = buf, .len = len, .err = err, .errlen = errlen};

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        s_error(&b, (ydoc_mark_t){1, 1}, "cannot initialise the YAML parser");
        ydoc_destroy(&doc);
        return NULL;
    }
    static const unsigned char empty[1] = {0};
    yaml_parser_set_input_string(&parser, len ? (const unsigned char *)buf : empty, len);
    int rc = s_build(&b, &parser);
    yaml_parser_delete(&parser);

    for (size_t i = 0; i < b.n_slots; i++) {
        free(b.anchors[i].name);
    }
    free(b.anchors);
    free(b.stack);
    if (rc != 0 || doc->root == NULL) {
        if (rc == 0) {
            s_error(&b, (ydoc_mark_t){1, 1}, "no YAML document in the input");
        }
        ydoc_destroy(&doc);
        return NULL;
    }
    return doc;
}

void
ydoc_destroy(ydoc_t **self_p)
{
    assert(self_p != NULL);
    ydoc_t *self = *self_p;
    if (self == NULL) {
        return;
    }
    for (size_t i = 0; i < self->n_nodes; i++) {
        free(self->nodes[i]->text);
        free(self->nodes[i]->items);
        free(self->nodes[i]);
    }
    free(self->nodes);
    free(self->name);
    free(self);
    *self_p = NULL;
}

const ydoc_node_t *
ydoc_root(const ydoc_t *self)
{
    assert(self != NULL);
    return self->root;
}

const char *
ydoc_name(const ydoc_t *self)
{
    assert(self != NULL);
    return self->name;
}

ydoc_type_t
ydoc_type(const ydoc_node_t *node)
{
    assert(node != NULL);
    return node->type;
}

const char *
ydoc_type_name(ydoc_type_t type)
{
    switch (type) {
    case YDOC_NULL:
        return "null";
    case YDOC_BOOL:
        return "boolean";
    case YDOC_INT:
        return "integer";
    case YDOC_FLOAT:
        return "float";
    case YDOC_TIMESTAMP:
        return "timestamp";
    case YDOC_STR:
        return "string";
    case YDOC_SEQ:
        return "sequence";
    case YDOC_MAP:
        return "mapping";
    }
    return "unknown";
}

bool
ydoc_is_scalar(const ydoc_node_t *node)
{
    assert(node != NULL);
    return node->type != YDOC_SEQ && node->type != YDOC_MAP;
}

ydoc_style_t
ydoc_style(const ydoc_node_t *node)
{
    assert(node != NULL);
    return node->style;
}

ydoc_mark_t
ydoc_mark(const ydoc_node_t *node)
{
    assert(node != NULL);
    return node->mark;
}

const char *
ydoc_text(const ydoc_node_t *node, size_t *len)
{
    assert(node != NULL);
    if (len != NULL) {
        *len = node->text ? node->len : 0;
    }
    return node->text;
}

bool
ydoc_bool(const ydoc_node_t *node)
{
    assert(node != NULL);
    return node->type == YDOC_BOOL && node->boolean;
}

int
ydoc_int(const ydoc_node_t *node, int64_t *out)
{
    assert(node != NULL && out != NULL);
    if (node->type != YDOC_INT) {
        return -EINVAL;
    }
    if (node->huge) {
        return -ERANGE;
    }
    if (node->negative) {
        if (node->magnitude > (uint64_t)INT64_MAX + 1u) {
            return -ERANGE;
        }
        *out = node->magnitude == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)node->magnitude;
        return 0;
    }
    if (node->magnitude > (uint64_t)INT64_MAX) {
        return -ERANGE;
    }
    *out = (int64_t)node->magnitude;
    return 0;
}

int
ydoc_uint(const ydoc_node_t *node, uint64_t *out)
{
    assert(node != NULL && out != NULL);
    if (node->type != YDOC_INT) {
        return -EINVAL;
    }
    if (node->huge || node->negative) {
        return -ERANGE;
    }
    *out = node->magnitude;
    return 0;
}

int
ydoc_float(const ydoc_node_t *node, double *out)
{
    assert(node != NULL && out != NULL);
    if (node->type == YDOC_FLOAT) {
        *out = node->real;
        return 0;
    }
    if (node->type != YDOC_INT) {
        return -EINVAL;
    }
    if (node->huge) {
        return -ERANGE;
    }
    double v = (double)node->magnitude;
    *out = node->negative ? -v : v;
    return 0;
}

size_t
ydoc_len(const ydoc_node_t *node)
{
    assert(node != NULL);
    if (node->type == YDOC_SEQ) {
        return node->n_items;
    }
    if (node->type == YDOC_MAP) {
        return node->n_items / 2;
    }
    return 0;
}

const ydoc_node_t *
ydoc_seq_at(const ydoc_node_t *node, size_t i)
{
    assert(node != NULL);
    if (node->type != YDOC_SEQ || i >= node->n_items) {
        return NULL;
    }
    return node->items[i];
}

const ydoc_node_t *
ydoc_map_key(const ydoc_node_t *node, size_t i)
{
    assert(node != NULL);
    if (node->type != YDOC_MAP || i >= node->n_items / 2) {
        return NULL;
    }
    return node->items[2 * i];
}

const ydoc_node_t *
ydoc_map_value(const ydoc_node_t *node, size_t i)
{
    assert(node != NULL);
    if (node->type != YDOC_MAP || i >= node->n_items / 2) {
        return NULL;
    }
    return node->items[2 * i + 1];
}

const ydoc_node_t *
ydoc_map_get(const ydoc_node_t *node, const char *key)
{
    assert(node != NULL && key != NULL);
    if (node->type != YDOC_MAP) {
        return NULL;
    }
    size_t klen = strlen(key);
    for (size_t i = 0; i + 1 < node->n_items; i += 2) {
        const ydoc_node_t *k = node->items[i];
        if (k->type == YDOC_STR && k->len == klen && memcmp(k->text, key, klen) == 0) {
            return node->items[i + 1];
        }
    }
    return NULL;
}
