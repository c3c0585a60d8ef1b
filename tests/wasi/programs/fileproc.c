/*
 * fileproc.c - a small file-processing command, built twice: with wasi-libc
 * for wasm32-wasi (run by wasmplug) and natively with the host cc. Both
 * builds must give byte-identical stdout, stderr, exit code and output
 * files (tests/wasi/run-programs.sh compares them).
 *
 *   fileproc DIR [--exit N]
 *
 * Lists DIR (sorted), reports lines/words/bytes/FNV-1a hash of each regular
 * file, writes DIR/out/<name>.upper (upper-cased copy) and a report that is
 * written, renamed, re-read with seeks, then exits with N (default 0).
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILES 256

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fileproc DIR [--exit N]\n");
        return 2;
    }
    const char *dir = argv[1];
    int exit_code = argc > 3 && strcmp(argv[2], "--exit") == 0 ? atoi(argv[3]) : 0;
    const char *greeting = getenv("GREETING");
    printf("greeting: %s\n", greeting ? greeting : "(none)");

    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "fileproc: cannot open %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char *names[MAX_FILES];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < MAX_FILES)
        if (de->d_name[0] != '.')
            names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp);

    char *outdir = path_join(dir, "out");
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "fileproc: mkdir %s: %s\n", "out", strerror(errno));
        return 1;
    }
    char *tmpname = path_join(outdir, "report.tmp");
    FILE *report = fopen(tmpname, "w");
    if (!report) {
        fprintf(stderr, "fileproc: cannot create report: %s\n", strerror(errno));
        return 1;
    }
    int files = 0;
    for (int i = 0; i < n; i++) {
        char *p = path_join(dir, names[i]);
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
            printf("skip %s (%s)\n", names[i], S_ISDIR(st.st_mode) ? "directory" : "other");
            free(p);
            continue;
        }
        FILE *f = fopen(p, "rb");
        if (!f) {
            fprintf(stderr, "fileproc: %s: %s\n", names[i], strerror(errno));
            free(p);
            continue;
        }
        char *upname = malloc(strlen(names[i]) + 8);
        sprintf(upname, "%s.upper", names[i]);
        char *up = path_join(outdir, upname);
        FILE *u = fopen(up, "wb");
        unsigned long lines = 0, words = 0, bytes = 0;
        unsigned hash = 2166136261u;
        int c, inword = 0;
        while ((c = fgetc(f)) != EOF) {
            bytes++;
            hash = (hash ^ (unsigned char)c) * 16777619u;
            if (c == '\n')
                lines++;
            if (isspace(c))
                inword = 0;
            else if (!inword) {
                inword = 1;
                words++;
            }
            fputc(toupper(c), u);
        }
        fclose(f);
        fclose(u);
        if ((unsigned long)st.st_size != bytes)
            fprintf(stderr, "fileproc: %s: size %ld but read %lu\n", names[i],
                    (long)st.st_size, bytes);
        printf("%-16s %5lu %5lu %6lu %08x\n", names[i], lines, words, bytes, hash);
        fprintf(report, "%s %lu %lu %lu %08x\n", names[i], lines, words, bytes, hash);
        files++;
        free(up);
        free(upname);
        free(p);
    }
    fprintf(report, "files %d\n", files);
    fclose(report);

    char *final = path_join(outdir, "report.txt");
    if (rename(tmpname, final) != 0) {
        fprintf(stderr, "fileproc: rename: %s\n", strerror(errno));
        return 1;
    }
    /* Re-read the tail of the report with seeks. */
    FILE *r = fopen(final, "rb");
    fseek(r, 0, SEEK_END);
    long size = ftell(r);
    fseek(r, size > 8 ? size - 8 : 0, SEEK_SET);
    char tail[16] = {0};
    size_t got = fread(tail, 1, 8, r);
    fclose(r);
    printf("report %ld bytes, tail %zu: ", size, got);
    for (size_t i = 0; i < got; i++)
        putchar(tail[i] == '\n' ? '|' : tail[i]);
    putchar('\n');

    /* Missing files and removing a scratch file. */
    char *missing = path_join(dir, "does-not-exist");
    if (!fopen(missing, "r"))
        printf("missing: %s\n", strerror(errno));
    char *scratch = path_join(outdir, "scratch");
    FILE *s = fopen(scratch, "w");
    fputs("x", s);
    fclose(s);
    printf("unlink scratch: %d\n", unlink(scratch));
    printf("unlink again: %s\n", unlink(scratch) == 0 ? "ok" : strerror(errno));
    fprintf(stderr, "fileproc: %d files\n", files);
    for (int i = 0; i < n; i++)
        free(names[i]);
    return exit_code;
}
