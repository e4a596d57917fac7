// Entry point of index.html: the list of live and ended calls, polled from
// GET /api/calls every 2 seconds. Rows are updated in place (keyed by call id)
// so hover, focus and scroll survive the refresh.
import { DASH, fmtPct, fmtClock, fmtStarted, fmtFull, isNum, zoneOf, setText, setAttr, errorText, esc } from './common.js';

const POLL_MS = 2000;
const DEFAULT_TARGET = 80;

const body = document.getElementById('calls-body');
const table = document.getElementById('calls-table');
const empty = document.getElementById('empty');
const loading = document.getElementById('loading');
const errBox = document.getElementById('list-error');
const summary = document.getElementById('summary');

const rows = new Map(); // id -> { tr, td: {...}, call, fetchedAt }
let failures = 0;

function callHref(id) { return '/calls/' + encodeURIComponent(id); }

function makeRow(id) {
  const tr = document.createElement('tr');
  tr.tabIndex = 0;
  tr.dataset.id = id;
  tr.innerHTML = `
    <td class="name"><a href="${esc(callHref(id))}"></a><span class="sub"></span></td>
    <td class="muted party rep" data-label="Rep"></td>
    <td class="muted party cust" data-label="Customer"></td>
    <td class="state"></td>
    <td class="muted started num" data-label="Started"></td>
    <td class="r dur num" data-label="Duration"></td>
    <td class="r listen num"><span class="listen-cell"><span class="minibar"><i></i><b></b></span><span><span class="v"></span><span class="pct">%</span></span></span></td>
    <td class="r longest num muted" data-label="Longest monologue"></td>`;
  const q = (s) => tr.querySelector(s);
  const row = {
    tr,
    td: {
      link: q('td.name a'), sub: q('td.name .sub'), rep: q('td.rep'), cust: q('td.cust'), state: q('td.state'),
      started: q('td.started'), dur: q('td.dur'), listen: q('td.listen'), lv: q('td.listen .v'), pct: q('td.listen .pct'),
      bar: q('.minibar i'), tgt: q('.minibar b'), mono: q('td.longest'),
    },
  };
  const open = (ev) => {
    if (ev.target.closest('a')) return; // the link handles itself (also middle-click / new tab)
    if (window.getSelection && String(window.getSelection()).length > 0) return;
    location.href = callHref(id);
  };
  tr.addEventListener('click', open);
  tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(ev); });
  return row;
}

const BADGES = {
  live: '<span class="badge badge-live"><span class="dot"></span>Live</span>',
  ended: '<span class="badge badge-ended">Ended</span>',
  analyzing: '<span class="badge badge-analyzing"><span class="dot"></span>Analyzing</span>',
  failed: '<span class="badge badge-failed">Failed</span>',
};

function updateRow(row, c, target) {
  const t = row.td;
  const name = c.name || 'Untitled call';
  setText(t.link, name);
  setText(t.sub, c.source === 'upload' ? `upload · ${c.id}` : c.id);
  setText(t.rep, c.rep || DASH);
  setText(t.cust, c.customer || DASH);
  const badge = BADGES[c.state] || `<span class="badge">${esc(c.state || 'unknown')}</span>`;
  if (row.badge !== badge) { row.badge = badge; t.state.innerHTML = badge; }
  setText(t.started, fmtStarted(c.started_at));
  setAttr(t.started, 'title', fmtFull(c.started_at));
  row.tr.classList.toggle('is-live', c.state === 'live');

  const lp = isNum(c.listen_pct) ? c.listen_pct : null;
  let zone = zoneOf(lp, target);
  if (c.on_target === true && lp !== null) zone = 'good';
  setText(t.lv, fmtPct(lp));
  t.pct.hidden = lp === null;
  t.bar.parentElement.hidden = lp === null;
  t.listen.className = `r listen num tone-${zone}`;
  t.bar.style.width = `${Math.max(0, Math.min(100, lp ?? 0))}%`;
  t.tgt.style.left = `calc(${target}% - 1px)`;
  setAttr(t.listen, 'title', lp === null ? 'Nobody has spoken yet' : `Rep listened ${lp.toFixed(1)}% of the talk time (target ${target}%)`);

  setText(t.mono, isNum(c.longest_rep_monologue_s) ? `${c.longest_rep_monologue_s.toFixed(1)} s` : DASH);
  row.call = c;
  row.fetchedAt = performance.now();
  updateDuration(row);
}

function updateDuration(row) {
  const c = row.call;
  let d = isNum(c.duration_s) ? c.duration_s : null;
  if (d !== null && c.state === 'live') d += (performance.now() - row.fetchedAt) / 1000; // tick between polls
  setText(row.td.dur, d === null ? DASH : fmtClock(d));
}

function render(data) {
  const calls = Array.isArray(data && data.calls) ? data.calls : [];
  const target = isNum(data && data.target_listen_pct) ? data.target_listen_pct : DEFAULT_TARGET;
  loading.hidden = true;
  table.hidden = calls.length === 0;
  empty.hidden = calls.length !== 0;

  const seen = new Set();
  let prev = null;
  for (const c of calls) {
    if (!c || c.id == null) continue;
    const id = String(c.id);
    seen.add(id);
    let row = rows.get(id);
    if (!row) { row = makeRow(id); rows.set(id, row); }
    updateRow(row, c, target);
    // keep DOM order == server order, moving only what is out of place
    const want = prev ? prev.nextSibling : body.firstChild;
    if (want !== row.tr) body.insertBefore(row.tr, want);
    prev = row.tr;
  }
  for (const [id, row] of rows) {
    if (!seen.has(id)) { row.tr.remove(); rows.delete(id); }
  }

  const live = calls.filter((c) => c && c.state === 'live').length;
  const scored = calls.filter((c) => c && c.state !== 'live' && isNum(c.listen_pct));
  const onT = scored.filter((c) => c.on_target === true || c.listen_pct >= target).length;
  const total = isNum(data && data.total) ? data.total : calls.length;
  const html = [
    `<span class="chip"><b>${live}</b> live</span>`,
    `<span class="chip"><b>${total}</b> ${total === 1 ? 'call' : 'calls'}</span>`,
    scored.length ? `<span class="chip"><b>${onT}/${scored.length}</b> finished on target (≥ ${target}%)</span>` : '',
  ].join('');
  if (summary.innerHTML !== html) summary.innerHTML = html;
  document.title = live > 0 ? `(${live} live) Calls — talkratio` : 'Calls — talkratio';
}

async function poll() {
  try {
    const r = await fetch('/api/calls', { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!r.ok) throw new Error(await errorText(r));
    render(await r.json());
    failures = 0;
    errBox.hidden = true;
  } catch (e) {
    failures++;
    errBox.textContent = `Can't load the calls (${e && e.message ? e.message : 'network error'}). Retrying every ${POLL_MS / 1000} s…`;
    errBox.hidden = false;
    if (rows.size === 0) {
      loading.hidden = false;
      setText(loading.querySelector('p'), failures > 1 ? 'Still trying to reach the server…' : 'Loading calls…');
    }
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

setInterval(() => { for (const row of rows.values()) if (row.call && row.call.state === 'live') updateDuration(row); }, 1000);
poll();
