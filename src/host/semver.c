/*
 * semver.c - semantic versions: precedence (wasmplug_semver_compare) and
 * ranges, each comparator desugared into plain bounds (>=, >, <=, <, =)
 * over full versions. See "Semantic versions" in wasmplug.h for the
 * syntax. In the core library: plugin dependencies (deps.c) check ranges.
 */
#include "internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op { OP_ANY, OP_EQ, OP_GE, OP_GT, OP_LE, OP_LT };

typedef struct bound {
    enum op op;
    char version[96];
} bound;

/* A partial version: up to three numbers (-1: wildcard/missing) and a
 * pre-release tag. */
typedef struct partial {
    long long n[3];
    char pre[64];
} partial;

static wasmplug_status fail(char *msg, size_t msgsize, const char *fmt, ...)
{
    if (msg && msgsize) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msgsize, fmt, ap);
        va_end(ap);
    }
    return WASMPLUG_ERR_ARGUMENT;
}

/* Parse "1", "1.2", "1.x", "1.2.3-beta.1+build" (the token, len bytes). */
static bool parse_partial(const char *s, size_t len, partial *p)
{
    p->n[0] = p->n[1] = p->n[2] = -1;
    p->pre[0] = '\0';
    size_t i = 0;
    if (i < len && (s[i] == 'v' || s[i] == 'V'))
        i++;
    for (int k = 0; k < 3; k++) {
        if (i >= len)
            return k > 0;
        if (s[i] == 'x' || s[i] == 'X' || s[i] == '*') {
            i++;
        } else if (isdigit((unsigned char)s[i])) {
            long long v = 0;
            while (i < len && isdigit((unsigned char)s[i])) {
                if (v > 100000000000LL)
                    return false;
                v = v * 10 + (s[i++] - '0');
            }
            if (k > 0 && p->n[k - 1] < 0)
                return false; /* 1.x.3 */
            p->n[k] = v;
        } else {
            return false;
        }
        if (i < len && s[i] == '.' && k < 2) {
            i++;
            if (i >= len)
                return false;
        } else {
            break;
        }
    }
    if (i < len && s[i] == '-') {
        size_t start = ++i;
        while (i < len && s[i] != '+')
            i++;
        if (i == start || i - start >= sizeof p->pre || p->n[2] < 0)
            return false;
        memcpy(p->pre, s + start, i - start);
        p->pre[i - start] = '\0';
    }
    if (i < len && s[i] == '+')
        i = len; /* build metadata plays no part in precedence */
    return i == len;
}

static void put(bound *b, enum op op, long long x, long long y, long long z, const char *pre)
{
    b->op = op;
    snprintf(b->version, sizeof b->version, "%lld.%lld.%lld%s%s", x, y, z,
             pre && *pre ? "-" : "", pre ? pre : "");
}

/* Desugar one comparator token into at most two bounds; returns how many,
 * -1 on a syntax error. */
static int desugar(const char *tok, size_t len, bound out[2])
{
    enum op op = OP_EQ;
    char sugar = 0;
    if (len && (tok[0] == '^' || tok[0] == '~')) {
        sugar = tok[0];
        tok++, len--;
    } else if (len >= 2 && tok[0] == '>' && tok[1] == '=')
        op = OP_GE, tok += 2, len -= 2;
    else if (len >= 2 && tok[0] == '<' && tok[1] == '=')
        op = OP_LE, tok += 2, len -= 2;
    else if (len && tok[0] == '>')
        op = OP_GT, tok++, len--;
    else if (len && tok[0] == '<')
        op = OP_LT, tok++, len--;
    else if (len && tok[0] == '=')
        tok++, len--;
    partial p;
    if (!parse_partial(tok, len, &p))
        return -1;
    long long M = p.n[0], m = p.n[1], pa = p.n[2];
    if (M < 0) { /* "*": any (">*" and "<*" match nothing sensible: refuse) */
        if (sugar || op == OP_EQ || op == OP_GE || op == OP_LE) {
            out[0].op = OP_ANY;
            return 1;
        }
        return -1;
    }
    long long m0 = m < 0 ? 0 : m, p0 = pa < 0 ? 0 : pa;
    if (sugar == '^') {
        put(&out[0], OP_GE, M, m0, p0, p.pre);
        if (M > 0 || m < 0)
            put(&out[1], OP_LT, M + 1, 0, 0, NULL);
        else if (m > 0 || pa < 0)
            put(&out[1], OP_LT, 0, m + 1, 0, NULL);
        else
            put(&out[1], OP_LT, 0, 0, pa + 1, NULL);
        return 2;
    }
    if (sugar == '~') {
        put(&out[0], OP_GE, M, m0, p0, p.pre);
        if (m < 0)
            put(&out[1], OP_LT, M + 1, 0, 0, NULL);
        else
            put(&out[1], OP_LT, M, m + 1, 0, NULL);
        return 2;
    }
    bool full = pa >= 0;
    switch (op) {
    case OP_EQ:
        if (full) {
            put(&out[0], OP_EQ, M, m, pa, p.pre);
            return 1;
        }
        put(&out[0], OP_GE, M, m0, 0, NULL);
        if (m < 0)
            put(&out[1], OP_LT, M + 1, 0, 0, NULL);
        else
            put(&out[1], OP_LT, M, m + 1, 0, NULL);
        return 2;
    case OP_GT: /* >1.2 is >=1.3.0 */
        if (full)
            put(&out[0], OP_GT, M, m, pa, p.pre);
        else if (m < 0)
            put(&out[0], OP_GE, M + 1, 0, 0, NULL);
        else
            put(&out[0], OP_GE, M, m + 1, 0, NULL);
        return 1;
    case OP_LE: /* <=1.2 is <1.3.0 */
        if (full)
            put(&out[0], OP_LE, M, m, pa, p.pre);
        else if (m < 0)
            put(&out[0], OP_LT, M + 1, 0, 0, NULL);
        else
            put(&out[0], OP_LT, M, m + 1, 0, NULL);
        return 1;
    default: /* >= and < take the missing parts as 0 */
        put(&out[0], op, M, m0, p0, p.pre);
        return 1;
    }
}

