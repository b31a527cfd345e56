#!/usr/bin/env python3
"""idle_client.py PORT MODE - a client that holds an HTTP connection open
without asking for anything, and prints how many seconds passed before the
server closed it:
  silent  connects and sends nothing
  slow    sends a request's headers a byte every half second (slowloris)
  idle    asks for / once, reads the answer, then keeps the connection open
Gives up (exit 1) after 60 s."""
import socket
import sys
import time

port, mode = int(sys.argv[1]), sys.argv[2]
sock = socket.create_connection(("127.0.0.1", port))
sock.settimeout(0.5)
if mode == "idle":
    sock.sendall(b"GET / HTTP/1.1\r\nHost: camfs\r\n\r\n")
    if not sock.recv(65536).startswith(b"HTTP/1.1 200"):
        sys.exit("idle: the first request was not answered 200")
request = b"GET / HTTP/1.1\r\nHost: camfs\r\nX-Slow: " + b"a" * 1000 + b"\r\n\r\n"
start, sent = time.monotonic(), 0
while time.monotonic() - start < 60:
    try:
        if mode == "slow":
            sock.send(request[sent:sent + 1])
            sent += 1
        data = sock.recv(65536)
    except socket.timeout:
        continue
    except (BrokenPipeError, ConnectionResetError):
        data = b""
    if data == b"" or mode != "idle":
        # Closed, or answered (lws may say 408 first): the connection's end.
        print("%.1f" % (time.monotonic() - start))
        sys.exit(0)
sys.exit("still open after 60 s")
