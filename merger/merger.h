/*  merger.h - the merger role (issue 4 fills it in: see ARCHITECTURE.md).

    Today it only knows its name; the engine's merger runs inside `cadre` once the sharded
    engine lands.
*/
#ifndef CADRE_MERGER_H
#define CADRE_MERGER_H

/*  The role's name as printed in logs and usage lines. */
const char *merger_role_name(void);

#endif
