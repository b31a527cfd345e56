// feed.js - every camera's status, kept current: the export's /events
// stream where there is one, else status.json read every few seconds (a
// plain file server). Motion starts raise a notification when allowed.
import * as tree from './tree.js';
import { LivePlayer } from './live.js';

const POLL_MS = 5000;

export class Feed {
  constructor() {
    this.cams = new Map();       // name -> status (status.json's fields)
    this.listeners = new Set();
    this.motionListeners = new Set();
    this.kind = null;            // 'sse' or 'poll'
  }

  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onMotion(fn) {
    this.motionListeners.add(fn);
    return () => this.motionListeners.delete(fn);
  }

  emit() {
    for (const fn of this.listeners)
      fn(this.cams);
  }

  list() {
    return [...this.cams.values()];
  }

  async start() {
    try {
      for (const c of await tree.status())
        this.cams.set(c.name, c);
    } catch (e) {
      console.info('status.json:', e.message);
    }
    this.emit();
    if (!('EventSource' in window)) {
      this.poll();
      return;
    }
    const es = new EventSource('events');
    let opened = false;
    es.onopen = () => {
      opened = true;
      this.kind = 'sse';
    };
    es.addEventListener('status', (m) => {
      const j = JSON.parse(m.data);
      const c = this.cams.get(j.camera) || { name: j.camera };
      Object.assign(c, {
        online: j.online, codec: j.codec, width: j.width, height: j.height,
        fps: j.fps, since: j.since, last_error: j.error || c.last_error || null,
      });
      this.cams.set(j.camera, c);
      this.emit();
    });
    es.addEventListener('motion', (m) => {
      const j = JSON.parse(m.data);
      const c = this.cams.get(j.camera);
      if (c)
        c.in_event = j.phase === 'start';
      this.emit();
      for (const fn of this.motionListeners)
        fn(j);
      if (j.phase === 'start')
        notify(j);
    });
    es.onerror = () => {
      if (opened)
        return;      // EventSource reconnects by itself
      // No event stream here: only files are served.
      es.close();
      LivePlayer.mjpeg = false;
      this.poll();
    };
  }

  poll() {
    this.kind = 'poll';
    const seen = new Map([...this.cams].map(([n, c]) => [n, c.in_event]));
    setInterval(async () => {
      try {
        for (const c of await tree.status()) {
          if (c.in_event && seen.get(c.name) === false)
            notify({ camera: c.name, phase: 'start', time: new Date().toISOString() });
          seen.set(c.name, c.in_event);
          this.cams.set(c.name, c);
        }
        this.emit();
      } catch { /* next time */ }
    }, POLL_MS);
  }
}

export function notificationsAllowed() {
  return 'Notification' in window && Notification.permission === 'granted';
}

export async function askNotifications() {
  if (!('Notification' in window))
    return 'unsupported';
  return Notification.requestPermission();
}

function notify(j) {
  if (!notificationsAllowed())
    return;
  const title = `Motion: ${j.camera}`;
  const opts = {
    body: `started ${new Date(j.time).toLocaleTimeString()}`,
    tag: `motion-${j.camera}`,
    icon: 'icons/icon-192.png',
    data: { url: `#/events?cam=${encodeURIComponent(j.camera)}` },
  };
  try {
    const n = new Notification(title, opts);
    n.onclick = () => {
      window.focus();
      location.hash = opts.data.url;
    };
  } catch {
    // Where the page may not construct one (Android), the worker shows it.
    navigator.serviceWorker?.ready.then((r) => r.showNotification(title, opts));
  }
}
