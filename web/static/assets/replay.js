// Entry point of replay.html, served for /replay/{id}: replays a stored call.
//
// GET /api/calls/{id} gives the whole analysis: the segments of each role,
// the markers (long monologues, interruptions, long silences) and the meter
// series (`meter`: whole-call figures at every step_s). The playhead is the
// <audio> element's currentTime when the call has a recording, otherwise a
// virtual clock with the same controls. The meter shows the series' values at
// the playhead, so the call replays as if it were live.
//
// Test hooks: #replay-audio, #replay-timeline, #replay-listen-pct,
// #replay-time, #replay-state, #replay-rep-talk-s, #replay-customer-talk-s.
import {
  DASH, fmtPct, onTarget, roundPct, fmtSec1, fmtClock, fmtDur, fmtFull, isNum, zoneOf, setText, setAttr, esc, getJSON, pathParam,
  liveHref, repHref, avatar, intersect,
} from './common.js';
import { arcPath, gaugePoint, roundRect, missingHatch, GX, GY, GR, ZR } from './meter.js';

const ANALYZE_POLL_MS = 1000;
// The one monologue threshold: the live nudge, these markers and the reps
// page's flags all use the service's (thresholds.long_monologue_s).
let MONO_S = 60;
let recentWindowS = 120;
const SKIP_S = 10;
const KEY_SKIP_S = 5;
const DEFAULT_TARGET = 80;

const $ = (id) => document.getElementById(id);
const main = $('replay');
const id = pathParam('/replay/') || new URLSearchParams(location.search).get('id') || '';
const apiBase = '/api/calls/' + encodeURIComponent(id);

const ui = {
  name: $('replay-name'), crumb: $('crumb-name'), meta: $('replay-meta'), csv: $('replay-csv'), json: $('replay-json'), del: $('replay-delete'),
  error: $('replay-error'), notice: $('replay-notice'), body: $('replay-body'), verdict: $('replay-verdict'),
  phase: $('phase-card'), phaseIc: $('phase-ic'), phaseTitle: $('phase-title'), phaseText: $('phase-text'), phaseProgress: $('phase-progress'),
  phaseBar: $('phase-bar'), phasePct: $('phase-pct'), phaseActions: $('phase-actions'),
  play: $('replay-play'), back: $('replay-back'), fwd: $('replay-fwd'), clock: $('replay-clock'), dur: $('replay-dur'), time: $('replay-time'),
  mode: $('replay-mode'), speed: $('replay-speed'), state: $('replay-state'), statePill: $('replay-state-pill'),
  labels: $('tl-labels'), wrap: $('tl-wrap'), canvas: $('replay-timeline'), tip: $('tl-tip'), audioSlot: $('audio-slot'),
  gauge: $('r-gauge'), gaugeSvg: $('r-gauge-svg'), at: $('r-at'), big: $('r-big'), listen: $('replay-listen-pct'),
  side: $('r-side'), recentNum: $('r-recent-num'), recent: $('replay-recent-listen-pct'), zonebar: $('r-zonebar'), zbMk: $('r-zb-mk'),
  roleRep: $('r-role-rep'), roleCust: $('r-role-cust'), repTalk: $('replay-rep-talk-s'), custTalk: $('replay-customer-talk-s'),
  repShare: $('r-rep-share'), custShare: $('r-cust-share'), repBar: $('r-rep-bar'), custBar: $('r-cust-bar'),
  speakRep: $('r-speak-rep'), speakCust: $('r-speak-cust'), repName: $('r-rep-name'), custName: $('r-cust-name'),
  mono: $('r-mono'), monoBar: $('r-mono-bar'), monoV: $('r-mono-v'),
  zoomIn: $('tl-zoom-in'), zoomOut: $('tl-zoom-out'), zoomFit: $('tl-zoom-fit'), viewText: $('tl-view'),
  map: $('replay-minimap'), mapWrap: $('tl-map-wrap'), mapView: $('tl-map-view'), lgMono: $('lg-mono-s'),
  comments: $('comments-list'), commentsCount: $('comments-count'), commentForm: $('comment-form'), commentText: $('comment-text'),
  commentAt: $('comment-at'), commentError: $('comment-error'), commentsCard: $('comments-card'),
  moments: $('moments-list'), momentsCount: $('moments-count'), finalGrid: $('final-grid'), finalSub: $('final-sub'),
};

const ICON = {
  analyzing: '<span class="spin big" aria-hidden="true"></span>',
  failed: '<svg viewBox="0 0 48 48" aria-hidden="true"><circle cx="24" cy="24" r="21" fill="rgba(239,68,68,.12)" stroke="#ef4444" stroke-width="2"/><path d="M24 14v12M24 33h.01" stroke="#fca5a5" stroke-width="3.5" stroke-linecap="round"/></svg>',
  live: '<svg viewBox="0 0 48 48" aria-hidden="true"><circle cx="24" cy="24" r="21" fill="rgba(239,68,68,.12)" stroke="#ef4444" stroke-width="2"/><circle cx="24" cy="24" r="7" fill="#ef4444"/></svg>',
  missing: '<svg viewBox="0 0 48 48" aria-hidden="true"><circle cx="24" cy="24" r="21" fill="#111a30" stroke="#31426a" stroke-width="2"/><path d="M17 17l14 14M31 17L17 31" stroke="#93a0be" stroke-width="3.5" stroke-linecap="round"/></svg>',
  ok: '<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="9.5" fill="none" stroke="currentColor" stroke-width="2"/><path d="m7.8 12.3 2.8 2.8 5.6-5.8" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  warn: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/><path d="M12 9v4.5M12 17h.01" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"/></svg>',
  upload: '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M8 10.5V2.8M4.8 5.8 8 2.6l3.2 3.2M2.8 10.5v1.7c0 .6.5 1 1 1h8.4c.6 0 1-.4 1-1v-1.7" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  livesrc: '<svg viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="3.2" fill="currentColor"/><path d="M3.8 3.8a6 6 0 0 0 0 8.4M12.2 3.8a6 6 0 0 1 0 8.4" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/></svg>',
  cal: '<svg viewBox="0 0 16 16" aria-hidden="true"><rect x="2.5" y="3.5" width="11" height="10" rx="2" fill="none" stroke="currentColor" stroke-width="1.5"/><path d="M2.5 6.8h11M5.5 2v3M10.5 2v3" stroke="currentColor" stroke-width="1.5" stroke-linecap="round"/></svg>',
  clock: '<svg viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" stroke-width="1.6"/><path d="M8 4.6V8l2.3 1.5" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/></svg>',
  nosound: '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M2.5 6h2.2L8 3.3v9.4L4.7 10H2.5zM11 6l3.5 4M14.5 6 11 10" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  sound: '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M2.5 6h2.2L8 3.3v9.4L4.7 10H2.5zM10.8 5.6a3.4 3.4 0 0 1 0 4.8M12.6 3.9a5.8 5.8 0 0 1 0 8.2" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round"/></svg>',
};

// ---------------------------------------------------------------- state

let call = null;          // GET /api/calls/{id}
let target = DEFAULT_TARGET;
let D = 0;                // call duration (s)
let meter = null;         // { step, listen[], recent[], rep[], cust[] }
let segs = { rep: [], customer: [] };
let missing = [];         // stretches whose audio never arrived (live calls)
let runs = [];            // rep runs (merged over short gaps) for "monologue now"
let overlaps = [];
let moments = [];
let comments = [];         // coaches' notes on moments: [{id, at_s, text, author, created_at}]
let audio = null;
let mode = 'virtual';     // 'audio' | 'virtual'
let playState = 'loading';
let rate = 1;
// virtual clock
let vT = 0, vStart = 0, vPlaying = false;
let lastShownIdx = -2, lastShownT = -1;
let staticLayer = null;   // offscreen canvas with everything but the playhead
let hoverX = null;
let layout = null;
// The timeline's view: [v0, v1) seconds of the call; the whole call until
// zoomed. A 90-minute call has hundreds of segments: zoom shows them.
let v0 = 0, v1 = 0;
const MIN_VIEW_S = 20;

function setState(st) {
  playState = st;
  setText(ui.state, st);
  setAttr(ui.statePill, 'data-state', st);
  setAttr(main, 'data-state', st);
  const playing = st === 'playing';
  ui.play.classList.toggle('is-playing', playing);
  setAttr(ui.play, 'aria-label', playing ? 'Pause' : 'Play');
  setAttr(ui.play, 'title', playing ? 'Pause (space)' : 'Play (space)');
}

