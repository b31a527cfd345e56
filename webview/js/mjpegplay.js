// mjpegplay.js - recorded playback of MJPEG cameras, which <video> cannot
// decode: the clip's sample table from its moov, its JPEGs read with Range
// requests a block at a time, each drawn on a <canvas> at its time.
import { parseSamples, topBoxes } from './mp4.js';
import { el, button } from './ui.js';

const HEAD = 64 * 1024;      // the first read: ftyp and most moovs
const BLOCK = 32;            // samples a Range request reads
const KEEP = 4;              // blocks kept (a seek back nearby reads nothing)

// A clip that was built again (it was still growing) under the same URL:
// its samples moved, so the table is read again.
class Changed extends Error {}

// The last sample at or before media time t (times ascend).
function sampleAt(times, t) {
  let lo = 0, hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid] <= t + 1e-6)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

// Plays one MP4 at a time on its canvas. It answers to the part of a
// <video>'s interface the views use (src, currentTime, duration, paused,
// playbackRate, readyState, error, play(), pause(); events loadedmetadata,
// timeupdate, play, pause, ended, error), so they drive either alike.
export class MjpegPlayer extends EventTarget {
  constructor(canvas) {
    super();
    this.canvas = canvas;
    this.g = canvas.getContext('2d');
    this.gen = 0;                // bumped by each load: answers for an older one are dropped
    this.rate = 1;
    this.unload();
  }

  unload() {
    this.gen++;
    this.abort?.abort();
    this.abort = new AbortController();
    Object.assign(this, {
      url: '', etag: null, whole: null, table: null, blocks: new Map(), refreshing: null,
      paused: true, waiting: false, media: 0, since: 0, shown: -1, decoding: false, frames: 0, error: null, told: 0, refreshes: 0,
    });
  }

  get src() { return this.url; }
  set src(url) { this.load(url); }
  get hidden() { return this.canvas.hidden; }
  set hidden(h) { this.canvas.hidden = h; }
  get duration() { return this.table ? this.table.duration : NaN; }
  get readyState() { return !this.table ? 0 : this.frames ? 4 : 1; }
  get playbackRate() { return this.rate; }

  set playbackRate(r) {
    this.anchor();
    this.rate = r;
  }

  // The clock runs from (media, since) unless paused or waiting for bytes.
  get currentTime() {
    const t = this.paused || this.waiting ? this.media : this.media + ((performance.now() - this.since) / 1000) * this.rate;
    return this.table ? Math.min(t, this.table.duration) : t;
  }

  set currentTime(t) {
    this.media = Math.max(0, this.table ? Math.min(t, this.table.duration) : t);
    this.since = performance.now();
    this.tick();
  }

  anchor() {
    this.media = this.currentTime;
    this.since = performance.now();
  }

  play() {
    if (this.paused) {
      if (this.table && this.media >= this.table.duration)
        this.media = 0;
      this.since = performance.now();
      this.paused = false;
      this.dispatchEvent(new Event('play'));
      this.tick();
    }
    return Promise.resolve();
  }

  pause() {
    if (this.paused)
      return;
    this.anchor();
    this.paused = true;
    this.dispatchEvent(new Event('pause'));
  }

  async load(url) {
    this.unload();
    this.url = url;
    const gen = this.gen;
    try {
      await this.readTable(gen);
    } catch (e) {
      this.fail(e, gen);
      return;
    }
    this.since = performance.now();
    this.dispatchEvent(new Event('loadedmetadata'));
    this.tick();
  }

