// Backtraces: libdw (elfutils' libdwfl) unwinds a suspended fiber from the registers its last
// switch saved and names program counters; libgcc's unwinder captures a running stack inside a
// signal handler.
//
// Why libdw: it is the one maintained library here that unwinds from a register set the caller
// supplies (dwfl_attach_state's set_initial_registers) with memory reads the caller controls
// (memory_read): a parked fiber is not the running stack, so an unwinder that only starts from
// "here" (libgcc's _Unwind_Backtrace, libbacktrace, Boost.Stacktrace, glibc's backtrace) would
// need the fiber resumed on a special path; libdw only reads its stack, which stays untouched.
// It also gives function, file and line from the same modules (DWARF CFI, line tables,
// .symtab), with frame-pointer unwinding as its fallback where CFI is missing. It is loaded with
// dlopen on first use, so a program that never asks for a backtrace does not even map it (and
// a preloaded program gets no extra libraries in its namespace).
#include "backtrace.hpp"

#include <dlfcn.h>
#include <pthread.h>
#include <sys/types.h>
#include <unistd.h>
#include <unwind.h>

#include <cxxabi.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "green/detail/fiber.hpp"

#if __has_include(<elfutils/libdwfl.h>)
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#define GREEN_HAVE_LIBDW 1
#else
#define GREEN_HAVE_LIBDW 0
#endif

