/*
 * tier.c - a plugin's tiering policy (wasmplug_tiering in <wasmplug.h>):
 * which of the engine's two tiers runs its calls. The engine does the
 * work (<wasmplug/native.h>): native code attached to a module serves every
 * call that enters one of its instances from then on, so a background
 * compile needs nothing from the host but to start it and to keep
 * instances of an interpreter-only plugin on the interpreter (freeing the
 * module stops a compile still running).
 */
#include "internal.h"

#include <wasmplug/native.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DEFAULT: $WASMPLUG_TIER (an operator's switch, e.g. to run a test suite
 * through the native tier), else AUTO. */
static wasmplug_tiering resolve(wasmplug_tiering policy)
{
    if (policy != WASMPLUG_TIERING_DEFAULT)
        return policy;
    const char *env = getenv("WASMPLUG_TIER");
    if (env && !strcmp(env, "native"))
        return WASMPLUG_TIERING_NATIVE;
    if (env && !strcmp(env, "tiered"))
        return WASMPLUG_TIERING_TIERED;
    if (env && (!strcmp(env, "interp") || !strcmp(env, "interpreter")))
        return WASMPLUG_TIERING_INTERPRETER;
    return WASMPLUG_TIERING_AUTO;
}

void wph_tier_load(wasmplug_plugin *p, wasmplug_tiering policy)
{
    p->tiering = resolve(policy);
    p->tier_note[0] = '\0';
    if (p->tiering == WASMPLUG_TIERING_NATIVE) {
        wasmplug_error err;
        wasmplug_error_clear(&err);
        if (wasmplug_module_compile_native(p->module, NULL, &err) != WASMPLUG_OK)
            snprintf(p->tier_note, sizeof p->tier_note, "%s", err.message);
    } else if (p->tiering == WASMPLUG_TIERING_TIERED) {
        (void)wasmplug_module_compile_native_async(p->module, NULL);
    }
}

void wph_tier_instance(const wasmplug_plugin *p, wasmplug_instance *inst)
{
    if (p->tiering == WASMPLUG_TIERING_INTERPRETER)
        wasmplug_instance_set_tier(inst, WASMPLUG_TIER_INTERPRETER);
}

const char *wasmplug_plugin_tier(wasmplug_plugin *plugin, char *why, size_t why_size)
{
    if (why && why_size)
        why[0] = '\0';
    if (!plugin || !plugin->module)
        return "interpreter";
    if (plugin->tiering == WASMPLUG_TIERING_INTERPRETER) {
        if (why && why_size)
            snprintf(why, why_size, "the plugin's policy is the interpreter");
        return "interpreter";
    }
    char reason[WASMPLUG_ERROR_MESSAGE_MAX];
    wasmplug_native_state s = wasmplug_module_native_state(plugin->module, reason, sizeof reason);
    if (s == WASMPLUG_NATIVE_READY)
        return "native";
    if (s == WASMPLUG_NATIVE_COMPILING)
        return "compiling";
    if (why && why_size)
        snprintf(why, why_size, "%s", plugin->tier_note[0] ? plugin->tier_note : reason);
    return "interpreter";
}
