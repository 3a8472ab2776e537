"""CPython's signal module from threads: the "signal thread" idiom (the main thread blocks
SIGUSR1, a thread sigwaits for it while the main thread keeps ticking) and a handled signal that
must not cut short the other threads' sleeps. Run natively and under greenrun: same output."""
import os
import signal
import threading
import time

signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
got = []
waiter = threading.Thread(target=lambda: got.append(signal.sigwait({signal.SIGUSR1})))
waiter.start()
# Six sleeps while the waiter is in sigwait, counted, not timed: under the shim a sigwait that
# held the hub would never let them end (the test's time bound fails that run).
ticks = 0
for _ in range(6):
    time.sleep(0.005)
    ticks += 1
os.kill(os.getpid(), signal.SIGUSR1)
waiter.join()
print("sigwait got", [signal.Signals(s).name for s in got], "main ticked:", ticks > 5)

hits = []
signal.signal(signal.SIGUSR2, lambda s, f: hits.append(s))
slept = []


def sleeper():
    t0 = time.monotonic()
    time.sleep(0.3)
    slept.append(time.monotonic() - t0 >= 0.29)


sleepers = [threading.Thread(target=sleeper) for _ in range(3)]
for t in sleepers:
    t.start()
time.sleep(0.05)
os.kill(os.getpid(), signal.SIGUSR2)
for t in sleepers:
    t.join()
time.sleep(0.01)
print("handler ran", len(hits), "time(s); sleepers slept in full:", slept)
