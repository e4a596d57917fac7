// Entry point of capture.html: the rep's publishing page.
//
// Two audio tracks are published to the server over WHIP (non-trickle): the
// rep's own voice FIRST, the customer SECOND (the server maps roles by m-line
// order). Sources: two input devices, mic + tab/system audio
// (getDisplayMedia), or one stereo device split into left/right with WebAudio.
// The live meter of the published call is mounted next to the controls with
// the same module as the call page.

import { mountMeter } from './meter.js';
import { createMiniMeter } from './minimeter.js';
import { errorText } from './common.js';

const ICE_TIMEOUT_MS = 3000;
const CONNECT_HINT_MS = 8000;
const STORE = 'talkratio.capture';

const $ = (id) => document.getElementById(id);
const ui = {
  envError: $('env-error'),
  name: $('call-name-input'), rep: $('rep-name'), customer: $('customer-name'),
  mode: $('source-mode'),
  repField: $('rep-device-field'), repLabel: $('rep-device-label'), repDev: $('rep-device'),
  custField: $('customer-device-field'), custDev: $('customer-device'),
  tabField: $('tab-field'), pickTab: $('pick-tab'), tabLabel: $('tab-label'),
  stereoHint: $('stereo-hint'), enableMics: $('enable-mics'), testSources: $('test-sources'),
  levelRep: $('level-rep'), levelCust: $('level-customer'), sourceWarn: $('source-warn'),
  ec: $('echo-cancellation'), ns: $('noise-suppression'), agc: $('auto-gain-control'),
  stun: $('stun-url'),
  start: $('start'), startLabel: $('start-label'), stop: $('stop'),
  pill: $('publish-pill'), state: $('publish-state'),
  callIdWrap: $('call-id-wrap'), callId: $('call-id'), callLink: $('call-link'),
  note: $('publish-note'), error: $('publish-error'),
  slot: $('meter-slot'), miniSlot: $('mini-slot'),
};

let audioCtx = null;
let sources = null;        // { key, mode, rep: Slot, customer: Slot, stop() }
let display = null;        // cached tab/system capture: { stream, track }
let pc = null;
let sessionURL = '';
let meter = null;
let mini = null;           // the compact meter beside the controls (and popped out)
let publishing = false;
let busy = false;
let connectHintTimer = 0;
let previewSeq = 0;
let gen = 0;               // bumped by Stop, so a pending Start gives up

// ------------------------------------------------------------------ setup

const hasMedia = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
if (!hasMedia) {
  ui.envError.textContent = window.isSecureContext
    ? 'This browser cannot capture audio (no navigator.mediaDevices).'
    : 'Capturing audio needs a secure page: open this page over https:// or via http://localhost.';
  ui.envError.hidden = false;
}
if (typeof RTCPeerConnection === 'undefined') {
  ui.envError.textContent = 'This browser has no WebRTC (RTCPeerConnection): use a current Chrome, Edge, Firefox or Safari.';
  ui.envError.hidden = false;
}

loadSettings();
applyMode();
setPublishState('idle');

ui.mode.addEventListener('change', () => { saveSettings(); applyMode(); refreshPreview(); });
ui.repDev.addEventListener('change', () => { saveSettings(); refreshPreview(); });
ui.custDev.addEventListener('change', () => { saveSettings(); refreshPreview(); });
for (const cb of [ui.ec, ui.ns, ui.agc]) cb.addEventListener('change', () => { saveSettings(); refreshPreview(); });
for (const inp of [ui.rep, ui.stun]) inp.addEventListener('change', saveSettings);
ui.enableMics.addEventListener('click', enableMics);
ui.testSources.addEventListener('click', () => refreshPreview(true));
ui.pickTab.addEventListener('click', pickTab);
ui.start.addEventListener('click', start);
document.getElementById('capture-form').addEventListener('submit', (ev) => ev.preventDefault());
ui.stop.addEventListener('click', stop);
window.addEventListener('pagehide', () => {
  // Closing or reloading the page ends the call on the server too.
  if (publishing && sessionURL) {
    try { fetch(sessionURL, { method: 'DELETE', keepalive: true }); } catch { /* ignore */ }
  }
});
// Browsers keep an AudioContext suspended until the user interacts.
for (const ev of ['pointerdown', 'keydown']) document.addEventListener(ev, () => resumeAudio(), { capture: true });

