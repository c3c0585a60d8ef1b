# run-spec.cmake - run the spec-test runner over every *.json in SPEC_DIR
# (all of the core suite, SIMD included). Used by the optional `spec`
# CTest test (-DWASMPLUG_SPEC_DIR=...).
#   cmake -DRUNNER=path/to/wasmplug-spectest -DSPEC_DIR=dir -P run-spec.cmake
file(GLOB files ${SPEC_DIR}/*.json)
list(SORT files)
if(NOT files)
    message(FATAL_ERROR "no *.json files in ${SPEC_DIR}")
endif()
execute_process(COMMAND ${RUNNER} ${files} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "spec tests failed")
endif()
