// I/O of compact fibers (green/stack_mode.hpp). Their stack is copied away while they wait, so
// nothing left with the kernel or the offload pool across a wait may point into it: sockets,
// pipes and terminals wait for readiness and the fiber makes the call itself once it runs again;
// file operations go out as a heap copy (the record, its iovec, a bounce buffer) whose data is
// copied back when it completes, so the hub runs on while the disk works; copy_file_range's
// offsets likewise. The hooks' pool calls come as heap records already (hook_interface.hpp).
#include <sys/stat.h>
#include <sys/uio.h>

#include <poll.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "io_backend.hpp"
#include "io_call.hpp"
#include "scheduler.hpp"

namespace green::detail {

namespace {

// Above this a bounce buffer costs more than the stall it saves; the call is made at once.
constexpr std::size_t kMaxBounce = std::size_t{64} << 20;

bool regular_or_block(int fd) noexcept {
    struct stat st;
    return ::fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode));
}

bool data_op(IoOp::Kind k) noexcept {
    return k == IoOp::Kind::Read || k == IoOp::Kind::Write || k == IoOp::Kind::ReadV ||
           k == IoOp::Kind::WriteV;
}

// The user's buffers of a data op, as iovecs (Read/Write: the one buffer).
struct UserBuffers {
    const iovec* iov;
    std::size_t count;
    iovec one;
    explicit UserBuffers(const IoOp& op) noexcept {
        if (op.kind == IoOp::Kind::ReadV || op.kind == IoOp::Kind::WriteV) {
            iov = static_cast<const iovec*>(op.buf);
            count = op.len;
        } else {
            one = {op.buf, op.len};
            iov = &one;
            count = 1;
        }
    }
    std::size_t total() const noexcept {
        std::size_t n = 0;
        for (std::size_t i = 0; i < count; ++i) n += iov[i].iov_len;
        return n;
    }
};

// A file operation's heap twin: what the kernel or the pool thread touches while the fiber is
// away. Vectored ops keep their RWF_* flags and go out as one iovec over the bounce buffer.
struct BounceOp {
    IoOp op;
    iovec iov;
    std::unique_ptr<char[]> data;
};

// Up to kMaxBounce bytes through a heap twin; a bigger transfer is made at once.
long submit_bounced(IoBackend& backend, IoOp& user, const Deadline& deadline) {
    const UserBuffers ub(user);
    const std::size_t total = ub.total();
    if (total > kMaxBounce) return run_blocking(user);
    auto b = std::make_unique<BounceOp>();
    b->data.reset(new (std::nothrow) char[total ? total : 1]);
    if (!b->data) return run_blocking(user);
    const bool input = is_input(user.kind);
    if (!input) {
        std::size_t at = 0;
        for (std::size_t i = 0; i < ub.count; ++i) {
            std::memcpy(b->data.get() + at, ub.iov[i].iov_base, ub.iov[i].iov_len);
            at += ub.iov[i].iov_len;
        }
    }
    b->op = user;
    b->op.off_stack = true;
    if (user.kind == IoOp::Kind::ReadV || user.kind == IoOp::Kind::WriteV) {
        b->iov = {b->data.get(), total};
        b->op.buf = &b->iov;
        b->op.len = 1;
    } else {
        b->op.buf = b->data.get();
    }
    struct CopyBack {  // also when a kill or Timeout is thrown: what was read is the caller's
        const UserBuffers& ub;
        IoOp& user;
        BounceOp& b;
        long res = 0;
        bool input;
        ~CopyBack() {
            user.landed = b.op.landed;
            if (!input) return;
            std::size_t left = static_cast<std::size_t>(std::max(res, b.op.landed));
            const char* from = b.data.get();
            for (std::size_t i = 0; i < ub.count && left > 0; ++i) {
                const std::size_t n = std::min(left, ub.iov[i].iov_len);
                std::memcpy(ub.iov[i].iov_base, from, n);
                from += n;
                left -= n;
            }
        }
    } copy_back{ub, user, *b, 0, input};
    copy_back.res = backend.submit(b->op, deadline);
    return copy_back.res;
}

// copy_file_range's heap twin: the record, its arguments and the two offsets the kernel reads
// and advances on the pool thread.
struct CopyRangeTwin {
    IoOp op;
    CopyRangeArgs args;
    std::int64_t off_in = 0, off_out = 0;
};

long submit_copy_range(IoBackend& backend, const IoOp& user, const Deadline& deadline) {
    const auto& a = *static_cast<const CopyRangeArgs*>(user.buf);
    auto t = std::make_unique<CopyRangeTwin>();
    t->op = user;
    t->op.off_stack = true;
    t->op.buf = &t->args;
    if (a.off_in) t->off_in = *a.off_in;
    if (a.off_out) t->off_out = *a.off_out;
    t->args = {a.fd_out, a.off_in ? &t->off_in : nullptr, a.off_out ? &t->off_out : nullptr};
    struct CopyBack {  // the offsets as the kernel left them, also when a kill is thrown
        const CopyRangeArgs& a;
        const CopyRangeTwin& t;
        ~CopyBack() {
            if (a.off_in) *a.off_in = t.off_in;
            if (a.off_out) *a.off_out = t.off_out;
        }
    } copy_back{a, *t};
    return backend.submit(t->op, deadline);
}

}  // namespace

bool IoBackend::compact_caller() const noexcept {
    return hub_.current()->compact();
}

long IoBackend::submit_compact(IoOp& op, const Deadline& deadline) {
    op.landed = 0;
    if (op.fd < 0 && op.kind != IoOp::Kind::Call) return -EBADF;
    if (op.kind == IoOp::Kind::Fsync) {  // no buffer: only the record leaves the stack
        auto heap = std::make_unique<IoOp>(op);
        heap->off_stack = true;
        return submit(*heap, deadline);
    }
    if (data_op(op.kind) && (op.pool || is_file_op(op.kind) || regular_or_block(op.fd)))
        return submit_bounced(*this, op, deadline);
    if (op.kind == IoOp::Kind::CopyRange) return submit_copy_range(*this, op, deadline);
    // A pool call on the caller's stack (hook_interface.hpp's run_on_pool: its function's state
    // is there in ways only its caller knows) is made at once on the hub's thread; the hooks'
    // posix_spawn comes through run_on_pool_heap, off the stack, and goes to the pool.
    if (op.pool || pool_only(op.kind)) return run_blocking(op);
    const short events = is_input(op.kind) ? POLLIN : POLLOUT;
    auto call = [&] { return run_blocking(op); };
    return io_call(*this, op.fd, events, deadline, when_ready_attempt(op.fd, events, call));
}

}  // namespace green::detail
