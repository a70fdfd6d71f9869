/* SPDX-License-Identifier: MIT */
/* replay.c - main() for builds without libFuzzer (gcc, Valgrind).
 *
 *   fuzz_replay FILE|DIR...          run each input file (a directory:
 *                                    each regular file in it, sorted)
 *   fuzz_replay -random N SEED MAX   run N inputs of random bytes (1..MAX
 *                                    bytes each, xorshift from SEED)
 *
 * With FUZZ_DUMP=FILE, each random input is written to FILE before it
 * runs, so that the one that fails is kept.
 *
 * Prints the operation count (entry.c) at exit; any disagreement with
 * the model aborts with a message, as under libFuzzer.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0) {
            break;
        }
        len += n;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int
cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        perror(dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char **nn = realloc(names, (n + 1) * sizeof *names);
        size_t plen = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(plen);
        if (nn == NULL || p == NULL) {
            free(p);
            free(nn ? nn : names);
            closedir(d);
            return -1;
        }
        names = nn;
        snprintf(p, plen, "%s/%s", dir, e->d_name);
        names[n++] = p;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        rc |= run_file(names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

static uint64_t
next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static int
run_random(unsigned long n, uint64_t seed, size_t max)
{
    uint8_t *buf = malloc(max ? max : 1);
    if (buf == NULL) {
        return -1;
    }
    uint64_t s = seed * 2654435761u + 1;
    const char *dump = getenv("FUZZ_DUMP");
    for (unsigned long i = 0; i < n; i++) {
        size_t len = 1 + (size_t)(next(&s) % (max ? max : 1));
        for (size_t j = 0; j < len; j++) {
            buf[j] = (uint8_t)next(&s);
        }
        if (dump != NULL) {
            FILE *f = fopen(dump, "wb");
            if (f != NULL) {
                fwrite(buf, 1, len, f);
                fclose(f);
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    free(buf);
    return 0;
}

int
main(int argc, char **argv)
{
    int rc = 0;
    if (argc == 5 && strcmp(argv[1], "-random") == 0) {
        return run_random(strtoul(argv[2], NULL, 0),
                          strtoull(argv[3], NULL, 0),
                          (size_t)strtoul(argv[4], NULL, 0)) != 0;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            rc = 1;
        }
        else if (S_ISDIR(st.st_mode)) {
            rc |= run_dir(argv[i]) != 0;
        }
        else {
            rc |= run_file(argv[i]) != 0;
        }
    }
    return rc;
}
