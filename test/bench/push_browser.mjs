// push_browser.mjs - what camera.html sends, without a browser: a
// fragmented MP4 file's header, then its fragments (moof+mdat) each at its
// own time, over /ws/push/CAM, the token first. For the benchmark, where
// Chromium's own encoding would take the CPU being measured.
//   node --experimental-websocket push_browser.mjs WS_URL TOKEN FILE SECONDS
import { readFileSync } from 'node:fs';

const [url, token, file, seconds] = process.argv.slice(2);
const data = readFileSync(file);
// Top-level boxes: everything before the first moof is the header; a moof
// and the mdat after it are one chunk.
const chunks = [];
let off = 0, start = 0;
while (off + 8 <= data.length) {
  const size = data.readUInt32BE(off), type = data.toString('latin1', off + 4, off + 8);
  if (type === 'moof' && off > start) {
    chunks.push(data.subarray(start, off));
    start = off;
  }
  off += size;
}
chunks.push(data.subarray(start));
const ws = new WebSocket(url);
ws.binaryType = 'arraybuffer';
ws.onopen = async () => {
  ws.send(token);
  ws.send(chunks[0]);
  const end = Date.now() + Number(seconds) * 1000;
  // One chunk a second, as MediaRecorder's timeslice of 1 s gives them.
  for (let i = 1; i < chunks.length && Date.now() < end; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    ws.send(chunks[i]);
  }
  ws.close(1000);
};
ws.onclose = (e) => { if (e.code !== 1000 && e.code !== 1005) console.error(`closed ${e.code} ${e.reason}`); };
