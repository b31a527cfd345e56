// play.mjs - Debian's Chromium, driven by playwright-core, plays camfs's
// HTTP export as a browser would: live.mp4 streamed by fetch() into Media
// Source Extensions, and (when CLIP is given) a clip through <video src>
// with a seek. Prints one JSON line of what it saw; exits non-zero on
// failure, with a screenshot in OUTDIR.
//   node play.mjs BASE_URL CAMERA OUTDIR [CLIP_PATH]
import { join } from 'node:path';
import { launchChromium } from './chromium.mjs';

const [base, camera, outdir, clip] = process.argv.slice(2);
const browser = await launchChromium('chromium');
const { context } = browser;
const result = {};
let failed = null;
try {
  const page = await context.newPage();
  page.on('console', (m) => console.error('page:', m.text()));
  // A page of camfs's own origin: a secure context, same-origin fetches.
  await page.goto(base + '/test.html');

  // live.mp4 through MSE: a streaming fetch appended fragment by fragment.
  result.live = await page.evaluate(async ({ url }) => {
    const video = document.createElement('video');
    video.muted = true;
    document.body.appendChild(video);
    const ms = new MediaSource();
    video.src = URL.createObjectURL(ms);
    await new Promise((r) => ms.addEventListener('sourceopen', r, { once: true }));
    const t0 = performance.now();
    const resp = await fetch(url);
    const reader = resp.body.getReader();
    let sb = null, bytes = 0, firstFrame = null, startAt = null;
    video.requestVideoFrameCallback(() => { firstFrame = performance.now() - t0; });
    const deadline = t0 + 8000;
    while (performance.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes += value.length;
      if (!sb) {
        // The codec string from the init segment's avcC: profile, compat, level.
        const at = (() => { for (let i = 0; i + 4 < value.length; i++)
          if (value[i] === 0x61 && value[i + 1] === 0x76 && value[i + 2] === 0x63 && value[i + 3] === 0x43) return i + 4;
          return -1; })();
        const hex = (b) => b.toString(16).padStart(2, '0');
        const codec = at > 0 ? `avc1.${hex(value[at + 1])}${hex(value[at + 2])}${hex(value[at + 3])}` : 'avc1.42E01E';
        sb = ms.addSourceBuffer(`video/mp4; codecs="${codec}"`);
        sb.mode = 'segments';
      }
      await new Promise((r) => { sb.addEventListener('updateend', r, { once: true }); sb.appendBuffer(value); });
      // Live media time starts where the camera's session is, not at 0.
      if (startAt === null && sb.buffered.length) {
        startAt = sb.buffered.start(0);
        video.currentTime = startAt;
        video.play().catch(() => {});
      }
      if (startAt !== null && video.currentTime - startAt > 2 && video.videoWidth > 0) break;
    }
    reader.cancel();
    return { bytes, played: startAt === null ? 0 : video.currentTime - startAt,
      width: video.videoWidth,
      height: video.videoHeight, firstFrameMs: firstFrame };
  }, { url: `${base}/cams/${camera}/live.mp4` });
  if (!(result.live.played > 2 && result.live.width > 0))
    throw new Error('live.mp4 did not play through MSE');

  if (clip) {
    // A clip as a plain file: <video src> (range requests), a seek into
    // its middle that lands there, then frames painted from there on.
    result.clip = await page.evaluate(async ({ url }) => {
      const video = document.createElement('video');
      video.muted = true;
      video.src = url;
      document.body.appendChild(video);
      await new Promise((r, j) => { video.onloadedmetadata = r; video.onerror = () => j(new Error('load: ' + video.error?.message)); });
      const duration = video.duration;
      const target = duration / 2;
      video.currentTime = target;
      await new Promise((r) => { video.onseeked = r; });
      const afterSeek = video.currentTime;
      let frames = 0, lastMediaTime = null;
      const count = (now, meta) => { frames++; lastMediaTime = meta.mediaTime; video.requestVideoFrameCallback(count); };
      video.requestVideoFrameCallback(count);
      await video.play();
      // Until it has played on (about 1.5 s), or 5 s on a slow machine.
      await new Promise((r) => {
        const t0 = performance.now();
        const tick = () => (frames >= 10 && lastMediaTime > target + 0.5) || performance.now() - t0 > 5000 ?
          r() : setTimeout(tick, 100);
        tick();
      });
      video.pause();
      return { duration, target, afterSeek, currentTime: video.currentTime, frames, lastMediaTime,
        width: video.videoWidth };
    }, { url: base + clip });
    const c = result.clip;
    if (!(c.duration > 0 && Math.abs(c.afterSeek - c.target) < 0.1))
      throw new Error('the seek did not land at the middle of the clip');
    if (!(c.frames >= 10 && c.lastMediaTime > c.target + 0.5 && c.currentTime > c.target + 0.5))
      throw new Error('the clip did not play on from the seek');
  }
  await page.screenshot({ path: join(outdir, 'browser.png') });
} catch (e) {
  failed = e;
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
if (failed) {
  console.error(String(failed));
  process.exit(1);
}