function showError(msg) {
  ui.error.textContent = msg;
  ui.error.hidden = !msg;
}
function showNotice(html) {
  ui.notice.innerHTML = html;
  ui.notice.hidden = !html;
}

// ---------------------------------------------------------------- load

setState('loading');
ui.csv.href = apiBase + '.csv';
ui.csv.setAttribute('download', `call-${id}.csv`);
ui.json.href = apiBase;
ui.del.addEventListener('click', onDelete);

if (!id || id === 'replay.html') {
  showPhase('missing', 'No call chosen', 'Open a call from the library to replay it.', [['/', 'Back to the calls', 'btn-primary']]);
  setState('error');
} else {
  load();
}

async function load() {
  let d;
  try {
    d = await getJSON(apiBase);
  } catch (e) {
    if (e.status === 404) {
      ui.name.textContent = 'No such call';
      ui.crumb.textContent = 'Not found';
      document.title = 'No such call — talkratio';
      showPhase('missing', 'No such call', `There is no call with the id “${id}”. It may have been deleted, or the link is wrong.`, [['/', '← Back to the calls', 'btn-primary']]);
      document.querySelector('.replay-head').hidden = true;
      setState('error');
      return;
    }
    showError(`Can't load the call (${e.message || 'network error'}). Retrying…`);
    setTimeout(load, 3000);
    return;
  }
  if (d && d.thresholds && isNum(d.thresholds.long_monologue_s) && d.thresholds.long_monologue_s > 0) MONO_S = d.thresholds.long_monologue_s;
  if (d && d.thresholds && isNum(d.thresholds.recent_window_s)) recentWindowS = d.thresholds.recent_window_s;
  showError('');
  call = d;
  setHeader(d);
  ui.csv.hidden = d.state !== 'ended';
  if (d.state === 'analyzing') {
    const p = isNum(d.progress) ? Math.max(0, Math.min(1, d.progress)) : 0;
    showPhase('analyzing', 'Analyzing the recording…', 'The replay opens here by itself as soon as the analysis is done.', [['/', '← Back to the calls', '']], p);
    setTimeout(load, ANALYZE_POLL_MS);
    return;
  }
  if (d.state === 'failed') {
    showPhase('failed', 'The analysis failed', d.error ? String(d.error) : 'The server could not analyze this recording.', [['del', 'Delete this call', 'btn-danger'], ['/', '← Back to the calls', '']]);
    setState('error');
    return;
  }
  if (d.state === 'live') {
    showPhase('live', 'This call is still live', 'Its replay is ready when the call ends. Meanwhile you can watch it live.', [[liveHref(d.id ?? id), 'Watch live →', 'btn-primary'], ['/', '← Back to the calls', '']]);
    setState('error');
    setTimeout(load, 5000);
    return;
  }
  start(d);
}

function showPhase(kind, title, text, actions, progress) {
  main.dataset.phase = kind;
  ui.body.hidden = true;
  ui.phase.hidden = false;
  ui.phase.dataset.kind = kind;
  if (ui.phaseIc.dataset.kind !== kind) { ui.phaseIc.dataset.kind = kind; ui.phaseIc.innerHTML = ICON[kind] || ''; }
  setText(ui.phaseTitle, title);
  setText(ui.phaseText, text);
  ui.phaseProgress.hidden = progress === undefined;
  if (progress !== undefined) {
    ui.phaseBar.style.transform = `scaleX(${progress})`;
    setText(ui.phasePct, `${Math.round(progress * 100)}%`);
  }
  const key = JSON.stringify(actions);
  if (ui.phaseActions.dataset.key !== key) {
    ui.phaseActions.dataset.key = key;
    ui.phaseActions.innerHTML = '';
    for (const [href, label, cls] of actions) {
      if (href === 'del') {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = `btn ${cls}`;
        b.textContent = label;
        b.addEventListener('click', onDelete);
        ui.phaseActions.append(b);
      } else {
        const a = document.createElement('a');
        a.className = `btn ${cls}`;
        a.href = href;
        a.textContent = label;
        ui.phaseActions.append(a);
      }
    }
  }
}

const whenFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', month: 'short', day: 'numeric', year: 'numeric', hour: '2-digit', minute: '2-digit' });
function fmtWhen(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : whenFmt.format(d);
}

function setHeader(d) {
  const name = d.name || 'Untitled call';
  setText(ui.name, name);
  setText(ui.crumb, name);
  document.title = `${name} — Replay — talkratio`;
  const parts = [];
  if (d.rep || d.customer) {
    parts.push(`<span class="rh-who">${d.rep ? `<a href="${esc(repHref(d.rep))}" class="rh-rep">${avatar(d.rep)}<span>${esc(d.rep)}</span></a>` : '<span>Rep</span>'}<span class="with">with</span><span class="rh-cust">${esc(d.customer || 'customer')}</span></span>`);
  }
  if (d.started_at) parts.push(`<span class="rh-item" title="${esc(fmtFull(d.started_at))}">${ICON.cal}${esc(fmtWhen(d.started_at))}</span>`);
  if (isNum(d.duration_s) && d.duration_s > 0) parts.push(`<span class="rh-item">${ICON.clock}${esc(fmtClock(d.duration_s))}</span>`);
  parts.push(`<span class="rh-item">${d.source === 'upload' ? `${ICON.upload}Uploaded recording` : `${ICON.livesrc}Live call`}</span>`);
  if (d.state === 'ended' && d.has_audio === false) parts.push(`<span class="rh-item dim">${ICON.nosound}No recording</span>`);
  const html = parts.join('');
  if (ui.meta.innerHTML !== html) ui.meta.innerHTML = html;
}

// ---------------------------------------------------------------- start the replay

function start(d) {
  target = isNum(d.target_listen_pct) ? d.target_listen_pct : DEFAULT_TARGET;
  document.querySelectorAll('.target-pct').forEach((e) => setText(e, String(target)));
  segs = {
    rep: cleanSegs(d.segments && d.segments.rep),
    customer: cleanSegs(d.segments && d.segments.customer),
  };
  missing = cleanSegs(d.segments && d.segments.missing);
  const segEnd = Math.max(0, ...segs.rep.map((s) => s[1]), ...segs.customer.map((s) => s[1]));
  D = isNum(d.duration_s) && d.duration_s > 0 ? d.duration_s : segEnd;
  meter = readMeter(d.meter) || meterFromSegments(segs, D);
  if (!(D > 0)) D = meter ? (meter.listen.length - 1) * meter.step : 0;
  runs = mergeRuns(segs.rep, 1.0);
  overlaps = intersect(segs.rep, segs.customer);
  moments = buildMoments(d);
  comments = Array.isArray(d.comments) ? d.comments.filter((c) => c && isNum(c.at_s)) : [];

  main.dataset.phase = 'ready';
  ui.phase.hidden = true;
  ui.body.hidden = false;
  setText(ui.dur, fmtClock(D));
  ui.canvas.setAttribute('aria-valuemax', String(Math.round(D)));
  setText($('tl-rep-name'), d.rep || '');
  setText($('tl-cust-name'), d.customer || '');
  setText(ui.repName, d.rep || '');
  setText(ui.custName, d.customer || '');

  renderVerdict(d);
  renderGaugeStatic();
  renderMoments();
  renderComments();
  initComments(d);
  renderFinal(d);
  initTimeline();
  initZoom();
  setText(ui.lgMono, fmtDur(MONO_S));
  v0 = v1 = 0;
  setView(0, D);
  initControls();

  if (d.has_audio) {
    setupAudio();
  } else {
    useVirtual(false);
    setState('ready');
  }
  // A link to a moment (/replay/{id}?t=SECONDS) opens the call there.
  const at = Number(new URLSearchParams(location.search).get('t'));
  if (Number.isFinite(at) && at > 0) seek(Math.min(at, D));
  showFrame(true);
  requestAnimationFrame(loop);
}

function cleanSegs(list) {
  if (!Array.isArray(list)) return [];
  const out = [];
  for (const s of list) {
    const a = Array.isArray(s) ? +s[0] : s && +s.start_s;
    const b = Array.isArray(s) ? +s[1] : s && +s.end_s;
    if (Number.isFinite(a) && Number.isFinite(b) && b > a) out.push([a, b]);
  }
  return out.sort((x, y) => x[0] - y[0]);
}

