/*
 * cmd_sign.c - packaging and signing commands: pack, keygen, sign, verify
 * and publish (wasmplug/package.h, wasmplug/signing.h, registry.h), with
 * passphrases read from a file or, without echo, from the terminal.
 */
#include "cli.h"
#include "cli_dist.h"
#include "term.h"

#include <wasmplug/package.h>
#include <wasmplug/registry.h>
#include <wasmplug/signing.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

enum {
    O_OUT = 1,
    O_PUB,
    O_SEC,
    O_UNENCRYPTED,
    O_PASSFILE,
    O_FORCE,
    O_COMMENT,
    O_SIG,
    O_REGISTRY,
    O_KEYWORD,
    O_EXPIRES,
    O_FAST_KDF,
    O_MANIFEST
};

#define PASS_MAX 1024

/* A passphrase: the first line of file, else asked on the terminal (twice
 * when confirm). NULL after printing why. */
static char *read_passphrase(const char *file, bool confirm)
{
    char *p = calloc(1, PASS_MAX);
    if (!p)
        return NULL;
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f || !fgets(p, PASS_MAX, f)) {
            cli_error("cannot read the passphrase from %s: %s", file,
                      f ? "empty file" : strerror(errno));
            if (f)
                fclose(f);
            free(p);
            return NULL;
        }
        fclose(f);
        p[strcspn(p, "\r\n")] = '\0';
        return p;
    }
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        cli_error("a passphrase is needed and there is no terminal to ask on: use "
                  "--passphrase-file FILE (or keygen --unencrypted)");
        free(p);
        return NULL;
    }
    struct termios old, quiet;
    bool tio = tcgetattr(fd, &old) == 0;
    for (int round = 0; round < (confirm ? 2 : 1); round++) {
        const char *prompt = round ? "Passphrase (again): " : "Passphrase: ";
        if (write(fd, prompt, strlen(prompt)) < 0)
            break;
        if (tio) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(fd, TCSAFLUSH, &quiet);
        }
        char line[PASS_MAX];
        ssize_t n = read(fd, line, sizeof line - 1);
        if (tio)
            tcsetattr(fd, TCSAFLUSH, &old);
        if (write(fd, "\n", 1) < 0)
            break;
        line[n > 0 ? n : 0] = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        if (round == 0)
            memcpy(p, line, sizeof line);
        else if (strcmp(p, line) != 0) {
            cli_error("the passphrases differ");
            free(p);
            p = NULL;
        }
    }
    close(fd);
    return p;
}

static void free_passphrase(char *p)
{
    if (p) {
        volatile char *v = p;
        for (size_t i = 0; i < PASS_MAX; i++)
            v[i] = 0;
        free(p);
    }
}

/* Load and decrypt a secret key file. */
static int load_seckey(const char *path, const char *passfile, wasmplug_seckey *sec)
{
    size_t len;
    char *text = wps_read_file(path, &len);
    if (!text) {
        char m[1200];
        snprintf(m, sizeof m, "cannot read the secret key %s: %s", path, strerror(errno));
        return cli_fail_json(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO, NULL, m);
    }
    char *pass = NULL;
    if (wasmplug_seckey_encrypted(text, len) && !(pass = read_passphrase(passfile, false))) {
        free(text);
        return EXIT_USAGE;
    }
    char msg[1024];
    wasmplug_status st = wasmplug_seckey_parse(text, len, pass, sec, msg, sizeof msg);
    free_passphrase(pass);
    free(text);
    if (st) {
        char m[1400];
        snprintf(m, sizeof m, "%s: %s", path, msg);
        return cli_dist_fail(st, m);
    }
    return EXIT_OK;
}

static int write_new(const char *path, const char *text, bool force, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), mode);
    size_t len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) != 0) {
        char m[1200];
        snprintf(m, sizeof m, "cannot write %s: %s%s", path, strerror(errno),
                 errno == EEXIST ? " (use --force to overwrite it)" : "");
        if (fd >= 0)
            close(fd);
        return cli_fail_json(EXIT_IO, NULL, m);
    }
    return EXIT_OK;
}

