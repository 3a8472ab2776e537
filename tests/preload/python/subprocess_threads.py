"""subprocess.run from 8 threads at once, knowing nothing of green: each child sleeps 0.3 s and
prints a line, captured through pipes (communicate's poll loop and reads). Concurrency is
counted: every run has started before the first one returns (serial waits would give 1). A
ticker thread counts its 20 ms sleeps meanwhile. stdout must be the same natively and under the
preload."""
import subprocess
import sys
import threading
import time

N = 8
lock = threading.Lock()
started = 0
started_at_first_return = None
results = [None] * N
ticks = 0
stop = threading.Event()


def tick():
    global ticks
    while not stop.is_set():
        time.sleep(0.02)
        ticks += 1


def worker(i):
    global started, started_at_first_return
    with lock:
        started += 1
    r = subprocess.run(["sh", "-c", "sleep 0.3; echo out %d; echo err %d >&2; exit %d" % (i, i, i)],
                       capture_output=True, text=True)
    with lock:
        if started_at_first_return is None:
            started_at_first_return = started
    results[i] = (r.returncode, r.stdout, r.stderr)


ticker = threading.Thread(target=tick)
ticker.start()
threads = [threading.Thread(target=worker, args=(i,)) for i in range(N)]
for t in threads:
    t.start()
for t in threads:
    t.join()
stop.set()
ticker.join()
for i, (rc, out, err) in enumerate(results):
    print(i, rc, out.strip(), err.strip())
print("started when the first returned: %d of %d" % (started_at_first_return, N))
print("info: %d ticks" % ticks, file=sys.stderr)
print("ticker", "ticked" if ticks >= 5 else "stalled")
try:
    subprocess.run(["sh", "-c", "exit 3"], check=True)
except subprocess.CalledProcessError as e:
    print("check=True:", e.returncode)
try:
    subprocess.run(["/nonexistent/green-prog"])
except FileNotFoundError as e:
    print("exec failure:", e.errno)
