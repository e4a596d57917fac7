// The table of stored calls, shared by the library (index.html) and the
// per-rep view (reps.html). Rows are keyed by call id and updated in place,
// so hover, focus and scroll survive the polling. Sorting is done by the
// server: clicking a header calls onSort(sort, order).
import {
  DASH, fmtPct, onTarget, fmtClock, fmtDur, fmtDay, fmtTime, fmtFull, isNum, zoneOf, setText, setAttr, esc, callHref, repHref,
} from './common.js';

// The one monologue threshold (serve's -monologue-nudge): the live nudge,
// the replay's markers and these flags. The API tells it (long_monologue_s);
// setMonologueFlag takes it.
let monoFlagS = 60;
export function setMonologueFlag(s) { if (isNum(s) && s > 0) monoFlagS = s; }
export function monologueFlagS() { return monoFlagS; }

/** Columns; `sort` is the API's sort key, `first` the order a first click asks for. */
const COLUMNS = [
  { key: 'date', label: 'Date', sort: 'started_at', first: 'desc' },
  { key: 'name', label: 'Call', sort: 'name', first: 'asc' },
  { key: 'rep', label: 'Rep', sort: 'rep', first: 'asc' },
  { key: 'customer', label: 'Customer' },
  { key: 'dur', label: 'Duration', sort: 'duration_s', first: 'desc', r: true },
  { key: 'listen', label: 'Listen', sort: 'listen_pct', first: 'desc', r: true, title: 'Customer talk as a share of all talk: how much the rep listened' },
  { key: 'mono', label: 'Longest monologue', sort: 'longest_rep_monologue_s', first: 'desc', r: true, wrap: true, title: 'Longest uninterrupted stretch of rep talk' },
  { key: 'source', label: 'Source' },
  { key: 'flags', label: 'Flags' },
];

const ARROW = '<svg class="sort-ic" viewBox="0 0 12 12" aria-hidden="true"><path d="M6 2.5 9.5 7h-7z" class="up"/><path d="M6 9.5 2.5 5h7z" class="down"/></svg>';
const ICON_LIVE = '<svg viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="3.2" fill="currentColor"/><path d="M3.8 3.8a6 6 0 0 0 0 8.4M12.2 3.8a6 6 0 0 1 0 8.4" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/></svg>';
const ICON_UPLOAD = '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M8 10.5V2.8M4.8 5.8 8 2.6l3.2 3.2M2.8 10.5v1.7c0 .6.5 1 1 1h8.4c.6 0 1-.4 1-1v-1.7" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/></svg>';
const ICON_MONO = '<svg viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" stroke-width="1.6"/><path d="M8 4.6V8l2.3 1.5" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/></svg>';
const ICON_DOWN = '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M8 3v9M4.5 8.5 8 12l3.5-3.5" fill="none" stroke="currentColor" stroke-width="1.7" stroke-linecap="round" stroke-linejoin="round"/></svg>';
const ICON_OK = '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="m3.5 8.3 2.8 2.8 6.2-6.3" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>';
const ICON_X = '<svg viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" stroke-width="1.6"/><path d="M8 4.8v3.7M8 11h.01" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/></svg>';

/**
 * Builds the table inside `table` (a <table> element).
 * options: hide: ['rep'], sort, order, onSort(sort, order), emptyRow: html
 */
