#!/usr/bin/env python3
"""fake_esp32.py - an ESP32-CAM board of the "Websocket surveillance server"
firmware, as its wire protocol is (docs/esp32.md): a WebSocket client that
connects to ws://HOST:PORT/ws, sends its status JSON as "#TIME|{...}", then
each frame as one binary message (JPEG + decimal board time) fragmented
into frames of at most 10 KiB, "#TIME|MotionStart"/"MotionEnd" and
"#TIME|key=value" texts; it writes every text the server sends to a file
and answers "status" with a full (fragmented) status. --bad KIND makes the
connection misbehave in one way. Prints "connected" and "closed CODE
REASON" to stderr."""
import argparse, base64, glob, hashlib, json, os, select, socket, struct, sys, time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

p = argparse.ArgumentParser()
p.add_argument("--url", default="ws://127.0.0.1:9090/ws")
p.add_argument("--host-name")
p.add_argument("--no-status", action="store_true")
p.add_argument("--jpegs", required=True)
p.add_argument("--fps", type=float, default=10)
p.add_argument("--seconds", type=float, default=0)
p.add_argument("--clock-offset", type=float, default=0)
p.add_argument("--fragment", type=int, default=10240)
p.add_argument("--motion-at", default="")
p.add_argument("--setting-at", action="append", default=[])
p.add_argument("--commands-out")
p.add_argument("--reconnect", action="store_true")
p.add_argument("--reconnect-delay", type=float, default=1)
p.add_argument("--drop-after", type=float, default=0)
p.add_argument("--bad", choices=["notjpeg", "huge", "nots", "wildts", "garbage", "stall", "slowloris"])
a = p.parse_args()

hostport = a.url.split("//", 1)[1].split("/", 1)[0]
HOST, PORT = hostport.rsplit(":", 1)
jpegs = [open(f, "rb").read() for f in sorted(glob.glob(os.path.join(a.jpegs, "*.jpg")))]
t_start = time.time()


def board_now():
    return int(time.time() + a.clock_offset)