namespace green::detail {

namespace {

struct CaptureState {
    std::uintptr_t* out;
    int max;
    int n;
};

_Unwind_Reason_Code capture_frame(_Unwind_Context* ctx, void* arg) {
    auto* s = static_cast<CaptureState*>(arg);
    int exact = 0;
    std::uintptr_t ip = _Unwind_GetIPInfo(ctx, &exact);
    if (!ip) return _URC_END_OF_STACK;
    if (!exact) --ip;  // a return address: the call is the instruction before it
    s->out[s->n++] = ip;
    return s->n == s->max ? _URC_END_OF_STACK : _URC_NO_REASON;
}

}  // namespace

int capture_here(std::uintptr_t* pcs, int max) noexcept {
    if (max <= 0) return 0;
    CaptureState s{pcs, max, 0};
    _Unwind_Backtrace(capture_frame, &s);
    // The first frame is this function's own.
    if (s.n > 0) {
        std::memmove(pcs, pcs + 1, sizeof(std::uintptr_t) * static_cast<std::size_t>(s.n - 1));
        --s.n;
    }
    return s.n;
}

#if GREEN_HAVE_LIBDW && defined(__x86_64__)

namespace {

// libdw's entry points, resolved once from libdw.so.1.
struct Dw {
#define GREEN_DW_FN(name) decltype(&::name) name = nullptr;
    GREEN_DW_FN(dwfl_begin)
    GREEN_DW_FN(dwfl_end)
    GREEN_DW_FN(dwfl_errmsg)
    GREEN_DW_FN(dwfl_errno)
    GREEN_DW_FN(dwfl_report_begin)
    GREEN_DW_FN(dwfl_report_end)
    GREEN_DW_FN(dwfl_linux_proc_report)
    GREEN_DW_FN(dwfl_linux_proc_find_elf)
    GREEN_DW_FN(dwfl_build_id_find_debuginfo)
    GREEN_DW_FN(dwfl_attach_state)
    GREEN_DW_FN(dwfl_getthread_frames)
    GREEN_DW_FN(dwfl_thread_state_registers)
    GREEN_DW_FN(dwfl_thread_state_register_pc)
    GREEN_DW_FN(dwfl_frame_pc)
    GREEN_DW_FN(dwfl_addrmodule)
    GREEN_DW_FN(dwfl_module_addrinfo)
    GREEN_DW_FN(dwfl_module_getsrc)
    GREEN_DW_FN(dwfl_lineinfo)
    GREEN_DW_FN(dwfl_module_info)
    GREEN_DW_FN(dwfl_module_addrdie)
    GREEN_DW_FN(dwarf_getscopes)
    GREEN_DW_FN(dwarf_getscopes_die)
    GREEN_DW_FN(dwarf_tag)
    GREEN_DW_FN(dwarf_attr)
    GREEN_DW_FN(dwarf_attr_integrate)
    GREEN_DW_FN(dwarf_formstring)
    GREEN_DW_FN(dwarf_formudata)
    GREEN_DW_FN(dwarf_diename)
    GREEN_DW_FN(dwarf_getsrcfiles)
    GREEN_DW_FN(dwarf_filesrc)
#undef GREEN_DW_FN
};

// The fiber being unwound: its stack bounds, where their bytes are read, and the registers its
// switch saved.
struct Target {
    std::uintptr_t lo = 0, hi = 0;
    // Added to an address in [lo, hi) to read it: 0, or the distance to the heap copy a compact
    // fiber's stack is kept in while it is switched out (its own addresses hold another's frames).
    std::uintptr_t shift = 0;
    Dwarf_Word rbx = 0, rbp = 0, rsp = 0, r12_15[4] = {};
    Dwarf_Addr pc = 0;
};

struct Symbolizer {
    std::mutex mu;
    Dw dw;
    std::string unavailable;  // set once if libdw cannot be used
    Dwfl* dwfl = nullptr;
    Dwfl_Callbacks callbacks{};
    Target target;  // guarded by mu; the callbacks read it
    // Per Backtracer scope: the frames a program counter stands for, innermost inlined first.
    std::unordered_map<std::uintptr_t, std::vector<std::string>> names;
    bool refreshed = false;  // per scope: modules re-read once
};

Symbolizer& symbolizer() {
    static auto* s = new Symbolizer;  // never destroyed: other threads may dump at exit
    return *s;
}

pid_t next_thread(Dwfl*, void*, void**) {
    return 0;  // threads are named by get_thread only
}

bool get_thread(Dwfl*, pid_t, void* arg, void** thread_arg) {
    *thread_arg = arg;
    return true;
}

// Reads only the target's stack: a corrupt frame makes the unwind stop, never fault.
[[gnu::no_sanitize_address]] bool memory_read(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result,
                                              void* arg) {
    const Target& t = static_cast<Symbolizer*>(arg)->target;
    if (addr < t.lo || addr > t.hi - sizeof(Dwarf_Word) || addr % sizeof(Dwarf_Word)) return false;
    *result = *reinterpret_cast<const volatile Dwarf_Word*>(addr + t.shift);
    return true;
}

bool set_initial_registers(Dwfl_Thread* thread, void* arg) {
    auto& s = *static_cast<Symbolizer*>(arg);
    const Target& t = s.target;
    // DWARF numbers on x86-64: 3 rbx, 6 rbp, 7 rsp, 12-15 r12-r15. The others were clobbered
    // by the switch (as by a call) and stay unknown.
    const Dwarf_Word bp_sp[2] = {t.rbp, t.rsp};
    if (!s.dw.dwfl_thread_state_registers(thread, 3, 1, &t.rbx) ||
        !s.dw.dwfl_thread_state_registers(thread, 6, 2, bp_sp) ||
        !s.dw.dwfl_thread_state_registers(thread, 12, 4, t.r12_15))
        return false;
    s.dw.dwfl_thread_state_register_pc(thread, t.pc);
    return true;
}

const Dwfl_Thread_Callbacks kThreadCallbacks = {
    next_thread, get_thread, memory_read, set_initial_registers, nullptr, nullptr,
};

bool load(Symbolizer& s) {
    void* lib = ::dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        s.unavailable = "backtraces need elfutils' libdw.so.1, which is not installed";
        return false;
    }
    bool ok = true;
    auto get = [&](auto& fn, const char* name) {
        fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(lib, name));
        if (!fn) ok = false;
    };
#define GREEN_DW_GET(name) get(s.dw.name, #name);
    GREEN_DW_GET(dwfl_begin)
    GREEN_DW_GET(dwfl_end)
    GREEN_DW_GET(dwfl_errmsg)
    GREEN_DW_GET(dwfl_errno)
    GREEN_DW_GET(dwfl_report_begin)
    GREEN_DW_GET(dwfl_report_end)
    GREEN_DW_GET(dwfl_linux_proc_report)
    GREEN_DW_GET(dwfl_linux_proc_find_elf)
    GREEN_DW_GET(dwfl_build_id_find_debuginfo)
    GREEN_DW_GET(dwfl_attach_state)
    GREEN_DW_GET(dwfl_getthread_frames)
    GREEN_DW_GET(dwfl_thread_state_registers)
    GREEN_DW_GET(dwfl_thread_state_register_pc)
    GREEN_DW_GET(dwfl_frame_pc)
    GREEN_DW_GET(dwfl_addrmodule)
    GREEN_DW_GET(dwfl_module_addrinfo)
    GREEN_DW_GET(dwfl_module_getsrc)
    GREEN_DW_GET(dwfl_lineinfo)
    GREEN_DW_GET(dwfl_module_info)
    GREEN_DW_GET(dwfl_module_addrdie)
    GREEN_DW_GET(dwarf_getscopes)
    GREEN_DW_GET(dwarf_getscopes_die)
    GREEN_DW_GET(dwarf_tag)
    GREEN_DW_GET(dwarf_attr)
    GREEN_DW_GET(dwarf_attr_integrate)
    GREEN_DW_GET(dwarf_formstring)
    GREEN_DW_GET(dwarf_formudata)
    GREEN_DW_GET(dwarf_diename)
    GREEN_DW_GET(dwarf_getsrcfiles)
    GREEN_DW_GET(dwarf_filesrc)
#undef GREEN_DW_GET
    if (!ok) s.unavailable = "libdw.so.1 lacks the unwinding interface (elfutils 0.158 or later)";
    return ok;
}

