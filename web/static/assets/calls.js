// Entry point of index.html: live calls on top, then the library of stored
// calls (GET /api/calls with server-side sort, filters and paging), the upload
// form and a short list of reps. Polls every 2 s (1 s while a call is being
// analyzed); rows and cards are updated in place.
import {
  DASH, fmtPct, fmtClock, fmtDur, fmtShortDay, isNum, zoneOf, setText, setAttr, esc, getJSON,
  liveHref, repHref, avatar, isoDay,
} from './common.js';
import { createCallTable } from './calltable.js';
import { initUpload } from './upload.js';

const PAGE = 50;
const POLL_MS = 2000;
const FAST_POLL_MS = 1000;
const REPS_MS = 30000;
const DEFAULT_TARGET = 80;
const SORTS = ['started_at', 'duration_s', 'listen_pct', 'longest_rep_monologue_s', 'rep', 'name'];

const $ = (id) => document.getElementById(id);
const ui = {
  table: $('calls-table'), loading: $('loading'), empty: $('empty'), emptyTitle: $('empty-title'), emptyText: $('empty-text'),
  emptyActions: $('empty-actions'), error: $('list-error'), summary: $('summary'), count: $('lib-count'),
  liveSection: $('live-section'), liveGrid: $('live-grid'), liveCount: $('live-count'), liveEmpty: $('live-empty'), liveNote: $('live-note'),
  filters: $('filters'), rep: $('filter-rep'), from: $('filter-from'), to: $('filter-to'), clear: $('filter-clear'),
  pager: $('pager'), pagerInfo: $('pager-info'), pagerPage: $('pager-page'), prev: $('page-prev'), next: $('page-next'),
  repsMini: $('reps-mini'), repNames: $('rep-names'),
};

// ---------------------------------------------------------------- view state (mirrored in the URL)

const view = readView();

function readView() {
  const q = new URLSearchParams(location.search);
  const sort = SORTS.includes(q.get('sort')) ? q.get('sort') : 'started_at';
  const order = q.get('order') === 'asc' || q.get('order') === 'desc' ? q.get('order') : (sort === 'rep' || sort === 'name' ? 'asc' : 'desc');
  const day = (v) => (/^\d{4}-\d{2}-\d{2}$/.test(v || '') ? v : '');
  return {
    rep: q.get('rep') || '', from: day(q.get('from')), to: day(q.get('to')),
    sort, order, page: Math.max(0, (parseInt(q.get('page'), 10) || 1) - 1),
  };
}

function writeView() {
  const q = new URLSearchParams();
  if (view.rep) q.set('rep', view.rep);
  if (view.from) q.set('from', view.from);
  if (view.to) q.set('to', view.to);
  if (view.sort !== 'started_at' || view.order !== 'desc') { q.set('sort', view.sort); q.set('order', view.order); }
  if (view.page > 0) q.set('page', String(view.page + 1));
  const s = q.toString();
  history.replaceState(null, '', s ? `/?${s}` : '/');
}

function apiURL(v, offset = v.page * PAGE) {
  const q = new URLSearchParams();
  if (v.rep) q.set('rep', v.rep);
  if (v.from) q.set('from', v.from);
  if (v.to) q.set('to', v.to);
  q.set('limit', String(PAGE));
  q.set('offset', String(offset));
  q.set('sort', v.sort);
  q.set('order', v.order);
  return '/api/calls?' + q.toString();
}

const filtered = () => !!(view.rep || view.from || view.to);

// ---------------------------------------------------------------- table

const table = createCallTable(ui.table, {
  sort: view.sort,
  order: view.order,
  onSort(sort, order) {
    view.sort = sort;
    view.order = order;
    view.page = 0;
    changed();
  },
});

// ---------------------------------------------------------------- filters

ui.rep.value = view.rep;
ui.from.value = view.from;
ui.to.value = view.to;
syncFilterUI();

