// The live talk-ratio meter of one call. Used by call.html (full page) and by
// capture.html (next to the publishing controls), so both render the same.
//
//   import { mountMeter } from '/assets/meter.js';
//   const m = mountMeter(element, callId, { fullscreenButton: true, title: true });
//   m.destroy();
//
// Data comes from the websocket /ws/calls/{id} (JSON "snapshot" messages,
// ~5 per second while live). Before connecting, GET /api/calls/{id} tells an
// unknown call (404) apart, since browsers hide a failed handshake's status.

import { DASH, fmtPct, onTarget, fmtSec1, fmtClock, isNum, zoneOf, setText, setAttr, esc, signIn, intersect } from './common.js';

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 15000;
const STALL_MS = 5000; // no message for this long while live => reconnect
const DEFAULT_TARGET = 80;
const DEFAULT_NUDGE_S = 60;
const WINDOWS = [60, 180, 300];

// Gauge geometry (SVG user units). Exported for the replay page's gauge.
export const GX = 120, GY = 122, GR = 100, ZR = 116;

export function gaugePoint(v, r) {
  const a = Math.PI * (1 - Math.min(100, Math.max(0, v)) / 100);
  return [GX + r * Math.cos(a), GY - r * Math.sin(a)];
}
export function arcPath(v0, v1, r) {
  const [x0, y0] = gaugePoint(v0, r);
  const [x1, y1] = gaugePoint(v1, r);
  return `M ${x0.toFixed(2)} ${y0.toFixed(2)} A ${r} ${r} 0 0 1 ${x1.toFixed(2)} ${y1.toFixed(2)}`;
}

const ICON_ENDED = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><circle cx="12" cy="12" r="9"/><path d="M9 12l2 2 4-4"/></svg>';
const ICON_LOST = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M12 9v4M12 17h.01"/><path d="M10.3 3.9L1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z"/></svg>';
const ICON_FS = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M8 3H5a2 2 0 0 0-2 2v3M21 8V5a2 2 0 0 0-2-2h-3M3 16v3a2 2 0 0 0 2 2h3M16 21h3a2 2 0 0 0 2-2v-3"/></svg>';

