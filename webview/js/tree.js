// tree.js - the viewer's only interface: files of the tree under cams/
// (listings in .index.json, status.json, motion.csv), and the store's
// local time, which names days, segments and clips.

export const CAMS = 'cams/';

export function camPath(cam, ...rest) {
  return CAMS + [cam, ...rest].map(encodeURIComponent).join('/');
}

async function get(url, as) {
  const r = await fetch(url, { cache: 'no-cache' });
  if (!r.ok)
    throw new Error(`${url}: ${r.status}`);
  return as === 'json' ? r.json() : r.text();
}

// A directory's listing: [{name, type, size, mtime, start?, duration?}].
export async function listing(...parts) {
  const path = parts.length ? parts.map(encodeURIComponent).join('/') + '/' : '';
  const j = await get(`${CAMS}${path}.index.json`, 'json');
  return j.entries || [];
}

export async function status() {
  const j = await get(`${CAMS}status.json`, 'json');
  return j.cameras || [];
}

const DAY_RE = /^\d{4}-\d\d-\d\d$/;
const SEG_RE = /^(\d\d)-(\d\d)-(\d\d)\.mp4$/;

export async function days(cam) {
  const e = await listing(cam);
  return e.filter((x) => x.type === 'dir' && DAY_RE.test(x.name)).map((x) => x.name).sort();
}

// "Store time": a time of day as the store names it, kept as the epoch
// seconds of that name read as UTC. The store's offset from UTC is learnt
// from its own segments (name against start), so the viewer shows the
// store's dates and hours wherever the browser is.
export const store = { offset: -new Date().getTimezoneOffset() * 60 };

export function nameSecs(day, hms = '00-00-00') {
  const [y, m, d] = day.split('-').map(Number);
  const [H, M, S] = hms.split(/[-:]/).map(Number);
  return Date.UTC(y, m - 1, d, H, M, S) / 1000;
}

// Epoch seconds <-> the store's name for it.
export function toStore(t) {
  return t + store.offset;
}

export function fromStore(s) {
  return s - store.offset;
}

function pad(n) {
  return String(n).padStart(2, '0');
}

export function dayOf(t) {
  const d = new Date(toStore(t) * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

export function hms(t, sep = ':') {
  const d = new Date(toStore(t) * 1000);
  return [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()].map(pad).join(sep);
}

// A clip's name in the store's time: YYYY-MM-DDTHH-MM-SS.
export function clipTime(t) {
  return `${dayOf(Math.floor(t))}T${hms(Math.floor(t), '-')}`;
}

export function clipDuration(secs) {
  secs = Math.max(1, Math.round(secs));
  const h = Math.floor(secs / 3600), m = Math.floor(secs / 60) % 60, s = secs % 60;
  return (h ? `${h}h` : '') + (m ? `${m}m` : '') + (s || (!h && !m) ? `${s}s` : '');
}

export function clipUrl(cam, start, end) {
  return camPath(cam, 'clips', `${clipTime(start)}--${clipTime(end)}.mp4`);
}

// A time in the browser's locale, of the store's clock.
export function showTime(t, withDate = false) {
  const opts = { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, timeZone: 'UTC' };
  if (withDate)
    Object.assign(opts, { year: 'numeric', month: 'short', day: 'numeric' });
  return new Date(toStore(t) * 1000).toLocaleString(undefined, opts);
}

// A day's recorded segments: [{name, start, end, size}], in order. Learns
// the store's offset from the first one.
export async function segments(cam, day) {
  const e = await listing(cam, day);
  const segs = [];
  for (const x of e) {
    const m = SEG_RE.exec(x.name);
    if (!m || x.type !== 'file' || typeof x.start !== 'number')
      continue;
    segs.push({ name: x.name, start: x.start, end: x.start + (x.duration || 0), size: x.size });
  }
  segs.sort((a, b) => a.start - b.start);
  if (segs.length) {
    const s = segs[0];
    // Offsets are whole quarter hours; the name is the start's floor.
    store.offset = Math.round((nameSecs(day, s.name.slice(0, 8)) - s.start) / 900) * 900;
  }
  return segs;
}

// Recorded spans: segments merged where they touch (within 1.5 s).
export function spansOf(segs) {
  const spans = [];
  for (const s of segs) {
    const last = spans[spans.length - 1];
    if (last && s.start - last.end < 1.5)
      last.end = Math.max(last.end, s.end);
    else
      spans.push({ start: s.start, end: s.end });
  }
  return spans;
}

// A day's motion scores: [{t, score}], t in epoch seconds.
export async function motion(cam, day) {
  const text = await get(camPath(cam, day, 'motion.csv'));
  const out = [];
  for (const line of text.split('\n').slice(1)) {
    const [time, score] = line.split(',');
    if (!time || score === undefined)
      continue;
    const [d, clock] = time.split(' ');
    out.push({ t: fromStore(nameSecs(d, clock)), score: Number(score) });
  }
  return out;
}

const EVENT_RE = /^(\d\d-\d\d-\d\d)-(motion|camera)(_\d+)?\.jpg$/;

// A day's events: [{stem, kind, t, jpg, clip}] from events/<day>/.
export async function events(cam, day) {
  const e = await listing(cam, 'events', day);
  const names = new Set(e.map((x) => x.name));
  const out = [];
  for (const x of e) {
    const m = EVENT_RE.exec(x.name);
    if (!m)
      continue;
    const stem = x.name.slice(0, -4);
    out.push({
      cam, day, stem, kind: m[2], t: fromStore(nameSecs(day, m[1])),
      jpg: camPath(cam, 'events', day, x.name),
      clip: names.has(`${stem}.mp4`) ? camPath(cam, 'events', day, `${stem}.mp4`) : null,
    });
  }
  return out.sort((a, b) => a.t - b.t);
}

export async function eventDays(cam) {
  try {
    const e = await listing(cam, 'events');
    return e.filter((x) => x.type === 'dir' && DAY_RE.test(x.name)).map((x) => x.name).sort();
  } catch {
    return [];
  }
}
