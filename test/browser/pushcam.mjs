// pushcam.mjs - camera.html in Debian's Chromium (playwright-core, a fake
// camera device) pushing to a real camfs as camera CAM:
//   1. bad connections, each refused with its close code and reason: the
//      stream before the token, a wrong token, text after the token, bytes
//      that are no video, no token at all, a camera that is not pushed to;
//   2. the page records for SECONDS, is reloaded (a forced reconnect: it
//      goes on by itself) and records SECONDS/3 more;
//   3. a second device with the token takes the camera over; the first
//      page stops and says why, and lets its camera go;
//   4. with VP9_CAM: a tablet records WebM VP9 (what a browser without
//      H.264 recording sends) to that camera for SECONDS/3; the viewer's
//      grid plays it live.
// Screenshots at 390x844 and 1280x800 into OUTDIR. Prints a JSON summary;
// exits non-zero on the first failed check or console error.
//   node pushcam.mjs BASE_URL CAM TOKEN OUTDIR SECONDS [VP9_CAM VP9_TOKEN]
import { chromium } from 'playwright-core';
import { sleep } from './chromium.mjs';

const [base, cam, token, outdir, seconds, vp9Cam, vp9Token] = process.argv.slice(2);
const secs = Number(seconds || 30);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});
const summary = {};
const fail = (why) => { console.error(`FAIL: ${why}`); process.exit(1); };

// expected: console errors a page is meant to cause (refused handshakes).
async function newPage(viewport, expected = null) {
  const context = await browser.newContext({ viewport, permissions: ['camera'] });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && !(expected && expected.test(m.text())))
      fail(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => fail(`page error: ${e.message}`));
  return page;
}

async function waitFor(page, fn, arg, ms, what) {
  try {
    await page.waitForFunction(fn, arg, { timeout: ms, polling: 200 });
  } catch {
    fail(`${what} (state: ${await page.textContent('#state')}, ${JSON.stringify(await page.evaluate(() => window.__pushcam))})`);
  }
}

