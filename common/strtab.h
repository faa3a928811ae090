/*  strtab.h - a string interning table: each distinct string gets a dense uint32 id.

    Ids are 0, 1, 2, ... in order of first insertion, so they index plain arrays directly.
    The table owns copies of its strings; they never move, so a pointer from strtab_str()
    stays valid until the table is destroyed. Strings are byte sequences of a given length
    (they may contain NUL bytes); each copy is also NUL-terminated for convenience.
    Lookups hash with XXH3 and probe an open-addressing table kept at most half full.
*/
#ifndef CADRE_STRTAB_H
#define CADRE_STRTAB_H

#include <stddef.h>
#include <stdint.h>

/*  "No such string": returned by strtab_find(), and by strtab_intern() when the table is
    full. Never a valid id. */
#define STRTAB_NONE UINT32_MAX
/*  The most strings one table holds. */
#define STRTAB_MAX ((uint32_t)INT32_MAX)

typedef struct strtab_t strtab_t;

/*  Creates an empty table. Never returns NULL. */
strtab_t *strtab_new(void);
/*  Frees the table and every string it owns, and NULLs *self_p. NULL *self_p is a no-op. */
void strtab_destroy(strtab_t **self_p);
/*  Returns the id of the len bytes at str, adding a copy of them first if they are new (the
    new id is strtab_count() before the call). Returns STRTAB_NONE, adding nothing, only when
    the string is new and the table already holds STRTAB_MAX strings. */
uint32_t strtab_intern(strtab_t *self, const char *str, size_t len);
/*  Returns the id of the len bytes at str, or STRTAB_NONE if the table does not hold them. */
uint32_t strtab_find(const strtab_t *self, const char *str, size_t len);
/*  Number of distinct strings held (ids run from 0 to this minus one). */
size_t strtab_count(const strtab_t *self);
/*  The string with this id (id < strtab_count()), NUL-terminated. Borrowed: valid until the
    table is destroyed. */
const char *strtab_str(const strtab_t *self, uint32_t id);
/*  Length in bytes of the string with this id (id < strtab_count()), without the NUL. */
size_t strtab_len(const strtab_t *self, uint32_t id);

#endif
