// units.mjs - the viewer's pure modules under node, no browser: MP4 units
// cut from a real fragmented MP4 (made by ffmpeg with prft) fed in random
// chunks, its codec string and wall clocks, and the clip time mapping.
//   node units.mjs TMPDIR
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { BoxSplitter, parseInit, parsePrft } from '../../webview/js/mp4.js';
import { mediaToWall, wallToMedia } from '../../webview/js/timeline.js';

const dir = process.argv[2];
const file = join(dir, 'frag.mp4');
const before = Date.now();
execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=10', '-t', '2',
  '-c:v', 'libx264', '-profile:v', 'high', '-g', '10', '-bf', '0', '-pix_fmt', 'yuv420p',
  '-movflags', 'frag_every_frame+empty_moov+default_base_moof+skip_trailer', '-write_prft', 'wallclock', '-f', 'mp4', file]);
const bytes = new Uint8Array(readFileSync(file));

// Units: whatever the chunking, an init first, then a fragment per frame,
// and together exactly the file's bytes.
for (let round = 0; round < 20; round++) {
  const units = [];
  const split = new BoxSplitter((u, isInit) => units.push({ u, isInit }));
  for (let at = 0; at < bytes.length;) {
    const n = 1 + Math.floor(Math.random() * (round % 2 ? 50 : 5000));
    split.push(bytes.slice(at, at + n));
    at += n;
  }
  assert.equal(units[0].isInit, true);
  assert.equal(units.filter((x) => x.isInit).length, 1);
  assert.equal(units.length, 1 + 20, 'an init and 20 fragments');
  const joined = Buffer.concat(units.map((x) => Buffer.from(x.u)));
  assert.ok(joined.equals(Buffer.from(bytes)), 'the units are the stream');
  if (round)
    continue;
  const info = parseInit(units[0].u);
  assert.match(info.codecs, /^avc1\.6400[0-9A-F]{2}$/, `codec string ${info.codecs}`);
  assert.equal(info.video, 'h264');
  assert.deepEqual(Object.values(info.timescales).length, 1);
  let last = null;
  for (const { u } of units.slice(1)) {
    const p = parsePrft(u, info.timescales);
    assert.ok(p, 'every fragment has a prft');
    assert.ok(p.wallMs >= before - 1000 && p.wallMs <= Date.now() + 1000, `wall clock ${p.wallMs} is now`);
    if (last)
      assert.ok(Math.abs(p.media - last.media - 0.1) < 1e-6, `media time steps by a frame (${p.media})`);
    last = p;
  }
}

// A browser camera's VP9 (profile 0, 8 bits): its codec string from vpcC.
const vp9 = join(dir, 'vp9.mp4');
execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=10', '-t', '0.3',
  '-c:v', 'libvpx-vp9', '-pix_fmt', 'yuv420p', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4', vp9]);
const vp9Init = [];
new BoxSplitter((u, isInit) => isInit && vp9Init.push(u)).push(new Uint8Array(readFileSync(vp9)));
const vp9Info = parseInit(vp9Init[0]);
assert.match(vp9Info.codecs, /^vp09\.00\.[0-9]{2}\.08$/, `codec string ${vp9Info.codecs}`);
assert.equal(vp9Info.video, 'vp9');

// A clip from 100 over spans [90,130) and [200,260): gaps are left out.
const spans = [{ start: 90, end: 130 }, { start: 200, end: 260 }];
assert.equal(mediaToWall(100, 10, spans), 110);
assert.equal(mediaToWall(100, 30, spans), 200);
assert.equal(mediaToWall(100, 45, spans), 215);
assert.equal(mediaToWall(150, 5, spans), 205, 'a start in a gap begins at the next span');
for (const t of [100, 129, 200, 230, 259])
  assert.ok(Math.abs(mediaToWall(100, wallToMedia(100, t, spans), spans) - t) < 1e-9, `round trip of ${t}`);
console.log('ok');
