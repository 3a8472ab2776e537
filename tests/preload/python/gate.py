"""Proof without a clock that other threads ran while one waited, for the preload Python scripts:
a ticker thread that counts its short sleeps, and a gate (a pipe) that children wait at until a
thread opens it once the ticker moved on. A child gives up at the gate after 10 s (a safety net,
not a speed bound), so a run whose ticker stalled prints otherwise instead of hanging."""
import os
import threading
import time


class Ticker:
    """A thread that counts its 5 ms sleeps until stopped."""

    def __init__(self):
        self.ticks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            time.sleep(0.005)
            self.ticks += 1

    def moved(self, n):
        """Sleeps until the ticker moved n more ticks: True, or False after 2000 sleeps."""
        until = self.ticks + n
        for _ in range(2000):
            if self.ticks >= until:
                return True
            time.sleep(0.005)
        return False

    def stop(self):
        self._stop.set()
        self._thread.join()


class Gate:
    """A pipe whose read end the children get (pass_fds=gate.fds); shell_wait is the command that
    waits at it: true once the gate opened, 124 after 10 s."""

    def __init__(self):
        self.rd, self.wr = os.pipe()
        self.fds = (self.rd,)
        self.shell_wait = "timeout 10 cat /dev/fd/%d >/dev/null" % self.rd
        self.ticked = None

    def open_after(self, ticker, ready=lambda: True):
        """Opens the gate from a new thread once ready() holds (checked for up to 2000 sleeps) and
        the ticker then moved 3 ticks; self.ticked says whether it moved. Returns the thread."""

        def run():
            for _ in range(2000):
                if ready():
                    break
                time.sleep(0.005)
            self.ticked = ticker.moved(3)
            os.close(self.wr)

        opener = threading.Thread(target=run)
        opener.start()
        return opener

    def remove(self):
        os.close(self.rd)
