/*  shard.c - the shard role. */
#include "shard.h"

const char *
shard_role_name(void)
{
    return "shard";
}
