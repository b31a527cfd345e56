// mp4.js - the few MP4 facts the players need: top-level boxes of a
// live.mp4 byte stream cut into appendable units, the codec string of an
// init segment, each fragment's wall clock (prft), and a clip's video
// samples (where each frame is and when) for the MJPEG player.

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

// Walks the boxes of b[from, to), calling fn(type, bodyStart, end, at).
// partial: the last box may reach past to (only its header is in b).
function walk(b, from, to, fn, partial = false) {
  for (let at = from; at + 8 <= to;) {
    let size = u32(b, at);
    let head = 8;
    if (size === 1) {
      if (at + 16 > to)
        return;
      size = u64(b, at + 8);
      head = 16;
    } else if (size === 0 && !partial) {
      size = to - at;
    }
    if (size < head || (at + size > to && !partial))
      return;
    if (fn(type(b, at + 4), at + head, at + size, at) === false || at + size > to)
      return;
    at += size;
  }
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts']);

function dec2(n) {
  return String(n).padStart(2, '0');
}

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
        } else if (entry === 'vp09') {
          // A browser camera's VP9: vp09.profile.level.bitdepth, from vpcC.
          video = 'vp9';
          let c = 'vp09.00.10.08';
          walk(b, ebody + 78, eend, (ct, cb, cend) => {
            if (ct === 'vpcC' && cend - cb >= 7)
              c = `vp09.${dec2(b[cb + 4])}.${dec2(b[cb + 5])}.${dec2(b[cb + 6] >> 4)}`;
          });
          codecs.push(c);
        } else if (entry === 'av01') {
          video = entry;
          codecs.push('av01.0.04M.08');
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

// The top-level boxes of b: [{type, at, size}]; the last one may reach
// past b's end (only its header was read).
export function topBoxes(b) {
  const out = [];
  walk(b, 0, b.length, (t, body, end, at) => { out.push({ type: t, at, size: end - at }); }, true);
  return out;
}

// The samples of the first video track of a progressive MP4's moov (b
// holds the moov box): {video, width, height, times, offsets, sizes,
// duration}, times in seconds of presentation (after the edit list), in
// decode order. No ctts: what this is for (MJPEG) has no reordering.
export function parseSamples(b) {
  let movieScale = 1000, track = null;
  walk(b, 0, b.length, (t, body, end) => {
    if (t !== 'moov')
      return true;
    walk(b, body, end, (tt, tb, te) => {
      if (tt === 'mvhd')
        movieScale = u32(b, tb + (b[tb] === 1 ? 20 : 12));
      else if (tt === 'trak' && !track)
        track = trakBoxes(b, tb, te);
    });
    return false;
  });
  if (!track)
    throw new Error('no video track');
  const { video } = parseInit(b);
  const { mdhd, stsd, stts, stsc, stsz, stco, co64, elst } = track;
  const scale = u32(b, mdhd + (b[mdhd] === 1 ? 20 : 12));
  // The first sample entry is a visual one: width and height 24 bytes in.
  const entry = stsd + 8 + 8;
  const width = (b[entry + 24] << 8) | b[entry + 25], height = (b[entry + 26] << 8) | b[entry + 27];

  const n = u32(b, stsz + 8), fixed = u32(b, stsz + 4);
  const sizes = new Uint32Array(n);
  for (let i = 0; i < n; i++)
    sizes[i] = fixed || u32(b, stsz + 12 + 4 * i);

  // Chunks (stco/co64) hold runs of samples (stsc) laid end to end.
  const offsets = new Float64Array(n);
  const co = co64 ?? stco, nChunks = u32(b, co + 4);
  const nRuns = u32(b, stsc + 4);
  for (let c = 0, s = 0, run = 0; c < nChunks && s < n; c++) {
    while (run + 1 < nRuns && u32(b, stsc + 8 + 12 * (run + 1)) <= c + 1)
      run++;
    let off = co64 ? u64(b, co + 8 + 8 * c) : u32(b, co + 8 + 4 * c);
    for (let k = u32(b, stsc + 8 + 12 * run + 4); k > 0 && s < n; k--, s++) {
      offsets[s] = off;
      off += sizes[s];
    }
  }

  // The edit list: empty edits delay the start; the first real one says
  // which media time is shown at it (a clip starts on its frame) and how
  // long the track lasts.
  let delay = 0, mediaStart = 0, length = null;
  if (elst) {
    const v1 = b[elst] === 1, w = v1 ? 20 : 12;
    for (let i = 0, at = elst + 8; i < u32(b, elst + 4); i++, at += w) {
      const dur = v1 ? u64(b, at) : u32(b, at);
      const empty = v1 ? u32(b, at + 8) === 0xffffffff && u32(b, at + 12) === 0xffffffff : u32(b, at + 4) === 0xffffffff;
      if (empty) {
        delay += dur / movieScale;
        continue;
      }
      mediaStart = v1 ? u64(b, at + 8) : u32(b, at + 4) | 0;
      length = dur / movieScale;
      break;
    }
  }
  const times = new Float64Array(n);
  let dts = 0;
  for (let e = 0, s = 0; e < u32(b, stts + 4); e++) {
    const count = u32(b, stts + 8 + 8 * e), delta = u32(b, stts + 12 + 8 * e);
    for (let k = 0; k < count && s < n; k++, s++, dts += delta)
      times[s] = delay + (dts - mediaStart) / scale;
  }
  const duration = length ? delay + length : delay + (dts - mediaStart) / scale;
  return { video, width, height, times, offsets, sizes, duration };
}

// Where a trak's boxes are (their bodies), if it is a video track.
function trakBoxes(b, from, to) {
  const at = {};
  const visit = (f, e) => walk(b, f, e, (t, body, end) => {
    if (CONTAINERS.has(t))
      visit(body, end);
    else
      at[t] = body;
  });
  visit(from, to);
  // hdlr: fullbox, pre_defined, then the handler type.
  const ok = at.hdlr !== undefined && type(b, at.hdlr + 8) === 'vide' &&
    ['mdhd', 'stsd', 'stts', 'stsc', 'stsz'].every((t) => at[t] !== undefined) && (at.stco ?? at.co64) !== undefined;
  return ok ? at : null;
}
