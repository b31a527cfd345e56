// webview.mjs - the web viewer in Debian's Chromium (playwright-core)
// against a real camfs: grid, live lag, JPEG fallback, reconnect, timeline,
// playback from a click, speed, download, events, notifications, service
// worker, status; screenshots at 1280x800 and 390x844 into OUTDIR. Compares
// what the viewer shows with the tree at MOUNT. Exits non-zero on the first
// failed check, on a console error or on a request that failed unexpectedly.
//   node webview.mjs BASE_URL MOUNT OUTDIR camfs|nginx [FIXTURE_PID]
// Cameras: a (H.264, from the RTSP fixture), b (H.265, the fixture),
// demo-moving and demo-static (camfs --demo); in nginx mode the subset that needs
// no camfs server (grid over h2 fetches, timeline play, events).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { check, launchChromium, report, sleep, until } from './chromium.mjs';

const [base, mount, outdir, mode, fixturePid] = process.argv.slice(2);
const nginx = mode === 'nginx';
const H264 = ['a', 'demo-moving', 'demo-static'];
const browser = await launchChromium('webview', {
  ignoreHTTPSErrors: false,
  viewport: { width: 1280, height: 800 },
  acceptDownloads: true,
  args: nginx ? [`--ignore-certificate-errors-spki-list=${process.env.SPKI || ''}`] : [],
});
const { context } = browser;
await context.grantPermissions(['notifications'], { origin: base });
// Notifications are recorded, not shown.
await context.addInitScript(() => {
  window.__notes = [];
  const N = window.Notification;
  if (!N)
    return;
  const Fake = function (title, opts) { window.__notes.push({ title, opts }); return new EventTarget(); };
  Object.defineProperty(Fake, 'permission', { get: () => N.permission });
  Fake.requestPermission = N.requestPermission.bind(N);
  window.Notification = Fake;
});

const result = { mode };
const problems = [];
// Requests the viewer makes and expects to lose: streams it closes itself,
// and on a plain file server the export's own endpoints.
const expected = (url, err) => (err === 'net::ERR_ABORTED' && /live\.mp4|clips\/|events\/.*\.mp4|live\.mjpeg|\/events$/.test(url)) ||
  // nginx takes the mount's short live.mp4 reads for a truncated file (the
  // test's nginx has no `directio`): the stream breaks, the tile shows live.jpg.
  (nginx && /\/events$|live\.mjpeg|live\.mp4/.test(url));

function watch(page, name) {
  page.on('console', (m) => {
    if (m.type() === 'error' && !(nginx && /events|mjpeg|live\.mp4/.test(m.location()?.url || '')))
      problems.push(`${name} console: ${m.text()} ${m.location()?.url || ''}`);
  });
  page.on('pageerror', (e) => problems.push(`${name} page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    if (!expected(r.url(), r.failure()?.errorText))
      problems.push(`${name} request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !expected(r.url(), ''))
      problems.push(`${name} HTTP ${r.status()}: ${r.url()}`);
  });
}

const shot = (page, name) => page.screenshot({ path: join(outdir, `${name}.png`) });
const stats = (page) => page.evaluate(() => window.camfs.stats());
const p95 = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length * 0.95)]; };

// The tree's truth, read through the mount (not through the viewer).
const jsonOf = (p) => JSON.parse(readFileSync(join(mount, p), 'utf8'));
const today = () => readdirSync(join(mount, 'demo-moving')).filter((n) => /^\d{4}-\d\d-\d\d$/.test(n)).sort().pop();
function eventCounts(cams) {
  const counts = {};
  for (const c of cams) {
    let days = [];
    try { days = readdirSync(join(mount, c, 'events')); } catch { continue; }
    for (const d of days)
      counts[d] = (counts[d] || 0) + readdirSync(join(mount, c, 'events', d)).filter((n) => n.endsWith('.jpg')).length;
  }
  return counts;
}

