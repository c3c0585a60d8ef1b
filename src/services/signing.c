/*
 * signing.c - ed25519 keys and signatures in minisign's file formats, on
 * libsodium (ed25519, BLAKE2b, scrypt, base64). See wasmplug/signing.h for
 * the layouts.
 */
#include <wasmplug/signing.h>
#include "services/dist_internal.h"

#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIG_ALG "Ed"
#define SIG_ALG_HASHED "ED"
#define KDF_ALG "Sc"
#define CHK_ALG "B2"
#define COMMENT_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
#define MAX_COMMENT 1024

/* The secret key file's binary layout. */
#define SK_KEYNUM_LEN (8 + 64 + 32) /* id, key, checksum: the encrypted part */
#define SK_LEN (2 + 2 + 2 + 32 + 8 + 8 + SK_KEYNUM_LEN)
#define PK_LEN (2 + 8 + 32)
#define SIG_LEN (2 + 8 + 64)

static wasmplug_status need_sodium(char *msg, size_t msgsize)
{
    if (sodium_init() < 0)
        return wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "libsodium could not be initialised");
    return WASMPLUG_OK;
}

const char *wasmplug_key_id_hex(const uint8_t id[8], char *buf, size_t size)
{
    /* minisign prints the id as a little-endian 64-bit number. */
    if (size < 17) {
        if (size)
            buf[0] = '\0';
        return buf;
    }
    for (int i = 0; i < 8; i++)
        snprintf(buf + 2 * i, 3, "%02X", id[7 - i]);
    return buf;
}

