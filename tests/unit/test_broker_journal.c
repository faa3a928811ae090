/*  test_broker_journal.c - the broker's durable input log (broker_journal.h).

    Each test gets its own mkdtemp directory (removed by the teardown) and opens the journal
    in a subdirectory that does not exist yet. The crash tests fork a child that writes the
    journal and dies without closing it; the parent only opens the journal after the child
    is gone, since an LMDB environment must not cross fork().
*/
#include "broker_journal.h"

#include "err.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/*  Per-test state: the temporary directory and the journal directory inside it. */
typedef struct {
    char *tmp; /* the mkdtemp directory */
    char *dir; /* tmp/journal, created by broker_journal_open() */
} s_fixture_t;

/*  Removes path and, if it is a directory, everything below it. */
static void
s_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
                    continue;
                }
                char *child = xasprintf("%s/%s", path, e->d_name);
                s_rmtree(child);
                free(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int
s_setup(void **state)
{
    const char *base = getenv("TMPDIR");
    s_fixture_t *fx = xcalloc(1, sizeof *fx);
    fx->tmp = xasprintf("%s/cadre-journal-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(fx->tmp)) {
        fprintf(stderr, "mkdtemp %s: %s\n", fx->tmp, strerror(errno));
        free(fx->tmp);
        free(fx);
        return -1;
    }
    fx->dir = xasprintf("%s/journal", fx->tmp);
    *state = fx;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    s_rmtree(fx->tmp);
    free(fx->tmp);
    free(fx->dir);
    free(fx);
    return 0;
}

/*  The bytes of the test record for seq: "rec-<seq>" followed by seq % 7 filler bytes
    (including NULs), so lengths vary and contents identify their seq. */
static size_t
s_record(uint64_t seq, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "rec-%llu", (unsigned long long)seq);
    size_t len = (size_t)n;
    for (uint64_t i = 0; i < seq % 7 && len < cap; i++) {
        buf[len++] = (char)(i * 31);
    }
    return len;
}

/*  Appends count records (s_record contents) in one committed batch. */
static void
s_append_batch(broker_journal_t *j, int count)
{
    assert_int_equal(broker_journal_begin(j), 0);
    for (int i = 0; i < count; i++) {
        char buf[64];
        uint64_t seq;
        size_t len = s_record(broker_journal_last(j) + (uint64_t)i + 1, buf, sizeof buf);
        assert_int_equal(broker_journal_append(j, BROKER_INPUT_RECORD, buf, len, &seq), 0);
        assert_int_equal(seq, broker_journal_last(j) + (uint64_t)i + 1);
    }
    assert_int_equal(broker_journal_commit(j), 0);
}

/*  Replays from seq from and checks that the journal holds exactly the records from..last
    with s_record contents. */
static void
s_check_dense(broker_journal_t *j, uint64_t from)
{
    broker_journal_cursor_t *cur = broker_journal_cursor_new(j, from);
    assert_non_null(cur);
    uint64_t want = from ? from : 1;
    int kind;
    uint64_t seq;
    const void *bytes;
    size_t len;
    int rc;
    while ((rc = broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len)) == 1) {
        char buf[64];
        size_t n = s_record(want, buf, sizeof buf);
        assert_int_equal(seq, want);
        assert_int_equal(kind, BROKER_INPUT_RECORD);
        assert_int_equal(len, n);
        assert_memory_equal(bytes, buf, n);
        want++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(want - 1, broker_journal_last(j));
    broker_journal_cursor_destroy(&cur);
    assert_null(cur);
}

/*  Counts the inputs a cursor from seq from yields. */
static uint64_t
s_count(broker_journal_t *j, uint64_t from)
{
    broker_journal_cursor_t *cur = broker_journal_cursor_new(j, from);
    assert_non_null(cur);
    uint64_t n = 0;
    int kind;
    uint64_t seq;
    const void *bytes;
    size_t len;
    while (broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len) == 1) {
        n++;
    }
    broker_journal_cursor_destroy(&cur);
    return n;
}