// (Re)reads the process's modules from /proc/self/maps: at the first use and when a program
// counter falls in none of them (a library loaded since).
bool report_modules(Symbolizer& s) {
    if (s.dwfl) {
        s.dw.dwfl_end(s.dwfl);
        s.dwfl = nullptr;
    }
    s.callbacks.find_elf = s.dw.dwfl_linux_proc_find_elf;
    // Separate debug files by build id (/usr/lib/debug/.build-id, Debian's -dbgsym packages)
    // only: the standard search would also start a debuginfod client, which may fetch over the
    // network from inside a stack dump, and whose libcurl/OpenSSL set-up leaks at exit.
    s.callbacks.find_debuginfo = s.dw.dwfl_build_id_find_debuginfo;
    Dwfl* d = s.dw.dwfl_begin(&s.callbacks);
    if (!d) return false;
    s.dw.dwfl_report_begin(d);
    const int rc = s.dw.dwfl_linux_proc_report(d, ::getpid());
    s.dw.dwfl_report_end(d, nullptr, nullptr);
    if (rc != 0 || !s.dw.dwfl_attach_state(d, nullptr, ::getpid(), &kThreadCallbacks, &s)) {
        s.unavailable =
            std::string("libdw cannot read this process's modules: ") + s.dw.dwfl_errmsg(-1);
        s.dw.dwfl_end(d);
        return false;
    }
    s.dwfl = d;
    return true;
}

int collect_frame(Dwfl_Frame* frame, void* arg) {
    auto* out = static_cast<std::pair<Symbolizer*, Frames*>*>(arg);
    Dwarf_Addr pc = 0;
    bool activation = false;
    if (!out->first->dw.dwfl_frame_pc(frame, &pc, &activation) || pc == 0) return DWARF_CB_ABORT;
    Frames& f = *out->second;
    f.pc[f.n++] = activation ? pc : pc - 1;
    return f.n == kMaxFrames ? DWARF_CB_ABORT : DWARF_CB_OK;
}

std::string demangle(const char* name) {
    int status = -1;
    char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    std::string text = status == 0 && demangled ? demangled : name;
    std::free(demangled);
    return text;
}

std::string source_at(const char* file, Dwarf_Word line) {
    return file ? std::string(" at ") + file + ":" + std::to_string(line) : std::string();
}

// A function's name in DWARF: its linkage name (demangled) or its plain name, from the abstract
// definition when `die` is an inlined instance.
std::string die_name(Symbolizer& s, Dwarf_Die* die) {
    Dwarf_Attribute attr;
    Dwarf_Attribute* linkage = s.dw.dwarf_attr_integrate(die, DW_AT_linkage_name, &attr);
    if (const char* name = linkage ? s.dw.dwarf_formstring(linkage) : nullptr)
        return demangle(name);
    const char* name = s.dw.dwarf_diename(die);
    if (!name) {
        Dwarf_Attribute* plain = s.dw.dwarf_attr_integrate(die, DW_AT_name, &attr);
        name = plain ? s.dw.dwarf_formstring(plain) : nullptr;
    }
    return name ? name : "??";
}

// One inlined call `pc` lies in: the inlined function and where its caller called it.
struct InlinedCall {
    std::string function;
    std::string call_site;  // " at file:line", or empty without line information
};