  // Bytes [from, to) of the file. The first read learns the ETag; later
  // ones send it as If-Range, so a clip built again answers 200 (thrown as
  // Changed, its body left unread) rather than bytes of another layout.
  async read(from, to) {
    if (this.whole)
      return this.whole.subarray(from, to);
    const headers = { Range: `bytes=${from}-${to - 1}` };
    if (this.etag && !this.etag.startsWith('W/'))
      headers['If-Range'] = this.etag;   // a weak one would always answer 200
    const r = await fetch(this.url, { headers, signal: this.abort.signal });
    if (r.status === 206) {
      this.etag ||= r.headers.get('ETag');
      return new Uint8Array(await r.arrayBuffer());
    }
    if (r.status === 200 && !this.etag) {
      // A server that ignores Range: the whole file, once.
      this.whole = new Uint8Array(await r.arrayBuffer());
      return this.whole.subarray(from, to);
    }
    r.body?.cancel();
    if (r.ok)
      throw new Changed();
    throw new Error(`${this.url}: ${r.status}`);
  }

  // The moov, found by walking the top-level boxes from the start (camfs
  // puts it after ftyp; other writers after mdat). A clip built again
  // meanwhile: from the start.
  async readTable(gen, tries = 3) {
    try {
      await this.findMoov(gen);
    } catch (e) {
      if (!(e instanceof Changed) || tries <= 1)
        throw e;
      this.etag = null;
      await this.readTable(gen, tries - 1);
    }
  }

  async findMoov(gen) {
    let at = 0;
    for (;;) {
      const head = await this.read(at, at + HEAD);
      const boxes = topBoxes(head);
      const moov = boxes.find((b) => b.type === 'moov');
      if (moov) {
        let bytes = head.subarray(moov.at, moov.at + moov.size);
        if (bytes.length < moov.size)
          bytes = await this.read(at + moov.at, at + moov.at + moov.size);
        const table = parseSamples(bytes);
        if (table.video !== 'mjpeg')
          throw Object.assign(new Error(`not MJPEG but ${table.video}`), { notMjpeg: true });
        if (gen === this.gen)
          this.table = table;
        return;
      }
      const last = boxes[boxes.length - 1];
      if (!last || head.length < HEAD)
        throw new Error('no moov in the file');
      at += last.at + last.size;
    }
  }

  fail(e, gen) {
    if (gen !== this.gen || e.name === 'AbortError')
      return;
    console.info('MJPEG playback:', e.message);
    this.error = { message: e.message, notMjpeg: !!e.notMjpeg };
    this.paused = true;
    this.dispatchEvent(new Event('error'));
  }

  // Block k: {bytes, from} once its one Range request is answered.
  block(k) {
    let b = this.blocks.get(k);
    if (b)
      return b;
    const { offsets, sizes } = this.table;
    let from = Infinity, to = 0;
    for (let i = k * BLOCK; i < Math.min(sizes.length, (k + 1) * BLOCK); i++) {
      from = Math.min(from, offsets[i]);
      to = Math.max(to, offsets[i] + sizes[i]);
    }
    b = { bytes: null, from };
    const gen = this.gen;
    b.ready = this.read(from, to).then((bytes) => {
      if (gen !== this.gen)
        return;
      b.bytes = bytes;
      if (this.waiting) {
        this.waiting = false;
        this.since = performance.now();
      }
      this.tick();
    }, (e) => {
      if (this.blocks.get(k) === b)
        this.blocks.delete(k);
      if (e instanceof Changed && gen === this.gen)
        this.refresh();
      else
        this.fail(e, gen);
    });
    this.blocks.set(k, b);
    for (const old of this.blocks.keys())
      if (this.blocks.size > KEEP && old !== k)
        this.blocks.delete(old);
    return b;
  }

  // The clip grew and was built again: read its (longer) table, go on.
  refresh() {
    if (this.refreshing)
      return;
    const gen = this.gen;
    Object.assign(this, { etag: null, whole: null, blocks: new Map(), refreshes: this.refreshes + 1 });
    this.refreshing = this.readTable(gen).then(() => {
      if (gen === this.gen) {
        this.shown = -1;
        this.refreshing = null;
        this.tick();
      }
    }, (e) => this.fail(e, gen));
  }

