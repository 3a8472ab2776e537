# gdb helper for green's fibers (`green fibers` and `green bt` on a live process or a core dump):
#   source tools/gdb/green.py       (or install as <libgreen>-gdb.py under gdb's auto-load dir)
#   green fibers                    every fiber of every hub (each thread's registry), numbered
#   green bt N                      fiber N's backtrace, from the context its last switch saved
#                                   (a parked compact fiber's on a live process only: see GreenBt)
# It reads the same structures as green::format_run_info (t_hub, Hub::fibers_, Fiber::ctx_),
# so it needs libgreen's debug information.
import gdb
import gdb.unwinder

STATES = ["created", "runnable", "running", "parked", "suspended", "dead"]
KINDS = ["-", "sleep", "io", "event", "async result", "lock", "semaphore", "queue get",
         "queue put", "queue peek", "queue join", "join", "offload", "idle", "signal",
         "wait queue"]


def _hubs():
    """(thread, hub value) for every thread that has a hub."""
    out = []
    selected = gdb.selected_thread()
    for inferior in gdb.inferiors():
        for thread in inferior.threads():
            thread.switch()
            try:
                hub = gdb.parse_and_eval("'green::detail::t_hub'")
            except gdb.error:
                continue
            if int(hub) != 0:
                out.append((thread, hub.dereference()))
    if selected is not None:
        selected.switch()
    return out


def _fibers():
    """(number, thread, hub, fiber pointer, is_main) over every hub."""
    out = []
    n = 0
    for thread, hub in _hubs():
        n += 1
        out.append((n, thread, hub, hub["main_"].address, True))
        link = hub["fibers_"]["head_"]
        while int(link) != 0:
            n += 1
            out.append((n, thread, hub, _fiber_of(link), False))
            link = link["next"]
    return out


