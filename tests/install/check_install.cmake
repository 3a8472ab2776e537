# Installs the build in BUILD_DIR into a scratch root — with `cmake --install` (ROUTE=install) or
# as the Debian packages `cpack -G DEB` makes, unpacked with dpkg -x (ROUTE=deb) — then builds the
# consumer project against that root with find_package and with pkg-config and runs it; greenrun
# from that root must print its version and run a program.
# cmake -DROUTE=install|deb -DBUILD_DIR=... -DWORK_DIR=... -DCONSUMER_DIR=... -DGENERATOR=...
#       -DVERSION=... -DSOVERSION=... -DLIBDIR=... -DBINDIR=... -DOBJDUMP=... -DCXX=...
#       -DPKG_CONFIG=... [-DCPACK=... -DDPKG_DEB=... for ROUTE=deb] -P check_install.cmake
cmake_minimum_required(VERSION 3.25)
set(needed ROUTE BUILD_DIR WORK_DIR CONSUMER_DIR GENERATOR VERSION SOVERSION LIBDIR BINDIR OBJDUMP
  CXX PKG_CONFIG)
if(ROUTE STREQUAL "deb")
  list(APPEND needed CPACK DPKG_DEB)
endif()
foreach(var ${needed})
  if(NOT ${var})
    message(FATAL_ERROR "check_install.cmake needs -D${var}=...")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

# run(<output var> command...): runs the command, fails the test with its output if it fails.
function(run out_var)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
    TIMEOUT 600)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

function(expect_output expected)
  run(out ${ARGN})
  if(NOT out STREQUAL "${expected}\n")
    message(FATAL_ERROR "${ARGN}\nprinted '${out}', expected '${expected}'")
  endif()
endfunction()

