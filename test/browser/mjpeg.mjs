// mjpeg.mjs - recorded playback of an MJPEG camera in the web viewer, in
// Debian's Chromium (playwright-core) against a real camfs: a timeline
// click plays the footage on a canvas (frames drawn at the recorded rate,
// the camera's size, the picture changing), seeking inside and outside the
// loaded clip, 4x, pause, the event clip on the events page, the phone;
// screenshots at 1280x800 and 390x844 into OUTDIR. Exits non-zero on the
// first failed check, on a console error or an unexpected failed request.
//   node mjpeg.mjs BASE_URL MOUNT OUTDIR CAMERA
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { check, launchChromium, report, sleep, until } from './chromium.mjs';

const [base, mount, outdir, cam] = process.argv.slice(2);
const browser = await launchChromium('mjpeg', { viewport: { width: 1280, height: 800 } });
const { context } = browser;

const result = {};
const problems = [];
// Streams the viewer closes itself: the live JPEGs, clips left for
// another (and a clip's body left unread when it was built again).
const expected = (url, err) => err === 'net::ERR_ABORTED' && /live\.mp4|live\.mjpeg|clips\/|events\/.*\.mp4|\/events$/.test(url);
function watch(page) {
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()} ${m.location()?.url || ''}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    if (!expected(r.url(), r.failure()?.errorText))
      problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
}

const shot = (page, name) => page.screenshot({ path: join(outdir, `${name}.png`) });
const status = JSON.parse(readFileSync(join(mount, cam, 'status.json'), 'utf8'));
// The player of the view shown (camera page or events dialog).
// Stamped with the page's clock in the same call: a round trip's delay
// under load does not count as playback time.
const player = (page) => page.evaluate(() => ({ ...(window.camfs.camera || window.camfs.events).mjpeg.stats(), at: performance.now() }));
// The canvas shrunk to 64x48: a fingerprint of the picture on it.
const picture = (page, sel) => page.evaluate((sel) => {
  const c = document.createElement('canvas');
  c.width = 64;
  c.height = 48;
  const g = c.getContext('2d');
  g.drawImage(document.querySelector(sel), 0, 0, 64, 48);
  return Array.from(g.getImageData(0, 0, 64, 48).data);
}, sel);
// The clip's frames a second, from the file itself (ffprobe on the mount).
function fileRate(url) {
  const path = join(mount, ...decodeURIComponent(new URL(url, base).pathname).split('/').slice(2));
  const s = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries',
    'stream=nb_frames,duration', '-of', 'json', path]).toString()).streams[0];
  return { frames: Number(s.nb_frames), dur: Number(s.duration), fps: s.nb_frames / s.duration };
}

// Frames drawn and media seconds played over `ms`, against the file's rate.
async function measure(page, ms, what) {
  const a = await player(page);
  await sleep(ms);
  const b = await player(page);
  const secs = (b.at - a.at) / 1000;
  check(b.url === a.url, `${what}: the clip did not change while measured`);
  return { drawnFps: (b.frames - a.frames) / secs, mediaRate: (b.currentTime - a.currentTime) / secs, a, b };
}

async function plays(page, sel, what) {
  const size = await page.$eval(sel, (c) => [c.width, c.height, !c.hidden]);
  check(size[2], `${what}: the canvas is shown`);
  check(size[0] === status.width && size[1] === status.height && size[0] === 640,
    `${what}: the canvas is ${size[0]}x${size[1]}, the camera ${status.width}x${status.height}`);
  const p0 = await picture(page, sel);
  await sleep(400);
  const p1 = await picture(page, sel);
  check(p0.some((v, i) => v !== p1[i]), `${what}: the picture changes between frames`);
  check(Math.max(...p1) > 150, `${what}: the picture is not black`);
  const m = await measure(page, 2500, what);
  const file = fileRate(m.b.url);
  check(m.drawnFps > file.fps * 0.7 && m.drawnFps < file.fps * 1.2,
    `${what}: ${m.drawnFps.toFixed(1)} frames drawn a second, the file has ${file.fps.toFixed(1)}`);
  check(m.mediaRate > 0.85 && m.mediaRate < 1.15, `${what}: plays at ${m.mediaRate.toFixed(2)}x`);
  return { size: `${size[0]}x${size[1]}`, drawnFps: +m.drawnFps.toFixed(1), fileFps: +file.fps.toFixed(1), mediaRate: +m.mediaRate.toFixed(2) };
}