// Names, badges and clocks sit beside the picture, not on it: cameras burn
// their own clock and name into its corners.
async function labelsOffPicture(page, box, labels, picture, what) {
  const hits = await page.$$eval(box, (els, [labels, picture]) => els.flatMap((b) => {
    const p = b.querySelector(picture).getBoundingClientRect();
    return [...b.querySelectorAll(labels)].filter((l) => {
      const r = l.getBoundingClientRect();
      return r.height > 0 && r.bottom > p.top + 0.5 && r.top < p.bottom - 0.5;
    }).map((l) => `${b.dataset.cam}: ${l.className}`);
  }), [labels, picture]);
  check(hits.length === 0, `${what}: labels over the picture: ${hits.join(', ')}`);
}

async function grid(page) {
  await page.goto(`${base}/`);
  const cams = [...H264, 'b'];
  await until(page, (n) => document.querySelectorAll('.tile').length === n, cams.length, 15000, 'a tile per camera');
  result.tiles = {};
  if (nginx) {
    // Pictures in every tile: live video if the server streams live.mp4,
    // else live.jpg, refreshed (and said so).
    await until(page, (c) => c.every((cam) => window.camfs.stats().some((s) => s.cam === cam && s.frames >= 2)),
      H264, 25000, 'every tile shows pictures');
    const before = await stats(page);
    await sleep(3000);
    for (const b of await stats(page)) {
      const a = before.find((s) => s.cam === b.cam);
      result.tiles[b.cam] = { fallback: b.fallback, framesIn3s: b.frames - a.frames };
    }
    // Refreshed: two more pictures in each tile (live.jpg comes once a
    // second, but one slow fetch is no fault).
    await until(page, (want) => want.every(([cam, n]) => window.camfs.stats().some((s) => s.cam === cam && s.frames >= n)),
      before.map((s) => [s.cam, s.frames + 2]), 10000, 'every tile\'s picture is refreshed');
    return;
  }
  await labelsOffPicture(page, '.tile', '.top, .bottom', '.picture', 'grid');
  // Every H.264 tile plays: frames are decoded and keep coming.
  await until(page, (c) => c.every((cam) => window.camfs.stats().some((s) => s.cam === cam && s.totalVideoFrames > 5)),
    H264, 20000, 'every H.264 tile decodes frames');
  // Lag at the live edge: after 2 s to settle (the start's catch-up is
  // not lag), over the next 3 s.
  await sleep(2000);
  await page.evaluate(() => { for (const p of window.camfs.players) p.lags = []; });
  const before = await stats(page);
  await sleep(3000);
  const after = await stats(page);
  for (const cam of H264) {
    const a = before.find((s) => s.cam === cam), b = after.find((s) => s.cam === cam);
    const lags = b.lags;
    result.tiles[cam] = { framesIn3s: b.totalVideoFrames - a.totalVideoFrames, lagP95Ms: Math.round(p95(lags)), firstPictureMs: Math.round(b.firstPictureMs) };
    check(b.totalVideoFrames - a.totalVideoFrames >= 20, `${cam}: the video advances (${a.totalVideoFrames} -> ${b.totalVideoFrames})`);
    check(lags.length >= 10 && p95(lags) <= 1000, `${cam}: lag p95 ${p95(lags)} ms <= 1 s`);
  }
  // H.265: the tile says it cannot play it here and shows the JPEG fallback.
  await until(page, () => {
    const t = document.querySelector('.tile[data-cam="b"]');
    const img = t && t.querySelector('img');
    return img && !img.hidden && img.naturalWidth > 0 && /H265/.test(t.textContent);
  }, null, 15000, 'the H.265 tile shows its JPEG fallback');
  // ... and plays it: the picture changes (the test clip's box moves).
  const sample = () => page.evaluate(() => {
    const img = document.querySelector('.tile[data-cam="b"] img');
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 36;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0, 64, 36);
    return Array.from(g.getImageData(0, 0, 64, 36).data).join();
  });
  const p0 = await sample();
  let changed = false;
  for (let i = 0; i < 20 && !changed; i++) {
    await sleep(500);
    changed = (await sample()) !== p0;
  }
  check(changed, 'the H.265 fallback picture moves');
  result.tiles.b = { fallback: true, moves: changed };
}

