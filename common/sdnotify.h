/*  sdnotify.h - readiness and shutdown notices to systemd (Type=notify units), the only
    module that includes libsystemd. Without libsystemd at build time (HAVE_LIBSYSTEMD
    undefined) both calls do nothing; outside systemd (no NOTIFY_SOCKET) they do nothing.
*/
#ifndef CADRE_SDNOTIFY_H
#define CADRE_SDNOTIFY_H

/*  READY=1: the role has bound its sockets and opened its store. */
void sdnotify_ready(const char *status);
/*  STOPPING=1: the role began its shutdown. */
void sdnotify_stopping(void);

#endif
