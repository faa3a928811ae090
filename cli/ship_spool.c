/*  ship_spool.c - one spool file per worker, written once per turn (see ship_spool.h).

    Each worker has an entry: its encoded name, its current spool's path, a descriptor opened
    in append mode at its first write (or -1), the size of that file as written so far, and a
    buffer of lines not written yet. A flush writes each buffer with write(2) (no stdio, so a
    short write is known exactly and its rest kept), fsyncs the descriptors written and, when
    a file was created or renamed, the directory, so that what the receiver took from the
    forwarders is on disk before the next turn reads from the network again.
*/
#include "ship_spool.h"

#include "log.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_SUFFIX ".log" /* of a current spool; a rotated one adds ".<N>" */

/*  One worker's spool. */
typedef struct {
    char *worker;      /* the CN, owned */
    char *name;        /* its encoded form (file name without suffix), owned */
    char *path;        /* DIR/<name>.log, owned */
    bool exists;       /* the current spool exists */
    int fd;            /* open for appending, or -1 */
    uint64_t size;     /* the current spool's size as written */
    char *buf;         /* lines not written yet, owned */
    size_t len;        /* bytes in buf */
    size_t cap;        /* bytes allocated */
    bool wrote;        /* written since the last fsync */
    uint64_t messages; /* messages added since the spool was opened */
} s_entry_t;

struct ship_spool_t {
    char *dir;                 /* the spool directory, owned */
    uint64_t max_bytes;        /* rotation size */
    ship_spool_rotated_fn *fn; /* rotation callback */
    void *arg;                 /* its argument */
    s_entry_t *entries;        /* the workers */
    size_t n;                  /* number */
    size_t cap;                /* slots */
    size_t last;               /* the entry the last message went to (a cache) */
    char **rotated;            /* rotated spools found at start, owned */
    size_t n_rotated;          /* number */
    size_t cap_rotated;        /* slots */
    bool dir_dirty;            /* a file was created or renamed since the directory's fsync */
};

bool
ship_spool_name(const char *worker, char *out, size_t outlen)
{
    size_t k = 0;
    if (!worker[0]) {
        return false;
    }
    for (size_t i = 0; worker[i]; i++) {
        unsigned char c = (unsigned char)worker[i];
        bool esc = c == '%' || c == '/' || (i == 0 && c == '.') || c < 0x21 || c > 0x7e;
        if (k + (esc ? 3 : 1) >= outlen) {
            return false;
        }
        if (esc) {
            snprintf(out + k, 4, "%%%02X", c);
            k += 3;
        } else {
            out[k++] = (char)c;
        }
    }
    out[k] = '\0';
    return true;
}

/*  Decodes an encoded name into a CN (owned); NULL when name is not one ship_spool_name
    writes (a stray file). */
static char *
s_decode(const char *name, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned int v = 0;
        if (name[i] != '%') {
            out[k++] = name[i];
            continue;
        }
        if (i + 2 >= len || sscanf(name + i + 1, "%2X", &v) != 1) {
            free(out);
            return NULL;
        }
        out[k++] = (char)v;
        i += 2;
    }
    out[k] = '\0';
    char check[SHIP_SPOOL_NAME_MAX + 1];
    if (k == 0 || !ship_spool_name(out, check, sizeof check) || strlen(check) != len ||
        memcmp(check, name, len) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/*  The entry of the worker with encoded name, added when missing. */
static s_entry_t *
s_entry(ship_spool_t *self, const char *worker, const char *name)
{
    for (size_t i = 0; i < self->n; i++) {
        if (strcmp(self->entries[i].name, name) == 0) {
            self->last = i;
            return &self->entries[i];
        }
    }
    xgrow(&self->entries, &self->cap, self->n + 1);
    s_entry_t *e = &self->entries[self->n];
    *e = (s_entry_t){.worker = xstrdup(worker),
                     .name = xstrdup(name),
                     .path = xasprintf("%s/%s%s", self->dir, name, S_SUFFIX),
                     .fd = -1};
    self->last = self->n++;
    return e;
}

/*  The length of name's ".<digits>" tail (0 when it has none). */
static size_t
s_rot_suffix(const char *name, size_t len)
{
    size_t i = len;
    while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9') {
        i--;
    }
    if (i == len || i == 0 || name[i - 1] != '.') {
        return 0;
    }
    return len - i + 1;
}

/*  True when name (len bytes) ends with S_SUFFIX and has an encoded name before it. */
static bool
s_is_spool(const char *name, size_t len)
{
    size_t sl = strlen(S_SUFFIX);
    return len > sl && memcmp(name + len - sl, S_SUFFIX, sl) == 0;
}

/*  qsort comparator of an array of file names (char *), by strcmp of the names. */
static int
s_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

