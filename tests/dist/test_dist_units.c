/*
 * test_dist_units.c - unit tests of the distribution building blocks that
 * the end-to-end script (run-tests.sh) reaches only in part: semver ranges
 * (wasmplug/semver.h: ^, ~, comparisons, x, ||, pre-releases, syntax
 * errors), minisign key and signature round trips and their failure modes
 * (wasmplug/signing.h), and package limits (wasmplug/package.h). Prints
 * "N passed, N failed".
 */
#include <wasmplug/package.h>
#include <wasmplug/semver.h>
#include <wasmplug/signing.h>

#include "test.h"

/* range, then versions that satisfy it ('+') or not ('-'). */
static void range(const char *r, const char *yes, const char *no)
{
    char buf[512];
    const char *lists[2] = {yes, no};
    for (int k = 0; k < 2; k++) {
        snprintf(buf, sizeof buf, "%s", lists[k]);
        for (char *v = strtok(buf, " "); v; v = strtok(NULL, " ")) {
            bool got = wasmplug_semver_satisfies(v, r);
            if (got != (k == 0))
                fprintf(stderr, "  range '%s', version %s: expected %s\n", r, v,
                        k == 0 ? "a match" : "no match");
            CHECK(got == (k == 0));
        }
    }
}

static void test_ranges(void)
{
    range("^1.2.3", "1.2.3 1.2.9 1.9.0", "1.2.2 2.0.0 1.3.0-beta.1 0.9.9");
    range("^0.2.3", "0.2.3 0.2.9", "0.3.0 0.2.2 1.0.0");
    range("^0.0.3", "0.0.3", "0.0.4 0.0.2 0.1.0");
    range("^1.2", "1.2.0 1.9.9", "2.0.0 1.1.9");
    range("^0.x", "0.0.1 0.9.0", "1.0.0");
    range("~1.2.3", "1.2.3 1.2.10", "1.3.0 1.2.2");
    range("~1", "1.0.0 1.9.9", "2.0.0 0.9.0");
    range(">=1.2.0 <2", "1.2.0 1.99.0", "2.0.0 1.1.9");
    range(">1.2", "1.3.0 2.0.0", "1.2.9 1.2.0");
    range("<=2.1", "2.1.9 0.1.0", "2.2.0");
    range("<1.2", "1.1.9", "1.2.0");
    range(">1.2.3", "1.2.4", "1.2.3");
    range("1.x", "1.0.0 1.5.2", "2.0.0 0.9.0");
    range("1.2.x", "1.2.0 1.2.7", "1.3.0");
    range("1.2", "1.2.0 1.2.5", "1.3.0");
    range("=1.2.3", "1.2.3", "1.2.4");
    range("1.2.3", "1.2.3 1.2.3+build.7", "1.2.4 1.2.3-rc.1");
    range("*", "0.0.1 99.0.0", "1.0.0-alpha");
    range("", "1.0.0", "1.0.0-alpha");
    range("^1.0 || ^3.1", "1.4.0 3.2.0", "2.0.0 3.0.0");
    range(">= 1.0 < 2", "1.0.0", "2.0.0");
    /* pre-releases only when a comparator names one of the same x.y.z */
    range("^1.3.0-beta.1", "1.3.0-beta.1 1.3.0-beta.2 1.3.0 1.4.0", "1.4.0-beta.1 1.3.0-alpha");
    range(">=1.2.0-rc.1 <1.3", "1.2.0-rc.2 1.2.5", "1.2.1-rc.1");
    CHECK(!wasmplug_semver_satisfies("1.2", "*"));        /* not a version */
    CHECK(!wasmplug_semver_satisfies("1.2.3", ">>1"));    /* not a range */
    char msg[256];
    const char *bad[] = {">>1", "^", "1.x.3", "abc", "1.2.3.4", "^1.2 ~", ">*", "1..2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        msg[0] = '\0';
        bool refused = wasmplug_semver_range_check(bad[i], msg, sizeof msg) == WASMPLUG_ERR_ARGUMENT;
        if (!refused)
            fprintf(stderr, "  range '%s' was accepted\n", bad[i]);
        CHECK(refused && strstr(msg, "is not a version or comparison"));
    }
    const char *good[] = {"^1.2.3", "~0.1", ">=1 <2", "1.x || 2.0.x", "*", "", "v1.2.3"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECK(wasmplug_semver_range_check(good[i], msg, sizeof msg) == WASMPLUG_OK);
}

static void test_signing(void)
{
    char msg[512];
    wasmplug_pubkey pub, other_pub;
    wasmplug_seckey sec, other_sec, back;
    CHECK(wasmplug_key_generate(&pub, &sec, msg, sizeof msg) == WASMPLUG_OK);
    CHECK(wasmplug_key_generate(&other_pub, &other_sec, msg, sizeof msg) == WASMPLUG_OK);

    /* Public key: text round trip, and the bare base64 line alone. */
    char *text = NULL;
    CHECK(wasmplug_pubkey_format(&pub, &text, msg, sizeof msg) == WASMPLUG_OK);
    char hex[17];
    CHECK(text && strstr(text, wasmplug_key_id_hex(pub.id, hex, sizeof hex)));
    wasmplug_pubkey parsed;
    CHECK(wasmplug_pubkey_parse(text, strlen(text), &parsed, msg, sizeof msg) == WASMPLUG_OK &&
          !memcmp(&parsed, &pub, sizeof pub));
    const char *line = strchr(text, '\n') + 1;
    CHECK(wasmplug_pubkey_parse(line, strlen(line), &parsed, msg, sizeof msg) == WASMPLUG_OK &&
          !memcmp(&parsed, &pub, sizeof pub));
    CHECK(wasmplug_pubkey_parse("untrusted comment: x\nnot base64!\n", 33, &parsed, msg,
                                sizeof msg) == WASMPLUG_ERR_MALFORMED);
    free(text);

    /* Secret keys: unencrypted and encrypted round trips, wrong passphrase. */
    CHECK(wasmplug_seckey_format(&sec, NULL, 0, 0, &text, msg, sizeof msg) == WASMPLUG_OK);
    CHECK(!wasmplug_seckey_encrypted(text, strlen(text)));
    CHECK(wasmplug_seckey_parse(text, strlen(text), NULL, &back, msg, sizeof msg) == WASMPLUG_OK &&
          !memcmp(&back, &sec, sizeof sec));
    free(text);
    CHECK(wasmplug_seckey_format(&sec, "pw", WASMPLUG_SIGN_KDF_OPSLIMIT_FAST,
                                 WASMPLUG_SIGN_KDF_MEMLIMIT_FAST, &text, msg,
                                 sizeof msg) == WASMPLUG_OK);
    CHECK(wasmplug_seckey_encrypted(text, strlen(text)));
    CHECK(wasmplug_seckey_parse(text, strlen(text), "pw", &back, msg, sizeof msg) == WASMPLUG_OK &&
          !memcmp(&back, &sec, sizeof sec));
    CHECK(wasmplug_seckey_parse(text, strlen(text), "wrong", &back, msg, sizeof msg) ==
              WASMPLUG_ERR_PERMISSION_DENIED &&
          strstr(msg, "wrong passphrase"));
    CHECK(wasmplug_seckey_parse(text, strlen(text), NULL, &back, msg, sizeof msg) ==
              WASMPLUG_ERR_PERMISSION_DENIED &&
          strstr(msg, "passphrase is needed"));
    free(text);

    /* Signatures: verify, tampered data, tampered trusted comment, wrong key. */
    const uint8_t data[] = "the package bytes";
    char *sig = NULL, *comment = NULL;
    CHECK(wasmplug_sign(&sec, data, sizeof data, "tc: 1", NULL, &sig, msg, sizeof msg) ==
          WASMPLUG_OK);
    wasmplug_pubkey keys[2] = {other_pub, pub};
    size_t which = 9;
    CHECK(wasmplug_verify(keys, 2, sig, strlen(sig), data, sizeof data, &comment, &which, msg,
                          sizeof msg) == WASMPLUG_OK &&
          which == 1 && comment && !strcmp(comment, "tc: 1"));
    free(comment);
    uint8_t changed[sizeof data];
    memcpy(changed, data, sizeof data);
    changed[0] ^= 1;
    CHECK(wasmplug_verify(keys, 2, sig, strlen(sig), changed, sizeof changed, NULL, NULL, msg,
                          sizeof msg) == WASMPLUG_ERR_PERMISSION_DENIED &&
          strstr(msg, "does not match the data"));
    CHECK(wasmplug_verify(keys, 1, sig, strlen(sig), data, sizeof data, NULL, NULL, msg,
                          sizeof msg) == WASMPLUG_ERR_PERMISSION_DENIED &&
          strstr(msg, "not trusted"));
    char *forged = strdup(sig);
    char *tc = strstr(forged, "tc: 1");
    if (tc)
        tc[4] = '2';
    CHECK(tc && wasmplug_verify(keys, 2, forged, strlen(forged), data, sizeof data, NULL, NULL,
                                msg, sizeof msg) == WASMPLUG_ERR_PERMISSION_DENIED &&
          strstr(msg, "trusted comment"));
    free(forged);
    CHECK(wasmplug_verify(keys, 2, "garbage", 7, data, sizeof data, NULL, NULL, msg,
                          sizeof msg) == WASMPLUG_ERR_MALFORMED);
    CHECK(wasmplug_sign(&sec, data, sizeof data, "two\nlines", NULL, &forged, msg, sizeof msg) ==
          WASMPLUG_ERR_ARGUMENT);
    free(sig);
    wasmplug_seckey_wipe(&sec);
    wasmplug_seckey_wipe(&other_sec);
}

static void test_package_limits(void)
{
    char msg[512];
    wasmplug_package *pkg = NULL;
    const uint8_t junk[] = "not a package at all";
    CHECK(wasmplug_package_read(junk, sizeof junk, "junk", NULL, &pkg, msg, sizeof msg) ==
              WASMPLUG_ERR_MALFORMED &&
          !pkg && strstr(msg, "junk"));
    char *name = wasmplug_package_filename("word-counter", "1.2.0");
    CHECK(name && !strcmp(name, "word-counter-1.2.0.wasmplug"));
    free(name);
    char hex[65];
    wasmplug_sha256_hex((const uint8_t *)"abc", 3, hex);
    CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

int main(void)
{
    test_ranges();
    test_signing();
    test_package_limits();
    return test_done();
}