if (hasMedia) {
  navigator.mediaDevices.addEventListener?.('devicechange', () => refreshDevices());
  refreshDevices().then((labelled) => {
    if (labelled && ui.mode.value !== 'tab') refreshPreview();
  });
}
requestAnimationFrame(levelLoop);

// ------------------------------------------------------------------ settings

function loadSettings() {
  let s = {};
  try { s = JSON.parse(localStorage.getItem(STORE) || '{}') || {}; } catch { /* ignore */ }
  if (['devices', 'tab', 'stereo'].includes(s.mode)) ui.mode.value = s.mode;
  if (typeof s.rep === 'string') ui.rep.value = s.rep;
  if (typeof s.stun === 'string') ui.stun.value = s.stun;
  ui.ec.checked = s.ec === true;
  ui.ns.checked = s.ns === true;
  ui.agc.checked = s.agc === true;
  ui.repDev.dataset.want = s.repDev || '';
  ui.custDev.dataset.want = s.custDev || '';
}

function saveSettings() {
  const s = {
    mode: ui.mode.value, rep: ui.rep.value, stun: ui.stun.value,
    ec: ui.ec.checked, ns: ui.ns.checked, agc: ui.agc.checked,
    repDev: ui.repDev.value, custDev: ui.custDev.value,
  };
  try { localStorage.setItem(STORE, JSON.stringify(s)); } catch { /* ignore */ }
}

function applyMode() {
  const m = ui.mode.value;
  ui.custField.hidden = m !== 'devices';
  ui.tabField.hidden = m !== 'tab';
  ui.stereoHint.hidden = m !== 'stereo';
  ui.repLabel.textContent = m === 'stereo' ? 'Stereo input device' : 'Your microphone (rep)';
}

function config() {
  return {
    mode: ui.mode.value,
    repDev: ui.repDev.value,
    custDev: ui.mode.value === 'devices' ? ui.custDev.value : '',
    ec: ui.ec.checked, ns: ui.ns.checked, agc: ui.agc.checked,
  };
}

// ------------------------------------------------------------------ devices

/** Fills both device lists; returns true when the browser gave labels (permission granted). */
async function refreshDevices() {
  let inputs = [];
  try {
    inputs = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audioinput');
  } catch { /* ignore */ }
  const labelled = inputs.some((d) => d.label);
  ui.enableMics.hidden = labelled || !hasMedia;
  fillSelect(ui.repDev, inputs, ui.repDev.value || ui.repDev.dataset.want, null);
  fillSelect(ui.custDev, inputs, ui.custDev.value || ui.custDev.dataset.want, ui.repDev.value);
  return labelled;
}

const LOOPBACK = /loopback|virtual|cable|monitor|stereo mix|blackhole|soundflower|vb-audio|voicemeeter|headset|usb/i;

function fillSelect(sel, inputs, want, avoid) {
  const opts = [];
  const seen = new Set();
  for (const [i, d] of inputs.entries()) {
    if (!d.deviceId || seen.has(d.deviceId)) continue;
    seen.add(d.deviceId);
    opts.push({ value: d.deviceId, label: d.label || `Input device ${i + 1}` });
  }
  if (opts.length === 0) opts.push({ value: '', label: 'Default microphone' });
  let pick = opts.find((o) => o.value === want);
  if (!pick && avoid !== null) {
    // customer side: prefer something that looks like a loopback / softphone input, else another device
    pick = opts.find((o) => o.value !== avoid && o.value !== 'default' && o.value !== 'communications' && LOOPBACK.test(o.label))
      || opts.find((o) => o.value !== avoid && o.value !== 'default' && o.value !== 'communications');
  }
  pick = pick || opts[0];
  const html = opts.map((o) => `<option value="${escAttr(o.value)}">${escHTML(o.label)}</option>`).join('');
  if (sel.innerHTML !== html) sel.innerHTML = html;
  sel.value = pick.value;
}