async function reconnect(page) {
  // The fixture freezes; camfs finds the camera stalled; the fixture comes
  // back; the tile plays again without a reload.
  const frames = async () => (await stats(page)).find((s) => s.cam === 'a').totalVideoFrames;
  process.kill(Number(fixturePid), 'SIGSTOP');
  await until(page, () => document.querySelector('.tile[data-cam="a"]').classList.contains('offline'), null, 20000,
    'the tile of a frozen camera says offline');
  const reason = await page.textContent('.tile[data-cam="a"] .note');
  process.kill(Number(fixturePid), 'SIGCONT');
  const t0 = Date.now();
  const f0 = await frames();
  await until(page, (f) => window.camfs.stats().find((s) => s.cam === 'a').totalVideoFrames > f + 15 &&
    !document.querySelector('.tile[data-cam="a"]').classList.contains('offline'), f0, 30000, 'the tile plays again after the camera returns');
  result.reconnect = { offlineNote: reason, playsAgainMs: Date.now() - t0 };
}

async function timeline(page, cam) {
  await page.goto(`${base}/#/cam/${cam}`);
  const day = today();
  await until(page, (d) => window.camfs.camera && window.camfs.camera.day === d && window.camfs.camera.spans.length > 0, day, 15000, 'the day is loaded');
  // Spans: the segments the mount lists for the day, merged where they touch.
  const segs = jsonOf(`${cam}/${day}/.index.json`).entries.filter((e) => /^\d\d-\d\d-\d\d\.mp4$/.test(e.name));
  const view = await page.evaluate(() => ({ spans: window.camfs.camera.spans, segs: window.camfs.camera.segments.length,
    motion: window.camfs.timeline.motion.length, from: window.camfs.timeline.from }));
  // A segment may start between the page's listing and ours, either way.
  check(Math.abs(view.segs - segs.length) <= 1, `${cam}: ${view.segs} segments shown, the tree has ${segs.length}`);
  const first = Math.min(...segs.map((s) => s.start));
  check(Math.abs(view.spans[0].start - first) < 0.01, `${cam}: the first span starts at the first segment (${view.spans[0].start} vs ${first})`);
  const recorded = segs.reduce((n, s) => n + s.duration, 0);
  const shown = view.spans.reduce((n, s) => n + s.end - s.start, 0);
  check(Math.abs(shown - recorded) < 3 + 60, `${cam}: ${shown.toFixed(1)} s shown as recorded, the tree says ${recorded.toFixed(1)} s`);
  // The store's segment files themselves: each one's start is a named second inside a span.
  for (const s of segs)
    check(view.spans.some((sp) => s.start >= sp.start - 0.01 && s.start < sp.end + 0.01), `${cam}: segment ${s.name} is in a span`);
  // The motion graph is motion.csv: a point per row, the same scores.
  const csv = readFileSync(join(mount, cam, day, 'motion.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[1]));
  const rows = csv.length;
  check(Math.abs(view.motion - rows) <= 3, `${cam}: ${view.motion} motion points, motion.csv has ${rows} rows`);
  const scores = await page.evaluate(() => window.camfs.timeline.motion.map((m) => m.score));
  const n = Math.min(scores.length, csv.length);
  check(n > 10 && scores.slice(0, n).every((s, i) => s === csv[i]) && csv.some((s) => s > 0),
    `${cam}: the graph's scores are motion.csv's (and some are above 0)`);
  // The drawing: a span's middle is the span colour, the hour before the first span is a gap.
  const px = await page.evaluate(() => {
    const tl = window.camfs.timeline, c = tl.canvas, g = c.getContext('2d');
    const sp = window.camfs.camera.spans[0], dpr = c.width / c.clientWidth;
    // The playhead and the motion graph would cover a span a pixel wide.
    const { head, motion } = tl;
    tl.head = null;
    tl.motion = [];
    tl.draw();
    const at = (t) => [...g.getImageData(Math.floor(tl.x(t) * dpr), Math.round(15 * dpr), 1, 1).data].slice(0, 3);
    const out = { span: at((sp.start + sp.end) / 2), gap: at(sp.start - 3600) };
    Object.assign(tl, { head, motion });
    tl.draw();
    return out;
  });
  check(px.span[1] > px.span[0] + 40, `${cam}: the span is drawn green (${px.span})`);
  check(px.gap[1] < 60, `${cam}: the gap is drawn dark (${px.gap})`);
  result.timeline = { segments: segs.length, spans: view.spans.length, motionPoints: view.motion };

  // Zoom the bar in (a day at 1280 px is ~70 s a pixel) and click a time:
  // the picture plays from it within a second.
  // The buttons zoom around the playhead, once live has set it.
  await until(page, () => window.camfs.timeline.head !== null, null, 5000, 'the playhead is set');
  for (let i = 0; i < 3; i++)
    await page.click('button.zoomin');
  const sp = view.spans[0];
  const target = sp.start + Math.min(20, (sp.end - sp.start) / 2);
  const box = await page.locator('canvas.timeline').boundingBox();
  const xOf = async (t) => page.evaluate((t) => { const tl = window.camfs.timeline; return (t - tl.vFrom) / (tl.vTo - tl.vFrom); }, t);
  const x = box.x + (await xOf(target)) * box.width;
  const perPx = await page.evaluate((w) => (window.camfs.timeline.vTo - window.camfs.timeline.vFrom) / w, box.width);
  check(perPx < 2, `zoomed in to ${perPx} s a pixel`);
  const t0 = Date.now();
  await page.mouse.click(x, box.y + box.height / 2);
  const clicked = await page.evaluate(() => window.camfs.camera.target);
  await until(page, () => {
    const v = document.querySelector('.camera video[aria-label$="recorded"]');
    return v && !v.paused && v.currentTime > 0.1 && v.readyState >= 3;
  }, null, 5000, 'the recording plays after a click');
  const startMs = Date.now() - t0;
  const shownAt = await page.evaluate(() => window.camfs.camera.now);
  const src = await page.evaluate(() => document.querySelector('.camera video[aria-label$="recorded"]').src);
  check(Math.abs(clicked - target) < perPx * 2, `the click chose ${clicked}, aimed at ${target}`);
  check(shownAt - clicked >= -1 && shownAt - clicked < 1 + startMs / 1000, `the clock shows ${shownAt - clicked} s after the clicked time`);
  check(startMs < 1500, `playback started ${startMs} ms after the click`);
  result.clickPlay = { startMs, clipUrl: src.replace(base, ''), offset: +(shownAt - clicked).toFixed(2) };
  await shot(page, `timeline-1280`);
  return { target, sp };
}

async function speed(page) {
  await page.selectOption('.controls select', '4');
  // Media time against the page's own clock, read in the same call.
  const now = () => page.evaluate(() => [document.querySelector('.camera video[aria-label$="recorded"]').currentTime, performance.now()]);
  const [a, t0] = await now();
  await sleep(2000);
  const [b, t1] = await now();
  const rate = (b - a) / ((t1 - t0) / 1000);
  result.speed4 = +rate.toFixed(2);
  check(rate > 3.2 && rate < 4.8, `4x plays ${rate.toFixed(2)}x`);
  await page.selectOption('.controls select', '1');
}

async function download(page, sp) {
  // Shift-drag over 20 s inside the span (the bar is still zoomed in),
  // then the Download link: a clip of the selected range.
  const v = await page.evaluate(() => [window.camfs.timeline.vFrom, window.camfs.timeline.vTo]);
  const box = await page.locator('canvas.timeline').boundingBox();
  const xOf = (t) => box.x + ((t - v[0]) / (v[1] - v[0])) * box.width;
  await page.keyboard.down('Shift');
  await page.mouse.move(xOf(sp.start + 3), box.y + 30);
  await page.mouse.down();
  await page.mouse.move(xOf(sp.start + 23), box.y + 30, { steps: 4 });
  await page.mouse.up();
  await page.keyboard.up('Shift');
  const sel = await page.evaluate(() => window.camfs.timeline.selection.map(Math.round));
  const spans = await page.evaluate(() => window.camfs.camera.spans);
  const want = spans.reduce((n, s) => n + Math.max(0, Math.min(s.end, sel[1]) - Math.max(s.start, sel[0])), 0);
  const link = page.locator('a.download');
  check(await link.isVisible(), 'a selection offers a download');
  const [dl] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const file = join(outdir, dl.suggestedFilename());
  await dl.saveAs(file);
  const dur = Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]).toString());
  execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', file, '-f', 'null', '-']);
  result.download = { name: dl.suggestedFilename(), seconds: dur, selected: sel[1] - sel[0], recorded: +want.toFixed(1) };
  check(/^demo-moving-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d--\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.mp4$/.test(dl.suggestedFilename()),
    `the download is named after its clip: ${dl.suggestedFilename()}`);
  check(Math.abs(sel[1] - sel[0] - 20) < 3 && Math.abs(dur - want) < 1.5,
    `the download is ${dur} s long, ${want.toFixed(1)} s recorded were selected (${sel[1] - sel[0]} s)`);
}