ui.rep.addEventListener('change', () => { view.rep = ui.rep.value; view.page = 0; changed(); });
for (const [input, key] of [[ui.from, 'from'], [ui.to, 'to']]) {
  input.addEventListener('change', () => {
    const v = /^\d{4}-\d{2}-\d{2}$/.test(input.value) ? input.value : '';
    if (v === view[key]) return;
    view[key] = v;
    view.page = 0;
    changed();
  });
}
ui.filters.querySelectorAll('[data-range]').forEach((b) => b.addEventListener('click', () => {
  const days = Number(b.dataset.range);
  const d = new Date();
  d.setDate(d.getDate() - (days - 1));
  const from = isoDay(d);
  const on = view.from === from && !view.to;
  view.from = on ? '' : from;
  view.to = '';
  ui.from.value = view.from;
  ui.to.value = '';
  view.page = 0;
  changed();
}));
ui.clear.addEventListener('click', () => {
  view.rep = ''; view.from = ''; view.to = ''; view.page = 0;
  ui.rep.value = ''; ui.from.value = ''; ui.to.value = '';
  changed();
});
ui.filters.addEventListener('submit', (ev) => ev.preventDefault());
ui.emptyActions.addEventListener('click', (ev) => { if (ev.target.closest('[data-clear]')) ui.clear.click(); });

function syncFilterUI() {
  ui.clear.hidden = !filtered();
  ui.filters.querySelectorAll('[data-range]').forEach((b) => {
    const d = new Date();
    d.setDate(d.getDate() - (Number(b.dataset.range) - 1));
    b.setAttribute('aria-pressed', String(view.from === isoDay(d) && !view.to));
  });
  ui.to.min = view.from || '';
  ui.from.max = view.to || '';
  ui.rep.classList.toggle('active', !!view.rep);
  ui.from.classList.toggle('active', !!view.from);
  ui.to.classList.toggle('active', !!view.to);
}

ui.prev.addEventListener('click', () => { if (view.page > 0) { view.page--; changed(true); } });
ui.next.addEventListener('click', () => { view.page++; changed(true); });