export function createCallTable(table, options = {}) {
  const hide = new Set(options.hide || []);
  const cols = COLUMNS.filter((c) => !hide.has(c.key));
  let sort = options.sort || 'started_at';
  let order = options.order || 'desc';
  let target = 80;
  const rows = new Map(); // id -> row

  table.classList.add('calls', 'lib');
  table.innerHTML = `<thead><tr>${cols.map((c) => `<th scope="col" class="col-${c.key}${c.r ? ' r' : ''}${c.wrap ? ' wrap' : ''}"${c.title ? ` title="${esc(c.title)}"` : ''}>${
    c.sort ? `<button type="button" class="sort" data-sort="${c.sort}">${esc(c.label)}${ARROW}</button>` : `<span class="th">${esc(c.label)}</span>`
  }</th>`).join('')}</tr></thead><tbody></tbody>`;
  const body = table.tBodies[0];

  table.tHead.addEventListener('click', (ev) => {
    const b = ev.target.closest('button.sort');
    if (!b) return;
    const key = b.dataset.sort;
    const col = cols.find((c) => c.sort === key);
    const next = key === sort ? (order === 'asc' ? 'desc' : 'asc') : col.first;
    setSort(key, next);
    options.onSort?.(key, next);
  });

  function setSort(s, o) {
    sort = s; order = o === 'asc' ? 'asc' : 'desc';
    table.tHead.querySelectorAll('th').forEach((th) => {
      const b = th.querySelector('button.sort');
      const on = b && b.dataset.sort === sort;
      if (on) th.setAttribute('aria-sort', order === 'asc' ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
      th.classList.toggle('sorted', !!on);
    });
  }
  setSort(sort, order);

  function makeRow(c) {
    const tr = document.createElement('tr');
    tr.tabIndex = 0;
    tr.setAttribute('data-id', String(c.id));
    tr.innerHTML = cols.map((col) => {
      switch (col.key) {
        case 'date': return '<td class="td-date"><span class="d1"></span><span class="d2 num"></span></td>';
        case 'name': return '<td class="td-name"><a class="nm"></a><span class="sub"></span></td>';
        case 'rep': return '<td class="td-rep"><a class="rp"></a></td>';
        case 'customer': return '<td class="td-cust"><span class="cu"></span></td>';
        case 'dur': return '<td class="td-dur r num" data-label="Duration"></td>';
        case 'listen': return '<td class="td-listen r num"><span class="listen-cell"><span class="minibar"><i></i><b></b></span><span class="lv"><span class="v"></span><span class="pct">%</span></span></span></td>';
        case 'mono': return '<td class="td-mono r num" data-label="Longest monologue"></td>';
        case 'source': return '<td class="td-src"></td>';
        case 'flags': return '<td class="td-flags"><div class="flags"></div></td>';
        default: return '<td></td>';
      }
    }).join('');
    const q = (s) => tr.querySelector(s);
    const row = {
      tr, call: c, href: '',
      d1: q('.d1'), d2: q('.d2'), date: q('.td-date'), name: q('.nm'), sub: q('.td-name .sub'), rep: q('.rp'), cust: q('.td-cust .cu'),
      dur: q('.td-dur'), listen: q('.td-listen'), lv: q('.td-listen .v'), pct: q('.td-listen .pct'), bar: q('.minibar i'), tgt: q('.minibar b'),
      mono: q('.td-mono'), src: q('.td-src'), flags: q('.flags'),
      html: {},
    };
    const open = (ev) => {
      if (ev.target.closest('a, button')) return; // links handle themselves (also middle-click)
      if (String(window.getSelection?.() || '').length > 0) return;
      if (ev.metaKey || ev.ctrlKey) { window.open(row.href, '_blank', 'noopener'); return; }
      location.href = row.href;
    };
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && ev.target === tr) open(ev); });
    return row;
  }

  function html(row, key, el, value) {
    if (!el || row.html[key] === value) return;
    row.html[key] = value;
    el.innerHTML = value;
  }

  function updateRow(row, c) {
    row.call = c;
    row.href = callHref(c);
    const tr = row.tr;
    setAttr(tr, 'data-state', String(c.state || ''));
    tr.classList.toggle('is-live', c.state === 'live');
    tr.classList.toggle('is-failed', c.state === 'failed');
    tr.classList.toggle('is-new', !!c._new);

    setText(row.d1, fmtDay(c.started_at));
    setText(row.d2, fmtTime(c.started_at));
    setAttr(row.date, 'title', fmtFull(c.started_at));

    const name = c.name || 'Untitled call';
    setText(row.name, name);
    setAttr(row.name, 'href', row.href);
    if (row.sub) setText(row.sub, c.customer || '');
    if (row.rep) {
      setText(row.rep, c.rep || DASH);
      if (c.rep) setAttr(row.rep, 'href', repHref(c.rep)); else row.rep.removeAttribute('href');
    }
    if (row.cust) setText(row.cust, c.customer || DASH);

    // duration (live calls tick between polls)
    row.fetchedAt = performance.now();
    tick(row);

    const scored = c.state !== 'analyzing' && c.state !== 'failed';
    const lp = scored && isNum(c.listen_pct) ? c.listen_pct : null;
    if (row.listen) {
      let zone = zoneOf(lp, target);
      if (c.on_target === true && lp !== null) zone = 'good';
      setText(row.lv, fmtPct(lp));
      row.pct.hidden = lp === null;
      row.bar.parentElement.hidden = lp === null;
      row.listen.className = `td-listen r num tone-${zone}`;
      row.bar.style.width = `${Math.max(0, Math.min(100, lp ?? 0))}%`;
      row.tgt.style.left = `calc(${target}% - 1px)`;
      setAttr(row.listen, 'title', lp === null ? '' : `Rep listened ${fmtPct(lp)}% of the talk time (target ${target}%)`);
    }

    const mono = scored && isNum(c.longest_rep_monologue_s) && (c.longest_rep_monologue_s > 0 || lp !== null) ? c.longest_rep_monologue_s : null;
    if (row.mono) {
      setText(row.mono, mono === null ? DASH : fmtDur(mono));
      row.mono.classList.toggle('tone-warn', mono !== null && mono >= monoFlagS);
      row.mono.classList.toggle('muted', mono === null || mono < monoFlagS);
      setAttr(row.mono, 'title', mono === null ? '' : `${mono.toFixed(1)} s`);
    }

    if (row.src) {
      html(row, 'src', row.src, c.source === 'upload'
        ? `<span class="src-tag">${ICON_UPLOAD}Upload</span>`
        : `<span class="src-tag">${ICON_LIVE}Live</span>`);
    }

    html(row, 'flags', row.flags, flagsHTML(c, lp, mono, target));
    if (c.state === 'analyzing') {
      const p = Math.max(0, Math.min(1, isNum(c.progress) ? c.progress : 0));
      const bar = row.flags.querySelector('.prog i');
      if (bar) bar.style.transform = `scaleX(${p})`;
      setText(row.flags.querySelector('.prog-v'), `${Math.round(p * 100)}%`);
    }
  }

  function tick(row) {
    if (!row.dur) return;
    const c = row.call;
    let d = isNum(c.duration_s) ? c.duration_s : null;
    if (d !== null && c.state === 'live') d += (performance.now() - row.fetchedAt) / 1000;
    setText(row.dur, d === null || (d === 0 && c.state !== 'live') ? DASH : fmtClock(d));
  }

  /** Renders the list (server order); returns the number of rows. */
  function render(calls, tgt) {
    if (isNum(tgt)) target = tgt;
    const seen = new Set();
    let prev = null;
    for (const c of calls) {
      if (!c || c.id == null) continue;
      const id = String(c.id);
      seen.add(id);
      let row = rows.get(id);
      if (!row) { row = makeRow(c); rows.set(id, row); }
      updateRow(row, c);
      const want = prev ? prev.nextSibling : body.firstChild;
      if (want !== row.tr) body.insertBefore(row.tr, want);
      prev = row.tr;
    }
    for (const [id, row] of rows) {
      if (!seen.has(id)) { row.tr.remove(); rows.delete(id); }
    }
    return seen.size;
  }

  const ticker = setInterval(() => { for (const row of rows.values()) if (row.call.state === 'live') tick(row); }, 1000);

  return {
    render,
    setSort,
    get sort() { return sort; },
    get order() { return order; },
    destroy() { clearInterval(ticker); },
  };
}