function template(opts) {
  return `
<div class="meter" data-conn="connecting">
  <div class="meter-inner">
    <header class="meter-head">
      <div class="meter-title">
        <h1 id="call-name" data-ref="name">Call</h1>
        <div class="parties">
          <span class="sw rep"></span><span data-ref="repName">Rep</span>
          <span class="with">with</span>
          <span class="sw cust"></span><span data-ref="custName">Customer</span>
        </div>
      </div>
      <div class="meter-status">
        <span class="conn-note" data-ref="note"></span>
        <span class="clock num" id="call-clock" title="Call time">0:00</span>
        <span class="conn" title="Connection"><span class="dot"></span><span id="call-state">connecting</span></span>
        ${opts.fullscreenButton ? `<button type="button" class="btn btn-icon btn-ghost" data-ref="fs" title="Wall screen (full screen)" aria-label="Full screen">${ICON_FS}</button>` : ''}
      </div>
    </header>
    <div class="banner" data-ref="banner" hidden></div>

    <div class="meter-grid" data-ref="grid">
      <section class="card gauge-card" data-ref="gaugeCard" data-zone="none" aria-label="Listen share">
        <div class="card-label">Rep listening · whole call</div>
        <div class="gauge-wrap">
          <svg class="gauge" viewBox="-8 -18 256 156" role="img" aria-label="Listen percentage gauge">
            <path class="track" d="${arcPath(0, 100, GR)}"/>
            <path class="zone bad" data-ref="zBad"/>
            <path class="zone warn" data-ref="zWarn"/>
            <path class="zone good" data-ref="zGood"/>
            <path class="value" data-ref="gValue" d="${arcPath(0, 100, GR)}" pathLength="100"/>
            <line class="tick" data-ref="gTick"/>
            <text class="tick-label" data-ref="gTickLabel" text-anchor="middle"></text>
            <text class="scale" x="${GX - GR}" y="${GY + 24}" text-anchor="middle">0</text>
            <text class="scale" x="${GX + GR}" y="${GY + 24}" text-anchor="middle">100</text>
          </svg>
          <div class="gauge-readout">
            <div class="big-num" data-empty="true"><span id="listen-pct">${DASH}</span><span class="unit">%</span></div>
          </div>
        </div>
        <div class="gauge-side" data-ref="side" data-zone="none">
          <div class="card-label" data-ref="recentLabel">Last 2 min</div>
          <div class="side-num" data-empty="true"><span id="recent-listen-pct">${DASH}</span><span class="unit">%</span></div>
          <div class="zonebar" data-ref="zonebar" data-empty="true">
            <span class="z bad" data-ref="zbBad"></span><span class="z warn" data-ref="zbWarn"></span><span class="z good" data-ref="zbGood"></span>
            <span class="mk" data-ref="zbMark"></span>
          </div>
          <div class="target-line">Target <b>≥ <span id="target-pct">${DEFAULT_TARGET}</span>%</b></div>
          <div class="legend-zones">
            <span><i class="c-good"></i>on target</span>
            <span><i class="c-warn"></i>close</span>
            <span><i class="c-bad"></i>too much talk</span>
          </div>
        </div>
      </section>

      <section class="card roles" aria-label="Talk time per role">
        <div class="role rep" data-ref="roleRep" data-speaking="false">
          <div class="role-top">
            <div class="role-head"><span class="role-tag">Rep</span><span class="role-name" data-ref="roleRepName"></span></div>
            <span class="speak"><span class="bars"><i></i><i></i><i></i></span><span id="speaking-rep">Quiet</span></span>
          </div>
          <div class="role-bottom">
            <div class="role-num"><span id="rep-talk-s">0.0</span><span class="unit">s</span></div>
            <div class="role-share"><span class="sharebar"><i data-ref="repShare"></i></span><span><span id="rep-share-pct">0.0</span>% of the talk</span></div>
          </div>
        </div>
        <div class="role cust" data-ref="roleCust" data-speaking="false">
          <div class="role-top">
            <div class="role-head"><span class="role-tag">Customer</span><span class="role-name" data-ref="roleCustName"></span></div>
            <span class="speak"><span class="bars"><i></i><i></i><i></i></span><span id="speaking-customer">Quiet</span></span>
          </div>
          <div class="role-bottom">
            <div class="role-num"><span id="customer-talk-s">0.0</span><span class="unit">s</span></div>
            <div class="role-share"><span class="sharebar"><i data-ref="custShare"></i></span><span><span id="customer-share-pct">0.0</span>% of the talk</span></div>
          </div>
        </div>
      </section>

      <section class="card mono" data-ref="mono" data-level="ok" aria-live="polite">
        <div class="card-label" data-ref="monoLabel">Rep's current monologue</div>
        <div class="mono-stack">
          <div class="mono-body">
            <div class="mono-num"><span id="monologue-s">0</span><span class="unit">s</span></div>
            <div>
              <div class="mono-bar"><i data-ref="monoBar"></i></div>
              <div class="mono-cap"><span data-ref="monoHint">Rep is quiet</span><span>nudge at <span data-ref="nudgeAfter">${DEFAULT_NUDGE_S}</span> s</span></div>
            </div>
          </div>
          <div class="nudge" id="nudge" data-ref="nudge" aria-hidden="true"></div>
        </div>
        <div class="mono-foot">Longest so far: <b><span id="longest-monologue-s">0.0</span> s</b></div>
      </section>

      <section class="card stats" aria-label="Conversation counts">
        <div class="stat">
          <div class="card-label">Long silences</div>
          <div class="stat-val"><span id="long-silences">0</span></div>
          <div class="stat-sub" data-ref="silenceNow">&nbsp;</div>
        </div>
        <div class="stat">
          <div class="card-label">Interruptions</div>
          <div class="stat-val"><span class="rep" id="interruptions-rep">0</span><span class="sep">/</span><span class="cust" id="interruptions-customer">0</span></div>
          <div class="stat-sub">by rep / by customer</div>
        </div>
        <div class="stat">
          <div class="card-label">Turn switches</div>
          <div class="stat-val"><span id="turns-per-min">0.0</span><span class="unit">/min</span></div>
          <div class="stat-sub"><span id="turn-switches">0</span> in total</div>
        </div>
        <div class="stat">
          <div class="card-label">Overlap</div>
          <div class="stat-val"><span id="overlap-s">0.0</span><span class="unit">s</span></div>
          <div class="stat-sub">both talking at once</div>
        </div>
        <div class="stat">
          <div class="card-label">Mutual silence</div>
          <div class="stat-val"><span id="mutual-silence-s">0.0</span><span class="unit">s</span></div>
          <div class="stat-sub">nobody talking</div>
          <div class="stat-sub missing-note" data-ref="missingNote" title="Call time whose audio never arrived: not silence" hidden><i class="c-missing"></i><span id="missing-audio-s">0.0</span> s no audio</div>
        </div>
      </section>

      <section class="card timeline-card" aria-label="Timeline">
        <div class="tl-head">
          <span class="card-label">Timeline</span>
          <span class="tl-legend">
            <span><i class="c-rep"></i>Rep</span>
            <span><i class="c-cust"></i>Customer</span>
            <span><i class="c-overlap"></i>Overlap</span>
            <span title="Call time whose audio never arrived (a stalled sender, a network drop-out, lost packets)"><i class="c-missing"></i>No audio</span>
          </span>
          <span class="spacer"></span>
          <span class="seg" role="group" aria-label="Timeline window">
            ${WINDOWS.map((w) => `<button type="button" data-window="${w}" aria-pressed="false">${w / 60} min</button>`).join('')}
          </span>
        </div>
        <div class="tl-canvas-wrap" data-ref="tlWrap"><canvas id="timeline" data-ref="canvas"></canvas></div>
      </section>
    </div>

    <section class="nosuch" data-ref="nosuch" hidden>
      <svg class="nosuch-ill" viewBox="0 0 64 64" fill="none" aria-hidden="true"><circle cx="32" cy="32" r="30" fill="#111a30" stroke="#31426a" stroke-width="2"/><path d="M24 24l16 16M40 24L24 40" stroke="#93a0be" stroke-width="4" stroke-linecap="round"/></svg>
      <h1>No such call</h1>
      <p>There is no call with the id <code data-ref="nosuchId"></code>. It may have been removed, or the link is wrong.</p>
      <a class="btn" href="/">← All calls</a>
    </section>
  </div>
</div>`;
}

