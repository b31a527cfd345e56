// timeline.js - a day bar: recorded spans and gaps, the motion score as a
// graph along it, event marks, the playhead; click or drag to play from a
// time, shift-drag (or the select mode) to pick a range.

const COLORS = {
  gap: '#2a2f36', span: '#2f6f4f', motion: '#f2b134', event: '#e5534b',
  head: '#ffffff', select: 'rgba(90, 160, 255, 0.35)', hour: '#8b949e',
};

export class Timeline {
  constructor({ onSeek, onSelect, onHover }) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'timeline';
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'slider');
    this.canvas.setAttribute('aria-label', 'Day timeline: click or drag to play from a time, shift-drag to select');
    this.onSeek = onSeek;
    this.onSelect = onSelect;
    this.onHover = onHover || (() => {});
    this.spans = [];
    this.motion = [];
    this.events = [];
    this.from = 0;
    this.to = 86400;
    this.vFrom = 0;              // the part of the day in view (zoom)
    this.vTo = 86400;
    this.head = null;
    this.selection = null;
    this.selectMode = false;
    this.drag = null;
    const c = this.canvas;
    c.addEventListener('pointerdown', (e) => this.down(e));
    c.addEventListener('pointermove', (e) => this.move(e));
    c.addEventListener('pointerup', (e) => this.up(e));
    c.addEventListener('pointerleave', () => this.onHover(null));
    c.addEventListener('keydown', (e) => this.key(e));
    c.addEventListener('wheel', (e) => {
      e.preventDefault();
      this.zoom(Math.exp(e.deltaY / 300), this.timeAt(e.clientX));
    }, { passive: false });
    new ResizeObserver(() => this.draw()).observe(c);
  }

  setDay(from, to, spans, motion, events) {
    // The same day again (today, growing) keeps its zoom and selection.
    if (from !== this.from)
      Object.assign(this, { selection: null, vFrom: from, vTo: to });
    Object.assign(this, { from, to, spans, motion, events });
    this.canvas.setAttribute('aria-valuemin', String(from));
    this.canvas.setAttribute('aria-valuemax', String(to));
    this.draw();
  }

  setHead(t) {
    this.head = t;
    if (t !== null)
      this.canvas.setAttribute('aria-valuenow', String(Math.round(t)));
    this.draw();
  }

  // Zoom the view by factor (< 1 zooms in), from the whole day down to
  // 5 minutes. The wheel passes the time under the pointer, which keeps its
  // place; the buttons pass none and zoom around the playhead, centred (kept
  // at its place, a playhead just after midnight would end up at the left
  // edge with the footage before it out of view).
  zoom(factor, at) {
    const span = Math.min(this.to - this.from, Math.max(300, (this.vTo - this.vFrom) * factor));
    let f = 0.5;
    if (at !== undefined)
      f = Math.min(1, Math.max(0, (at - this.vFrom) / (this.vTo - this.vFrom)));
    else
      at = this.head ?? (this.vFrom + this.vTo) / 2;
    let a = at - f * span;
    a = Math.min(this.to - span, Math.max(this.from, a));
    this.vFrom = a;
    this.vTo = a + span;
    this.draw();
  }

  x(t) {
    return ((t - this.vFrom) / (this.vTo - this.vFrom)) * this.w;
  }

  timeAt(clientX) {
    const r = this.canvas.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (clientX - r.left) / r.width));
    return this.vFrom + f * (this.vTo - this.vFrom);
  }

  down(e) {
    this.canvas.setPointerCapture(e.pointerId);
    const t = this.timeAt(e.clientX);
    this.drag = { t0: t, select: e.shiftKey || this.selectMode };
    if (this.drag.select)
      this.selection = [t, t];
    else
      this.setHead(t);
    this.draw();
  }

  move(e) {
    const t = this.timeAt(e.clientX);
    this.onHover(t, e.clientX);
    if (!this.drag)
      return;
    if (this.drag.select)
      this.selection = [Math.min(this.drag.t0, t), Math.max(this.drag.t0, t)];
    else
      this.head = t;
    this.draw();
  }

  up(e) {
    if (!this.drag)
      return;
    const t = this.timeAt(e.clientX);
    const d = this.drag;
    this.drag = null;
    if (d.select) {
      this.selection = [Math.min(d.t0, t), Math.max(d.t0, t)];
      if (this.selection[1] - this.selection[0] < 1)
        this.selection = null;
      this.onSelect(this.selection);
      this.draw();
    } else {
      this.onSeek(t);
    }
  }

  key(e) {
    const step = e.shiftKey ? 600 : 60;
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      const base = this.head ?? this.from;
      this.onSeek(Math.min(this.to, Math.max(this.from, base + (e.key === 'ArrowLeft' ? -step : step))));
      e.preventDefault();
      e.stopPropagation();
    }
  }

  draw() {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    if (!w || !h)
      return;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    this.w = w;
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    const top = 14, bar = h - top - 2;
    g.clearRect(0, 0, w, h);
    g.fillStyle = COLORS.gap;
    g.fillRect(0, top, w, bar);
    g.fillStyle = COLORS.span;
    for (const s of this.spans) {
      // Whole pixels: a short span stays visible and unblended.
      const a = Math.floor(this.x(s.start)), b = Math.ceil(this.x(s.end));
      g.fillRect(a, top, Math.max(1, b - a), bar);
    }
    // The motion score as a bar per pixel column (the highest score in it).
    if (this.motion.length) {
      const max = Math.max(10, ...this.motion.map((m) => m.score));
      const base = top + bar;
      const cols = new Map();
      for (const m of this.motion) {
        const px = Math.floor(this.x(m.t));
        if (px >= 0 && px < w)
          cols.set(px, Math.max(cols.get(px) ?? 0, m.score));
      }
      g.fillStyle = COLORS.motion;
      for (const [px, s] of cols) {
        const hgt = (s / max) * (bar - 2);
        g.fillRect(px, base - hgt, 1, hgt);
      }
    }
    g.fillStyle = COLORS.event;
    for (const e of this.events)
      g.fillRect(this.x(e.t) - 1, top - 6, 3, 6);
    // Ticks: hours, or finer when zoomed in; labels in the store's clock.
    g.fillStyle = COLORS.hour;
    g.font = '10px system-ui, sans-serif';
    const view = this.vTo - this.vFrom;
    const step = [60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600].find((s) => (w / view) * s >= 40) || 6 * 3600;
    for (let t = this.from + Math.ceil((this.vFrom - this.from) / step) * step; t <= this.vTo; t += step) {
      const px = this.x(t), secs = t - this.from;
      g.fillRect(px, top - 3, 1, 3);
      const label = `${String(Math.floor(secs / 3600)).padStart(2, '0')}:${String(Math.floor(secs / 60) % 60).padStart(2, '0')}`;
      if (px < w - 28)
        g.fillText(label, px + 2, 9);
    }
    if (this.selection) {
      const a = this.x(this.selection[0]), b = this.x(this.selection[1]);
      g.fillStyle = COLORS.select;
      g.fillRect(a, 0, Math.max(2, b - a), h);
    }
    if (this.head !== null && this.head >= this.from && this.head <= this.to) {
      g.fillStyle = COLORS.head;
      g.fillRect(Math.round(this.x(this.head)) - 1, 0, 2, h);
    }
  }
}

// The wall time `media` seconds into a clip that starts at `start` and
// skips the gaps between spans.
export function mediaToWall(start, media, spans) {
  let cur = start, left = media;
  for (const s of spans) {
    if (s.end <= cur)
      continue;
    if (s.start > cur)
      cur = s.start;
    if (left < s.end - cur)
      return cur + left;
    left -= s.end - cur;
    cur = s.end;
  }
  return cur + left;
}

// The inverse: media seconds of wall time t in that clip.
export function wallToMedia(start, t, spans) {
  let cur = start, media = 0;
  for (const s of spans) {
    if (s.end <= cur)
      continue;
    if (s.start > cur)
      cur = s.start;
    if (t <= s.end)
      return media + Math.max(0, t - cur);
    media += s.end - cur;
    cur = s.end;
  }
  return media + Math.max(0, t - cur);
}
