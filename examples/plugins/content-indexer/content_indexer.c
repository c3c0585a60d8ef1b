/*
 * content_indexer.c - the content-indexer example plugin (C PDK): keeps the
 * word counts of the content it is given in the key-value service (grant
 * "kv"), and takes that content from the event bus too: it subscribes to
 * content.created and publishes index.updated. One call indexes one
 * document: all of its counts and the event it publishes are one
 * transaction, so a failing call leaves the index as it was and publishes
 * nothing.
 *
 *   on_event  content.created {"id": "doc-1", "text": "..."}: index the text,
 *             publish index.updated {"id", "words", "distinct", "top": [{"word",
 *             "count"}]} (counts in this document; config `top`, default 3)
 *   index     input: text            output: {"words": N} (words counted)
 *   count     input: a word          output: {"word": W, "count": N}
 *   words     input: a prefix        output: up to 100 indexed words with it
 */
#include "wasmplug_pdk.h"

#define KEY_PREFIX "w:"
#define WORD_MAX 64
#define DISTINCT_MAX 512

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

/* A word of one document and how often it occurs there. */
typedef struct doc_word {
    const char *key; /* KEY_PREFIX + the word, lower-cased (in the arena) */
    size_t len;
    long long count;
} doc_word;

/* Add the words of text to the stored counts; the document's own distinct
 * words (at most DISTINCT_MAX) go to list if it is not NULL. Returns the
 * number of words. */
static long long index_words(const char *text, size_t len, doc_word *list, size_t *distinct)
{
    long long words = 0;
    if (distinct)
        *distinct = 0;
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
        if (!list)
            continue;
        size_t d = 0;
        while (d < *distinct && !(list[d].len == k && memcmp(list[d].key, key, k) == 0))
            d++;
        if (d < *distinct) {
            list[d].count++;
        } else if (*distinct < DISTINCT_MAX) {
            char *copy = wp_alloc(k);
            if (copy) {
                memcpy(copy, key, k);
                list[(*distinct)++] = (doc_word){copy, k, 1};
            }
        }
    }
    return words;
}

WP_ON_EVENT(on_content)
{
    const char *text = wp_json_get_string(ev->payload, "text");
    const char *id = wp_json_get_string(ev->payload, "id");
    if (!text || !id)
        return wp_fail(1, "content.created needs a payload {\"id\": ..., \"text\": ...}");
    doc_word *list = wp_alloc(DISTINCT_MAX * sizeof *list);
    long long top;
    if (!list)
        return wp_fail(1, "out of memory");
    if (!wp_config_int("top", 3, &top))
        return 1;
    size_t distinct;
    long long words = index_words(text, wp_strlen(text), list, &distinct);

    wp_jw w = {0};
    wp_jw_object(&w);
    wp_jw_key(&w, "id");
    wp_jw_string(&w, id);
    wp_jw_key(&w, "words");
    wp_jw_int(&w, words);
    wp_jw_key(&w, "distinct");
    wp_jw_int(&w, (long long)distinct);
    wp_jw_key(&w, "top");
    wp_jw_array(&w);
    /* The most frequent first (ties: first seen first): a selection, as
     * "top" is small. */
    for (long long t = 0; t < top && (size_t)t < distinct; t++) {
        size_t best = (size_t)t;
        for (size_t i = (size_t)t + 1; i < distinct; i++)
            if (list[i].count > list[best].count)
                best = i;
        doc_word tmp = list[t];
        list[t] = list[best];
        list[best] = tmp;
        wp_jw_object(&w);
        wp_jw_key(&w, "word");
        wp_jw_stringn(&w, list[t].key + 2, list[t].len - 2);
        wp_jw_key(&w, "count");
        wp_jw_int(&w, list[t].count);
        wp_jw_end_object(&w);
    }
    wp_jw_end_array(&w);
    wp_jw_end_object(&w);
    if (w.buf.oom)
        return wp_fail(1, "out of memory");
    if (wp_event_publish_n("index.updated", 13, w.buf.data, w.buf.len) < 0)
        return wp_fail(2, wp_service_result(NULL));
    return 0;
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
    wp_jw w = {0};
    wp_jw_object(&w);
    wp_jw_key(&w, "words");
    wp_jw_int(&w, index_words(text, len, NULL, NULL));
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
