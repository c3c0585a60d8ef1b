/*
 * regex.c - a regular-expression matcher: patterns (literals, '.',
 * classes [a-z0-9_] and [^...], \d \w \s, groups, alternation, * + ?) are
 * parsed into a small instruction program (CHAR, ANY, CLASS, SPLIT, JMP,
 * BOL, EOL, MATCH) and run as a Pike VM (Thompson NFA simulation: a list of
 * threads per input byte, each state at most once), searching every line of
 * 32 KiB of generated log text for each of eight patterns. An inner
 * interpreter loop with a switch, bitmaps, small arrays of state indexes -
 * what a log filter or a routing plugin does.
 * One unit = the eight patterns over the whole text (new text every 4 units).
 */
#include "workload.h"

#define TEXT_CAP (32u * 1024u)
#define PROG_CAP 256
#define CLASS_CAP 32

enum { I_CHAR, I_ANY, I_CLASS, I_SPLIT, I_JMP, I_BOL, I_EOL, I_MATCH };

typedef struct inst {
    uint8_t op;
    uint8_t c;      /* I_CHAR: the byte; I_CLASS: class index */
    uint16_t x, y;  /* I_SPLIT: both targets (x preferred); I_JMP: x */
} inst;

typedef struct program {
    inst code[PROG_CAP];
    uint32_t len;
    uint32_t classes[CLASS_CAP][8]; /* 256-bit sets */
    uint32_t nclasses;
    int bad;
} program;

static const char *const patterns[] = {
    "ERROR|FATAL",
    "[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+",
    "user=[a-z]+ id=\\d\\d+",
    "(GET|POST|PUT) /api/(v1|v2)/[a-z/]+",
    "^\\d+-\\d+-\\d+T",
    "took [1-9][0-9][0-9]+ms$",
    "\"[^\"]*\\\\n[^\"]*\"",
    "(a|e|i|o|u)(a|e|i|o|u)[^aeiou\\s]*(ing|ed)\\b?",
};
#define NPATTERNS (sizeof patterns / sizeof patterns[0])

static program progs[NPATTERNS];
static char text[TEXT_CAP];
static uint32_t text_len;

/* ---- compiler: recursive descent straight to code ---- */

static const char *src;
static program *cur;

static uint32_t emit(uint8_t op, uint8_t c, uint16_t x, uint16_t y)
{
    if (cur->len == PROG_CAP) {
        cur->bad = 1;
        return PROG_CAP - 1;
    }
    cur->code[cur->len] = (inst){op, c, x, y};
    return cur->len++;
}

/* Insert an instruction at `at`, shifting the code after it by one. Jumps
 * from before `at` to `at` now reach the inserted instruction; every other
 * target at or beyond `at` moves with its code. */
static void insert_at(uint32_t at, uint8_t op, uint16_t x, uint16_t y)
{
    if (cur->len == PROG_CAP) {
        cur->bad = 1;
        return;
    }
    for (uint32_t i = cur->len; i > at; i--)
        cur->code[i] = cur->code[i - 1];
    cur->len++;
    for (uint32_t i = 0; i < cur->len; i++) {
        inst *p = &cur->code[i];
        if (i == at || (p->op != I_SPLIT && p->op != I_JMP))
            continue;
        uint32_t from = i < at ? at + 1 : at;
        if (p->x >= from)
            p->x++;
        if (p->op == I_SPLIT && p->y >= from)
            p->y++;
    }
    cur->code[at] = (inst){op, 0, x, y};
}

static void set_bit(uint32_t *set, uint32_t c)
{
    set[c >> 5] |= 1u << (c & 31);
}

static void add_escape_class(uint32_t *set, char e)
{
    for (uint32_t c = 0; c < 256; c++) {
        int in = 0;
        if (e == 'd')
            in = c >= '0' && c <= '9';
        else if (e == 'w')
            in = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 c == '_';
        else if (e == 's')
            in = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        else
            in = c == (uint8_t)e;
        if (in)
            set_bit(set, c);
    }
}

static uint32_t new_class(void)
{
    if (cur->nclasses == CLASS_CAP) {
        cur->bad = 1;
        return 0;
    }
    uint32_t k = cur->nclasses++;
    for (int i = 0; i < 8; i++)
        cur->classes[k][i] = 0;
    return k;
}

static void parse_alt(void);

