/*
 * cmd_new.c - `wasmplug new LANG NAME`: copy a PDK template into a new
 * project directory, substituting the plugin's name and the SDK's place.
 *
 * Templates are directories found, in order, in
 *   $WASMPLUG_TEMPLATES/<lang>
 *   <prefix>/share/wasmplug/sdk/templates/<lang>   (next to the installed binary)
 *   <source>/sdk/<lang>/template, <source>/sdk/templates/<lang>   (source tree)
 *   the configured install prefix's share/wasmplug/sdk
 * In file contents and file names, these placeholders are replaced:
 *   {{name}}        the NAME given (also the plugin id)
 *   {{name_snake}}  NAME with '-' turned into '_' (C/Rust identifiers)
 *   {{version}}     0.1.0
 *   {{lang}}        the template's language
 *   {{sdk}}         the absolute path of the SDK the template belongs to
 * and "__name__" / "__name_snake__" in file names. So that a template is a
 * plugin that builds where it is, its literal id "my-plugin" ("my_plugin",
 * "My plugin") is replaced too, and so are the in-tree SDK paths a template
 * uses ("$here/../.." in build.sh, "../../rust" in Cargo.toml): the project
 * builds against the SDK it was created from, wherever it is created. A
 * template without a README.md gets <templates>/PROJECT_README.md, one
 * without a plugin.yaml a minimal one.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef WASMPLUG_SOURCE_DIR
#define WASMPLUG_SOURCE_DIR ""
#endif
#ifndef WASMPLUG_DATA_DIR
#define WASMPLUG_DATA_DIR ""
#endif

static const char *canonical_lang(const char *lang)
{
    if (!strcmp(lang, "as") || !strcmp(lang, "ts") || !strcmp(lang, "typescript"))
        return "assemblyscript";
    if (!strcmp(lang, "rs"))
        return "rust";
    return lang;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The template roots to search, most specific first. */
static size_t template_roots(char roots[][PATH_MAX], size_t max)
{
    size_t n = 0;
    const char *env = getenv("WASMPLUG_TEMPLATES");
    if (env && *env && n < max)
        snprintf(roots[n++], PATH_MAX, "%s", env);
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0 && n < max) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash && (size_t)(slash - exe) + 32 < PATH_MAX) {
            memcpy(slash, "/../share/wasmplug/sdk", 23);
            memcpy(roots[n++], exe, strlen(exe) + 1);
        }
    }
    if (*WASMPLUG_SOURCE_DIR && n < max)
        snprintf(roots[n++], PATH_MAX, "%s/sdk", WASMPLUG_SOURCE_DIR);
    if (*WASMPLUG_DATA_DIR && n < max)
        snprintf(roots[n++], PATH_MAX, "%s/sdk", WASMPLUG_DATA_DIR);
    return n;
}

/* The template directory for lang under root, or false. */
static bool template_dir(const char *root, const char *lang, char *out, size_t size)
{
    const char *forms[] = {"%s/%s/template", "%s/templates/%s", "%s/%s"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(out, size, forms[i], root, lang);
        /* "<root>/<lang>" alone counts only for template roots, not for sdk/. */
        if (i == 2 && strstr(root, "/sdk") && strcmp(root + strlen(root) - 4, "/sdk") == 0)
            continue;
        if (is_dir(out))
            return true;
    }
    return false;
}

typedef struct subst {
    const char *name, *snake, *version, *lang;
    const char *sdk;        /* absolute SDK path, or NULL when unknown */
    const char *sdk_rust;   /* "\"<sdk>/rust\"" */
} subst;

/* Replace every placeholder in s (malloc'd result). */
static char *replace_all(const char *s, size_t len, const subst *sb, size_t *outlen)
{
    enum { NKEYS = 12 };
    const char *keys[NKEYS] = {"{{name_snake}}", "{{name}}",  "{{version}}", "{{lang}}",
                               "{{sdk}}",        "__name_snake__", "__name__", "my-plugin",
                               "my_plugin",      "My plugin", "$here/../..", "\"../../rust\""};
    const char *vals[NKEYS] = {sb->snake,  sb->name,  sb->version, sb->lang,
                               sb->sdk,    sb->snake, sb->name,    sb->name,
                               sb->snake,  sb->name,  sb->sdk,     sb->sdk_rust};
    size_t cap = len + 64, n = 0;
    char *out = malloc(cap);
    for (size_t i = 0; out && i < len;) {
        size_t k;
        for (k = 0; k < NKEYS; k++) {
            size_t kl = strlen(keys[k]);
            if (vals[k] && i + kl <= len && memcmp(s + i, keys[k], kl) == 0)
                break;
        }
        const char *piece = k < NKEYS ? vals[k] : s + i;
        size_t pl = k < NKEYS ? strlen(vals[k]) : 1;
        if (n + pl + 1 > cap) {
            cap = (n + pl + 1) * 2;
            char *no = realloc(out, cap);
            if (!no) {
                free(out);
                return NULL;
            }
            out = no;
        }
        memcpy(out + n, piece, pl);
        n += pl;
        i += k < NKEYS ? strlen(keys[k]) : 1;
    }
    if (out) {
        out[n] = 0;
        *outlen = n;
    }
    return out;
}