static void
test_empty(void **state)
{
    s_fixture_t *fx = *state;
    broker_journal_t *j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    assert_int_equal(broker_journal_last(j), 0);
    assert_int_equal(broker_journal_compacted(j), 0);
    assert_false(broker_journal_in_batch(j));
    broker_journal_cursor_t *cur = broker_journal_cursor_new(j, 0);
    assert_non_null(cur);
    int kind;
    uint64_t seq;
    const void *bytes;
    size_t len;
    assert_int_equal(broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len), 0);
    assert_int_equal(broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len), 0);
    broker_journal_cursor_destroy(&cur);
    broker_journal_cursor_destroy(&cur); /* NULL is a no-op */
    /* committing an empty batch changes nothing */
    assert_int_equal(broker_journal_begin(j), 0);
    assert_true(broker_journal_in_batch(j));
    assert_int_equal(broker_journal_commit(j), 0);
    assert_int_equal(broker_journal_last(j), 0);
    broker_journal_destroy(&j);
    assert_null(j);
    broker_journal_destroy(&j);
    /* reopening an empty journal */
    j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    assert_int_equal(broker_journal_last(j), 0);
    assert_int_equal(s_count(j, 0), 0);
    broker_journal_destroy(&j);
}

static void
test_open_failures(void **state)
{
    s_fixture_t *fx = *state;
    /* the parent of the directory does not exist */
    char *deep = xasprintf("%s/no/such", fx->tmp);
    assert_null(broker_journal_open(deep, 0));
    free(deep);
    /* a file where the directory should be */
    char *file = xasprintf("%s/file", fx->tmp);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_null(broker_journal_open(file, 0));
    free(file);
}

static void
test_append_commit_replay(void **state)
{
    s_fixture_t *fx = *state;
    broker_journal_t *j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    static const char bin[] = {'\x82', '\0', '\xff', 'x', '\0'};
    char big[20000];
    for (size_t i = 0; i < sizeof big; i++) {
        big[i] = (char)(i * 7 + 3);
    }
    assert_int_equal(broker_journal_begin(j), 0);
    uint64_t seq;
    assert_int_equal(broker_journal_append(j, BROKER_INPUT_RECORD, "alpha", 5, &seq), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(broker_journal_append(j, BROKER_INPUT_FLUSH, NULL, 0, &seq), 0);
    assert_int_equal(seq, 2);
    assert_int_equal(broker_journal_append(j, BROKER_INPUT_RECORD, bin, sizeof bin, &seq), 0);
    assert_int_equal(seq, 3);
    /* bad arguments change nothing and do not fail the batch */
    assert_int_equal(broker_journal_append(j, 7, "x", 1, &seq), -EINVAL);
    assert_int_equal(broker_journal_append(j, BROKER_INPUT_FLUSH, "x", 1, &seq), -EINVAL);
    assert_int_equal(broker_journal_append(j, BROKER_INPUT_RECORD, NULL, 3, &seq), -EINVAL);
    assert_int_equal(broker_journal_append(j, BROKER_INPUT_RECORD, big, sizeof big, &seq), 0);
    assert_int_equal(seq, 4);
    assert_int_equal(broker_journal_append(j, BROKER_INPUT_RECORD, NULL, 0, &seq), 0);
    assert_int_equal(seq, 5);
    /* uncommitted inputs are invisible to the last seq and to cursors */
    assert_int_equal(broker_journal_last(j), 0);
    assert_int_equal(s_count(j, 0), 0);
    assert_int_equal(broker_journal_commit(j), 0);
    assert_int_equal(broker_journal_last(j), 5);

    broker_journal_cursor_t *cur = broker_journal_cursor_new(j, 1);
    assert_non_null(cur);
    int kind;
    const void *bytes;
    size_t len;
    assert_int_equal(broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len), 1);
    assert_int_equal(kind, BROKER_INPUT_RECORD);
    assert_int_equal(seq, 1);
    assert_int_equal(len, 5);
    assert_memory_equal(bytes, "alpha", 5);
    assert_int_equal(broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len), 1);
    assert_int_equal(kind, BROKER_INPUT_FLUSH);
    assert_int_equal(seq, 2);
    assert_int_equal(len, 0);
    assert_null(bytes);
    assert_int_equal(broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len), 1);
    assert_int_equal(kind, BROKER_INPUT_RECORD);
    assert_int_equal(seq, 3);
    assert_int_equal(len, sizeof bin);
    assert_memory_equal(bytes, bin, sizeof bin);
    assert_int_equal(broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len), 1);
    assert_int_equal(kind, BROKER_INPUT_RECORD);
    assert_int_equal(seq, 4);
    assert_int_equal(len, sizeof big);
    assert_memory_equal(bytes, big, sizeof big);
    assert_int_equal(broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len), 1);
    assert_int_equal(kind, BROKER_INPUT_RECORD);
    assert_int_equal(seq, 5);
    assert_int_equal(len, 0);
    assert_int_equal(broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len), 0);
    broker_journal_cursor_destroy(&cur);
    broker_journal_destroy(&j);
}

