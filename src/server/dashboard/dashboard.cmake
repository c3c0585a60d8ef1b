# dashboard.cmake - included by src/server/CMakeLists.txt: the dashboard's
# files (this directory) built into wasmplug_server as byte arrays
# (cmake/embed_assets.cmake -> dashboard_assets.c; api_ui.c serves them).
set(dashboard_files index.html dashboard.css dashboard.js)
list(TRANSFORM dashboard_files PREPEND ${CMAKE_CURRENT_LIST_DIR}/)
# embed_assets.cmake takes the list with '|' between files (';' would split
# the -D argument).
string(REPLACE ";" "|" dashboard_files_arg "${dashboard_files}")
set(dashboard_c ${CMAKE_CURRENT_BINARY_DIR}/dashboard_assets.c)
add_custom_command(OUTPUT ${dashboard_c}
    COMMAND ${CMAKE_COMMAND} -DOUT=${dashboard_c} -DSYMBOL=dashboard_assets
            -DHEADER=dashboard_assets.h -DFILES=${dashboard_files_arg}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_assets.cmake
    DEPENDS ${dashboard_files} ${PROJECT_SOURCE_DIR}/cmake/embed_assets.cmake
    COMMENT "Embedding the dashboard's files"
    VERBATIM)
target_sources(wasmplug_server PRIVATE ${dashboard_c})