/**
 * Mounts the meter for callId into container (replacing its content) and
 * connects to the server.
 *
 * options:
 *   fullscreenButton  show a "wall screen" button (default false)
 *   title             keep document.title updated with the live figure (default false)
 *   onSnapshot(s)     called for every snapshot
 *   onConnState(st)   called on every connection-state change
 *
 * Returns { destroy(), state() }.
 */
export function mountMeter(container, callId, options = {}) {
  const opts = { fullscreenButton: false, title: false, ...options };
  container.innerHTML = template(opts);
  const root = container.querySelector('.meter');
  const ref = {};
  root.querySelectorAll('[data-ref]').forEach((el) => { ref[el.dataset.ref] = el; });
  const byId = (id) => root.querySelector('#' + id);
  const el = {
    listen: byId('listen-pct'), recent: byId('recent-listen-pct'), state: byId('call-state'),
    repTalk: byId('rep-talk-s'), custTalk: byId('customer-talk-s'),
    repShare: byId('rep-share-pct'), custShare: byId('customer-share-pct'),
    speakRep: byId('speaking-rep'), speakCust: byId('speaking-customer'),
    target: byId('target-pct'), clock: byId('call-clock'),
    mono: byId('monologue-s'), longest: byId('longest-monologue-s'),
    longSil: byId('long-silences'), intRep: byId('interruptions-rep'), intCust: byId('interruptions-customer'),
    tpm: byId('turns-per-min'), turns: byId('turn-switches'), overlap: byId('overlap-s'), mutual: byId('mutual-silence-s'),
    missing: byId('missing-audio-s'),
  };

  let destroyed = false;
  let conn = 'connecting';
  let ws = null;
  let attempts = 0;
  let reconnectTimer = 0;
  let countdownTimer = 0;
  let watchdog = 0;
  let raf = 0;
  let everLive = false;
  let gotSnapshot = false;
  let last = null;          // latest snapshot
  let lastAt = 0;           // performance.now() when it arrived
  let lastMsgAt = 0;
  let drawnNow = 0;         // last interpolated "now" drawn (monotonic)
  let target = NaN;
  let nudgeWord = '';
  let details = null;       // GET /api/calls/{id} body
  let windowS = Number(storageGet('talkratio.timelineWindow')) || (container.clientWidth < 700 ? 60 : 180);
  if (!WINDOWS.includes(windowS)) windowS = 180;
  let canvasDirty = true;
  let cssW = 0, cssH = 0, dpr = 1;

  const callInfo = { name: '', rep: '', customer: '' };
  const colors = readColors();

  setTarget(DEFAULT_TARGET);
  ref.nosuchId.textContent = callId;
  setHeader({});

  // timeline window buttons
  root.querySelectorAll('[data-window]').forEach((b) => {
    b.setAttribute('aria-pressed', String(Number(b.dataset.window) === windowS));
    b.addEventListener('click', () => {
      windowS = Number(b.dataset.window);
      storageSet('talkratio.timelineWindow', String(windowS));
      root.querySelectorAll('[data-window]').forEach((x) => x.setAttribute('aria-pressed', String(x === b)));
      canvasDirty = true;
    });
  });

  if (ref.fs) {
    ref.fs.addEventListener('click', () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else root.requestFullscreen?.().catch(() => {});
    });
  }

  // canvas sizing
  const ctx = ref.canvas.getContext('2d');
  const ro = new ResizeObserver(() => sizeCanvas());
  ro.observe(ref.tlWrap);
  sizeCanvas();
  raf = requestAnimationFrame(frame);

  start();

  // ---------------------------------------------------------------- network

  async function start() {
    const d = await fetchDetails();
    if (destroyed) return;
    if (d === 404) { showNoSuchCall(); return; }
    if (d && typeof d === 'object') applyDetails(d);
    connect();
  }

  /** Returns the parsed details, 404, or null when the server could not be asked. */
  async function fetchDetails() {
    try {
      const r = await fetch('/api/calls/' + encodeURIComponent(callId), { headers: { Accept: 'application/json' }, cache: 'no-store' });
      if (r.status === 401) { signIn(); return; }
      if (r.status === 404) return 404;
      if (!r.ok) return null;
      return await r.json();
    } catch {
      return null;
    }
  }

  function applyDetails(d) {
    details = d;
    const c = d.call && typeof d.call === 'object' ? d.call : d;
    setHeader(c);
    // If the details already carry snapshot-like numbers (e.g. an ended
    // call), show them until the websocket says more.
    if (!gotSnapshot && (isNum(d.listen_pct) || isNum(d.rep_talk_s))) render(asSnapshot(d), true);
  }

  function wsURL() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}/ws/calls/${encodeURIComponent(callId)}`;
  }

  function connect() {
    if (destroyed || conn === 'ended' || conn === 'unknown') return;
    clearTimers();
    let sock;
    try {
      sock = new WebSocket(wsURL());
    } catch {
      scheduleReconnect();
      return;
    }
    ws = sock;
    sock.onopen = () => {
      if (ws !== sock) return;
      lastMsgAt = performance.now();
      attempts = 0;
      setNote('');
    };
    sock.onmessage = (ev) => {
      if (ws !== sock || destroyed) return;
      lastMsgAt = performance.now();
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (!msg || (msg.type && msg.type !== 'snapshot')) return;
      render(msg, false);
    };
    sock.onclose = () => {
      if (ws !== sock) return;
      ws = null;
      if (destroyed || conn === 'ended' || conn === 'unknown') return;
      afterClose();
    };
    sock.onerror = () => { /* a close event follows */ };
    watchdog = setInterval(() => {
      if (ws === sock && conn === 'live' && performance.now() - lastMsgAt > STALL_MS) {
        try { sock.close(); } catch { /* ignore */ }
        ws = null;
        afterClose();
      }
    }, 1000);
  }

  async function afterClose() {
    clearTimers();
    // Find out whether the call vanished or ended while we were away.
    const d = await fetchDetails();
    if (destroyed || conn === 'ended') return;
    if (d === 404) { showNoSuchCall(); return; }
    if (d && typeof d === 'object') {
      const c = d.call && typeof d.call === 'object' ? d.call : d;
      if (c.state && c.state !== 'live') {
        // The server did not deliver a final snapshot: finish with what we know.
        details = d;
        setHeader(c);
        const fin = Object.assign({}, last || {}, stripNull(asSnapshot(d)));
        fin.call = Object.assign({}, (last && last.call) || {}, c, { state: c.state === 'failed' ? 'failed' : 'ended' });
        render(fin, false);
        if (conn !== 'ended') setEnded(fin);
        return;
      }
    }
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (destroyed) return;
    clearTimers();
    const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempts);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    attempts++;
    setConn(everLive ? 'lost' : 'connecting');
    const due = performance.now() + delay;
    const tick = () => {
      const left = Math.max(0, Math.ceil((due - performance.now()) / 1000));
      setNote(conn === 'lost' ? '' : left > 0 ? `retrying in ${left} s` : 'retrying…');
      if (conn === 'lost') showBanner('lost', `${ICON_LOST}<span>Connection lost — <span class="muted">numbers are frozen; ${left > 0 ? `reconnecting in ${left} s` : 'reconnecting…'}</span></span>`);
    };
    tick();
    countdownTimer = setInterval(tick, 500);
    reconnectTimer = setTimeout(() => { clearInterval(countdownTimer); connect(); }, delay);
  }

  function clearTimers() {
    clearTimeout(reconnectTimer);
    clearInterval(countdownTimer);
    clearInterval(watchdog);
  }

  // ---------------------------------------------------------------- state

  function setConn(st) {
    if (conn === st) return;
    conn = st;
    setText(el.state, st);
    setAttr(root, 'data-conn', st);
    if (st !== 'lost' && ref.banner.classList.contains('lost')) hideBanner();
    if (st === 'live' || st === 'ended' || st === 'unknown') setNote('');
    canvasDirty = true;
    opts.onConnState?.(st);
  }

  function setNote(t) { setText(ref.note, t); }

  function showBanner(kind, html) {
    ref.banner.className = 'banner ' + kind;
    if (ref.banner.innerHTML !== html) ref.banner.innerHTML = html;
    ref.banner.hidden = false;
  }
  function hideBanner() { ref.banner.hidden = true; ref.banner.className = 'banner'; }

  function setEnded(s) {
    clearTimers();
    if (ws) { const w = ws; ws = null; try { w.close(1000); } catch { /* ignore */ } }
    setConn('ended');
    const failed = s && s.call && s.call.state === 'failed';
    const dur = s && isNum(s.now_s) ? fmtClock(s.now_s) : '';
    const lp = s ? fmtPct(s.listen_pct) : DASH;
    const verdict = lp === DASH ? 'nobody spoke'
      : (typeof s.on_target === 'boolean' ? s.on_target : onTarget(s.listen_pct, target)) ? 'on target'
        : `${(target - Number(lp)).toFixed(1)} pp below the ${target}% target`;
    showBanner('ended', failed
      ? `${ICON_LOST}<span>Call ended — analysis failed <span class="muted">· showing the last numbers received</span></span>`
      : `${ICON_ENDED}<span>Call ended <span class="muted">· final numbers${dur ? ` · ${dur}` : ''} · rep listened ${lp === DASH ? DASH : lp + '%'} (${verdict})</span></span>`);
    setText(ref.monoLabel, 'Longest rep monologue');
    updateTitle();
  }

  function showNoSuchCall() {
    clearTimers();
    if (ws) { const w = ws; ws = null; try { w.close(); } catch { /* ignore */ } }
    setConn('unknown');
    hideBanner();
    ref.grid.hidden = true;
    ref.nosuch.hidden = false;
    root.querySelector('.meter-title').style.visibility = 'hidden';
    if (ref.fs) ref.fs.hidden = true;
    el.clock.hidden = true;
    if (opts.title) document.title = 'No such call — talkratio';
  }

  function setHeader(c) {
    if (c.name) callInfo.name = String(c.name);
    if (c.rep) callInfo.rep = String(c.rep);
    if (c.customer) callInfo.customer = String(c.customer);
    if (conn !== 'unknown') setText(ref.name, callInfo.name || `Call ${callId}`);
    setText(ref.repName, callInfo.rep || 'Rep');
    setText(ref.custName, callInfo.customer || 'Customer');
    setText(ref.roleRepName, callInfo.rep);
    setText(ref.roleCustName, callInfo.customer);
    if (c.started_at) setAttr(el.clock, 'title', 'Started ' + new Date(c.started_at).toLocaleString());
  }

  function updateTitle() {
    if (!opts.title || conn === 'unknown') return;
    const lp = last ? fmtPct(last.listen_pct) : DASH;
    const prefix = conn === 'ended' ? 'Ended' : lp === DASH ? '' : `${lp}% listening`;
    const t = `${prefix ? prefix + ' · ' : ''}${callInfo.name || 'Call'} — talkratio`;
    if (document.title !== t) document.title = t;
  }

  // ---------------------------------------------------------------- render

  function setTarget(t) {
    if (!isNum(t) || t === target) return;
    target = t;
    const warnFrom = Math.max(0, t - 10);
    setAttr(ref.zBad, 'd', warnFrom > 0 ? arcPath(0, warnFrom, ZR) : '');
    setAttr(ref.zWarn, 'd', t > 0 ? arcPath(warnFrom, t, ZR) : '');
    setAttr(ref.zGood, 'd', t < 100 ? arcPath(t, 100, ZR) : '');
    const [x0, y0] = gaugePoint(t, GR - 14);
    const [x1, y1] = gaugePoint(t, ZR + 5);
    ref.gTick.setAttribute('x1', x0.toFixed(2)); ref.gTick.setAttribute('y1', y0.toFixed(2));
    ref.gTick.setAttribute('x2', x1.toFixed(2)); ref.gTick.setAttribute('y2', y1.toFixed(2));
    const [lx, ly] = gaugePoint(t, ZR + 14);
    ref.gTickLabel.setAttribute('x', lx.toFixed(2)); ref.gTickLabel.setAttribute('y', (ly + 4).toFixed(2));
    ref.gTickLabel.textContent = String(t);
    ref.zbBad.style.width = warnFrom + '%';
    ref.zbWarn.style.width = (t - warnFrom) + '%';
    ref.zbGood.style.width = (100 - t) + '%';
    setText(el.target, String(t));
  }

  function render(s, fromDetails) {
    if (!s || typeof s !== 'object') return;
    if (!fromDetails) gotSnapshot = true;
    last = s;
    lastAt = performance.now();
    canvasDirty = true;

    const c = s.call && typeof s.call === 'object' ? s.call : {};
    setHeader(c);
    setTarget(isNum(s.target_listen_pct) ? s.target_listen_pct : target);

    const ended = c.state === 'ended' || c.state === 'failed';
    if (!fromDetails) {
      if (ended) { /* handled below, after the numbers */ }
      else if (c.state === 'live' || !c.state) { setConn('live'); everLive = true; attempts = 0; }
      else if (c.state === 'analyzing') setNote('analyzing the recording…');
    }

    // listen %
    const lp = isNum(s.listen_pct) ? s.listen_pct : null;
    setText(el.listen, fmtPct(lp));
    setAttr(el.listen.parentElement, 'data-empty', String(lp === null));
    setAttr(ref.gaugeCard, 'data-zone', zoneOf(lp, target));
    ref.gValue.style.strokeDashoffset = String(100 - (lp ?? 0));

    const win = isNum(s.recent_window_s) ? s.recent_window_s : 120;
    // Before a whole window has passed, "the last 2 minutes" is the whole
    // call: the figure beside the gauge would only repeat it.
    const full = isNum(s.now_s) && s.now_s >= win;
    const rp = full && isNum(s.recent_listen_pct) ? s.recent_listen_pct : null;
    setText(el.recent, fmtPct(rp));
    setAttr(el.recent.parentElement, 'data-empty', String(rp === null));
    setAttr(ref.side, 'data-zone', zoneOf(rp, target));
    setAttr(ref.zonebar, 'data-empty', String(rp === null));
    ref.zbMark.style.transform = `translateX(${Math.min(100, Math.max(0, rp ?? 0))}%)`;
    const winName = win % 60 === 0 ? `Last ${win / 60} min` : `Last ${Math.round(win)} s`;
    setText(ref.recentLabel, full ? winName : `${winName} · from ${fmtClock(win)}`);

    // roles
    setText(el.repTalk, fmtSec1(s.rep_talk_s));
    setText(el.custTalk, fmtSec1(s.customer_talk_s));
    // Each role's share of the talk time, beside the gauge's listen %:
    // the customer's is the listen %, the rep's the rest, so they add up.
    // (rep_share_pct is the share of the call time, silences included.)
    const talk = (s.rep_talk_s ?? 0) + (s.customer_talk_s ?? 0);
    const repTalkPct = talk > 0 ? (100 * s.rep_talk_s) / talk : 0, custTalkPct = talk > 0 ? (100 * s.customer_talk_s) / talk : 0;
    setText(el.repShare, fmtSec1(repTalkPct));
    setText(el.custShare, fmtSec1(custTalkPct));
    ref.repShare.style.transform = `scaleX(${clamp01(repTalkPct / 100)})`;
    ref.custShare.style.transform = `scaleX(${clamp01(custTalkPct / 100)})`;
    const sp = (!ended && s.speaking) || {};
    const repOn = !!sp.rep, custOn = !!sp.customer;
    setAttr(ref.roleRep, 'data-speaking', String(repOn));
    setAttr(ref.roleCust, 'data-speaking', String(custOn));
    setText(el.speakRep, repOn ? 'Speaking' : 'Quiet');
    setText(el.speakCust, custOn ? 'Speaking' : 'Quiet');

    // monologue
    const m = s.monologue || {};
    const cur = isNum(m.current_s) ? m.current_s : 0;
    const after = isNum(m.nudge_after_s) && m.nudge_after_s > 0 ? m.nudge_after_s : DEFAULT_NUDGE_S;
    const nudging = !ended && (m.nudge === true || cur > after);
    const shown = ended ? (isNum(m.longest_s) ? m.longest_s : 0) : cur;
    setText(el.mono, String(Math.floor(shown)));
    setText(ref.nudgeAfter, String(Math.round(after)));
    setText(el.longest, fmtSec1(m.longest_s));
    ref.monoBar.style.transform = `scaleX(${clamp01(shown / after)})`;
    const level = nudging ? 'nudge' : ended ? (shown > after ? 'warn' : 'ok') : cur >= after * 0.75 ? 'warn' : 'ok';
    setAttr(ref.mono, 'data-level', level);
    setText(ref.monoHint, ended ? (shown > after ? 'Over the nudge limit' : 'Within the limit')
      : level === 'warn' ? 'Wrap up — hand the turn back'
      : repOn ? 'Rep is talking'
      : custOn ? 'Rep is listening' : 'Nobody is talking');
    if (nudging) {
      const word = `You've talked ${Math.round(cur)} s — ask an open question:`;
      if (word !== nudgeWord) {
        nudgeWord = word;
        ref.nudge.innerHTML = `${esc(word)} <span class="q">why, who, what problem, what is it worth, when?</span>`;
      }
      setAttr(ref.nudge, 'aria-hidden', 'false');
    } else {
      setAttr(ref.nudge, 'aria-hidden', 'true');
    }
    setAttr(root, 'data-nudge', String(nudging));

    // counts
    setText(el.longSil, String(s.long_silences ?? 0));
    const it = s.interruptions || {};
    setText(el.intRep, String(it.rep ?? 0));
    setText(el.intCust, String(it.customer ?? 0));
    setText(el.tpm, fmtSec1(s.turn_switches_per_min));
    setText(el.turns, String(s.turn_switches ?? 0));
    setText(el.overlap, fmtSec1(s.overlap_s));
    setText(el.mutual, fmtSec1(s.mutual_silence_s));
    const miss = isNum(s.missing_audio_s) ? s.missing_audio_s : 0;
    setText(el.missing, fmtSec1(miss));
    ref.missingNote.hidden = !(miss >= 0.05);
    const cs = isNum(s.current_silence_s) ? s.current_silence_s : 0;
    setText(ref.silenceNow, !ended && cs >= 1 ? `silent now: ${cs.toFixed(1)} s` : 'so far in this call');

    setText(el.clock, fmtClock(s.now_s));

    if (!fromDetails && ended && conn !== 'ended') setEnded(s);
    updateTitle();
    opts.onSnapshot?.(s);
  }

  // ---------------------------------------------------------------- timeline

  function readColors() {
    const cs = getComputedStyle(document.documentElement);
    const v = (n, d) => (cs.getPropertyValue(n).trim() || d);
    return {
      rep: v('--rep', '#60a5fa'), cust: v('--cust', '#c084fc'), overlap: v('--overlap', '#fde68a'),
      missing: v('--missing', 'rgba(100,116,139,0.35)'),
      text: v('--text-2', '#c9d3ea'), muted: v('--muted', '#93a0be'), dim: v('--dim', '#66748f'),
      lane: 'rgba(255,255,255,0.035)', grid: 'rgba(255,255,255,0.07)', now: '#ffffff',
      font: v('--font', 'system-ui, sans-serif'),
    };
  }

  function sizeCanvas() {
    const r = ref.tlWrap.getBoundingClientRect();
    dpr = window.devicePixelRatio || 1;
    cssW = Math.max(1, Math.round(r.width));
    cssH = Math.max(1, Math.round(r.height));
    const w = Math.round(cssW * dpr), h = Math.round(cssH * dpr);
    if (ref.canvas.width !== w || ref.canvas.height !== h) {
      ref.canvas.width = w;
      ref.canvas.height = h;
    }
    canvasDirty = true;
  }

  function frame() {
    if (destroyed) return;
    raf = requestAnimationFrame(frame);
    if (!canvasDirty && conn !== 'live') return;
    canvasDirty = false;
    try { draw(); } catch (e) { console.error('timeline draw', e); }
  }

  function currentNow() {
    if (!last || !isNum(last.now_s)) return 0;
    let n = last.now_s;
    if (conn === 'live') n += Math.min(0.6, (performance.now() - lastAt) / 1000);
    if (conn === 'live' && n < drawnNow && drawnNow - n < 1) n = drawnNow; // keep the scroll monotonic
    drawnNow = n;
    return n;
  }

  function draw() {
    const W = cssW, H = cssH;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    if (W < 40 || H < 40) return;

    const narrow = W < 520;
    const fs = Math.round(Math.min(18, Math.max(12, W / 110))); // grows on wall screens
    const laneFont = `800 ${narrow ? 12 : fs + 1}px ${colors.font}`;
    ctx.font = laneFont;
    const gutter = Math.ceil(ctx.measureText('CUSTOMER').width) + (narrow ? 10 : 22);
    const axisH = fs + 12;
    const laneGap = 14;
    const top = 2;
    const laneH = Math.max(10, (H - axisH - top - laneGap) / 2);
    const x0 = gutter, x1 = W - 8;
    const plotW = Math.max(1, x1 - x0);

    const now = currentNow();
    const t1 = Math.max(windowS, now);
    const t0 = t1 - windowS;
    const X = (t) => x0 + ((t - t0) / windowS) * plotW;

    const lanes = [
      { key: 'rep', y: top, label: 'Rep', who: callInfo.rep, color: colors.rep },
      { key: 'customer', y: top + laneH + laneGap, label: 'Customer', who: callInfo.customer, color: colors.cust },
    ];

    // lane backgrounds + labels
    ctx.textBaseline = 'middle';
    for (const ln of lanes) {
      ctx.fillStyle = colors.lane;
      roundRect(ctx, x0, ln.y, plotW, laneH, 8);
      ctx.fill();
      ctx.fillStyle = ln.color;
      ctx.font = laneFont;
      ctx.textAlign = 'left';
      const cy = ln.y + laneH / 2;
      ctx.fillText(ln.label.toUpperCase(), 0, ln.who && !narrow ? cy - fs * 0.7 : cy);
      if (ln.who && !narrow) {
        ctx.fillStyle = colors.muted;
        ctx.font = `600 ${fs - 1}px ${colors.font}`;
        ctx.fillText(truncate(ctx, ln.who, gutter - 14), 0, cy + fs * 0.75);
      }
    }

    // grid + axis labels
    const step = pickStep(windowS, plotW, narrow ? 55 : 80);
    ctx.strokeStyle = colors.grid;
    ctx.lineWidth = 1;
    ctx.fillStyle = colors.muted;
    ctx.font = `600 ${fs - 1}px ${colors.font}`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'alphabetic';
    for (let t = Math.ceil(t0 / step) * step; t <= t1 + 1e-6; t += step) {
      if (t < 0) continue;
      const x = Math.round(X(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + laneH * 2 + laneGap);
      ctx.stroke();
      const label = fmtClock(t);
      const tw = ctx.measureText(label).width;
      const lx = Math.min(Math.max(x, x0 + tw / 2), x1 - tw / 2);
      ctx.fillText(label, lx, H - 6);
    }

    if (!last || !last.timeline) {
      ctx.fillStyle = colors.dim;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.font = `600 14px ${colors.font}`;
      ctx.fillText(conn === 'unknown' ? '' : 'Waiting for speech…', x0 + plotW / 2, top + laneH + laneGap / 2);
      return;
    }

    const tl = last.timeline;
    const speaking = (conn === 'live' && last.speaking) || {};
    const segs = {};
    for (const ln of lanes) {
      const raw = Array.isArray(tl[ln.key]) ? tl[ln.key] : [];
      const list = [];
      for (let i = 0; i < raw.length; i++) {
        const sg = raw[i];
        if (!Array.isArray(sg) || sg.length < 2) continue;
        let a = +sg[0], b = +sg[1];
        if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
        // the role's last segment may still be growing: extend it to "now"
        if (i === raw.length - 1 && speaking[ln.key] && isNum(tl.to_s) && b >= tl.to_s - 0.3) b = Math.max(b, now);
        if (b < t0 || a > t1) continue;
        list.push([Math.max(a, t0), Math.min(b, t1)]);
      }
      segs[ln.key] = list;
    }

    // data range shading (before from_s the server sent nothing)
    if (isNum(tl.from_s) && tl.from_s > t0) {
      ctx.fillStyle = 'rgba(0,0,0,0.25)';
      ctx.fillRect(x0, top, X(tl.from_s) - x0, laneH * 2 + laneGap);
    }

    // missing audio: hatched grey across both lanes, under any speech the
    // detector carried over a short gap
    const miss = Array.isArray(tl.missing) ? tl.missing : [];
    if (miss.length) {
      const hatch = missingHatch(ctx, dpr);
      for (const sg of miss) {
        if (!Array.isArray(sg) || sg.length < 2) continue;
        const a = Math.max(+sg[0], t0), b = Math.min(+sg[1], t1);
        if (!(b > a)) continue;
        const xa = X(a), w = Math.max(2, X(b) - xa);
        for (const ln of lanes) {
          ctx.fillStyle = colors.missing;
          ctx.fillRect(xa, ln.y, w, laneH);
          if (hatch) { ctx.fillStyle = hatch; ctx.fillRect(xa, ln.y, w, laneH); }
        }
      }
    }

    // speech bars
    for (const ln of lanes) {
      ctx.fillStyle = ln.color;
      for (const [a, b] of segs[ln.key]) {
        const xa = X(a), w = Math.max(2, X(b) - xa);
        roundRect(ctx, xa, ln.y + 5, w, laneH - 10, Math.min(5, w / 2));
        ctx.fill();
      }
    }

    // overlaps: highlight across both lanes + a solid strip in between
    const ov = intersect(segs.rep, segs.customer);
    if (ov.length) {
      for (const [a, b] of ov) {
        const xa = X(a), w = Math.max(2, X(b) - xa);
        ctx.fillStyle = 'rgba(253, 230, 138, 0.28)';
        ctx.fillRect(xa, top, w, laneH * 2 + laneGap);
        ctx.fillStyle = colors.overlap;
        roundRect(ctx, xa, top + laneH + 3, w, laneGap - 6, 2);
        ctx.fill();
      }
    }

    // "now" cursor
    if (now >= t0 && now <= t1) {
      const x = Math.round(X(now)) + 0.5;
      ctx.strokeStyle = conn === 'live' ? colors.now : colors.dim;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x, top - 2);
      ctx.lineTo(x, top + laneH * 2 + laneGap + 2);
      ctx.stroke();
      if (conn === 'live') {
        ctx.fillStyle = colors.now;
        ctx.beginPath();
        ctx.arc(x, top + laneH + laneGap / 2, 4, 0, Math.PI * 2);
        ctx.fill();
      }
    }
  }

  // ---------------------------------------------------------------- teardown

  function destroy() {
    if (destroyed) return;
    destroyed = true;
    clearTimers();
    cancelAnimationFrame(raf);
    ro.disconnect();
    if (ws) { const w = ws; ws = null; try { w.close(1000); } catch { /* ignore */ } }
  }

  return { destroy, state: () => conn, element: root };
}

