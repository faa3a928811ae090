/*  fuzz_msg_reply.c - the REPLY body (wmsg_reply_decode: a text, {error}, an assignment or a
    page), as `cadre query` decodes the merger's answers, and the same bytes as a bare text
    body (wmsg_text_decode). */
#include "fuzz_msg.h"

static void
s_same_assignment(const wmsg_assignment_t *a, const wmsg_assignment_t *b)
{
    FUZZ_CHECK(fuzz_streq(a->id, b->id) && fuzz_streq(a->identity, b->identity) &&
                   fuzz_streq(a->campaign, b->campaign),
               "round trip changed an assignment");
}

static void
s_same(const wmsg_reply_t *a, const wmsg_reply_t *b)
{
    FUZZ_CHECK(a->kind == b->kind, "round trip changed the kind %d -> %d", (int)a->kind,
               (int)b->kind);
    switch (a->kind) {
    case WMSG_REPLY_TEXT:
    case WMSG_REPLY_ERROR:
        FUZZ_CHECK(fuzz_streq(a->text, b->text), "round trip changed the text");
        break;
    case WMSG_REPLY_ASSIGNMENT:
        s_same_assignment(&a->assignment, &b->assignment);
        break;
    case WMSG_REPLY_PAGE:
        FUZZ_CHECK(a->n == b->n && a->has_next == b->has_next && a->next == b->next &&
                       (a->assignments == NULL) == (b->assignments == NULL),
                   "round trip changed the page");
        for (size_t i = 0; i < a->n; i++) {
            if (a->assignments) {
                s_same_assignment(&a->assignments[i], &b->assignments[i]);
            } else {
                FUZZ_CHECK(fuzz_streq(a->texts[i], b->texts[i]), "round trip changed item %zu", i);
            }
        }
        break;
    }
}

static void
s_more(const uint8_t *data, size_t size, const wmsg_reply_t *body)
{
    (void)body;
    char *text = NULL;
    char err[256] = "";
    int rc = wmsg_text_decode(data, size, &text, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == CADRE_EPROTO, "wmsg_text_decode returned %d", rc);
    if (rc != 0) {
        return;
    }
    wire_buf_t buf;
    wire_buf_init(&buf);
    FUZZ_CHECK(wmsg_text_encode(text, &buf) == 0, "wmsg_text_encode");
    char *again = NULL;
    FUZZ_CHECK(wmsg_text_decode(buf.data, buf.len, &again, err, sizeof err) == 0,
               "re-decode of a text: %s", err);
    FUZZ_CHECK(strcmp(text, again) == 0, "text round trip changed the text");
    free(again);
    free(text);
    wire_buf_free(&buf);
}

FUZZ_MSG_TARGET(wmsg_reply_t, wmsg_reply, s_same, s_more)
