// board.js - the settings of a camera's pushing ESP32 board (status.json's
// "board"): what it reports, and the commands camfs forwards to it (POST
// /cams/NAME/command). Shown only for cameras with a board.
import { el, button } from './ui.js';
import * as tree from './tree.js';

// The sensor's frame sizes by index (esp32-camera's framesize_t).
const SIZES = ['96×96', '160×120', '176×144', '240×176', '240×240', '320×240', '400×296',
  '480×320', '640×480', '800×600', '1024×768', '1280×720', '1280×1024', '1600×1200',
  '1920×1080', '720×1280', '864×1536', '2048×1536', '2560×1440', '2560×1600', '1080×1920',
  '2560×1920'];
const FPS = [1, 2, 5, 10, 15, 20, 25];

export function boardPanel(cam) {
  const facts = el('span', { class: 'facts', role: 'status' });
  const said = el('span', { class: 'said', 'aria-live': 'polite' });
  const size = el('select', { 'aria-label': 'Frame size' },
    ...SIZES.map((s, i) => el('option', { value: i }, s)));
  const fps = el('select', { 'aria-label': 'Frames per second' },
    ...FPS.map((f) => el('option', { value: f }, `${f} fps`)));
  const root = el('details', { class: 'board', hidden: '' },
    el('summary', {}, 'Board'), facts,
    el('div', { class: 'controls', role: 'toolbar', 'aria-label': 'Board settings' },
      size, button('Set size', () => send(`framesize=${size.value}`)),
      fps, button('Set fps', () => send(`fps=${fps.value}`)),
      button('Pause', () => send('pause=1')), button('Resume', () => send('pause=0')),
      button('Refresh', () => send('status'), { title: 'Ask the board for its full status' }),
      button('Reboot', () => {
        if (confirm(`Reboot the board of ${cam}? It records nothing until it is back.`))
          send('reset', '?confirm=reset');
      }), said));

  async function send(cmd, query = '') {
    said.textContent = '…';
    try {
      const r = await fetch(`cams/${encodeURIComponent(cam)}/command${query}`,
        { method: 'POST', body: cmd, headers: { 'Content-Type': 'text/plain' } });
      said.textContent = (await r.text()).trim().replace(/^\d+ /, '');
    } catch (e) {
      said.textContent = String(e);
    }
    setTimeout(refresh, 1500);
  }

  function show(b) {
    root.hidden = !b;
    if (!b)
      return;
    const parts = [b.connected ? `connected from ${b.address}` : 'not connected'];
    if (b.framesize !== undefined && SIZES[b.framesize])
      parts.push(SIZES[b.framesize]);
    if (b.fps)
      parts.push(`${b.fps} fps`);
    if (b.paused === 'yes')
      parts.push('paused');
    if (b.wifi_rssi)
      parts.push(`Wi-Fi ${b.wifi_rssi} dBm`);
    if (b.clock_offset_s)
      parts.push(`clock ${b.clock_offset_s} s off`);
    if (b.fw_version)
      parts.push(`firmware ${b.fw_version}`);
    facts.textContent = parts.join(' · ');
    if (document.activeElement !== size && b.framesize !== undefined)
      size.value = b.framesize;
    if (document.activeElement !== fps && FPS.includes(Number(b.fps)))
      fps.value = b.fps;
  }

  async function refresh() {
    try {
      const mine = (await tree.status()).find((c) => c.name === cam);
      show(mine && mine.board);
    } catch { /* next time */ }
  }
  const timer = setInterval(refresh, 5000);
  refresh();
  return { root, close() { clearInterval(timer); } };
}