static void
test_dense_across_batches_and_reopen(void **state)
{
    s_fixture_t *fx = *state;
    broker_journal_t *j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    s_append_batch(j, 3);
    s_append_batch(j, 1);
    s_append_batch(j, 17);
    assert_int_equal(broker_journal_last(j), 21);
    s_check_dense(j, 0);
    broker_journal_destroy(&j);

    j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    assert_int_equal(broker_journal_last(j), 21);
    s_append_batch(j, 4);
    assert_int_equal(broker_journal_last(j), 25);
    s_check_dense(j, 0);
    broker_journal_destroy(&j);

    /* a smaller map than the file needs is raised to the file's size */
    j = broker_journal_open(fx->dir, 4096);
    assert_non_null(j);
    assert_int_equal(broker_journal_last(j), 25);
    s_check_dense(j, 0);
    broker_journal_destroy(&j);
}

static void
test_abort_leaves_nothing(void **state)
{
    s_fixture_t *fx = *state;
    broker_journal_t *j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    s_append_batch(j, 2);

    assert_int_equal(broker_journal_begin(j), 0);
    uint64_t seq;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(broker_journal_append(j, BROKER_INPUT_RECORD, "gone", 4, &seq), 0);
    }
    assert_int_equal(seq, 5);
    assert_int_equal(broker_journal_keys_put(j, "obs-1", "k", 1), 0);
    broker_journal_abort(j);
    assert_false(broker_journal_in_batch(j));
    broker_journal_abort(j); /* no batch: a no-op */
    assert_int_equal(broker_journal_last(j), 2);
    s_check_dense(j, 0);
    const void *data;
    size_t len;
    bool found;
    assert_int_equal(broker_journal_keys_get(j, "obs-1", &data, &len, &found), 0);
    assert_false(found);

    /* the aborted seqs are reused */
    s_append_batch(j, 2);
    assert_int_equal(broker_journal_last(j), 4);
    s_check_dense(j, 0);

    /* destroying with a batch open aborts it */
    assert_int_equal(broker_journal_begin(j), 0);
    assert_int_equal(broker_journal_append(j, BROKER_INPUT_FLUSH, NULL, 0, &seq), 0);
    assert_int_equal(seq, 5);
    broker_journal_destroy(&j);
    j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    assert_int_equal(broker_journal_last(j), 4);
    s_check_dense(j, 0);
    broker_journal_destroy(&j);
}

/*  Producers: a batch sees its own puts, an aborted batch leaves nothing, a commit survives
    reopening, pruning forgets only the silent ones. */