// --- the camera page: the day's timeline, a click plays on the canvas.
async function camera(page) {
  await page.goto(`${base}/#/cam/${cam}`);
  await until(page, (c) => window.camfs.camera && window.camfs.camera.spans?.length > 0 &&
    window.camfs.feed.cams.get(c)?.codec === 'mjpeg' && window.camfs.timeline.head !== null, cam, 15000,
  'the day is loaded, the camera known as MJPEG, the playhead set');
  for (let i = 0; i < 5; i++)
    await page.click('button.zoomin');
  const spans = await page.evaluate(() => window.camfs.camera.spans);
  const sp = spans[spans.length - 1];
  check(sp.end - sp.start > 12, `a span of ${(sp.end - sp.start).toFixed(1)} s to play in`);
  const box = await page.locator('canvas.timeline').boundingBox();
  const perPx = await page.evaluate((w) => (window.camfs.timeline.vTo - window.camfs.timeline.vFrom) / w, box.width);
  const clickAt = async (t) => {
    const f = await page.evaluate((t) => { const tl = window.camfs.timeline; return (t - tl.vFrom) / (tl.vTo - tl.vFrom); }, t);
    await page.mouse.click(box.x + f * box.width, box.y + box.height / 2);
    return page.evaluate(() => window.camfs.camera.target);
  };
  const near = (a, b, what) => check(Math.abs(a - b) < perPx * 2 + 0.05, `${what}: the click chose ${a}, aimed at ${b}`);

  // A click plays from that time, on the canvas (the <video> stays out).
  const t1 = sp.start + 2.5;
  const t0 = Date.now();
  near(await clickAt(t1), t1, 'first click');
  await until(page, () => window.camfs.camera.mode === 'recorded' && window.camfs.camera.mjpeg.stats().frames >= 2 &&
    !window.camfs.camera.mjpeg.stats().paused, null, 5000, 'the recording plays after a click');
  const startMs = Date.now() - t0;
  const clicked = await page.evaluate(() => window.camfs.camera.target);
  const shownAt = await page.evaluate(() => window.camfs.camera.now);
  check(shownAt - clicked >= -0.5 && shownAt - clicked < 1 + startMs / 1000, `the clock shows ${(shownAt - clicked).toFixed(2)} s after the clicked time`);
  const video = await page.$eval('.camera video[aria-label$="recorded"]', (v) => ({ hidden: v.hidden, src: v.getAttribute('src') }));
  check(video.hidden && !video.src, `the recorded <video> is not used (${JSON.stringify(video)})`);
  const first = await plays(page, '.camera canvas[aria-label$="recorded"]', 'timeline click');
  const st = await player(page);
  check(/\/clips\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\+10m\.mp4$/.test(decodeURIComponent(st.url)), `it plays a 10 min clip: ${st.url}`);
  result.click = { startMs, offset: +(shownAt - clicked).toFixed(2), ...first };
  await shot(page, 'camera-1280');

  // Seeking inside the loaded clip: the same clip, the picture moves there.
  const t2 = t1 + 7;
  near(await clickAt(t2), t2, 'seek forward');
  await until(page, (t) => Math.abs(window.camfs.camera.now - t) < 1, t2, 3000, 'the clock follows a seek forward');
  const inside = await player(page);
  check(inside.url === st.url, `a seek inside the clip keeps it (${inside.url})`);
  await until(page, (n) => window.camfs.camera.mjpeg.stats().frames > n + 3, inside.frames, 3000, 'frames after a seek forward');

  // Seeking before it: a new clip from there.
  const t3 = sp.start + 1;
  near(await clickAt(t3), t3, 'seek back');
  await until(page, (u) => window.camfs.camera.mjpeg.stats().url !== u && window.camfs.camera.mjpeg.stats().frames >= 3, st.url, 5000,
    'a seek back plays a new clip');
  const back = await page.evaluate(() => window.camfs.camera.now);
  check(back - t3 > -0.5 && back - t3 < 2, `after a seek back the clock shows ${(back - t3).toFixed(2)} s after it`);
  result.seek = { forward: 'same clip', back: +(back - t3).toFixed(2), perPx: +perPx.toFixed(3) };

  // 4x: the clock runs four times as fast; frames are drawn (some skipped).
  await page.selectOption('.controls select', '4');
  const fast = await measure(page, 1500, '4x');
  check(fast.mediaRate > 3.2 && fast.mediaRate < 4.8, `4x plays ${fast.mediaRate.toFixed(2)}x`);
  check(fast.drawnFps > 5, `4x draws ${fast.drawnFps.toFixed(1)} frames a second`);
  await page.selectOption('.controls select', '1');
  result.speed4 = { mediaRate: +fast.mediaRate.toFixed(2), drawnFps: +fast.drawnFps.toFixed(1) };

  // Pause holds the picture and the clock; play goes on.
  await page.click('.controls .play');
  await until(page, () => window.camfs.camera.mjpeg.stats().paused, null, 2000, 'pause');
  // The frame due at the pause may still be decoding, or be drawn by the
  // animation frame already asked for: it lands, then nothing more.
  const settled = () => !window.camfs.camera.mjpeg.stats().decoding;
  await until(page, settled, null, 2000, 'the last decode before the pause');
  await sleep(100);
  await until(page, settled, null, 2000, 'the frame at the pause');
  const held = await measure(page, 700, 'paused');
  check(held.b.frames === held.a.frames && held.mediaRate === 0, `paused: ${held.b.frames - held.a.frames} frames drawn`);
  await page.click('.controls .play');
  await until(page, (n) => window.camfs.camera.mjpeg.stats().frames > n + 3, held.b.frames, 3000, 'play again');
  result.refreshes = (await player(page)).refreshes;
  return t1;
}