/* Copy one file, replacing placeholders, keeping its permission bits. */
static int copy_file(const char *src, const char *dst, mode_t mode, const subst *sb)
{
    size_t len;
    char *text = wps_read_file(src, &len);
    if (!text)
        return errno;
    size_t olen;
    char *out = replace_all(text, len, sb, &olen);
    free(text);
    FILE *f = out ? fopen(dst, "wx") : NULL;
    if (!f) {
        int rc = out ? errno : ENOMEM;
        free(out);
        return rc;
    }
    int rc = 0;
    if (fwrite(out, 1, olen, f) != olen)
        rc = EIO;
    if (fclose(f) != 0 && !rc)
        rc = errno;
    free(out);
    if (!rc && chmod(dst, mode & 0777) != 0)
        rc = errno;
    return rc;
}

static int copy_tree(const char *src, const char *dst, const subst *sb, size_t *files)
{
    if (mkdir(dst, 0755) != 0 && errno != EEXIST)
        return errno;
    DIR *d = opendir(src);
    if (!d)
        return errno;
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            !strcmp(e->d_name, "node_modules") || !strcmp(e->d_name, "target"))
            continue;
        char s[PATH_MAX], t[PATH_MAX];
        size_t nl;
        char *name = replace_all(e->d_name, strlen(e->d_name), sb, &nl);
        if (!name) {
            rc = ENOMEM;
            break;
        }
        snprintf(s, sizeof s, "%s/%s", src, e->d_name);
        snprintf(t, sizeof t, "%s/%s", dst, name);
        free(name);
        struct stat st;
        if (stat(s, &st) != 0) {
            rc = errno;
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            rc = copy_tree(s, t, sb, files);
            continue;
        }
        rc = copy_file(s, t, st.st_mode, sb);
        if (rc)
            break;
        (*files)++;
    }
    closedir(d);
    return rc;
}

/* Names every toolchain accepts: a plugin id, an npm package name
 * (lowercase) and a Cargo package name (no '.', not starting with a digit). */
static bool valid_project_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 63 || name[0] < 'a' || name[0] > 'z')
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return false;
    return true;
}

/* NAME made valid (lowercase, other characters as '-'), or "" if hopeless. */
static void suggest_project_name(const char *name, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < size && n < 63; p++) {
        char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (n == 0 && !(c >= 'a' && c <= 'z'))
            continue;
        out[n++] = ok ? c : '-';
    }
    out[n] = 0;
    if (!valid_project_name(out))
        out[0] = 0;
}

/* The absolute SDK directory of a template <sdk>/templates/<lang> (one with
 * the C PDK in it), or false. */
static bool sdk_of_template(const char *tdir, char *out, size_t size)
{
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/../..", tdir);
    char real[PATH_MAX];
    if (!realpath(probe, real) || strlen(real) >= size)
        return false;
    snprintf(probe, sizeof probe, "%s/c/wasmplug_pdk.h", real);
    struct stat st;
    if (stat(probe, &st) != 0)
        return false;
    memcpy(out, real, strlen(real) + 1);
    return true;
}

/* mkdir -p the directories above path (--dir a/b). */
static int make_parents(const char *path)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (!slash || slash == parent)
        return 0;
    *slash = 0;
    return wps_mkdirs(parent, 0755);
}

enum { O_DIR = 1, O_LIST };