static void store_le64(uint8_t *p, unsigned long long v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static unsigned long long load_le64(const uint8_t *p)
{
    unsigned long long v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* "untrusted comment: C\nBASE64(bin)\n" (extra: appended verbatim). */
static char *encode_file(const char *comment, const uint8_t *bin, size_t len, const char *extra)
{
    size_t b64len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    size_t n = strlen(COMMENT_PREFIX) + strlen(comment) + b64len + strlen(extra) + 4;
    char *out = malloc(n);
    char *b64 = malloc(b64len);
    if (!out || !b64) {
        free(out);
        free(b64);
        return NULL;
    }
    sodium_bin2base64(b64, b64len, bin, len, sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, n, "%s%s\n%s\n%s", COMMENT_PREFIX, comment, b64, extra);
    free(b64);
    return out;
}

/* The lines of a key or signature file (at most 4 used). */
typedef struct lines {
    const char *s[4];
    size_t len[4];
    size_t count;
} lines;

static void split_lines(const char *text, size_t len, lines *l)
{
    l->count = 0;
    size_t i = 0;
    while (i < len && l->count < 4) {
        size_t start = i;
        while (i < len && text[i] != '\n')
            i++;
        size_t end = i;
        if (end > start && text[end - 1] == '\r')
            end--;
        if (end > start || i < len) {
            l->s[l->count] = text + start;
            l->len[l->count] = end - start;
            l->count++;
        }
        if (i < len)
            i++;
    }
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

/* Decode one base64 line into exactly want bytes. */
static bool decode_line(const char *s, size_t len, uint8_t *out, size_t want)
{
    size_t got = 0;
    const char *end = NULL;
    if (sodium_base642bin(out, want, s, len, " \t", &got, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    return got == want && end == s + len;
}

wasmplug_status wasmplug_key_generate(wasmplug_pubkey *pub, wasmplug_seckey *sec, char *msg,
                                      size_t msgsize)
{
    wasmplug_status st = need_sodium(msg, msgsize);
    if (st)
        return st;
    randombytes_buf(sec->id, sizeof sec->id);
    memcpy(pub->id, sec->id, sizeof pub->id);
    crypto_sign_keypair(pub->key, sec->key);
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_pubkey_format(const wasmplug_pubkey *pub, char **text, char *msg,
                                       size_t msgsize)
{
    uint8_t bin[PK_LEN];
    memcpy(bin, SIG_ALG, 2);
    memcpy(bin + 2, pub->id, 8);
    memcpy(bin + 10, pub->key, 32);
    char comment[64], hex[17];
    snprintf(comment, sizeof comment, "minisign public key %s",
             wasmplug_key_id_hex(pub->id, hex, sizeof hex));
    *text = encode_file(comment, bin, sizeof bin, "");
    return *text ? WASMPLUG_OK : wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
}

wasmplug_status wasmplug_pubkey_parse(const char *text, size_t len, wasmplug_pubkey *out,
                                      char *msg, size_t msgsize)
{
    wasmplug_status st = need_sodium(msg, msgsize);
    if (st)
        return st;
    lines l;
    split_lines(text, len, &l);
    size_t k = l.count > 0 && has_prefix(l.s[0], l.len[0], COMMENT_PREFIX) ? 1 : 0;
    uint8_t bin[PK_LEN];
    if (k >= l.count || !decode_line(l.s[k], l.len[k], bin, sizeof bin))
        return wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                    "not a minisign public key (expected an \"untrusted comment:\" line and "
                    "%d base64 bytes)", PK_LEN);
    if (memcmp(bin, SIG_ALG, 2) != 0)
        return wpd_fail(WASMPLUG_ERR_UNSUPPORTED, msg, msgsize,
                    "unsupported public key algorithm (only Ed25519 \"Ed\" keys)");
    memcpy(out->id, bin + 2, 8);
    memcpy(out->key, bin + 10, 32);
    return WASMPLUG_OK;
}

static void seckey_checksum(const wasmplug_seckey *sec, uint8_t chk[32])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, (const uint8_t *)SIG_ALG, 2);
    crypto_generichash_update(&h, sec->id, 8);
    crypto_generichash_update(&h, sec->key, 64);
    crypto_generichash_final(&h, chk, 32);
}

/* XOR the key part with scrypt(passphrase, salt): encrypts and decrypts. */
static wasmplug_status kdf_xor(uint8_t *part, const char *passphrase, const uint8_t salt[32],
                               unsigned long long ops, unsigned long long mem, char *msg,
                               size_t msgsize)
{
    uint8_t stream[SK_KEYNUM_LEN];
    if (crypto_pwhash_scryptsalsa208sha256(stream, sizeof stream, passphrase,
                                           strlen(passphrase), salt, ops, (size_t)mem) != 0)
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize,
                    "cannot derive the key from the passphrase (scrypt with %llu ops, %llu "
                    "bytes of memory)", ops, mem);
    for (size_t i = 0; i < sizeof stream; i++)
        part[i] ^= stream[i];
    sodium_memzero(stream, sizeof stream);
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_seckey_format(const wasmplug_seckey *sec, const char *passphrase,
                                       unsigned long long ops, unsigned long long mem,
                                       char **text, char *msg, size_t msgsize)
{
    if (!ops || !mem) {
        ops = WASMPLUG_SIGN_KDF_OPSLIMIT;
        mem = WASMPLUG_SIGN_KDF_MEMLIMIT;
    }
    *text = NULL;
    wasmplug_status st = need_sodium(msg, msgsize);
    if (st)
        return st;
    uint8_t bin[SK_LEN];
    memset(bin, 0, sizeof bin);
    uint8_t *p = bin;
    memcpy(p, SIG_ALG, 2);
    memcpy(p + 2, passphrase ? KDF_ALG : "\0\0", 2);
    memcpy(p + 4, CHK_ALG, 2);
    uint8_t *salt = p + 6, *part = p + 6 + 32 + 16;
    if (passphrase) {
        randombytes_buf(salt, 32);
        store_le64(p + 38, ops);
        store_le64(p + 46, mem);
    }
    memcpy(part, sec->id, 8);
    memcpy(part + 8, sec->key, 64);
    seckey_checksum(sec, part + 72);
    if (passphrase) {
        st = kdf_xor(part, passphrase, salt, ops, mem, msg, msgsize);
        if (st) {
            sodium_memzero(bin, sizeof bin);
            return st;
        }
    }
    *text = encode_file(passphrase ? "minisign encrypted secret key"
                                   : "minisign secret key (unencrypted)",
                        bin, sizeof bin, "");
    sodium_memzero(bin, sizeof bin);
    return *text ? WASMPLUG_OK : wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
}

/* Decode a secret key file into bin; false if it is not one. */
static bool seckey_decode(const char *text, size_t len, uint8_t bin[SK_LEN])
{
    lines l;
    split_lines(text, len, &l);
    size_t k = l.count > 0 && has_prefix(l.s[0], l.len[0], COMMENT_PREFIX) ? 1 : 0;
    return k < l.count && decode_line(l.s[k], l.len[k], bin, SK_LEN);
}

bool wasmplug_seckey_encrypted(const char *text, size_t len)
{
    uint8_t bin[SK_LEN];
    if (sodium_init() < 0 || !seckey_decode(text, len, bin))
        return false;
    bool enc = memcmp(bin + 2, KDF_ALG, 2) == 0;
    sodium_memzero(bin, sizeof bin);
    return enc;
}

wasmplug_status wasmplug_seckey_parse(const char *text, size_t len, const char *passphrase,
                                      wasmplug_seckey *out, char *msg, size_t msgsize)
{
    wasmplug_status st = need_sodium(msg, msgsize);
    if (st)
        return st;
    uint8_t bin[SK_LEN];
    if (!seckey_decode(text, len, bin))
        return wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                    "not a minisign secret key (expected an \"untrusted comment:\" line and "
                    "%d base64 bytes)", SK_LEN);
    if (memcmp(bin, SIG_ALG, 2) != 0 || memcmp(bin + 4, CHK_ALG, 2) != 0) {
        st = wpd_fail(WASMPLUG_ERR_UNSUPPORTED, msg, msgsize,
                  "unsupported secret key (only Ed25519 keys with a BLAKE2b checksum)");
        goto out;
    }
    uint8_t *part = bin + 6 + 32 + 16;
    if (memcmp(bin + 2, KDF_ALG, 2) == 0) {
        if (!passphrase) {
            st = wpd_fail(WASMPLUG_ERR_PERMISSION_DENIED, msg, msgsize,
                      "the secret key is encrypted: a passphrase is needed");
            goto out;
        }
        unsigned long long ops = load_le64(bin + 38), mem = load_le64(bin + 46);
        /* A forged file could ask for absurd costs: cap what we accept at
         * minisign's own maximum (its "sensitive" level). */
        if (ops > crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE ||
            mem > crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE) {
            st = wpd_fail(WASMPLUG_ERR_LIMIT, msg, msgsize,
                      "the secret key asks for scrypt costs beyond minisign's maximum "
                      "(%llu ops, %llu bytes)", ops, mem);
            goto out;
        }
        if ((st = kdf_xor(part, passphrase, bin + 6, ops, mem, msg, msgsize)))
            goto out;
    } else if (memcmp(bin + 2, "\0\0", 2) != 0) {
        st = wpd_fail(WASMPLUG_ERR_UNSUPPORTED, msg, msgsize,
                  "unsupported key derivation in the secret key (only scrypt \"Sc\" or none)");
        goto out;
    }
    memcpy(out->id, part, 8);
    memcpy(out->key, part + 8, 64);
    uint8_t chk[32], zero[32] = {0};
    seckey_checksum(out, chk);
    /* minisign writes no checksum (zeros) into unencrypted keys and checks
     * it only when decrypting; we check any checksum that is there. */
    bool encrypted = memcmp(bin + 2, KDF_ALG, 2) == 0;
    bool absent = !encrypted && sodium_memcmp(part + 72, zero, 32) == 0;
    /* The key's second half is its public key, derived from the first. */
    uint8_t pk[32], sk[64];
    crypto_sign_seed_keypair(pk, sk, out->key);
    sodium_memzero(sk, sizeof sk);
    if ((!absent && sodium_memcmp(chk, part + 72, 32) != 0) ||
        sodium_memcmp(pk, out->key + 32, 32) != 0) {
        wasmplug_seckey_wipe(out);
        st = encrypted
                 ? wpd_fail(WASMPLUG_ERR_PERMISSION_DENIED, msg, msgsize, "wrong passphrase")
                 : wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                        "the secret key's checksum does not match (corrupted key file)");
    }
out:
    sodium_memzero(bin, sizeof bin);
    return st;
}

void wasmplug_seckey_wipe(wasmplug_seckey *sec)
{
    if (sec)
        sodium_memzero(sec, sizeof *sec);
}

static bool comment_ok(const char *c)
{
    return strlen(c) < MAX_COMMENT && !strpbrk(c, "\r\n");
}

wasmplug_status wasmplug_sign(const wasmplug_seckey *sec, const uint8_t *data, size_t len,
                              const char *trusted_comment, const char *untrusted_comment,
                              char **sig_text, char *msg, size_t msgsize)
{
    *sig_text = NULL;
    wasmplug_status st = need_sodium(msg, msgsize);
    if (st)
        return st;
    char tbuf[64];
    if (!trusted_comment) {
        snprintf(tbuf, sizeof tbuf, "timestamp:%lld", (long long)time(NULL));
        trusted_comment = tbuf;
    }
    if (!untrusted_comment)
        untrusted_comment = "signature from wasmplug secret key";
    if (!comment_ok(trusted_comment) || !comment_ok(untrusted_comment))
        return wpd_fail(WASMPLUG_ERR_ARGUMENT, msg, msgsize,
                    "a signature comment must be one line of at most %d bytes", MAX_COMMENT - 1);

    uint8_t hash[crypto_generichash_BYTES_MAX];
    crypto_generichash(hash, sizeof hash, data, len, NULL, 0);
    uint8_t bin[SIG_LEN];
    memcpy(bin, SIG_ALG_HASHED, 2);
    memcpy(bin + 2, sec->id, 8);
    crypto_sign_detached(bin + 10, NULL, hash, sizeof hash, sec->key);

    size_t tlen = strlen(trusted_comment);
    uint8_t *global = malloc(64 + tlen);
    if (!global)
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    memcpy(global, bin + 10, 64);
    memcpy(global + 64, trusted_comment, tlen);
    uint8_t gsig[64];
    crypto_sign_detached(gsig, NULL, global, 64 + tlen, sec->key);
    free(global);

    char gb64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(gb64, sizeof gb64, gsig, sizeof gsig, sodium_base64_VARIANT_ORIGINAL);
    size_t en = strlen(TRUSTED_PREFIX) + tlen + sizeof gb64 + 4;
    char *extra = malloc(en);
    if (!extra)
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    snprintf(extra, en, "%s%s\n%s\n", TRUSTED_PREFIX, trusted_comment, gb64);
    *sig_text = encode_file(untrusted_comment, bin, sizeof bin, extra);
    free(extra);
    return *sig_text ? WASMPLUG_OK : wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
}

/* The parts of a signature file. */
typedef struct sigfile {
    uint8_t bin[SIG_LEN];
    const char *trusted;
    size_t trusted_len;
    uint8_t global[64];
} sigfile;

static wasmplug_status parse_sig(const char *text, size_t len, sigfile *s, char *msg,
                                 size_t msgsize)
{
    lines l;
    split_lines(text, len, &l);
    if (l.count < 4 || !has_prefix(l.s[0], l.len[0], COMMENT_PREFIX) ||
        !decode_line(l.s[1], l.len[1], s->bin, SIG_LEN) ||
        !has_prefix(l.s[2], l.len[2], TRUSTED_PREFIX) ||
        !decode_line(l.s[3], l.len[3], s->global, 64))
        return wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                    "not a minisign signature (expected 4 lines: untrusted comment, "
                    "signature, trusted comment, global signature)");
    if (memcmp(s->bin, SIG_ALG, 2) != 0 && memcmp(s->bin, SIG_ALG_HASHED, 2) != 0)
        return wpd_fail(WASMPLUG_ERR_UNSUPPORTED, msg, msgsize,
                    "unsupported signature algorithm (only Ed25519 \"Ed\" and \"ED\")");
    s->trusted = l.s[2] + strlen(TRUSTED_PREFIX);
    s->trusted_len = l.len[2] - strlen(TRUSTED_PREFIX);
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_signature_key_id(const char *sig_text, size_t sig_len, uint8_t id[8],
                                          char *msg, size_t msgsize)
{
    wasmplug_status st = need_sodium(msg, msgsize);
    sigfile s;
    if (st || (st = parse_sig(sig_text, sig_len, &s, msg, msgsize)))
        return st;
    memcpy(id, s.bin + 2, 8);
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_verify(const wasmplug_pubkey *keys, size_t count, const char *sig_text,
                                size_t sig_len, const uint8_t *data, size_t len,
                                char **trusted_comment, size_t *signer, char *msg,
                                size_t msgsize)
{
    if (trusted_comment)
        *trusted_comment = NULL;
    wasmplug_status st = need_sodium(msg, msgsize);
    sigfile s;
    if (st || (st = parse_sig(sig_text, sig_len, &s, msg, msgsize)))
        return st;
    const wasmplug_pubkey *key = NULL;
    for (size_t i = 0; i < count && !key; i++) {
        if (memcmp(keys[i].id, s.bin + 2, 8) == 0) {
            key = &keys[i];
            if (signer)
                *signer = i;
        }
    }
    char hex[17];
    if (!key)
        return wpd_fail(WASMPLUG_ERR_PERMISSION_DENIED, msg, msgsize,
                    "signed by key %s, which is not trusted",
                    wasmplug_key_id_hex(s.bin + 2, hex, sizeof hex));
    int bad;
    if (memcmp(s.bin, SIG_ALG_HASHED, 2) == 0) {
        uint8_t hash[crypto_generichash_BYTES_MAX];
        crypto_generichash(hash, sizeof hash, data, len, NULL, 0);
        bad = crypto_sign_verify_detached(s.bin + 10, hash, sizeof hash, key->key);
    } else {
        bad = crypto_sign_verify_detached(s.bin + 10, data, len, key->key);
    }
    if (bad)
        return wpd_fail(WASMPLUG_ERR_PERMISSION_DENIED, msg, msgsize,
                    "the signature by key %s does not match the data (modified, or signed for "
                    "other data)", wasmplug_key_id_hex(key->id, hex, sizeof hex));
    uint8_t *global = malloc(64 + s.trusted_len + 1);
    if (!global)
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    memcpy(global, s.bin + 10, 64);
    memcpy(global + 64, s.trusted, s.trusted_len);
    bad = crypto_sign_verify_detached(s.global, global, 64 + s.trusted_len, key->key);
    free(global);
    if (bad)
        return wpd_fail(WASMPLUG_ERR_PERMISSION_DENIED, msg, msgsize,
                    "the trusted comment of the signature by key %s was modified",
                    wasmplug_key_id_hex(key->id, hex, sizeof hex));
    if (trusted_comment) {
        *trusted_comment = strndup(s.trusted, s.trusted_len);
        if (!*trusted_comment)
            return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    }
    return WASMPLUG_OK;
}
