# Installs moodnet from MOODNET_BUILD_DIR into WORK_DIR/prefix, then configures, builds and runs the
# consumer project against that prefix (its two programs: the library's umbrella header with the
# programs' headers shadowed, and moodnet/report.hpp). Any failing step fails the test. No build type,
# so no optimisation: the check is about the package (headers, config, targets), and -O3 made it the
# second-longest test (47 s).
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer check: `${ARGV}` failed with ${rc}")
  endif()
endfunction()
run(${CMAKE_COMMAND} --install ${MOODNET_BUILD_DIR} --prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/build
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
run(${WORK_DIR}/build/consumer_report)
