/*  ydoc.h - a parsed YAML document as a small, generic node tree (owns libyaml).

    ydoc_parse() reads the first document of a YAML stream into a tree of scalars, sequences
    and mappings. Scalars are typed the way PyYAML's safe_load types them (YAML 1.1 implicit
    resolution): a plain scalar may be null, a boolean, an integer, a float or a timestamp,
    everything else (and every quoted or block scalar) is a string. The original text of
    every scalar is kept, so callers that want "the scalar as written" can have it.

    Decisions (also in docs/dsl.md):
    - Only the first document of a stream is read; the rest of the stream is not parsed.
      A stream without a document is an error.
    - Duplicate mapping keys are an error (PyYAML silently keeps the later one). Keys are
      compared by type and value, so `1` and `0x1` clash while `1` and "1" do not.
    - Mapping keys must be scalars; merge keys (`<<`) and the value key (`=`) are rejected.
    - Anchors and aliases are supported: an alias is the anchored node itself (shared, not
      copied). An alias to a node that is still open (a recursive structure) is an error,
      as is an alias that would expand the document by more than YDOC_MAX_ALIAS_NODES
      nodes ("billion laughs").
    - Explicit tags: `!!str`, `!!null`, `!!bool`, `!!int`, `!!float`, `!!timestamp` on
      scalars (the text must fit the tag), `!!seq` and `!!map` on collections, and the
      non-specific `!`. Any other tag is an error.
    - Nesting deeper than YDOC_MAX_DEPTH collections is an error.

    Every error is written as "name:line:column: message" (1-based). The tree is owned by
    its ydoc_t: every node pointer and every text pointer stays valid until ydoc_destroy().
*/
#ifndef CADRE_YDOC_H
#define CADRE_YDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define YDOC_MAX_DEPTH 256            /* deepest allowed nesting of collections */
#define YDOC_MAX_ALIAS_NODES 1000000u /* most nodes aliases may add to a document */

/*  A parsed document (opaque). */
typedef struct ydoc_t ydoc_t;
/*  One node of a parsed document (opaque, owned by its document). */
typedef struct ydoc_node_t ydoc_node_t;

/*  A node's resolved type. */
typedef enum {
    YDOC_NULL = 0,  /* null: `~`, `null`, `Null`, `NULL` or an empty plain scalar */
    YDOC_BOOL,      /* boolean: yes/no/true/false/on/off (lower, Title or UPPER case) */
    YDOC_INT,       /* integer: decimal, 0x hex, 0 octal, 0b binary, base 60 (1:30) */
    YDOC_FLOAT,     /* float: 1.5, .5, 1.0e+3, 1:30.5, .inf, -.inf, .nan */
    YDOC_TIMESTAMP, /* timestamp: 2026-01-01 or 2026-01-01 10:00:00[.f][Z|+hh:mm] */
    YDOC_STR,       /* string: any other scalar, and every non-plain scalar */
    YDOC_SEQ,       /* sequence */
    YDOC_MAP,       /* mapping */
} ydoc_type_t;

/*  How a scalar was written. */
typedef enum {
    YDOC_STYLE_NONE = 0, /* not a scalar */
    YDOC_STYLE_PLAIN,    /* unquoted */
    YDOC_STYLE_SINGLE,   /* 'single-quoted' */
    YDOC_STYLE_DOUBLE,   /* "double-quoted" */
    YDOC_STYLE_LITERAL,  /* | literal block */
    YDOC_STYLE_FOLDED,   /* > folded block */
} ydoc_style_t;

/*  Where a node starts, 1-based. A plain value. */
typedef struct {
    int line;   /* 1-based line */
    int column; /* 1-based column (in characters) */
} ydoc_mark_t;

/*  Parses the first document of len bytes at buf (UTF-8, or UTF-16 with a BOM). name labels
    error messages (NULL = "<input>"). Returns a new document the caller destroys, or NULL
    with "name:line:column: message" written into err (errlen bytes, always terminated when
    errlen > 0; err may be NULL when errlen is 0). */
