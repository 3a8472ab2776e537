// What both backends share: the readiness-based receive (RecvPolicy Poll and WaitFirst), the
// GREEN_NET_RECV override of the receive policy, and operations run on the offload pool.
#include "io_backend.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "config.hpp"
#include "green/detail/park_local.hpp"
#include "green/threadpool.hpp"
#include "io_call.hpp"
#include "scheduler.hpp"

namespace green::detail {

RecvPolicy configured_recv_policy(RecvPolicy backend_default) noexcept {
    // GREEN_NET_RECV, parsed with the rest of the configuration (bench/echo measures the
    // alternatives with it). "op" needs a backend that can run the receive as an operation.
    switch (config().net_recv) {
        case NetRecvChoice::Poll:
            return RecvPolicy::Poll;
        case NetRecvChoice::WaitFirst:
            return RecvPolicy::WaitFirst;
        case NetRecvChoice::Op:
        case NetRecvChoice::Default:
            break;
    }
    return backend_default;
}

long run_blocking(const IoOp& op) noexcept {
    switch (op.kind) {
        case IoOp::Kind::Read:
            return sys_read(op.fd, op.buf, op.len, op.offset);
        case IoOp::Kind::Write:
            return sys_write(op.fd, op.buf, op.len, op.offset);
        case IoOp::Kind::Recv:
            return sys_result(::recv(op.fd, op.buf, op.len, op.flags | MSG_DONTWAIT));
        case IoOp::Kind::Send:
            return sys_result(::send(op.fd, op.buf, op.len, op.flags | MSG_DONTWAIT));
        case IoOp::Kind::ReadV:
        case IoOp::Kind::WriteV:
            // The raw call: libc's name leads back into the hooks. On 64-bit the offset is one
            // register (the kernel ignores the high half); -1 is the file position.
            return sys_result(::syscall(op.kind == IoOp::Kind::ReadV ? SYS_preadv2 : SYS_pwritev2,
                                        op.fd, op.buf, op.len, static_cast<long>(op.offset), 0L,
                                        op.flags));
        case IoOp::Kind::Fsync:
            return sys_result(
                ::syscall(op.flags == IoOp::kDataSync ? SYS_fdatasync : SYS_fsync, op.fd));
        case IoOp::Kind::CopyRange: {
            const auto* a = static_cast<const CopyRangeArgs*>(op.buf);
            return sys_result(::syscall(SYS_copy_file_range, op.fd, a->off_in, a->fd_out,
                                        a->off_out, op.len, static_cast<unsigned>(op.flags)));
        }
        case IoOp::Kind::Call: {
            const auto* c = static_cast<const PoolCall*>(op.buf);
            return c->fn(c->ctx);
        }
    }
    return -EINVAL;
}

long IoBackend::offload(IoOp& op) {
    struct Job {
        IoOp& op;
        Fiber* fiber;
        long res = 0;
        bool done = false;
    };
    // The pool thread and the completion post use it while this fiber waits: off a compact stack.
    const ParkLocal<Job> parked_job(hub_.current(), Job{op, hub_.current()});
    Job& job = *parked_job;
    std::shared_ptr<Mailbox> mailbox = hub_.mailbox();
    {
        const CountedWaiter counted(*this, true);
        const WaitNote note(job.fiber, WaitKind::Offload, &job, op.fd);
        Hub* hub = &hub_;
        default_threadpool().submit([&job, mailbox, hub] {
            const long r = run_blocking(job.op);
            mailbox->post([&job, r, hub] {
                job.res = r;
                job.done = true;
                hub->ready(*job.fiber);
            });
        });
        while (!job.done) hub_.park_uninterruptible();
    }
    hub_.throw_if_interrupted();
    return job.res;
}

long IoBackend::recv(int fd, void* buf, std::size_t len, int flags, const Deadline& deadline,
                     RecvHint& hint) {
    return recv_by_readiness(fd, buf, len, flags, deadline, hint);
}

long IoBackend::recv_by_readiness(int fd, void* buf, std::size_t len, int flags,
                                  const Deadline& deadline, RecvHint& hint) {
    Deadline d = deadline;
    if (recv_policy_ == RecvPolicy::WaitFirst && hint.drained && !(flags & MSG_DONTWAIT) &&
        !d.expired() && wait_before_recv_ok(fd)) {
        const int r = wait_fd(fd, POLLIN, d);
        if (r < 0) return r;
        hint.drained = false;
        if (r == 0) d = Deadline(Clock::time_point{});  // one last try, then -ETIME
    }
    auto attempt = [&]() -> long {
        for (;;) {
            const long r = sys_result(::recv(fd, buf, len, flags));
            if (r != -EINTR) return r;
        }
    };
    const long n = (flags & MSG_DONTWAIT) ? attempt() : io_call(*this, fd, POLLIN, d, attempt);
    if (n >= 0) hint.drained = drained_by(hint, n, len, flags);
    return n;
}

}  // namespace green::detail
