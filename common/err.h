/*  err.h - cadre's error codes.

    Fallible operations return 0 on success or a negative code: either -errno, or one of
    the project codes below (all <= -1000). cadre_strerror() names either kind.
*/
#ifndef CADRE_ERR_H
#define CADRE_ERR_H

enum {
    CADRE_ERECORD = -1000,   /* a malformed input record (details in its error struct) */
    CADRE_EDSL = -1001,      /* a campaign DSL document failed validation */
    CADRE_ECONFIG = -1002,   /* a configuration value is invalid */
    CADRE_ETRUNC = -1003,    /* input ended in the middle of a record */
    CADRE_EMISMATCH = -1004, /* two inputs that must describe the same items do not */
    CADRE_EFORMAT = -1005,   /* a file is not in the expected format */
    CADRE_ELIMIT = -1006,    /* a size or count limit was exceeded */
    CADRE_EFULL = -1007,     /* a store's map is full (LMDB MDB_MAP_FULL) */
    CADRE_ESTORE = -1008,    /* the storage engine failed (other LMDB errors) */
    CADRE_EPROTO = -1009,    /* a message breaks the wire protocol (docs/protocol.md) */
};

/*  Returns a static, human-readable description of code (a project code or -errno). */
const char *cadre_strerror(int code);

#endif