// 1. Bad connections, from a page of camfs's own origin. Each resolves to
// the close it got: {code, reason}.
const probe = await newPage({ width: 1280, height: 800 }, /WebSocket connection to .*no-such-camera' failed/);
await probe.goto(`${base}/camera.html`);
const bad = await probe.evaluate(async ([cam, token]) => {
  const url = (name) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/push/${name}`;
  const closed = (ws) => new Promise((resolve) => { ws.onclose = (e) => resolve({ code: e.code, reason: e.reason }); });
  const attempt = (name, send, keepSending) => {
    const ws = new WebSocket(url(name));
    const done = closed(ws);
    let timer = 0;
    ws.onopen = () => {
      send(ws);
      if (keepSending)
        timer = setInterval(() => ws.readyState === 1 && ws.send(new Uint8Array(1024)), 200);
    };
    return done.then((r) => { clearInterval(timer); return r; });
  };
  const garbage = new Uint8Array(600 * 1024).map((_, i) => (i * 7919) & 0xff);
  const t0 = Date.now();
  // The silent one waits out the token's 10 s beside the others.
  const silentDone = attempt(cam, () => {});
  const [binaryFirst, wrongToken, notToken] = await Promise.all([
    attempt(cam, (ws) => ws.send(new Uint8Array(100))),
    attempt(cam, (ws) => ws.send('x'.repeat(token.length))),
    attempt(cam, (ws) => ws.send('a'.repeat(300))),
  ]);
  const textAfter = await attempt(cam, (ws) => { ws.send(token); ws.send('hello'); });
  const notVideo = await attempt(cam, (ws) => { ws.send(token); ws.send(garbage); }, true);
  const notPushed = await attempt('no-such-camera', () => {});
  const silent = await silentDone;
  return { binaryFirst, wrongToken, notToken, textAfter, notVideo, notPushed, silent, ms: Date.now() - t0 };
}, [cam, token]);
const expect = (name, code, reason) => {
  const got = bad[name];
  if (got.code !== code || !reason.test(got.reason))
    fail(`${name}: closed ${got.code} "${got.reason}", wanted ${code} ${reason}`);
};
expect('binaryFirst', 1008, /first message must be the camera's token/);
expect('wrongToken', 1008, /^wrong token$/);
expect('notToken', 1008, /^wrong token$/);
expect('textAfter', 1003, /only the stream/);
expect('notVideo', 1001, /recording restarted/);
expect('notPushed', 1006, /^$/);
expect('silent', 1008, /no token within 10 s/);
summary.refused = Object.fromEntries(Object.entries(bad).filter(([k]) => k !== 'ms').map(([k, v]) => [k, v.code]));
await probe.context().close();

// 2. The phone: settings typed once, remembered; records, is reloaded.
const phone = await newPage({ width: 390, height: 844 });
await phone.goto(`${base}/camera.html?cam=${encodeURIComponent(cam)}`);
await phone.fill('#token', token);
await phone.selectOption('#size', '1280x720');
await phone.click('#start');
await waitFor(phone, () => window.__pushcam.chunks >= 3, null, 15000, 'the page sent no stream');
summary.mime = await phone.evaluate(() => window.__pushcam.mime);
if (!/^video\/mp4/.test(summary.mime))
  fail(`the page recorded ${summary.mime}, not MP4`);
const size = await phone.evaluate(() => {
  const v = document.getElementById('preview');
  return [v.videoWidth, v.videoHeight];
});
summary.size = size.join('x');
await phone.screenshot({ path: `${outdir}/camera-phone.png` });
await sleep(secs * 1000 - 3000);
summary.before_reload = await phone.evaluate(() => (({ cameraLive, ...sent }) => sent)(window.__pushcam));
summary.reload_at = Date.now() / 1000;
await phone.reload();
await waitFor(phone, () => window.__pushcam && window.__pushcam.chunks >= 1, null, 15000, 'the page did not go on after a reload');
summary.reconnect_s = Date.now() / 1000 - summary.reload_at;
// The page's own gap: from its last chunk before the reload to the second
// after it (an MP4 recording's first chunk is its header alone: Chromium
// writes a fragment once the next keyframe has begun).
await waitFor(phone, () => window.__pushcam.chunks >= 2, null, 15000, 'the page sent one chunk after a reload');
summary.page_gap_s = (await phone.evaluate(() => window.__pushcam.secondSentAt) - summary.before_reload.lastSentAt) / 1000;
await sleep(secs * 1000 / 3);

// 3. A laptop with the token takes over; the phone stops and says so.
const laptop = await newPage({ width: 1280, height: 800 });
await laptop.goto(`${base}/camera.html?cam=${encodeURIComponent(cam)}`);
await laptop.fill('#token', token);
await laptop.uncheck('#remember');
await laptop.click('#start');
await waitFor(laptop, () => window.__pushcam.chunks >= 2, null, 15000, 'the laptop sent no stream');
await waitFor(phone, () => /took this camera over/.test(document.getElementById('state').textContent), null, 10000,
  'the phone did not say it was taken over');
await phone.screenshot({ path: `${outdir}/camera-phone-taken.png` });
if (await phone.evaluate(() => window.__pushcam.cameraLive()))
  fail('the phone, taken over, still holds its camera');
await laptop.screenshot({ path: `${outdir}/camera-laptop.png` });
summary.laptop = await laptop.evaluate(() => window.__pushcam.chunks);
await laptop.click('#stop');
await waitFor(laptop, () => document.getElementById('state').textContent === 'Stopped', null, 5000, 'stop');
if (await laptop.evaluate(() => window.__pushcam.cameraLive()))
  fail('the laptop, stopped, still holds its camera');
summary.stopped_at = Date.now() / 1000;

// 4. VP9, asked for by the page's ?mime= as a browser would pick it.
if (vp9Cam) {
  const vp9 = 'video/webm;codecs=vp9';
  const tablet = await newPage({ width: 1280, height: 800 });
  await tablet.goto(`${base}/camera.html?cam=${encodeURIComponent(vp9Cam)}&mime=${encodeURIComponent(vp9)}`);
  await tablet.fill('#token', vp9Token);
  await tablet.uncheck('#remember');
  await tablet.click('#start');
  await waitFor(tablet, () => window.__pushcam.chunks >= 2, null, 15000, 'the tablet sent no VP9');
  summary.vp9_mime = await tablet.evaluate(() => window.__pushcam.mime);
  if (summary.vp9_mime !== vp9)
    fail(`the tablet recorded ${summary.vp9_mime}`);
  // The viewer's grid plays it live (Media Source with vp09 from vpcC).
  const viewer = await newPage({ width: 1280, height: 800 });
  await viewer.goto(`${base}/`);
  try {
    await viewer.waitForFunction((c) => window.camfs && window.camfs.stats().some((t) => t.cam === c && t.totalVideoFrames > 5),
      vp9Cam, { timeout: 20000, polling: 250 });
  } catch {
    fail(`the viewer's tile of ${vp9Cam} decodes no VP9: ${JSON.stringify(await viewer.evaluate(() => window.camfs && window.camfs.stats()))}`);
  }
  await viewer.screenshot({ path: `${outdir}/viewer-vp9.png` });
  await viewer.context().close();
  await sleep(secs * 1000 / 3);
  await tablet.click('#stop');
  await waitFor(tablet, () => document.getElementById('state').textContent === 'Stopped', null, 5000, 'stop');
}
await browser.close();
console.log(JSON.stringify(summary));
