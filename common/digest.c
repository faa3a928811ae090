/*  digest.c - SHA-256 and MD5 through nettle (see digest.h). */
#include "digest.h"

#include <nettle/md5.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>

#include <stdio.h>

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

void
digest_uuid5_bytes(const uint8_t ns[16], const void *name, size_t len, uint8_t out[16])
{
    struct sha1_ctx ctx;
    uint8_t raw[SHA1_DIGEST_SIZE];
    sha1_init(&ctx);
    sha1_update(&ctx, 16, ns);
    sha1_update(&ctx, len, name);
    sha1_digest(&ctx, sizeof raw, raw);
    for (int i = 0; i < 16; i++) {
        out[i] = raw[i];
    }
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x50); /* version 5 */
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

void
digest_uuid5(const uint8_t ns[16], const void *name, size_t len, char out[37])
{
    uint8_t b[16];
    digest_uuid5_bytes(ns, name, len, b);
    /* 8-4-4-4-12 lowercase hex; by hand, as this runs once per identity and campaign formed
       and snprintf was a sixth of a batch run's time. */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[o++] = '-';
        }
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}