function readMeter(m) {
  if (!m || typeof m !== 'object' || !Array.isArray(m.listen_pct) || !m.listen_pct.length) return null;
  const n = m.listen_pct.length;
  const arr = (a) => (Array.isArray(a) && a.length ? a : new Array(n).fill(null));
  return {
    step: isNum(m.step_s) && m.step_s > 0 ? m.step_s : 1,
    listen: m.listen_pct,
    recent: arr(m.recent_listen_pct),
    rep: arr(m.rep_talk_s),
    cust: arr(m.customer_talk_s),
  };
}

/** Fallback when the server sends no meter series: the same figures, from the segments. */
function meterFromSegments(s, dur) {
  if (!(dur > 0)) return null;
  const n = Math.floor(dur) + 1;
  const out = { step: 1, listen: [], recent: [], rep: [], cust: [] };
  const upTo = (list, from, to) => list.reduce((acc, [a, b]) => acc + Math.max(0, Math.min(b, to) - Math.max(a, from)), 0);
  for (let i = 0; i < n; i++) {
    const t = Math.min(i, dur);
    const r = upTo(s.rep, 0, t), c = upTo(s.customer, 0, t);
    const rr = upTo(s.rep, t - 120, t), rc = upTo(s.customer, t - 120, t);
    out.rep.push(r); out.cust.push(c);
    out.listen.push(r + c > 0 ? roundPct((c / (r + c)) * 100) : null);
    out.recent.push(rr + rc > 0 ? roundPct((rc / (rr + rc)) * 100) : null);
  }
  return out;
}

// ---------------------------------------------------------------- player

function setupAudio() {
  mode = 'audio';
  setMode();
  ui.audioSlot.innerHTML = `<audio id="replay-audio" src="${esc(apiBase + '/audio')}" preload="metadata"></audio>`;
  const a = ui.audioSlot.querySelector('audio');
  audio = a;
  let settled = false;
  a.addEventListener('loadedmetadata', () => {
    if (settled) return;
    settled = true;
    if (Number.isFinite(a.duration) && a.duration > 0 && Math.abs(a.duration - D) > 1) {
      console.warn(`replay: the recording is ${a.duration.toFixed(1)} s, the analysis ${D.toFixed(1)} s`);
    }
    a.playbackRate = rate;
    setState('ready');
    showFrame(true);
  });
  a.addEventListener('play', () => setState('playing'));
  a.addEventListener('playing', () => setState('playing'));
  a.addEventListener('pause', () => { if (playState !== 'loading' && playState !== 'error') setState('paused'); showFrame(true); });
  a.addEventListener('ended', () => { setState('paused'); showFrame(true); });
  a.addEventListener('seeked', () => showFrame(true));
  a.addEventListener('timeupdate', () => { if (!isPlaying()) showFrame(true); });
  a.addEventListener('error', () => {
    const t = a.currentTime || 0;
    const wasSettled = settled;
    settled = true;
    audio = null;
    a.remove();
    vT = Math.min(t, D);
    useVirtual(true);
    setState(wasSettled ? 'paused' : 'ready');
    showFrame(true);
  });
}

function useVirtual(failedAudio) {
  mode = 'virtual';
  setMode();
  if (failedAudio) {
    showNotice(`${ICON.nosound}<span>The recording could not be loaded, so the call replays without sound — the meter and the timeline still follow the playhead.</span>`);
  }
}

function setMode() {
  ui.mode.innerHTML = mode === 'audio'
    ? `${ICON.sound}<span>Recording</span>`
    : `${ICON.nosound}<span>Timeline only · no recording</span>`;
  ui.mode.dataset.mode = mode;
}

function isPlaying() {
  return mode === 'audio' ? !!audio && !audio.paused && !audio.ended : vPlaying;
}

function now() {
  if (mode === 'audio' && audio) return Math.min(D || Infinity, audio.currentTime || 0);
  if (!vPlaying) return vT;
  const t = vT + ((performance.now() - vStart) / 1000) * rate;
  if (t >= D) { vT = D; vPlaying = false; setState('paused'); return D; }
  return t;
}

function maxT() {
  if (mode === 'audio' && audio && Number.isFinite(audio.duration) && audio.duration > 0) return Math.min(D, audio.duration);
  return D;
}

function seek(t) {
  t = Math.max(0, Math.min(maxT(), t));
  if (mode === 'audio' && audio) {
    try { audio.currentTime = t; } catch { /* not seekable yet */ }
  } else {
    vT = t;
    if (vPlaying) vStart = performance.now();
  }
  showFrame(true, t);
}

function play() {
  if (playState === 'loading' || playState === 'error') return;
  if (mode === 'audio' && audio) {
    if (audio.ended || audio.currentTime >= maxT() - 0.05) audio.currentTime = 0;
    const p = audio.play();
    if (p && p.catch) p.catch((e) => { if (e && e.name !== 'AbortError') showNotice(`${ICON.nosound}<span>The browser did not start playback (${esc(e.message || e.name)}). Press play again.</span>`); });
  } else {
    if (vT >= D - 0.05) vT = 0;
    vStart = performance.now();
    vPlaying = true;
    setState('playing');
  }
}

function pause() {
  if (mode === 'audio' && audio) { audio.pause(); return; }
  if (vPlaying) {
    vT = now();
    vPlaying = false;
    setState('paused');
    showFrame(true);
  }
}

function toggle() { if (isPlaying()) pause(); else play(); }

function initControls() {
  ui.play.addEventListener('click', toggle);
  ui.back.addEventListener('click', () => seek(now() - SKIP_S));
  ui.fwd.addEventListener('click', () => seek(now() + SKIP_S));
  ui.speed.addEventListener('change', () => {
    const r = Number(ui.speed.value) || 1;
    if (mode === 'virtual' && vPlaying) { vT = now(); vStart = performance.now(); }
    rate = r;
    if (audio) audio.playbackRate = r;
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.defaultPrevented || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const tag = ev.target && ev.target.tagName;
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return;
    if (ev.key === ' ' || ev.key === 'k') {
      if (tag === 'BUTTON' || tag === 'A') return; // let the focused control act
      ev.preventDefault();
      toggle();
    } else if (ev.key === 'ArrowLeft' || ev.key === 'j') {
      ev.preventDefault();
      seek(now() - KEY_SKIP_S);
    } else if (ev.key === 'ArrowRight' || ev.key === 'l') {
      ev.preventDefault();
      seek(now() + KEY_SKIP_S);
    } else if (ev.key === 'Home') {
      ev.preventDefault();
      seek(0);
    } else if (ev.key === 'End') {
      ev.preventDefault();
      seek(D);
    }
  });
}

async function onDelete() {
  const name = (call && call.name) || 'this call';
  if (!window.confirm(`Delete “${name}”?\n\nIts numbers${call && call.has_audio ? ' and its recording' : ''} are removed for good.`)) return;
  pause();
  try {
    const r = await fetch(apiBase, { method: 'DELETE' });
    if (!r.ok && r.status !== 404) {
      let msg = `${r.status} ${r.statusText}`;
      try { const j = await r.json(); if (j && j.error) msg = j.error; } catch { /* keep */ }
      throw new Error(msg);
    }
    location.href = '/';
  } catch (e) {
    showError(`Could not delete the call: ${e.message || 'network error'}`);
  }
}

// ---------------------------------------------------------------- frame: meter + clock at the playhead

function loop() {
  requestAnimationFrame(loop);
  if (isPlaying() || hoverDirty) showFrame(false);
}

let hoverDirty = false;

function idxAt(t) {
  if (!meter) return -1;
  const n = meter.listen.length;
  return Math.max(0, Math.min(n - 1, Math.floor(t / meter.step + 1e-9)));
}