ship_spool_t *
ship_spool_new(const char *dir, uint64_t max_bytes, ship_spool_rotated_fn *fn, void *arg)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_error("cannot make the spool directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    DIR *d = opendir(dir);
    if (!d) {
        log_error("cannot read the spool directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    ship_spool_t *self = xcalloc(1, sizeof *self);
    self->dir = xstrdup(dir);
    self->max_bytes = max_bytes ? max_bytes : 1;
    self->fn = fn;
    self->arg = arg;
    struct dirent *de;
    /* Sorted by name for a stable order (readdir's is the file system's). */
    char **names = NULL;
    size_t n_names = 0, cap_names = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2]))) {
            continue;
        }
        xgrow(&names, &cap_names, n_names + 1);
        names[n_names++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (n_names > 1) { /* qsort's array must not be NULL, even when empty (UBSan) */
        qsort(names, n_names, sizeof *names, s_name_cmp);
    }
    for (size_t i = 0; i < n_names; i++) {
        const char *nm = names[i];
        size_t len = strlen(nm);
        size_t rot = s_rot_suffix(nm, len);
        size_t base = len - rot;
        char *worker = s_is_spool(nm, base) ? s_decode(nm, base - strlen(S_SUFFIX)) : NULL;
        char *path = xasprintf("%s/%s", dir, nm);
        struct stat st;
        if (!worker || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            log_warn("%s: not a spool file; left alone", path);
            free(worker);
            free(path);
            continue;
        }
        if (rot > 0) {
            xgrow(&self->rotated, &self->cap_rotated, self->n_rotated + 1);
            self->rotated[self->n_rotated++] = path;
        } else {
            char *name = xstrndup(nm, base - strlen(S_SUFFIX));
            s_entry_t *e = s_entry(self, worker, name);
            e->exists = true;
            free(name);
            free(path);
        }
        free(worker);
    }
    for (size_t i = 0; i < n_names; i++) {
        free(names[i]);
    }
    free(names);
    return self;
}

void
ship_spool_destroy(ship_spool_t **self_p)
{
    ship_spool_t *self = *self_p;
    if (!self) {
        return;
    }
    (void)ship_spool_flush(self);
    for (size_t i = 0; i < self->n; i++) {
        s_entry_t *e = &self->entries[i];
        if (e->fd >= 0) {
            close(e->fd);
        }
        free(e->worker);
        free(e->name);
        free(e->path);
        free(e->buf);
    }
    for (size_t i = 0; i < self->n_rotated; i++) {
        free(self->rotated[i]);
    }
    free(self->rotated);
    free(self->entries);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

/*  Appends n bytes to the entry's buffer. */
static void
s_put(s_entry_t *e, const void *data, size_t n)
{
    if (e->len + n + 1 > e->cap) {
        size_t want = e->cap ? e->cap : 4096;
        while (want < e->len + n + 1) {
            want *= 2;
        }
        e->buf = xrealloc(e->buf, want);
        e->cap = want;
    }
    memcpy(e->buf + e->len, data, n);
    e->len += n;
}

void
ship_spool_add(ship_spool_t *self, const char *worker, const void *data, size_t len)
{
    s_entry_t *e = NULL;
    if (self->last < self->n && strcmp(self->entries[self->last].worker, worker) == 0) {
        e = &self->entries[self->last];
    } else {
        char name[SHIP_SPOOL_NAME_MAX + 1];
        bool ok = ship_spool_name(worker, name, sizeof name);
        /* syslog_tls hands out 1..64 printable bytes, which always fit. */
        if (!ok) {
            snprintf(name, sizeof name, "%%00");
        }
        e = s_entry(self, worker, name);
    }
    s_put(e, worker, strlen(worker));
    s_put(e, "\t", 1);
    const unsigned char *p = data;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        const char *esc = NULL;
        switch (p[i]) {
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            continue;
        }
        s_put(e, p + start, i - start);
        s_put(e, esc, 2);
        start = i + 1;
    }
    s_put(e, p + start, len - start);
    s_put(e, "\n", 1);
    e->messages++;
}

/*  Opens the entry's current spool for appending, creating it when missing. A file that
    ends inside a line (a crash between two writes of one line) gets a newline first.
    Returns 0 or -errno. */
