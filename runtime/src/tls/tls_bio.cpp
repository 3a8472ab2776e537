// The BIO under every TlsSocket: one non-blocking recv/send system call per OpenSSL read or
// write. Waiting is not its business: EAGAIN becomes a retry flag, so SSL_get_error says
// WANT_READ/WANT_WRITE and TlsSocket parks the fiber through the runtime's one I/O primitive.
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "tls_internal.hpp"

namespace green::detail {

namespace {

int fd_of(BIO* b) {
    return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(b)));
}

// Raw system calls: with the hook library loaded, libc's recv/send would lead into the hooks.
long raw_io(BIO* b, bool reading, void* buf, int len) {
    const int flags = MSG_DONTWAIT | (reading ? 0 : MSG_NOSIGNAL);
    for (;;) {
        const long r = reading
                           ? ::syscall(SYS_recvfrom, fd_of(b), buf, len, flags, nullptr, nullptr)
                           : ::syscall(SYS_sendto, fd_of(b), buf, len, flags, nullptr, 0);
        if (r >= 0 || errno != EINTR) return r;
    }
}

int bio_read(BIO* b, char* buf, int len) {
    BIO_clear_retry_flags(b);
    const long r = raw_io(b, true, buf, len);
    if (r == 0 && len > 0) BIO_set_flags(b, BIO_FLAGS_IN_EOF);  // OpenSSL asks BIO_eof()
    if (r < 0 && errno == EAGAIN) BIO_set_retry_read(b);
    return static_cast<int>(r);
}

int bio_write(BIO* b, const char* buf, int len) {
    BIO_clear_retry_flags(b);
    const long r = raw_io(b, false, const_cast<char*>(buf), len);
    if (r < 0 && errno == EAGAIN) BIO_set_retry_write(b);
    return static_cast<int>(r);
}

long bio_ctrl(BIO* b, int cmd, long, void*) {
    switch (cmd) {
        case BIO_CTRL_FLUSH:
            return 1;  // nothing is buffered here
        case BIO_CTRL_EOF:
            return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
        default:
            return 0;
    }
}

int bio_create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
}

const BIO_METHOD* method() {
    static const BIO_METHOD* const m = [] {
        BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "green socket");
        if (!bm || !BIO_meth_set_write(bm, bio_write) || !BIO_meth_set_read(bm, bio_read) ||
            !BIO_meth_set_ctrl(bm, bio_ctrl) || !BIO_meth_set_create(bm, bio_create))
            throw_tls_error("BIO_meth_new");
        return bm;
    }();
    return m;
}

}  // namespace

BIO* new_socket_bio(int fd) {
    BIO* b = BIO_new(method());
    if (!b) throw_tls_error("BIO_new");
    BIO_set_data(b, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)));
    return b;
}

}  // namespace green::detail