function(expect_files dir)
  foreach(f ${ARGN})
    if(NOT EXISTS ${dir}/${f} AND NOT IS_SYMLINK ${dir}/${f})
      file(GLOB_RECURSE have RELATIVE ${dir} ${dir}/*)
      message(FATAL_ERROR "${dir} lacks ${f}; it holds:\n${have}")
    endif()
  endforeach()
endfunction()

function(expect_no_files dir)
  foreach(f ${ARGN})
    if(EXISTS ${dir}/${f} OR IS_SYMLINK ${dir}/${f})
      message(FATAL_ERROR "${dir} should not hold ${f}")
    endif()
  endforeach()
endfunction()

set(runtime_files ${LIBDIR}/libgreen.so.${VERSION} ${LIBDIR}/libgreen.so.${SOVERSION}
  ${LIBDIR}/libgreen_hooks.so.${SOVERSION} ${LIBDIR}/libgreen_preload.so ${BINDIR}/greenrun)
set(dev_files include/green/green.hpp include/green/version.hpp ${LIBDIR}/libgreen.a
  ${LIBDIR}/libgreen.so ${LIBDIR}/libgreen_hooks.so ${LIBDIR}/cmake/green/greenConfig.cmake
  ${LIBDIR}/pkgconfig/green.pc)

if(ROUTE STREQUAL "install")
  set(prefix ${WORK_DIR}/prefix)
  run(out ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
elseif(ROUTE STREQUAL "deb")
  run(out ${CPACK} -G DEB --config ${BUILD_DIR}/CPackConfig.cmake -B ${WORK_DIR}/packages)
  file(GLOB runtime_deb ${WORK_DIR}/packages/libgreen${SOVERSION}_${VERSION}_*.deb)
  file(GLOB dev_deb ${WORK_DIR}/packages/libgreen-dev_${VERSION}_*.deb)
  file(GLOB all_debs ${WORK_DIR}/packages/*.deb)
  list(LENGTH all_debs n)
  if(NOT runtime_deb OR NOT dev_deb OR NOT n EQUAL 2)
    message(FATAL_ERROR "expected libgreen${SOVERSION} and libgreen-dev ${VERSION}, got ${all_debs}")
  endif()
  # Each package alone: the runtime files in one, the development files in the other.
  foreach(pkg runtime dev)
    run(out ${DPKG_DEB} -x ${${pkg}_deb} ${WORK_DIR}/only_${pkg})
  endforeach()
  expect_files(${WORK_DIR}/only_runtime/usr ${runtime_files})
  expect_no_files(${WORK_DIR}/only_runtime/usr ${dev_files})
  expect_files(${WORK_DIR}/only_dev/usr ${dev_files})
  expect_no_files(${WORK_DIR}/only_dev/usr ${runtime_files})
  run(depends ${DPKG_DEB} -f ${dev_deb} Depends)
  if(NOT depends MATCHES "libgreen${SOVERSION} \\(= ${VERSION}")
    message(FATAL_ERROR "libgreen-dev does not depend on libgreen${SOVERSION} ${VERSION}: ${depends}")
  endif()
  run(depends ${DPKG_DEB} -f ${runtime_deb} Depends)
  if(NOT depends MATCHES "liburing")
    message(FATAL_ERROR "libgreen${SOVERSION} does not depend on liburing: ${depends}")
  endif()
  # Both, as `dpkg -i` would install them, into one scratch root.
  foreach(deb ${runtime_deb} ${dev_deb})
    run(out ${DPKG_DEB} -x ${deb} ${WORK_DIR}/root)
  endforeach()
  set(prefix ${WORK_DIR}/root/usr)
else()
  message(FATAL_ERROR "ROUTE is install or deb, not '${ROUTE}'")
endif()
expect_files(${prefix} ${runtime_files} ${dev_files})
run(soname ${OBJDUMP} -p ${prefix}/${LIBDIR}/libgreen.so.${VERSION})
if(NOT soname MATCHES "SONAME +libgreen\\.so\\.${SOVERSION}\n")
  message(FATAL_ERROR "libgreen.so.${VERSION} lacks SONAME libgreen.so.${SOVERSION}:\n${soname}")
endif()

# find_package(green) from this root and no other.
set(consumer ${WORK_DIR}/consumer)
run(out ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${consumer} -G ${GENERATOR}
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix} -DGREEN_EXPECTED_VERSION=${VERSION})
if(NOT out MATCHES "green package: ${prefix}/")
  message(FATAL_ERROR "the consumer found green elsewhere than in ${prefix}:\n${out}")
endif()
run(out ${CMAKE_COMMAND} --build ${consumer})
foreach(exe consumer consumer_static consumer_hooks)
  expect_output("42 ${VERSION}"
    ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${prefix}/${LIBDIR} ${consumer}/${exe})
endforeach()

# pkg-config from this root.
run(flags ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${prefix}/${LIBDIR}/pkgconfig
  ${PKG_CONFIG} --cflags --libs green)
string(STRIP "${flags}" flags)
separate_arguments(flags UNIX_COMMAND "${flags}")
run(out ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${prefix}/${LIBDIR}/pkgconfig
  ${PKG_CONFIG} --modversion green)
if(NOT out STREQUAL "${VERSION}\n")
  message(FATAL_ERROR "pkg-config --modversion green: '${out}', expected ${VERSION}")
endif()
run(out ${CXX} ${CONSUMER_DIR}/main.cpp ${flags} -Wl,-rpath,${prefix}/${LIBDIR}
    -o ${WORK_DIR}/pc_consumer)
expect_output("42 ${VERSION}" ${WORK_DIR}/pc_consumer)

# greenrun from this root preloads the library installed beside it (bin/../lib): grep, run
# under it, finds that library mapped into itself.
expect_output("greenrun ${VERSION}" ${prefix}/${BINDIR}/greenrun --version)
file(REAL_PATH ${prefix}/${LIBDIR}/libgreen_preload.so preload_lib)
expect_output("${preload_lib}" ${prefix}/${BINDIR}/greenrun --
  grep -m1 -o "/.*libgreen_preload[.]so" /proc/self/maps)
message(STATUS "green ${VERSION} via ${ROUTE}: find_package, pkg-config and greenrun all work")