static void
test_producers(void **state)
{
    s_fixture_t *fx = *state;
    broker_journal_t *j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    broker_producer_t p;
    bool found = true;
    assert_int_equal(broker_journal_producer_get(j, 7, &p, &found), 0);
    assert_false(found);

    assert_int_equal(broker_journal_begin(j), 0);
    assert_int_equal(broker_journal_producer_put(j, 7, &(broker_producer_t){10, 3, 1000}), 0);
    assert_int_equal(broker_journal_producer_get(j, 7, &p, &found), 0);
    assert_true(found);
    assert_int_equal(p.ref, 10);
    broker_journal_abort(j);
    assert_int_equal(broker_journal_producer_get(j, 7, &p, &found), 0);
    assert_false(found);

    assert_int_equal(broker_journal_begin(j), 0);
    assert_int_equal(broker_journal_producer_put(j, 7, &(broker_producer_t){10, 3, 1000}), 0);
    assert_int_equal(broker_journal_producer_put(j, UINT64_MAX, &(broker_producer_t){1, 4, 5000}),
                     0);
    assert_int_equal(broker_journal_producer_put(j, 7, &(broker_producer_t){12, 5, 2000}), 0);
    assert_int_equal(broker_journal_commit(j), 0);
    broker_journal_destroy(&j);

    j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    assert_int_equal(broker_journal_producer_get(j, 7, &p, &found), 0);
    assert_true(found);
    assert_int_equal(p.ref, 12);
    assert_int_equal(p.seq, 5);
    assert_int_equal(p.at_ms, 2000);
    size_t n = 99;
    assert_int_equal(broker_journal_producers_prune(j, 2000, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(broker_journal_producers_prune(j, 2001, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(broker_journal_producer_get(j, 7, &p, &found), 0);
    assert_false(found);
    assert_int_equal(broker_journal_producer_get(j, UINT64_MAX, &p, &found), 0);
    assert_true(found);
    assert_int_equal(p.seq, 4);
    broker_journal_destroy(&j);
}

static void
test_keys_index(void **state)
{
    s_fixture_t *fx = *state;
    broker_journal_t *j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    const void *data;
    size_t len;
    bool found = true;
    static const char keys_a[] = "ja3\0abc\0hassh\0def";
    static const char keys_b[] = "payload\0xyz";

    assert_int_equal(broker_journal_begin(j), 0);
    assert_int_equal(broker_journal_keys_get(j, "obs-a", &data, &len, &found), 0);
    assert_false(found);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_int_equal(broker_journal_keys_put(j, "obs-a", keys_a, sizeof keys_a), 0);
    assert_int_equal(broker_journal_keys_put(j, "obs-b", keys_b, sizeof keys_b), 0);
    /* a get inside the batch sees the batch's own puts */
    assert_int_equal(broker_journal_keys_get(j, "obs-a", &data, &len, &found), 0);
    assert_true(found);
    assert_int_equal(len, sizeof keys_a);
    assert_memory_equal(data, keys_a, sizeof keys_a);
    /* replacing */
    assert_int_equal(broker_journal_keys_put(j, "obs-b", "short", 5), 0);
    assert_int_equal(broker_journal_keys_get(j, "obs-b", &data, &len, &found), 0);
    assert_true(found);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "short", 5);
    /* deleting an absent id is fine; bad ids are refused */
    assert_int_equal(broker_journal_keys_put(j, "obs-none", NULL, 0), 0);
    assert_int_equal(broker_journal_keys_put(j, "", "x", 1), -EINVAL);
    size_t max = broker_journal_max_id(j);
    assert_true(max >= 64);
    char *long_id = xmalloc(max + 2);
    memset(long_id, 'i', max + 1);
    long_id[max + 1] = '\0';
    assert_int_equal(broker_journal_keys_put(j, long_id, "x", 1), CADRE_ELIMIT);
    assert_int_equal(broker_journal_keys_get(j, long_id, &data, &len, &found), CADRE_ELIMIT);
    long_id[max] = '\0'; /* exactly max bytes is accepted */
    assert_int_equal(broker_journal_keys_put(j, long_id, "y", 1), 0);
    uint64_t seq;
    assert_int_equal(broker_journal_append(j, BROKER_INPUT_RECORD, "r", 1, &seq), 0);
    assert_int_equal(broker_journal_commit(j), 0);

    /* outside a batch the committed state is read */
    assert_int_equal(broker_journal_keys_get(j, "obs-a", &data, &len, &found), 0);
    assert_true(found);
    assert_memory_equal(data, keys_a, sizeof keys_a);
    broker_journal_destroy(&j);

    j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    assert_int_equal(broker_journal_keys_get(j, "obs-b", &data, &len, &found), 0);
    assert_true(found);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "short", 5);
    assert_int_equal(broker_journal_keys_get(j, long_id, &data, &len, &found), 0);
    assert_true(found);
    free(long_id);
    assert_int_equal(broker_journal_begin(j), 0);
    assert_int_equal(broker_journal_keys_put(j, "obs-a", NULL, 0), 0);
    assert_int_equal(broker_journal_keys_get(j, "obs-a", &data, &len, &found), 0);
    assert_false(found);
    assert_int_equal(broker_journal_commit(j), 0);
    broker_journal_destroy(&j);

    j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    assert_int_equal(broker_journal_keys_get(j, "obs-a", &data, &len, &found), 0);
    assert_false(found);
    assert_int_equal(broker_journal_keys_get(j, "obs-b", &data, &len, &found), 0);
    assert_true(found);
    assert_int_equal(broker_journal_last(j), 1);
    broker_journal_destroy(&j);
}

/*  Child of test_crash_uncommitted: commits k inputs, leaves a batch open and dies without
    closing anything. Exit codes other than 0 mean the child itself failed. */
static void
s_child_uncommitted(const char *dir, int k)
{
    broker_journal_t *j = broker_journal_open(dir, 0);
    if (!j) {
        _exit(2);
    }
    for (int done = 0; done < k;) {
        if (broker_journal_begin(j) != 0) {
            _exit(3);
        }
        for (int i = 0; i < 4 && done < k; i++, done++) {
            char buf[64];
            uint64_t seq;
            size_t len = s_record((uint64_t)done + 1, buf, sizeof buf);
            if (broker_journal_append(j, BROKER_INPUT_RECORD, buf, len, &seq) != 0 ||
                seq != (uint64_t)done + 1) {
                _exit(4);
            }
        }
        if (broker_journal_commit(j) != 0) {
            _exit(5);
        }
    }
    if (broker_journal_begin(j) != 0) {
        _exit(6);
    }
    for (int i = 0; i < 50; i++) {
        uint64_t seq;
        if (broker_journal_append(j, BROKER_INPUT_RECORD, "lost", 4, &seq) != 0) {
            _exit(7);
        }
    }
    if (broker_journal_keys_put(j, "obs-lost", "k", 1) != 0) {
        _exit(8);
    }
    _exit(0);
}

static void
test_crash_uncommitted(void **state)
{
    s_fixture_t *fx = *state;
    const int k = 23;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        s_child_uncommitted(fx->dir, k);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    broker_journal_t *j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    assert_int_equal(broker_journal_last(j), k);
    s_check_dense(j, 0);
    const void *data;
    size_t len;
    bool found;
    assert_int_equal(broker_journal_keys_get(j, "obs-lost", &data, &len, &found), 0);
    assert_false(found);
    /* the writer lock held by the dead child is recovered */
    s_append_batch(j, 2);
    assert_int_equal(broker_journal_last(j), k + 2);
    broker_journal_destroy(&j);
}

/*  Child of test_crash_kill9: commits batches of 1..8 records forever and reports each
    committed last seq through fd, until it is killed (or a bound is reached). */
static void
s_child_committer(const char *dir, int fd, unsigned seed)
{
    broker_journal_t *j = broker_journal_open(dir, 0);
    if (!j) {
        _exit(2);
    }
    srand(seed);
    for (int batch = 0; batch < 100000; batch++) {
        if (broker_journal_begin(j) != 0) {
            _exit(3);
        }
        int n = 1 + rand() % 8;
        for (int i = 0; i < n; i++) {
            char buf[64];
            uint64_t seq;
            size_t len = s_record(broker_journal_last(j) + (uint64_t)i + 1, buf, sizeof buf);
            if (broker_journal_append(j, BROKER_INPUT_RECORD, buf, len, &seq) != 0) {
                _exit(4);
            }
        }
        if (broker_journal_commit(j) != 0) {
            _exit(5);
        }
        uint64_t last = broker_journal_last(j);
        if (write(fd, &last, sizeof last) != (ssize_t)sizeof last) {
            _exit(6);
        }
    }
    _exit(7);
}

static void
test_crash_kill9(void **state)
{
    s_fixture_t *fx = *state;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    int reports_before_kill = 10 + rand() % 150;
    long delay_ns = (long)(rand() % 3000) * 1000;
    printf("kill -9 test: seed %u, killing after %d reports + %ld us\n", seed, reports_before_kill,
           delay_ns / 1000);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        s_child_committer(fx->dir, fds[1], seed);
    }
    close(fds[1]);

    /* No asserts until the child is dead, so a failure cannot leave it running. */
    uint64_t *reported = NULL;
    size_t n_reported = 0, cap = 0;
    uint64_t value;
    while (n_reported < (size_t)reports_before_kill &&
           read(fds[0], &value, sizeof value) == (ssize_t)sizeof value) {
        xgrow(&reported, &cap, n_reported + 1);
        reported[n_reported++] = value;
    }
    struct timespec ts = {.tv_sec = 0, .tv_nsec = delay_ns};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status;
    pid_t waited = waitpid(pid, &status, 0);
    /* whatever the child reported before dying was committed too */
    while (read(fds[0], &value, sizeof value) == (ssize_t)sizeof value) {
        xgrow(&reported, &cap, n_reported + 1);
        reported[n_reported++] = value;
    }
    close(fds[0]);
    assert_int_equal(waited, pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    assert_true(n_reported >= (size_t)reports_before_kill);

    broker_journal_t *j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    uint64_t last = broker_journal_last(j);
    printf("kill -9 test: %zu commits reported, max seq %llu, journal last %llu\n", n_reported,
           (unsigned long long)reported[n_reported - 1], (unsigned long long)last);
    for (size_t i = 0; i < n_reported; i++) {
        assert_true(reported[i] <= last);
        if (i > 0) {
            assert_true(reported[i] > reported[i - 1]);
        }
    }
    /* dense 1..last with every record intact, hence every reported seq present */
    s_check_dense(j, 0);
    s_append_batch(j, 1);
    assert_int_equal(broker_journal_last(j), last + 1);
    broker_journal_destroy(&j);
    free(reported);
}

static void
test_map_full(void **state)
{
    s_fixture_t *fx = *state;
    /* Every commit copies the pages it touches, and the pages the previous commit freed are
       reused only one commit later (LMDB keeps the previous snapshot intact), so at 64 KiB
       a single batch of 4 KB commits; 128 KiB lets several commit before the map fills. */
    const size_t map = 128 * 1024;
    char rec[1000];
    memset(rec, 'r', sizeof rec);
    broker_journal_t *j = broker_journal_open(fx->dir, map);
    assert_non_null(j);

    /* a single batch larger than the map fails whole */
    assert_int_equal(broker_journal_begin(j), 0);
    int rc = 0;
    uint64_t seq;
    for (int i = 0; i < 200 && rc == 0; i++) {
        rc = broker_journal_append(j, BROKER_INPUT_RECORD, rec, sizeof rec, &seq);
    }
    assert_int_equal(rc, CADRE_EFULL);
    assert_string_equal(cadre_strerror(rc), "storage map full");
    /* the failed batch keeps failing, and commit discards it */
    assert_int_equal(broker_journal_append(j, BROKER_INPUT_FLUSH, NULL, 0, &seq), CADRE_EFULL);
    assert_int_equal(broker_journal_keys_put(j, "obs", "k", 1), CADRE_EFULL);
    assert_int_equal(broker_journal_commit(j), CADRE_EFULL);
    assert_false(broker_journal_in_batch(j));
    assert_int_equal(broker_journal_last(j), 0);
    assert_int_equal(s_count(j, 0), 0);

    /* smaller batches succeed until the map is full */
    uint64_t committed = 0;
    for (int b = 0; b < 1000; b++) {
        assert_int_equal(broker_journal_begin(j), 0);
        rc = 0;
        for (int i = 0; i < 4 && rc == 0; i++) {
            rc = broker_journal_append(j, BROKER_INPUT_RECORD, rec, sizeof rec, &seq);
        }
        if (rc == 0) {
            rc = broker_journal_keys_put(j, "obs", rec, 100);
        }
        if (rc != 0) {
            broker_journal_abort(j);
            break;
        }
        rc = broker_journal_commit(j);
        if (rc != 0) {
            break;
        }
        committed += 4;
    }
    assert_int_equal(rc, CADRE_EFULL);
    assert_false(broker_journal_in_batch(j));
    assert_true(committed > 0);
    assert_int_equal(broker_journal_last(j), committed);
    printf("map full after %llu inputs of %zu bytes in a %zu-byte map\n",
           (unsigned long long)committed, sizeof rec, map);

    /* everything committed before is intact */
    broker_journal_cursor_t *cur = broker_journal_cursor_new(j, 0);
    assert_non_null(cur);
    int kind;
    const void *bytes;
    size_t len;
    uint64_t want = 1;
    while (broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len) == 1) {
        assert_int_equal(seq, want++);
        assert_int_equal(len, sizeof rec);
        assert_memory_equal(bytes, rec, sizeof rec);
    }
    assert_int_equal(want - 1, committed);
    broker_journal_cursor_destroy(&cur);

    /* after compaction a batch fits again, and seqs continue */
    assert_int_equal(broker_journal_compact(j, committed), 0);
    assert_int_equal(broker_journal_compacted(j), committed);
    assert_int_equal(broker_journal_begin(j), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(broker_journal_append(j, BROKER_INPUT_RECORD, rec, sizeof rec, &seq), 0);
        assert_int_equal(seq, committed + (uint64_t)i + 1);
    }
    assert_int_equal(broker_journal_commit(j), 0);
    assert_int_equal(broker_journal_last(j), committed + 4);
    assert_int_equal(s_count(j, 0), 4);
    broker_journal_destroy(&j);

    j = broker_journal_open(fx->dir, map);
    assert_non_null(j);
    assert_int_equal(broker_journal_last(j), committed + 4);
    assert_int_equal(broker_journal_compacted(j), committed);
    assert_int_equal(s_count(j, committed + 1), 4);
    broker_journal_destroy(&j);
}

static void
test_compact(void **state)
{
    s_fixture_t *fx = *state;
    broker_journal_t *j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    s_append_batch(j, 50);
    assert_int_equal(broker_journal_begin(j), 0);
    assert_int_equal(broker_journal_keys_put(j, "obs-1", "keys-1", 6), 0);
    assert_int_equal(broker_journal_commit(j), 0);

    assert_int_equal(broker_journal_compact(j, 20), 0);
    assert_int_equal(broker_journal_compacted(j), 20);
    assert_int_equal(broker_journal_last(j), 50);
    s_check_dense(j, 21);
    /* a cursor from a compacted seq starts at the first one left */
    broker_journal_cursor_t *cur = broker_journal_cursor_new(j, 5);
    assert_non_null(cur);
    int kind;
    uint64_t seq;
    const void *bytes;
    size_t len;
    assert_int_equal(broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len), 1);
    assert_int_equal(seq, 21);
    broker_journal_cursor_destroy(&cur);
    assert_int_equal(s_count(j, 0), 30);
    /* compacting less than already compacted is a no-op */
    assert_int_equal(broker_journal_compact(j, 10), 0);
    assert_int_equal(broker_journal_compacted(j), 20);
    broker_journal_destroy(&j);

    j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    assert_int_equal(broker_journal_compacted(j), 20);
    assert_int_equal(broker_journal_last(j), 50);
    s_append_batch(j, 1);
    assert_int_equal(broker_journal_last(j), 51);
    /* beyond the last seq it is clamped: the journal empties, numbering goes on */
    assert_int_equal(broker_journal_compact(j, 1000), 0);
    assert_int_equal(broker_journal_compacted(j), 51);
    assert_int_equal(broker_journal_last(j), 51);
    assert_int_equal(s_count(j, 0), 0);
    const void *data;
    bool found;
    assert_int_equal(broker_journal_keys_get(j, "obs-1", &data, &len, &found), 0);
    assert_true(found);
    assert_memory_equal(data, "keys-1", 6);
    broker_journal_destroy(&j);

    j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    assert_int_equal(broker_journal_last(j), 51);
    assert_int_equal(broker_journal_compacted(j), 51);
    s_append_batch(j, 2);
    assert_int_equal(broker_journal_last(j), 53);
    s_check_dense(j, 52);
    assert_int_equal(broker_journal_keys_get(j, "obs-1", &data, &len, &found), 0);
    assert_true(found);
    broker_journal_destroy(&j);
}

