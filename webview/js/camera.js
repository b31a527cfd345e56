// camera.js - one camera, live and recorded in one view: transport buttons,
// speed, zoom and pan, keyboard, full screen, the day timeline with its
// calendar, and the download of a selected range.
import { boardPanel } from './board.js';
import { LivePlayer } from './live.js';
import { MjpegPlayer, wrongPlayer } from './mjpegplay.js';
import { Timeline, mediaToWall, wallToMedia } from './timeline.js';
import { el, button } from './ui.js';
import * as tree from './tree.js';

const CLIP_SECS = 600;       // recorded playback loads 10 min clips
const SPEEDS = [1, 2, 4, 8, 16];

export function cameraView({ feed, hub, main, q }, cam) {
  const liveVideo = el('video', { muted: '', playsinline: '', 'aria-label': `${cam} live` });
  const liveImg = el('img', { alt: `${cam} live keyframes`, hidden: '' });
  const recVideo = el('video', { muted: '', playsinline: '', preload: 'auto', hidden: '', 'aria-label': `${cam} recorded` });
  // MJPEG recordings, which <video> cannot decode, are drawn on a canvas.
  const recCanvas = el('canvas', { hidden: '', role: 'img', 'aria-label': `${cam} recorded` });
  const mjpeg = new MjpegPlayer(recCanvas);
  const pan = el('div', { class: 'pan' }, liveVideo, liveImg, recVideo, recCanvas);
  const clock = el('span', { class: 'clock', 'aria-live': 'off', 'aria-label': 'time of the picture' });
  const badge = el('span', { class: 'badge' }, 'LIVE');
  const lag = el('span', { class: 'lag' });
  const note = el('span', { class: 'note', role: 'status' });
  const stage = el('div', { class: 'stage' }, pan, note);
  // The badge and clock sit above the picture, not on it: cameras burn
  // their own clock and name into its corners. Full screen takes both.
  const view = el('div', { class: 'view' }, el('div', { class: 'overlay' }, badge, clock, lag), stage);

  const speed = el('select', { 'aria-label': 'Speed', title: 'Speed (+ / -)' },
    ...SPEEDS.map((s) => el('option', { value: s }, `${s}×`)));
  const playBtn = button('Pause', () => togglePlay(), { title: 'Play / pause (space)', class: 'play' });
  const liveBtn = button('Live', () => goLive(), { title: 'Live (L)', class: 'live' });
  const selectBtn = button('Select', () => {
    tl.selectMode = !tl.selectMode;
    selectBtn.setAttribute('aria-pressed', String(tl.selectMode));
  }, { title: 'Select a range to download (or shift-drag)', 'aria-pressed': 'false' });
  const download = el('a', { class: 'download button', hidden: '', 'aria-label': 'Download the selected range' }, 'Download');
  const controls = el('div', { class: 'controls', role: 'toolbar', 'aria-label': 'Playback' },
    button('−1m', () => jump(-60), { title: 'Back 1 minute (shift+←)' }),
    button('−10s', () => jump(-10), { title: 'Back 10 seconds (←)' }),
    playBtn,
    button('+10s', () => jump(10), { title: 'Forward 10 seconds (→)' }),
    button('+1m', () => jump(60), { title: 'Forward 1 minute (shift+→)' }),
    speed, liveBtn,
    button('⤢', () => fullscreen(), { title: 'Full screen (F)' }),
    button('1:1', () => zoom.reset(), { title: 'Reset zoom (0)' }),
    selectBtn, download);

  const dayLabel = el('button', { type: 'button', class: 'day', 'aria-haspopup': 'true', 'aria-label': 'Choose a day' });
  const hover = el('span', { class: 'hover' });
  const calendar = el('div', { class: 'calendar', hidden: '', role: 'dialog', 'aria-label': 'Days with footage' });
  const tl = new Timeline({
    onSeek: (t) => playAt(t),
    onSelect: (sel) => showSelection(sel),
    onHover: (t) => { hover.textContent = t === null ? '' : tree.showTime(t); },
  });
  const prevDay = button('‹', () => stepDay(-1), { title: 'Previous day' });
  const nextDay = button('›', () => stepDay(1), { title: 'Next day' });
  const timeline = el('div', { class: 'timeline-wrap' },
    el('div', { class: 'daynav' }, prevDay, dayLabel, nextDay,
      button('−', () => tl.zoom(4), { title: 'Zoom the timeline out', class: 'zoomout' }),
      button('+', () => tl.zoom(0.25), { title: 'Zoom the timeline in (around the playhead)', class: 'zoomin' }),
      hover), tl.canvas, calendar);

  const head = el('div', { class: 'camhead' },
    el('a', { href: '#/', class: 'button', 'aria-label': 'Back to all cameras', title: 'Back (Esc)' }, '← Back'),
    el('h1', {}, cam),
    el('a', { href: `#/events?cam=${encodeURIComponent(cam)}`, class: 'button', title: 'Events (E)' }, 'Events'));
  const board = boardPanel(cam);
  const root = el('section', { class: 'camera', 'data-cam': cam }, head, view, controls, timeline, board.root);
  main.append(root);

  let live = null;             // the LivePlayer while live
  let rec = null;              // {start, url, retried}: the loaded clip
  let recPlayer = recVideo;    // what plays it: the <video>, or mjpeg
  let days = [];
  let day = null;
  let spans = [];
  const state = { mode: 'live', cam, mjpeg };
  window.camfs.camera = state;
  window.camfs.timeline = tl;

  function setMode(mode) {
    state.mode = mode;
    root.dataset.mode = mode;
    badge.textContent = mode === 'live' ? 'LIVE' : 'RECORDED';
    liveBtn.setAttribute('aria-pressed', String(mode === 'live'));
  }

  function stopRec() {
    recVideo.pause();
    recVideo.removeAttribute('src');
    recVideo.load();
    recVideo.hidden = true;
    mjpeg.unload();
    mjpeg.hidden = true;
  }

  function goLive() {
    rec = null;
    stopRec();
    liveVideo.hidden = false;
    if (!live)
      live = new LivePlayer(hub, cam, liveVideo, liveImg, (m, msg) => { note.textContent = m === 'fallback' ? msg : ''; });
    live.userPaused = false;
    setMode('live');
    playBtn.textContent = 'Pause';
  }

  function stopLive() {
    if (live) {
      live.close();
      live = null;
    }
    liveImg.hidden = true;
    liveVideo.hidden = true;
  }

  // Plays the recording from wall time t: a clip from the start of the span
  // at or after t, read by the browser with Range requests.
  async function playAt(t) {
    const d = tree.dayOf(t);
    if (d !== day)
      await loadDay(d);
    const span = spans.find((s) => s.end > t);
    if (!span) {
      if (day === tree.dayOf(Date.now() / 1000)) {
        goLive();
        return;
      }
      note.textContent = 'No recording after this time';
      return;
    }
    const start = Math.max(t, span.start);
    if (rec && start >= rec.start && mediaToWall(rec.start, recPlayer.duration || 0, spans) > start + 1 &&
        recPlayer.readyState > 0) {
      recPlayer.currentTime = wallToMedia(rec.start, start, spans);
      state.target = start;
      recPlayer.play().catch(() => {});
      return;
    }
    stopLive();
    await playClip(start, feed.cams.get(cam)?.codec === 'mjpeg' ? mjpeg : recVideo);
  }

  // Loads the clip from `start` into player.
  async function playClip(start, player, retried = false) {
    if (player !== recPlayer) {
      stopRec();
      recPlayer = player;
    }
    const url = tree.camPath(cam, 'clips', `${tree.clipTime(Math.floor(start))}+${tree.clipDuration(CLIP_SECS)}.mp4`);
    rec = { start: Math.floor(start), url, retried };
    state.target = start;
    player.hidden = false;
    player.src = url;
    // Clip names are whole seconds: the rest of the way by seeking.
    if (start - rec.start > 0.05)
      player.addEventListener('loadedmetadata', () => { player.currentTime = start - rec.start; }, { once: true });
    player.playbackRate = Number(speed.value);
    setMode('recorded');
    note.textContent = '';
    playBtn.textContent = 'Pause';
    await player.play().catch(() => {});
  }

  function now() {
    if (state.mode === 'live')
      return live && live.wallMs ? live.wallMs / 1000 : Date.now() / 1000;
    return rec ? mediaToWall(rec.start, recPlayer.currentTime, spans) : null;
  }

  function jump(secs) {
    const t = now();
    if (t === null)
      return;
    if (state.mode === 'live' && secs > 0)
      return;
    playAt(Math.min(t + secs, Date.now() / 1000));
  }

  function togglePlay() {
    const v = state.mode === 'live' ? liveVideo : recPlayer;
    if (v.paused) {
      if (live)
        live.userPaused = false;
      v.play().catch(() => {});
      playBtn.textContent = 'Pause';
    } else {
      if (live)
        live.userPaused = true;
      v.pause();
      playBtn.textContent = 'Play';
    }
  }

  function fullscreen() {
    if (document.fullscreenElement)
      document.exitFullscreen();
    else
      view.requestFullscreen?.().catch(() => {});
  }

  function setSpeed(i) {
    const idx = Math.min(SPEEDS.length - 1, Math.max(0, SPEEDS.indexOf(Number(speed.value)) + i));
    speed.value = String(SPEEDS[idx]);
    speed.dispatchEvent(new Event('change'));
  }

  speed.addEventListener('change', () => {
    recPlayer.playbackRate = Number(speed.value);
    if (state.mode === 'live' && Number(speed.value) > 1)
      jump(-60);
  });
  const ended = () => {
    if (!rec)
      return;
    const end = mediaToWall(rec.start, recPlayer.duration, spans);
    if (Date.now() / 1000 - end < 15)
      goLive();
    else
      playAt(end + 0.5);
  };
  // A clip one player cannot play may be the other's, once: MJPEG from a
  // camera whose codec status.json does not know (offline since camfs
  // started), or footage from before the camera changed codec.
  const failed = (player, other) => {
    if (rec && recPlayer === player && wrongPlayer(player) && !rec.retried)
      playClip(state.target, other, true);
    else
      note.textContent = 'This recording cannot be played';
  };
  recVideo.addEventListener('ended', ended);
  mjpeg.addEventListener('ended', ended);
  recVideo.addEventListener('error', () => failed(recVideo, mjpeg));
  mjpeg.addEventListener('error', () => failed(mjpeg, recVideo));

  function showSelection(sel) {
    if (!sel) {
      download.hidden = true;
      return;
    }
    const [a, b] = sel.map(Math.round);
    const url = tree.clipUrl(cam, a, b);
    download.href = url;
    download.download = `${cam}-${url.split('/').pop()}`;
    download.textContent = `Download ${tree.clipDuration(b - a)}`;
    download.hidden = false;
  }

  // --- days and the calendar.
  async function loadDay(d) {
    day = d;
    const from = tree.fromStore(tree.nameSecs(d));
    const [segs, motion, events] = await Promise.all([
      tree.segments(cam, d).catch(() => []),
      tree.motion(cam, d).catch(() => []),
      tree.eventDays(cam).then((ds) => (ds.includes(d) ? tree.events(cam, d) : [])).catch(() => []),
    ]);
    spans = tree.spansOf(segs);
    state.spans = spans;
    state.segments = segs;
    state.day = d;
    const dayFrom = tree.fromStore(tree.nameSecs(d));
    tl.setDay(dayFrom, dayFrom + 86400, spans, motion, events);
    dayLabel.textContent = new Date(from * 1000 + 12 * 3600e3).toLocaleDateString(undefined,
      { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' });
    prevDay.disabled = days.indexOf(d) <= 0;
    nextDay.disabled = days.indexOf(d) < 0 || days.indexOf(d) >= days.length - 1;
  }

  function stepDay(i) {
    const at = days.indexOf(day) + i;
    if (at >= 0 && at < days.length)
      loadDay(days[at]);
  }

  let month = null;
  function drawCalendar() {
    const [y, m] = month;
    const first = new Date(Date.UTC(y, m, 1));
    const have = new Set(days);
    const cells = [];
    for (let i = 0; i < (first.getUTCDay() + 6) % 7; i++)
      cells.push(el('span'));
    for (let d = 1; d <= new Date(Date.UTC(y, m + 1, 0)).getUTCDate(); d++) {
      const name = `${y}-${String(m + 1).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
      cells.push(el('button', {
        type: 'button', disabled: !have.has(name), 'aria-current': name === day ? 'date' : null, 'data-day': name,
        onclick: () => { calendar.hidden = true; loadDay(name); },
      }, String(d)));
    }
    const title = first.toLocaleDateString(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' });
    calendar.replaceChildren(
      el('div', { class: 'calhead' },
        button('‹', () => { month = m ? [y, m - 1] : [y - 1, 11]; drawCalendar(); }, { title: 'Previous month' }),
        el('span', {}, title),
        button('›', () => { month = m < 11 ? [y, m + 1] : [y + 1, 0]; drawCalendar(); }, { title: 'Next month' })),
      el('div', { class: 'calgrid' }, ...cells));
  }
  dayLabel.addEventListener('click', () => {
    calendar.hidden = !calendar.hidden;
    if (!calendar.hidden) {
      const [y, m] = (day || tree.dayOf(Date.now() / 1000)).split('-').map(Number);
      month = [y, m - 1];
      drawCalendar();
    }
  });

  // --- zoom and pan: wheel, pinch, drag; the transform of .pan.
  const zoom = { s: 1, x: 0, y: 0, pointers: new Map(), last: null };
  zoom.apply = () => {
    pan.style.transform = `translate(${zoom.x}px, ${zoom.y}px) scale(${zoom.s})`;
    stage.classList.toggle('zoomed', zoom.s > 1);
  };
  zoom.reset = () => { Object.assign(zoom, { s: 1, x: 0, y: 0 }); zoom.apply(); };
  zoom.at = (factor, cx, cy) => {
    const r = stage.getBoundingClientRect();
    const s = Math.min(8, Math.max(1, zoom.s * factor));
    const px = cx - r.left, py = cy - r.top;
    zoom.x = px - (px - zoom.x) * (s / zoom.s);
    zoom.y = py - (py - zoom.y) * (s / zoom.s);
    zoom.s = s;
    if (s === 1)
      zoom.x = zoom.y = 0;
    zoom.apply();
  };
  stage.addEventListener('wheel', (e) => {
    e.preventDefault();
    zoom.at(Math.exp(-e.deltaY / 400), e.clientX, e.clientY);
  }, { passive: false });
  stage.addEventListener('pointerdown', (e) => {
    stage.setPointerCapture(e.pointerId);
    zoom.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
  });
  stage.addEventListener('pointermove', (e) => {
    const p = zoom.pointers.get(e.pointerId);
    if (!p)
      return;
    if (zoom.pointers.size === 2) {
      const [a, b] = [...zoom.pointers.values()];
      const before = Math.hypot(a.x - b.x, a.y - b.y);
      p.x = e.clientX;
      p.y = e.clientY;
      const after = Math.hypot(a.x - b.x, a.y - b.y);
      if (before > 0)
        zoom.at(after / before, (a.x + b.x) / 2, (a.y + b.y) / 2);
      return;
    }
    if (zoom.s > 1) {
      zoom.x += e.clientX - p.x;
      zoom.y += e.clientY - p.y;
      zoom.apply();
    }
    p.x = e.clientX;
    p.y = e.clientY;
  });
  const lift = (e) => zoom.pointers.delete(e.pointerId);
  stage.addEventListener('pointerup', lift);
  stage.addEventListener('pointercancel', lift);
  stage.addEventListener('dblclick', () => zoom.reset());

  // --- keyboard.
  function key(e) {
    if (e.target.closest('input, select, textarea') || e.ctrlKey || e.metaKey || e.altKey)
      return;
    const k = e.key;
    if (k === ' ' || k === 'k')
      togglePlay();
    else if (k === 'ArrowLeft' && e.target !== tl.canvas)
      jump(e.shiftKey ? -60 : -10);
    else if (k === 'ArrowRight' && e.target !== tl.canvas)
      jump(e.shiftKey ? 60 : 10);
    else if (k === 'l' || k === 'L')
      goLive();
    else if (k === 'f' || k === 'F')
      fullscreen();
    else if (k === '+' || k === '=')
      setSpeed(1);
    else if (k === '-')
      setSpeed(-1);
    else if (k === '0')
      zoom.reset();
    else if (k === 'e' || k === 'E')
      location.hash = `#/events?cam=${encodeURIComponent(cam)}`;
    else if (k === 'Escape' && !document.fullscreenElement)
      location.hash = '#/';
    else
      return;
    e.preventDefault();
  }
  document.addEventListener('keydown', key);

  // --- the readout; today's timeline grows.
  // What the clock shows, read when asked: a copy kept by the tick would
  // still hold the live time for up to a tick after a click on the timeline.
  Object.defineProperty(state, 'now', { get: now, enumerable: true });
  let loadedAt = Date.now();
  function readout() {
    const t = now();
    clock.textContent = t ? tree.showTime(t, true) : '';
    if (state.mode === 'live' && live && live.lagMs !== null && !live.fallback)
      lag.textContent = `lag ${(live.lagMs / 1000).toFixed(2)} s`;
    else
      lag.textContent = state.mode === 'recorded' && recPlayer.playbackRate !== 1 ? `${recPlayer.playbackRate}×` : '';
    if (t && !tl.drag)
      tl.setHead(t);
  }
  recVideo.addEventListener('timeupdate', readout);
  mjpeg.addEventListener('timeupdate', readout);
  const tick = setInterval(() => {
    if (day && day === tree.dayOf(Date.now() / 1000) && Date.now() - loadedAt > 15000 && !tl.drag) {
      loadedAt = Date.now();
      loadDay(day);
    }
    readout();
  }, 200);

  (async () => {
    days = await tree.days(cam).catch(() => []);
    const startAt = Number(q.get('t'));
    const d = startAt ? tree.dayOf(startAt) : days[days.length - 1] || tree.dayOf(Date.now() / 1000);
    await loadDay(d);
    if (startAt)
      playAt(startAt);
  })();
  if (!Number(q.get('t')))
    goLive();

  return {
    close() {
      clearInterval(tick);
      board.close();
      document.removeEventListener('keydown', key);
      stopLive();
      recVideo.removeAttribute('src');
      recVideo.load();
      mjpeg.unload();
      delete window.camfs.camera;
    },
  };
}
