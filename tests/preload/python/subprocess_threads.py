"""subprocess.run from 8 threads at once, knowing nothing of green: each child waits at a gate
and prints a line, captured through pipes (communicate's poll loop and reads). The gate opens
once every run started and a ticker thread then moved 3 ticks, so every run has started before
the first one returns (serial waits would give 1) and the ticker moved while they waited (under
the preload a wait that held the hub would stop it, and the children would give up at the gate
with status 124). stdout must be the same natively and under the preload."""
import subprocess
import threading

from gate import Gate, Ticker

N = 8
lock = threading.Lock()
started = 0
started_at_first_return = None
results = [None] * N
ticker = Ticker()
gate = Gate()


def worker(i):
    global started, started_at_first_return
    with lock:
        started += 1
    cmd = gate.shell_wait + " && { echo out %d; echo err %d >&2; exit %d; }" % (i, i, i)
    r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, pass_fds=gate.fds)
    with lock:
        if started_at_first_return is None:
            started_at_first_return = started
    results[i] = (r.returncode, r.stdout, r.stderr)


threads = [threading.Thread(target=worker, args=(i,)) for i in range(N)]
for t in threads:
    t.start()
opener = gate.open_after(ticker, ready=lambda: started == N)
for t in threads:
    t.join()
opener.join()
gate.remove()
ticker.stop()
for i, (rc, out, err) in enumerate(results):
    print(i, rc, out.strip(), err.strip())
print("started when the first returned: %d of %d" % (started_at_first_return, N))
print("ticker", "ticked" if gate.ticked else "stalled")
try:
    subprocess.run(["sh", "-c", "exit 3"], check=True)
except subprocess.CalledProcessError as e:
    print("check=True:", e.returncode)
try:
    subprocess.run(["/nonexistent/green-prog"])
except FileNotFoundError as e:
    print("exec failure:", e.errno)