async function enableMics() {
  clearError();
  try {
    const s = await navigator.mediaDevices.getUserMedia({ audio: true });
    s.getTracks().forEach((t) => t.stop());
  } catch (e) {
    showError(mediaError(e, 'microphone'));
    return;
  }
  await refreshDevices();
  refreshPreview();
}

// ------------------------------------------------------------------ sources

function ensureAudio() {
  if (!audioCtx) audioCtx = new (window.AudioContext || window.webkitAudioContext)();
  return audioCtx;
}
function resumeAudio() {
  if (audioCtx && audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
}

function constraints(deviceId, channels, c) {
  const a = {
    channelCount: channels,
    echoCancellation: c.ec,
    noiseSuppression: c.ns,
    autoGainControl: c.agc,
  };
  if (deviceId) a.deviceId = { exact: deviceId };
  return { audio: a, video: false };
}

function makeSlot(ctx, stream, track, node, outIndex, label) {
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  analyser.smoothingTimeConstant = 0;
  node.connect(analyser, outIndex || 0);
  return { stream, track, analyser, label, buf: new Float32Array(analyser.fftSize), level: 0, peak: 0, peakAt: 0 };
}

/**
 * Opens (or reuses) the two sources for the given configuration. For the tab
 * mode, getDisplayMedia is called first so that it still runs inside the
 * click's user activation.
 */
async function acquire(c) {
  const key = JSON.stringify(c);
  if (sources && sources.key === key && slotLive(sources.rep) && slotLive(sources.customer)) return sources;
  releaseSources();
  const ctx = ensureAudio();
  resumeAudio();
  const opened = [];
  try {
    if (c.mode === 'stereo') {
      const s = await navigator.mediaDevices.getUserMedia(constraints(c.repDev, 2, c));
      opened.push(s);
      const t = s.getAudioTracks()[0];
      const src = ctx.createMediaStreamSource(s);
      const split = ctx.createChannelSplitter(2);
      src.connect(split);
      const dRep = ctx.createMediaStreamDestination();
      const dCust = ctx.createMediaStreamDestination();
      dRep.channelCount = 1;
      dCust.channelCount = 1;
      split.connect(dRep, 0);
      split.connect(dCust, 1);
      const rep = makeSlot(ctx, dRep.stream, dRep.stream.getAudioTracks()[0], split, 0, `${t.label || 'stereo input'} · left`);
      const customer = makeSlot(ctx, dCust.stream, dCust.stream.getAudioTracks()[0], split, 1, `${t.label || 'stereo input'} · right`);
      const ch = (t.getSettings && t.getSettings().channelCount) || 0;
      const warn = ch === 1
        ? 'This device delivers mono audio, so the customer (right) channel will be silent. Choose a stereo input, or another source mode.'
        : (c.ec || c.ns || c.agc) ? 'Audio processing may fold a stereo input down to mono: leave the processing options off for the stereo mode.' : '';
      sources = { key, mode: c.mode, rep, customer, streams: opened, nodes: [src, split, dRep, dCust], warn };
    } else if (c.mode === 'tab') {
      let disp = display && display.track.readyState === 'live' ? display : null;
      if (!disp) disp = await captureDisplay();
      const s = await navigator.mediaDevices.getUserMedia(constraints(c.repDev, 1, c));
      opened.push(s);
      const t = s.getAudioTracks()[0];
      const rep = makeSlot(ctx, s, t, ctx.createMediaStreamSource(s), 0, t.label || 'microphone');
      const customer = makeSlot(ctx, disp.stream, disp.track, ctx.createMediaStreamSource(disp.stream), 0, disp.track.label || 'tab audio');
      sources = { key, mode: c.mode, rep, customer, streams: opened, nodes: [], warn: '' };
    } else {
      const s1 = await navigator.mediaDevices.getUserMedia(constraints(c.repDev, 1, c));
      opened.push(s1);
      let s2;
      if (c.custDev && c.custDev === c.repDev) {
        s2 = s1.clone();
      } else {
        s2 = await navigator.mediaDevices.getUserMedia(constraints(c.custDev, 1, c));
      }
      opened.push(s2);
      const t1 = s1.getAudioTracks()[0], t2 = s2.getAudioTracks()[0];
      const rep = makeSlot(ctx, s1, t1, ctx.createMediaStreamSource(s1), 0, t1.label || 'microphone');
      const customer = makeSlot(ctx, s2, t2, ctx.createMediaStreamSource(s2), 0, t2.label || 'input device');
      const warn = c.custDev === c.repDev || (t1.label && t1.label === t2.label)
        ? 'Both sides use the same device: the customer channel will hear you too. Pick the loopback / softphone input for the customer.'
        : '';
      sources = { key, mode: c.mode, rep, customer, streams: opened, nodes: [], warn };
    }
  } catch (e) {
    opened.forEach(stopStream);
    throw e;
  }
  for (const slot of [sources.rep, sources.customer]) {
    slot.track.addEventListener('ended', () => onTrackEnded(slot));
  }
  showSourceWarn(sources.warn);
  showSourceLabels();
  // Labels become available after the first grant.
  refreshDevices();
  return sources;
}

async function captureDisplay() {
  if (!navigator.mediaDevices.getDisplayMedia) throw Object.assign(new Error('This browser cannot capture tab or system audio.'), { name: 'NoDisplayMedia' });
  const s = await navigator.mediaDevices.getDisplayMedia({ audio: true, video: true });
  const track = s.getAudioTracks()[0];
  s.getVideoTracks().forEach((t) => t.stop()); // only the audio is used
  if (!track) {
    stopStream(s);
    throw Object.assign(new Error('No audio was shared. Choose again and tick “Share tab audio” (or “Share system audio”).'), { name: 'NoAudioShared' });
  }
  display = { stream: new MediaStream([track]), track };
  ui.tabLabel.textContent = track.label ? `Sharing: ${track.label}` : 'Sharing tab audio';
  track.addEventListener('ended', () => { if (display && display.track === track) { display = null; ui.tabLabel.textContent = 'Sharing stopped'; } });
  return display;
}

async function pickTab() {
  clearError();
  if (display) { display.track.stop(); display = null; }
  try {
    await captureDisplay();
    await refreshPreview(true);
  } catch (e) {
    showError(mediaError(e, 'tab'));
  }
}

function slotLive(slot) { return slot && slot.track && slot.track.readyState === 'live'; }

function stopStream(s) { try { s.getTracks().forEach((t) => t.stop()); } catch { /* ignore */ } }

function releaseSources(keepDisplay = true) {
  if (sources) {
    sources.streams.forEach(stopStream);
    for (const slot of [sources.rep, sources.customer]) {
      try { slot.analyser.disconnect(); } catch { /* ignore */ }
      if (sources.mode === 'stereo') try { slot.track.stop(); } catch { /* ignore */ }
    }
    for (const n of sources.nodes) try { n.disconnect(); } catch { /* ignore */ }
    sources = null;
  }
  if (!keepDisplay && display) { display.track.stop(); display = null; ui.tabLabel.textContent = ''; }
  showSourceLabels();
}

function onTrackEnded(slot) {
  if (!sources || (sources.rep !== slot && sources.customer !== slot)) return;
  const who = sources.rep === slot ? 'rep' : 'customer';
  showSourceWarn(`The ${who} source stopped (device unplugged or sharing ended).${publishing ? ' The server no longer receives that side.' : ''}`);
  showSourceLabels();
}

/** (Re)opens the sources for the level preview; tab mode only when asked or already shared. */
async function refreshPreview(explicit = false, keepError = false) {
  if (!hasMedia || publishing || busy) return;
  const c = config();
  if (c.mode === 'tab' && !explicit && !(display && display.track.readyState === 'live')) {
    releaseSources();
    return;
  }
  const seq = ++previewSeq;
  if (!keepError) clearError();
  try {
    await acquire(c);
  } catch (e) {
    if (seq === previewSeq) showError(mediaError(e, c.mode === 'tab' ? 'tab' : 'microphone'));
  }
}

function showSourceWarn(text) {
  ui.sourceWarn.textContent = text || '';
  ui.sourceWarn.hidden = !text;
}

function showSourceLabels() {
  for (const [el, slot] of [[ui.levelRep, sources && sources.rep], [ui.levelCust, sources && sources.customer]]) {
    const live = slotLive(slot);
    el.dataset.off = String(!live);
    el.querySelector('.src').textContent = live ? slot.label : (ui.mode.value === 'tab' && el === ui.levelCust ? 'no tab shared yet' : 'not open');
    if (!live) {
      el.querySelector('.db').textContent = 'off';
      el.querySelector('.vu i').style.transform = 'scaleX(0)';
      el.querySelector('.vu b').style.left = '0';
    }
  }
}

// ------------------------------------------------------------------ level meters

function levelLoop(ts) {
  requestAnimationFrame(levelLoop);
  if (!sources) return;
  for (const [el, slot] of [[ui.levelRep, sources.rep], [ui.levelCust, sources.customer]]) {
    if (!slotLive(slot)) continue;
    slot.analyser.getFloatTimeDomainData(slot.buf);
    let sum = 0;
    for (let i = 0; i < slot.buf.length; i++) sum += slot.buf[i] * slot.buf[i];
    const rms = Math.sqrt(sum / slot.buf.length);
    const db = rms > 0 ? 20 * Math.log10(rms) : -Infinity;
    const v = Math.max(0, Math.min(1, (db + 60) / 60)); // -60 dBFS .. 0 dBFS
    slot.level = v > slot.level ? v : slot.level * 0.9 + v * 0.1; // fast attack, slow release
    if (v >= slot.peak || ts - slot.peakAt > 1200) { slot.peak = v; slot.peakAt = ts; }
    const bar = el.querySelector('.vu i');
    const pk = el.querySelector('.vu b');
    bar.style.transform = `scaleX(${slot.level.toFixed(3)})`;
    pk.style.left = `calc(${(slot.peak * 100).toFixed(1)}% - 3px)`;
    const txt = slot.level < 0.03 ? 'silent' : `${Math.round(slot.level * 60 - 60)} dB`;
    const d = el.querySelector('.db');
    if (d.textContent !== txt && (ts - (slot.txtAt || 0) > 250)) { d.textContent = txt; slot.txtAt = ts; }
  }
}

// ------------------------------------------------------------------ publish

function setPublishState(st) {
  ui.state.textContent = st;
  ui.pill.dataset.state = st;
  const locked = st === 'connecting' || st === 'live';
  for (const el of [ui.mode, ui.repDev, ui.custDev, ui.ec, ui.ns, ui.agc, ui.stun, ui.name, ui.rep, ui.customer, ui.pickTab, ui.testSources, ui.enableMics]) el.disabled = locked;
  ui.start.disabled = locked || busy;
  ui.stop.disabled = !locked;
  ui.startLabel.textContent = st === 'stopped' ? 'Start new call' : st === 'error' ? 'Try again' : 'Start';
}

function showError(msg) {
  ui.error.textContent = msg;
  ui.error.hidden = !msg;
}
function clearError() { showError(''); }
function setNote(msg) { ui.note.textContent = msg || ''; ui.note.hidden = !msg; }

function mediaError(e, what) {
  const n = e && e.name;
  if (n === 'NotAllowedError' || n === 'SecurityError') {
    return what === 'tab' ? 'Sharing was cancelled or blocked. Choose the tab again and tick “Share tab audio”.'
      : 'Access to the microphone was blocked. Allow it in the browser (icon in the address bar) and try again.';
  }
  if (n === 'NotFoundError') return 'No audio input device was found. Plug in a microphone and try again.';
  if (n === 'NotReadableError' || n === 'AbortError') return 'The audio device could not be opened: another application may be using it.';
  if (n === 'OverconstrainedError') return 'The chosen audio device is not available any more. Pick another one.';
  return (e && e.message) || String(e);
}

function waitIceGathering(peer, ms) {
  if (peer.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      peer.removeEventListener('icegatheringstatechange', onState);
      peer.removeEventListener('icecandidate', onCand);
      resolve();
    };
    const onState = () => { if (peer.iceGatheringState === 'complete') done(); };
    const onCand = (ev) => { if (!ev.candidate) done(); };
    const timer = setTimeout(done, ms); // send what we have
    peer.addEventListener('icegatheringstatechange', onState);
    peer.addEventListener('icecandidate', onCand);
  });
}

