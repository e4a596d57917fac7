// The live wall (/wall): every live call as a tile, sorted by how far
// below the listen target it is (the furthest first; calls where nobody
// has spoken yet last), refreshed every second from the call list, which
// live calls update every 2 s. Each tile links to the call's live page.
//
// Test hooks: #wall-grid .wall-tile[data-id] in order, .wt-listen, .wt-gap.
import { DASH, fmtPct, fmtClock, isNum, zoneOf, setText, esc, getJSON } from './common.js';

const POLL_MS = 1000;
const $ = (id) => document.getElementById(id);
const ui = { grid: $('wall-grid'), empty: $('wall-empty'), error: $('wall-error'), target: $('wall-target'), summary: $('wall-summary') };
let target = 80;
let calls = [];
let fetchedAt = performance.now();

/** gap is how far below the target a call is (pp); null before anyone spoke. */
function gap(c) {
  return isNum(c.listen_pct) ? target - c.listen_pct : null;
}

/** Furthest below target first; no figure yet last; then the longest call. */
export function wallOrder(a, b) {
  const ga = gap(a), gb = gap(b);
  if (ga === null || gb === null) {
    if (ga !== gb) return ga === null ? 1 : -1;
  } else if (ga !== gb) {
    return gb - ga;
  }
  return (b.duration_s || 0) - (a.duration_s || 0) || String(a.id).localeCompare(String(b.id));
}

function tile(c) {
  const g = gap(c);
  const zone = zoneOf(c.listen_pct, target);
  const gapText = g === null ? 'waiting for speech' : g > 0 ? `${fmtPct(g)} pp below target` : 'on target';
  return `<a class="wall-tile" data-id="${esc(c.id)}" data-zone="${zone}" href="/calls/${encodeURIComponent(c.id)}">
    <div class="wt-head"><span class="wt-rep">${esc(c.rep || 'Unnamed rep')}</span><span class="wt-clock num" data-since="${esc(String(c.duration_s || 0))}">${fmtClock(c.duration_s)}</span></div>
    <div class="wt-call">${esc(c.name || c.id)}${c.customer ? ` <span class="muted">with ${esc(c.customer)}</span>` : ''}</div>
    <div class="wt-main"><span class="wt-listen num tone-${zone}">${fmtPct(c.listen_pct)}</span><span class="unit">% listened</span></div>
    <div class="wt-bar"><i style="transform: scaleX(${Math.max(0, Math.min(1, (c.listen_pct ?? 0) / 100))})"></i><b style="left: ${target}%"></b></div>
    <div class="wt-foot"><span class="wt-gap">${esc(gapText)}</span><span>longest monologue ${isNum(c.longest_rep_monologue_s) ? fmtClock(c.longest_rep_monologue_s) : DASH}</span></div>
  </a>`;
}

function render() {
  const sorted = [...calls].sort(wallOrder);
  setText(ui.target, String(target));
  const html = sorted.map(tile).join('');
  if (ui.grid.dataset.html !== html) {
    ui.grid.dataset.html = html;
    ui.grid.innerHTML = html;
  }
  ui.empty.hidden = sorted.length > 0;
  const below = sorted.filter((c) => gap(c) !== null && gap(c) > 0).length;
  const sum = `<span class="chip"><b>${sorted.length}</b> live</span><span class="chip"><b>${below}</b> below target</span>`;
  if (ui.summary.innerHTML !== sum) ui.summary.innerHTML = sum;
}

// The clocks tick between polls.
function tick() {
  const dt = (performance.now() - fetchedAt) / 1000;
  for (const el of ui.grid.querySelectorAll('.wt-clock')) setText(el, fmtClock(Number(el.dataset.since) + dt));
}

async function poll() {
  try {
    const d = await getJSON('/api/calls?state=live&limit=500');
    if (isNum(d.target_listen_pct)) target = d.target_listen_pct;
    calls = (Array.isArray(d.calls) ? d.calls : []).filter((c) => c && c.state === 'live');
    fetchedAt = performance.now();
    ui.error.hidden = true;
    render();
  } catch (e) {
    ui.error.hidden = false;
    setText(ui.error, `Can't load the live calls (${(e && e.message) || 'network error'}). Retrying…`);
  }
  setTimeout(poll, POLL_MS);
}

setInterval(tick, 1000);
poll();
