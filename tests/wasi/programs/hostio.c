/*
 * hostio.c - a WASI reactor plugin (wasi-libc) for tests/wasi/test_host.c:
 * typed exports that print, list and write files in /data, look at the
 * environment and arguments, and exit, so the plugin host's WASI
 * integration (grants, captured output, per-instance contexts) can be
 * checked.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#define EXPORT(n) __attribute__((export_name(n)))

EXPORT("hello") int hello(void)
{
    printf("hello from wasi\n");
    fprintf(stderr, "warn\n");
    fflush(stdout);
    return 0;
}

/* Entries in a directory (without . and ..), or -errno. */
static int count(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return -errno;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

EXPORT("count_data") int count_data(void) { return count("/data"); }
EXPORT("count_other") int count_other(void) { return count("/other"); }

EXPORT("write_data") int write_data(void)
{
    FILE *f = fopen("/data/written.txt", "w");
    if (!f)
        return errno;
    fputs("written by the plugin\n", f);
    return fclose(f) == 0 ? 0 : errno;
}

EXPORT("env_mask") int env_mask(void)
{
    return (getenv("ALLOWED") ? 1 : 0) | (getenv("SECRET") ? 2 : 0);
}

EXPORT("arg_count") int arg_count(void)
{
    size_t argc = 0, size = 0;
    if (__wasi_args_sizes_get(&argc, &size) != 0)
        return -1;
    return (int)argc;
}

EXPORT("quit") int quit(void)
{
    exit(5);
}
