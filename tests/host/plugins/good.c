/*
 * good.c - the well-behaved test plugin (plugin ABI v1, freestanding C):
 * echo, greetings from its config, a counter (to see instances replaced
 * after a trap), a failing function, typed exports, calls to typed and
 * bytes host functions, logging, and env.barrier for the pool test.
 */
#include <stdint.h>

#define EXPORT(n) __attribute__((export_name(n)))
#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))

IMPORT("wasmplug", "input_len") int32_t input_len(void);
IMPORT("wasmplug", "input_read") int32_t input_read(void *p, int32_t len, int32_t off);
IMPORT("wasmplug", "output_write") int32_t output_write(const void *p, int32_t len);
IMPORT("wasmplug", "error_set") void error_set(const void *p, int32_t len);
IMPORT("wasmplug", "log") void wlog(int32_t level, const void *p, int32_t len);
IMPORT("wasmplug", "config_get") int32_t config_get(const void *k, int32_t kl, void *out, int32_t cap);
IMPORT("wasmplug", "result_read") int32_t result_read(void *p, int32_t len, int32_t off);
IMPORT("wasmplug", "abi_version") int32_t abi_version(void);
IMPORT("env", "add") int32_t host_add(int32_t a, int32_t b);                 /* "(ii)i" */
IMPORT("env", "upper") int32_t host_upper(const void *in, int32_t inlen, void *out, int32_t cap);
IMPORT("env", "whoami") int32_t host_whoami(void *out, int32_t cap);         /* "(p)i" */
IMPORT("env", "barrier") int32_t host_barrier(void);                         /* "()i" */

static char buf[65536];
static char small[16];
static char greeting[64];
static int32_t greeting_len;
static int32_t inits;
static int32_t counter;

static int32_t slen(const char *s)
{
    int32_t n = 0;
    while (s[n])
        n++;
    return n;
}

static void out_str(const char *s)
{
    output_write(s, slen(s));
}

static void out_int(int32_t v)
{
    char d[12];
    int n = 0;
    uint32_t u = v < 0 ? (uint32_t)0 - (uint32_t)v : (uint32_t)v;
    do {
        d[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        output_write("-", 1);
    while (n)
        output_write(&d[--n], 1);
}

EXPORT("wasmplug_init") int32_t init(void)
{
    greeting_len = config_get("greeting", 8, greeting, sizeof greeting);
    if (greeting_len < 0) {
        greeting[0] = 'H';
        greeting[1] = 'i';
        greeting_len = 2;
    }
    if (greeting_len > (int32_t)sizeof greeting)
        greeting_len = sizeof greeting;
    inits++;
    return 0;
}

EXPORT("wasmplug_dispose") int32_t dispose(void)
{
    wlog(2, "disposed", 8);
    return 0;
}

/* Copy the input to the output in chunks (inputs may exceed buf). */
EXPORT("echo") int32_t echo(void)
{
    int32_t off = 0, n;
    while ((n = input_read(buf, sizeof buf, off)) > 0) {
        output_write(buf, n);
        off += n;
    }
    return 0;
}

EXPORT("greet") int32_t greet(void)
{
    int32_t n = input_read(buf, sizeof buf, 0);
    output_write(greeting, greeting_len);
    out_str(", ");
    output_write(buf, n);
    out_str("!");
    return 0;
}

EXPORT("count") int32_t count(void)
{
    counter++;
    out_int(counter);
    return 0;
}

/* Updates state, then traps: the next call must not see the update. */
EXPORT("count_then_trap") int32_t count_then_trap(void)
{
    counter += 100;
    __builtin_trap();
}

EXPORT("fail") int32_t fail(void)
{
    error_set("bad input", 9);
    return 7;
}

EXPORT("add") int32_t add(int32_t a, int32_t b)
{
    return a + b;
}

EXPORT("mul64") int64_t mul64(int64_t a, int64_t b)
{
    return a * b;
}

EXPORT("fdiv") double fdiv(double a, double b)
{
    return a / b;
}

EXPORT("hadd") int32_t hadd(int32_t a, int32_t b)
{
    return host_add(a, b);
}

EXPORT("inits") int32_t get_inits(void)
{
    return inits;
}

EXPORT("version") int32_t version(void)
{
    return abi_version();
}

/* Upper-cases the input through the bytes host function env.upper, with a
 * deliberately small output buffer so the rest comes from result_read. */
EXPORT("upper") int32_t upper(void)
{
    int32_t n = input_read(buf, 4096, 0);
    int32_t r = host_upper(buf, n, small, sizeof small);
    if (r < 0) {
        error_set("upper failed", 12);
        return -r;
    }
    if (r <= (int32_t)sizeof small) {
        output_write(small, r);
    } else {
        int32_t got = result_read(buf + 4096, r, 0);
        output_write(buf + 4096, got);
    }
    return 0;
}

EXPORT("whoami") int32_t whoami(void)
{
    int32_t n = host_whoami(buf, 128);
    output_write(buf, n);
    return 0;
}

EXPORT("log") int32_t do_log(void)
{
    int32_t n = input_read(buf, sizeof buf, 0);
    wlog(2, buf, n);
    return 0;
}

EXPORT("barrier") int32_t barrier(void)
{
    out_int(host_barrier());
    return 0;
}

EXPORT("big") int32_t big(void)
{
    /* n bytes of output, n = the decimal input. */
    int32_t n = input_read(buf, 16, 0), v = 0;
    for (int32_t i = 0; i < n; i++)
        v = v * 10 + (buf[i] - '0');
    for (int32_t i = 0; i < 1024; i++)
        buf[i] = 'x';
    while (v > 0) {
        int32_t k = v < 1024 ? v : 1024;
        output_write(buf, k);
        v -= k;
    }
    return 0;
}
