/*  err.c - descriptions of cadre's error codes. */
#include "err.h"

#include <string.h>

const char *
cadre_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
    case CADRE_ERECORD:
        return "malformed input record";
    case CADRE_EDSL:
        return "invalid campaign DSL document";
    case CADRE_ECONFIG:
        return "invalid configuration";
    case CADRE_ETRUNC:
        return "input truncated inside a record";
    case CADRE_EMISMATCH:
        return "inputs describe different item sets";
    case CADRE_EFORMAT:
        return "unrecognised file format";
    case CADRE_ELIMIT:
        return "size or count limit exceeded";
    case CADRE_EFULL:
        return "storage map full";
    case CADRE_ESTORE:
        return "storage engine failure";
    case CADRE_EPROTO:
        return "wire protocol violation";
    default:
        break;
    }
    if (code < 0 && code > -1000) {
        return strerror(-code);
    }
    return "unknown error";
}
