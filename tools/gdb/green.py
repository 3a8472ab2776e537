# gdb helper for green's fibers (`green fibers` on a live process or a core dump, `green bt` on a
# live process):
#   source tools/gdb/green.py       (or install as <libgreen>-gdb.py under gdb's auto-load dir)
#   green fibers                    every fiber of every hub (each thread's registry), numbered
#   green bt N                      fiber N's backtrace, from the context its last switch saved
# It reads the same structures as green::format_run_info (t_hub, Hub::fibers_, Fiber::ctx_),
# so it needs libgreen's debug information.
import gdb

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
            out.append((n, thread, hub, link["owner"], False))
            link = link["next"]
    return out


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
    if is_main:
        name = "main"
    elif int(fiber) == _loop_fiber(hub):
        name = "hub"
    else:
        name = "fiber"
    return "%s %s%s" % (name, state, what)


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


class GreenBt(gdb.Command):
    """Backtrace of fiber N (from `green fibers`), unwound from its saved context."""

    def __init__(self):
        super().__init__("green bt", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        want = int(arg)
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
            # Boost.Context's x86-64 fcontext: mxcsr/x87, r12, r13, r14, r15, rbx, rbp, rip; green
            # enters jump_fcontext 128 bytes below the stack pointer its caller's CFI assumes.
            words = gdb.selected_inferior().read_memory(ctx, 64).tobytes()
            slot = [int.from_bytes(words[i * 8:(i + 1) * 8], "little") for i in range(8)]
            regs = {"r12": slot[1], "r13": slot[2], "r14": slot[3], "r15": slot[4],
                    "rbx": slot[5], "rbp": slot[6], "rip": slot[7], "rsp": ctx + 0x40 + 128}
            # The thread's registers are pointed at the fiber's saved context for the `bt`, and
            # put back afterwards.
            gdb.execute("frame 0", to_string=True)
            saved = {r: int(gdb.parse_and_eval("$" + r)) for r in regs}
            try:
                gdb.execute("set $rbx = %d" % saved["rbx"])
            except gdb.error:
                gdb.write("green bt needs a live process (a core dump's registers cannot be "
                          "set); `green fibers` works on both\n")
                return
            try:
                for r, v in regs.items():
                    gdb.execute("set $%s = %d" % (r, v))
                gdb.execute("bt")
            finally:
                gdb.execute("frame 0", to_string=True)
                for r, v in saved.items():
                    gdb.execute("set $%s = %d" % (r, v))
            return
        gdb.write("no fiber %d (see `green fibers`)\n" % want)


GreenCommand()
GreenFibers()
GreenBt()
