// grid.js - every camera live, up to 16 tiles: name, online state, the
// camera's clock (from the frame on screen), lag, and why a camera is off.
import { LivePlayer } from './live.js';
import { el, clockText } from './ui.js';

const MAX_TILES = 16;

export function gridView({ feed, hub, main, q }) {
  // #/?cams=a,b: only these cameras (a kiosk's own choice).
  const only = q.get('cams') ? q.get('cams').split(',') : null;
  const grid = el('section', { class: 'grid', 'aria-label': 'Live cameras' });
  const empty = el('p', { class: 'empty' }, 'Waiting for cameras…');
  main.append(empty, grid);
  const tiles = new Map();

  function tile(cam) {
    const video = el('video', { muted: '', playsinline: '', 'aria-label': `${cam} live` });
    const img = el('img', { alt: `${cam} live keyframes`, hidden: '' });
    const state = el('span', { class: 'state' });
    const clock = el('span', { class: 'clock', 'aria-label': 'camera clock' });
    const lag = el('span', { class: 'lag' });
    const note = el('p', { class: 'note', role: 'status' });
    const link = el('a', { class: 'tile', href: `#/cam/${encodeURIComponent(cam)}`, 'data-cam': cam, 'aria-label': `Open ${cam}` },
      el('div', { class: 'top' }, el('span', { class: 'name' }, cam), state, clock),
      el('div', { class: 'picture' }, video, img),
      el('div', { class: 'bottom' }, note, lag));
    grid.append(link);
    const t = { link, video, img, state, clock, lag, note, cam, mode: 'connecting', msg: '' };
    t.player = new LivePlayer(hub, cam, video, img, (mode, msg) => {
      t.mode = mode;
      t.msg = msg || '';
      draw(t);
    });
    return t;
  }

  function draw(t) {
    const st = feed.cams.get(t.cam) || {};
    const online = st.online !== false;
    t.link.classList.toggle('offline', !online);
    t.state.textContent = online ? (t.mode === 'fallback' ? 'JPEG' : 'online') : 'offline';
    t.state.className = `state ${online ? 'on' : 'off'}`;
    if (!online)
      t.note.textContent = st.last_error ? `Offline: ${st.last_error}` : 'Offline';
    else if (t.mode === 'fallback')
      t.note.textContent = t.msg;
    else if (t.mode === 'connecting')
      t.note.textContent = 'Connecting…';
    else
      t.note.textContent = st.in_event ? 'Motion' : '';
  }

  function sync(cams) {
    const names = [...cams.keys()].filter((n) => !only || only.includes(n)).slice(0, MAX_TILES);
    empty.hidden = names.length > 0;
    grid.dataset.n = String(names.length);
    const cols = Math.min(4, Math.ceil(Math.sqrt(names.length || 1)));
    grid.style.setProperty('--cols', String(cols));
    grid.style.setProperty('--rows', String(Math.ceil((names.length || 1) / cols)));
    for (const n of names) {
      if (!tiles.has(n))
        tiles.set(n, tile(n));
      draw(tiles.get(n));
    }
  }

  const tick = setInterval(() => {
    for (const t of tiles.values()) {
      const p = t.player;
      t.clock.textContent = p.wallMs ? clockText(p.wallMs / 1000) : '';
      t.lag.textContent = p.lagMs !== null && !p.fallback ? `lag ${(p.lagMs / 1000).toFixed(2)} s` : '';
    }
  }, 250);
  const off = feed.on(sync);
  sync(feed.cams);
  return {
    close() {
      off();
      clearInterval(tick);
      for (const t of tiles.values())
        t.player.close();
    },
  };
}