ydoc_t *ydoc_parse(const char *buf, size_t len, const char *name, char *err, size_t errlen);
/*  Reads the whole file at path (a configuration or spec) into a new buffer the caller
    frees, refusing one larger than max bytes: a YAML file is read whole before it is parsed,
    so a configuration path pointing at a huge file (or a device) would otherwise exhaust
    memory. Returns 0 with *buf_p (NUL-terminated, *len_p bytes before it), or -errno or
    CADRE_ELIMIT with "path: reason" in err. */
int ydoc_read_file(const char *path, size_t max, char **buf_p, size_t *len_p, char *err,
                   size_t errlen);
/*  Frees the document and all of its nodes, and NULLs *self_p. NULL is a no-op. */
void ydoc_destroy(ydoc_t **self_p);
/*  The root node (never NULL for a parsed document); borrowed until ydoc_destroy(). */
const ydoc_node_t *ydoc_root(const ydoc_t *self);
/*  The name given to ydoc_parse(); borrowed until ydoc_destroy(). */
const char *ydoc_name(const ydoc_t *self);

/*  The node's resolved type. */
ydoc_type_t ydoc_type(const ydoc_node_t *node);
/*  A static, lowercase name of a type: "null", "boolean", "integer", "float",
    "timestamp", "string", "sequence" or "mapping". */
const char *ydoc_type_name(ydoc_type_t type);
/*  True for null, boolean, integer, float, timestamp and string nodes. */
bool ydoc_is_scalar(const ydoc_node_t *node);
/*  How a scalar was written (YDOC_STYLE_NONE for collections). */
ydoc_style_t ydoc_style(const ydoc_node_t *node);
/*  Where the node starts. */
ydoc_mark_t ydoc_mark(const ydoc_node_t *node);
/*  A scalar's text exactly as the parser delivered it (quotes and escapes resolved),
    NUL-terminated; *len (when len is not NULL) gets its length, which is smaller than
    strlen() only if the text holds NUL characters. NULL for collections. Borrowed. */
const char *ydoc_text(const ydoc_node_t *node, size_t *len);
/*  A boolean's value; false for every other node. */
bool ydoc_bool(const ydoc_node_t *node);
/*  An integer's value into *out. Returns 0, -EINVAL when the node is not an integer
    (booleans are not integers), or -ERANGE when the value does not fit int64_t. */
int ydoc_int(const ydoc_node_t *node, int64_t *out);
/*  Same for an unsigned value: -ERANGE when it is negative or above UINT64_MAX. */
int ydoc_uint(const ydoc_node_t *node, uint64_t *out);
/*  A float's value, or an integer's converted to the nearest double, into *out. Returns 0,
    -EINVAL for any other node, or -ERANGE for an integer beyond UINT64_MAX in magnitude. */
int ydoc_float(const ydoc_node_t *node, double *out);

/*  Number of items of a sequence or of key/value pairs of a mapping; 0 for scalars. */
size_t ydoc_len(const ydoc_node_t *node);
/*  The i-th item of a sequence, or NULL (not a sequence, or i out of range). */
const ydoc_node_t *ydoc_seq_at(const ydoc_node_t *node, size_t i);
/*  The i-th key of a mapping in document order, or NULL. Keys are always scalars. */
const ydoc_node_t *ydoc_map_key(const ydoc_node_t *node, size_t i);
/*  The i-th value of a mapping in document order, or NULL. */
const ydoc_node_t *ydoc_map_value(const ydoc_node_t *node, size_t i);
/*  The value stored under the string key `key` (only string-typed keys match: the key
    `true` is a boolean, not "true"), or NULL when node is not a mapping or has no such key.
    A key written with an empty value (`key:`) yields a YDOC_NULL node, not NULL. */
const ydoc_node_t *ydoc_map_get(const ydoc_node_t *node, const char *key);

#endif
