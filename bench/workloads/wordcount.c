/*
 * wordcount.c - a text tokenizer with a hash map: generate 256 KiB of text
 * from a 4096-word vocabulary (skewed word frequencies, capitals,
 * punctuation, newlines), split it into words, lower-case them, and count
 * them in an open-addressing hash table (FNV-1a, linear probing) whose keys
 * are copied on insertion. Byte loads, branches, small copies - what a
 * word-counter or sentiment plugin does. One unit = 256 KiB of text.
 */
#include "workload.h"

#define VOCAB 4096
#define TEXT_SIZE (256u * 1024u)
#define TABLE_BITS 14
#define TABLE_SIZE (1u << TABLE_BITS)
#define MAX_WORD 16

typedef struct entry {
    uint32_t hash;
    uint32_t key;   /* offset in keys[] */
    uint32_t len;
    uint32_t count; /* 0: empty slot */
} entry;

static char vocab[VOCAB * MAX_WORD];
static uint8_t vocab_len[VOCAB];
static char text[TEXT_SIZE];
static entry table[TABLE_SIZE];
static char keys[VOCAB * MAX_WORD];
static uint32_t keys_used;
static uint32_t distinct;

static const char consonants[] = "bcdfghjklmnprstvwz";
static const char vowels[] = "aeiouy";

static void make_vocab(void)
{
    uint64_t seed = wl_seed(4096);
    for (uint32_t w = 0; w < VOCAB; w++) {
        char *p = vocab + w * MAX_WORD;
        uint32_t len = 0, syllables = 1 + wl_rand32(&seed) % 4;
        for (uint32_t s = 0; s < syllables; s++) {
            uint32_t r = wl_rand32(&seed);
            p[len++] = consonants[r % 18];
            p[len++] = vowels[(r >> 8) % 6];
            if ((r >> 16) % 3 == 0)
                p[len++] = consonants[(r >> 20) % 18];
        }
        vocab_len[w] = (uint8_t)len;
    }
}

static uint32_t make_text(uint64_t seed)
{
    uint32_t pos = 0;
    while (pos + MAX_WORD + 2 < TEXT_SIZE) {
        uint32_t r = wl_rand32(&seed);
        /* Product of two uniforms: small indexes are much more frequent. */
        uint32_t w = ((r & 4095) * ((r >> 12) & 4095)) >> 12;
        uint32_t len = vocab_len[w];
        wl_memcpy(text + pos, vocab + w * MAX_WORD, len);
        if (((r >> 24) & 15) == 0)
            text[pos] = (char)(text[pos] - 32); /* Capitalized */
        pos += len;
        uint32_t sep = r >> 28;
        if (sep == 0) {
            text[pos++] = ',';
        } else if (sep == 1) {
            text[pos++] = '.';
        } else if (sep == 2) {
            text[pos++] = '\n';
            continue;
        }
        text[pos++] = ' ';
    }
    return pos;
}

static int is_alpha(uint8_t c)
{
    return (uint8_t)((c | 0x20) - 'a') < 26;
}

static int same_key(const char *a, const char *b, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static void count_word(const char *word, uint32_t len, uint32_t hash)
{
    uint32_t slot = hash & (TABLE_SIZE - 1);
    for (;;) {
        entry *e = &table[slot];
        if (e->count == 0) {
            e->hash = hash;
            e->key = keys_used;
            e->len = len;
            e->count = 1;
            wl_memcpy(keys + keys_used, word, len);
            keys_used += len;
            distinct++;
            return;
        }
        if (e->hash == hash && e->len == len && same_key(keys + e->key, word, len)) {
            e->count++;
            return;
        }
        slot = (slot + 1) & (TABLE_SIZE - 1);
    }
}

static uint32_t count_words(uint32_t size)
{
    char word[MAX_WORD * 4];
    uint32_t words = 0, i = 0;
    while (i < size) {
        if (!is_alpha((uint8_t)text[i])) {
            i++;
            continue;
        }
        uint32_t len = 0, hash = 2166136261u;
        while (i < size && is_alpha((uint8_t)text[i])) {
            uint8_t c = (uint8_t)(text[i++] | 0x20);
            hash = (hash ^ c) * 16777619u;
            if (len < sizeof word)
                word[len++] = (char)c;
        }
        count_word(word, len, hash);
        words++;
    }
    return words;
}

static uint64_t workload(uint32_t n)
{
    make_vocab();
    uint64_t sum = 0;
    for (uint32_t u = 0; u < n; u++) {
        uint32_t size = make_text(wl_seed(u));
        wl_memset(table, 0, sizeof table);
        keys_used = 0;
        distinct = 0;
        uint32_t words = count_words(size);
        sum = wl_mix(sum, words);
        sum = wl_mix(sum, distinct);
        for (uint32_t s = 0; s < TABLE_SIZE; s++)
            if (table[s].count)
                sum = wl_mix(sum, (uint64_t)table[s].hash << 32 | table[s].count);
    }
    return sum;
}

WL_ENTRY()
