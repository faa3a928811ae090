/*  replay.c - runs a fuzz target over files, without libFuzzer (docs/fuzzing.md).

    Usage: fuzz_replay_<name> [--optional] PATH...

    Every regular file of each directory PATH (in name order, not recursing), or PATH itself
    when it is a file, is read into a buffer of exactly its size (so ASan sees a read past
    the end) and passed to LLVMFuzzerTestOneInput(). A path after --optional may be missing
    (fuzz/regressions/<name>/ exists only once a crash was kept). Exits 0 when every input
    ran, 1 on an unreadable path; a crashing input aborts the process, which fails the
    ctest fuzz.<name> that runs it. Built with gcc or clang, with or without sanitizers.
*/
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

/*  Reads the whole file at path into a new buffer of exactly its size (NULL for an empty
    file). Returns 0 with *data_p (the caller frees it) and *size_p set, or -errno. */
static int
s_read_file(const char *path, uint8_t **data_p, size_t *size_p)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return -errno;
    }
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = 0;
    for (;;) {
        uint8_t chunk[65536];
        size_t got = fread(chunk, 1, sizeof chunk, f);
        if (got > 0) {
            uint8_t *grown = realloc(data, size + got);
            if (!grown) {
                rc = -ENOMEM;
                break;
            }
            data = grown;
            memcpy(data + size, chunk, got);
            size += got;
        }
        if (got < sizeof chunk) {
            if (ferror(f)) {
                rc = -EIO;
            }
            break;
        }
    }
    fclose(f);
    if (rc != 0) {
        free(data);
        return rc;
    }
    *data_p = data;
    *size_p = size;
    return 0;
}

/*  Runs the target on one file. Returns 0 or -errno. */
static int
s_run_file(const char *path)
{
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = s_read_file(path, &data, &size);
    if (rc != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(-rc));
        return rc;
    }
    /* A heap copy of the exact size even when empty, as libFuzzer passes it. */
    uint8_t *exact = malloc(size ? size : 1);
    if (!exact) {
        free(data);
        return -ENOMEM;
    }
    if (size) {
        memcpy(exact, data, size);
    }
    free(data);
    LLVMFuzzerTestOneInput(exact, size);
    free(exact);
    return 0;
}

static int
s_name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/*  Runs the target on every regular file of dir. Returns the number of files run, or -errno
    when dir (or one of its files) cannot be read. */
static long
s_run_dir(const char *dir)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, s_name_cmp);
    if (n < 0) {
        return -errno;
    }
    long runs = 0;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        struct stat st;
        if (rc == 0 && names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            rc = s_run_file(path);
            runs++;
        }
        free(names[i]);
    }
    free(names);
    return rc != 0 ? rc : runs;
}

int
main(int argc, char **argv)
{
    bool optional = false;
    long total = 0;
    for (int i = 1; i < argc; i++) {
        const char *path = argv[i];
        if (strcmp(path, "--optional") == 0) {
            optional = true;
            continue;
        }
        struct stat st;
        if (stat(path, &st) != 0) {
            if (errno == ENOENT && optional) {
                printf("replay: %s: none\n", path);
                continue;
            }
            fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
            return 1;
        }
        long runs = 0;
        if (S_ISDIR(st.st_mode)) {
            runs = s_run_dir(path);
        } else {
            runs = s_run_file(path) == 0 ? 1 : -1;
        }
        if (runs < 0) {
            fprintf(stderr, "replay: %s: cannot read it\n", path);
            return 1;
        }
        printf("replay: %s: %ld input%s\n", path, runs, runs == 1 ? "" : "s");
        total += runs;
    }
    printf("replay: %ld input%s ran clean\n", total, total == 1 ? "" : "s");
    return 0;
}
