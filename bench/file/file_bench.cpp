// bench/file: what GREEN_FILE_IO buys. One process per configuration (the variable is read once):
//   cold  - a fiber reads a file that is not in the page cache (POSIX_FADV_DONTNEED first) in
//           1 MiB read(2), pread(2) or copy_file_range(2) calls (the copy goes to FILE.copy)
//           while a 1 ms ticker fiber runs: the ticker's longest gap and the throughput;
//   small - 4 KiB pread(2) of a cached file from a fiber: ns per call for the plain system call,
//           the hooked call (RWF_NOWAIT first) and an io_uring read through the backend.
//   idle  - the ticker alone for 500 ms: the longest gap this machine gives a 1 ms sleeper.
//   threads - the cold read natively: plain read(2) in 1 MiB calls on the main thread, no hub,
//           while a ticker thread sleeps 1 ms at a time: the floor the machine sets for the
//           ticker's gap during such a read (CPU and memory contention, not the hub).
// usage: file_bench cold read|pread|copy FILE | file_bench threads FILE | file_bench small DIR
//        | file_bench idle
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <green/green.hpp>

#include "io_backend.hpp"
#include "scheduler.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::string make_file(const std::string& dir, std::size_t bytes) {
    const std::string path = dir + "/file_bench.data";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        std::perror("open");
        std::exit(1);
    }
    std::vector<char> chunk(1 << 20);
    for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>(i * 13);
    for (std::size_t done = 0; done < bytes; done += chunk.size())
        if (::syscall(SYS_write, fd, chunk.data(), chunk.size()) !=
            static_cast<long>(chunk.size())) {
            std::perror("write");
            std::exit(1);
        }
    ::syscall(SYS_fsync, fd);
    ::close(fd);
    return path;
}

enum class ColdCall { Read, Pread, Copy };

int cold(ColdCall call, const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    const int copy_fd = call == ColdCall::Copy
                            ? ::open((path + ".copy").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600)
                            : -2;
    if (fd < 0 || copy_fd == -1) {
        std::perror(path.c_str());
        return 1;
    }
    const off_t size = ::lseek(fd, 0, SEEK_END);
    ::lseek(fd, 0, SEEK_SET);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    double max_gap = 0, read_ms = 0;
    bool done = false;
    std::size_t total = 0;
    auto ticker = green::spawn([&] {
        auto last = Clock::now();
        while (!done) {
            green::sleep(std::chrono::milliseconds(1));
            max_gap = std::max(max_gap, ms_since(last));
            last = Clock::now();
        }
    });
    auto reader = green::spawn([&] {
        green::sleep(std::chrono::milliseconds(5));
        std::vector<char> buf(1 << 20);
        const auto t0 = Clock::now();
        for (;;) {
            const ssize_t n = call == ColdCall::Read ? ::read(fd, buf.data(), buf.size())
                              : call == ColdCall::Pread
                                  ? ::pread(fd, buf.data(), buf.size(), total)
                                  : ::copy_file_range(fd, nullptr, copy_fd, nullptr, buf.size(), 0);
            if (n <= 0) break;
            total += static_cast<std::size_t>(n);
        }
        read_ms = ms_since(t0);
        done = true;
    });
    reader.join();
    ticker.join();
    ::close(fd);
    if (copy_fd >= 0) {
        ::close(copy_fd);
        ::unlink((path + ".copy").c_str());
    }
    const char* fio = std::getenv("GREEN_FILE_IO");
    std::printf(
        "cold %-5s backend=%-8s file_io=%-7s bytes=%zu read_ms=%.0f mib_s=%.0f "
        "ticker_max_gap_ms=%.1f\n",
        call == ColdCall::Read    ? "read"
        : call == ColdCall::Pread ? "pread"
                                  : "copy",
        green::detail::Hub::get().io().name(), fio ? fio : "default", total, read_ms,
        total / 1048576.0 / (read_ms / 1000.0), max_gap);
    return static_cast<off_t>(total) == size ? 0 : 1;
}

int threads(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) {
        std::perror(path.c_str());
        return 1;
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    std::atomic<bool> done{false};
    double max_gap = 0;
    std::thread ticker([&] {
        auto last = Clock::now();
        while (!done.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            max_gap = std::max(max_gap, ms_since(last));
            last = Clock::now();
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::vector<char> buf(1 << 20);
    std::size_t total = 0;
    const auto t0 = Clock::now();
    for (long n; (n = ::syscall(SYS_read, fd, buf.data(), buf.size())) > 0;)
        total += static_cast<std::size_t>(n);
    const double read_ms = ms_since(t0);
    done = true;
    ticker.join();
    ::close(fd);
    std::printf(
        "cold read  native threads (no hub)         bytes=%zu read_ms=%.0f mib_s=%.0f "
        "ticker_max_gap_ms=%.1f\n",
        total, read_ms, total / 1048576.0 / (read_ms / 1000.0), max_gap);
    return 0;
}

int idle() {
    double max_gap = 0;
    green::spawn([&] {
        auto last = Clock::now();
        for (int i = 0; i < 500; ++i) {
            green::sleep(std::chrono::milliseconds(1));
            max_gap = std::max(max_gap, ms_since(last));
            last = Clock::now();
        }
    }).join();
    std::printf("idle  1 ms ticker alone, 500 ticks: ticker_max_gap_ms=%.1f\n", max_gap);
    return 0;
}

int small(const std::string& dir) {
    const std::string path = make_file(dir, 1 << 20);
    const int fd = ::open(path.c_str(), O_RDONLY);
    char buf[4096];
    constexpr int kCalls = 100000;
    auto per_call = [&](auto call) {
        const auto t0 = Clock::now();
        for (int i = 0; i < kCalls; ++i) call(static_cast<off_t>((i % 256) * 4096));
        return ms_since(t0) * 1e6 / kCalls;
    };
    double plain = 0, hooked = 0, uring = 0;
    green::spawn([&] {
        plain = per_call([&](off_t off) { ::syscall(SYS_pread64, fd, buf, sizeof buf, off); });
        hooked = per_call([&](off_t off) { (void)::pread(fd, buf, sizeof buf, off); });
        uring = per_call([&](off_t off) {
            green::detail::IoOp op{green::detail::IoOp::Kind::Read, fd, buf, sizeof buf};
            op.offset = off;
            green::detail::Hub::get().io().submit(op, green::Deadline());
        });
    }).join();
    ::close(fd);
    ::unlink(path.c_str());
    std::printf(
        "small 4k cached pread, backend=%s: plain syscall %.0f ns, hooked (RWF_NOWAIT "
        "first) %.0f ns, backend op %.0f ns\n",
        green::detail::Hub::get().io().name(), plain, hooked, uring);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::strcmp(argv[1], "cold") == 0)
        return cold(std::strcmp(argv[2], "read") == 0    ? ColdCall::Read
                    : std::strcmp(argv[2], "pread") == 0 ? ColdCall::Pread
                                                         : ColdCall::Copy,
                    argv[3]);
    if (argc == 3 && std::strcmp(argv[1], "small") == 0) return small(argv[2]);
    if (argc == 3 && std::strcmp(argv[1], "threads") == 0) return threads(argv[2]);
    if (argc == 2 && std::strcmp(argv[1], "idle") == 0) return idle();
    std::fprintf(
        stderr,
        "usage: file_bench cold read|pread|copy FILE | file_bench threads FILE | file_bench small "
        "DIR | file_bench idle\n");
    return 2;
}
