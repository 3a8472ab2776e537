// I/O of compact fibers (green/stack_mode.hpp). Their stack is copied away while they wait, so
// no operation may be left with the kernel or the offload pool across a wait (its buffer, its
// iovecs, its record may be on that stack): sockets, pipes and terminals wait for readiness and
// the fiber makes the call itself once it runs again; files and the offload pool's calls are
// made at once on the hub's thread, which they block for their duration.
#include <sys/stat.h>

#include <poll.h>

#include "io_backend.hpp"
#include "io_call.hpp"
#include "scheduler.hpp"

namespace green::detail {

namespace {
bool made_at_once(const IoOp& op) noexcept {
    if (op.pool || pool_only(op.kind) || is_file_op(op.kind)) return true;
    if (op.kind == IoOp::Kind::Recv || op.kind == IoOp::Kind::Send) return false;
    struct stat st;
    return ::fstat(op.fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode));
}
}  // namespace

bool IoBackend::compact_caller() const noexcept {
    return hub_.current()->compact();
}

long IoBackend::submit_compact(IoOp& op, const Deadline& deadline) {
    op.landed = 0;
    if (op.fd < 0 && op.kind != IoOp::Kind::Call) return -EBADF;
    if (made_at_once(op)) return run_blocking(op);
    const short events = is_input(op.kind) ? POLLIN : POLLOUT;
    auto call = [&] { return run_blocking(op); };
    return io_call(*this, op.fd, events, deadline, when_ready_attempt(op.fd, events, call));
}

}  // namespace green::detail
