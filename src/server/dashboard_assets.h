/*
 * dashboard_assets.h - the dashboard's files (src/server/dashboard/), built
 * into the program by cmake/embed_assets.cmake (dashboard_assets.c in the
 * build tree). index.html is served as "/", the others as "/<name>".
 */
#ifndef WASMPLUG_DASHBOARD_ASSETS_H
#define WASMPLUG_DASHBOARD_ASSETS_H

#include <stddef.h>

typedef struct dashboard_assets_asset {
    const char *path;         /* "/", "/dashboard.css", ... */
    const char *content_type; /* with charset for text */
    const unsigned char *data;
    size_t len;
} dashboard_assets_asset;

extern const dashboard_assets_asset dashboard_assets[];
extern const unsigned long dashboard_assets_count;

#endif