async function keys(page) {
  // Keyboard: L goes live, ← goes 10 s back into the recording; the wheel
  // zooms the picture, 0 resets it.
  await page.focus('main');
  await page.keyboard.press('l');
  await until(page, () => window.camfs.camera.mode === 'live', null, 3000, 'L goes live');
  await until(page, () => window.camfs.camera.now > Date.now() / 1000 - 3, null, 8000, 'live shows now');
  const before = await page.evaluate(() => window.camfs.camera.now);
  await page.keyboard.press('ArrowLeft');
  await until(page, () => window.camfs.camera.mode === 'recorded', null, 3000, '← leaves live');
  const target = await page.evaluate(() => window.camfs.camera.target);
  check(Math.abs(before - 10 - target) < 2, `← plays from 10 s back (${(before - target).toFixed(1)} s)`);
  const box = await page.locator('.stage').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -600);
  const zoomed = await page.$eval('.pan', (p) => new DOMMatrix(getComputedStyle(p).transform).a);
  check(zoomed > 1.5, `the wheel zooms the picture (${zoomed})`);
  await page.keyboard.press('0');
  const reset = await page.$eval('.pan', (p) => new DOMMatrix(getComputedStyle(p).transform).a);
  check(reset === 1, `0 resets the zoom (${reset})`);
  result.keys = { back: +(before - target).toFixed(1), zoom: +zoomed.toFixed(2) };
}

