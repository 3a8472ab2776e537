// green: stackful fibers with gevent's API for C++20. Include this one header.
#pragma once

#include "green/clock.hpp"
#include "green/errors.hpp"
#include "green/greenlet.hpp"
#include "green/hub.hpp"
#include "green/raw_greenlet.hpp"
#include "green/threadpool.hpp"
#include "green/timeout.hpp"
#include "green/wait_queue.hpp"
#include "green/waitable.hpp"
#include "green/event.hpp"
#include "green/semaphore.hpp"
#include "green/queue.hpp"
#include "green/pool.hpp"
#include "green/local.hpp"