function showFrame(force, tOverride) {
  const t = tOverride !== undefined ? tOverride : now();
  hoverDirty = false;
  if (isPlaying()) follow(t);
  drawTimeline(t);
  setText(ui.commentAt, fmtClock(t));
  if (!force && Math.abs(t - lastShownT) < 0.05) return;
  lastShownT = t;
  // Truncated, not rounded, so that the time shown and the meter sample
  // shown (floor of t) always agree.
  setText(ui.time, (Math.floor(t * 10 + 1e-9) / 10).toFixed(1));
  setText(ui.clock, fmtClock(t));
  setText(ui.at, fmtClock(t));
  ui.canvas.setAttribute('aria-valuenow', String(Math.round(t)));
  ui.canvas.setAttribute('aria-valuetext', `${fmtClock(t)} of ${fmtClock(D)}`);

  // speaking + monologue depend on t directly
  const repOn = inSegs(segs.rep, t), custOn = inSegs(segs.customer, t);
  const playing = isPlaying();
  setAttr(ui.roleRep, 'data-speaking', String(repOn && playing));
  setAttr(ui.roleCust, 'data-speaking', String(custOn && playing));
  setAttr(ui.roleRep, 'data-on', String(repOn));
  setAttr(ui.roleCust, 'data-on', String(custOn));
  setText(ui.speakRep, repOn ? 'Speaking' : 'Quiet');
  setText(ui.speakCust, custOn ? 'Speaking' : 'Quiet');
  const run = runs.find((r) => r[0] <= t && t < r[1] + 0.001);
  const cur = run ? t - run[0] : 0;
  setText(ui.monoV, run ? fmtDur(cur) : DASH);
  ui.monoBar.style.transform = `scaleX(${Math.min(1, cur / MONO_S)})`;
  setAttr(ui.mono, 'data-level', !run ? 'none' : cur >= MONO_S ? 'bad' : cur >= MONO_S * 0.75 ? 'warn' : 'ok');
  highlightMoment(t);

  const i = idxAt(t);
  if (i === lastShownIdx && !force) return;
  lastShownIdx = i;
  if (!meter || i < 0) return;
  const lp = num(meter.listen[i]);
  setText(ui.listen, fmtPct(lp));
  setAttr(ui.big, 'data-empty', String(lp === null));
  setAttr(ui.gauge, 'data-zone', zoneOf(lp, target));
  gaugeValue.style.strokeDashoffset = String(100 - (lp ?? 0));

  // Before a whole window has passed the recent figure is the whole
  // call's: show none rather than repeat it.
  const rp = i * meter.step >= recentWindowS ? num(meter.recent[i]) : null;
  setText(ui.recent, fmtPct(rp));
  setAttr(ui.recentNum, 'data-empty', String(rp === null));
  setAttr(ui.side, 'data-zone', zoneOf(rp, target));
  setAttr(ui.zonebar, 'data-empty', String(rp === null));
  ui.zbMk.style.transform = `translateX(${Math.min(100, Math.max(0, rp ?? 0))}%)`;

  const rt = num(meter.rep[i]) ?? 0, ct = num(meter.cust[i]) ?? 0;
  setText(ui.repTalk, fmtSec1(rt));
  setText(ui.custTalk, fmtSec1(ct));
  // Each role's share of the talk time: the rep's is 100 minus the listen
  // %, so the cards and the gauge always add up.
  const talk = rt + ct;
  const rs = talk > 0 ? (rt / talk) * 100 : 0, cs = talk > 0 ? (ct / talk) * 100 : 0;
  setText(ui.repShare, fmtSec1(rs));
  setText(ui.custShare, fmtSec1(cs));
  ui.repBar.style.transform = `scaleX(${rs / 100})`;
  ui.custBar.style.transform = `scaleX(${cs / 100})`;
}

function num(v) { return isNum(v) ? v : null; }

function inSegs(list, t) {
  let lo = 0, hi = list.length - 1;
  while (lo <= hi) {
    const m = (lo + hi) >> 1;
    if (list[m][1] <= t) lo = m + 1;
    else if (list[m][0] > t) hi = m - 1;
    else return true;
  }
  return false;
}

// ---------------------------------------------------------------- gauge (same geometry as the live meter)

let gaugeValue = null;

function renderGaugeStatic() {
  const warnFrom = Math.max(0, target - 10);
  const [x0, y0] = gaugePoint(target, GR - 14);
  const [x1, y1] = gaugePoint(target, ZR + 5);
  const [lx, ly] = gaugePoint(target, ZR + 14);
  ui.gaugeSvg.innerHTML = `
    <path class="track" d="${arcPath(0, 100, GR)}"/>
    ${warnFrom > 0 ? `<path class="zone bad" d="${arcPath(0, warnFrom, ZR)}"/>` : ''}
    ${target > 0 ? `<path class="zone warn" d="${arcPath(warnFrom, target, ZR)}"/>` : ''}
    ${target < 100 ? `<path class="zone good" d="${arcPath(target, 100, ZR)}"/>` : ''}
    <path class="value" d="${arcPath(0, 100, GR)}" pathLength="100"/>
    <line class="tick" x1="${x0.toFixed(2)}" y1="${y0.toFixed(2)}" x2="${x1.toFixed(2)}" y2="${y1.toFixed(2)}"/>
    <text class="tick-label" x="${lx.toFixed(2)}" y="${(ly + 4).toFixed(2)}" text-anchor="middle">${target}</text>
    <text class="scale" x="${GX - GR}" y="${GY + 24}" text-anchor="middle">0</text>
    <text class="scale" x="${GX + GR}" y="${GY + 24}" text-anchor="middle">100</text>`;
  gaugeValue = ui.gaugeSvg.querySelector('.value');
  $('r-zb-bad').style.width = warnFrom + '%';
  $('r-zb-warn').style.width = (target - warnFrom) + '%';
  $('r-zb-good').style.width = (100 - target) + '%';
}

// ---------------------------------------------------------------- verdict + final numbers

function renderVerdict(d) {
  const lp = num(d.listen_pct);
  // The server's verdict, by the one rule; the same rule here otherwise.
  const on = typeof d.on_target === 'boolean' ? d.on_target : onTarget(lp, target);
  const zone = lp === null ? 'none' : on ? 'good' : zoneOf(lp, target);
  ui.verdict.dataset.zone = zone;
  let text = typeof d.verdict === 'string' && d.verdict ? d.verdict : lp === null ? 'no speech found'
    : on ? `on target: the rep listened ${fmtPct(lp)}% of the talk time (target ${target}%)`
      : `below target: the rep listened ${fmtPct(lp)}% of the talk time (target ${target}%) and talked ${(100 - Number(fmtPct(lp))).toFixed(1)}%`;
  text = text.charAt(0).toUpperCase() + text.slice(1);
  const [head, ...rest] = text.split(':');
  const mono = d.longest_rep_monologue && isNum(d.longest_rep_monologue.duration_s) ? d.longest_rep_monologue.duration_s : num(d.longest_rep_monologue_s);
  const tips = [];
  if (!on && lp !== null) tips.push('Ask an open question and let the customer talk: why, who, what problem, what is it worth, when?');
  if (mono !== null && mono >= MONO_S) tips.push(`The longest monologue ran ${fmtDur(mono)} — hand the turn back within ${fmtDur(MONO_S)}.`);
  ui.verdict.innerHTML = `<span class="v-ic">${on ? ICON.ok : ICON.warn}</span>
    <div class="v-text"><div class="v-main"><b>${esc(head)}</b>${rest.length ? `<span>: ${esc(rest.join(':').trim())}</span>` : ''}</div>${tips.length ? `<div class="v-tip">${esc(tips.join(' '))}</div>` : ''}</div>
    <div class="v-num num tone-${zone}">${lp === null ? DASH : `${fmtPct(lp)}<small>%</small>`}<span>listened</span></div>`;
}

