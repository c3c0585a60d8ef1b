/*
 * cli_services.c - the host services of the commands that run plugins
 * (run, validate, kv): attached with the plugin data directory
 * (--data-dir), notifications printed on stderr with the plugin's text
 * escaped.
 */
#include "cli.h"

#include <wasmplug/services.h>

#include <string.h>

void cli_print_escaped(FILE *f, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        /* C0 controls, DEL, and C1 controls (U+0080-U+009F, UTF-8 c2 80-9f),
         * which terminals would obey. */
        bool c1 = c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
                  (unsigned char)s[i + 1] <= 0x9f;
        if (c == '\\')
            fputs("\\\\", f);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else if (c1) {
            fprintf(f, "\\u%04x", (unsigned char)s[i + 1]);
            i++;
        } else
            fputc(c, f);
    }
}

static void on_notify(void *user, wasmplug_plugin *plugin, wasmplug_notify_level level,
                      const char *title, size_t title_len, const char *body, size_t body_len)
{
    (void)user;
    const char *name = wasmplug_plugin_name(plugin);
    fflush(stdout);
    fprintf(stderr, "%s[notify %s]%s ",
            level >= WASMPLUG_NOTIFY_WARNING ? cli_red() : cli_green(),
            wasmplug_notify_level_string(level), cli_reset());
    cli_print_escaped(stderr, name, strlen(name));
    fputs(": ", stderr);
    cli_print_escaped(stderr, title, title_len);
    if (body_len) {
        fputs(": ", stderr);
        cli_print_escaped(stderr, body, body_len);
    }
    fputc('\n', stderr);
}

wasmplug_status cli_attach_services(wasmplug_host *h, char *msg, size_t msg_size)
{
    wasmplug_services_config sc;
    wasmplug_services_config_init(&sc);
    sc.data_dir = G.data_dir;
    sc.on_notify = on_notify;
    return wasmplug_services_attach(h, &sc, NULL, msg, msg_size);
}