def _fiber_of(link):
    # The registry link is a member of Fiber (Fiber::of in fiber.hpp): step back by its offset.
    fiber = gdb.lookup_type("green::detail::Fiber")
    offset = next(f.bitpos // 8 for f in fiber.fields() if f.name == "registry_link_")
    char_p = gdb.lookup_type("char").pointer()
    return (link.cast(char_p) - offset).cast(fiber.pointer())


def _loop_fiber(hub):
    # std::unique_ptr holds its pointer in its first word (libstdc++ and libc++ alike).
    word = gdb.lookup_type("unsigned long").pointer()
    return int(hub["loop_"].address.cast(word).dereference())


def _describe(fiber, hub, is_main):
    f = fiber.dereference()
    state = STATES[int(f["state_"])] if int(f["state_"]) < len(STATES) else "?"
    if int(fiber) == int(hub["current_"]):
        state = "running"
    kind = int(f["wait_"]["kind"])
    what = ""
    if state == "parked":
        what = ": " + (KINDS[kind] if kind < len(KINDS) else "?")
        if KINDS[kind] == "io":
            what += " fd %d" % int(f["wait_"]["fd"])
    what += _stack_use(f)
    if is_main:
        name = "main"
    elif int(fiber) == _loop_fiber(hub):
        name = "hub"
    else:
        name = "fiber"
    return "%s %s%s" % (name, state, what)


def _stack_use(f):
    """"; stack N KiB, deepest M KiB": the lowest non-zero word below the fiber's first frame,
    as green::format_run_info measures it (runtime/src/stack_use.hpp); "at most" when the stack
    was not all zero when the fiber got it."""
    stack = f["stack_"]
    base, size = int(stack["base"]), int(stack["size"])
    if base == 0 or size == 0:
        return ""
    if bool(f["compact_"]):
        # The hub's shared run stack; switched out, only its image is its own.
        return "; stack %d KiB, compact (%d bytes kept)" % (size // 1024, int(_image(f)["size"]))
    top = base + size - ((base >> 12) & 31) * 64  # StackPool::top
    inferior = gdb.selected_inferior()
    try:  # one read; page by page where a core has holes (pages never written)
        pieces = [(base, inferior.read_memory(base, top - base).tobytes())]
    except gdb.MemoryError:
        pieces = []
        for page in range(base, top, 4096):
            try:
                pieces.append((page, inferior.read_memory(page, min(4096, top - page)).tobytes()))
            except gdb.MemoryError:
                pass  # not in the core: never written
    deepest = 0
    for start, data in pieces:
        stripped = data.lstrip(b"\0")
        if stripped:
            deepest = top - (start + (len(data) - len(stripped)) // 8 * 8)
            break
    if deepest == 0 and int(f["ctx_"]) != 0:
        # It has run, so its saved context at least is on it: gcore left the stack out.
        return "; stack %d KiB, not in the core" % (size // 1024)
    bound = "" if bool(stack["zeroed"]) else "at most "
    return "; stack %d KiB, deepest %s%.1f KiB" % (size // 1024, bound, deepest / 1024)


class GreenCommand(gdb.Command):
    """green fibers | green bt N: green's fibers (see tools/gdb/green.py)."""

    def __init__(self):
        super().__init__("green", gdb.COMMAND_STACK, gdb.COMPLETE_NONE, True)


class GreenFibers(gdb.Command):
    """List every fiber of every hub: number, thread, address, state, wait."""

    def __init__(self):
        super().__init__("green fibers", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        for n, thread, hub, fiber, is_main in _fibers():
            gdb.write("%d thread %d (LWP %d) fiber 0x%x %s\n" % (
                n, thread.num, thread.ptid[1], int(fiber), _describe(fiber, hub, is_main)))


# `green bt N` on a fiber that is not running: a Python unwinder makes the thread's innermost
# frame unwind into the fiber's saved context (so its caller is the fiber's innermost frame and
# gdb's own DWARF unwinding does the rest), and a frame filter hides that innermost frame. Nothing
# is written to the inferior, so it works on a core dump as on a live process.
_target = None  # the registers the innermost frame unwinds to while `green bt` runs


class _FiberUnwinder(gdb.unwinder.Unwinder):
    def __init__(self):
        super().__init__("green-fiber")

    def __call__(self, pending_frame):
        if _target is None or pending_frame.level() != 0:
            return None
        sp = pending_frame.read_register("rsp")  # for its type
        pc = pending_frame.read_register("rip")
        # The hidden frame's id takes a stack address just below the fiber's frames: gdb stops
        # a backtrace at a caller whose frame sits below its callee's ("previous frame inner to
        # this frame"), which the thread's real stack pointer would make the fiber's first
        # frame whenever it is not an inlined one (-O0).
        below = gdb.Value(_target["rsp"] - 8).cast(sp.type)
        info = pending_frame.create_unwind_info(_FrameId(below, pc))
        for reg, value in _target.items():
            info.add_saved_register(reg, gdb.Value(value).cast(sp.type if reg == "rsp"
                                                               else pc.type if reg == "rip"
                                                               else _u64()))
        return info


class _FrameId:
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


def _u64():
    return gdb.lookup_type("unsigned long")


class _HideThreadFrame:
    """Frame filter: while `green bt` runs, drops the thread's own innermost frame."""

    def __init__(self):
        self.name = "green-fiber"
        self.priority = 100
        self.enabled = True
        gdb.frame_filters[self.name] = self

    def filter(self, frames):
        if _target is not None:
            next(frames, None)
        return frames


def _saved_registers(ctx):
    # Boost.Context's x86-64 fcontext: mxcsr/x87, r12, r13, r14, r15, rbx, rbp, rip; green
    # enters jump_fcontext 128 bytes below the stack pointer its caller's CFI assumes
    # (runtime/src/context_jump.hpp), so the caller's rsp is past the context and those bytes.
    return _registers_in(gdb.selected_inferior().read_memory(ctx, 64).tobytes(), ctx)


def _registers_in(words, ctx):
    """The registers a context saved at address ctx holds, from its 64 bytes `words`."""
    slot = [int.from_bytes(words[i * 8:(i + 1) * 8], "little") for i in range(8)]
    return {"r12": slot[1], "r13": slot[2], "r14": slot[3], "r15": slot[4],
            "rbx": slot[5], "rbp": slot[6], "rip": slot[7], "rsp": ctx + 0x40 + 128}


def _image(f):
    """A compact fiber's StackImage: in the fiber's Extras, which set_compact made at spawn."""
    return f["extras_"].dereference()["image"]


def _compact_image(fiber):
    """(address, bytes) of a switched-out compact fiber's stack: its image holds the bytes from
    its saved context up; the run stack at those addresses holds another fiber's frames."""
    f = fiber.dereference()
    image = _image(f)
    size, data = int(image["size"]), int(image["data"])
    return int(f["ctx_"]), gdb.selected_inferior().read_memory(data, size).tobytes()


def _bt_from(regs):
    global _target
    _target = regs
    gdb.invalidate_cached_frames()
    try:
        gdb.execute("bt")
    finally:
        _target = None
        gdb.invalidate_cached_frames()


def _bt_compact(n, fiber):
    """A parked compact fiber: gdb unwinds from the inferior's memory only, so its image is put
    back where it came from for the backtrace and the run stack's own bytes restored after. A
    core dump cannot be written to: there the fiber's innermost frame alone is named."""
    inferior = gdb.selected_inferior()
    ctx, image = _compact_image(fiber)
    if len(image) < 64:
        gdb.write("fiber %d: its compact stack image is not in the core\n" % n)
        return
    regs = _registers_in(image, ctx)
    try:
        occupant = inferior.read_memory(ctx, len(image)).tobytes()
        inferior.write_memory(ctx, image)
    except gdb.MemoryError:
        gdb.write("fiber %d is compact: its stack is a heap copy while it is switched out, which "
                  "gdb cannot unwind in a core dump (it reads the addresses the frames name, "
                  "where another fiber's frames are); innermost: %s\n"
                  % (n, gdb.execute("info symbol 0x%x" % regs["rip"], to_string=True).strip()))
        return
    try:
        _bt_from(regs)
    finally:
        inferior.write_memory(ctx, occupant)


class GreenBt(gdb.Command):
    """Backtrace of fiber N (from `green fibers`), unwound from its saved context."""

    def __init__(self):
        super().__init__("green bt", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        try:
            want = int(arg)
        except ValueError:
            raise gdb.GdbError("usage: green bt N (N from `green fibers`)")
        for n, thread, hub, fiber, is_main in _fibers():
            if n != want:
                continue
            thread.switch()
            if int(fiber) == int(hub["current_"]):
                gdb.execute("bt")  # the running fiber is the thread's own stack
                return
            ctx = int(fiber.dereference()["ctx_"])
            if ctx == 0:
                gdb.write("fiber %d has not run yet\n" % n)
                return
            if bool(fiber.dereference()["compact_"]):
                _bt_compact(n, fiber)
                return
            try:
                regs = _saved_registers(ctx)
            except gdb.MemoryError:
                regs = None
            if regs is None or regs["rip"] == 0:
                # gdb's gcore gives up on a whole mapping when one page of it cannot be read,
                # and a guard region (Linux 6.13+, one below every stack) cannot: that core
                # holds none of the stacks. The kernel's own core dumps skip just those pages.
                gdb.write("fiber %d's stack is not in the core (gdb's gcore cannot copy a stack "
                          "mapping with guard regions; a kernel core dump holds it)\n" % n)
                return
            _bt_from(regs)
            return
        gdb.write("no fiber %d (see `green fibers`)\n" % want)


GreenCommand()
GreenFibers()
GreenBt()
gdb.unwinder.register_unwinder(None, _FiberUnwinder(), replace=True)
_HideThreadFrame()