// --- the events page: the event's clip on the dialog's canvas.
async function eventClip(page, name) {
  await page.goto(`${base}/#/events?cam=${cam}`);
  await until(page, () => document.querySelector('.gallery .shot.camera'), null, 10000, 'the camera event in the gallery');
  const shotEl = page.locator('.gallery .shot.camera').first();
  const stem = await shotEl.getAttribute('data-stem');
  await shotEl.click();
  await until(page, () => window.camfs.events.mjpeg.stats().frames >= 3, null, 5000, 'the event clip plays');
  const st = await player(page);
  check(st.url.includes('/events/') && st.url.endsWith(`/${stem}.mp4`), `the event's own clip: ${st.url}`);
  const dlg = await page.$eval('dialog.clip', (d) => ({ open: d.open, video: d.querySelector('video').hidden, w: d.getBoundingClientRect().width }));
  check(dlg.open && dlg.video, 'the dialog shows the canvas, not the <video>');
  const file = fileRate(st.url);
  check(Math.abs(st.duration - file.dur) < 0.3, `the clip lasts ${st.duration.toFixed(2)} s, ffprobe says ${file.dur}`);
  await shot(page, name);
  const m = await measure(page, 1200, 'event clip');
  check(m.drawnFps > file.fps * 0.6, `the event clip draws ${m.drawnFps.toFixed(1)} frames a second, the file has ${file.fps.toFixed(1)}`);
  // The seek bar.
  await page.$eval('.mjpegbar input', (r) => { r.value = '0.5'; r.dispatchEvent(new Event('input')); });
  const after = await player(page);
  check(after.currentTime >= 0.5 && after.currentTime < 1.2, `the seek bar seeks (${after.currentTime.toFixed(2)})`);
  return { stem, duration: +st.duration.toFixed(2), samples: st.samples, size: `${st.width}x${st.height}`,
    drawnFps: +m.drawnFps.toFixed(1), dialogWidth: Math.round(dlg.w) };
}

await report(browser, outdir, result, problems, async () => {
  const page = await context.newPage();
  watch(page);
  const t1 = await camera(page);
  result.event = await eventClip(page, 'events-1280');
  await page.click('dialog.clip .close');

  // The phone: the same playback fits 390 px.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/#/cam/${cam}?t=${t1}`);
  await until(page, () => window.camfs.camera?.mjpeg.stats().frames >= 3, null, 8000, 'the phone plays the recording');
  await sleep(500);
  const fit = await page.evaluate(() => [...document.querySelectorAll('.stage, .controls, canvas.timeline')]
    .map((e) => e.getBoundingClientRect()).every((r) => r.left >= 0 && r.right <= 390 && r.width > 300));
  check(fit, 'the stage, controls and timeline fit 390 px');
  await shot(page, 'camera-390');
  result.phoneEvent = await eventClip(page, 'events-390');
  check(result.phoneEvent.dialogWidth <= 390, `the clip dialog fits the phone (${result.phoneEvent.dialogWidth} px)`);
  check(problems.length === 0, `no console errors or failed requests:\n  ${problems.join('\n  ')}`);
});