// ---------------------------------------------------------------- helpers

function storageGet(k) { try { return localStorage.getItem(k); } catch { return null; } }
function storageSet(k, v) { try { localStorage.setItem(k, v); } catch { /* private mode */ } }

function clamp01(v) { return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0; }

function stripNull(o) {
  const r = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) r[k] = v;
  return r;
}

/** Maps a GET /api/calls/{id} body onto the snapshot shape, tolerating gaps. */
function asSnapshot(d) {
  const c = d.call && typeof d.call === 'object' ? d.call : d;
  const s = Object.assign({}, d.snapshot && typeof d.snapshot === 'object' ? d.snapshot : d);
  s.call = Object.assign({}, c, s.call && typeof s.call === 'object' ? s.call : {});
  if (!isNum(s.now_s) && isNum(d.duration_s)) s.now_s = d.duration_s;
  if (!s.monologue && isNum(d.longest_rep_monologue_s)) s.monologue = { current_s: 0, longest_s: d.longest_rep_monologue_s };
  return s;
}


function pickStep(windowS, plotW, minGapPx) {
  const maxTicks = Math.max(2, Math.floor(plotW / minGapPx));
  for (const s of [5, 10, 15, 20, 30, 60, 120, 300]) if (windowS / s <= maxTicks) return s;
  return 600;
}

