/*  sdnotify.c - systemd readiness notices (see sdnotify.h). */
#include "sdnotify.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

void
sdnotify_ready(const char *status)
{
#ifdef HAVE_LIBSYSTEMD
    sd_notifyf(0, "READY=1\nSTATUS=%s", status ? status : "ready");
#else
    (void)status;
#endif
}

void
sdnotify_stopping(void)
{
#ifdef HAVE_LIBSYSTEMD
    sd_notify(0, "STOPPING=1");
#endif
}