function flagsHTML(c, lp, mono, target) {
  if (c.state === 'analyzing') {
    return `<span class="flag flag-info"><span class="spin" aria-hidden="true"></span>Analyzing… <span class="prog-v num"></span></span><span class="prog" role="progressbar" aria-label="Analysis progress"><i></i></span>`;
  }
  if (c.state === 'failed') {
    const msg = c.error ? String(c.error) : 'analysis failed';
    return `<span class="flag flag-bad">${ICON_X}Failed</span><span class="flag-err" title="${esc(msg)}">${esc(msg)}</span>`;
  }
  const out = [];
  if (c.state === 'live') out.push(`<span class="flag flag-live"><span class="dot"></span>Live now</span>`);
  if (mono !== null && mono >= monoFlagS) out.push(`<span class="flag flag-warn" title="Longest rep monologue ${esc(fmtDur(mono))}">${ICON_MONO}Monologue ≥ ${esc(fmtDur(monoFlagS))}</span>`);
  if (lp !== null && !onTarget(lp, target) && c.state !== 'live') out.push(`<span class="flag flag-bad" title="Listened ${fmtPct(lp)}%, target ${target}%">${ICON_DOWN}Listen below target</span>`);
  if (!out.length && lp !== null && c.state !== 'live') out.push(`<span class="flag flag-good">${ICON_OK}On target</span>`);
  return out.join('');
}
