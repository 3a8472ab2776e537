/* 50 threads resolve "localhost" at once with getaddrinfo and gethostbyname_r. */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <sys/socket.h>

#include "../common.h"

#define THREADS 50

static int ok[THREADS];

static void* resolve(void* arg) {
    int i = (int)(long)arg;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo* res = NULL;
    if (getaddrinfo("localhost", "80", &hints, &res) != 0) return NULL;
    char text[INET_ADDRSTRLEN] = "";
    struct sockaddr_in* sin = (struct sockaddr_in*)res->ai_addr;
    inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
    int good = strcmp(text, "127.0.0.1") == 0 && ntohs(sin->sin_port) == 80;
    freeaddrinfo(res);

    struct hostent he, *result = NULL;
    char buf[1024];
    int herr = 0;
    if (gethostbyname_r("localhost", &he, buf, sizeof buf, &result, &herr) != 0 || !result)
        return NULL;
    inet_ntop(AF_INET, he.h_addr_list[0], text, sizeof text);
    ok[i] = good && strcmp(text, "127.0.0.1") == 0;
    return NULL;
}

int main(void) {
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; ++i) CHECK(pthread_create(&t[i], NULL, resolve, (void*)i) == 0);
    report_os_threads();
    int good = 0;
    for (int i = 0; i < THREADS; ++i) {
        CHECK(pthread_join(t[i], NULL) == 0);
        good += ok[i];
    }
    printf("%d threads resolved localhost: %d ok\n", THREADS, good);
    return good == THREADS ? 0 : 1;
}
