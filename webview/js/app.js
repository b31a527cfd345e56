// app.js - the viewer's entry: routes (#/ grid, #/cam/NAME, #/events,
// #/status), the shared status feed and live hub, the service worker.
import { Feed, askNotifications, notificationsAllowed } from './feed.js';
import { LiveHub, players } from './live.js';
import { gridView } from './grid.js';
import { cameraView } from './camera.js';
import { eventsView } from './events.js';
import { statusView } from './status.js';

const feed = new Feed();
const hub = new LiveHub();
const main = document.getElementById('view');
let current = null;          // the shown view: {close()}

// For tests and benchmarks: what the live players see.
window.camfs = { feed, hub, players, stats: () => players.map((p) => p.stats()) };

function parseHash() {
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, q: new URLSearchParams(query || '') };
}

function route() {
  const { parts, q } = parseHash();
  if (current)
    current.close();
  main.replaceChildren();
  const ctx = { feed, hub, main, q };
  let name = 'grid';
  if (parts[0] === 'cam' && parts[1]) {
    name = 'cam';
    current = cameraView(ctx, parts[1]);
  } else if (parts[0] === 'events') {
    name = 'events';
    current = eventsView(ctx);
  } else if (parts[0] === 'status') {
    name = 'status';
    current = statusView(ctx);
  } else {
    current = gridView(ctx);
  }
  document.body.dataset.view = name;
  for (const a of document.querySelectorAll('[data-nav]'))
    a.toggleAttribute('aria-current', a.dataset.nav === name);
}

const bell = document.getElementById('notify');
function showBell() {
  bell.classList.toggle('on', notificationsAllowed());
  bell.setAttribute('aria-pressed', String(notificationsAllowed()));
}
bell.addEventListener('click', async () => {
  await askNotifications();
  showBell();
});
showBell();

window.addEventListener('hashchange', route);
feed.start();
route();

// The app shell works offline once installed; video never goes through it.
if ('serviceWorker' in navigator && window.isSecureContext)
  navigator.serviceWorker.register('sw.js').catch((e) => console.info('service worker:', e.message));
