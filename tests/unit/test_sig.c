/*  test_sig.c - signals as loop events: a raised signal makes the self-pipe readable (to
    poll() and to a czmq zpoller next to a socket), sig_take() names it, and a second
    TERM/INT ends the process with status 1 (checked in forked children, which never touch
    the ZMQ context). */
#include "sig.h"

#include <czmq.h>

#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/*  True when fd has input right now. */
static bool
s_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/*  The current handler of signo. */
static void (*s_handler_of(int signo))(int)
{
    struct sigaction sa;
    sigaction(signo, NULL, &sa);
    return sa.sa_handler;
}

/*  Runs child() in a forked process and returns its wait status. */
static int
s_fork(int (*child)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        _exit(child());
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void
test_term_becomes_a_loop_event(void **state)
{
    (void)state;
    void (*before)(int) = s_handler_of(SIGTERM);
    sigev_t *s = sig_new();
    assert_non_null(s);
    int fd = sig_fd(s);
    assert_true(fd >= 0);
    assert_false(s_readable(fd));
    assert_int_equal(sig_take(s), 0);
    assert_false(sig_stopping(s));
    raise(SIGTERM);
    assert_true(s_readable(fd));
    assert_true(sig_stopping(s));
    assert_int_equal(sig_take(s), SIGTERM);
    assert_false(s_readable(fd));
    assert_int_equal(sig_take(s), 0);
    assert_true(sig_stopping(s));
    sig_destroy(&s);
    assert_null(s);
    sig_destroy(&s);
    assert_true(s_handler_of(SIGTERM) == before);
}

static void
test_hup_int_and_pipe(void **state)
{
    (void)state;
    void (*pipe_before)(int) = s_handler_of(SIGPIPE);
    sigev_t *s = sig_new();
    assert_non_null(s);
    assert_true(s_handler_of(SIGPIPE) == SIG_IGN);
    raise(SIGPIPE); /* ignored: no event, no death */
    assert_false(s_readable(sig_fd(s)));
    raise(SIGHUP);
    assert_true(s_readable(sig_fd(s)));
    assert_false(sig_stopping(s));
    assert_int_equal(sig_take(s), SIGHUP);
    /* HUP then INT in one drain: the shutdown request wins. */
    raise(SIGHUP);
    raise(SIGINT);
    raise(SIGHUP);
    assert_int_equal(sig_take(s), SIGINT);
    assert_int_equal(sig_take(s), 0);
    assert_true(sig_stopping(s));
    sig_destroy(&s);
    assert_true(s_handler_of(SIGPIPE) == pipe_before);
    assert_true(s_handler_of(SIGHUP) == SIG_DFL);
}

static int
s_child_term_term(void)
{
    sigev_t *s = sig_new();
    if (!s) {
        return 10;
    }
    raise(SIGTERM);
    if (sig_take(s) != SIGTERM) {
        return 11;
    }
    raise(SIGTERM); /* must _exit(1) inside the handler */
    return 12;
}

static int
s_child_hup_term_int(void)
{
    sigev_t *s = sig_new();
    if (!s) {
        return 10;
    }
    raise(SIGHUP);
    raise(SIGHUP); /* HUPs never end the process */
    if (sig_take(s) != SIGHUP) {
        return 11;
    }
    raise(SIGTERM); /* the first shutdown request is an event, not yet taken */
    raise(SIGINT);  /* the second (any mix of TERM and INT) exits */
    return 12;
}

static void
test_second_term_exits_1(void **state)
{
    (void)state;
    int status = s_fork(s_child_term_term);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    status = s_fork(s_child_hup_term_int);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
}

#ifndef NDEBUG
static int
s_child_two_instances(void)
{
    sigev_t *a = sig_new();
    sigev_t *b = sig_new(); /* asserts */
    return a && b ? 20 : 21;
}

static void
test_one_instance_per_process(void **state)
{
    (void)state;
    int status = s_fork(s_child_two_instances);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}
#endif

static void
test_zpoller_wakes_on_signal(void **state)
{
    (void)state;
    sigev_t *s = sig_new();
    assert_non_null(s);
    /* The socket initialises czmq (zsys_init), which must not take the handlers back. */
    zsock_t *sock = zsock_new_pair("@inproc://test-sig");
    assert_non_null(sock);
    int fd = sig_fd(s);
    zpoller_t *poller = zpoller_new(sock, NULL);
    assert_non_null(poller);
    assert_int_equal(zpoller_add(poller, &fd), 0);
    assert_null(zpoller_wait(poller, 0));
    assert_true(zpoller_expired(poller));
    raise(SIGTERM);
    assert_int_equal(zsys_interrupted, 0);
    assert_ptr_equal(zpoller_wait(poller, 5000), &fd);
    assert_int_equal(sig_take(s), SIGTERM);
    assert_null(zpoller_wait(poller, 0));
    zpoller_destroy(&poller);
    zsock_destroy(&sock);
    sig_destroy(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_term_becomes_a_loop_event),
        cmocka_unit_test(test_hup_int_and_pipe),
        cmocka_unit_test(test_second_term_exits_1),
#ifndef NDEBUG
        cmocka_unit_test(test_one_instance_per_process),
#endif
        /* Last: the forks above happen before the ZMQ context exists. */
        cmocka_unit_test(test_zpoller_wakes_on_signal),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    zsys_shutdown();
    return failed;
}
