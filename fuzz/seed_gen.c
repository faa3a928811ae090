/*  seed_gen.c - writes the binary seed corpora of fuzz/corpus/ (docs/fuzzing.md).

    Usage: fuzz_seed_gen CORPUS_DIR

    The MessagePack and protocol seeds are made with cadre's own encoders, so they follow
    the current wire format: every observation seed of CORPUS_DIR/obs_json/ that decodes is
    written again as MessagePack (wire_decode), as a stream (obs_stream), inside a RECORDS
    body and a SUBMIT message; each protocol body and each event kind gets a few typical
    values, plus a few hand-made malformed ones. Files are named after their content, so
    running it again changes nothing unless the encoders changed. fuzz/seeds.sh runs it
    after copying the text seeds. Not part of any test.
*/
#include "err.h"
#include "jsonio.h"
#include "obs.h"
#include "proto.h"
#include "records.h"
#include "wire.h"
#include "wire_msg.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *s_root; /* CORPUS_DIR */

/*  Writes one seed file CORPUS_DIR/target/name. */
static void
s_write(const char *target, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s_root, target);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "seed_gen: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s", s_root, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "seed_gen: %s: cannot write\n", path);
        exit(1);
    }
}

static void
s_write_buf(const char *target, const char *name, const wire_buf_t *buf)
{
    s_write(target, name, buf->data, buf->len);
}

/*  Appends one frame in the fuzz_frames input encoding. */
static void
s_frame(wire_buf_t *in, const void *data, size_t len)
{
    if (len < 255) {
        unsigned char n = (unsigned char)len;
        wire_buf_append(in, &n, 1);
    } else {
        unsigned char n[3] = {255, (unsigned char)(len >> 8), (unsigned char)len};
        wire_buf_append(in, n, 3);
    }
    wire_buf_append(in, data, len);
}

/*  Writes a frames seed: [identity,] version, command, then the given parts (NULL data: an
    8-byte integer part holding len). */
static void
s_message(const char *name, bool identity, proto_cmd_t cmd, size_t nparts, const void **parts,
          const size_t *lens)
{
    wire_buf_t in;
    wire_buf_init(&in);
    unsigned char flags = identity ? 1 : 0;
    wire_buf_append(&in, &flags, 1);
    if (identity) {
        s_frame(&in, "\0peer1", 6);
    }
    s_frame(&in, PROTO_VERSION, PROTO_VERSION_LEN);
    unsigned char c = (unsigned char)cmd;
    s_frame(&in, &c, 1);
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i]) {
            s_frame(&in, parts[i], lens[i]);
        } else {
            unsigned char be[8];
            uint64_t v = lens[i];
            for (int k = 7; k >= 0; k--) {
                be[k] = (unsigned char)(v & 0xFF);
                v >>= 8;
            }
            s_frame(&in, be, 8);
        }
    }
    s_write_buf("frames", name, &in);
    wire_buf_free(&in);
}

/*  Reads every observation seed that decodes; returns them (*n), the caller frees. */
static obs_t **
s_load_obs(size_t *n)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/obs_json", s_root);
    struct dirent **names = NULL;
    int count = scandir(dir, &names, NULL, alphasort);
    obs_t **v = calloc(count > 0 ? (size_t)count : 1, sizeof *v);
    *n = 0;
    for (int i = 0; i < count; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        FILE *f = names[i]->d_name[0] != '.' ? fopen(path, "rb") : NULL;
        if (f) {
            char text[65536];
            size_t len = fread(text, 1, sizeof text, f);
            fclose(f);
            obs_error_t err;
            obs_t *obs = NULL;
            if (jsonio_obs_decode(text, len, 1, &obs, &err) == 0) {
                v[(*n)++] = obs;
            }
        }
        free(names[i]);
    }
    free(names);
    return v;
}

