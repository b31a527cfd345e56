// mp4.js - the few MP4 facts the live player needs: top-level boxes of a
// live.mp4 byte stream cut into appendable units, the codec string of an
// init segment, and each fragment's wall clock (prft).

const NTP_UNIX = 2208988800;

function type(b, at) {
  return String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
}

function u32(b, at) {
  return ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
}

function u64(b, at) {
  return u32(b, at) * 4294967296 + u32(b, at + 4);
}

// Cuts a byte stream into units: an init segment (up to and with moov) or a
// fragment (up to and with mdat), as SourceBuffer.appendBuffer wants them.
// A streamed fetch hands out arbitrary chunks; a /ws/live message is
// already one unit, and goes through the same cut.
export class BoxSplitter {
  constructor(onUnit) {
    this.onUnit = onUnit;
    this.buf = new Uint8Array(0);   // the unit being gathered
    this.pos = 0;                   // where its next box starts
  }

  push(chunk) {
    if (this.buf.length === 0) {
      this.buf = chunk;
    } else {
      const joined = new Uint8Array(this.buf.length + chunk.length);
      joined.set(this.buf);
      joined.set(chunk, this.buf.length);
      this.buf = joined;
    }
    while (this.buf.length - this.pos >= 8) {
      let size = u32(this.buf, this.pos);
      const t = type(this.buf, this.pos + 4);
      if (size === 1) {
        if (this.buf.length - this.pos < 16)
          break;
        size = u64(this.buf, this.pos + 8);
      }
      if (size < 8)
        throw new Error(`bad MP4 box ${t} of ${size} bytes`);
      if (this.buf.length - this.pos < size)
        break;
      this.pos += size;
      if (t === 'moov' || t === 'mdat') {
        this.onUnit(this.buf.slice(0, this.pos), t === 'moov');
        this.buf = this.buf.subarray(this.pos);
        this.pos = 0;
      }
    }
  }
}

// Walks the boxes of b[from, to), calling fn(type, bodyStart, end).
function walk(b, from, to, fn) {
  for (let at = from; at + 8 <= to;) {
    let size = u32(b, at);
    let head = 8;
    if (size === 1) {
      size = u64(b, at + 8);
      head = 16;
    } else if (size === 0) {
      size = to - at;
    }
    if (size < head || at + size > to)
      return;
    if (fn(type(b, at + 4), at + head, at + size) === false)
      return;
    at += size;
  }
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts']);

function hex2(n) {
  return n.toString(16).padStart(2, '0').toUpperCase();
}

// What an init segment holds: {codecs: 'avc1.64001F,mp4a.40.2', video:
// 'h264'|'h265'|'mjpeg'|..., timescales: {trackId: timescale}}.
export function parseInit(b) {
  const codecs = [];
  const timescales = {};
  let video = null;
  let trackId = 0;
  const visit = (from, to) => walk(b, from, to, (t, body, end) => {
    if (CONTAINERS.has(t)) {
      visit(body, end);
    } else if (t === 'tkhd') {
      trackId = u32(b, body + (b[body] === 1 ? 20 : 12));
    } else if (t === 'mdhd') {
      timescales[trackId] = u32(b, body + (b[body] === 1 ? 20 : 12));
    } else if (t === 'stsd') {
      // stsd: fullbox, entry count, then sample entries.
      walk(b, body + 8, end, (entry, ebody, eend) => {
        if (entry === 'avc1' || entry === 'avc3') {
          video = 'h264';
          let c = `${entry}.42E01E`;
          // Visual sample entry: 78 bytes before its child boxes.
          walk(b, ebody + 78, eend, (ct, cb) => {
            if (ct === 'avcC')
              c = `${entry}.${hex2(b[cb + 1])}${hex2(b[cb + 2])}${hex2(b[cb + 3])}`;
          });
          codecs.push(c);
        } else if (entry === 'hvc1' || entry === 'hev1') {
          video = 'h265';
          let c = `${entry}.1.6.L93.B0`;
          walk(b, ebody + 78, eend, (ct, cb) => {
            if (ct !== 'hvcC')
              return;
            const space = ['', 'A', 'B', 'C'][b[cb + 1] >> 6];
            const profile = b[cb + 1] & 0x1f;
            const tier = (b[cb + 1] & 0x20) ? 'H' : 'L';
            let compat = u32(b, cb + 2);
            let rev = 0;
            for (let i = 0; i < 32; i++, compat >>>= 1)
              rev = (rev << 1) | (compat & 1);
            c = `${entry}.${space}${profile}.${(rev >>> 0).toString(16)}.${tier}${b[cb + 12]}.B0`;
          });
          codecs.push(c);
        } else if (entry === 'mp4v') {
          // What camfs records in mp4v is MJPEG (ESP32-CAM boards): no
          // MSE codec; the tile shows JPEGs.
          video = 'mjpeg';
        } else if (entry === 'mp4a') {
          codecs.push('mp4a.40.2');
        } else if (entry === 'Opus') {
          codecs.push('opus');
        } else if (entry === 'vp09' || entry === 'av01') {
          video = entry;
          codecs.push(entry === 'vp09' ? 'vp09.00.10.08' : 'av01.0.04M.08');
        }
      });
    }
  });
  visit(0, b.length);
  return { codecs: codecs.join(','), video, timescales };
}

// A fragment's prft: {wallMs, media} (media time in seconds), or null.
export function parsePrft(b, timescales) {
  let out = null;
  walk(b, 0, b.length, (t, body) => {
    if (t === 'moof' || t === 'mdat')
      return false;
    if (t !== 'prft')
      return true;
    const version = b[body];
    const track = u32(b, body + 4);
    const secs = u32(b, body + 8);
    const frac = u32(b, body + 12);
    const media = version === 0 ? u32(b, body + 16) : u64(b, body + 16);
    const scale = timescales[track] || 90000;
    if (secs > NTP_UNIX)
      out = { wallMs: (secs - NTP_UNIX) * 1000 + frac / 4294967.296, media: media / scale };
    return false;
  });
  return out;
}
