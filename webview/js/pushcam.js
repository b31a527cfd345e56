// pushcam.js - camera.html: this device's camera recorded by camfs. The
// browser encodes H.264 (MediaRecorder) and sends it over a WebSocket to
// /ws/push/NAME, the camera's token first; camfs stores it without
// transcoding. Each connection is a new recording from its own first byte
// (a stream is only readable from its start), so a reconnect starts a new
// MediaRecorder. A reload goes on recording if the page was.

// What camfs records, best first: fragmented MP4, then Matroska/WebM with
// H.264 where that is what the browser writes, then WebM with VP9 (MP4
// segments hold VP9 too; they cannot hold VP8). ?mime=TYPE asks for one.
const TYPES = ['video/mp4;codecs=avc1', 'video/x-matroska;codecs=avc1', 'video/webm;codecs=h264',
  'video/webm;codecs=vp9'];
const BITRATE = { 480: 1000000, 720: 2000000, 1080: 4000000 };
const CHUNK_MS = 1000;
// More than this unsent and the network is not keeping up: start over.
const MAX_BUFFERED = 16 * 1024 * 1024;
const $ = (id) => document.getElementById(id);
// The settings a device remembers.
const FIELDS = ['cam', 'token', 'facing', 'size'];

const state = { stream: null, ws: null, recorder: null, wanted: false, retryMs: 1000, timer: 0, wakeLock: null };
// For tests and the curious: what this page has sent.
window.__pushcam = {
  connects: 0, chunks: 0, bytes: 0, mime: '', closes: [],
  // When (ms) this page sent its second chunk (an MP4 recording's first
  // with frames) and its last.
  secondSentAt: 0, lastSentAt: 0,
  cameraLive: () => !!state.stream && state.stream.getTracks().some((t) => t.readyState === 'live'),
};

function show(text, kind = '') {
  $('state').textContent = text;
  $('state').className = `pushstate ${kind}`;
}

function pickType() {
  const asked = new URLSearchParams(location.search).get('mime');
  const types = asked && TYPES.includes(asked) ? [asked] : TYPES;
  return types.find((t) => window.MediaRecorder && MediaRecorder.isTypeSupported(t)) || '';
}

async function openCamera() {
  const [w, h] = $('size').value.split('x').map(Number);
  closeCamera();
  state.stream = await navigator.mediaDevices.getUserMedia({
    audio: false,
    video: { facingMode: { ideal: $('facing').value }, width: { ideal: w }, height: { ideal: h } },
  });
  $('preview').srcObject = state.stream;
}

// Stopped means the camera is off too (its light goes out, another app
// can have it), not only that nothing is sent.
function closeCamera() {
  if (state.stream)
    state.stream.getTracks().forEach((t) => t.stop());
  state.stream = null;
  $('preview').srcObject = null;
}

function pushUrl(cam) {
  const base = location.pathname.replace(/[^/]*$/, '');
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${base}ws/push/${encodeURIComponent(cam)}`;
}

function startRecorder(ws, mime) {
  const height = state.stream.getVideoTracks()[0].getSettings().height || 720;
  const rate = BITRATE[height >= 1080 ? 1080 : height >= 720 ? 720 : 480];
  const rec = new MediaRecorder(state.stream, {
    mimeType: mime, videoBitsPerSecond: rate, videoKeyFrameIntervalDuration: CHUNK_MS,
  });
  rec.ondataavailable = (e) => {
    if (!e.data.size || ws.readyState !== WebSocket.OPEN)
      return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      ws.close(4000, 'the network is not keeping up');
      return;
    }
    ws.send(e.data);
    window.__pushcam.chunks++;
    window.__pushcam.bytes += e.data.size;
    window.__pushcam.lastSentAt = Date.now();
    if (window.__pushcam.chunks === 2)
      window.__pushcam.secondSentAt = window.__pushcam.lastSentAt;
  };
  rec.start(CHUNK_MS);
  return rec;
}

function stopRecorder() {
  if (state.recorder && state.recorder.state !== 'inactive')
    state.recorder.stop();
  state.recorder = null;
}

function connect() {
  const cam = $('cam').value, mime = pickType();
  const ws = new WebSocket(pushUrl(cam));
  const opened = Date.now();
  state.ws = ws;
  window.__pushcam.mime = mime;
  ws.onopen = () => {
    ws.send($('token').value);
    state.recorder = startRecorder(ws, mime);
    window.__pushcam.connects++;
    show(`Recording as ${cam}`, 'on');
  };
  ws.onclose = (e) => {
    if (state.ws !== ws)
      return;
    stopRecorder();
    state.ws = null;
    window.__pushcam.closes.push({ code: e.code, reason: e.reason });
    if (!state.wanted)
      return;
    if (e.code === 1008) {
      // A wrong token or a taken camera: trying again changes nothing.
      stop();
      show(`Stopped: ${e.reason || 'camfs refused the connection'}`, 'bad');
      return;
    }
    state.retryMs = Date.now() - opened > 10000 ? 1000 : Math.min(state.retryMs * 2, 10000);
    show(`${e.reason || 'Connection lost'}: again in ${Math.round(state.retryMs / 1000)} s`, 'bad');
    state.timer = setTimeout(connect, state.retryMs);
  };
}

async function start(ev) {
  if (ev)
    ev.preventDefault();
  if (!pickType()) {
    show('This browser cannot record H.264 or VP9 (MediaRecorder): use Chrome, Edge or Safari', 'bad');
    return;
  }
  if (!window.isSecureContext) {
    show('The camera needs https:// (or localhost): set http_tls_cert in camfs.conf', 'bad');
    return;
  }
  try {
    await openCamera();
  } catch (err) {
    show(`No camera: ${err.message}`, 'bad');
    return;
  }
  remember();
  state.wanted = true;
  sessionStorage.setItem('camfs-pushcam-on', '1');
  $('start').disabled = true;
  $('stop').disabled = false;
  keepAwake();
  connect();
}

function stop() {
  state.wanted = false;
  sessionStorage.removeItem('camfs-pushcam-on');
  clearTimeout(state.timer);
  stopRecorder();
  if (state.ws)
    state.ws.close(1000, 'stopped');
  state.ws = null;
  closeCamera();
  if (state.wakeLock)
    state.wakeLock.release().catch(() => {});
  state.wakeLock = null;
  $('start').disabled = false;
  $('stop').disabled = true;
  show('Stopped');
}

// A phone that sleeps stops its camera: keep the screen on while recording.
async function keepAwake() {
  try {
    if (navigator.wakeLock)
      state.wakeLock = await navigator.wakeLock.request('screen');
  } catch {
    // Not granted (battery saver): recording goes on while the screen is on.
  }
}

function remember() {
  const keep = $('remember').checked;
  for (const id of FIELDS)
    if (keep)
      localStorage.setItem(`camfs-pushcam-${id}`, $(id).value);
    else
      localStorage.removeItem(`camfs-pushcam-${id}`);
}

function restore() {
  const params = new URLSearchParams(location.search);
  for (const id of FIELDS) {
    const v = localStorage.getItem(`camfs-pushcam-${id}`);
    if (v)
      $(id).value = v;
  }
  if (params.get('cam'))
    $('cam').value = params.get('cam');
}

restore();
$('setup').addEventListener('submit', start);
$('stop').addEventListener('click', stop);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && state.wanted)
    keepAwake();
});
if (sessionStorage.getItem('camfs-pushcam-on') && $('cam').value && $('token').value)
  start();