static void
s_records(void)
{
    size_t n = 0;
    obs_t **obs = s_load_obs(&n);
    wire_buf_t stream;
    wire_buf_init(&stream);
    wmsg_record_t *entries = calloc(n + 1, sizeof *entries);
    wire_buf_t *bufs = calloc(n + 1, sizeof *bufs);
    for (size_t i = 0; i < n; i++) {
        obs_error_t err;
        wire_buf_init(&bufs[i]);
        wire_obs_encode(obs[i], &bufs[i], &err);
        char name[64];
        snprintf(name, sizeof name, "obs-%02zu.msgpack", i);
        s_write_buf("wire_decode", name, &bufs[i]);
        wire_buf_append(&stream, bufs[i].data, bufs[i].len);
        entries[i] = (wmsg_record_t){.seq = i + 1, .bytes = bufs[i].data, .len = bufs[i].len};
        if (i < 3) {
            const void *parts[2] = {NULL, bufs[i].data};
            size_t lens[2] = {i + 1, bufs[i].len};
            snprintf(name, sizeof name, "submit-%zu", i);
            s_message(name, true, PROTO_SUBMIT, 2, parts, lens);
        }
    }
    s_write_buf("obs_stream", "stream.msgpack", &stream);
    if (stream.len > 3) {
        s_write("obs_stream", "truncated.msgpack", stream.data, stream.len - 3);
    }
    assign_t a = {.id = "att-1", .identity = "i-1", .campaign = NULL};
    wire_buf_t abuf;
    wire_buf_init(&abuf);
    obs_error_t err;
    wire_assign_encode(&a, &abuf, &err);
    s_write_buf("wire_decode", "assign.msgpack", &abuf);
    wire_buf_free(&abuf);

    wire_buf_t body;
    wire_buf_init(&body);
    wmsg_records_t recs = {.entries = entries, .n = n < 4 ? n : 4};
    wmsg_records_encode(&recs, &body);
    s_write_buf("msg_records", "records", &body);
    const void *parts[1] = {body.data};
    size_t lens[1] = {body.len};
    s_message("records", true, PROTO_RECORDS, 1, parts, lens);
    wire_buf_reset(&body);
    recs.n = 0;
    wmsg_records_encode(&recs, &body);
    s_write_buf("msg_records", "empty", &body);
    wire_buf_free(&body);

    for (size_t i = 0; i < n; i++) {
        wire_buf_free(&bufs[i]);
        obs_destroy(&obs[i]);
    }
    free(bufs);
    free(entries);
    free(obs);
    wire_buf_free(&stream);
}