// missingHatch is the pattern that marks missing audio (no audio arrived),
// on the live timeline and in the replay: a grey cross-hatch, unlike the
// replay's single hatch of long silences (silence was heard; this was not).
export function missingHatch(g, dpr) {
  const p = document.createElement('canvas');
  p.width = p.height = Math.round(6 * dpr);
  const c = p.getContext('2d');
  c.scale(dpr, dpr);
  c.strokeStyle = 'rgba(203,213,225,0.42)';
  c.lineWidth = 1;
  c.beginPath();
  c.moveTo(0, 0); c.lineTo(6, 6); c.moveTo(-3, 3); c.lineTo(3, 9); c.moveTo(3, -3); c.lineTo(9, 3);
  c.moveTo(0, 6); c.lineTo(6, 0); c.moveTo(-3, 3); c.lineTo(3, -3); c.moveTo(3, 9); c.lineTo(9, 3);
  c.stroke();
  const pat = g.createPattern(p, 'repeat');
  if (pat && pat.setTransform) pat.setTransform(new DOMMatrix([1 / dpr, 0, 0, 1 / dpr, 0, 0]));
  return pat;
}

// roundRect traces a rounded rectangle path (the replay page uses it too).
export function roundRect(ctx, x, y, w, h, r) {
  r = Math.max(0, Math.min(r, w / 2, h / 2));
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}

function truncate(ctx, s, max) {
  if (ctx.measureText(s).width <= max) return s;
  let t = s;
  while (t.length > 1 && ctx.measureText(t + '…').width > max) t = t.slice(0, -1);
  return t + '…';
}
