# hooks.interface_boundary: the hook library reaches the runtime's internals through one header.
# Fails when a file under hooks/ includes a header of runtime/src other than hook_interface.hpp
# (public green/*.hpp headers are fine). Run as: cmake -DHOOKS_DIR=... -DRUNTIME_SRC=... -P
cmake_minimum_required(VERSION 3.16)
foreach(var HOOKS_DIR RUNTIME_SRC)
  if(NOT IS_DIRECTORY "${${var}}")
    message(FATAL_ERROR "interface_boundary: ${var} is not a directory: '${${var}}'")
  endif()
endforeach()

file(GLOB_RECURSE internal RELATIVE "${RUNTIME_SRC}" "${RUNTIME_SRC}/*.hpp" "${RUNTIME_SRC}/*.h")
file(GLOB_RECURSE sources "${HOOKS_DIR}/*.cpp" "${HOOKS_DIR}/*.hpp" "${HOOKS_DIR}/*.h"
     "${HOOKS_DIR}/*.c")

set(bad "")
foreach(src IN LISTS sources)
  file(STRINGS "${src}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<]")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[\"<]([^\">]+)[\">].*$" "\\1" inc "${line}")
    get_filename_component(name "${inc}" NAME)
    # A runtime/src header by its bare name (the include path), or by a path into runtime/src.
    set(hit FALSE)
    if(inc MATCHES "runtime/src/")
      set(hit TRUE)
    elseif(NOT inc MATCHES "/" AND "${inc}" IN_LIST internal AND NOT EXISTS "${HOOKS_DIR}/${inc}")
      set(hit TRUE)
    endif()
    if(hit AND NOT name STREQUAL "hook_interface.hpp")
      file(RELATIVE_PATH rel "${HOOKS_DIR}" "${src}")
      string(APPEND bad "  hooks/${rel}: #include \"${inc}\"\n")
    endif()
  endforeach()
endforeach()

if(bad)
  message(FATAL_ERROR "hooks/ may include only hook_interface.hpp of runtime/src:\n${bad}")
endif()
list(LENGTH sources n)
message(STATUS "interface_boundary: ${n} files under hooks/ include only hook_interface.hpp")