static void
s_bodies(void)
{
    wire_buf_t b;
    wire_buf_init(&b);
    const void *parts[2];
    size_t lens[2];

    wmsg_ready_t ready = {.role = "shard", .id = 2, .shards = 4, .applied = 120, .barrier = 100};
    wmsg_ready_encode(&ready, &b);
    s_write_buf("msg_ready", "shard", &b);
    parts[0] = b.data;
    lens[0] = b.len;
    s_message("ready", true, PROTO_READY, 1, parts, lens);
    wire_buf_reset(&b);
    ready = (wmsg_ready_t){.role = "merger"};
    wmsg_ready_encode(&ready, &b);
    s_write_buf("msg_ready", "merger", &b);
    wire_buf_reset(&b);

    wmsg_error_t error = {.code = "record", .field = "sessions[0].phase", .message = "unknown"};
    wmsg_error_encode(&error, &b);
    s_write_buf("msg_error", "record", &b);
    parts[0] = NULL;
    lens[0] = 7;
    parts[1] = b.data;
    lens[1] = b.len;
    s_message("error", false, PROTO_ERROR, 2, parts, lens);
    wire_buf_reset(&b);

    wmsg_key_t keys[2] = {{.family = 0, .value = "771,4865"}, {.family = 3, .value = "ab12"}};
    wmsg_keys_entry_t entries[2] = {
        {.seq = 1, .id = "att-1", .keys = keys, .n_keys = 2, .triple = {"771,4865", NULL, "t13"}},
        {.seq = 2, .id = "att-2", .is_delete = true},
    };
    wmsg_keys_t kbody = {.entries = entries, .n = 2};
    wmsg_keys_encode(&kbody, &b);
    s_write_buf("msg_keys", "two", &b);
    parts[0] = b.data;
    lens[0] = b.len;
    s_message("keys", true, PROTO_KEYS, 1, parts, lens);
    wire_buf_reset(&b);

    wmsg_flip_t flips[2] = {{.family = 2, .value = "hassh-1", .generic = true},
                            {.family = 4, .value = "203.0.113.9:80", .generic = false}};
    wmsg_flips_t fbody = {.flips = flips, .n = 2};
    wmsg_flips_encode(&fbody, &b);
    s_write_buf("msg_flips", "two", &b);
    parts[0] = NULL;
    lens[0] = 40;
    parts[1] = b.data;
    lens[1] = b.len;
    s_message("generic", true, PROTO_GENERIC, 2, parts, lens);
    s_message("commit", false, PROTO_COMMIT, 2, parts, lens);
    wire_buf_reset(&b);

    char *edges[4] = {"att-1", "att-2", "att-2", "att-3"};
    wmsg_block_t blocks[2] = {
        {.family = 0, .value = "771,4865", .holders = 3, .edges = edges, .n_edges = 2},
        {.family = 2, .value = "hassh-1", .generic = true, .holders = 40},
    };
    wmsg_forests_t forests = {.blocks = blocks, .n = 2};
    wmsg_forests_encode(&forests, &b);
    s_write_buf("msg_forests", "two", &b);
    parts[0] = NULL;
    lens[0] = 40;
    parts[1] = b.data;
    lens[1] = b.len;
    s_message("forests", false, PROTO_FORESTS, 2, parts, lens);
    wire_buf_reset(&b);

    wmsg_query_t queries[] = {
        {.what = "health"},
        {.what = "assignments", .offset = 1000, .limit = 1000},
        {.what = "identity", .id = "0b3c"},
        {.what = "explain", .id = "att-1", .other = "att-2"},
    };
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        wmsg_query_encode(&queries[i], &b);
        s_write_buf("msg_query", queries[i].what, &b);
        if (i == 2) {
            parts[0] = NULL;
            lens[0] = 9;
            parts[1] = b.data;
            lens[1] = b.len;
            s_message("query", true, PROTO_QUERY, 2, parts, lens);
        }
        wire_buf_reset(&b);
    }

    wmsg_assignment_t as[2] = {{.id = "att-1", .identity = "i-1", .campaign = "c-1"},
                               {.id = "att-2"}};
    char *texts[2] = {"{\"id\": \"i-1\"}", "{\"id\": \"i-2\"}"};
    wmsg_reply_t replies[] = {
        {.kind = WMSG_REPLY_TEXT, .text = "{\"status\": \"ok\"}"},
        {.kind = WMSG_REPLY_ERROR, .text = "unknown question"},
        {.kind = WMSG_REPLY_ASSIGNMENT, .assignment = as[0]},
        {.kind = WMSG_REPLY_PAGE, .assignments = as, .n = 2, .has_next = true, .next = 2},
        {.kind = WMSG_REPLY_PAGE, .texts = texts, .n = 2},
    };
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        wmsg_reply_encode(&replies[i], &b);
        char name[32];
        snprintf(name, sizeof name, "reply-%zu", i);
        s_write_buf("msg_reply", name, &b);
        if (i == 3) {
            parts[0] = NULL;
            lens[0] = 9;
            parts[1] = b.data;
            lens[1] = b.len;
            s_message("reply", false, PROTO_REPLY, 2, parts, lens);
        }
        wire_buf_reset(&b);
    }
    wire_buf_free(&b);

    /* The commands with integer parts only, and some envelope errors. */
    static const struct {
        const char *name;
        proto_cmd_t cmd;
        size_t nparts;
    } plain[] = {
        {"heartbeat", PROTO_HEARTBEAT, 0},
        {"disconnect", PROTO_DISCONNECT, 0},
        {"ack", PROTO_ACK, 2},
        {"flush", PROTO_FLUSH, 1},
        {"flushed", PROTO_FLUSHED, 2},
        {"barrier", PROTO_BARRIER, 1},
        {"done", PROTO_DONE, 1},
        {"reconciled", PROTO_RECONCILED, 1},
        {"applied", PROTO_APPLIED, 1},
        {"release", PROTO_RELEASE, 1},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        parts[0] = parts[1] = NULL;
        lens[0] = 7;
        lens[1] = 1u << 20;
        s_message(plain[i].name, i % 2 == 0, plain[i].cmd, plain[i].nparts, parts, lens);
    }
    /* Wrong version, unknown command, an integer part of 7 bytes. */
    static const unsigned char bad_version[] = {0, 7, 'C', 'A', 'D', 'R', 'E', '0', '2', 1, 0x02};
    s_write("frames", "bad-version", bad_version, sizeof bad_version);
    static const unsigned char bad_cmd[] = {0, 7, 'C', 'A', 'D', 'R', 'E', '0', '1', 1, 0x7F};
    s_write("frames", "bad-command", bad_cmd, sizeof bad_cmd);
    static const unsigned char short_u64[] = {0,    7, 'C', 'A', 'D', 'R', 'E', '0', '1', 1,
                                              0x22, 7, 0,   0,   0,   0,   0,   0,   1};
    s_write("frames", "short-seq", short_u64, sizeof short_u64);
}

static void
s_events(void)
{
    const char *members[3] = {"obs-1", "obs-2", "obs-3"};
    wire_buf_t b;
    wire_buf_init(&b);
    for (int k = 0; k < EV_KIND_COUNT; k++) {
        const char *sk = NULL, *ok = NULL, *pk = NULL, *mk = NULL;
        ev_keys((ev_kind_t)k, &sk, &ok, &pk, &mk);
        ev_t ev = {
            .kind = (ev_kind_t)k,
            .id = "5f0c7a52-5b1e-5c4e-9d0a-3c1f2f0b9e11",
            .ts = 1767225600.25,
            .subject = "a1b2c3",
            .object = ok ? "d4e5f6" : NULL,
            .prior = pk && k % 2 ? "0a0b0c" : NULL,
            .members = members,
            .n_members = mk ? 3 : 0,
        };
        wire_event_encode(&ev, &b);
        char name[64];
        snprintf(name, sizeof name, "%s", ev_topic((ev_kind_t)k));
        s_write_buf("event", name, &b);
        wire_buf_reset(&b);
    }
    wire_buf_free(&b);
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_seed_gen CORPUS_DIR\n");
        return 2;
    }
    s_root = argv[1];
    s_records();
    s_bodies();
    s_events();
    return 0;
}
