// pthread_cancel of a C++ thread blocked in read and in sleep: the C++ form of
// pthread_cleanup_push (a destructor, not setjmp) and the destructors of live objects run while
// the cancellation unwinds, natively and under the shim alike.
#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace {

int rpipe[2];
volatile int entered;
std::string log_text;

struct Noted {
    const char* what;
    ~Noted() { log_text += what; }
};

void handler(void* arg) {
    log_text += static_cast<const char*>(arg);
}

void* reader(void*) {
    Noted outer{"object destroyed;"};
    pthread_cleanup_push(handler, const_cast<char*>("handler ran;"));
    entered = 1;
    char c;
    (void)!read(rpipe[0], &c, 1);
    pthread_cleanup_pop(0);
    return nullptr;
}

void* sleeper(void*) {
    Noted outer{"object destroyed;"};
    pthread_cleanup_push(handler, const_cast<char*>("handler ran;"));
    entered = 1;
    sleep(100);
    pthread_cleanup_pop(0);
    return nullptr;
}

void run(const char* name, void* (*body)(void*)) {
    entered = 0;
    log_text.clear();
    pthread_t t;
    if (pthread_create(&t, nullptr, body, nullptr) != 0) return;
    while (!entered) usleep(1000);
    usleep(20 * 1000);
    pthread_cancel(t);
    void* ret = nullptr;
    pthread_join(t, &ret);
    std::printf("%s: %s, %s\n", name, ret == PTHREAD_CANCELED ? "canceled" : "returned",
                log_text.c_str());
}

}  // namespace

int main() {
    if (pipe(rpipe) != 0) return 1;
    run("read", reader);
    run("sleep", sleeper);
    return 0;
}
