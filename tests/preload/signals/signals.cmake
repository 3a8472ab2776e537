# Signals under greenrun (included by tests/preload/CMakeLists.txt): plain C programs using
# per-thread masks, the sigwait family, one-thread delivery and SA_RESTART must print the same
# natively, under greenrun on both backends, with --no-threads, and with --hubs 2 (the program's
# threads on two OS threads: a process-directed signal must still reach a program thread).
set(signals_dir ${CMAKE_CURRENT_SOURCE_DIR}/signals)
foreach(prog mask_worker sigwait_thread sigtimedwait one_eintr restart suspend wait_mask)
  add_executable(preload_signals_${prog} ${signals_dir}/${prog}.c)
  target_link_libraries(preload_signals_${prog} PRIVATE Threads::Threads)
  set_target_properties(preload_signals_${prog} PROPERTIES OUTPUT_NAME ${prog})
  foreach(mode threads epoll nothreads hubs2)
    if(mode STREQUAL threads)
      set(opts "")
    elseif(mode STREQUAL epoll)
      set(opts "--backend epoll")
    elseif(mode STREQUAL hubs2)
      set(opts "--hubs 2")
    else()
      set(opts "--no-threads")
    endif()
    add_test(NAME preload_signals.${prog}.${mode}
      COMMAND ${compare} "$<TARGET_FILE:greenrun> ${opts}" - - $<TARGET_FILE:preload_signals_${prog}>)
    set_tests_properties(preload_signals.${prog}.${mode} PROPERTIES TIMEOUT 60 LABELS no-asan)
  endforeach()
endforeach()

# CPython's signal module from threads (Python retries sleeps itself, so only the handler count
# and the sigwait idiom are visible).
find_program(SIGNALS_PYTHON3 NAMES python3)
if(SIGNALS_PYTHON3)
  foreach(mode threads epoll)
    if(mode STREQUAL threads)
      set(opts "")
    else()
      set(opts "--backend epoll")
    endif()
    add_test(NAME preload_signals.python.${mode}
      COMMAND ${compare} "$<TARGET_FILE:greenrun> ${opts}" - - ${SIGNALS_PYTHON3} ${signals_dir}/python_signals.py)
    set_tests_properties(preload_signals.python.${mode} PROPERTIES TIMEOUT 60 LABELS no-asan)
  endforeach()
endif()
