/*  digest.h - cryptographic digests used for content ids (owns nettle).

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
void
digest_sha256_hex(const void *data, size_t len, char out[DIGEST_SHA256_HEX]);
/*  Raw SHA-256 (32 bytes) of len bytes at data. */
void
digest_sha256(const void *data, size_t len, uint8_t out[32]);
/*  MD5 of len bytes at data, as 32 lowercase hex digits into out. */
void
digest_md5_hex(const void *data, size_t len, char out[DIGEST_MD5_HEX]);
/*  Raw MD5 (16 bytes) of len bytes at data. */
void
digest_md5(const void *data, size_t len, uint8_t out[16]);

#endif