static void
test_cursor_middle_and_snapshot(void **state)
{
    s_fixture_t *fx = *state;
    broker_journal_t *j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    s_append_batch(j, 30);
    s_check_dense(j, 17);
    assert_int_equal(s_count(j, 17), 14);
    assert_int_equal(s_count(j, 30), 1);
    assert_int_equal(s_count(j, 31), 0);
    assert_int_equal(s_count(j, 1000), 0);

    /* a cursor reads the snapshot it was opened on, even while a batch is open */
    broker_journal_cursor_t *cur = broker_journal_cursor_new(j, 29);
    assert_non_null(cur);
    assert_int_equal(broker_journal_begin(j), 0);
    broker_journal_cursor_t *during = broker_journal_cursor_new(j, 29);
    assert_non_null(during);
    uint64_t seq;
    assert_int_equal(broker_journal_append(j, BROKER_INPUT_FLUSH, NULL, 0, &seq), 0);
    assert_int_equal(seq, 31);
    assert_int_equal(broker_journal_commit(j), 0);
    int kind;
    const void *bytes;
    size_t len;
    for (int pass = 0; pass < 2; pass++) {
        broker_journal_cursor_t *c = pass ? during : cur;
        assert_int_equal(broker_journal_cursor_next(c, &kind, &seq, &bytes, &len), 1);
        assert_int_equal(seq, 29);
        assert_int_equal(broker_journal_cursor_next(c, &kind, &seq, &bytes, &len), 1);
        assert_int_equal(seq, 30);
        assert_int_equal(broker_journal_cursor_next(c, &kind, &seq, &bytes, &len), 0);
    }
    broker_journal_cursor_destroy(&cur);
    broker_journal_cursor_destroy(&during);
    /* reopened, it sees the new input */
    cur = broker_journal_cursor_new(j, 31);
    assert_non_null(cur);
    assert_int_equal(broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len), 1);
    assert_int_equal(seq, 31);
    assert_int_equal(kind, BROKER_INPUT_FLUSH);
    assert_int_equal(broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len), 0);
    broker_journal_cursor_destroy(&cur);
    broker_journal_destroy(&j);
}