function defaultName() {
  const cust = ui.customer.value.trim();
  const t = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return cust ? `Call with ${cust}` : `Call at ${t}`;
}

async function start() {
  if (publishing || busy) return;
  const myGen = ++gen;
  const stale = () => myGen !== gen; // Stop was pressed meanwhile
  busy = true;
  clearError();
  setNote('');
  saveSettings();
  setPublishState('connecting');
  ui.callIdWrap.hidden = true;
  ui.callId.textContent = '';
  resumeAudio();

  let src;
  const c = config();
  try {
    ensureAudio();
    await audioCtx.resume().catch(() => {});
    src = await acquire(c);
  } catch (e) {
    busy = false;
    if (stale()) return;
    setPublishState('error');
    showError(mediaError(e, c.mode === 'tab' ? 'tab' : 'microphone'));
    return;
  }
  if (stale()) { busy = false; return; }

  let created = '';
  let peer = null;
  try {
    const stun = ui.stun.value.trim();
    peer = new RTCPeerConnection({ iceServers: stun ? [{ urls: stun }] : [] });
    pc = peer;
    // Order matters: first audio m-line = rep, second = customer.
    peer.addTransceiver(src.rep.track, { direction: 'sendonly', streams: [src.rep.stream] });
    peer.addTransceiver(src.customer.track, { direction: 'sendonly', streams: [src.customer.stream] });
    peer.addEventListener('connectionstatechange', () => onPeerState(peer));

    const offer = await peer.createOffer();
    await peer.setLocalDescription(offer);
    await waitIceGathering(peer, ICE_TIMEOUT_MS);
    if (stale()) throw new Error('cancelled');

    const params = new URLSearchParams({
      name: ui.name.value.trim() || defaultName(),
      rep: ui.rep.value.trim(),
      customer: ui.customer.value.trim(),
    });
    let resp;
    try {
      resp = await fetch('/whip?' + params, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: peer.localDescription.sdp,
      });
    } catch (e) {
      throw new Error(`Could not reach the talkratio server (${(e && e.message) || 'network error'}).`);
    }
    if (!resp.ok) throw new Error(await errorText(resp));
    const answer = await resp.text();
    const loc = resp.headers.get('Location');
    created = loc ? new URL(loc, location.href).href : '';
    let id = resp.headers.get('Talkratio-Call-Id') || '';
    if (!id && loc) id = decodeURIComponent(new URL(loc, location.href).pathname.split('/').filter(Boolean).pop() || '');
    if (stale()) throw new Error('cancelled');
    sessionURL = created;
    publishing = true;
    ui.callId.textContent = id;
    ui.callLink.href = '/calls/' + encodeURIComponent(id);
    ui.callIdWrap.hidden = !id;
    await peer.setRemoteDescription({ type: 'answer', sdp: answer });
    if (stale()) throw new Error('cancelled');

    if (!sessionURL) setNote('The server sent no session URL (Location header): Stop cannot end the call on the server.');
    if (meter) meter.destroy();
    if (mini) mini.destroy();
    // The compact meter stays in view beside the controls (or on top of
    // the softphone, popped out), with the tab title on the live figure.
    mini = id ? createMiniMeter(ui.miniSlot, { callId: id, title: true }) : null;
    ui.miniSlot.hidden = !mini;
    meter = id ? mountMeter(ui.slot, id, { onSnapshot: (snap) => mini && mini.update(snap) }) : null;
    if (meter && window.matchMedia('(max-width: 1100px)').matches) ui.slot.scrollIntoView({ behavior: 'smooth', block: 'start' });
    if (peer.connectionState === 'connected') setPublishState('live');
    clearTimeout(connectHintTimer);
    connectHintTimer = setTimeout(() => {
      if (pc === peer && peer.connectionState !== 'connected') setNote('Still connecting the audio… If this does not finish, the server may be unreachable for media (firewall / NAT): try a STUN server under Advanced.');
    }, CONNECT_HINT_MS);
  } catch (e) {
    // A session the server created that we will not use: end it.
    if (created) fetch(created, { method: 'DELETE' }).catch(() => {});
    if (stale()) {
      try { if (peer) peer.close(); } catch { /* ignore */ }
    } else {
      const msg = (e && e.message) || String(e);
      teardown();
      setPublishState('error');
      showError(created ? `The server's answer could not be applied: ${msg}` : msg);
      if (c.mode !== 'tab') setTimeout(() => refreshPreview(false, true), 0); // keep the level meters alive for the next try
    }
  } finally {
    busy = false;
    if (!stale()) ui.start.disabled = publishing || ui.state.textContent === 'connecting';
  }
}

