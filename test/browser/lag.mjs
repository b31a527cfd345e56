// lag.mjs - the viewer's live grid in Chromium, for the benchmark: opens
// VIEWERS pages of BASE_URL's grid, prints "ready" once every tile of every
// page has shown a picture, measures for SECONDS, then prints one JSON line:
// per tile the time to first picture and the live lag p50/p95 (now - wall
// clock of the frame on screen, from the fragments' prft), over all pages.
//   node lag.mjs BASE_URL TILES VIEWERS SECONDS
import { launchChromium } from './chromium.mjs';

const [base, tiles, viewers, seconds] = process.argv.slice(2).map((x, i) => (i ? Number(x) : x));
const browser = await launchChromium('lag', {
  viewport: { width: 1280, height: 800 },
  args: ['--disable-background-timer-throttling', '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows'],
});
const { context } = browser;
const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))] : null; };
let failed = null;
try {
  const pages = [];
  for (let i = 0; i < viewers; i++) {
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(base.includes('#') ? base : `${base}/`);
    pages.push(page);
  }
  for (const page of pages)
    await page.waitForFunction((n) => window.camfs.stats().length === n &&
      window.camfs.stats().every((s) => s.firstPictureMs !== null), tiles, { timeout: 60000, polling: 200 });
  // Lags from here on: the start-up jump to the live edge is not lag.
  for (const page of pages)
    await page.evaluate(() => { for (const p of window.camfs.players) p.lags = []; });
  console.log('ready');
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const per = {};
  for (const page of pages) {
    for (const s of await page.evaluate(() => window.camfs.stats())) {
      const t = (per[s.cam] ||= { firstPictureMs: [], lags: [], frames: 0, fallback: s.fallback });
      t.firstPictureMs.push(Math.round(s.firstPictureMs));
      t.lags.push(...s.lags);
      t.frames += s.frames;
    }
  }
  const all = Object.values(per).flatMap((t) => t.lags);
  const out = {
    tiles: Object.fromEntries(Object.entries(per).map(([cam, t]) => [cam, {
      firstPictureMs: t.firstPictureMs, lagP50Ms: Math.round(q(t.lags, 0.5)), lagP95Ms: Math.round(q(t.lags, 0.95)),
      frames: t.frames, fallback: t.fallback,
    }])),
    lagP50Ms: Math.round(q(all, 0.5)), lagP95Ms: Math.round(q(all, 0.95)),
    firstPictureP50Ms: q(Object.values(per).flatMap((t) => t.firstPictureMs), 0.5),
    firstPictureMaxMs: Math.max(...Object.values(per).flatMap((t) => t.firstPictureMs)),
  };
  console.log(JSON.stringify(out));
} catch (e) {
  failed = e;
} finally {
  await browser.close();
}
if (failed) {
  console.error(String(failed));
  process.exit(1);
}
