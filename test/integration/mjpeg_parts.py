#!/usr/bin/env python3
"""mjpeg_parts.py FILE [JPEG...] - the parts of a live.mjpeg response saved
in FILE that came whole (the last may be cut short): each must be a JPEG (SOI
to EOI) and, when JPEG files are given, one of them byte for byte. Prints how
many there are; fails when there is none."""
import sys

own = {open(f, 'rb').read() for f in sys.argv[2:]}
n = 0
for part in open(sys.argv[1], 'rb').read().split(b'--camfsframe\r\n')[1:]:
    head, sep, body = part.partition(b'\r\n\r\n')
    if not sep:
        continue   # cut short in its head
    size = int([l for l in head.split(b'\r\n') if l.lower().startswith(b'content-length')][0].split(b':')[1])
    if len(body) < size:
        continue   # cut short
    jpeg = body[:size]
    if jpeg[:2] != b'\xff\xd8' or jpeg[-2:] != b'\xff\xd9':
        sys.exit('part %d is not a JPEG' % n)
    if own and jpeg not in own:
        sys.exit("part %d is not one of the camera's JPEGs" % n)
    n += 1
if n == 0:
    sys.exit('no whole part')
print(n)