int cmd_new(int argc, char **argv)
{
    static const cli_opt opts[] = {{"dir", 'd', true, O_DIR}, {"list", 'l', false, O_LIST},
                                   {NULL, 0, false, 0}};
    cli_args a = {argc, argv, 1, false};
    const char *pos[2] = {NULL, NULL}, *dir = NULL, *arg;
    int npos = 0, id;
    bool list = false;
    while ((id = cli_next(&a, opts, "new", &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        if (id == O_DIR)
            dir = arg;
        else if (id == O_LIST)
            list = true;
        else if (npos < 2)
            pos[npos++] = arg;
        else {
            cli_error("new takes LANG and NAME (got '%s' too)", arg);
            return EXIT_USAGE;
        }
    }
    cli_setup();
    char roots[4][PATH_MAX];
    size_t nroots = template_roots(roots, 4);
    if (list) {
        json_t *arr = json_array();
        for (size_t r = 0; r < nroots; r++) {
            DIR *d = opendir(roots[r]);
            struct dirent *e;
            while (d && (e = readdir(d))) {
                char t[PATH_MAX];
                if (e->d_name[0] == '.' || !template_dir(roots[r], e->d_name, t, sizeof t))
                    continue;
                /* The first root with a language wins (as in the search). */
                bool seen = false;
                for (size_t k = 0; k < json_array_size(arr) && !seen; k++)
                    seen = !strcmp(json_string_value(json_object_get(json_array_get(arr, k), "lang")),
                                   e->d_name);
                if (seen)
                    continue;
                json_array_append_new(arr, json_pack("{s:s, s:s}", "lang", e->d_name, "path", t));
                if (!G.json)
                    printf("%-16s %s\n", e->d_name, t);
            }
            if (d)
                closedir(d);
        }
        if (G.json)
            cli_json_print(json_pack("{s:o}", "templates", arr));
        else
            json_decref(arr);
        return EXIT_OK;
    }
    if (npos < 2) {
        cli_error("usage: wasmplug new LANG NAME [--dir DIR] (wasmplug new --list shows LANGs)");
        return EXIT_USAGE;
    }
    const char *lang = canonical_lang(pos[0]), *name = pos[1];
    if (!valid_project_name(name)) {
        char suggestion[64];
        suggest_project_name(name, suggestion, sizeof suggestion);
        cli_error("NAME must be a lowercase letter followed by a-z 0-9 - _ (at most 63 in "
                  "all), so that it is a plugin id, an npm package and a Cargo crate name "
                  "(got '%s'%s%s%s)",
                  name, *suggestion ? "; try '" : "", suggestion, *suggestion ? "'" : "");
        return EXIT_USAGE;
    }
    char tdir[PATH_MAX];
    bool found = false;
    for (size_t r = 0; r < nroots && !found; r++)
        found = template_dir(roots[r], lang, tdir, sizeof tdir);
    if (!found) {
        char msg[1024];
        snprintf(msg, sizeof msg,
                 "no template for language '%s' (searched $WASMPLUG_TEMPLATES, the installed "
                 "share/wasmplug/sdk and the source tree's sdk/; see wasmplug new --list)",
                 pos[0]);
        return cli_fail_json(EXIT_NOT_FOUND, "not_found", msg);
    }
    const char *dest = dir ? dir : name;
    struct stat st;
    if (stat(dest, &st) == 0) {
        char msg[PATH_MAX + 64];
        snprintf(msg, sizeof msg, "%s already exists", dest);
        return cli_fail_json(EXIT_IO, "exists", msg);
    }
    char snake[64];
    snprintf(snake, sizeof snake, "%s", name);
    for (char *p = snake; *p; p++)
        if (*p == '-')
            *p = '_';
    /* The SDK a template under <sdk>/templates/<lang> belongs to. */
    char sdk[PATH_MAX], sdk_rust[PATH_MAX + 16], tmpl_readme[PATH_MAX + 32];
    bool have_sdk = sdk_of_template(tdir, sdk, sizeof sdk);
    snprintf(sdk_rust, sizeof sdk_rust, "\"%s/rust\"", sdk);
    subst sb = {name, snake, "0.1.0", lang, have_sdk ? sdk : NULL, have_sdk ? sdk_rust : NULL};
    size_t files = 0;
    int rc = make_parents(dest);
    if (!rc)
        rc = copy_tree(tdir, dest, &sb, &files);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/README.md", dest);
    snprintf(tmpl_readme, sizeof tmpl_readme, "%s/../PROJECT_README.md", tdir);
    if (!rc && stat(path, &st) != 0 && stat(tmpl_readme, &st) == 0) {
        rc = copy_file(tmpl_readme, path, 0644, &sb);
        files += !rc;
    }
    snprintf(path, sizeof path, "%s/%s", dest, WASMPLUG_MANIFEST_FILE);
    if (!rc && stat(path, &st) != 0) {
        FILE *f = fopen(path, "w");
        if (!f)
            rc = errno;
        else {
            fprintf(f,
                    "id: %s\nname: %s\nversion: 0.1.0\ndescription: A wasmplug plugin\n"
                    "module: %s.wasm\nabi: v1\n",
                    name, name, snake);
            if (fclose(f) != 0)
                rc = errno;
            files++;
        }
    }
    if (rc) {
        char msg[PATH_MAX * 2 + 128];
        snprintf(msg, sizeof msg, "cannot create %s from %s: %s", dest, tdir, strerror(rc));
        wps_rmtree(dest);
        return cli_fail_json(EXIT_IO, NULL, msg);
    }
    if (G.json)
        cli_json_print(json_pack("{s:{s:s, s:s, s:s, s:i}}", "created", "name", name, "lang", lang,
                                 "path", dest, "files", (int)files));
    else {
        printf("%screated%s %s (%s plugin, %zu files from %s)\n", cli_green(), cli_reset(), dest,
               lang, files, tdir);
        snprintf(path, sizeof path, "%s/build.sh", dest);
        if (stat(path, &st) == 0)
            printf("next: cd %s && ./build.sh && wasmplug run . greet '{\"name\":\"Ada\"}'%s\n",
                   dest, have_sdk ? "" : " (set WASMPLUG_SDK to the wasmplug sdk/ directory)");
    }
    return EXIT_OK;
}
