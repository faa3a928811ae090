/*  broker.h - the broker role (issue 4 fills it in: see ARCHITECTURE.md).

    Today it only knows its name; the engine's broker runs inside `cadre` once the sharded
    engine lands.
*/
#ifndef CADRE_BROKER_H
#define CADRE_BROKER_H

/*  The role's name as printed in logs and usage lines. */
const char *broker_role_name(void);

#endif