function renderFinal(d) {
  const n = (k) => num(d[k]);
  const s1 = (v, unit = ' s') => (v === null ? DASH : `${v.toFixed(1)}${unit}`);
  const lp = n('listen_pct');
  const seekLink = (r) => (r && isNum(r.start_s) && isNum(r.duration_s) && r.duration_s > 0
    ? ` <button type="button" class="seek-link num" data-seek="${r.start_s}">at ${esc(fmtClock(r.start_s))}</button>` : '');
  const runDur = (r, fallback) => (r && isNum(r.duration_s) ? r.duration_s : fallback);
  const repMono = d.longest_rep_monologue, custStory = d.longest_customer_story;
  const lm = (Array.isArray(d.long_monologues) ? d.long_monologues : []).filter((r) => r && isNum(r.duration_s) && r.duration_s >= MONO_S);
  const ls = Array.isArray(d.long_silences) ? d.long_silences : [];
  const monoS = runDur(repMono, n('longest_rep_monologue_s'));
  const groups = [
    ['Talk', [
      ['Rep listened', lp === null ? DASH : `<b class="tone-${zoneOf(lp, target)}">${fmtPct(lp)}%</b>`, `of the talk time · target ≥ ${target}%`, 'avg-listen'],
      ['Rep talked', s1(n('rep_talk_s')), n('rep_share_pct') === null ? '' : `${n('rep_share_pct').toFixed(1)}% of the call time, silences included`],
      ['Customer talked', s1(n('customer_talk_s')), n('customer_share_pct') === null ? '' : `${n('customer_share_pct').toFixed(1)}% of the call time, silences included`],
      ['Overlap', s1(n('overlap_s')), 'both talking at once'],
      ['Mutual silence', s1(n('mutual_silence_s')), 'nobody talking'],
      ...(n('missing_audio_s') > 0 ? [['No audio', `<span id="replay-missing-audio-s">${s1(n('missing_audio_s'))}</span>`, 'audio that never arrived: not counted as silence']] : []),
    ]],
    ['Turns', [
      ['Interactivity', n('turn_switches_per_min') === null ? DASH : `<span id="replay-interactivity">${n('turn_switches_per_min').toFixed(1)}</span>/min`,
        `turn switches a minute (${n('turn_switches') ?? 0} in all): the floor passes when the other side talks 1 s or more; backchannels ("uh-huh") do not count`],
      ['Patience', n('rep_replies') ? `<span id="replay-patience">${n('rep_reply_pause_median_s').toFixed(2)}</span> s` : DASH,
        n('rep_replies') ? `the rep's median pause before replying, from the customer's last word to the rep's turn (mean ${n('rep_reply_pause_mean_s').toFixed(2)} s over ${n('rep_replies')} replies)` : 'no reply of the rep to time'],
      ['Interruptions by the rep', n('interruptions_by_rep') === null ? DASH : `<b class="${n('interruptions_by_rep') > 0 ? 'c-repx' : ''}">${n('interruptions_by_rep')}</b>`, ''],
      ['Interruptions by the customer', n('interruptions_by_customer') === null ? DASH : String(n('interruptions_by_customer')), ''],
    ]],
    ['Monologues and silences', [
      ['Longest rep monologue', monoS === null ? DASH : `<b class="${monoS >= MONO_S ? 'tone-warn' : ''}">${esc(fmtDur(monoS))}</b>${seekLink(repMono)}`, monoS !== null && monoS >= MONO_S ? `at or over the ${fmtDur(MONO_S)} limit` : '', 'avg-mono'],
      ['Longest customer story', runDur(custStory, null) === null ? DASH : `${esc(fmtDur(custStory.duration_s))}${seekLink(custStory)}`, ''],
      ['Long monologues', String(lm.length), `rep runs of ${fmtDur(MONO_S)} or more${lm.length ? ` · ${fmtDur(lm.reduce((s, r) => s + (r.duration_s || 0), 0))} in total` : ''}`],
      ['Long silences', String(ls.length), n('long_silence_s') === null ? '' : `${n('long_silence_s').toFixed(1)} s in total`],
      ['Duration', isNum(D) ? esc(fmtClock(D)) : DASH, `${D.toFixed(1)} s`],
    ]],
  ];
  ui.finalGrid.innerHTML = groups.map(([title, rows]) => `
    <div class="fgroup"><h3>${esc(title)}</h3><dl>${rows.map(([k, v, sub, avg]) => `<div class="frow"><dt>${esc(k)}${sub ? `<small>${esc(sub)}</small>` : ''}${avg ? `<small class="favg" id="${avg}" hidden></small>` : ''}</dt><dd class="num">${v}</dd></div>`).join('')}</dl></div>`).join('');
  ui.finalGrid.querySelectorAll('[data-seek]').forEach((b) => b.addEventListener('click', () => {
    seek(Number(b.dataset.seek));
    ui.canvas.scrollIntoView({ behavior: 'smooth', block: 'center' });
  }));
  setText(ui.finalSub, 'final numbers of the analysis');
  loadAverages(d);
}

// loadAverages shows, beside the call's listen % and longest monologue,
// the rep's averages over their analyzed calls and the team's (every
// rep's calls), as /api/reps has them.
async function loadAverages(d) {
  let reps;
  try {
    reps = (await getJSON('/api/reps')).reps;
  } catch { return; }
  if (!Array.isArray(reps) || !reps.length) return;
  let n = 0, sumL = 0, nL = 0, sumM = 0;
  for (const r of reps) {
    if (!isNum(r.calls) || r.calls <= 0) continue;
    n += r.calls;
    if (isNum(r.mean_longest_monologue_s)) sumM += r.mean_longest_monologue_s * r.calls;
    if (isNum(r.mean_listen_pct)) { sumL += r.mean_listen_pct * r.calls; nL += r.calls; }
  }
  const key = (d.rep || '').trim().toLowerCase() || '(no rep)';
  const mine = reps.find((r) => String(r.rep).trim().toLowerCase() === key);
  const who = d.rep ? d.rep : 'no rep';
  const line = (el, repV, teamV) => {
    const e = $(el);
    if (!e) return;
    const parts = [];
    if (repV !== null) parts.push(`${who}'s average ${repV}`);
    if (teamV !== null) parts.push(`team ${teamV}`);
    e.textContent = parts.join(' · ');
    e.hidden = !parts.length;
  };
  line('avg-listen', mine && isNum(mine.mean_listen_pct) ? `${fmtPct(mine.mean_listen_pct)}%` : null, nL ? `${fmtPct(sumL / nL)}%` : null);
  line('avg-mono', mine && isNum(mine.mean_longest_monologue_s) ? fmtDur(mine.mean_longest_monologue_s) : null, n ? fmtDur(sumM / n) : null);
}

// ---------------------------------------------------------------- comments

// Comments are notes on moments, kept with the call (POST
// /api/calls/{id}/comments); each links to its moment, /replay/{id}?t=.
function renderComments() {
  setText(ui.commentsCount, comments.length ? String(comments.length) : '');
  if (!comments.length) {
    ui.comments.innerHTML = '<li class="m-empty">No comments yet. Pause on a moment and note what the rep should hear there.</li>';
    return;
  }
  const link = (c) => `/replay/${encodeURIComponent(id)}?t=${Math.floor(c.at_s)}`;
  ui.comments.innerHTML = comments.map((c) => `<li class="comment" data-id="${esc(c.id)}">
    <button type="button" class="seek-link num" data-seek="${c.at_s}">${esc(fmtClock(c.at_s))}</button>
    <div class="c-body"><p>${esc(c.text)}</p><small>${c.author ? esc(c.author) + ' · ' : ''}<a href="${esc(link(c))}" class="c-link">link to this moment</a></small></div>
    <button type="button" class="btn btn-sm btn-ghost c-del" data-del="${esc(c.id)}" title="Delete this comment">Delete</button>
  </li>`).join('');
  ui.comments.querySelectorAll('[data-seek]').forEach((b) => b.addEventListener('click', () => seek(Number(b.dataset.seek))));
  ui.comments.querySelectorAll('[data-del]').forEach((b) => b.addEventListener('click', () => deleteComment(b.dataset.del)));
}

function commentsChanged() {
  staticLayer = null;
  renderComments();
  drawMap();
  showFrame(true);
}

function initComments(d) {
  const open = d.state !== 'live' && d.state !== 'analyzing';
  ui.commentForm.hidden = !open;
  ui.commentForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = ui.commentText.value.trim();
    if (!text) return;
    ui.commentError.hidden = true;
    try {
      const r = await fetch(apiBase + '/comments', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ at_s: Math.round(now() * 1000) / 1000, text }),
      });
      if (!r.ok) {
        let msg = `HTTP ${r.status}`;
        try { const j = await r.json(); if (j && j.error) msg = j.error; } catch { /* keep */ }
        throw new Error(msg);
      }
      const c = await r.json();
      comments.push(c);
      comments.sort((a, b) => a.at_s - b.at_s);
      ui.commentText.value = '';
      commentsChanged();
    } catch (e) {
      ui.commentError.hidden = false;
      setText(ui.commentError, `The comment was not kept: ${(e && e.message) || 'network error'}`);
    }
  });
}

async function deleteComment(cid) {
  const r = await fetch(`${apiBase}/comments/${encodeURIComponent(cid)}`, { method: 'DELETE' }).catch(() => null);
  if (r && (r.ok || r.status === 404)) {
    comments = comments.filter((c) => c.id !== cid);
    commentsChanged();
  } else {
    ui.commentError.hidden = false;
    setText(ui.commentError, `The comment was not deleted (${r ? 'HTTP ' + r.status : 'network error'}).`);
  }
}

// ---------------------------------------------------------------- moments

