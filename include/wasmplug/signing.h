/*
 * wasmplug/signing.h - ed25519 keys and signatures in minisign's file
 * formats (services layer, libwasmplug_services; needs libsodium).
 *
 * What we write, Debian's `minisign` reads, and the other way round:
 *
 *   public key   untrusted comment: minisign public key 0123456789ABCDEF
 *                base64("Ed" || key id (8) || ed25519 public key (32))
 *   secret key   untrusted comment: minisign encrypted secret key
 *                base64("Ed" || kdf "Sc" (scrypt) or 0 0 (unencrypted) || "B2"
 *                       || salt (32) || opslimit (8, LE) || memlimit (8, LE)
 *                       || [key id (8) || secret key (64) || checksum (32)])
 *                the bracketed part XORed with scrypt(passphrase, salt) when
 *                encrypted; checksum = BLAKE2b-256("Ed" || key id || key)
 *   signature    untrusted comment: ...
 *                base64("ED" || key id (8) || ed25519(BLAKE2b-512(data)))
 *                trusted comment: ...
 *                base64(ed25519(signature (64) || trusted comment))
 *
 * Legacy "Ed" signatures (over the data itself) are verified too; we always
 * write the prehashed "ED" form, as minisign does by default. The trusted
 * comment is covered by the signature; the untrusted one is not.
 *
 * Every function returns WASMPLUG_OK or an error with a message in msg
 * (msgsize bytes, may be 0). Strings returned through char ** are malloc'd
 * (free()). Secret keys are wiped before their memory is released.
 */
#ifndef WASMPLUG_SIGNING_H
#define WASMPLUG_SIGNING_H

#include <wasmplug.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A public key: its 8-byte id and the ed25519 key. */
typedef struct wasmplug_pubkey {
    uint8_t id[8];
    uint8_t key[32];
} wasmplug_pubkey;

/** A secret key (decrypted): its id and the 64-byte ed25519 secret key (private half, then the public key). */
typedef struct wasmplug_seckey {
    uint8_t id[8];
    uint8_t key[64];
} wasmplug_seckey;

/** Default scrypt cost of keys we encrypt: minisign's operation count with
 *  64 MiB instead of its 1 GiB (readers honour whatever the key file says). */
#define WASMPLUG_SIGN_KDF_OPSLIMIT 33554432ULL
#define WASMPLUG_SIGN_KDF_MEMLIMIT 67108864ULL
/** libsodium's "interactive" scrypt cost: fast, weaker (tests, CI keys). */
#define WASMPLUG_SIGN_KDF_OPSLIMIT_FAST 524288ULL
#define WASMPLUG_SIGN_KDF_MEMLIMIT_FAST 16777216ULL

/** A new random key pair. Fails only if libsodium cannot initialise. */
WASMPLUG_API wasmplug_status wasmplug_key_generate(wasmplug_pubkey *pub, wasmplug_seckey *sec,
                                                   char *msg, size_t msgsize);

/** The key id as minisign prints it: 16 upper-case hex digits (buf >= 17). */
WASMPLUG_API const char *wasmplug_key_id_hex(const uint8_t id[8], char *buf, size_t size);

/** A public key file's text (two lines). */
WASMPLUG_API wasmplug_status wasmplug_pubkey_format(const wasmplug_pubkey *pub, char **text,
                                                    char *msg, size_t msgsize);
/** Parse a public key: a minisign public key file's text, or its base64 line alone. */
WASMPLUG_API wasmplug_status wasmplug_pubkey_parse(const char *text, size_t len,
                                                   wasmplug_pubkey *out, char *msg,
                                                   size_t msgsize);

/**
 * A secret key file's text. passphrase NULL writes it unencrypted (as
 * `minisign -G -W`); otherwise scrypt with opslimit and memlimit (0, 0:
 * the defaults above) protects it.
 */
WASMPLUG_API wasmplug_status wasmplug_seckey_format(const wasmplug_seckey *sec,
                                                    const char *passphrase,
                                                    unsigned long long opslimit,
                                                    unsigned long long memlimit, char **text,
                                                    char *msg, size_t msgsize);
/** Whether a secret key file's text is passphrase-protected. */
WASMPLUG_API bool wasmplug_seckey_encrypted(const char *text, size_t len);
/**
 * Parse (and decrypt) a secret key file. passphrase may be NULL for an
 * unencrypted key. A wrong passphrase fails the checksum:
 * WASMPLUG_ERR_PERMISSION_DENIED "wrong passphrase".
 */
WASMPLUG_API wasmplug_status wasmplug_seckey_parse(const char *text, size_t len,
                                                   const char *passphrase, wasmplug_seckey *out,
                                                   char *msg, size_t msgsize);

/**
 * Sign data: a minisign signature file's text (prehashed "ED").
 * trusted_comment is signed too (no newline; NULL: "timestamp:<now>");
 * untrusted_comment NULL gives "signature from wasmplug secret key".
 */
WASMPLUG_API wasmplug_status wasmplug_sign(const wasmplug_seckey *sec, const uint8_t *data,
                                           size_t len, const char *trusted_comment,
                                           const char *untrusted_comment, char **sig_text,
                                           char *msg, size_t msgsize);

/** The key id a signature file claims to be made by (not verified). */
WASMPLUG_API wasmplug_status wasmplug_signature_key_id(const char *sig_text, size_t sig_len,
                                                       uint8_t id[8], char *msg,
                                                       size_t msgsize);

/**
 * Verify a signature file's text over data with one of keys (count keys).
 * Both the data signature and the trusted comment's signature must hold.
 * Errors: WASMPLUG_ERR_MALFORMED (not a signature file),
 * WASMPLUG_ERR_PERMISSION_DENIED ("signed by key X, which is not trusted",
 * "signature does not match the data", "trusted comment was modified").
 * On success *trusted_comment (may be NULL) gets the comment and
 * *signer (may be NULL) the index of the key that matched.
 */
WASMPLUG_API wasmplug_status wasmplug_verify(const wasmplug_pubkey *keys, size_t count,
                                             const char *sig_text, size_t sig_len,
                                             const uint8_t *data, size_t len,
                                             char **trusted_comment, size_t *signer, char *msg,
                                             size_t msgsize);

/** Wipe a secret key. */
WASMPLUG_API void wasmplug_seckey_wipe(wasmplug_seckey *sec);

#ifdef __cplusplus
}
#endif
#endif /* WASMPLUG_SIGNING_H */
