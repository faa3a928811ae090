/*  digest.c - SHA-256 and MD5 through nettle (see digest.h). */
#include "digest.h"

#include <nettle/md5.h>
#include <nettle/sha2.h>

static void
s_hex(const uint8_t *raw, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[raw[i] >> 4];
        out[2 * i + 1] = digits[raw[i] & 15];
    }
    out[2 * n] = '\0';
}

void
digest_sha256(const void *data, size_t len, uint8_t out[32])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

void
digest_sha256_hex(const void *data, size_t len, char out[DIGEST_SHA256_HEX])
{
    uint8_t raw[32];
    digest_sha256(data, len, raw);
    s_hex(raw, sizeof raw, out);
}

void
digest_md5(const void *data, size_t len, uint8_t out[16])
{
    struct md5_ctx ctx;
    md5_init(&ctx);
    md5_update(&ctx, len, data);
    md5_digest(&ctx, MD5_DIGEST_SIZE, out);
}

void
digest_md5_hex(const void *data, size_t len, char out[DIGEST_MD5_HEX])
{
    uint8_t raw[16];
    digest_md5(data, len, raw);
    s_hex(raw, sizeof raw, out);
}
