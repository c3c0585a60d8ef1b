/*
 * dist_forward.c - in the statically linked wasmplug, the distribution
 * commands execute wasmplug-dist (the same CLI, dynamically linked with
 * libcurl, libarchive and libsodium) with this process's arguments. It is
 * looked up in $WASMPLUG_DIST_HELPER, next to this executable, then in
 * ../libexec/wasmplug/ relative to it (the installed layout). Also: which
 * installs are distribution installs (both builds).
 */
#include "cli.h"
#include "cli_dist.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool cli_dist_wants_install(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--locked"))
            return true;
        if (!strcmp(s, "--manifest") || !strcmp(s, "-m"))
            return false;
        if (s[0] == '-' || (i > 1 && (!strcmp(argv[i - 1], "--store") ||
                                      !strcmp(argv[i - 1], "--color") ||
                                      !strcmp(argv[i - 1], "--project"))))
            continue;
        size_t n = strlen(s);
        if (n > 9 && !strcmp(s + n - 9, ".wasmplug"))
            return true;
        struct stat sb;
        return stat(s, &sb) != 0; /* not a local directory or file: a name */
    }
    return false;
}

#ifndef WASMPLUG_CLI_DIST

#define HELPER "wasmplug-dist"

void cli_dist_exec(char *msg, size_t msg_size)
{
    char self[PATH_MAX], tried[3 * PATH_MAX + 64] = "";
    const char *env = getenv("WASMPLUG_DIST_HELPER");
    if (env && *env) {
        execv(env, G.argv);
        snprintf(tried, sizeof tried, "%s (%s)", env, strerror(errno));
    } else {
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) {
            snprintf(msg, msg_size, "cannot find this executable to locate %s: %s", HELPER,
                     strerror(errno));
            return;
        }
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash)
            *slash = '\0';
        const char *const rel[] = {"/" HELPER, "/../libexec/wasmplug/" HELPER};
        for (size_t i = 0; i < 2; i++) {
            char path[PATH_MAX + 64];
            snprintf(path, sizeof path, "%s%s", self, rel[i]);
            execv(path, G.argv);
            size_t used = strlen(tried);
            snprintf(tried + used, sizeof tried - used, "%s%s", used ? ", " : "", path);
        }
    }
    snprintf(msg, msg_size,
             "this command needs %s, which was not found (tried %.*s); set "
             "WASMPLUG_DIST_HELPER or reinstall wasmplug",
             HELPER, (int)(msg_size > 200 ? msg_size - 200 : 0), tried);
}

int cli_dist_forward(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char msg[2 * PATH_MAX];
    cli_dist_exec(msg, sizeof msg);
    cli_error("%s", msg);
    return EXIT_INTERNAL;
}

#endif
