// The rep's compact meter, for where the rep is: on the capture page, and
// popped out into an always-on-top window (Document Picture-in-Picture in
// Chromium; elsewhere a small popup window) beside their softphone. It
// shows the listen % against the target and the current monologue, and
// when the nudge fires (the server's monologue threshold) it can also
// play a short sound and show a desktop notification, each opted into.
//
// Test hooks: #mini-meter (data-zone, data-nudge, data-alerts: nudges
// alerted so far), #mini-listen-pct, #mini-monologue-s, #mini-pop,
// #nudge-sound, #nudge-notify.
import { DASH, fmtPct, fmtClock, isNum, zoneOf, setText, setAttr } from './common.js';

const PREFS = 'talkratio.nudge';

function loadPrefs() {
  try { return JSON.parse(localStorage.getItem(PREFS)) || {}; } catch { return {}; }
}

function savePrefs(p) {
  try { localStorage.setItem(PREFS, JSON.stringify(p)); } catch { /* private mode */ }
}

/** Two short tones: audible over a call, not alarming. */
function beep() {
  const AC = window.AudioContext || window.webkitAudioContext;
  if (!AC) return false;
  const ac = new AC();
  const t0 = ac.currentTime;
  for (const [at, f] of [[0, 660], [0.18, 880]]) {
    const o = ac.createOscillator(), g = ac.createGain();
    o.frequency.value = f;
    g.gain.setValueAtTime(0.0001, t0 + at);
    g.gain.exponentialRampToValueAtTime(0.2, t0 + at + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, t0 + at + 0.15);
    o.connect(g).connect(ac.destination);
    o.start(t0 + at);
    o.stop(t0 + at + 0.16);
  }
  setTimeout(() => ac.close().catch(() => {}), 800);
  return true;
}

/**
 * createMiniMeter(container, { title }) renders the compact meter and its
 * controls into container. update(snapshot) shows a websocket snapshot;
 * title keeps the tab's title on the live figure.
 * Returns { update(s), destroy() }.
 */