// The inlined calls around `pc`, innermost first; empty when it is in no inlined code (or the
// module has no DWARF).
std::vector<InlinedCall> inlined_calls(Symbolizer& s, Dwfl_Module* mod, std::uintptr_t pc) {
    std::vector<InlinedCall> calls;
    Dwarf_Addr bias = 0;
    Dwarf_Die* cu = s.dw.dwfl_module_addrdie(mod, pc, &bias);
    if (!cu) return calls;
    Dwarf_Die* scopes = nullptr;
    const int n = s.dw.dwarf_getscopes(cu, pc - bias, &scopes);
    if (n <= 0) {
        std::free(scopes);
        return calls;
    }
    // Past an inlined instance, dwarf_getscopes goes on with the scopes of its abstract
    // definition; the concrete callers are the innermost scope's parents in the DIE tree.
    Dwarf_Die innermost = scopes[0];
    std::free(scopes);
    scopes = nullptr;
    const int m = s.dw.dwarf_getscopes_die(&innermost, &scopes);
    Dwarf_Files* files = nullptr;
    std::size_t nfiles = 0;
    if (s.dw.dwarf_getsrcfiles(cu, &files, &nfiles) != 0) files = nullptr;
    for (int i = 0; i < m; ++i) {
        Dwarf_Die* die = &scopes[i];
        const int tag = s.dw.dwarf_tag(die);
        if (tag == DW_TAG_subprogram) break;  // the function the code was inlined into
        if (tag != DW_TAG_inlined_subroutine) continue;
        Dwarf_Attribute attr;
        Dwarf_Word file_index = 0, line = 0;
        const char* file = nullptr;
        if (files &&
            s.dw.dwarf_formudata(s.dw.dwarf_attr(die, DW_AT_call_file, &attr), &file_index) == 0)
            file = s.dw.dwarf_filesrc(files, file_index, nullptr, nullptr);
        if (s.dw.dwarf_formudata(s.dw.dwarf_attr(die, DW_AT_call_line, &attr), &line) != 0)
            line = 0;
        calls.push_back({die_name(s, die), source_at(file, line)});
    }
    std::free(scopes);
    return calls;
}

// The frames `pc` stands for, innermost first: one per inlined call it lies in (named from
// DWARF, at the line of the call it makes), then the function its code belongs to (from the
// symbol table, with its offset).
std::vector<std::string> describe(Symbolizer& s, std::uintptr_t pc) {
    if (!s.dwfl) return {"??"};  // a refresh failed earlier in this scope
    Dwfl_Module* mod = s.dw.dwfl_addrmodule(s.dwfl, pc);
    if (!mod && !s.refreshed) {
        s.refreshed = true;
        if (report_modules(s)) mod = s.dw.dwfl_addrmodule(s.dwfl, pc);
    }
    if (!mod) return {"??"};
    int line = 0;
    const char* file = nullptr;
    if (Dwfl_Line* l = s.dw.dwfl_module_getsrc(mod, pc))
        file = s.dw.dwfl_lineinfo(l, nullptr, &line, nullptr, nullptr, nullptr);
    std::string where = source_at(file, static_cast<Dwarf_Word>(line));
    std::vector<std::string> frames;
    for (InlinedCall& call : inlined_calls(s, mod, pc)) {
        frames.push_back(call.function + where + " (inlined)");
        where = std::move(call.call_site);
    }
    std::string text;
    GElf_Off offset = 0;
    GElf_Sym sym;
    if (const char* name =
            s.dw.dwfl_module_addrinfo(mod, pc, &offset, &sym, nullptr, nullptr, nullptr)) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "+0x%llx", static_cast<unsigned long long>(offset));
        text = demangle(name) + buf;
    } else {
        text = "??";
    }
    if (!where.empty()) {
        text += where;
    } else if (const char* module = s.dw.dwfl_module_info(mod, nullptr, nullptr, nullptr, nullptr,
                                                          nullptr, nullptr, nullptr)) {
        text += " (";
        text += module;
        text += ")";
    }
    frames.push_back(std::move(text));
    return frames;
}

// The thread's own stack, for the main fiber.
bool thread_stack(std::uintptr_t& lo, std::uintptr_t& hi) {
    pthread_attr_t attr;
    if (::pthread_getattr_np(::pthread_self(), &attr) != 0) return false;
    void* addr = nullptr;
    std::size_t size = 0;
    const bool ok = ::pthread_attr_getstack(&attr, &addr, &size) == 0;
    ::pthread_attr_destroy(&attr);
    lo = reinterpret_cast<std::uintptr_t>(addr);
    hi = lo + size;
    return ok;
}

}  // namespace

Backtracer::Backtracer() {
    Symbolizer& s = symbolizer();
    s.mu.lock();
    s.names.clear();
    s.refreshed = false;
    if (s.unavailable.empty() && !s.dwfl) {
        if (!s.dw.dwfl_begin && !load(s)) return;
        s.refreshed = true;
        (void)report_modules(s);
    }
}