function onPeerState(peer) {
  if (peer !== pc) return;
  switch (peer.connectionState) {
    case 'connected':
      clearTimeout(connectHintTimer);
      setNote('');
      if (publishing) setPublishState('live');
      break;
    case 'disconnected':
      if (publishing) setNote('Audio connection interrupted — trying to recover…');
      break;
    case 'failed':
      if (publishing) {
        if (sessionURL) fetch(sessionURL, { method: 'DELETE' }).catch(() => {});
        teardown();
        setPublishState('error');
        showError('The audio connection to the server failed (ICE/DTLS). Check the network, or set a STUN server under Advanced, then start again.');
      }
      break;
    default:
  }
}

function teardown() {
  clearTimeout(connectHintTimer);
  publishing = false;
  if (pc) { try { pc.close(); } catch { /* ignore */ } pc = null; }
  releaseSources(false);
  sessionURL = '';
}

async function stop() {
  if (!publishing && !pc && ui.state.textContent !== 'connecting') return;
  gen++;
  ui.stop.disabled = true;
  const url = sessionURL;
  let failure = '';
  if (url) {
    try {
      const r = await fetch(url, { method: 'DELETE' });
      if (!r.ok && r.status !== 404) failure = await errorText(r);
    } catch (e) {
      failure = (e && e.message) || 'network error';
    }
  }
  teardown();
  busy = false;
  setNote('');
  setPublishState('stopped');
  if (failure) showError(`The server did not confirm the end of the call: ${failure}`);
}

// ------------------------------------------------------------------ tiny helpers

function escHTML(s) { return String(s).replace(/[&<>]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' }[ch])); }
function escAttr(s) { return String(s).replace(/[&"<>]/g, (ch) => ({ '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' }[ch])); }