function buildMoments(d) {
  const out = [];
  for (const r of Array.isArray(d.long_monologues) ? d.long_monologues : []) {
    if (!r || !isNum(r.start_s)) continue;
    const dur = isNum(r.duration_s) ? r.duration_s : (r.end_s - r.start_s);
    if (dur < MONO_S) continue; // a call analyzed under an older, lower threshold
    out.push({ kind: 'mono', a: r.start_s, b: isNum(r.end_s) ? r.end_s : r.start_s + dur, dur, title: 'Long monologue', sub: `rep talked ${fmtDur(dur)} without a break` });
  }
  for (const e of Array.isArray(d.interruptions) ? d.interruptions : []) {
    if (!e || !isNum(e.at_s)) continue;
    const who = e.by === 'customer' ? 'customer' : 'rep';
    out.push({ kind: 'int', who, a: e.at_s, b: e.at_s, title: `Interruption by the ${who}`, sub: who === 'rep' ? 'the rep cut in while the customer spoke' : 'the customer cut in while the rep spoke' });
  }
  for (const s of Array.isArray(d.long_silences) ? d.long_silences : []) {
    const a = Array.isArray(s) ? +s[0] : NaN, b = Array.isArray(s) ? +s[1] : NaN;
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    out.push({ kind: 'sil', a, b, dur: b - a, title: 'Long silence', sub: `${(b - a).toFixed(1)} s with nobody talking` });
  }
  const cs = d.longest_customer_story;
  if (cs && isNum(cs.start_s) && isNum(cs.duration_s) && cs.duration_s >= 10) {
    out.push({ kind: 'story', a: cs.start_s, b: isNum(cs.end_s) ? cs.end_s : cs.start_s + cs.duration_s, dur: cs.duration_s, title: 'Longest customer story', sub: `the customer talked ${fmtDur(cs.duration_s)} — good listening` });
  }
  return out.sort((x, y) => x.a - y.a);
}

let activeMoment = null;

function renderMoments() {
  const c = { mono: 0, int: 0, sil: 0 };
  for (const m of moments) if (m.kind in c) c[m.kind]++;
  const chips = [];
  if (c.mono) chips.push(`<span class="mc mono">${c.mono} long ${c.mono === 1 ? 'monologue' : 'monologues'}</span>`);
  if (c.int) chips.push(`<span class="mc int">${c.int} ${c.int === 1 ? 'interruption' : 'interruptions'}</span>`);
  if (c.sil) chips.push(`<span class="mc sil">${c.sil} long ${c.sil === 1 ? 'silence' : 'silences'}</span>`);
  ui.momentsCount.innerHTML = chips.join('');
  if (!moments.length) {
    ui.moments.innerHTML = '<li class="m-empty">No long monologues, interruptions or long silences in this call.</li>';
    return;
  }
  ui.moments.innerHTML = moments.map((m, i) => `<li><button type="button" class="moment" data-i="${i}" data-kind="${m.kind}"${m.who ? ` data-who="${m.who}"` : ''}>
      <span class="m-ic" aria-hidden="true"></span>
      <span class="m-main"><span class="m-title">${esc(m.title)}</span><span class="m-sub">${esc(m.sub)}</span></span>
      <span class="m-time num">${esc(fmtClock(m.a))}${m.b > m.a + 0.5 ? `<small>– ${esc(fmtClock(m.b))}</small>` : ''}</span>
    </button></li>`).join('');
  ui.moments.querySelectorAll('.moment').forEach((b) => b.addEventListener('click', () => {
    const m = moments[Number(b.dataset.i)];
    seek(m.kind === 'int' ? m.a - 3 : m.a);
  }));
}

function highlightMoment(t) {
  let idx = -1;
  for (let i = 0; i < moments.length; i++) {
    const m = moments[i];
    const a = m.kind === 'int' ? m.a - 1.5 : m.a, b = m.kind === 'int' ? m.a + 2.5 : m.b;
    if (t >= a && t <= b) idx = i;
  }
  const el = idx >= 0 ? ui.moments.querySelector(`.moment[data-i="${idx}"]`) : null;
  if (el === activeMoment) return;
  activeMoment?.classList.remove('active');
  activeMoment = el;
  if (el) {
    el.classList.add('active');
    if (isPlaying()) {
      const list = ui.moments, li = el.parentElement;
      if (li.offsetTop < list.scrollTop || li.offsetTop + li.offsetHeight > list.scrollTop + list.clientHeight) {
        list.scrollTo({ top: li.offsetTop - list.clientHeight / 3, behavior: 'smooth' });
      }
    }
  }
}

// ---------------------------------------------------------------- timeline canvas

let ctx = null;
let cssW = 0, cssH = 0, dpr = 1;
const colors = readColors();

function readColors() {
  const cs = getComputedStyle(document.documentElement);
  const v = (n, d) => (cs.getPropertyValue(n).trim() || d);
  return {
    rep: v('--rep', '#60a5fa'), cust: v('--cust', '#c084fc'), overlap: v('--overlap', '#fde68a'),
    good: v('--good', '#22c55e'), warn: v('--warn', '#f59e0b'), bad: v('--bad', '#ef4444'), accent: v('--accent', '#38bdf8'),
    text: v('--text-2', '#c9d3ea'), muted: v('--muted', '#93a0be'), dim: v('--dim', '#66748f'), bg: v('--bg', '#070b16'),
    font: v('--font', 'system-ui, sans-serif'),
  };
}

function initTimeline() {
  ctx = ui.canvas.getContext('2d');
  const ro = new ResizeObserver(() => { sizeCanvas(); showFrame(true); });
  ro.observe(ui.wrap);
  sizeCanvas();

  const tAtEvent = (ev) => {
    const r = ui.canvas.getBoundingClientRect();
    const x = Math.max(0, Math.min(r.width, ev.clientX - r.left));
    return { x, t: T(x) };
  };
  let dragging = false;
  ui.canvas.addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0) return;
    dragging = true;
    try { ui.canvas.setPointerCapture(ev.pointerId); } catch { /* synthetic events */ }
    seek(tAtEvent(ev).t);
  });
  ui.canvas.addEventListener('pointermove', (ev) => {
    const { x, t } = tAtEvent(ev);
    hoverX = x;
    if (dragging) seek(t);
    showTip(x, ev.clientY);
    hoverDirty = true;
  });
  const end = () => { dragging = false; };
  ui.canvas.addEventListener('pointerup', end);
  ui.canvas.addEventListener('pointercancel', end);
  ui.canvas.addEventListener('pointerleave', () => { hoverX = null; ui.tip.hidden = true; hoverDirty = true; });
  // a plain click (also synthetic ones without pointer events) seeks as well
  ui.canvas.addEventListener('click', (ev) => { seek(tAtEvent(ev).t); });
}

function sizeCanvas() {
  const r = ui.wrap.getBoundingClientRect();
  dpr = window.devicePixelRatio || 1;
  cssW = Math.max(1, Math.round(r.width));
  cssH = Math.max(1, Math.round(r.height));
  const w = Math.round(cssW * dpr), h = Math.round(cssH * dpr);
  if (ui.canvas.width !== w || ui.canvas.height !== h) { ui.canvas.width = w; ui.canvas.height = h; }
  layout = computeLayout(cssW, cssH);
  // line the HTML lane labels up with the lanes
  const place = (lane, y, h) => {
    const el = ui.labels.querySelector(`[data-lane="${lane}"]`);
    el.style.top = `${y}px`;
    el.style.height = `${h}px`;
  };
  place('rep', layout.rep.y, layout.rep.h);
  place('customer', layout.cust.y, layout.cust.h);
  place('listen', layout.listen.y, layout.listen.h);
  staticLayer = null;
}

function computeLayout(W, H) {
  const top = 20;             // marker row (monologue brackets)
  const axis = 22;
  const gap = 8;
  const listenH = Math.max(34, Math.round((H - top - axis - gap * 2) * 0.28));
  const laneH = Math.max(18, Math.floor((H - top - axis - gap * 2 - listenH) / 2));
  const rep = { y: top, h: laneH };
  const cust = { y: top + laneH + gap, h: laneH };
  const listen = { y: cust.y + laneH + gap + 2, h: listenH };
  return { W, H, top, rep, cust, listen, axisY: listen.y + listenH };
}

const X = (t) => (v1 > v0 ? ((t - v0) / (v1 - v0)) * cssW : 0);
const T = (x) => v0 + (cssW > 0 ? (x / cssW) * (v1 - v0) : 0);

