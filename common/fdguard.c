/*  fdguard.c - accept() with a descriptor ceiling (see fdguard.h). */
#define _GNU_SOURCE /* dlsym(RTLD_NEXT) */
#include "fdguard.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <unistd.h>

/*  The socket calls are declared here with plain pointer types: this file does not include
    <sys/socket.h>, whose GNU declarations use a transparent union for the address. */
struct sockaddr;
typedef unsigned int s_socklen_t;
int accept(int fd, struct sockaddr *addr, s_socklen_t *len);
int accept4(int fd, struct sockaddr *addr, s_socklen_t *len, int flags);

typedef int (*s_accept_fn)(int, struct sockaddr *, s_socklen_t *);
typedef int (*s_accept4_fn)(int, struct sockaddr *, s_socklen_t *, int);

static atomic_int s_ceiling;            /* 0: none */
static atomic_uint_least64_t s_refused; /* connections closed at the ceiling */

void
fdguard_set_ceiling(int ceiling)
{
    atomic_store(&s_ceiling, ceiling > 0 ? ceiling : 0);
}

uint64_t
fdguard_refused(void)
{
    return atomic_load(&s_refused);
}

/*  The accepted descriptor s, or -1 with ECONNABORTED when it is at or above the ceiling
    (it is closed). */
static int
s_guard(int s)
{
    int ceiling = atomic_load(&s_ceiling);
    if (s >= 0 && ceiling > 0 && s >= ceiling) {
        close(s);
        atomic_fetch_add(&s_refused, 1);
        errno = ECONNABORTED;
        return -1;
    }
    return s;
}

int
accept(int fd, struct sockaddr *addr, s_socklen_t *len)
{
    static _Atomic(s_accept_fn) real;
    s_accept_fn f = atomic_load(&real);
    if (!f) {
        /* A function pointer from dlsym() goes through an object pointer: POSIX allows
           the conversion, ISO C does not name it. */
        void *sym = dlsym(RTLD_NEXT, "accept");
        *(void **)&f = sym;
        atomic_store(&real, f);
    }
    return s_guard(f(fd, addr, len));
}

int
accept4(int fd, struct sockaddr *addr, s_socklen_t *len, int flags)
{
    static _Atomic(s_accept4_fn) real;
    s_accept4_fn f = atomic_load(&real);
    if (!f) {
        void *sym = dlsym(RTLD_NEXT, "accept4");
        *(void **)&f = sym;
        atomic_store(&real, f);
    }
    return s_guard(f(fd, addr, len, flags));
}
