"""A threading program that knows nothing of green, run natively and under the preload: a
threaded socket server with 200 threaded clients, a threading.Lock counter, threading.Event
with timeouts and a queue.Queue pipeline. stdout must be the same both ways; "info:" lines on
stderr report OS threads and time."""
import queue
import socket
import socketserver
import sys
import threading
import time

CLIENTS = 200


def os_threads():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(4096)
            if not data:
                return
            self.request.sendall(data)


class Server(socketserver.ThreadingTCPServer):
    request_queue_size = 1024  # every client connects before any is served


def echo_section():
    server = Server(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    serving.start()
    port = server.server_address[1]
    connected = threading.Barrier(CLIENTS + 1)
    results = [None] * CLIENTS

    def client(i):
        with socket.create_connection(("127.0.0.1", port)) as s:
            connected.wait()
            msg = ("client %d says hello" % i).encode()
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                got += s.recv(4096)
            results[i] = got == msg

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    connected.wait()
    print("info: os_threads=%d" % os_threads(), file=sys.stderr)
    for t in threads:
        t.join()
    server.shutdown()
    server.server_close()
    serving.join()
    print("echo clients ok: %d/%d" % (sum(1 for r in results if r), CLIENTS))


def lock_section():
    lock = threading.Lock()
    counter = [0]

    def work():
        for _ in range(200):
            with lock:
                v = counter[0]
                time.sleep(0)
                counter[0] = v + 1

    threads = [threading.Thread(target=work) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("lock counter: %d" % counter[0])


def event_section():
    ev = threading.Event()
    t0 = time.monotonic()
    first = ev.wait(0.1)
    waited = time.monotonic() - t0
    setter = threading.Timer(0.05, ev.set)
    setter.start()
    second = ev.wait(5)
    setter.join()
    print("event: timed out first: %s (>= 0.1 s: %s), then set: %s"
          % (not first, waited >= 0.09, second))


def queue_section():
    q = queue.Queue(maxsize=5)
    out = queue.Queue()

    def produce(base):
        for i in range(100):
            q.put(base + i)
        q.put(None)

    def consume():
        total = 0
        while True:
            try:
                item = q.get(timeout=5)
            except queue.Empty:
                break
            if item is None:
                break
            total += item
        out.put(total)

    producers = [threading.Thread(target=produce, args=(k * 1000,)) for k in range(3)]
    consumers = [threading.Thread(target=consume) for _ in range(3)]
    for t in producers + consumers:
        t.start()
    for t in producers + consumers:
        t.join()
    total = sum(out.get() for _ in range(3))
    print("queue total: %d" % total)


def main():
    t0 = time.monotonic()
    echo_section()
    lock_section()
    event_section()
    queue_section()
    print("info: elapsed_ms=%d" % ((time.monotonic() - t0) * 1000), file=sys.stderr)


if __name__ == "__main__":
    main()
