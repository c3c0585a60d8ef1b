/*
 * content_indexer.c - keeps word counts of the content it is given in the
 * key-value service (grant "kv": plugin.yaml asks for `storage`). One call
 * indexes one document: all of its counts change in one transaction, so a
 * failing call leaves the index as it was.
 *
 *   index   input: text            output: {"words": N} (words counted)
 *   count   input: a word          output: {"word": W, "count": N}
 *   words   input: a prefix        output: up to 100 indexed words with it
 */
#include "wasmplug_pdk.h"

#define KEY_PREFIX "w:"
#define WORD_MAX 64

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (unsigned char)c >= 0x80;
}

/* The count stored under key (0 when absent). */
static long long get_count(const char *key, size_t klen)
{
    size_t vlen;
    const char *v = wp_kv_get(key, klen, &vlen);
    long long n = 0;
    return v && wp_parse_int(v, &n) ? n : 0;
}

static void set_count(const char *key, size_t klen, long long n)
{
    wp_buf b = {0};
    wp_buf_int(&b, n);
    wp_kv_set(key, klen, b.data, b.len);
}

/* Exported as "index" (a C function of that name would clash with libc's). */
WP_EXPORT("index") int32_t index_text(void);
int32_t index_text(void)
{
    wp_arena_reset();
    size_t len;
    const char *text = wp_input_bytes(&len);
    if (!text)
        return 1;
    long long words = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && !is_letter(text[i]))
            i++;
        size_t start = i;
        while (i < len && is_letter(text[i]))
            i++;
        if (i == start || i - start > WORD_MAX)
            continue;
        char key[sizeof KEY_PREFIX + WORD_MAX];
        size_t k = sizeof KEY_PREFIX - 1;
        memcpy(key, KEY_PREFIX, k);
        for (size_t j = start; j < i; j++)
            key[k++] = wp_lower(text[j]);
        set_count(key, k, get_count(key, k) + 1);
        words++;
    }
    wp_jw w = {0};
    wp_jw_object(&w);
    wp_jw_key(&w, "words");
    wp_jw_int(&w, words);
    wp_jw_end_object(&w);
    return wp_output_json(&w);
}

WP_FN(count)
{
    const char *word = wp_input_string();
    if (!word || !*word || wp_strlen(word) > WORD_MAX)
        return wp_fail(1, "count takes one word");
    char key[sizeof KEY_PREFIX + WORD_MAX];
    size_t k = sizeof KEY_PREFIX - 1;
    memcpy(key, KEY_PREFIX, k);
    for (const char *c = word; *c; c++)
        key[k++] = wp_lower(*c);
    wp_jw w = {0};
    wp_jw_object(&w);
    wp_jw_key(&w, "word");
    wp_jw_stringn(&w, key + 2, k - 2);
    wp_jw_key(&w, "count");
    wp_jw_int(&w, get_count(key, k));
    wp_jw_end_object(&w);
    return wp_output_json(&w);
}

WP_FN(words)
{
    const char *prefix = wp_input_string();
    char key[sizeof KEY_PREFIX + WORD_MAX];
    size_t k = sizeof KEY_PREFIX - 1;
    memcpy(key, KEY_PREFIX, k);
    for (const char *c = prefix ? prefix : ""; *c && k < sizeof key; c++)
        key[k++] = wp_lower(*c);
    wp_kv_keys page;
    if (!wp_kv_list(key, k, NULL, 0, 100, &page))
        return wp_fail(1, "out of memory");
    wp_jw w = {0};
    wp_jw_array(&w);
    for (size_t i = 0; i < page.count; i++)
        wp_jw_stringn(&w, page.keys[i] + 2, page.lens[i] - 2);
    wp_jw_end_array(&w);
    return wp_output_json(&w);
}
