// status.js - every camera's status on one page.
import { el } from './ui.js';
import * as tree from './tree.js';

const COLS = [
  ['name', 'Camera'], ['online', 'State'], ['codec', 'Codec'], ['size', 'Resolution'],
  ['fps', 'fps'], ['bitrate', 'Bitrate'], ['reconnects', 'Reconnects'], ['since', 'Since'],
  ['last_error', 'Last error'],
];

function cell(c, k) {
  switch (k) {
  case 'online': return c.online ? 'online' : 'offline';
  case 'size': return c.width ? `${c.width}×${c.height}` : '';
  case 'fps': return c.fps ? c.fps.toFixed(1) : '';
  case 'bitrate': return c.bitrate ? `${(c.bitrate / 1000).toFixed(0)} kbit/s` : '';
  case 'since': return c.since ? new Date(c.since).toLocaleString() : '';
  default: return c[k] === null || c[k] === undefined ? '' : String(c[k]);
  }
}

export function statusView({ feed, main }) {
  const body = el('tbody');
  const table = el('table', { class: 'status' },
    el('caption', {}, 'Cameras'),
    el('thead', {}, el('tr', {}, ...COLS.map(([, h]) => el('th', { scope: 'col' }, h)))), body);
  main.append(el('section', { class: 'page' }, el('h1', {}, 'Status'), table));
  const draw = (cams) => {
    body.replaceChildren(...[...cams.values()].map((c) => el('tr', { class: c.online ? 'on' : 'off', 'data-cam': c.name },
      ...COLS.map(([k]) => (k === 'name'
        ? el('th', { scope: 'row' }, el('a', { href: `#/cam/${encodeURIComponent(c.name)}` }, c.name))
        : el('td', { class: k }, cell(c, k)))))));
  };
  const off = feed.on(draw);
  draw(feed.cams);
  // The event stream carries state changes; bitrate and reconnects come
  // with status.json.
  const refresh = async () => {
    try {
      for (const c of await tree.status())
        feed.cams.set(c.name, Object.assign(feed.cams.get(c.name) || {}, c));
      draw(feed.cams);
    } catch { /* next time */ }
  };
  const timer = setInterval(refresh, 3000);
  refresh();
  return { close() { off(); clearInterval(timer); } };
}