Backtracer::~Backtracer() {
    Symbolizer& s = symbolizer();
    s.names.clear();
    s.mu.unlock();
}

const std::string& Backtracer::unavailable() const noexcept {
    return symbolizer().unavailable;
}

Frames Backtracer::unwind_suspended(const void* saved_context, const void* lo, const void* hi,
                                    const void* copy) {
    Frames frames;
    Symbolizer& s = symbolizer();
    if (!s.dwfl || !saved_context) return frames;
    // Boost.Context's x86-64 fcontext, as jump_fcontext leaves it: MXCSR and x87 control word,
    // r12, r13, r14, r15, rbx, rbp, then the address it resumes at. green enters jump_fcontext
    // through jump_context (context_jump.hpp), which steps 128 bytes below the stack pointer the
    // compiler knows before pushing that address: so the resume address's CFA rule applies to
    // the context's end plus those 128 bytes.
    const auto ctx = reinterpret_cast<std::uintptr_t>(saved_context);
    Target& t = s.target;
    t.lo = reinterpret_cast<std::uintptr_t>(lo);
    t.hi = reinterpret_cast<std::uintptr_t>(hi);
    t.shift = copy ? reinterpret_cast<std::uintptr_t>(copy) - t.lo : 0;
    if (ctx < t.lo || ctx + 0x40 > t.hi) return frames;
    const auto* slot = reinterpret_cast<const Dwarf_Word*>(ctx + t.shift);
    t.r12_15[0] = slot[1];
    t.r12_15[1] = slot[2];
    t.r12_15[2] = slot[3];
    t.r12_15[3] = slot[4];
    t.rbx = slot[5];
    t.rbp = slot[6];
    t.pc = slot[7];
    t.rsp = ctx + 0x40 + 128;
    std::pair<Symbolizer*, Frames*> arg{&s, &frames};
    (void)s.dw.dwfl_getthread_frames(s.dwfl, 1, collect_frame, &arg);
    return frames;
}

Frames Backtracer::unwind_fiber(const Fiber& f, bool is_main) {
    std::uintptr_t lo = 0, hi = 0;
    const void* copy = nullptr;
    if (is_main) {
        if (!thread_stack(lo, hi)) return {};
    } else if (f.compact()) {
        // Switched out, its stack is the image: the bytes from its saved context up to the run
        // stack's top, at the addresses they will be copied back to.
        lo = reinterpret_cast<std::uintptr_t>(f.saved_context());
        hi = lo + f.image().size;
        copy = f.image().data;
        if (!copy) return {};
    } else {
        lo = reinterpret_cast<std::uintptr_t>(f.stack().base);
        hi = lo + f.stack().size;
    }
    return unwind_suspended(f.saved_context(), reinterpret_cast<const void*>(lo),
                            reinterpret_cast<const void*>(hi), copy);
}

void Backtracer::append(std::string& out, const Frames& frames, const char* indent) {
    Symbolizer& s = symbolizer();
    if (!s.dwfl) return;
    // Frames are numbered as printed: an inlined call is a frame of its own (as in gdb and Go),
    // at the same program counter as the function it was inlined into.
    int number = 0;
    for (int i = 0; i < frames.n; ++i) {
        const std::uintptr_t pc = frames.pc[i];
        auto it = s.names.find(pc);
        if (it == s.names.end()) it = s.names.emplace(pc, describe(s, pc)).first;
        for (const std::string& name : it->second) {
            char head[64];
            std::snprintf(head, sizeof head, "%s#%d 0x%llx ", indent, number++,
                          static_cast<unsigned long long>(pc));
            out += head;
            out += name;
            out += '\n';
        }
    }
}

#else  // no libdw headers at build time, or not x86-64

namespace {
std::mutex g_mu;
const std::string kUnavailable =
#if defined(__x86_64__)
    "backtraces need elfutils' libdw headers at build time (Debian: libdw-dev)";
#else
    "backtraces of fibers are implemented for x86-64 only";
#endif
}  // namespace

Backtracer::Backtracer() {
    g_mu.lock();
}
Backtracer::~Backtracer() {
    g_mu.unlock();
}
const std::string& Backtracer::unavailable() const noexcept {
    return kUnavailable;
}
Frames Backtracer::unwind_suspended(const void*, const void*, const void*, const void*) {
    return {};
}
Frames Backtracer::unwind_fiber(const Fiber&, bool) {
    return {};
}
void Backtracer::append(std::string&, const Frames&, const char*) {}

#endif

}  // namespace green::detail
