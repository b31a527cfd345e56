// sw.js - the service worker: keeps the app shell (HTML, CSS, JS, icons)
// for offline start and installability. Never video, listings or events:
// those are always the network's.
const CACHE = 'camfs-shell-v3';
const SHELL = [
  './', 'index.html', 'style.css', 'manifest.webmanifest',
  'js/app.js', 'js/board.js', 'js/camera.js', 'js/events.js', 'js/feed.js', 'js/grid.js',
  'js/live.js', 'js/mjpegplay.js', 'js/mp4.js', 'js/status.js', 'js/timeline.js', 'js/tree.js', 'js/ui.js',
  'icons/icon.svg', 'icons/icon-192.png', 'icons/icon-512.png',
];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// Network first (a new version is seen at once), the cache when offline;
// only for the shell's own files.
self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  const scope = new URL(self.registration.scope);
  if (e.request.method !== 'GET' || url.origin !== scope.origin)
    return;
  const rel = url.pathname.slice(scope.pathname.length);
  if (!SHELL.includes(rel === '' ? './' : rel))
    return;
  e.respondWith(fetch(e.request).then((r) => {
    if (r.ok) {
      const copy = r.clone();
      caches.open(CACHE).then((c) => c.put(e.request, copy));
    }
    return r;
  }).catch(() => caches.match(e.request)));
});

self.addEventListener('notificationclick', (e) => {
  e.notification.close();
  const url = new URL(e.notification.data?.url || './', self.registration.scope).href;
  e.waitUntil(self.clients.matchAll({ type: 'window' }).then((list) => {
    for (const c of list)
      if ('focus' in c)
        return c.navigate(url).then((w) => w && w.focus());
    return self.clients.openWindow(url);
  }));
});
