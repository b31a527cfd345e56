#!/usr/bin/python3
# ws_live.py - a /ws/live client for http_ws.sh (Debian's python3-websockets):
# follows the cameras named for SECONDS and writes each camera's messages,
# joined, to OUTDIR/<camera>.mp4; checks every binary message is one whole
# unit (ftyp+moov, or one fragment: [prft] moof mdat) tagged with a camera it asked for.
#   ws_live.py URL SECONDS OUTDIR CAMERA...      exit 0 when all is well
#   ws_live.py --expect-refused URL [HEADER=VALUE...]
import asyncio
import struct
import sys

import websockets


def boxes(data):
    """The top-level box types of data, which must be whole boxes."""
    types, off = [], 0
    while off < len(data):
        if off + 8 > len(data):
            raise ValueError('a box header is cut at %d of %d' % (off, len(data)))
        size, kind = struct.unpack('>I4s', data[off:off + 8])
        if size == 1:
            size = struct.unpack('>Q', data[off + 8:off + 16])[0]
        if size < 8 or off + size > len(data):
            raise ValueError('box %r of %d bytes at %d overruns %d' % (kind, size, off, len(data)))
        types.append(kind.decode('latin-1'))
        off += size
    return types


async def follow(url, seconds, outdir, cameras):
    got = {c: bytearray() for c in cameras}
    units = {c: 0 for c in cameras}
    async with websockets.connect(url, max_size=None, compression=None) as ws:
        await ws.send('{"cameras": [%s]}' % ', '.join('"%s"' % c for c in cameras))
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            try:
                msg = await asyncio.wait_for(ws.recv(), end - loop.time())
            except asyncio.TimeoutError:
                break
            if isinstance(msg, str):
                continue
            n = msg[0]
            cam = msg[1:1 + n].decode()
            payload = msg[1 + n:]
            if cam not in got:
                raise ValueError('a message of camera %r, not asked for' % cam)
            kinds = boxes(payload)
            first = units[cam] == 0
            if first and kinds[:2] != ['ftyp', 'moov']:
                raise ValueError('%s: the first message is %s, not ftyp+moov' % (cam, kinds))
            # A fragment may carry a prft (producer time) before its moof.
            if not first and (kinds[-2:] != ['moof', 'mdat'] or 'mdat' in kinds[:-1]):
                raise ValueError('%s: a message of %s, not one fragment' % (cam, kinds))
            got[cam] += payload
            units[cam] += 1
    for cam in cameras:
        with open('%s/%s.mp4' % (outdir, cam), 'wb') as f:
            f.write(got[cam])
        print('%s %d messages %d bytes' % (cam, units[cam], len(got[cam])))
        if units[cam] < 10:
            raise ValueError('%s: only %d messages' % (cam, units[cam]))


async def refused(url, headers):
    try:
        async with websockets.connect(url, extra_headers=headers) as ws:
            await ws.send('{"cameras": []}')
            await asyncio.wait_for(ws.recv(), 2)
    except websockets.exceptions.InvalidStatusCode as e:
        print('refused: %d' % e.status_code)
        return
    except Exception as e:   # closed at once: refused as well
        print('refused: %s' % type(e).__name__)
        return
    raise SystemExit('not refused')


if sys.argv[1] == '--expect-refused':
    asyncio.run(refused(sys.argv[2], [tuple(h.split('=', 1)) for h in sys.argv[3:]]))
else:
    asyncio.run(follow(sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4:]))
