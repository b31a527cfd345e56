#!/usr/bin/env python3
"""segment_walls.py - the wall clock of a recorded segment's frames, read the
way camfs reads it: each fragment's prft box gives the wall time of the
fragment's first sample, and the samples after it follow at their own
durations. The prft of every fragment is the recorder's clock at that
moment, so it may differ by a few ms from the first prft plus media time.

  segment_walls.py first SEGMENT         wall (Unix s) of its first frame
  segment_walls.py first-at SEGMENT T    index of its first frame at or
                                         after wall time T (decode order)
"""
import struct
import sys

NTP_UNIX = 2208988800


def boxes(data, off, end):
    """(type, body start, box end) of the boxes in data[off:end]."""
    while off + 8 <= end:
        size, kind = struct.unpack('>I4s', data[off:off + 8])
        head = 8
        if size == 1:
            size = struct.unpack('>Q', data[off + 8:off + 16])[0]
            head = 16
        elif size == 0:
            size = end - off
        if size < head or off + size > end:
            return
        yield kind, off + head, off + size
        off += size


def child(data, start, end, kind):
    return next(((s, e) for k, s, e in boxes(data, start, end) if k == kind), None)


def ntp_seconds(data, at):
    ntp = struct.unpack('>Q', data[at:at + 8])[0]
    return (ntp >> 32) - NTP_UNIX + (ntp & 0xffffffff) / 2**32


def video_track(data, moov):
    """(track id, timescale, default sample duration) of the video track."""
    trex = {}
    mvex = child(data, *moov, b'mvex')
    for kind, s, e in boxes(data, *mvex) if mvex else ():
        if kind == b'trex':
            tid, _, dur = struct.unpack('>III', data[s + 4:s + 16])
            trex[tid] = dur
    for kind, s, e in boxes(data, *moov):
        if kind != b'trak':
            continue
        tkhd = child(data, s, e, b'tkhd')[0]
        tid = struct.unpack('>I', data[tkhd + (12 if data[tkhd] == 0 else 20):][:4])[0]
        mdia = child(data, s, e, b'mdia')
        hdlr = child(data, *mdia, b'hdlr')
        if data[hdlr[0] + 8:hdlr[0] + 12] != b'vide':
            continue
        mdhd = child(data, *mdia, b'mdhd')
        v = data[mdhd[0]]
        scale = struct.unpack('>I', data[mdhd[0] + (12 if v == 0 else 20):][:4])[0]
        return tid, scale, trex.get(tid, 0)
    sys.exit('no video track')


def frame_walls(path):
    """Wall clock (s) of each video sample of the segment, in decode order."""
    data = open(path, 'rb').read()
    top = list(boxes(data, 0, len(data)))
    moov = next(((s, e) for k, s, e in top if k == b'moov'), None)
    if not moov:
        sys.exit(path + ': no moov')
    tid, scale, trex_dur = video_track(data, moov)
    walls, prft = [], None
    for kind, s, e in top:
        if kind == b'prft':
            prft = ntp_seconds(data, s + 8)
        if kind != b'moof':
            continue
        if prft is None:
            sys.exit(path + ': a fragment without prft')
        for k, ts, te in boxes(data, s, e):
            if k != b'traf':
                continue
            tfhd = child(data, ts, te, b'tfhd')
            flags = struct.unpack('>I', data[tfhd[0]:tfhd[0] + 4])[0] & 0xffffff
            if struct.unpack('>I', data[tfhd[0] + 4:tfhd[0] + 8])[0] != tid:
                continue
            at = tfhd[0] + 8 + (8 if flags & 1 else 0) + (4 if flags & 2 else 0)
            default = struct.unpack('>I', data[at:at + 4])[0] if flags & 8 else trex_dur
            t = 0
            for rk, rs, _ in boxes(data, ts, te):
                if rk != b'trun':
                    continue
                rflags = struct.unpack('>I', data[rs:rs + 4])[0] & 0xffffff
                n = struct.unpack('>I', data[rs + 4:rs + 8])[0]
                at = rs + 8 + (4 if rflags & 1 else 0) + (4 if rflags & 4 else 0)
                per = sum(4 for bit in (0x100, 0x200, 0x400, 0x800) if rflags & bit)
                for i in range(n):
                    walls.append(prft + t / scale)
                    dur = struct.unpack('>I', data[at:at + 4])[0] if rflags & 0x100 else default
                    t += dur
                    at += per
        prft = None
    return walls


if __name__ == '__main__':
    what, path = sys.argv[1], sys.argv[2]
    walls = frame_walls(path)
    if what == 'first':
        print('%.6f' % walls[0])
    elif what == 'first-at':
        start = float(sys.argv[3])
        # camfs rounds prft to the µs; compare at that precision.
        print(next(i for i, w in enumerate(walls) if round(w * 1e6) >= round(start * 1e6)))
    else:
        sys.exit(__doc__)