async function events(page) {
  await page.goto(`${base}/#/events`);
  const cams = ['a', 'b', 'demo-moving', 'demo-static'];
  await until(page, () => window.camfs.events && Object.keys(window.camfs.events.counts).length > 0, null, 15000, 'the events chart');
  // Counts equal the snapshots in the tree (read before and after: the demo
  // camera may add one meanwhile).
  const lo = eventCounts(cams);
  await page.evaluate(() => document.querySelector('.events select').dispatchEvent(new Event('change')));
  await sleep(1500);
  const shown = await page.evaluate(() => window.camfs.events.counts);
  const hi = eventCounts(cams);
  for (const d of Object.keys(hi))
    check(shown[d] >= (lo[d] || 0) && shown[d] <= hi[d], `${d}: the chart says ${shown[d]} events, the tree has ${lo[d]}..${hi[d]}`);
  const bars = await page.$$eval('.chart .day', (b) => b.map((x) => [x.dataset.day, Number(x.dataset.count)]));
  for (const [d, n] of bars)
    check(n === shown[d], `${d}: the bar says ${n}`);
  result.events = shown;
  await shot(page, 'events-1280');
  // A snapshot plays its event's clip.
  const first = page.locator('.gallery .shot').first();
  const stem = await first.getAttribute('data-stem');
  await first.click();
  await until(page, () => { const v = document.querySelector('dialog.clip video'); return v && v.currentTime > 0.5; }, null, 8000, 'the event clip plays');
  const src = await page.evaluate(() => document.querySelector('dialog.clip video').src);
  check(src.endsWith(`${stem}.mp4`), `the gallery played ${src} for ${stem}`);
  await page.click('dialog.clip .close');
  // Filter by camera: only that camera's events.
  await page.selectOption('.events select', 'demo-moving');
  await sleep(1500);
  const only = await page.$$eval('.gallery .shot', (s) => s.map((x) => x.dataset.cam));
  check(only.length > 0 && only.every((c) => c === 'demo-moving'), 'the camera filter shows only that camera');
}

