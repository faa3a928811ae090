/*  shard.h - the shard role (issue 4 fills it in: see ARCHITECTURE.md).

    Today it only knows its name; the engine's shard runs inside `cadre` once the sharded
    engine lands.
*/
#ifndef CADRE_SHARD_H
#define CADRE_SHARD_H

/*  The role's name as printed in logs and usage lines. */
const char *shard_role_name(void);

#endif