int cmd_keygen(int argc, char **argv)
{
    static const cli_opt opts[] = {{"public", 'p', true, O_PUB},
                                   {"secret", 's', true, O_SEC},
                                   {"unencrypted", 'W', false, O_UNENCRYPTED},
                                   {"passphrase-file", 0, true, O_PASSFILE},
                                   {"force", 'f', false, O_FORCE},
                                   {"fast-kdf", 0, false, O_FAST_KDF},
                                   {NULL, 0, false, 0}};
    cli_args a = {argc, argv, 1, false};
    const char *pub = "wasmplug.pub", *sec = "wasmplug.key", *passfile = NULL, *arg;
    bool unencrypted = false, force = false, fast = false;
    int id;
    while ((id = cli_next(&a, opts, "keygen", &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        if (id == O_PUB)
            pub = arg;
        else if (id == O_SEC)
            sec = arg;
        else if (id == O_UNENCRYPTED)
            unencrypted = true;
        else if (id == O_PASSFILE)
            passfile = arg;
        else if (id == O_FORCE)
            force = true;
        else if (id == O_FAST_KDF)
            fast = true;
        else {
            cli_error("keygen takes no arguments (got '%s')", arg);
            return EXIT_USAGE;
        }
    }
    int rc = cli_setup();
    if (rc)
        return rc;
    char *pass = unencrypted ? NULL : read_passphrase(passfile, true);
    if (!unencrypted && !pass)
        return EXIT_USAGE;
    wasmplug_pubkey pk;
    wasmplug_seckey sk;
    char msg[1024], *pubtext = NULL, *sectext = NULL;
    wasmplug_status st = wasmplug_key_generate(&pk, &sk, msg, sizeof msg);
    if (!st)
        st = wasmplug_seckey_format(&sk, pass, fast ? WASMPLUG_SIGN_KDF_OPSLIMIT_FAST : 0,
                                    fast ? WASMPLUG_SIGN_KDF_MEMLIMIT_FAST : 0, &sectext, msg,
                                    sizeof msg);
    if (!st)
        st = wasmplug_pubkey_format(&pk, &pubtext, msg, sizeof msg);
    wasmplug_seckey_wipe(&sk);
    free_passphrase(pass);
    if (st) {
        free(sectext);
        free(pubtext);
        return cli_dist_fail(st, msg);
    }
    rc = write_new(sec, sectext, force, 0600);
    if (!rc)
        rc = write_new(pub, pubtext, force, 0644);
    free(sectext);
    free(pubtext);
    if (rc)
        return rc;
    char hex[17];
    wasmplug_key_id_hex(pk.id, hex, sizeof hex);
    cli_note("key %s: public key %s, secret key %s%s", hex, pub, sec,
             unencrypted ? " (unencrypted)" : "");
    if (G.json)
        cli_json_print(json_pack("{s:s, s:s, s:s, s:b}", "id", hex, "public", pub, "secret",
                                 sec, "encrypted", !unencrypted));
    return EXIT_OK;
}

int cmd_sign(int argc, char **argv)
{
    static const cli_opt opts[] = {{"secret", 's', true, O_SEC},
                                   {"trusted-comment", 't', true, O_COMMENT},
                                   {"passphrase-file", 0, true, O_PASSFILE},
                                   {NULL, 0, false, 0}};
    cli_args a = {argc, argv, 1, false};
    const char *sec = "wasmplug.key", *comment = NULL, *passfile = NULL, *arg, *files[64];
    int nfiles = 0, id;
    while ((id = cli_next(&a, opts, "sign", &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        if (id == O_SEC)
            sec = arg;
        else if (id == O_COMMENT)
            comment = arg;
        else if (id == O_PASSFILE)
            passfile = arg;
        else if (nfiles < 64)
            files[nfiles++] = arg;
    }
    if (!nfiles) {
        cli_error("usage: wasmplug sign FILE... [-s SECRET_KEY] [-t TRUSTED_COMMENT]");
        return EXIT_USAGE;
    }
    int rc = cli_setup();
    wasmplug_seckey sk;
    if (rc || (rc = load_seckey(sec, passfile, &sk)))
        return rc;
    json_t *list = json_array();
    for (int i = 0; i < nfiles && !rc; i++) {
        size_t len;
        char *data = wps_read_file(files[i], &len);
        if (!data) {
            char m[1200];
            snprintf(m, sizeof m, "cannot read %s: %s", files[i], strerror(errno));
            rc = cli_fail_json(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO, NULL, m);
            break;
        }
        /* minisign's default trusted comment: when and which file. */
        char tc[1024];
        const char *base = strrchr(files[i], '/');
        if (!comment)
            snprintf(tc, sizeof tc, "timestamp:%lld\tfile:%s", (long long)time(NULL),
                     base ? base + 1 : files[i]);
        char msg[1024], *sig = NULL;
        wasmplug_status st = wasmplug_sign(&sk, (const uint8_t *)data, len, comment ? comment : tc,
                                           NULL, &sig, msg, sizeof msg);
        free(data);
        if (st) {
            rc = cli_dist_fail(st, msg);
            break;
        }
        char out[4096];
        snprintf(out, sizeof out, "%s.minisig", files[i]);
        rc = write_new(out, sig, true, 0644);
        free(sig);
        if (!rc) {
            cli_note("signed %s -> %s", files[i], out);
            json_array_append_new(list, json_pack("{s:s, s:s}", "file", files[i], "signature", out));
        }
    }
    wasmplug_seckey_wipe(&sk);
    if (!rc && G.json)
        cli_json_print(json_pack("{s:o}", "signed", list));
    else
        json_decref(list);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    static const cli_opt opts[] = {{"public", 'p', true, O_PUB},
                                   {"signature", 'x', true, O_SIG},
                                   {NULL, 0, false, 0}};
    cli_args a = {argc, argv, 1, false};
    const char *pub = NULL, *sigpath = NULL, *file = NULL, *arg;
    int id;
    while ((id = cli_next(&a, opts, "verify", &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        if (id == O_PUB)
            pub = arg;
        else if (id == O_SIG)
            sigpath = arg;
        else if (!file)
            file = arg;
        else {
            cli_error("verify takes one file (got '%s' too)", arg);
            return EXIT_USAGE;
        }
    }
    if (!file) {
        cli_error("usage: wasmplug verify FILE [-p PUBLIC_KEY] [-x SIGNATURE]");
        return EXIT_USAGE;
    }
    int rc = cli_setup();
    if (rc)
        return rc;
    char msg[5000], sigbuf[4096];
    wasmplug_pubkey *keys = NULL, one;
    size_t nkeys = 0;
    wasmplug_trusted_key *trusted = NULL;
    wasmplug_status st = WASMPLUG_OK;
    if (pub) {
        size_t len;
        char *text = wps_read_file(pub, &len);
        if (!text) {
            snprintf(msg, sizeof msg, "cannot read %s: %s", pub, strerror(errno));
            return cli_fail_json(EXIT_NOT_FOUND, NULL, msg);
        }
        st = wasmplug_pubkey_parse(text, len, &one, msg, sizeof msg);
        free(text);
        keys = &one;
        nkeys = 1;
    } else if ((rc = cli_need_store()) == EXIT_OK) {
        /* Without -p: the store's trusted keys. */
        st = wasmplug_trust_list(G.store, &trusted, &nkeys, msg, sizeof msg);
        keys = nkeys ? malloc(nkeys * sizeof *keys) : NULL;
        for (size_t i = 0; keys && i < nkeys; i++)
            keys[i] = trusted[i].key;
    } else {
        return rc;
    }
    size_t len = 0, siglen = 0;
    char *data = st ? NULL : wps_read_file(file, &len);
    if (!sigpath) {
        snprintf(sigbuf, sizeof sigbuf, "%s.minisig", file);
        sigpath = sigbuf;
    }
    char *sig = data ? wps_read_file(sigpath, &siglen) : NULL;
    if (!st && (!data || !sig)) {
        snprintf(msg, sizeof msg, "cannot read %s: %s", data ? sigpath : file, strerror(errno));
        st = WASMPLUG_ERR_NOT_FOUND;
    }
    char *comment = NULL;
    size_t which = 0;
    if (!st)
        st = wasmplug_verify(keys, nkeys, sig, siglen, (const uint8_t *)data, len, &comment,
                             &which, msg, sizeof msg);
    free(data);
    free(sig);
    if (!st) {
        char hex[17];
        wasmplug_key_id_hex(keys[which].id, hex, sizeof hex);
        const char *safe = term_field(comment);
        if (G.json)
            cli_json_print(json_pack("{s:b, s:s, s:s}", "valid", 1, "key", hex,
                                     "trusted_comment", comment));
        else
            printf("Signature and comment signature verified (key %s)\nTrusted comment: %s\n",
                   hex, safe);
    }
    free(comment);
    if (keys != &one)
        free(keys);
    wasmplug_trusted_keys_free(trusted, trusted ? nkeys : 0);
    return st ? cli_dist_fail(st, msg) : EXIT_OK;
}

int cmd_pack(int argc, char **argv)
{
    static const cli_opt opts[] = {{"output", 'o', true, O_OUT}, {NULL, 0, false, 0}};
    cli_args a = {argc, argv, 1, false};
    const char *dir = NULL, *out = ".", *arg;
    int id;
    while ((id = cli_next(&a, opts, "pack", &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        if (id == O_OUT)
            out = arg;
        else if (!dir)
            dir = arg;
        else {
            cli_error("pack takes one directory (got '%s' too)", arg);
            return EXIT_USAGE;
        }
    }
    if (!dir) {
        cli_error("usage: wasmplug pack DIR [-o OUT_DIR | -o FILE.wasmplug]");
        return EXIT_USAGE;
    }
    int rc = cli_setup();
    if (rc)
        return rc;
    char msg[2048], *path = NULL;
    wasmplug_status st = wasmplug_package_pack(dir, out, &path, msg, sizeof msg);
    if (st)
        return cli_dist_fail(st, msg);
    cli_note("packed %s -> %s", dir, path);
    if (G.json)
        cli_json_print(json_pack("{s:s}", "package", path));
    else
        printf("%s\n", path);
    free(path);
    return EXIT_OK;
}

/* publish --plugin-manifest DIR/plugin.yaml: pack DIR into a temporary
 * directory first. *tmpdir (to remove) and the package path are malloc'd. */
static int pack_for_publish(const char *manifest, char **tmpdir, char **pkg)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", manifest);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : dir;
    if (strcmp(base, WASMPLUG_MANIFEST_FILE) != 0) {
        cli_error("--plugin-manifest takes a plugin directory's %s (got '%s')",
                  WASMPLUG_MANIFEST_FILE, manifest);
        return EXIT_USAGE;
    }
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    const char *t = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/wasmplug-publish.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpl)) {
        char m[4200];
        snprintf(m, sizeof m, "cannot create a temporary directory %s: %s", tmpl,
                 strerror(errno));
        return cli_fail_json(EXIT_IO, NULL, m);
    }
    *tmpdir = strdup(tmpl);
    char msg[2048];
    wasmplug_status st = wasmplug_package_pack(dir, tmpl, pkg, msg, sizeof msg);
    return st ? cli_dist_fail(st, msg) : *tmpdir ? EXIT_OK : EXIT_INTERNAL;
}

int cmd_publish(int argc, char **argv)
{
    static const cli_opt opts[] = {{"registry", 'r', true, O_REGISTRY},
                                   {"secret", 's', true, O_SEC},
                                   {"keyword", 'k', true, O_KEYWORD},
                                   {"expires-days", 0, true, O_EXPIRES},
                                   {"passphrase-file", 0, true, O_PASSFILE},
                                   {"plugin-manifest", 'm', true, O_MANIFEST},
                                   {NULL, 0, false, 0}};
    cli_args a = {argc, argv, 1, false};
    const char *reg = NULL, *sec = "wasmplug.key", *passfile = NULL, *manifest = NULL, *arg;
    const char **pkgs = calloc((size_t)argc + 1, sizeof *pkgs);
    size_t npkgs = 0;
    char *kw[64], *tmpdir = NULL, *packed = NULL;
    wasmplug_strlist keywords = {kw, 0};
    uint64_t days = 0;
    int id, rc = pkgs ? EXIT_OK : EXIT_INTERNAL;
    while (!rc && (id = cli_next(&a, opts, "publish", &arg)) != -1) {
        if (id == -2)
            rc = EXIT_USAGE;
        else if (id == O_REGISTRY)
            reg = arg;
        else if (id == O_SEC)
            sec = arg;
        else if (id == O_PASSFILE)
            passfile = arg;
        else if (id == O_MANIFEST)
            manifest = arg;
        else if (id == O_KEYWORD && keywords.count < 64)
            kw[keywords.count++] = (char *)arg;
        else if (id == O_EXPIRES) {
            if (!cli_parse_u64(arg, &days) || !days || days > 3650) {
                cli_error("--expires-days takes 1 to 3650 (got '%s')", arg);
                rc = EXIT_USAGE;
            }
        } else
            pkgs[npkgs++] = arg;
    }
    if (!rc && ((!npkgs && !manifest) || !reg)) {
        cli_error("usage: wasmplug publish PACKAGE.wasmplug... | --plugin-manifest plugin.yaml "
                  "--registry DIR [-s SECRET_KEY]");
        rc = EXIT_USAGE;
    }
    wasmplug_seckey sk;
    if (!rc && !(rc = cli_setup()) && manifest && !(rc = pack_for_publish(manifest, &tmpdir, &packed)))
        pkgs[npkgs++] = packed;
    if (!rc)
        rc = load_seckey(sec, passfile, &sk);
    if (rc) {
        if (tmpdir)
            wps_rmtree(tmpdir);
        free(tmpdir);
        free(packed);
        free(pkgs);
        return rc;
    }
    char msg[2048];
    wasmplug_status st = wasmplug_registry_publish(reg, pkgs, npkgs, &sk, &keywords,
                                                   (unsigned)days, msg, sizeof msg);
    wasmplug_seckey_wipe(&sk);
    if (!st) {
        json_t *list = json_array();
        for (size_t i = 0; i < npkgs; i++) {
            cli_note("published %s to %s", pkgs[i], reg);
            json_array_append_new(list, json_string(pkgs[i]));
        }
        if (G.json)
            cli_json_print(json_pack("{s:o, s:s}", "published", list, "registry", reg));
        else
            json_decref(list);
    }
    free(pkgs);
    if (tmpdir)
        wps_rmtree(tmpdir);
    free(tmpdir);
    free(packed);
    return st ? cli_dist_fail(st, msg) : EXIT_OK;
}