function changed(scroll = false) {
  writeView();
  syncFilterUI();
  table.setSort(view.sort, view.order);
  ui.table.classList.add('stale');
  poll();
  if (scroll) ui.table.closest('.lib-card').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

// ---------------------------------------------------------------- uploads

document.querySelector('.upload-jump')?.addEventListener('click', (ev) => {
  ev.preventDefault();
  const form = $('upload-form');
  form.scrollIntoView({ behavior: 'smooth', block: 'center' });
  form.classList.add('drag-target');
  setTimeout(() => form.classList.remove('drag-target'), 1400);
  setTimeout(() => form.querySelector('.upload-pane:not([hidden]) input[type=file]')?.focus({ preventScroll: true }), 500);
});

const pinned = new Map(); // id -> summary of calls uploaded from this page

initUpload($('upload-form'), {
  onCreated(c) {
    pinned.set(String(c.id), { ...c, _new: true });
    renderList(lastData);
    poll();
  },
  onUpdate(c) {
    const id = String(c.id);
    if (pinned.has(id)) pinned.set(id, { ...c, _new: true });
    renderList(lastData);
  },
});

// ---------------------------------------------------------------- polling

let timer = 0;
let seq = 0;
let inflight = null;
let failures = 0;
let lastData = null;
let target = DEFAULT_TARGET;

async function poll() {
  clearTimeout(timer);
  inflight?.abort();
  const ctl = new AbortController();
  inflight = ctl;
  const my = ++seq;
  const v = { ...view };
  try {
    const data = await getJSON(apiURL(v), { signal: ctl.signal });
    let live = (data.calls || []).filter((c) => c && c.state === 'live');
    if (v.page > 0 && !live.length) {
      // live calls come with the first page; ask for them separately
      try {
        const first = await getJSON(apiURL(v, 0), { signal: ctl.signal });
        live = (first.calls || []).filter((c) => c && c.state === 'live');
      } catch { /* keep what we have */ }
    }
    if (my !== seq) return;
    data._live = live;
    lastData = data;
    failures = 0;
    ui.error.hidden = true;
    renderList(data);
  } catch (e) {
    if (e.name === 'AbortError' || my !== seq) return;
    failures++;
    ui.error.textContent = `Can't load the calls (${e.message || 'network error'}). Retrying…`;
    ui.error.hidden = false;
    if (!lastData) setText(ui.loading.querySelector('p'), failures > 1 ? 'Still trying to reach the server…' : 'Loading calls…');
  } finally {
    if (my === seq) {
      inflight = null;
      timer = setTimeout(poll, anyAnalyzing() ? FAST_POLL_MS : POLL_MS);
    }
  }
}

function anyAnalyzing() {
  if (!lastData) return false;
  return (lastData.calls || []).some((c) => c && c.state === 'analyzing') || [...pinned.values()].some((c) => c.state === 'analyzing');
}

// ---------------------------------------------------------------- render

// libraryTotal is how many calls are over (stored): the API's total counts
// the live ones too, which have their own section.
function libraryTotal(data) {
  const all = Array.isArray(data.calls) ? data.calls : [];
  const live = isNum(data.live) ? data.live : all.filter((c) => c && c.state === 'live').length;
  return Math.max(0, (isNum(data.total) ? data.total : all.length) - live);
}

function renderList(data) {
  if (!data) return;
  target = isNum(data.target_listen_pct) ? data.target_listen_pct : target;
  const all = Array.isArray(data.calls) ? data.calls : [];
  const stored = all.filter((c) => c && c.state !== 'live');
  const total = isNum(data.total) ? libraryTotal(data) : stored.length;
  const offset = isNum(data.offset) ? data.offset : view.page * PAGE;

  // merge this page's uploads that the server does not list (yet)
  const ids = new Set(stored.map((c) => String(c.id)));
  const extra = [];
  for (const [id, c] of pinned) {
    if (ids.has(id)) {
      const i = stored.findIndex((x) => String(x.id) === id);
      stored[i] = { ...stored[i], _new: true };
      if (stored[i].state !== 'analyzing') pinned.delete(id);
    } else if (view.page === 0) {
      extra.push(c);
      if (c.state !== 'analyzing' && c._seenDone) pinned.delete(id);
      else if (c.state !== 'analyzing') c._seenDone = true;
    }
  }
  const rows = [...extra, ...stored];

  ui.table.classList.remove('stale');
  ui.loading.hidden = true;
  const n = table.render(rows, target);
  ui.table.hidden = n === 0;
  ui.empty.hidden = n !== 0;
  if (n === 0) {
    const actions = (key, html) => {
      if (ui.emptyActions.dataset.key !== key) { ui.emptyActions.dataset.key = key; ui.emptyActions.innerHTML = html; }
      ui.emptyActions.hidden = !html;
    };
    if (filtered()) {
      setText(ui.emptyTitle, 'No calls match these filters');
      ui.emptyText.textContent = 'Try another rep or a wider date range.';
      actions('filtered', '<button type="button" class="btn" data-clear>Clear filters</button>');
    } else if (view.page > 0) {
      setText(ui.emptyTitle, 'No more calls');
      ui.emptyText.textContent = 'This page is past the end of the library.';
      actions('past', '<a class="btn" href="/">Back to the first page</a>');
    } else {
      setText(ui.emptyTitle, 'No calls yet');
      ui.emptyText.textContent = 'Upload a recording of a call, or start a live call from the capture page. Finished calls land here, ready to replay.';
      actions('none', '<a class="btn btn-primary" href="#upload-form">Upload a recording</a><a class="btn" href="/capture">Open the capture page</a>');
    }
  }

  // count + pager
  setText(ui.count, total === 0 ? '' : filtered() ? `${total} matching ${total === 1 ? 'call' : 'calls'}` : `${total} ${total === 1 ? 'call' : 'calls'}`);
  const pages = Math.max(1, Math.ceil(total / PAGE));
  ui.pager.hidden = total <= PAGE && offset === 0;
  setText(ui.pagerInfo, total ? `Showing ${Math.min(total, offset + 1)}–${Math.min(total, offset + stored.length)} of ${total}` : '');
  setText(ui.pagerPage, `Page ${Math.floor(offset / PAGE) + 1} of ${pages}`);
  ui.prev.disabled = offset <= 0;
  ui.next.disabled = offset + PAGE >= total;

  renderLive(data._live || all.filter((c) => c && c.state === 'live'));
  renderSummary(data, total);
}

// ---------------------------------------------------------------- live cards

const liveCards = new Map();

function renderLive(live) {
  setText(ui.liveCount, String(live.length));
  ui.liveSection.dataset.count = String(live.length);
  ui.liveEmpty.hidden = live.length > 0;
  if (!live.length) {
    const msg = view.rep
      ? `No call of ${esc(view.rep)} is live right now.`
      : 'No call is live right now. Reps start one from the <a href="/capture">capture page</a> or any WHIP client.';
    if (ui.liveEmpty.dataset.msg !== msg) { ui.liveEmpty.dataset.msg = msg; ui.liveEmpty.innerHTML = msg; }
  }
  ui.liveGrid.hidden = live.length === 0;
  setText(ui.liveNote, live.length ? 'Open one to watch its meter live' : '');
  const seen = new Set();
  let prev = null;
  for (const c of live) {
    const id = String(c.id);
    seen.add(id);
    let card = liveCards.get(id);
    if (!card) { card = makeLiveCard(id); liveCards.set(id, card); }
    updateLiveCard(card, c);
    const want = prev ? prev.nextSibling : ui.liveGrid.firstChild;
    if (want !== card.el) ui.liveGrid.insertBefore(card.el, want);
    prev = card.el;
  }
  for (const [id, card] of liveCards) if (!seen.has(id)) { card.el.remove(); liveCards.delete(id); }
  document.title = live.length ? `(${live.length} live) Calls — talkratio` : 'Calls — talkratio';
}

function makeLiveCard(id) {
  const a = document.createElement('a');
  a.className = 'live-card';
  a.href = liveHref(id);
  a.dataset.id = id;
  a.innerHTML = `
    <div class="lc-top"><span class="badge badge-live"><span class="dot"></span>Live</span><span class="lc-clock num"></span><span class="spacer"></span><span class="lc-open">Watch live →</span></div>
    <div class="lc-name"></div>
    <div class="lc-who"></div>
    <div class="lc-bottom">
      <div class="lc-listen"><span class="lc-v num"></span><span class="lc-u">% listened</span></div>
      <div class="lc-mono num"></div>
    </div>
    <div class="lc-bar"><i></i><b></b></div>`;
  const q = (s) => a.querySelector(s);
  return { el: a, clock: q('.lc-clock'), name: q('.lc-name'), who: q('.lc-who'), v: q('.lc-v'), u: q('.lc-u'), listen: q('.lc-listen'), mono: q('.lc-mono'), bar: q('.lc-bar i'), tgt: q('.lc-bar b'), call: null, at: 0 };
}

function updateLiveCard(card, c) {
  card.call = c;
  card.at = performance.now();
  setText(card.name, c.name || 'Untitled call');
  card.who.innerHTML = `${c.rep ? `${esc(c.rep)}` : 'Rep'} <span class="with">with</span> ${esc(c.customer || 'customer')}`;
  const lp = isNum(c.listen_pct) ? c.listen_pct : null;
  setText(card.v, fmtPct(lp));
  card.u.hidden = lp === null;
  setAttr(card.el, 'data-zone', zoneOf(lp, target));
  card.bar.style.width = `${Math.max(0, Math.min(100, lp ?? 0))}%`;
  card.tgt.style.left = `calc(${target}% - 1px)`;
  const m = isNum(c.longest_rep_monologue_s) && c.longest_rep_monologue_s > 0 ? fmtDur(c.longest_rep_monologue_s) : '';
  const mh = m ? `<span>longest monologue</span><b>${esc(m)}</b>` : '';
  if (card.monoHTML !== mh) { card.monoHTML = mh; card.mono.innerHTML = mh; }
  tickLive(card);
}

function tickLive(card) {
  const c = card.call;
  const d = isNum(c.duration_s) ? c.duration_s + (performance.now() - card.at) / 1000 : null;
  setText(card.clock, d === null ? DASH : fmtClock(d));
}
setInterval(() => { for (const card of liveCards.values()) tickLive(card); }, 1000);

// ---------------------------------------------------------------- summary chips + reps

let reps = null;

function renderSummary(data, total) {
  const live = (data._live || []).length;
  const chips = [];
  chips.push(`<span class="chip"><b>${live}</b> live</span>`);
  chips.push(`<span class="chip"><b>${total}</b> ${filtered() ? 'matching' : total === 1 ? 'call' : 'calls'}</span>`);
  if (reps && reps.length) {
    let n = 0, sum = 0, on = 0;
    for (const r of reps) {
      if (!isNum(r.mean_listen_pct) || !isNum(r.calls)) continue;
      n += r.calls; sum += r.mean_listen_pct * r.calls;
      if (isNum(r.on_target_share)) on += r.on_target_share * r.calls;
    }
    if (n > 0) {
      const mean = sum / n;
      chips.push(`<span class="chip" title="Mean listen % over all analyzed calls, weighted by calls"><b class="tone-${zoneOf(mean, target)}">${fmtPct(mean)}%</b> team listen</span>`);
      chips.push(`<span class="chip" title="Share of analyzed calls at or above the ${target}% target"><b>${Math.round((on / n) * 100)}%</b> calls on target</span>`);
    }
  }
  const html = chips.join('');
  if (ui.summary.innerHTML !== html) ui.summary.innerHTML = html;
}

async function loadReps() {
  try {
    const d = await getJSON('/api/reps');
    reps = Array.isArray(d.reps) ? d.reps : [];
    if (isNum(d.target_listen_pct)) target = d.target_listen_pct;
    renderReps();
    if (lastData) renderSummary(lastData, libraryTotal(lastData));
  } catch {
    if (!reps) ui.repsMini.innerHTML = '<li class="rm-empty">Can’t load the reps right now.</li>';
  } finally {
    setTimeout(loadReps, REPS_MS);
  }
}

function renderReps() {
  // filter select
  const names = reps.map((r) => String(r.rep || '')).filter(Boolean).sort((a, b) => a.localeCompare(b));
  if (view.rep && !names.includes(view.rep)) names.push(view.rep);
  const opts = `<option value="">All reps</option>` + names.map((n) => `<option value="${esc(n)}">${esc(n)}</option>`).join('');
  if (ui.rep.dataset.opts !== opts) {
    ui.rep.dataset.opts = opts;
    ui.rep.innerHTML = opts;
    ui.rep.value = view.rep;
  }
  const dl = names.map((n) => `<option value="${esc(n)}"></option>`).join('');
  if (ui.repNames.innerHTML !== dl) ui.repNames.innerHTML = dl;

  // mini list: best listeners first
  if (!reps.length) {
    ui.repsMini.innerHTML = '<li class="rm-empty">No analyzed calls yet. Reps show up here after their first finished call.</li>';
    return;
  }
  const sorted = [...reps].sort((a, b) => (b.mean_listen_pct ?? -1) - (a.mean_listen_pct ?? -1));
  const html = sorted.slice(0, 8).map((r) => {
    const lp = isNum(r.mean_listen_pct) ? r.mean_listen_pct : null;
    const z = zoneOf(lp, target);
    return `<li><a href="${esc(repHref(r.rep))}" class="rm-row">
      ${avatar(r.rep)}
      <span class="rm-main"><span class="rm-name">${esc(r.rep)}</span><span class="rm-sub num">${r.calls ?? 0} ${r.calls === 1 ? 'call' : 'calls'}${r.last_call_at ? ` · last ${esc(fmtShortDay(r.last_call_at))}` : ''}</span></span>
      <span class="rm-val tone-${z} num">${lp === null ? DASH : fmtPct(lp) + '<small>%</small>'}</span>
      <span class="rm-bar tone-${z}"><i style="width:${Math.max(0, Math.min(100, lp ?? 0))}%"></i><b style="left:calc(${target}% - 1px)"></b></span>
    </a></li>`;
  }).join('') + (sorted.length > 8 ? `<li class="rm-more"><a href="/reps">${sorted.length - 8} more →</a></li>` : '');
  if (ui.repsMini.innerHTML !== html) ui.repsMini.innerHTML = html;
}

poll();
loadReps();
