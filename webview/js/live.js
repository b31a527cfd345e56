// live.js - live video: every camera's live.mp4 on the export's one
// WebSocket (plain HTTP, where a browser opens only 6 connections a host)
// or a streaming fetch each (TLS, where h2 multiplexes them), into Media
// Source Extensions kept at the live edge; JPEG fallback where the browser
// cannot decode the codec.
import { BoxSplitter, parseInit, parsePrft } from './mp4.js';
import { camPath } from './tree.js';

const BACKOFF_MIN = 500, BACKOFF_MAX = 8000;
const SILENCE_MS = 6000;     // no unit for this long: follow the camera again
const TARGET = 0.08;         // seconds behind the newest frame we aim for
const JUMP = 1.2;            // further behind than this: jump
const START_MS = 1500;       // after an init segment: jump at 3 x TARGET
const KEEP = 6;              // seconds of played video kept in the buffer

// Live streams of several cameras; subscribe(cam, sink) gives sink
// unit(bytes, isInit) and reset() (the stream ended; an init follows).
export class LiveHub {
  constructor(mode) {
    this.mode = mode || (location.protocol === 'https:' ? 'fetch' : 'ws');
    this.sinks = new Map();
    this.ws = null;
    this.wsBackoff = BACKOFF_MIN;
    this.hidden = document.hidden;
    this.wsTimer = null;
    document.addEventListener('visibilitychange', () => this.setHidden(document.hidden));
  }

  subscribe(cam, sink) {
    const s = { cam, sink, abort: null, backoff: BACKOFF_MIN, last: performance.now(), timer: null };
    this.sinks.set(cam, s);
    if (!this.hidden)
      this.start(s);
    s.watch = setInterval(() => {
      if (!this.hidden && performance.now() - s.last > SILENCE_MS) {
        s.last = performance.now();
        this.restart(s);
      }
    }, 1000);
    return () => this.unsubscribe(cam);
  }

  unsubscribe(cam) {
    const s = this.sinks.get(cam);
    if (!s)
      return;
    this.sinks.delete(cam);
    clearInterval(s.watch);
    clearTimeout(s.timer);
    this.stop(s);
    if (this.mode === 'ws')
      this.sendSet();
  }

  // Hidden tab: no stream runs; shown again, every one starts afresh.
  setHidden(hidden) {
    if (hidden === this.hidden)
      return;
    this.hidden = hidden;
    for (const s of this.sinks.values()) {
      if (hidden) {
        this.stop(s);
        s.sink.reset();
      } else {
        s.last = performance.now();
        this.start(s);
      }
    }
    if (this.mode === 'ws' && hidden && this.ws) {
      this.ws.onclose = null;
      this.ws.close();
      this.ws = null;
    }
  }

  start(s) {
    if (this.mode === 'ws')
      this.sendSet();
    else
      this.fetchLoop(s);
  }

  stop(s) {
    if (s.abort) {
      s.abort.abort();
      s.abort = null;
    }
  }

  restart(s) {
    s.sink.reset();
    if (this.mode === 'ws') {
      // Leaving and joining again gives a new reader at the newest keyframe.
      this.sendSet(s.cam);
      this.sendSet();
    } else {
      this.stop(s);
      this.fetchLoop(s);
    }
  }

  got(s, bytes, isInit) {
    s.last = performance.now();
    s.failures = 0;
    s.backoff = BACKOFF_MIN;
    s.sink.unit(bytes, isInit);
  }

  // --- WebSocket: one connection for every camera.
  sendSet(without) {
    if (this.hidden)
      return;
    if (!this.ws) {
      this.connect();
      return;
    }
    if (this.ws.readyState !== WebSocket.OPEN)
      return;
    const cams = [...this.sinks.keys()].filter((c) => c !== without);
    this.ws.send(JSON.stringify({ cameras: cams }));
  }