static bool bound_holds(const bound *b, const char *v)
{
    if (b->op == OP_ANY)
        return true;
    int c = wasmplug_semver_compare(v, b->version);
    switch (b->op) {
    case OP_EQ:
        return c == 0;
    case OP_GE:
        return c >= 0;
    case OP_GT:
        return c > 0;
    case OP_LE:
        return c <= 0;
    default:
        return c < 0;
    }
}

/* The major.minor.patch of a version (for the pre-release rule). */
static size_t core_len(const char *v)
{
    return strcspn(v, "-+");
}

/* Walk range: for each alternative, check its comparators (version may be
 * NULL: syntax check only). Returns 1 if satisfied, 0 if not, -1 on error. */
static int evaluate(const char *range, const char *version, char *msg, size_t msgsize)
{
    const char *s = range ? range : "";
    bool is_pre = version && version[core_len(version)] == '-';
    int result = 0;
    for (;;) {
        const char *alt_end = strstr(s, "||");
        size_t alen = alt_end ? (size_t)(alt_end - s) : strlen(s);
        bool holds = true, pre_allowed = !is_pre;
        size_t i = 0;
        while (i < alen) {
            while (i < alen && isspace((unsigned char)s[i]))
                i++;
            if (i >= alen)
                break;
            size_t start = i;
            /* An operator may be followed by spaces: ">= 1.2". */
            while (i < alen && strchr("<>=^~", s[i]))
                i++;
            while (i < alen && isspace((unsigned char)s[i]) && i > start)
                i++;
            while (i < alen && !isspace((unsigned char)s[i]))
                i++;
            char tok[128];
            size_t tl = 0;
            for (size_t k = start; k < i && tl + 1 < sizeof tok; k++)
                if (!isspace((unsigned char)s[k]))
                    tok[tl++] = s[k];
            tok[tl] = '\0';
            bound b[2];
            int n = desugar(tok, tl, b);
            if (n < 0) {
                fail(msg, msgsize,
                     "'%s' in the version range '%s' is not a version or comparison (use "
                     "1.2.3, ^1.2, ~1.2.3, >=1.0 <2, 1.x, *)", tok, range);
                return -1;
            }
            for (int k = 0; k < n && version; k++) {
                if (!bound_holds(&b[k], version))
                    holds = false;
                if (is_pre && b[k].op != OP_ANY && b[k].version[core_len(b[k].version)] == '-' &&
                    core_len(b[k].version) == core_len(version) &&
                    !strncmp(b[k].version, version, core_len(version)))
                    pre_allowed = true;
            }
        }
        if (version && holds && pre_allowed)
            result = 1;
        if (!alt_end)
            return result;
        s = alt_end + 2;
    }
}

wasmplug_status wasmplug_semver_range_check(const char *range, char *msg, size_t msgsize)
{
    return evaluate(range, NULL, msg, msgsize) < 0 ? WASMPLUG_ERR_ARGUMENT : WASMPLUG_OK;
}

bool wasmplug_semver_satisfies(const char *version, const char *range)
{
    if (!version || !wasmplug_semver_valid(version))
        return false;
    return evaluate(range, version, NULL, 0) == 1;
}

/* ------------------------------------------------------------------------ */
/* Semver precedence (semver.org section 11)                                */
/* ------------------------------------------------------------------------ */

static int cmp_num(const char **a, const char **b)
{
    while (**a == '0' && (*a)[1] >= '0' && (*a)[1] <= '9')
        (*a)++;
    while (**b == '0' && (*b)[1] >= '0' && (*b)[1] <= '9')
        (*b)++;
    size_t la = strspn(*a, "0123456789"), lb = strspn(*b, "0123456789");
    int r = la != lb ? (la < lb ? -1 : 1) : strncmp(*a, *b, la);
    *a += la;
    *b += lb;
    return r;
}

int wasmplug_semver_compare(const char *a, const char *b)
{
    for (int i = 0; i < 3; i++) {
        int r = cmp_num(&a, &b);
        if (r)
            return r < 0 ? -1 : 1;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
    }
    bool pa = *a == '-', pb = *b == '-';
    if (!pa || !pb)
        return pa == pb ? 0 : pa ? -1 : 1; /* a pre-release sorts before the release */
    a++;
    b++;
    for (;;) {
        size_t la = strcspn(a, ".+"), lb = strcspn(b, ".+");
        if (!la || !lb)
            return la == lb ? 0 : la ? 1 : -1; /* more identifiers sort later */
        bool na = strspn(a, "0123456789") == la, nb = strspn(b, "0123456789") == lb;
        int r;
        if (na && nb) {
            const char *x = a, *y = b;
            r = cmp_num(&x, &y);
        } else if (na != nb) {
            r = na ? -1 : 1; /* numeric identifiers sort before alphanumeric ones */
        } else {
            r = strncmp(a, b, la < lb ? la : lb);
            if (!r && la != lb)
                r = la < lb ? -1 : 1;
        }
        if (r)
            return r < 0 ? -1 : 1;
        a += la;
        b += lb;
        if (*a == '.')
            a++;
        else
            a = "";
        if (*b == '.')
            b++;
        else
            b = "";
        if (!*a || !*b)
            return !*a && !*b ? 0 : *a ? 1 : -1;
    }
}