static void parse_atom(void)
{
    char c = *src++;
    if (c == '(') {
        parse_alt();
        if (*src == ')')
            src++;
        else
            cur->bad = 1;
    } else if (c == '.') {
        emit(I_ANY, 0, 0, 0);
    } else if (c == '^') {
        emit(I_BOL, 0, 0, 0);
    } else if (c == '$') {
        emit(I_EOL, 0, 0, 0);
    } else if (c == '\\') {
        char e = *src++;
        if (e == 'd' || e == 'w' || e == 's') {
            uint32_t k = new_class();
            add_escape_class(cur->classes[k], e);
            emit(I_CLASS, (uint8_t)k, 0, 0);
        } else if (e == 'b') {
            emit(I_CHAR, ' ', 0, 0);
        } else {
            emit(I_CHAR, (uint8_t)e, 0, 0);
        }
    } else if (c == '[') {
        uint32_t k = new_class();
        uint32_t set[8] = {0};
        int negate = *src == '^';
        if (negate)
            src++;
        while (*src && *src != ']') {
            char a = *src++;
            if (a == '\\' && *src) {
                add_escape_class(set, *src++);
            } else if (src[0] == '-' && src[1] && src[1] != ']') {
                for (uint32_t x = (uint8_t)a; x <= (uint8_t)src[1]; x++)
                    set_bit(set, x);
                src += 2;
            } else {
                set_bit(set, (uint8_t)a);
            }
        }
        if (*src == ']')
            src++;
        else
            cur->bad = 1;
        for (int i = 0; i < 8; i++)
            cur->classes[k][i] = negate ? ~set[i] : set[i];
        emit(I_CLASS, (uint8_t)k, 0, 0);
    } else {
        emit(I_CHAR, (uint8_t)c, 0, 0);
    }
}

static void parse_piece(void)
{
    uint32_t start = cur->len;
    parse_atom();
    char q = *src;
    if (q == '*') {
        /* L1: split L2, L3; L2: atom; jmp L1; L3: */
        src++;
        insert_at(start, I_SPLIT, (uint16_t)(start + 1), 0);
        emit(I_JMP, 0, (uint16_t)start, 0);
        cur->code[start].y = (uint16_t)cur->len;
    } else if (q == '+') {
        /* L1: atom; split L1, L2; L2: */
        src++;
        uint32_t at = emit(I_SPLIT, 0, (uint16_t)start, 0);
        cur->code[at].y = (uint16_t)cur->len;
    } else if (q == '?') {
        /* split L1, L2; L1: atom; L2: */
        src++;
        insert_at(start, I_SPLIT, (uint16_t)(start + 1), 0);
        cur->code[start].y = (uint16_t)cur->len;
    }
}

static void parse_concat(void)
{
    while (*src && *src != '|' && *src != ')')
        parse_piece();
}

static void parse_alt(void)
{
    uint32_t start = cur->len;
    parse_concat();
    if (*src != '|')
        return;
    src++;
    /* split L1, L2; L1: left; jmp end; L2: right */
    insert_at(start, I_SPLIT, (uint16_t)(start + 1), 0);
    uint32_t jmp = emit(I_JMP, 0, 0, 0);
    cur->code[start].y = (uint16_t)cur->len;
    parse_alt();
    cur->code[jmp].x = (uint16_t)cur->len;
}

static void compile(program *p, const char *pattern)
{
    cur = p;
    src = pattern;
    p->len = 0;
    p->nclasses = 0;
    p->bad = 0;
    parse_alt();
    if (*src)
        p->bad = 1;
    emit(I_MATCH, 0, 0, 0);
}

/* ---- Pike VM ---- */

typedef struct thread_list {
    uint16_t pc[PROG_CAP];
    uint32_t n;
} thread_list;

static thread_list lists[2];
static uint32_t seen[PROG_CAP];
static uint32_t generation;

/* Follow SPLIT/JMP/BOL/EOL from pc at position i; 1 when MATCH is reached. */
static int add_thread(const program *p, thread_list *l, uint32_t pc, const char *line, uint32_t i,
                      uint32_t len)
{
    uint16_t stack[PROG_CAP];
    uint32_t sp = 0;
    stack[sp++] = (uint16_t)pc;
    while (sp) {
        pc = stack[--sp];
        if (seen[pc] == generation)
            continue;
        seen[pc] = generation;
        const inst *in = &p->code[pc];
        switch (in->op) {
        case I_JMP: stack[sp++] = in->x; break;
        case I_SPLIT:
            stack[sp++] = in->y;
            stack[sp++] = in->x;
            break;
        case I_BOL:
            if (i == 0)
                stack[sp++] = (uint16_t)(pc + 1);
            break;
        case I_EOL:
            if (i == len)
                stack[sp++] = (uint16_t)(pc + 1);
            break;
        case I_MATCH: return 1;
        default: l->pc[l->n++] = (uint16_t)pc;
        }
    }
    (void)line;
    return 0;
}

