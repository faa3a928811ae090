/*  merger.c - the merger role. */
#include "merger.h"

const char *
merger_role_name(void)
{
    return "merger";
}
