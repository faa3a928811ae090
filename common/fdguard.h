/*  fdguard.h - the last defence of a serving process against running out of file
    descriptors (docs/protocol.md §10).

    libzmq aborts the whole process when accept() on an ipc:// listener fails with EMFILE
    (libzmq 4.3, src/ipc_listener.cpp), and a burst of connections reaches the open-file
    limit before any per-connection check can run: the connection gate (gate.h) sees a
    connection only after it was accepted. So this module interposes accept() and
    accept4() for the whole process (the executable's definitions take precedence over
    libc's for libzmq's calls): once a ceiling is set, a connection accepted onto a file
    descriptor at or above it is closed at once and reported to libzmq as ECONNABORTED,
    which libzmq handles by dropping it and going on. File descriptors are allocated
    lowest first, so such a descriptor means the process holds nearly its limit. The
    connecting client sees its connection closed and retries later. Without a ceiling (0,
    the default) the calls pass straight through.

    Every definition here is process-wide by nature; the state is two atomics.
*/
#ifndef CADRE_FDGUARD_H
#define CADRE_FDGUARD_H

#include <stdint.h>

/*  Sets the ceiling: accepted descriptors >= ceiling are refused (0: no ceiling). A
    process sets it once, from its open-file limit minus what it keeps for its own files. */
void fdguard_set_ceiling(int ceiling);
/*  Connections refused so far for want of descriptors. */
uint64_t fdguard_refused(void);

#endif