// setView shows [a, b) of the call, kept inside it and no shorter than
// MIN_VIEW_S, and redraws.
function setView(a, b) {
  if (!(D > 0)) return;
  let w = Math.min(D, Math.max(Math.min(MIN_VIEW_S, D), b - a));
  a = Math.max(0, Math.min(D - w, a));
  if (a === v0 && a + w === v1) return;
  v0 = a; v1 = a + w;
  staticLayer = null;
  const zoomed = v1 - v0 < D - 1e-6;
  setAttr(ui.wrap, 'data-zoomed', String(zoomed));
  setText(ui.viewText, zoomed ? `${fmtClock(v0)}–${fmtClock(v1)} of ${fmtClock(D)}` : `whole call · ${fmtClock(D)}`);
  ui.zoomOut.disabled = !zoomed;
  ui.zoomIn.disabled = v1 - v0 <= MIN_VIEW_S + 1e-6;
  drawMap();
  showFrame(true);
}

// zoom scales the view by f around time at (the pointer, or the playhead).
function zoom(f, at) {
  const w = (v1 - v0) * f;
  const c = isNum(at) ? at : now();
  const k = v1 > v0 ? (c - v0) / (v1 - v0) : 0.5;
  setView(c - k * w, c - k * w + w);
}

// follow keeps the playhead in view while it plays: the view turns a page.
function follow(t) {
  if (v1 - v0 >= D - 1e-6) return;
  if (t < v0 || t > v1) {
    const w = v1 - v0;
    setView(t - w * 0.1, t - w * 0.1 + w);
  }
}

function initZoom() {
  ui.zoomIn.addEventListener('click', () => zoom(0.5));
  ui.zoomOut.addEventListener('click', () => zoom(2));
  ui.zoomFit.addEventListener('click', () => setView(0, D));
  ui.canvas.addEventListener('wheel', (ev) => {
    if (!(ev.ctrlKey || ev.metaKey || ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY))) return;
    ev.preventDefault();
    const r = ui.canvas.getBoundingClientRect();
    if (ev.ctrlKey || ev.metaKey) {
      zoom(Math.exp(ev.deltaY * 0.002), T(ev.clientX - r.left));
    } else {
      const d = (ev.shiftKey ? ev.deltaY : ev.deltaX) / Math.max(1, r.width) * (v1 - v0);
      setView(v0 + d, v1 + d);
    }
  }, { passive: false });
  // The map: the whole call; a press or a drag centres the view there.
  let dragging = false;
  const centre = (ev) => {
    const r = ui.map.getBoundingClientRect();
    const t = r.width > 0 ? ((ev.clientX - r.left) / r.width) * D : 0;
    const w = v1 - v0;
    setView(t - w / 2, t + w / 2);
  };
  ui.map.addEventListener('pointerdown', (ev) => {
    dragging = true;
    try { ui.map.setPointerCapture(ev.pointerId); } catch { /* synthetic */ }
    centre(ev);
  });
  ui.map.addEventListener('pointermove', (ev) => { if (dragging) centre(ev); });
  ui.map.addEventListener('pointerup', () => { dragging = false; });
  ui.map.addEventListener('pointercancel', () => { dragging = false; });
  new ResizeObserver(() => drawMap()).observe(ui.mapWrap);
}

// drawMap draws the whole call small, and where the view is.
function drawMap() {
  if (!ui.map || !(D > 0)) return;
  const r = ui.mapWrap.getBoundingClientRect();
  const w = Math.max(1, Math.round(r.width)), h = Math.max(1, Math.round(r.height));
  const d = window.devicePixelRatio || 1;
  if (ui.map.width !== Math.round(w * d) || ui.map.height !== Math.round(h * d)) { ui.map.width = Math.round(w * d); ui.map.height = Math.round(h * d); }
  const g = ui.map.getContext('2d');
  g.setTransform(d, 0, 0, d, 0, 0);
  g.clearRect(0, 0, w, h);
  g.fillStyle = 'rgba(255,255,255,0.035)';
  g.fillRect(0, 0, w, h);
  const MX = (t) => (t / D) * w;
  for (const [key, col, y] of [['rep', colors.rep, 3], ['customer', colors.cust, h / 2 + 1]]) {
    g.fillStyle = col;
    for (const [a, b] of segs[key]) g.fillRect(MX(a), y, Math.max(0.6, MX(b) - MX(a)), h / 2 - 4);
  }
  for (const m of moments) {
    if (m.kind !== 'mono') continue;
    g.fillStyle = colors.warn;
    g.fillRect(MX(m.a), 0, Math.max(1, MX(m.b) - MX(m.a)), 2);
  }
  g.fillStyle = colors.accent;
  for (const c of comments) g.fillRect(MX(c.at_s) - 1, 0, 2, h);
  ui.mapView.style.left = `${(v0 / D) * 100}%`;
  ui.mapView.style.width = `${((v1 - v0) / D) * 100}%`;
}