export function createMiniMeter(container, options = {}) {
  const prefs = loadPrefs();
  container.innerHTML = `
    <div class="mini-meter" id="mini-meter" data-zone="none" data-nudge="false" data-alerts="0">
      <div class="mm-top">
        <span class="mm-num"><span id="mini-listen-pct">${DASH}</span><span class="unit">%</span></span>
        <span class="mm-lab">listening<br><small>target ≥ <span data-ref="target">80</span>%</small></span>
        <span class="mm-clock num" data-ref="clock">0:00</span>
      </div>
      <div class="mm-bar"><i data-ref="bar"></i><b data-ref="mark"></b></div>
      <div class="mm-mono">Talking now <b><span id="mini-monologue-s">0</span> s</b> · nudge at <span data-ref="after">60</span> s</div>
      <div class="mm-nudge" data-ref="nudge" hidden>Hand it back: ask why, who, what problem, what is it worth, when?</div>
    </div>
    <div class="mm-tools">
      <button type="button" class="btn btn-sm" id="mini-pop" title="Keep this meter on top of your other windows">Pop out meter</button>
      <label class="check"><input type="checkbox" id="nudge-sound"${prefs.sound ? ' checked' : ''}> Sound on nudge</label>
      <label class="check"><input type="checkbox" id="nudge-notify"${prefs.notify ? ' checked' : ''}> Desktop notification</label>
    </div>`;
  const box = container.querySelector('#mini-meter');
  const ref = {};
  box.querySelectorAll('[data-ref]').forEach((e) => { ref[e.dataset.ref] = e; });
  const pct = box.querySelector('#mini-listen-pct'), mono = box.querySelector('#mini-monologue-s');
  const sound = container.querySelector('#nudge-sound'), notify = container.querySelector('#nudge-notify');
  const pop = container.querySelector('#mini-pop');
  const titleWas = document.title;
  let nudging = false, alerts = 0, pip = null, name = 'Call';

  sound.addEventListener('change', () => { prefs.sound = sound.checked; savePrefs(prefs); });
  notify.addEventListener('change', async () => {
    if (notify.checked && 'Notification' in window && Notification.permission !== 'granted') {
      const p = await Notification.requestPermission().catch(() => 'denied');
      if (p !== 'granted') notify.checked = false;
    }
    prefs.notify = notify.checked;
    savePrefs(prefs);
  });
  pop.addEventListener('click', () => popOut());

  // popOut moves the meter into an always-on-top window, and back when
  // that window closes. Without Document Picture-in-Picture (Firefox,
  // Safari), the call's page opens in a small window instead.
  async function popOut() {
    if (pip) { pip.close(); return; }
    if (!('documentPictureInPicture' in window)) {
      const id = options.callId ? '/calls/' + encodeURIComponent(options.callId) : '/';
      window.open(id, 'talkratio-meter', 'popup,width=420,height=640');
      return;
    }
    try {
      pip = await window.documentPictureInPicture.requestWindow({ width: 300, height: 170 });
    } catch {
      pip = null;
      return;
    }
    for (const l of document.querySelectorAll('link[rel=stylesheet]')) {
      const c = pip.document.createElement('link');
      c.rel = 'stylesheet';
      c.href = l.href;
      pip.document.head.append(c);
    }
    pip.document.title = document.title;
    pip.document.body.classList.add('mini-pip');
    pip.document.body.append(box);
    setText(pop, 'Bring the meter back');
    pip.addEventListener('pagehide', () => {
      container.prepend(box);
      setText(pop, 'Pop out meter');
      pip = null;
    });
  }

  function alert(after) {
    alerts++;
    setAttr(box, 'data-alerts', String(alerts));
    const msg = `You have talked for ${Math.round(after)} s without a break. Ask an open question.`;
    if (sound.checked) beep();
    if (notify.checked && 'Notification' in window && Notification.permission === 'granted') {
      try { new Notification('talkratio: hand the turn back', { body: msg, tag: 'talkratio-nudge', silent: sound.checked }); } catch { /* not allowed here */ }
    }
  }

  function update(s) {
    if (!s) return;
    if (s.call && s.call.name) name = s.call.name;
    const target = isNum(s.target_listen_pct) ? s.target_listen_pct : 80;
    const lp = isNum(s.listen_pct) ? s.listen_pct : null;
    const ended = s.call && s.call.state && s.call.state !== 'live';
    setText(pct, fmtPct(lp));
    setText(ref.target, String(target));
    setText(ref.clock, ended ? 'ended' : fmtClock(s.now_s));
    setAttr(box, 'data-zone', zoneOf(lp, target));
    ref.bar.style.transform = `scaleX(${Math.max(0, Math.min(1, (lp ?? 0) / 100))})`;
    ref.mark.style.left = `${target}%`;
    const m = s.monologue || {};
    const after = isNum(m.nudge_after_s) && m.nudge_after_s > 0 ? m.nudge_after_s : 60;
    setText(mono, String(Math.floor(isNum(m.current_s) && !ended ? m.current_s : 0)));
    setText(ref.after, String(Math.round(after)));
    const now = !ended && m.nudge === true;
    if (now && !nudging) alert(after);
    nudging = now;
    ref.nudge.hidden = !now;
    setAttr(box, 'data-nudge', String(now));
    if (options.title) {
      const t = ended ? `Ended · ${name} — talkratio` : `${lp === null ? DASH : fmtPct(lp) + '%'} listening${now ? ' · hand it back' : ''} · ${name} — talkratio`;
      if (document.title !== t) document.title = t;
      if (pip && pip.document.title !== t) pip.document.title = t;
    }
  }

  function destroy() {
    if (pip) pip.close();
    if (options.title) document.title = titleWas;
    container.innerHTML = '';
  }

  return { update, destroy };
}


