# cadre_add_unit_test(name LIBS lib...): builds tests/unit/test_<name>.c as one cmocka binary
# and registers it with ctest as unit.<name>. Tests find data through environment variables:
# FIXTURES_DIR (the project's fixtures/), TESTDATA_DIR (tests/fixtures/), SHARED_DIR (../shared).
function(cadre_add_unit_test name)
    cmake_parse_arguments(T "" "" "LIBS" ${ARGN})
    add_executable(test_${name} ${CMAKE_SOURCE_DIR}/tests/unit/test_${name}.c)
    target_link_libraries(test_${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
    add_test(NAME unit.${name} COMMAND test_${name})
    set_tests_properties(unit.${name} PROPERTIES TIMEOUT 120 LABELS unit
        ENVIRONMENT "FIXTURES_DIR=${CMAKE_SOURCE_DIR}/fixtures;TESTDATA_DIR=${CMAKE_SOURCE_DIR}/tests/fixtures;SHARED_DIR=${CADRE_SHARED_DIR}")
endfunction()

# cadre_add_it_test(name): runs tests/it/<name>.sh against the real binaries (black box).
function(cadre_add_it_test name)
    add_test(NAME it.${name}
        COMMAND bash ${CMAKE_SOURCE_DIR}/tests/it/${name}.sh)
    set_tests_properties(it.${name} PROPERTIES TIMEOUT 180 LABELS it
        ENVIRONMENT "CADRE=$<TARGET_FILE:cadre>;BROKER=$<TARGET_FILE:broker>;SHARD=$<TARGET_FILE:shard>;MERGER=$<TARGET_FILE:merger>;POKE=$<TARGET_FILE:cadre_poke>;BUILD_DIR=${CMAKE_BINARY_DIR};SOURCE_DIR=${CMAKE_SOURCE_DIR};FIXTURES_DIR=${CMAKE_SOURCE_DIR}/fixtures;TESTDATA_DIR=${CMAKE_SOURCE_DIR}/tests/fixtures;SHARED_DIR=${CADRE_SHARED_DIR}")
endfunction()
