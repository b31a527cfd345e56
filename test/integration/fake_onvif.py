#!/usr/bin/env python3
"""fake_onvif.py - the devices discover.sh finds, run inside a network
namespace of its own (multicast stays there):
- an ONVIF camera: answers WS-Discovery probes; its device and media
  services answer GetCapabilities, GetProfiles and GetStreamUri, only with a
  WS-UsernameToken whose digest matches admin/secret (else a NotAuthorized
  fault); its stream URIs carry a password camfs must not print;
- hostile and broken devices: a probe answer that is not XML, one whose
  XAddr is file://, one with user:password in it, one whose service never
  answers, and one that answers 5 MiB;
- an SSDP device that says it is an ESP32-CAM.
Usage: fake_onvif.py READY_FILE
"""
import base64
import hashlib
import http.server
import re
import socket
import struct
import sys
import threading
import time

GROUP = '239.255.255.250'
USER, PASSWORD = 'admin', 'secret'


def listen_group(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('', port))
    mreq = struct.pack('4s4s', socket.inet_aton(GROUP), socket.inet_aton('127.0.0.1'))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    return s


def http_server(handler):
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


def envelope(body):
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"'
            ' xmlns:tds="http://www.onvif.org/ver10/device/wsdl"'
            ' xmlns:trt="http://www.onvif.org/ver10/media/wsdl"'
            ' xmlns:tt="http://www.onvif.org/ver10/schema"><env:Body>%s</env:Body></env:Envelope>'
            % body).encode()


FAULT = envelope('<env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode>'
                 '<env:Value>ter:NotAuthorized</env:Value></env:Subcode></env:Code>'
                 '<env:Reason><env:Text xml:lang="en">Sender not authorized</env:Text></env:Reason>'
                 '</env:Fault>')


def authorized(body):
    """The UsernameToken digest: Base64(SHA-1(nonce + created + password))."""
    def field(name):
        m = re.search(r'<(?:\w+:)?%s\b[^>]*>([^<]*)</' % name, body)
        return m.group(1) if m else None
    user, digest, nonce, created = field('Username'), field('Password'), field('Nonce'), field('Created')
    if user != USER or not digest or not nonce or not created:
        return False
    want = base64.b64encode(hashlib.sha1(base64.b64decode(nonce) + created.encode()
                                         + PASSWORD.encode()).digest()).decode()
    return digest == want


class Camera(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, data):
        self.send_response(status)
        self.send_header('Content-Type', 'application/soap+xml; charset=utf-8')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0))).decode()
        port = self.server.server_address[1]
        if not authorized(body):
            self.answer(400, FAULT)
        elif 'GetCapabilities' in body:
            self.answer(200, envelope(
                '<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media>'
                '<tt:XAddr>http://127.0.0.1:%d/onvif/media</tt:XAddr></tt:Media>'
                '</tds:Capabilities></tds:GetCapabilitiesResponse>' % port))
        elif 'GetProfiles' in body and self.path == '/onvif/media':
            profile = ('<trt:Profiles token="%s" fixed="true"><tt:Name>%s</tt:Name>'
                       '<tt:VideoEncoderConfiguration token="v%s"><tt:Name>v</tt:Name>'
                       '<tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>%d</tt:Width>'
                       '<tt:Height>%d</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration>'
                       '</trt:Profiles>')
            self.answer(200, envelope('<trt:GetProfilesResponse>%s%s</trt:GetProfilesResponse>' % (
                profile % ('prof_sub', 'sub', 's', 640, 360),
                profile % ('prof_main', 'main', 'm', 1920, 1080))))
        elif 'GetStreamUri' in body and self.path == '/onvif/media':
            channel = 101 if 'prof_main' in body else 102
            self.answer(200, envelope(
                '<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>'
                'rtsp://admin:leakedpw@127.0.0.1:554/Streaming/Channels/%d</tt:Uri>'
                '</trt:MediaUri></trt:GetStreamUriResponse>' % channel))
        else:
            self.answer(400, envelope('<env:Fault><env:Code><env:Value>env:Sender</env:Value>'
                                      '</env:Code></env:Fault>'))


class Huge(Camera):
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        self.send_response(200)
        self.send_header('Content-Length', str(5 << 20))
        self.end_headers()
        try:
            for _ in range(80):
                self.wfile.write(b'<a>' * 21846)
        except OSError:
            pass


def probe_match(xaddr, scopes):
    return envelope(
        '<d:ProbeMatches xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">'
        '<d:ProbeMatch><d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>%s</d:Scopes>'
        '<d:XAddrs>%s</d:XAddrs></d:ProbeMatch></d:ProbeMatches>' % (scopes, xaddr))


def main():
    camera = http_server(Camera)
    huge = http_server(Huge)
    silent = socket.socket()
    silent.bind(('127.0.0.1', 0))
    silent.listen(8)   # accepts, never answers
    answers = [
        probe_match('http://127.0.0.1:%d/onvif/device_service' % camera,
                    'onvif://www.onvif.org/name/Front%20Door onvif://www.onvif.org/hardware/FakeCam'),
        probe_match('http://127.0.0.1:%d/onvif/device_service' % silent.getsockname()[1],
                    'onvif://www.onvif.org/name/Silent'),
        probe_match('http://127.0.0.1:%d/onvif/device_service' % huge,
                    'onvif://www.onvif.org/name/Huge'),
        probe_match('file:///etc/shadow', 'onvif://www.onvif.org/name/Hostile'),
        probe_match('http://root:toor@127.0.0.1:9/x', 'onvif://www.onvif.org/name/Userinfo'),
        b'<not xml at all',
    ]
    wsd, ssdp = listen_group(3702), listen_group(1900)

    def wsd_loop():
        while True:
            data, peer = wsd.recvfrom(65536)
            if b'NetworkVideoTransmitter' in data:
                for a in answers:
                    wsd.sendto(a, peer)

    def ssdp_loop():
        while True:
            data, peer = ssdp.recvfrom(65536)
            if data.startswith(b'M-SEARCH'):
                ssdp.sendto(b'HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\n'
                            b'LOCATION: http://127.0.0.1:80/description.xml\r\n'
                            b'SERVER: Arduino/1.0 UPnP/1.0 ESP32-CAM/2.0\r\n'
                            b'ST: upnp:rootdevice\r\nUSN: uuid:38323636-4558-4dda-9188-cda0e6aabbcc\r\n\r\n',
                            peer)

    threading.Thread(target=wsd_loop, daemon=True).start()
    threading.Thread(target=ssdp_loop, daemon=True).start()
    open(sys.argv[1], 'w').write('ready\n')
    while True:
        time.sleep(3600)


main()
