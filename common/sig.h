/*  sig.h - POSIX signals as events of the process's loop (a self-pipe).

    sig_new() installs handlers for SIGTERM, SIGINT and SIGHUP and ignores SIGPIPE. A handler
    does only async-signal-safe work: it sets a sig_atomic_t and writes the signal number as
    one byte to a non-blocking pipe. The loop polls sig_fd() (zpoller, zloop or poll()) and,
    when it is readable, calls sig_take() and acts: TERM/INT start the graceful shutdown,
    HUP is for the role to define (e.g. reopen logs). A second TERM or INT, while that
    shutdown runs, ends the process at once with _exit(1), as redis does.

    czmq's own SIGINT/SIGTERM handling (zsys_interrupted) is switched off, so there is exactly
    one place signals arrive. A signal that lands while the loop waits interrupts the wait
    (EINTR): zpoller_wait() then returns NULL with zpoller_terminated() true, and
    zloop_start() returns. That is not the end of the loop: the byte is already in the pipe,
    so call sig_take() (or poll again) and carry on unless it asks to stop. zpoller_add()
    takes a pointer to an int holding sig_fd(), which must outlive the poller. The handlers are
   process-wide, so a process holds at most one sigev_t at a time (asserted); create it in main()
   before starting threads. The type is not named sig_t because <signal.h> defines that name for
   handler pointers.
*/
#ifndef CADRE_SIG_H
#define CADRE_SIG_H

#include <stdbool.h>

/*  The process's signal event source (opaque). */
typedef struct sigev_t sigev_t;

/*  Creates the self-pipe and installs the handlers (saving the previous dispositions).
    Returns the instance, or NULL (with the reason logged) when the pipe cannot be created
    or a handler cannot be installed. Asserts that no other sigev_t exists. */
sigev_t *sig_new(void);
/*  Restores the dispositions saved by sig_new(), closes the pipe, frees the instance and
    NULLs *self_p. Signals that arrive afterwards are handled as before sig_new(). NULL is a
    no-op. */
void sig_destroy(sigev_t **self_p);
/*  The pipe's read end, to poll for readability; owned by self (do not close or read it).
    Valid until sig_destroy(). */
int sig_fd(const sigev_t *self);
/*  Drains the pipe and returns the signal received: SIGTERM or SIGINT if either arrived
    (the first of them), else SIGHUP if it arrived, else 0 (nothing pending). Never blocks. */
int sig_take(sigev_t *self);
/*  True once SIGTERM or SIGINT has been received: the process is shutting down, and the
    next TERM or INT will _exit(1). */
bool sig_stopping(const sigev_t *self);

#endif
