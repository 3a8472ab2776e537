"""A threaded TLS program that knows nothing of green, run natively and under the preload: a
threaded server whose connections wait 400 ms before their handshake, and 10 client threads
using CPython's ssl (OpenSSL on blocking sockets). Under greenrun the threads are fibers, and
their handshakes must still overlap: about one delay in all, not ten. stdout must be the same
both ways; "info:" lines on stderr report OS threads and time."""
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

CLIENTS = 10
DELAY = 0.4


def os_threads():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


def make_certificate(directory):
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days",
                    "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def serve(listener, ctx, stop):
    def handle(conn):
        with conn:
            time.sleep(DELAY)  # a slow server: the client's handshake waits in recv
            with ctx.wrap_socket(conn, server_side=True) as tls:
                line = tls.recv(100)
                tls.sendall(line.upper())

    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def main():
    with tempfile.TemporaryDirectory() as directory:
        cert, key = make_certificate(directory)
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(cert, key)
        client_ctx = ssl.create_default_context(cafile=cert)

        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        port = listener.getsockname()[1]
        stop = threading.Event()
        server = threading.Thread(target=serve, args=(listener, server_ctx, stop), daemon=True)
        server.start()

        replies = [None] * CLIENTS
        peak = [0]

        def client(i):
            with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
                with client_ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                    peak[0] = max(peak[0], os_threads())
                    tls.sendall(b"hello from client %d" % i)
                    replies[i] = "%s %s" % (tls.version(), tls.recv(100).decode())

        t0 = time.monotonic()
        clients = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        elapsed = time.monotonic() - t0
        for r in replies:
            print(r)
        stop.set()
        listener.close()
        print("info: os_threads=%d" % max(peak[0], os_threads()), file=sys.stderr)
        print("info: elapsed_ms=%d" % (elapsed * 1000), file=sys.stderr)


if __name__ == "__main__":
    main()
