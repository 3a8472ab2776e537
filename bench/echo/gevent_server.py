# gevent baseline for the echo harness: gevent's StreamServer, one greenlet per connection.
# usage: python3 gevent_server.py HOST PORT
import sys

from gevent.server import StreamServer


def echo(sock, _addr):
    while True:
        data = sock.recv(4096)
        if not data:
            break
        sock.sendall(data)


StreamServer((sys.argv[1], int(sys.argv[2])), echo, backlog=4096).serve_forever()
