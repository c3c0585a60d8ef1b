/*
 * test_alloc.c - out-of-memory paths through the engine's allocator hook.
 * The hook counts allocations and fails the Nth one; for every N until the
 * operation succeeds, wasmplug_module_new and wasmplug_instance_new must
 * fail cleanly (ERR_NOMEM, no object, no crash) and free everything they
 * allocated. The hook also checks the realloc-style contract: the sizes the
 * engine passes back must match what it got, and every byte is returned by
 * the end (ASan catches the rest).
 */
#include "test.h"

#include <inttypes.h>

typedef struct hook {
    long count;        /* allocations (new blocks and growing reallocs) so far */
    long fail_at;      /* fail this allocation (1-based); 0 = never */
    long failures;
    long long live;    /* bytes currently allocated, by the engine's own sizes */
    int size_errors;   /* frees/reallocs whose old_size was not the block's size */
} hook;

/* Every block carries its real size in front, to check old_size. */
typedef union header {
    size_t size;
    max_align_t align;
} header;

static void *hook_alloc(void *user, void *ptr, size_t old_size, size_t new_size)
{
    hook *h = user;
    header *b = ptr ? (header *)ptr - 1 : NULL;
    if (b && b->size != old_size)
        h->size_errors++;
    if (new_size == 0) {
        if (b) {
            h->live -= (long long)b->size;
            free(b);
        }
        return NULL;
    }
    if (!b || new_size > old_size) {
        h->count++;
        if (h->fail_at && h->count == h->fail_at) {
            h->failures++;
            return NULL;
        }
    }
    header *nb = realloc(b, sizeof(header) + new_size);
    if (!nb)
        return NULL;
    h->live += (long long)new_size - (long long)(b ? old_size : 0);
    nb->size = new_size;
    return nb + 1;
}

static int noop_host(wasmplug_caller *c, void *u, wasmplug_slot *s)
{
    (void)c;
    (void)u;
    (void)s;
    return 0;
}

/* Satisfy every import of m with a fresh host extern. */
static int make_imports(wasmplug_engine *e, wasmplug_module *m, wasmplug_extern *out)
{
    uint32_t n = wasmplug_module_import_count(m);
    for (uint32_t i = 0; i < n; i++) {
        const char *mod, *name;
        size_t ml, nl;
        wasmplug_externtype t;
        if (wasmplug_module_import(m, i, &mod, &ml, &name, &nl, &t) != WASMPLUG_OK)
            return -1;
        out[i].kind = t.kind;
        wasmplug_status st = WASMPLUG_ERR_ARGUMENT;
        switch (t.kind) {
        case WASMPLUG_EXTERN_FUNC:
            st = wasmplug_func_new_host(e, &t.of.func, noop_host, NULL, NULL, &out[i].of.func);
            break;
        case WASMPLUG_EXTERN_MEMORY:
            st = wasmplug_memory_new(e, t.of.memory, &out[i].of.memory);
            break;
        case WASMPLUG_EXTERN_TABLE:
            st = wasmplug_table_new(e, t.of.table.elem, t.of.table.limits, NULL,
                                    &out[i].of.table);
            break;
        case WASMPLUG_EXTERN_GLOBAL: {
            wasmplug_val v;
            memset(&v, 0, sizeof v);
            v.type = t.of.global.type;
            st = wasmplug_global_new(e, v, t.of.global.mutable_, &out[i].of.global);
            break;
        }
        }
        if (st != WASMPLUG_OK)
            return -1;
    }
    return (int)n;
}

static void release_imports(wasmplug_extern *imports, int n)
{
    for (int i = 0; i < n; i++)
        wasmplug_extern_release(imports[i]);
}

static void check_fixture(const char *name)
{
    size_t size = 0;
    uint8_t *bytes = test_fixture(name, &size);
    if (!bytes)
        return;
    hook h;
    memset(&h, 0, sizeof h);
    wasmplug_engine *e = test_engine_with(test_parse_bounds(getenv("WASMPLUG_TEST_BOUNDS")),
                                          hook_alloc, &h);
    long long base_live = h.live;

    /* wasmplug_module_new, failing each allocation in turn. */
    wasmplug_module *m = NULL;
    wasmplug_error err;
    long module_allocs = 0, bad = 0;
    for (long n = 1; n < 100000; n++) {
        h.fail_at = h.count + n;
        wasmplug_status st = wasmplug_module_new(e, bytes, size, &m, &err);
        h.fail_at = 0;
        if (st == WASMPLUG_OK) {
            module_allocs = n;
            break;
        }
        if (st != WASMPLUG_ERR_NOMEM || m != NULL || h.live != base_live) {
            if (bad++ < 5)
                printf("     %s: module_new with allocation %ld failing: %s (%s), "
                       "%lld bytes not freed\n",
                       name, n, wasmplug_strerror(st), err.message, h.live - base_live);
        }
    }
    test_check(bad == 0, __FILE__, __LINE__, "module_new fails cleanly at every allocation");
    test_check(m != NULL, __FILE__, __LINE__, "module_new succeeds eventually");
    printf("%s: module_new survived %ld allocation failures\n", name, module_allocs - 1);
    if (!m) {
        wasmplug_engine_free(e);
        free(bytes);
        return;
    }

    /* wasmplug_instance_new, likewise. */
    wasmplug_extern imports[64];
    int nimports = make_imports(e, m, imports);
    CHECK(nimports >= 0);
    long long before_instances = h.live;
    wasmplug_instance *inst = NULL;
    long inst_allocs = 0;
    bad = 0;
    for (long n = 1; nimports >= 0 && n < 100000; n++) {
        h.fail_at = h.count + n;
        wasmplug_status st = wasmplug_instance_new(m, imports, (size_t)nimports, NULL, &inst,
                                                   &err);
        h.fail_at = 0;
        if (st == WASMPLUG_OK) {
            inst_allocs = n;
            break;
        }
        if (st != WASMPLUG_ERR_NOMEM || inst != NULL || h.live != before_instances) {
            if (bad++ < 5)
                printf("     %s: instance_new with allocation %ld failing: %s (%s), "
                       "%lld bytes not freed\n",
                       name, n, wasmplug_strerror(st), err.message,
                       h.live - before_instances);
        }
    }
    test_check(bad == 0, __FILE__, __LINE__, "instance_new fails cleanly at every allocation");
    test_check(inst != NULL, __FILE__, __LINE__, "instance_new succeeds eventually");
    printf("%s: instance_new survived %ld allocation failures\n", name, inst_allocs - 1);

    if (inst)
        wasmplug_instance_free(inst);
    release_imports(imports, nimports);
    wasmplug_module_free(m);
    CHECK_EQ(h.live, base_live);
    wasmplug_engine_free(e);
    CHECK_EQ(h.live, 0);
    CHECK_EQ(h.size_errors, 0);
    free(bytes);
}

int main(void)
{
    check_fixture("limits");
    check_fixture("api");
    return test_done();
}