  connect() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${location.pathname.replace(/[^/]*$/, '')}ws/live`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.binaryType = 'arraybuffer';
    const dec = new TextDecoder();
    ws.onopen = () => this.sendSet();
    ws.onmessage = (m) => {
      if (typeof m.data === 'string') {
        const j = JSON.parse(m.data);
        const s = this.sinks.get(j.camera);
        if (s && j.end)
          s.sink.reset();
        return;
      }
      const b = new Uint8Array(m.data);
      const name = dec.decode(b.subarray(1, 1 + b[0]));
      const s = this.sinks.get(name);
      if (s) {
        this.wsBackoff = BACKOFF_MIN;
        const unit = b.subarray(1 + b[0]);
        const t = String.fromCharCode(unit[4], unit[5], unit[6], unit[7]);
        this.got(s, unit, t === 'ftyp' || t === 'moov');
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws)
        return;
      this.ws = null;
      for (const s of this.sinks.values())
        s.sink.reset();
      clearTimeout(this.wsTimer);
      this.wsTimer = setTimeout(() => this.sendSet(), this.wsBackoff);
      this.wsBackoff = Math.min(this.wsBackoff * 2, BACKOFF_MAX);
    };
  }

  // --- fetch: one endless response per camera (h2 streams over TLS).
  async fetchLoop(s) {
    const abort = new AbortController();
    s.abort = abort;
    try {
      const r = await fetch(camPath(s.cam, 'live.mp4'), { signal: abort.signal, cache: 'no-store' });
      if (!r.ok)
        throw new Error(`live.mp4: ${r.status}`);
      const reader = r.body.getReader();
      const split = new BoxSplitter((u, isInit) => this.got(s, u, isInit));
      for (;;) {
        const { value, done } = await reader.read();
        if (done)
          break;
        split.push(value);
      }
    } catch (e) {
      if (abort.signal.aborted)
        return;
    }
    if (s.abort !== abort || this.sinks.get(s.cam) !== s)
      return;
    s.abort = null;
    // A server that cannot stream the file (a static server reading the
    // mount with pread) fails at once, every time: pictures instead.
    if ((s.failures = (s.failures || 0) + 1) >= 3 && s.sink.unavailable) {
      s.sink.unavailable();
      return;
    }
    s.sink.reset();
    clearTimeout(s.timer);
    s.timer = setTimeout(() => { if (!this.hidden && this.sinks.get(s.cam) === s) this.fetchLoop(s); }, s.backoff);
    s.backoff = Math.min(s.backoff * 2, BACKOFF_MAX);
  }
}

export const players = [];   // every live player of the page, for tests and the readouts

// One camera's live picture in a <video>, or the JPEG fallback in an <img>.
export class LivePlayer {
  constructor(hub, cam, video, img, onState) {
    this.hub = hub;
    this.cam = cam;
    this.video = video;
    this.img = img;
    this.onState = onState || (() => {});
    this.ms = null;
    this.sb = null;
    this.queue = [];
    this.clock = [];             // [{media, wallMs}] of recent fragments
    this.timescales = {};
    this.fallback = null;
    this.started = performance.now();
    this.firstPictureMs = null;
    this.frames = 0;
    this.lagMs = null;
    this.lags = [];
    this.wallMs = null;          // wall time of the frame on screen
    this.startUntil = 0;         // performance.now() its stream's start ends
    this.appends = 0;
    video.muted = true;
    video.playsInline = true;
    this.unsub = hub.subscribe(cam, this);
    this.frameLoop();
    players.push(this);
  }

  close() {
    this.unsub();
    this.closed = true;
    this.stopFallback();
    const i = players.indexOf(this);
    if (i >= 0)
      players.splice(i, 1);
    this.video.removeAttribute('src');
    this.video.load();
  }

  frameLoop() {
    if (!('requestVideoFrameCallback' in this.video))
      return;
    const cb = (now, meta) => {
      if (this.closed)
        return;
      this.frames++;
      const wall = this.wallAt(meta.mediaTime);
      if (wall !== null) {
        const shown = performance.timeOrigin + (meta.expectedDisplayTime || now);
        this.wallMs = wall;
        this.lagMs = shown - wall;
        this.lags.push(this.lagMs);
        if (this.lags.length > 600)
          this.lags.shift();
      }
      if (this.firstPictureMs === null)
        this.firstPictureMs = performance.now() - this.started;
      this.video.requestVideoFrameCallback(cb);
    };
    this.video.requestVideoFrameCallback(cb);
  }

  wallAt(media) {
    let best = null;
    for (const c of this.clock) {
      if (c.media <= media + 1e-3)
        best = c;
      else
        break;
    }
    if (!best)
      return null;
    return best.wallMs + (media - best.media) * 1000;
  }

  // The hub's stream ended: the next unit is an init segment.
  reset() {
    this.onState('connecting');
    this.queue = [];
    this.needInit = true;
  }

  unit(bytes, isInit) {
    if (isInit) {
      this.needInit = false;
      this.init(bytes);
      return;
    }
    if (this.needInit || this.fallback || !this.ms)
      return;
    const p = parsePrft(bytes, this.timescales);
    if (p) {
      this.clock.push(p);
      if (this.clock.length > 400)
        this.clock.splice(0, 100);
    }
    this.queue.push(bytes);
    this.pump();
  }

  init(bytes) {
    const info = parseInit(bytes);
    this.timescales = info.timescales;
    this.codecs = info.codecs;
    const type = `video/mp4; codecs="${info.codecs}"`;
    if (!window.MediaSource || !MediaSource.isTypeSupported(type)) {
      this.startFallback(info);
      return;
    }
    this.stopFallback();
    this.clock = [];
    this.startUntil = performance.now() + START_MS;
    this.queue = [bytes];
    this.sb = null;
    const ms = new MediaSource();
    this.ms = ms;
    if (this.video.src)
      URL.revokeObjectURL(this.video.src);
    this.video.src = URL.createObjectURL(ms);
    ms.addEventListener('sourceopen', () => {
      if (this.ms !== ms)
        return;
      this.sb = ms.addSourceBuffer(type);
      this.sb.mode = 'segments';
      this.sb.addEventListener('updateend', () => this.afterAppend());
      this.sb.addEventListener('error', () => this.onState('error'));
      this.pump();
    }, { once: true });
    this.onState('live');
  }

  pump() {
    const sb = this.sb;
    if (!sb || sb.updating || !this.queue.length || this.ms.readyState !== 'open')
      return;
    try {
      sb.appendBuffer(this.queue.shift());
    } catch (e) {
      if (e.name === 'QuotaExceededError' && this.video.currentTime > 1) {
        sb.remove(0, this.video.currentTime - 1);
      } else {
        this.onState('error');
        this.hub.restart(this.hub.sinks.get(this.cam));
      }
    }
  }

  // After each append: stay at the live edge, drop what was played.
  afterAppend() {
    const v = this.video, sb = this.sb;
    if (this.closed || !sb || this.ms.readyState !== 'open')
      return;
    if (!sb.buffered.length) {
      this.pump();
      return;
    }
    const end = sb.buffered.end(sb.buffered.length - 1);
    const behind = end - v.currentTime;
    // A stream begins at the newest keyframe, up to a GOP old: at its start
    // (once the first picture is up: seeking before only delays it) that is
    // jumped, not caught up by speed (1.3x took ~2 s of 0.5 s lag).
    const starting = this.firstPictureMs !== null && performance.now() < this.startUntil;
    const jump = starting ? TARGET * 3 : JUMP;
    if (v.currentTime < sb.buffered.start(0) || behind > jump) {
      v.currentTime = Math.max(sb.buffered.start(sb.buffered.length - 1), end - TARGET);
    } else {
      // Catch up by speed, so small delays pass without a visible jump.
      v.playbackRate = behind > TARGET * 3 ? 1.3 : behind > TARGET * 1.5 ? 1.1 : 1;
    }
    if (v.paused && !this.userPaused)
      v.play().catch(() => {});
    if (++this.appends % 50 === 0 && v.currentTime - sb.buffered.start(0) > KEEP * 2 && !sb.updating) {
      sb.remove(0, v.currentTime - KEEP);
      return;
    }
    this.pump();
  }

  // The server gives no live stream at all.
  unavailable() {
    this.startFallback({ video: null, why: 'No live stream from this server: showing live.jpg' });
  }

  // --- JPEG fallback: the export's live.mjpeg, or live.jpg refreshed where
  // only files are served.
  startFallback(info) {
    if (this.fallback)
      return;
    this.fallback = info.video || 'none';
    // The stream is of no use here: stop it (a codec change is seen again
    // only when the tile is made again).
    this.unsub();
    this.unsub = () => {};
    this.video.hidden = true;
    this.img.hidden = false;
    const refresh = () => {
      const next = new Image();
      next.onload = () => {
        if (this.closed || !this.fallback)
          return;
        this.img.src = next.src;
        this.noteFrame();
        this.fbTimer = setTimeout(refresh, 1000);
      };
      next.onerror = () => { this.fbTimer = setTimeout(refresh, 3000); };
      next.src = `${camPath(this.cam, 'live.jpg')}?t=${Date.now()}`;
    };
    if (LivePlayer.mjpeg) {
      // live.jpg at once (MJPEG's first part waits for the next keyframe),
      // then the stream.
      const first = new Image();
      const stream = () => {
        if (this.closed || !this.fallback)
          return;
        if (first.naturalWidth)
          this.img.src = first.src;
        this.img.onload = () => this.noteFrame();
        this.img.onerror = () => { this.img.onerror = null; refresh(); };
        this.img.src = `${camPath(this.cam, 'live.mjpeg')}?fps=5`;
      };
      first.onload = () => { this.noteFrame(); stream(); };
      first.onerror = stream;
      first.src = `${camPath(this.cam, 'live.jpg')}?t=${Date.now()}`;
    } else {
      refresh();
    }
    this.onState('fallback', info.why || `${(info.video || 'this codec').toUpperCase()} cannot play here: showing JPEG keyframes`);
  }

  noteFrame() {
    this.frames++;
    if (this.firstPictureMs === null)
      this.firstPictureMs = performance.now() - this.started;
  }

  stopFallback() {
    if (!this.fallback)
      return;
    this.fallback = null;
    clearTimeout(this.fbTimer);
    this.img.onload = this.img.onerror = null;
    this.img.removeAttribute('src');
    this.img.hidden = true;
    this.video.hidden = false;
  }

  stats() {
    const q = this.video.getVideoPlaybackQuality ? this.video.getVideoPlaybackQuality() : {};
    return {
      cam: this.cam, fallback: this.fallback, frames: this.frames,
      totalVideoFrames: q.totalVideoFrames || 0, lagMs: this.lagMs,
      firstPictureMs: this.firstPictureMs, wallMs: this.wallMs, lags: this.lags.slice(),
    };
  }
}

// MJPEG is the camfs export's; a plain file server has only live.jpg.
LivePlayer.mjpeg = true;