/*  Shared between test_cursor_thread and its reader thread. */
typedef struct {
    broker_journal_t *journal; /* the journal, written by the main thread */
    int passes;                /* replays done */
    uint64_t max_seen;         /* largest count one replay saw */
    int errors;                /* replays that were not dense from 1 or failed */
} s_reader_t;

/*  Replays the journal from the start 200 times while the main thread commits, checking
    that each snapshot is dense from 1 and no shorter than the previous one. */
static void *
s_reader(void *arg)
{
    s_reader_t *r = arg;
    for (r->passes = 0; r->passes < 200; r->passes++) {
        broker_journal_cursor_t *cur = broker_journal_cursor_new(r->journal, 0);
        if (!cur) {
            r->errors++;
            continue;
        }
        int kind, rc;
        uint64_t seq, want = 1;
        const void *bytes;
        size_t len;
        while ((rc = broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len)) == 1) {
            char buf[64];
            size_t n = s_record(want, buf, sizeof buf);
            if (seq != want || len != n || memcmp(bytes, buf, n) != 0) {
                r->errors++;
                break;
            }
            want++;
        }
        if (rc < 0 || want - 1 < r->max_seen) {
            r->errors++;
        }
        r->max_seen = want - 1;
        broker_journal_cursor_destroy(&cur);
    }
    return NULL;
}

