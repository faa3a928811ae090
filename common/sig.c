/*  sig.c - signals as loop events through a self-pipe (see sig.h).

    A signal handler receives no context pointer, so the pipe's write end and the "shutting
    down" flag live in file-scope statics: the one exception to the no-module-state rule,
    and the reason a process holds at most one sigev_t. The handler touches only those
    statics, errno (saved and restored) and write()/_exit(), all async-signal-safe.
*/
#include "sig.h"

#include "log.h"
#include "xalloc.h"

#include <czmq.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*  The signals handled, and the one ignored; index order of sigev_t.saved. */
static const int s_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGPIPE};
#define S_NSIGNALS (sizeof s_signals / sizeof s_signals[0])

struct sigev_t {
    int rfd;                            /* pipe read end, polled by the loop */
    int wfd;                            /* pipe write end, written by the handler */
    struct sigaction saved[S_NSIGNALS]; /* dispositions before sig_new(), restored after */
};

static sigev_t *s_instance = NULL;           /* the one live instance, or NULL */
static volatile sig_atomic_t s_wfd = -1;     /* the handler's copy of the write end */
static volatile sig_atomic_t s_stopping = 0; /* 1 once TERM or INT has arrived */

static void
s_handler(int signo)
{
    int saved_errno = errno;
    if (signo == SIGTERM || signo == SIGINT) {
        if (s_stopping) {
            _exit(1);
        }
        s_stopping = 1;
    }
    unsigned char byte = (unsigned char)signo;
    /* A full pipe (EAGAIN) already holds a wake-up for the loop: nothing is lost. */
    ssize_t n = write((int)s_wfd, &byte, 1);
    (void)n;
    errno = saved_errno;
}

/*  Makes fd non-blocking and close-on-exec. Returns 0 or -errno. */
static int
s_fd_setup(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        return -errno;
    }
    int fdfl = fcntl(fd, F_GETFD);
    if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0) {
        return -errno;
    }
    return 0;
}

/*  Puts back the saved dispositions of the first n signals. */
static void
s_restore(sigev_t *self, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sigaction(s_signals[i], &self->saved[i], NULL);
    }
}

sigev_t *
sig_new(void)
{
    assert(!s_instance && "only one sigev_t per process");
    int fds[2];
    if (pipe(fds) != 0) {
        log_error("signals: cannot create the self-pipe: %s", strerror(errno));
        return NULL;
    }
    int rc = s_fd_setup(fds[0]);
    if (rc == 0) {
        rc = s_fd_setup(fds[1]);
    }
    if (rc != 0) {
        log_error("signals: cannot configure the self-pipe: %s", strerror(-rc));
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    sigev_t *self = xcalloc(1, sizeof *self);
    self->rfd = fds[0];
    self->wfd = fds[1];
    s_wfd = fds[1];
    s_stopping = 0;
    /* czmq would otherwise install its own SIGINT/SIGTERM handler at zsys_init(). */
    zsys_handler_set(NULL);

    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = s_handler;
    act.sa_flags = SA_RESTART;
    /* Blocking the other handled signals during a handler makes "second TERM/INT" exact. */
    sigemptyset(&act.sa_mask);
    sigaddset(&act.sa_mask, SIGTERM);
    sigaddset(&act.sa_mask, SIGINT);
    sigaddset(&act.sa_mask, SIGHUP);
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    for (size_t i = 0; i < S_NSIGNALS; i++) {
        const struct sigaction *use = s_signals[i] == SIGPIPE ? &ign : &act;
        if (sigaction(s_signals[i], use, &self->saved[i]) != 0) {
            log_error("signals: cannot install a handler for signal %d: %s", s_signals[i],
                      strerror(errno));
            s_restore(self, i);
            s_wfd = -1;
            close(self->rfd);
            close(self->wfd);
            free(self);
            return NULL;
        }
    }
    s_instance = self;
    return self;
}

void
sig_destroy(sigev_t **self_p)
{
    assert(self_p);
    sigev_t *self = *self_p;
    if (!self) {
        return;
    }
    assert(self == s_instance);
    s_restore(self, S_NSIGNALS);
    s_wfd = -1;
    s_stopping = 0;
    close(self->rfd);
    close(self->wfd);
    free(self);
    s_instance = NULL;
    *self_p = NULL;
}

int
sig_fd(const sigev_t *self)
{
    assert(self);
    return self->rfd;
}

int
sig_take(sigev_t *self)
{
    assert(self);
    int stop = 0;
    bool hup = false;
    unsigned char buf[64];
    for (;;) {
        ssize_t n = read(self->rfd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; /* EAGAIN: drained (the write end stays open, so never 0) */
        }
        for (ssize_t i = 0; i < n; i++) {
            if ((buf[i] == SIGTERM || buf[i] == SIGINT) && stop == 0) {
                stop = buf[i];
            } else if (buf[i] == SIGHUP) {
                hup = true;
            }
        }
    }
    if (stop != 0) {
        return stop;
    }
    return hup ? SIGHUP : 0;
}

bool
sig_stopping(const sigev_t *self)
{
    assert(self);
    (void)self;
    return s_stopping != 0;
}