  // One draw per animation frame while playing; once when paused (a seek).
  tick() {
    if (this.loop || !this.table)
      return;
    this.loop = requestAnimationFrame(() => {
      this.loop = null;
      if (!this.table || this.refreshing)
        return;
      this.show();
      if (!this.paused)
        this.tick();
    });
  }

  // Draws the sample due now unless it is on the canvas or a decode is
  // still running: at high speed frames are skipped, never queued. While
  // its bytes are on their way the clock waits.
  show() {
    const t = this.currentTime, tb = this.table;
    if (!this.paused && t >= tb.duration) {
      this.pause();
      this.dispatchEvent(new Event('ended'));
    }
    const i = sampleAt(tb.times, t);
    if (i === this.shown || this.decoding)
      return;
    const k = Math.floor(i / BLOCK);
    const b = this.block(k);
    if (!b.bytes) {
      if (!this.paused && !this.waiting) {
        this.media = t;
        this.waiting = true;
      }
      return;
    }
    // The next block is asked for halfway through this one.
    if (i % BLOCK >= BLOCK / 2 && (k + 1) * BLOCK < tb.sizes.length)
      this.block(k + 1);
    const at = tb.offsets[i] - b.from;
    const jpeg = new Blob([b.bytes.subarray(at, at + tb.sizes[i])], { type: 'image/jpeg' });
    const gen = this.gen;
    this.decoding = true;
    createImageBitmap(jpeg).then((bmp) => {
      if (gen === this.gen) {
        if (this.canvas.width !== bmp.width || this.canvas.height !== bmp.height)
          Object.assign(this.canvas, { width: bmp.width, height: bmp.height });
        this.g.drawImage(bmp, 0, 0);
        this.shown = i;
        this.frames++;
        // As often as a <video> says it: each says redraws the timeline.
        if (performance.now() - this.told > 250 || this.paused) {
          this.told = performance.now();
          this.dispatchEvent(new Event('timeupdate'));
        }
      }
      bmp.close();
    }, () => {
      // A torn JPEG: skip it, as a decoder would.
      if (gen === this.gen)
        this.shown = i;
    }).finally(() => {
      this.decoding = false;
    });
  }

  // For tests: what has been drawn.
  stats() {
    return {
      url: this.url, frames: this.frames, shown: this.shown, samples: this.table ? this.table.sizes.length : 0,
      width: this.canvas.width, height: this.canvas.height, currentTime: this.currentTime,
      duration: this.duration, paused: this.paused, waiting: this.waiting, rate: this.rate, refreshes: this.refreshes,
      decoding: this.decoding,
    };
  }
}

// Whether player (a <video> or an MjpegPlayer) failed on a clip that the
// other kind may play: a codec <video> cannot decode, or not MJPEG.
export function wrongPlayer(player) {
  return player instanceof MjpegPlayer ? !!player.error?.notMjpeg :
    player.error?.code === MediaError.MEDIA_ERR_SRC_NOT_SUPPORTED;
}

// A play button and a seek bar for a player shown without the camera
// page's controls (the events page's clip).
export function mjpegControls(player) {
  const seek = el('input', { type: 'range', min: '0', max: '0', step: '0.1', value: '0', 'aria-label': 'Seek' });
  const time = el('span', { class: 'time' }, '0.0 s');
  const play = button('Pause', () => (player.paused ? player.play() : player.pause()), { title: 'Play / pause', class: 'play' });
  const show = () => {
    play.textContent = player.paused ? 'Play' : 'Pause';
    if (player.table) {
      seek.max = String(player.duration);
      seek.value = String(player.currentTime);
      time.textContent = `${player.currentTime.toFixed(1)} / ${player.duration.toFixed(1)} s`;
    }
  };
  for (const e of ['loadedmetadata', 'timeupdate', 'play', 'pause', 'ended'])
    player.addEventListener(e, show);
  seek.addEventListener('input', () => { player.currentTime = Number(seek.value); });
  return el('div', { class: 'mjpegbar', hidden: '' }, play, seek, time);
}
