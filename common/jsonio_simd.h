/*  jsonio_simd.h - the fast path of the JSON observation decoder (part of the jsonio module).

    jsonio_simd.cpp is the one C++ translation unit of cadre and the only one that includes
    simdjson: it decodes an observation with simdjson's On-Demand API (SIMD structural
    indexing, then one forward walk) into an obs_t, without building a tree. It vouches only
    for records it can prove the jansson decoder (jsonio_obs_decode_jansson) would accept
    with an obs_equal() result. Anything else - a syntax error, a schema error, a number
    jansson reads differently, a duplicate key, deep nesting - it declines, and
    jsonio_obs_decode() then runs the jansson decoder, which writes the error message,
    field and column exactly as before. So the fast path changes speed, never results;
    tests/unit/test_json_diff.c and the json_diff fuzz target (fuzz/fuzz_json_diff.c) check
    that on every input they see.

    Callable from C; no simdjson type appears here.
*/
#ifndef CADRE_JSONIO_SIMD_H
#define CADRE_JSONIO_SIMD_H

#ifdef __cplusplus
extern "C" {
#endif

#include "obs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  jsonio_simd_obs_decode()'s answer when it does not vouch for the text. */
#define JSONIO_SIMD_DECLINED 1

/*  Decodes the JSON text buf (len bytes, need not be NUL-terminated) as one observation,
    record being the record number put in err. When padded is true, JSONIO_PADDING bytes
    after the text are readable (jsonio.h) and simdjson parses the text where it lies;
    otherwise it is first copied into a padded buffer of the calling thread. Returns 0 and
    stores a new record in *out (the caller owns it; err is left as
    jsonio_obs_decode_jansson leaves it on success), or JSONIO_SIMD_DECLINED: the text must
    be decoded by jsonio_obs_decode_jansson, which decides (*out untouched, err
    unspecified). Never returns an error of its own. Thread-safe: each thread keeps its own
    parser; memory held after a record above 1 MiB is released. */
int jsonio_simd_obs_decode(const char *buf, size_t len, bool padded, uint64_t record, obs_t **out,
                           obs_error_t *err);

/*  True when cadre was built with the fast path (CMake option CADRE_SIMDJSON, on by
    default); without it jsonio_simd_obs_decode() always declines. */
bool jsonio_simd_available(void);

#ifdef __cplusplus
}
#endif

#endif
