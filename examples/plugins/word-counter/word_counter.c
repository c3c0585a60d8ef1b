/*
 * word_counter.c - the word-counter example plugin (C, wasmplug C PDK).
 *
 * Export `count`: input {"text": "..."}; output
 *   {"words":N,"unique":U,"filtered":F,"top":[{"word":"w","count":c},...]}
 * where words are runs of letters, digits, apostrophes or non-ASCII bytes,
 * lower-cased; stop words and words shorter than min_word_length are
 * filtered out (counted in "filtered").
 * Export `count_text`: the same with the raw input as the text.
 *
 * Config (all optional): min_word_length (integer, default 1), stop_words
 * (comma-separated list replacing the built-in English list),
 * filter_stop_words (true/false, default true), top (integer, default 5).
 *
 * Builds as a WASI reactor or freestanding (see build.sh).
 */
#include "wasmplug_pdk.h"

static const char *const default_stop_words[] = {
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "so", "such", "that", "the", "their", "then",
    "there", "these", "they", "this", "to", "was", "will", "with"};

typedef struct entry {
    const char *word;
    size_t len;
    uint32_t count;
    uint32_t first; /* order of first appearance: ties in "top" keep it */
} entry;

typedef struct table {
    entry *slots;
    size_t cap, used;
    bool persistent; /* allocate with wp_alloc_persistent (kept across calls) */
} table;

static uint32_t hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static entry *table_find(table *t, const char *w, size_t n, bool insert)
{
    if (insert && (t->used + 1) * 2 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        entry *ns = t->persistent ? wp_alloc_persistent(ncap * sizeof *ns)
                                  : wp_alloc(ncap * sizeof *ns);
        if (!ns)
            return NULL;
        memset(ns, 0, ncap * sizeof *ns);
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slots[i].word)
                continue;
            size_t j = hash(t->slots[i].word, t->slots[i].len) & (ncap - 1);
            while (ns[j].word)
                j = (j + 1) & (ncap - 1);
            ns[j] = t->slots[i];
        }
        t->slots = ns;
        t->cap = ncap;
    }
    if (!t->cap)
        return NULL;
    size_t j = hash(w, n) & (t->cap - 1);
    while (t->slots[j].word) {
        if (t->slots[j].len == n && memcmp(t->slots[j].word, w, n) == 0)
            return &t->slots[j];
        j = (j + 1) & (t->cap - 1);
    }
    if (!insert)
        return NULL;
    t->slots[j].word = w;
    t->slots[j].len = n;
    t->slots[j].first = (uint32_t)t->used;
    t->used++;
    return &t->slots[j];
}

static bool word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '\'' || c >= 0x80;
}

/* Load the stop words: config stop_words or the built-in list. Built once
 * per instance and kept (config cannot change while an instance lives). */
static bool load_stop_words(table *stop)
{
    stop->persistent = true;
    if (!wp_config_bool("filter_stop_words", true))
        return true;
    const char *cfg = wp_config("stop_words");
    if (!cfg) {
        for (size_t i = 0; i < sizeof default_stop_words / sizeof *default_stop_words; i++)
            if (!table_find(stop, default_stop_words[i], wp_strlen(default_stop_words[i]), true))
                return false;
        return true;
    }
    /* Lower-case a copy, then split on commas, trimming spaces. */
    size_t n = wp_strlen(cfg);
    char *copy = wp_alloc_persistent(n + 1);
    if (!copy)
        return false;
    for (size_t i = 0; i <= n; i++)
        copy[i] = wp_lower(cfg[i]);
    size_t i = 0;
    while (i < n) {
        while (i < n && (copy[i] == ' ' || copy[i] == ','))
            i++;
        size_t start = i;
        while (i < n && copy[i] != ',')
            i++;
        size_t end = i;
        while (end > start && copy[end - 1] == ' ')
            end--;
        if (end > start && !table_find(stop, copy + start, end - start, true))
            return false;
    }
    return true;
}

static int count_words(char *text, size_t len)
{
    long long min_len, top_n;
    if (!wp_config_int("min_word_length", 1, &min_len) || !wp_config_int("top", 5, &top_n))
        return 2; /* the message is set */
    if (min_len < 0 || top_n < 0)
        return wp_fail(2, "config min_word_length and top must not be negative");

    static table stop;
    static bool stop_ready;
    if (!stop_ready) {
        if (!load_stop_words(&stop))
            return wp_fail(3, "out of memory");
        stop_ready = true;
    }
    table words = {0};

    uint32_t total = 0, filtered = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && !word_char((unsigned char)text[i]))
            i++;
        size_t start = i;
        size_t chars = 0; /* UTF-8 characters, not bytes */
        while (i < len && word_char((unsigned char)text[i])) {
            text[i] = wp_lower(text[i]);
            if (((unsigned char)text[i] & 0xC0) != 0x80)
                chars++;
            i++;
        }
        /* Apostrophes only inside a word ("don't" but not "'quoted'"). */
        size_t end = i;
        while (start < end && text[start] == '\'')
            start++, chars--;
        while (end > start && text[end - 1] == '\'')
            end--, chars--;
        if (end == start)
            continue;
        size_t n = end - start;
        if ((long long)chars < min_len || table_find(&stop, text + start, n, false)) {
            filtered++;
            continue;
        }
        entry *e = table_find(&words, text + start, n, true);
        if (!e)
            return wp_fail(3, "out of memory");
        e->count++;
        total++;
    }

    /* The top words: repeated selection of the most frequent (small N). */
    wp_jw w = {0};
    wp_jw_object(&w);
    wp_jw_key(&w, "words");
    wp_jw_int(&w, total);
    wp_jw_key(&w, "unique");
    wp_jw_int(&w, (long long)words.used);
    wp_jw_key(&w, "filtered");
    wp_jw_int(&w, filtered);
    wp_jw_key(&w, "top");
    wp_jw_array(&w);
    for (long long k = 0; k < top_n && (size_t)k < words.used; k++) {
        entry *best = NULL;
        for (size_t j = 0; j < words.cap; j++) {
            entry *e = &words.slots[j];
            if (!e->word || !e->count)
                continue;
            if (!best || e->count > best->count ||
                (e->count == best->count && e->first < best->first))
                best = e;
        }
        if (!best)
            break;
        wp_jw_object(&w);
        wp_jw_key(&w, "word");
        wp_jw_stringn(&w, best->word, best->len);
        wp_jw_key(&w, "count");
        wp_jw_int(&w, best->count);
        wp_jw_end_object(&w);
        best->count = 0; /* taken */
    }
    wp_jw_end_array(&w);
    wp_jw_end_object(&w);
    wp_log(WP_DEBUG, "word-counter: counted");
    return wp_output_json(&w);
}

WP_FN(count)
{
    wp_json *in = wp_input_json();
    if (!in)
        return 1; /* "invalid JSON input: ..." is set */
    wp_json *text = wp_json_get(in, "text");
    if (!text || text->type != WP_JSON_STRING)
        return wp_fail(1, "input must be an object with a string field \"text\"");
    return count_words((char *)text->str, text->len);
}

WP_FN(count_text)
{
    size_t n;
    const char *text = wp_input_bytes(&n);
    if (!text)
        return 1;
    return count_words((char *)text, n);
}
