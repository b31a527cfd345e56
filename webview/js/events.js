// events.js - events of every camera (or one): a chart of counts per day,
// the chosen day's snapshots, and a click plays the event's clip.
import { MjpegPlayer, mjpegControls, wrongPlayer } from './mjpegplay.js';
import { el, button } from './ui.js';
import * as tree from './tree.js';

const MAX_DAYS = 30;

const eventCount = (n) => `${n} event${n === 1 ? '' : 's'}`;

export function eventsView({ feed, main, q }) {
  const filter = el('select', { 'aria-label': 'Camera' }, el('option', { value: '' }, 'All cameras'));
  const chart = el('div', { class: 'chart', role: 'list', 'aria-label': 'Events per day' });
  const title = el('h2', {});
  const gallery = el('div', { class: 'gallery', role: 'list' });
  const player = el('video', { controls: '', muted: '', playsinline: '', 'aria-label': 'Event clip' });
  // MJPEG clips, which <video> cannot decode, are drawn on a canvas.
  const canvas = el('canvas', { hidden: '', role: 'img', 'aria-label': 'Event clip' });
  const mjpeg = new MjpegPlayer(canvas);
  const mjpegBar = mjpegControls(mjpeg);
  const playerCaption = el('p', {});
  const dialog = el('dialog', { class: 'clip', 'aria-label': 'Event clip' },
    playerCaption, player, canvas, mjpegBar, button('Close', () => dialog.close(), { class: 'close' }));
  dialog.addEventListener('close', () => {
    player.pause();
    player.removeAttribute('src');
    player.load();
    mjpeg.unload();
  });
  main.append(el('section', { class: 'page events' },
    el('div', { class: 'pagehead' }, el('h1', {}, 'Events'), filter), chart, title, gallery, dialog));

  let cams = [];
  let chosen = q.get('day');
  const state = { counts: {}, day: null, items: [], mjpeg };
  window.camfs.events = state;
  let gen = 0;

  async function load() {
    const my = ++gen;
    const want = filter.value ? [filter.value] : cams;
    // Counts: the snapshots of each day (an event has exactly one).
    const perCam = await Promise.all(want.map(async (c) => [c, (await tree.eventDays(c)).slice(-MAX_DAYS)]));
    const jobs = [];
    for (const [c, ds] of perCam)
      for (const d of ds)
        jobs.push(tree.events(c, d).then((ev) => [d, ev]).catch(() => [d, []]));
    const byDay = {};
    for (const [d, ev] of await Promise.all(jobs))
      (byDay[d] ||= []).push(...ev);
    if (my !== gen)
      return;
    const days = Object.keys(byDay).sort();
    state.counts = Object.fromEntries(days.map((d) => [d, byDay[d].length]));
    const max = Math.max(1, ...Object.values(state.counts));
    if (!chosen || !byDay[chosen])
      chosen = days[days.length - 1] || null;
    chart.replaceChildren(...days.map((d) => el('button', {
      type: 'button', class: 'day', role: 'listitem', 'data-day': d, 'data-count': byDay[d].length,
      'aria-label': `${d}: ${eventCount(byDay[d].length)}`, 'aria-current': d === chosen ? 'date' : null,
      onclick: () => { chosen = d; load(); },
    }, el('span', { class: 'barv', style: `height:${Math.max(4, (byDay[d].length / max) * 100)}%` }),
    el('span', { class: 'n' }, String(byDay[d].length)), el('span', { class: 'd' }, d.slice(5)))));
    if (!days.length)
      chart.append(el('p', { class: 'empty' }, 'No events yet.'));
    const items = chosen ? byDay[chosen].sort((a, b) => b.t - a.t) : [];
    state.day = chosen;
    state.items = items;
    title.textContent = chosen ? `${chosen}: ${eventCount(items.length)}` : '';
    gallery.replaceChildren(...items.map((e) => el('button', {
      type: 'button', class: `shot ${e.kind}`, role: 'listitem', 'data-stem': e.stem, 'data-cam': e.cam,
      'aria-label': `${e.cam} ${e.kind} at ${tree.showTime(e.t)}: play`, onclick: () => play(e),
    }, el('img', { src: e.jpg, alt: '', loading: 'lazy' }),
    el('span', { class: 'cap' }, `${tree.showTime(e.t)} · ${e.cam} · ${e.kind}`))));
  }

  function play(e, asMjpeg = feed.cams.get(e.cam)?.codec === 'mjpeg', retried = false) {
    // Camera uploads may have no clip: show the time around them instead.
    const url = e.clip || tree.clipUrl(e.cam, e.t - 10, e.t + 20);
    const [on, off] = asMjpeg ? [mjpeg, player] : [player, mjpeg];
    off.pause();
    if (off === player) {
      player.removeAttribute('src');
      player.load();
    } else {
      mjpeg.unload();
    }
    player.hidden = asMjpeg;
    canvas.hidden = mjpegBar.hidden = !asMjpeg;
    on.src = url;
    playerCaption.textContent = `${e.cam}: ${e.kind} at ${tree.showTime(e.t, true)}`;
    state.playing = { ...e, mjpeg: asMjpeg, retried };
    if (!dialog.open)
      dialog.showModal();
    on.play().catch(() => {});
  }
  // A clip one player cannot play may be the other's, once (as on the
  // camera page).
  const failed = (on) => {
    const p = state.playing;
    if (p && p.mjpeg === (on === mjpeg) && !p.retried && wrongPlayer(on))
      play(p, on !== mjpeg, true);
    else if (on === mjpeg)
      playerCaption.textContent += ': this clip cannot be played';
  };
  player.addEventListener('error', () => failed(player));
  mjpeg.addEventListener('error', () => failed(mjpeg));

  filter.addEventListener('change', () => {
    const h = filter.value ? `#/events?cam=${encodeURIComponent(filter.value)}` : '#/events';
    history.replaceState(null, '', h);
    load();
  });
  const sync = (all) => {
    const names = [...all.keys()];
    if (names.join() === cams.join())
      return;
    cams = names;
    const v = filter.value || q.get('cam') || '';
    filter.replaceChildren(el('option', { value: '' }, 'All cameras'),
      ...cams.map((c) => el('option', { value: c }, c)));
    filter.value = cams.includes(v) ? v : '';
    load();
  };
  const off = feed.on(sync);
  const offMotion = feed.onMotion((j) => { if (j.phase === 'start') setTimeout(load, 1500); });
  sync(feed.cams);
  return { close() { off(); offMotion(); mjpeg.unload(); } };
}
