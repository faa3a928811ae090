/*  digest.h - cryptographic digests used for content ids (owns nettle).

    Name-based UUIDs (SHA-1, RFC 4122 version 5) give identities and campaigns ids derived
    from content, never from a clock or a random source (SPEC §5).

    SHA-256 turns DSL payload seeds into payload hashes (R§8.2); MD5 is what HASSH and the
    keystroke SimHash token hash are defined over (R§7). Outputs are lowercase hex.
*/
#ifndef CADRE_DIGEST_H
#define CADRE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_SHA256_HEX 65 /* 64 hex digits + NUL */
#define DIGEST_MD5_HEX 33    /* 32 hex digits + NUL */

/*  SHA-256 of len bytes at data, as 64 lowercase hex digits into out. */
void digest_sha256_hex(const void *data, size_t len, char out[DIGEST_SHA256_HEX]);
/*  Raw SHA-256 (32 bytes) of len bytes at data. */
void digest_sha256(const void *data, size_t len, uint8_t out[32]);
/*  MD5 of len bytes at data, as 32 lowercase hex digits into out. */
void digest_md5_hex(const void *data, size_t len, char out[DIGEST_MD5_HEX]);
/*  Raw MD5 (16 bytes) of len bytes at data. */
void digest_md5(const void *data, size_t len, uint8_t out[16]);

/*  A name-based (version 5, SHA-1) UUID of name within namespace ns (RFC 4122 §4.3), as
    36 lowercase characters into out. The same (ns, name) always gives the same id. */
void digest_uuid5(const uint8_t ns[16], const void *name, size_t len, char out[37]);
/*  The 16 bytes of a name-based UUID, for use as a namespace. */
void digest_uuid5_bytes(const uint8_t ns[16], const void *name, size_t len, uint8_t out[16]);

#endif
