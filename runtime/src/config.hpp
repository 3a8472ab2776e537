// The GREEN_* environment, read once per process: one parser for sizes and one for counts,
// one warning line on stderr for a value that cannot be used (naming what is used instead).
// Shared by the runtime, the hook library and greenrun (which compiles config_parse.cpp only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace green::detail {

// ---- parsers (no allocation, no side effects: usable while a hook handles a lock) ----------

enum class ParseError : std::uint8_t {
    None,
    Malformed,  // not digits (with one optional suffix, for sizes): "abc", "-1", "12q", " 5"
    TooSmall,
    TooLarge,  // includes values that overflow 64 bits
};

// A byte count: decimal digits with an optional k, m or g suffix (powers of 1024, either
// case). Nothing else: no sign, no spaces, no trailing text.
ParseError parse_size(std::string_view text, std::uint64_t min, std::uint64_t max,
                      std::uint64_t& out) noexcept;
// A plain count: decimal digits only.
ParseError parse_count(std::string_view text, std::uint64_t min, std::uint64_t max,
                       std::uint64_t& out) noexcept;

// A signal that may be caught: a name (USR2, SIGUSR2; either case) or its number. SIGKILL,
// SIGSTOP and numbers past SIGRTMAX are refused (TooLarge for those).
ParseError parse_signal(std::string_view text, int& out) noexcept;

// Fiber stack sizes. The largest is what one stack slot may reserve: a slot is carved out of a
// chunk of up to 256 slots, so 1 GiB keeps every slot and chunk computation far from overflow
// (256 x 1 GiB = 2^38) and a chunk of such stacks within a 47-bit address space several
// hundred times over. It is 128 times glibc's default thread stack (8 MiB); a program that
// needs more should not keep it on a fiber stack. Below 16 KiB not even libc's own frames fit.
inline constexpr std::size_t kMinStackSize = 16 * 1024;
inline constexpr std::size_t kMaxStackSize = std::size_t{1} << 30;
inline constexpr std::size_t kDefaultStackSize = 128 * 1024;

// ---- the configuration ---------------------------------------------------------------------

enum class BackendChoice : std::uint8_t { Auto, Epoll, IoUring };
enum class PatchChoice : std::uint8_t { Default, All, Io, None };
// Socket::recv's strategy (a benchmark knob; socket.cpp documents the three).
enum class NetRecvChoice : std::uint8_t { Default, Poll, WaitFirst, Op };
// How the hooks run I/O on regular files and block devices (GREEN_FILE_IO): io_uring
// operations, the offload pool, or plain libc calls that block the hub. Default: io_uring
// where the hub's backend is io_uring, else the offload pool.
enum class FileIoChoice : std::uint8_t { Default, Uring, Offload, Off };

struct Config {
    std::size_t stack_size = kDefaultStackSize;   // GREEN_STACK_SIZE
    bool stack_size_set = false;                  // a valid GREEN_STACK_SIZE was given
    BackendChoice backend = BackendChoice::Auto;  // GREEN_BACKEND
    std::size_t offload_threads = 8;              // GREEN_OFFLOAD_THREADS
    std::uint32_t monitor_ms = 0;                 // GREEN_MONITOR_MS; 0: no monitor
    std::size_t guard_pages = 0;                  // GREEN_GUARD_PAGES (when guard_pages_set)
    bool guard_pages_set = false;                 // otherwise StackPool decides (stack_pool.cpp)
    std::size_t warm_stacks = 1024;               // GREEN_WARM_STACKS
    PatchChoice patch = PatchChoice::Default;     // GREEN_PATCH
    NetRecvChoice net_recv = NetRecvChoice::Default;  // GREEN_NET_RECV
    FileIoChoice file_io = FileIoChoice::Default;     // GREEN_FILE_IO
    int dump_signal = 0;           // GREEN_DUMP_SIGNAL: prints the run info on this signal; 0: none
    std::uint64_t max_memory = 0;  // GREEN_MAX_MEMORY: resident-memory threshold; 0: none
    std::size_t hubs = 1;          // GREEN_HUBS: hubs the preloaded program's threads spread over
    bool compact_stacks = false;   // GREEN_STACK_MODE=compact: greenlets default to compact stacks
};

// Limits of the counts (documented in README.md's Configuration table).
inline constexpr std::uint64_t kMaxOffloadThreads = 1024;
inline constexpr std::uint64_t kMaxMonitorMs = 3'600'000;  // one hour
inline constexpr std::uint64_t kMaxGuardPages = std::uint64_t{1} << 32;
inline constexpr std::uint64_t kMaxWarmStacks = std::uint64_t{1} << 32;
// GREEN_HUBS: one hub per OS thread; more than 256 threads spinning on their mailboxes would only
// fight over the cores (the hooks keep a fixed table of hubs, hooks/hub_set.hpp).
inline constexpr std::uint64_t kMaxHubs = 256;
// GREEN_MAX_MEMORY: from 1 MiB (a smaller value is a unit mistake: no process is that small)
// to 64 TiB (half of x86-64's user address space).
inline constexpr std::uint64_t kMinMaxMemory = std::uint64_t{1} << 20;
inline constexpr std::uint64_t kMaxMaxMemory = std::uint64_t{1} << 46;

// The process's configuration, read from the environment on first use (thread-safe). A
// setuid or setgid program ignores GREEN_* (secure_getenv), as it does LD_PRELOAD.
const Config& config() noexcept;

// Reads a configuration from `getenv` (a test seam; config() uses secure_getenv), writing
// one line per unusable value to `warn_fd`.
Config load_config(const char* (*getenv)(const char*), int warn_fd) noexcept;

// secure_getenv for the other GREEN_* variables (greenrun's GREEN_PRELOAD_LIB).
const char* green_env(const char* name) noexcept;

}  // namespace green::detail
