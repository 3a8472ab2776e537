/* A C thread body using pthread_cleanup_push (the setjmp-based C variant), for the test of
   pthread_exit unwinding a fiber thread through C cleanup handlers. */
#include <pthread.h>
#include <string.h>

static void note(void* arg) {
    char** pp = (char**)arg;
    strcat(pp[0], pp[1]);
}

static void inner(char* log) {
    char* in[2] = {log, "inner,"};
    pthread_cleanup_push(note, in);
    pthread_exit((void*)42);
    pthread_cleanup_pop(0);
}

void* c_thread_with_cleanup(void* log) {
    char* out[2] = {(char*)log, "outer,"};
    pthread_cleanup_push(note, out);
    inner((char*)log);
    pthread_cleanup_pop(0);
    return NULL;
}