def frame(op, data, fin=True):
    mask = os.urandom(4)
    n = len(data)
    head = bytes([(0x80 if fin else 0) | op])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(data)) if n < 4096 else \
        (int.from_bytes(data, "big") ^ (int.from_bytes((mask * (n // 4 + 1))[:n], "big"))).to_bytes(n, "big")
    return head + mask + body


class Closed(Exception):
    pass


class Board:
    def __init__(self):
        self.s = socket.create_connection((HOST, int(PORT)), timeout=10)
        key = base64.b64encode(os.urandom(16))
        self.s.sendall(b"GET /ws HTTP/1.1\r\nHost: " + hostport.encode() +
                       b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                       b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        resp = b""
        while b"\r\n\r\n" not in resp:
            d = self.s.recv(4096)
            if not d:
                raise Closed("refused: the server closed during the handshake")
            resp += d
        head, self.buf = resp.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise Closed("refused: " + head.split(b"\r\n")[0].decode())
        want = base64.b64encode(hashlib.sha1(key + GUID).digest())
        if want not in head:
            raise Closed("bad Sec-WebSocket-Accept")
        self.s.setblocking(False)
        self.partial = None
        print("connected", file=sys.stderr, flush=True)

    def send_raw(self, data):
        """Sends all of data, reading meanwhile: a server that closes while
        we send says why in a close frame we must not miss."""
        view = memoryview(data)
        while view:
            r, w, _ = select.select([self.s], [self.s], [], 30)
            if r:
                self.poll()
            if w:
                try:
                    n = self.s.send(view)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as e:
                    self.poll()
                    raise Closed(f"send: {e}")
                view = view[n:]
            if not r and not w:
                raise Closed("send: timed out")

    def send(self, op, data):
        self.send_raw(frame(op, data))

    def send_fragmented(self, op, data, pause=0):
        parts = [data[i:i + a.fragment] for i in range(0, len(data), a.fragment)] or [b""]
        for i, part in enumerate(parts):
            self.send_raw(frame(op if i == 0 else 0, part, i == len(parts) - 1))
            if pause:
                time.sleep(pause)
                self.poll()

    def text(self, payload):
        self.send(1, f"#{board_now()}|{payload}".encode())

    def status(self, full=False):
        st = {"hostName": a.host_name, "framesize": "9", "fps": "10",
              "clockUTC": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(board_now())),
              "clock": time.strftime("%H:%M:%S", time.localtime(board_now())),
              "up_time": "0-00:01:00", "free_heap": "120 KB", "wifi_rssi": -60,
              "fw_version": "fake", "camModel": "OV2640", "llevel": 0, "night": "No"}
        if full:
            st["padding"] = "x" * 12000     # a full status is > 10 KiB: fragmented
        self.send_fragmented(1, f"#{board_now()}|{json.dumps(st)}".encode())

    def poll(self):
        """Reads what the server sent: texts to --commands-out, pings
        answered, a close raises."""
        eof = False
        try:
            while not eof:
                d = self.s.recv(65536)
                eof = not d
                self.buf += d
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as e:
            if not self.buf:
                raise Closed(f"recv: {e}")
        while len(self.buf) >= 2:
            b0, b1 = self.buf[0], self.buf[1]
            n, off = b1 & 0x7f, 2
            if n == 126:
                if len(self.buf) < 4:
                    return
                n, off = struct.unpack(">H", self.buf[2:4])[0], 4
            elif n == 127:
                if len(self.buf) < 10:
                    return
                n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
            if len(self.buf) < off + n:
                return
            data, self.buf = self.buf[off:off + n], self.buf[off + n:]
            op = b0 & 0x0f
            if op == 8:
                code = struct.unpack(">H", data[:2])[0] if len(data) >= 2 else 0
                raise Closed(f"closed {code} {data[2:].decode(errors='replace')}")
            if op == 9:
                self.send(10, data)
            elif op == 1:
                if a.commands_out:
                    with open(a.commands_out, "ab") as f:
                        f.write(data + b"\n")
                if data == b"status":
                    self.status(full=True)
        if eof:
            raise Closed("closed (no close frame)")


def session():
    b = Board()
    t0 = time.time()
    if not a.no_status:
        b.status()
    motions = [float(x) for x in a.motion_at.split(",") if x]
    settings = [(float(s.split(":", 1)[0]), s.split(":", 1)[1]) for s in a.setting_at]
    if a.bad == "garbage":
        b.send(1, b"hello there")
        # A frame sent after the server closed would be answered with a
        # reset, which can drop its close frame before we read it.
        for _ in range(20):
            time.sleep(0.1)
            b.poll()
    if a.bad == "huge":
        b.send_fragmented(2, b"\xff\xd8" + b"\0" * (8 << 20))
    if a.bad == "slowloris":
        b.send_fragmented(2, jpegs[0] * 4, pause=3)
    i = 0
    while not a.seconds or time.time() - t_start < a.seconds:
        el = time.time() - t_start
        b.poll()
        if a.drop_after and time.time() - t0 > a.drop_after:
            b.s.close()
            raise Closed("dropped by the board")
        for m in list(motions):     # m < 0: a MotionEnd due at -m
            if m < 0 and el >= -m:
                b.text("MotionEnd")
                motions.remove(m)
            elif m >= 0 and el >= m:
                b.text("MotionStart")
                motions.remove(m)
                motions.append(-(m + 3))
        for s in list(settings):
            if el >= s[0]:
                b.text(s[1])
                settings.remove(s)
        if a.bad != "stall":
            jpg = jpegs[i % len(jpegs)]
            if a.bad == "notjpeg":
                jpg = b"RGB565" + jpg[2:]
            stamp = b"" if a.bad == "nots" else b"1000000000" if a.bad == "wildts" else str(board_now()).encode()
            b.send_fragmented(2, jpg + stamp)
            i += 1
        time.sleep(1 / a.fps)
    b.s.close()
    return i


while True:
    try:
        n = session()
        print(f"sent {n} frames", file=sys.stderr, flush=True)
        sys.exit(0)
    except (Closed, OSError) as e:
        print(str(e), file=sys.stderr, flush=True)
        if not a.reconnect or (a.seconds and time.time() - t_start >= a.seconds):
            sys.exit(3)
        if a.drop_after:
            a.drop_after = 0     # once
        time.sleep(a.reconnect_delay)
