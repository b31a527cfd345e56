#!/usr/bin/env python3
"""fake_mjpeg.py - an MJPEG camera over HTTP as ESP32-CAM boards serve it:
GET /sustain?video=1 answers multipart/x-mixed-replace with the firmware's
boundary, each part with a space-padded Content-Length, the whole body
chunked; GET /stream (older firmware) the same without chunking. Basic auth
(USER:PASSWORD) is asked for. Frames are the JPEG files given, looped at FPS.
Usage: fake_mjpeg.py PORT PORT_FILE USER PASSWORD FPS JPEG...  (PORT 0: any)
"""
import base64
import http.server
import sys
import time

PORT, PORT_FILE, USER, PASSWORD = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
FPS = float(sys.argv[5])
FRAMES = [open(f, 'rb').read() for f in sys.argv[6:]]
BOUNDARY = '123456789000000000000987654321'
AUTH = 'Basic ' + base64.b64encode(('%s:%s' % (USER, PASSWORD)).encode()).decode()


class Camera(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.headers.get('Authorization') != AUTH:
            self.send_response(401)
            self.send_header('WWW-Authenticate', 'Basic realm="esp32cam"')
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        chunked = self.path.startswith('/sustain')
        self.send_response(200)
        self.send_header('Content-Type', 'multipart/x-mixed-replace;boundary=' + BOUNDARY)
        if chunked:
            self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        i = 0
        try:
            while True:
                jpeg = FRAMES[i % len(FRAMES)]
                i += 1
                part = ('\r\n--%s\r\nContent-Type: image/jpeg\r\nContent-Length: %10u\r\n\r\n'
                        % (BOUNDARY, len(jpeg))).encode() + jpeg
                self.wfile.write(b'%x\r\n%s\r\n' % (len(part), part) if chunked else part)
                self.wfile.flush()
                time.sleep(1 / FPS)
        except OSError:
            pass


http.server.ThreadingHTTPServer.allow_reuse_address = True
server = http.server.ThreadingHTTPServer(('127.0.0.1', PORT), Camera)
open(PORT_FILE, 'w').write('%d\n' % server.server_address[1])
server.serve_forever()