await report(browser, outdir, result, problems, async () => {
  const page = await context.newPage();
  watch(page, 'desktop');
  await grid(page);
  await shot(page, 'grid-1280');
  if (!nginx) {
    await reconnect(page);
    result.serviceWorker = await page.evaluate(() => navigator.serviceWorker.ready.then((r) => !!r.active));
    check(result.serviceWorker, 'the service worker installs');
    // Status page: a row per camera.
    await page.goto(`${base}/#/status`);
    await until(page, () => document.querySelectorAll('table.status tbody tr').length === 4, null, 5000, 'a status row per camera');
    await shot(page, 'status-1280');
  }
  const { sp } = await timeline(page, 'demo-moving');
  await shot(page, 'camera-1280');
  if (!nginx) {
    await speed(page);
    await download(page, sp);
    await keys(page);
  }
  await events(page);
  if (!nginx) {
    // A new motion event raises a notification.
    await page.goto(`${base}/`);
    await until(page, () => window.__notes.some((n) => /demo-moving/.test(n.title)), null, 45000, 'a notification for a new motion event');
    result.notification = await page.evaluate(() => window.__notes[0].title);
  }
  // The phone.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/`);
  await until(page, () => window.camfs.stats().filter((s) => s.frames > 2).length >= 3, null, 20000, 'the phone grid plays');
  await until(page, () => document.querySelector('.tile[data-cam="b"] img').naturalWidth > 0, null, 10000, 'the phone H.265 tile shows a picture');
  const widths = await page.$$eval('.tile', (t) => t.map((x) => x.getBoundingClientRect().width));
  check(widths.every((w) => w > 330), `one column on a phone (${widths})`);
  await labelsOffPicture(page, '.tile', '.top, .bottom', '.picture', 'phone grid');
  await shot(page, 'grid-390');
  await page.goto(`${base}/#/cam/demo-moving`);
  await until(page, () => window.camfs.camera && window.camfs.camera.spans && window.camfs.camera.spans.length > 0, null, 10000, 'phone timeline');
  await sleep(1500);
  await labelsOffPicture(page, '.camera', '.overlay', '.stage', 'phone camera page');
  await shot(page, 'camera-390');
  await page.goto(`${base}/#/events`);
  await until(page, () => document.querySelectorAll('.gallery .shot').length > 0, null, 10000, 'phone events');
  await sleep(800);
  await shot(page, 'events-390');
  check(problems.length === 0, `no console errors or failed requests:\n  ${problems.join('\n  ')}`);
});