static void
test_cursor_thread(void **state)
{
    s_fixture_t *fx = *state;
    broker_journal_t *j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    s_append_batch(j, 10);
    s_reader_t r = {.journal = j};
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, s_reader, &r), 0);
    for (int b = 0; b < 100; b++) {
        s_append_batch(j, 1 + b % 5);
    }
    assert_int_equal(pthread_join(tid, NULL), 0);
    assert_int_equal(r.errors, 0);
    assert_int_equal(r.passes, 200);
    assert_true(r.max_seen >= 10 && r.max_seen <= broker_journal_last(j));
    s_check_dense(j, 0);
    broker_journal_destroy(&j);
}

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_bulk_100k(void **state)
{
    s_fixture_t *fx = *state;
    const int total = 100000, batch = 1000;
    broker_journal_t *j = broker_journal_open(fx->dir, 0);
    assert_non_null(j);
    char rec[128];
    size_t bytes_total = 0;
    double t0 = s_now();
    for (int b = 0; b < total / batch; b++) {
        assert_int_equal(broker_journal_begin(j), 0);
        for (int i = 0; i < batch; i++) {
            uint64_t want = (uint64_t)b * (uint64_t)batch + (uint64_t)i + 1;
            int n = snprintf(rec, sizeof rec, "{\"id\":\"obs-%llu\",\"ja3\":\"%032llx\"}",
                             (unsigned long long)want, (unsigned long long)want * 2654435761u);
            uint64_t seq;
            bytes_total += (size_t)n;
            assert_int_equal(broker_journal_append(j, BROKER_INPUT_RECORD, rec, (size_t)n, &seq),
                             0);
            assert_int_equal(seq, want);
        }
        assert_int_equal(broker_journal_commit(j), 0);
    }
    double t1 = s_now();
    printf("append+commit: %d records of %zu bytes on average in batches of %d: %.3f s, "
           "%.0f records/s\n",
           total, bytes_total / (size_t)total, batch, t1 - t0, (double)total / (t1 - t0));
    assert_int_equal(broker_journal_last(j), (uint64_t)total);

    broker_journal_cursor_t *cur = broker_journal_cursor_new(j, 0);
    assert_non_null(cur);
    int kind;
    uint64_t seq;
    const void *bytes;
    size_t len;
    uint64_t want = 1;
    while (broker_journal_cursor_next(cur, &kind, &seq, &bytes, &len) == 1) {
        assert_int_equal(seq, want);
        if (want % 9973 == 0) {
            int n = snprintf(rec, sizeof rec, "{\"id\":\"obs-%llu\",\"ja3\":\"%032llx\"}",
                             (unsigned long long)want, (unsigned long long)want * 2654435761u);
            assert_int_equal(len, (size_t)n);
            assert_memory_equal(bytes, rec, len);
        }
        want++;
    }
    broker_journal_cursor_destroy(&cur);
    double t2 = s_now();
    printf("replay: %d records in %.3f s, %.0f records/s\n", total, t2 - t1,
           (double)total / (t2 - t1));
    assert_int_equal(want - 1, (uint64_t)total);

    /* compaction over several chunks */
    assert_int_equal(broker_journal_compact(j, 65432), 0);
    double t3 = s_now();
    printf("compact: 65432 records in %.3f s\n", t3 - t2);
    assert_int_equal(broker_journal_compacted(j), 65432);
    assert_int_equal(s_count(j, 0), (uint64_t)total - 65432);
    broker_journal_destroy(&j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_open_failures, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_append_commit_replay, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_dense_across_batches_and_reopen, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_keys_index, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_producers, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_crash_uncommitted, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_crash_kill9, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_map_full, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_compact, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cursor_middle_and_snapshot, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cursor_thread, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bulk_100k, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
