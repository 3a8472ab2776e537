"""subprocess from threads, knowing nothing of green: three children waited for with
Popen.wait (waitpid on one pid) and subprocess.run, while a ticker thread sleeps 20 ms at a
time. Natively the ticker is never held up; under the preload the waits must park only the
waiting thread. stdout must be the same both ways; "info:" lines on stderr carry timings."""
import subprocess
import sys
import threading
import time

gaps = []
stop = threading.Event()


def tick():
    last = time.monotonic()
    while not stop.is_set():
        time.sleep(0.02)
        now = time.monotonic()
        gaps.append(now - last)
        last = now


ticker = threading.Thread(target=tick)
ticker.start()
children = [subprocess.Popen(["sleep", "0.3"]) for _ in range(3)]
print("wait:", [p.wait() for p in children])
print("run:", subprocess.run(["sh", "-c", "sleep 0.2; exit 3"]).returncode)
stop.set()
ticker.join()
print("info: ticker max gap %.0f ms" % (max(gaps) * 1000), file=sys.stderr)
print("ticker", "ok" if max(gaps) < 0.15 else "held up")