function buildStatic() {
  const c = document.createElement('canvas');
  c.width = Math.round(cssW * dpr);
  c.height = Math.round(cssH * dpr);
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  const L = layout, W = cssW;
  const lanes = [[L.rep, 'rep', colors.rep], [L.cust, 'customer', colors.cust]];

  // lane backgrounds
  for (const [ln] of lanes) { g.fillStyle = 'rgba(255,255,255,0.035)'; roundRect(g, 0, ln.y, W, ln.h, 6); g.fill(); }
  g.fillStyle = 'rgba(255,255,255,0.025)';
  roundRect(g, 0, L.listen.y, W, L.listen.h, 6);
  g.fill();

  // grid (time)
  const step = pickStep(v1 - v0, W);
  g.strokeStyle = 'rgba(255,255,255,0.06)';
  g.lineWidth = 1;
  g.font = `600 11.5px ${colors.font}`;
  g.fillStyle = colors.muted;
  g.textBaseline = 'alphabetic';
  for (let t = Math.ceil(v0 / step) * step; t <= v1 + 1e-6; t += step) {
    const x = Math.round(X(t)) + 0.5;
    g.beginPath(); g.moveTo(x, L.rep.y); g.lineTo(x, L.axisY); g.stroke();
    const label = fmtClock(t);
    const tw = g.measureText(label).width;
    g.textAlign = 'left';
    g.fillText(label, Math.min(Math.max(0, x - tw / 2), W - tw), L.H - 5);
  }

  // long silences: hatched across both lanes
  const hatch = makeHatch(g);
  for (const m of moments) {
    if (m.kind !== 'sil') continue;
    const x = X(m.a), w = Math.max(2, X(m.b) - x);
    g.fillStyle = 'rgba(148,163,184,0.07)';
    g.fillRect(x, L.rep.y, w, L.cust.y + L.cust.h - L.rep.y);
    if (hatch) { g.fillStyle = hatch; g.fillRect(x, L.rep.y, w, L.cust.y + L.cust.h - L.rep.y); }
  }

  // missing audio: grey, striped the other way, across both lanes
  const mhatch = missingHatch(g, dpr);
  for (const [a, b] of missing) {
    const x = X(a), w = Math.max(1.5, X(b) - x);
    for (const [ln] of lanes) {
      g.fillStyle = 'rgba(100,116,139,0.35)';
      g.fillRect(x, ln.y, w, ln.h);
      if (mhatch) { g.fillStyle = mhatch; g.fillRect(x, ln.y, w, ln.h); }
    }
  }

  // long monologues: amber band behind the rep lane + bracket with its length
  for (const m of moments) {
    if (m.kind !== 'mono') continue;
    const x = X(m.a), w = Math.max(2, X(m.b) - x);
    const col = colors.warn;
    g.fillStyle = 'rgba(245,158,11,0.14)';
    g.fillRect(x, L.rep.y, w, L.rep.h);
    g.strokeStyle = col;
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(x + 1, L.top - 3); g.lineTo(x + 1, L.top - 8); g.lineTo(x + w - 1, L.top - 8); g.lineTo(x + w - 1, L.top - 3);
    g.stroke();
    const label = fmtDur(m.dur);
    g.font = `700 11px ${colors.font}`;
    const tw = g.measureText(label).width;
    if (w > tw + 14) {
      const lx = x + w / 2 - tw / 2 - 5;
      g.fillStyle = '#0b1122';
      roundRect(g, lx, L.top - 16, tw + 10, 14, 4);
      g.fill();
      g.fillStyle = col;
      g.textAlign = 'left';
      g.fillText(label, lx + 5, L.top - 5);
    }
  }

  // speech
  for (const [ln, key, col] of lanes) {
    g.fillStyle = col;
    for (const [a, b] of segs[key]) {
      if (b < v0 || a > v1) continue;
      const x = X(a), w = Math.max(1, X(b) - x);
      roundRect(g, x, ln.y + 6, w, ln.h - 12, Math.min(3, w / 2));
      g.fill();
    }
  }
  // overlaps
  for (const [a, b] of overlaps) {
    const x = X(a), w = Math.max(1.5, X(b) - x);
    g.fillStyle = 'rgba(253, 230, 138, 0.25)';
    g.fillRect(x, L.rep.y, w, L.cust.y + L.cust.h - L.rep.y);
    g.fillStyle = colors.overlap;
    g.fillRect(x, L.rep.y + L.rep.h + 2, w, L.cust.y - L.rep.y - L.rep.h - 4);
  }

  // interruptions: a red tick through the interrupter's lane with a dot on top
  for (const m of moments) {
    if (m.kind !== 'int') continue;
    const ln = m.who === 'rep' ? L.rep : L.cust;
    const x = Math.round(X(m.a)) + 0.5;
    g.strokeStyle = colors.bad;
    g.lineWidth = 2;
    g.beginPath(); g.moveTo(x, ln.y + 3); g.lineTo(x, ln.y + ln.h - 3); g.stroke();
    g.fillStyle = colors.bad;
    g.strokeStyle = '#0b1122';
    g.lineWidth = 2;
    g.beginPath(); g.arc(x, ln.y + 4, 4.5, 0, Math.PI * 2); g.fill(); g.stroke();
  }

  // comments: a flag in the marker row
  g.fillStyle = colors.accent;
  for (const c of comments) {
    if (c.at_s < v0 || c.at_s > v1) continue;
    const x = Math.round(X(c.at_s)) + 0.5;
    g.beginPath(); g.moveTo(x, L.top - 18); g.lineTo(x + 9, L.top - 14); g.lineTo(x, L.top - 10); g.closePath(); g.fill();
    g.fillRect(x - 0.75, L.top - 18, 1.5, 14);
  }

  // listen % band: target zone, target line, the 2-minute and whole-call curves
  const LY = (v) => L.listen.y + 3 + (1 - v / 100) * (L.listen.h - 6);
  g.fillStyle = 'rgba(34,197,94,0.08)';
  g.fillRect(0, LY(100), W, LY(target) - LY(100));
  g.strokeStyle = 'rgba(34,197,94,0.75)';
  g.setLineDash([5, 4]);
  g.lineWidth = 1.2;
  g.beginPath(); g.moveTo(0, Math.round(LY(target)) + 0.5); g.lineTo(W, Math.round(LY(target)) + 0.5); g.stroke();
  g.setLineDash([]);
  if (meter) {
    const curve = (arr, style, width) => {
      g.strokeStyle = style;
      g.lineWidth = width;
      g.lineJoin = 'round';
      g.beginPath();
      let pen = false;
      const i0 = Math.max(0, Math.floor(v0 / meter.step) - 1), i1 = Math.min(arr.length, Math.ceil(v1 / meter.step) + 2);
      const stride = Math.max(1, Math.floor((i1 - i0) / (W * 1.5)));
      for (let i = i0; i < i1; i += stride) {
        const v = arr[i];
        if (!isNum(v)) { pen = false; continue; }
        const x = X(Math.min(D, i * meter.step)), y = LY(v);
        if (pen) g.lineTo(x, y); else { g.moveTo(x, y); pen = true; }
      }
      g.stroke();
    };
    curve(meter.listen, 'rgba(201,211,234,0.35)', 1.2);
    curve(meter.recent, colors.accent, 2);
  }
  return c;
}

function drawTimeline(t) {
  if (!ctx || !layout || !(D > 0)) return;
  if (!staticLayer) staticLayer = buildStatic();
  const L = layout, W = cssW;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ui.canvas.width, ui.canvas.height);
  ctx.drawImage(staticLayer, 0, 0);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);

  const x = Math.round(X(t)) + 0.5;
  // played part of the axis (of the view)
  ctx.fillStyle = colors.accent;
  ctx.fillRect(0, L.axisY + 1, Math.max(0, x), 2);
  // hover line
  if (hoverX !== null) {
    ctx.strokeStyle = 'rgba(255,255,255,0.28)';
    ctx.lineWidth = 1;
    ctx.setLineDash([3, 3]);
    ctx.beginPath(); ctx.moveTo(Math.round(hoverX) + 0.5, L.rep.y); ctx.lineTo(Math.round(hoverX) + 0.5, L.axisY); ctx.stroke();
    ctx.setLineDash([]);
  }
  // playhead
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = 2;
  ctx.shadowColor = 'rgba(0,0,0,0.6)';
  ctx.shadowBlur = 4;
  ctx.beginPath(); ctx.moveTo(x, L.top - 4); ctx.lineTo(x, L.axisY + 3); ctx.stroke();
  ctx.shadowBlur = 0;
  ctx.fillStyle = '#fff';
  const kx = Math.max(6, Math.min(W - 6, x));
  ctx.beginPath();
  ctx.moveTo(kx - 6, L.top - 12); ctx.lineTo(kx + 6, L.top - 12); ctx.lineTo(x, L.top - 4); ctx.closePath();
  ctx.fill();
}

function showTip(x, clientY) {
  if (!(D > 0)) return;
  const t = T(x);
  const tol = (6 / cssW) * (v1 - v0);
  const lines = [];
  const repOn = inSegs(segs.rep, t), custOn = inSegs(segs.customer, t);
  const what = repOn && custOn ? 'both talking' : repOn ? 'rep talking' : custOn ? 'customer talking' : inSegs(missing, t) ? 'no audio' : 'silence';
  lines.push(`<div class="tt-time num">${esc(fmtClock(t))}<span>${what}</span></div>`);
  for (const m of moments) {
    const hit = m.kind === 'int' ? Math.abs(m.a - t) <= tol : t >= m.a - tol && t <= m.b + tol;
    if (!hit || m.kind === 'story') continue;
    const cls = m.kind === 'int' ? 'int' : m.kind === 'sil' ? 'sil' : 'mono';
    const span = m.b > m.a + 0.5 ? ` · ${fmtClock(m.a)}–${fmtClock(m.b)}` : ` · at ${fmtClock(m.a)}`;
    lines.push(`<div class="tt-row ${cls}"><i></i><b>${esc(m.kind === 'mono' ? `${m.title} · ${fmtDur(m.dur)}` : m.kind === 'sil' ? `Long silence · ${m.dur.toFixed(1)} s` : m.title)}</b><span>${esc(span.slice(3))}</span></div>`);
  }
  if (meter) {
    const i = idxAt(t);
    const lp = num(meter.listen[i]), rp = num(meter.recent[i]);
    lines.push(`<div class="tt-meta num">Listen ${lp === null ? DASH : fmtPct(lp) + '%'} whole call · ${rp === null ? DASH : fmtPct(rp) + '%'} last 2 min</div>`);
  }
  ui.tip.innerHTML = lines.join('');
  ui.tip.hidden = false;
  const tw = ui.tip.offsetWidth;
  let left = x - tw / 2;
  left = Math.max(0, Math.min(cssW - tw, left));
  ui.tip.style.left = `${left}px`;
  void clientY;
}

function makeHatch(g) {
  const p = document.createElement('canvas');
  p.width = p.height = 8 * dpr;
  const c = p.getContext('2d');
  c.scale(dpr, dpr);
  c.strokeStyle = 'rgba(148,163,184,0.22)';
  c.lineWidth = 1;
  c.beginPath(); c.moveTo(0, 8); c.lineTo(8, 0); c.moveTo(-2, 2); c.lineTo(2, -2); c.moveTo(6, 10); c.lineTo(10, 6); c.stroke();
  const pat = g.createPattern(p, 'repeat');
  if (pat && pat.setTransform) pat.setTransform(new DOMMatrix([1 / dpr, 0, 0, 1 / dpr, 0, 0]));
  return pat;
}

function pickStep(dur, w) {
  const maxTicks = Math.max(2, Math.floor(w / 70));
  for (const s of [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]) if (dur / s <= maxTicks) return s;
  return 7200;
}

function mergeRuns(list, gap) {
  const out = [];
  for (const [a, b] of list) {
    const last = out[out.length - 1];
    if (last && a - last[1] < gap) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

