# Installs green into a scratch prefix and builds a tiny consumer against it, twice:
# with find_package(green) and with pkg-config.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/consumer)
set(prefix ${WORK_DIR}/prefix)
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGN}\n${out}\n${err}")
  endif()
endfunction()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
    -DGREEN_BUILD_TESTS=OFF -DGREEN_BUILD_EXAMPLES=OFF -DGREEN_BUILD_BENCH=OFF
    -DCMAKE_INSTALL_PREFIX=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2)
run(${CMAKE_COMMAND} --install ${WORK_DIR}/build)

file(WRITE ${WORK_DIR}/consumer/main.cpp [=[
#include <green/green.hpp>
#include <cstdio>
using namespace std::chrono_literals;
int main() {
    auto a = green::spawn([] { green::sleep(10ms); return 20; });
    auto b = green::spawn([] { green::sleep(10ms); return 22; });
    green::joinall({a, b});
    std::printf("%d\n", a.get() + b.get());
}
]=])
file(WRITE ${WORK_DIR}/consumer/CMakeLists.txt [=[
cmake_minimum_required(VERSION 3.25)
project(consumer CXX)
find_package(green REQUIRED)
add_executable(consumer main.cpp)
target_link_libraries(consumer PRIVATE green::green)
add_executable(consumer_static main.cpp)
target_link_libraries(consumer_static PRIVATE green::green_static)
]=])
run(${CMAKE_COMMAND} -S ${WORK_DIR}/consumer -B ${WORK_DIR}/consumer/build -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer/build)
foreach(exe consumer consumer_static)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${prefix}/lib
    ${WORK_DIR}/consumer/build/${exe} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT out STREQUAL "42\n")
    message(FATAL_ERROR "${exe} printed '${out}' (rc ${rc})")
  endif()
endforeach()

# pkg-config
execute_process(COMMAND ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${prefix}/lib/pkgconfig
  pkg-config --cflags --libs green OUTPUT_VARIABLE flags RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --libs green failed")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(c++ ${WORK_DIR}/consumer/main.cpp ${flags} -Wl,-rpath,${prefix}/lib -o ${WORK_DIR}/consumer/pc_consumer)
run(${WORK_DIR}/consumer/pc_consumer)
message(STATUS "installed green works with find_package and pkg-config")
