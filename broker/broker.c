/*  broker.c - the broker role. */
#include "broker.h"

const char *
broker_role_name(void)
{
    return "broker";
}
