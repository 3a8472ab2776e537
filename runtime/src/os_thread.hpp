// Starting the runtime's own OS threads (offload workers). They must stay real threads even
// when the preload turns pthread_create into fiber creation, so this goes through a pointer the
// hook library points at libc's pthread_create.
#pragma once

#include <pthread.h>

#include <functional>
#include <thread>

namespace green::detail {

using PthreadCreateFn = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
// libc's pthread_create; the hook library replaces it with the real symbol when it interposes.
extern PthreadCreateFn real_pthread_create;

// A joinable std::thread running `fn` on a real OS thread.
std::thread start_os_thread(std::function<void()> fn);

}  // namespace green::detail
