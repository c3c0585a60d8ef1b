/*
 * weather_report.c - an example plugin that calls a web API: it fetches
 * hourly readings as JSON from the service named by its config "url" (or
 * by its input), and reshapes them into a summary:
 *
 *   {"city":"Lyon","readings":[{"hour":0,"celsius":10},...]}
 *     -> {"city":"Lyon","hours":6,"min":10,"max":15,"mean":12.5,"source":"<url>"}
 *
 * The host makes the request (wasmplug.http_request): the plugin reaches
 * only the URLs its manifest asks for and the operator allows
 * (wasmplug run ... --allow-http PATTERN).
 */
#include "wasmplug_pdk.h"

WP_FN(summary)
{
    const char *url = wp_input_len() ? wp_input_string() : wp_config("url");
    if (!url || !*url)
        return wp_fail(2, "no URL: pass one as the input or set the config value 'url'");
    wp_http_response r = wp_http_get(url);
    if (r.error)
        return wp_fail(r.error, r.error_message);
    if (r.status != 200)
        return wp_fail(3, "the weather service answered with an error status");
    wp_json *doc = wp_http_json(&r);
    wp_json *readings = doc ? wp_json_get(doc, "readings") : NULL;
    if (!readings || readings->type != WP_JSON_ARRAY)
        return wp_fail(4, "the weather service sent no \"readings\" array");
    double min = 0, max = 0, sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < readings->count; i++) {
        wp_json *c = wp_json_get(readings->items[i], "celsius");
        if (!c || c->type != WP_JSON_NUMBER)
            continue;
        if (n == 0 || c->number < min)
            min = c->number;
        if (n == 0 || c->number > max)
            max = c->number;
        sum += c->number;
        n++;
    }
    const char *city = wp_json_get_string(doc, "city");
    wp_jw w = {0};
    wp_jw_object(&w);
    wp_jw_key(&w, "city");
    wp_jw_string(&w, city ? city : "");
    wp_jw_key(&w, "hours");
    wp_jw_int(&w, (long long)n);
    wp_jw_key(&w, "min");
    wp_jw_number(&w, min);
    wp_jw_key(&w, "max");
    wp_jw_number(&w, max);
    wp_jw_key(&w, "mean");
    wp_jw_number(&w, n ? sum / (double)n : 0);
    wp_jw_key(&w, "source");
    wp_jw_string(&w, url);
    wp_jw_end_object(&w);
    return wp_output_json(&w);
}