static int
s_open(ship_spool_t *self, s_entry_t *e)
{
    int fd = open(e->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool created = fd >= 0;
    if (fd < 0 && errno == EEXIST) {
        fd = open(e->path, O_WRONLY | O_APPEND | O_CLOEXEC);
    }
    if (fd < 0) {
        return -errno;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    e->size = (uint64_t)st.st_size;
    if (e->size > 0) {
        char last = '\n';
        int rfd = open(e->path, O_RDONLY | O_CLOEXEC);
        if (rfd >= 0) {
            if (pread(rfd, &last, 1, (off_t)(e->size - 1)) != 1) {
                last = '\n';
            }
            close(rfd);
        }
        if (last != '\n') {
            if (write(fd, "\n", 1) != 1) {
                int rc = errno ? -errno : -EIO;
                close(fd);
                return rc;
            }
            e->size++;
            e->wrote = true;
            log_warn("%s: ended inside a line (cut short by a crash); that line is closed "
                     "and will be reported as bad",
                     e->path);
        }
    }
    if (created) {
        self->dir_dirty = true;
        log_info("syslog: spooling worker %s to %s", e->worker, e->path);
    }
    e->fd = fd;
    e->exists = true;
    return 0;
}

/*  The next free rotation number of the entry: one more than any `<name>.log.<N>`. */
static uint64_t
s_next_rotation(ship_spool_t *self, const s_entry_t *e)
{
    uint64_t max = 0;
    DIR *d = opendir(self->dir);
    struct dirent *de;
    size_t nl = strlen(e->name) + strlen(S_SUFFIX);
    while (d && (de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        if (strncmp(nm, e->name, strlen(e->name)) != 0 ||
            strncmp(nm + strlen(e->name), S_SUFFIX, strlen(S_SUFFIX)) != 0 || nm[nl] != '.') {
            continue;
        }
        char *end = NULL;
        uint64_t v = strtoull(nm + nl + 1, &end, 10);
        if (end != nm + nl + 1 && !*end && v > max) {
            max = v;
        }
    }
    if (d) {
        closedir(d);
    }
    return max + 1;
}

/*  Renames the entry's spool away (it reached max_bytes) and reports it. Returns 0 or
    -errno (the spool stays as it is; the next flush tries again). */
static int
s_rotate(ship_spool_t *self, s_entry_t *e)
{
    struct stat st;
    if (fstat(e->fd, &st) != 0) {
        return -errno;
    }
    uint64_t n = s_next_rotation(self, e);
    char *to = xasprintf("%s.%" PRIu64, e->path, n);
    while (access(to, F_OK) == 0) {
        free(to);
        to = xasprintf("%s.%" PRIu64, e->path, ++n);
    }
    if (rename(e->path, to) != 0) {
        int rc = -errno;
        free(to);
        return rc;
    }
    close(e->fd);
    e->fd = -1;
    e->exists = false;
    e->size = 0;
    self->dir_dirty = true;
    log_info("syslog: %s rotated to %s", e->path, to);
    self->fn(self->arg, e->path, to, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
    free(to);
    return 0;
}

/*  Syncs the spool directory (a file in it was created or renamed). Returns 0 or -errno. */
static int
s_sync_dir(ship_spool_t *self)
{
    int fd = open(self->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    if (rc == 0) {
        self->dir_dirty = false;
    }
    return rc;
}

int
ship_spool_flush(ship_spool_t *self)
{
    int first = 0;
    for (size_t i = 0; i < self->n; i++) {
        s_entry_t *e = &self->entries[i];
        if (e->len == 0) {
            continue;
        }
        int rc = e->fd < 0 ? s_open(self, e) : 0;
        size_t at = 0;
        while (rc == 0 && at < e->len) {
            ssize_t w = write(e->fd, e->buf + at, e->len - at);
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                rc = w < 0 ? -errno : -EIO;
                break;
            }
            at += (size_t)w;
            e->size += (uint64_t)w;
            e->wrote = true;
        }
        memmove(e->buf, e->buf + at, e->len - at);
        e->len -= at;
        if (rc != 0 && first == 0) {
            first = rc;
        }
    }
    for (size_t i = 0; i < self->n; i++) {
        s_entry_t *e = &self->entries[i];
        if (e->wrote && e->fd >= 0) {
            if (fsync(e->fd) != 0 && first == 0) {
                first = -errno;
            } else {
                e->wrote = false;
            }
        }
    }
    if (self->dir_dirty) {
        int rc = s_sync_dir(self);
        if (rc != 0 && first == 0) {
            first = rc;
        }
    }
    for (size_t i = 0; i < self->n; i++) {
        s_entry_t *e = &self->entries[i];
        if (e->fd >= 0 && e->len == 0 && !e->wrote && e->size >= self->max_bytes) {
            int rc = s_rotate(self, e);
            if (rc != 0 && first == 0) {
                first = rc;
            }
        }
    }
    if (self->dir_dirty) {
        int rc = s_sync_dir(self);
        if (rc != 0 && first == 0) {
            first = rc;
        }
    }
    return first;
}

bool
ship_spool_pending(const ship_spool_t *self)
{
    for (size_t i = 0; i < self->n; i++) {
        if (self->entries[i].len > 0) {
            return true;
        }
    }
    return false;
}

size_t
ship_spool_count(const ship_spool_t *self)
{
    return self->n;
}

const char *
ship_spool_path(const ship_spool_t *self, size_t i)
{
    return self->entries[i].path;
}

const char *
ship_spool_worker(const ship_spool_t *self, size_t i)
{
    return self->entries[i].worker;
}

bool
ship_spool_exists(const ship_spool_t *self, size_t i)
{
    return self->entries[i].exists;
}

uint64_t
ship_spool_messages(const ship_spool_t *self, size_t i)
{
    return self->entries[i].messages;
}

size_t
ship_spool_n_rotated(const ship_spool_t *self)
{
    return self->n_rotated;
}

const char *
ship_spool_rotated(const ship_spool_t *self, size_t i)
{
    return self->rotated[i];
}
