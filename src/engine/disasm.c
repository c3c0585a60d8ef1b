/*
 * disasm.c - text listing of compiled code (ops.h), for tools and tests:
 * one instruction per line, "  <cell> <OP> <operands>", where operands are
 * s<slot>, x<index>, n<count>, #<immediate> and @<target cell>.
 *
 * Writes into a caller buffer, snprintf-style: the library never prints.
 */
#include "compile.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const op_names[WP_OP_COUNT] = {
#define WP_X_NAME(name, operands, doc) #name,
    WP_ALL_OPS(WP_X_NAME)
#undef WP_X_NAME
};

static const char *const op_operands[WP_OP_COUNT] = {
#define WP_X_OPERANDS(name, operands, doc) operands,
    WP_ALL_OPS(WP_X_OPERANDS)
#undef WP_X_OPERANDS
};

typedef struct out {
    char *buf;
    size_t size;
    size_t len;   /* characters the full listing needs */
} out;

static void put(out *o, const char *fmt, ...) WP_PRINTF(2, 3);
static void put(out *o, const char *fmt, ...)
{
    char tmp[96];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1;
    if (o->size && o->len < o->size - 1) {
        size_t room = o->size - 1 - o->len;
        memcpy(o->buf + o->len, tmp, len < room ? len : room);
    }
    o->len += len;
}

size_t wp_disasm(const wp_code *code, char *buf, size_t size)
{
    out o = { buf, size, 0 };
    put(&o, "func %" PRIu32 ": params %" PRIu32 ", locals %" PRIu32 ", results %" PRIu32
             ", frame %" PRIu32 " slots, %" PRIu32 " cells\n",
        code->func_index, code->nparams, code->nlocals, code->nresults, code->frame_size,
        code->ncells);
    uint32_t k = 0;
    while (k < code->ncells) {
        wp_op op = wp_cell_op(code->cells[k]);
        if ((unsigned)op >= WP_OP_COUNT) {
            put(&o, "  %5" PRIu32 " ???\n", k);
            break;
        }
        put(&o, "  %5" PRIu32 " %-18s", k, op_names[op]);
        uint32_t j = k + 1, count = 0;
        for (const char *p = op_operands[op]; *p && *p != '.'; p++, j++) {
            if (j >= code->ncells)
                break;
            wp_cell c = code->cells[j];
            switch (*p) {
            case 'S': put(&o, " s%" PRIu32, c.u32); break;
            case 'X': put(&o, " x%" PRIu32, c.u32); break;
            case 'N': put(&o, " n%" PRIu32, c.u32); count = c.u32; break;
            case 'I': put(&o, " #%" PRId64, c.i64); break;
            case 'R': put(&o, " @%" PRId64, (int64_t)k + c.i64); break;
            default: break;
            }
        }
        if (strstr(op_operands[op], "...")) { /* BR_TABLE: count more offsets */
            for (uint32_t i = 0; i < count && j < code->ncells; i++, j++)
                put(&o, " @%" PRId64, (int64_t)k + code->cells[j].i64);
        }
        put(&o, "\n");
        k = j;
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return o.len;
}
