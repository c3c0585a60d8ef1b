/*
 * test_invalid.c - modules that decode but do not validate (built from
 * fixtures/invalid_*.wat with wat2wasm --no-check): each must be rejected
 * with WASMPLUG_ERR_INVALID, the spec's wording in the message and a byte
 * offset inside the module.
 */
#include "test.h"

#include <inttypes.h>

static const struct {
    const char *fixture;
    const char *message;   /* the spec test suite's wording */
} cases[] = {
    {"invalid_result_type", "type mismatch"},
    {"invalid_operand_type", "type mismatch"},
    {"invalid_missing_result", "type mismatch"},
    {"invalid_stack_underflow", "type mismatch"},
    {"invalid_else_type", "type mismatch"},
    {"invalid_local_index", "unknown local"},
    {"invalid_func_index", "unknown function"},
    {"invalid_branch_depth", "unknown label"},
    {"invalid_immutable_global", "global is immutable"},
    {"invalid_no_memory", "unknown memory"},
    {"invalid_no_table", "unknown table"},
    {"invalid_duplicate_export", "duplicate export name"},
    {"invalid_start_params", "start function"},
    {"invalid_memory_limits", "size minimum must not be greater than maximum"},
    {"invalid_ref_func_undeclared", "undeclared function reference"},
};

int main(void)
{
    wasmplug_engine *e = test_engine();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t size = 0;
        uint8_t *bytes = test_fixture(cases[i].fixture, &size);
        if (!bytes)
            continue;
        wasmplug_module *m = NULL;
        wasmplug_error err;
        wasmplug_error_clear(&err);
        wasmplug_status st = wasmplug_module_new(e, bytes, size, &m, &err);
        int ok = st == WASMPLUG_ERR_INVALID && err.status == WASMPLUG_ERR_INVALID &&
                 err.offset >= 8 && err.offset <= size &&
                 strstr(err.message, cases[i].message) != NULL && m == NULL;
        test_check(ok, __FILE__, __LINE__, cases[i].fixture);
        if (!ok)
            printf("     %s: got %s at offset %" PRIu64 " \"%s\"; expected invalid, \"%s\"\n",
                   cases[i].fixture, wasmplug_strerror(st), err.offset, err.message,
                   cases[i].message);
        if (m)
            wasmplug_module_free(m);
        free(bytes);
    }
    wasmplug_engine_free(e);
    return test_done();
}