/* 1 when the pattern matches anywhere in line[0..len). */
static int search(const program *p, const char *line, uint32_t len)
{
    thread_list *now = &lists[0], *next = &lists[1];
    now->n = 0;
    generation++;
    for (uint32_t i = 0;; i++) {
        /* A new thread starts at every position (unanchored search). */
        if (add_thread(p, now, 0, line, i, len))
            return 1;
        if (i == len)
            return 0;
        uint8_t c = (uint8_t)line[i];
        next->n = 0;
        generation++;
        for (uint32_t t = 0; t < now->n; t++) {
            uint32_t pc = now->pc[t];
            const inst *in = &p->code[pc];
            int step;
            switch (in->op) {
            case I_CHAR: step = in->c == c; break;
            case I_ANY: step = c != '\n'; break;
            case I_CLASS: step = (p->classes[in->c][c >> 5] >> (c & 31)) & 1; break;
            default: step = 0;
            }
            if (step && add_thread(p, next, pc + 1, line, i + 1, len))
                return 1;
        }
        thread_list *swap = now;
        now = next;
        next = swap;
    }
}

/* ---- text ---- */

static uint64_t text_seed;

static void put(const char *s)
{
    while (*s && text_len < TEXT_CAP - 1)
        text[text_len++] = *s++;
}

static void put_num(uint32_t v)
{
    char digits[21];
    put(wl_utoa(digits, v));
}

static const char *const fragments[] = {
    "INFO", "WARN", "ERROR", "request", "user=", "id=", "GET ", "POST ", "/api/v1/", "/api/v2/",
    "orders/", "items", "took ", "ms", "\"quoted\\n text\"", "reading", "parsed", "from ",
    "queue", "retrying", "FATAL", "sealed", "loading", "=", "user=alice id=17",
    "user=bob id=4", "GET /api/v2/items/list", "PUT /api/v1/orders", "POST /api/v3/x",
};
#define NFRAGMENTS (sizeof fragments / sizeof fragments[0])

static void make_text(uint64_t seed)
{
    text_seed = seed;
    text_len = 0;
    while (text_len < TEXT_CAP - 128) {
        uint32_t r = wl_rand32(&text_seed);
        if (r % 3 == 0) {
            put_num(2026);
            put("-");
            put_num(1 + (r >> 4) % 12);
            put("-");
            put_num(1 + (r >> 8) % 28);
            put("T");
        }
        uint32_t words = 3 + (r >> 12) % 8;
        for (uint32_t w = 0; w < words; w++) {
            uint32_t q = wl_rand32(&text_seed);
            if (q % 5 == 0) {
                put_num(q >> 20);
                if ((q >> 8) % 4 == 0) {
                    put(".");
                    put_num((q >> 4) % 256);
                    put(".");
                    put_num((q >> 12) % 256);
                    put(".");
                    put_num((q >> 24) % 256);
                }
            } else {
                put(fragments[(q >> 3) % NFRAGMENTS]);
                if ((q >> 10) % 3 == 0)
                    put(fragments[(q >> 14) % NFRAGMENTS]);
            }
            put(" ");
        }
        if (r >> 29 == 0) {
            put("took ");
            put_num((r >> 16) % 2000);
            put("ms");
        }
        put("\n");
    }
}

static uint64_t workload(uint32_t n)
{
    uint64_t sum = 0, bad = 0;
    for (uint32_t k = 0; k < NPATTERNS; k++) {
        compile(&progs[k], patterns[k]);
        bad += (uint64_t)progs[k].bad;
        sum = wl_mix(sum, progs[k].len);
    }
    generation = 0;
    for (uint32_t i = 0; i < PROG_CAP; i++)
        seen[i] = 0;
    for (uint32_t u = 0; u < n; u++) {
        if (u % 4 == 0)
            make_text(wl_seed(u));
        for (uint32_t k = 0; k < NPATTERNS; k++) {
            uint32_t matches = 0, start = 0;
            for (uint32_t i = 0; i < text_len; i++) {
                if (text[i] != '\n')
                    continue;
                matches += (uint32_t)search(&progs[k], text + start, i - start);
                start = i + 1;
            }
            sum = wl_mix(sum, matches);
        }
    }
    return wl_mix(sum, bad);
}

WL_ENTRY()
