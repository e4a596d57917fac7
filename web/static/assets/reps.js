// Entry point of reps.html, served for /reps (the team: GET /api/reps) and
// /reps/{rep} (one rep: averages, the trend of listen % over their calls and
// the list of their calls, from GET /api/calls?rep=...).
import {
  DASH, fmtPct, onTarget, fmtDur, fmtDay, fmtTime, fmtShortDay, fmtFull, isNum, zoneOf, setText, esc, getJSON,
  repHref, replayHref, avatar, pathParam,
} from './common.js';
import { createCallTable, setMonologueFlag, monologueFlagS } from './calltable.js';

const DEFAULT_TARGET = 80;
const PAGE = 50;
const TREND_LIMIT = 500;
const $ = (id) => document.getElementById(id);

let target = DEFAULT_TARGET;
const errBox = $('reps-error');

const repName = pathParam('/reps/') || new URLSearchParams(location.search).get('rep') || '';
if (repName) repView(repName); else teamView();

function showError(msg) {
  errBox.textContent = msg;
  errBox.hidden = !msg;
}

/** "today", "yesterday", "Mon, Nov 24" */
function dayPhrase(iso) {
  const d = fmtDay(iso);
  return d === 'Today' || d === 'Yesterday' ? d.toLowerCase() : d;
}

function setTargetText(t) {
  document.querySelectorAll('.target-pct').forEach((e) => setText(e, String(t)));
}

// =====================================================================
// team
// =====================================================================

function teamView() {
  $('team-view').hidden = false;
  const table = $('reps-table');
  const body = $('reps-body');
  let reps = [];
  let sort = 'mean_listen_pct';
  let order = 'desc';

  table.tHead.addEventListener('click', (ev) => {
    const b = ev.target.closest('button.sort');
    if (!b) return;
    const key = b.dataset.sort;
    if (key === sort) order = order === 'asc' ? 'desc' : 'asc';
    else { sort = key; order = key === 'rep' ? 'asc' : key === 'mean_longest_monologue_s' ? 'asc' : 'desc'; }
    render();
  });

  async function load() {
    try {
      const d = await getJSON('/api/reps');
      reps = Array.isArray(d.reps) ? d.reps.filter((r) => r && r.rep) : [];
      if (isNum(d.target_listen_pct)) target = d.target_listen_pct;
      setMonologueFlag(d.long_monologue_s);
      showError('');
      render();
    } catch (e) {
      showError(`Can't load the reps (${e.message || 'network error'}). Retrying…`);
    } finally {
      setTimeout(load, 15000);
    }
  }

  function value(r, k) {
    if (k === 'rep') return String(r.rep || '').toLowerCase();
    if (k === 'last_call_at') return Date.parse(r.last_call_at || '') || 0;
    return isNum(r[k]) ? r[k] : null;
  }

  function render() {
    setTargetText(target);
    $('reps-loading').hidden = true;
    $('reps-empty').hidden = reps.length > 0;
    table.hidden = reps.length === 0;
    table.tHead.querySelectorAll('th').forEach((th) => {
      const b = th.querySelector('.sort');
      const on = b && b.dataset.sort === sort;
      th.classList.toggle('sorted', !!on);
      if (on) th.setAttribute('aria-sort', order === 'asc' ? 'ascending' : 'descending'); else th.removeAttribute('aria-sort');
    });
    const list = [...reps].sort((a, b) => {
      const va = value(a, sort), vb = value(b, sort);
      if (va === null && vb === null) return 0;
      if (va === null) return 1;
      if (vb === null) return -1;
      const c = va < vb ? -1 : va > vb ? 1 : 0;
      return order === 'asc' ? c : -c;
    });
    body.innerHTML = list.map((r) => {
      const lp = isNum(r.mean_listen_pct) ? r.mean_listen_pct : null;
      const z = zoneOf(lp, target);
      const share = isNum(r.on_target_share) ? r.on_target_share : null;
      const onN = share !== null && isNum(r.calls) ? Math.round(share * r.calls) : null;
      const mono = isNum(r.mean_longest_monologue_s) ? r.mean_longest_monologue_s : null;
      const href = repHref(r.rep);
      return `<tr data-rep="${esc(r.rep)}" data-href="${esc(href)}" tabindex="0">
        <td class="td-who"><a href="${esc(href)}" class="who">${avatar(r.rep)}<span class="who-t"><span class="who-n">${esc(r.rep)}</span></span></a></td>
        <td class="td-bar">
          <div class="team-bar tone-${z}" title="${lp === null ? '' : `Mean listen ${fmtPct(lp)}% (target ${target}%)`}">
            <span class="tb-track"><i style="width:${Math.max(0, Math.min(100, lp ?? 0))}%"></i><b style="left:${target}%"></b></span>
            <span class="tb-v num">${lp === null ? DASH : `${fmtPct(lp)}<small>%</small>`}</span>
          </div>
        </td>
        <td class="r num td-on"><span class="on-v">${share === null ? DASH : Math.round(share * 100) + '%'}</span>${onN === null ? '' : `<span class="on-sub">${onN} of ${r.calls} on target</span>`}</td>
        <td class="r num td-mono${mono !== null && mono >= monologueFlagS() ? ' tone-warn' : ''}">${mono === null ? DASH : esc(fmtDur(mono))}</td>
        <td class="r num td-calls">${isNum(r.calls) ? r.calls : DASH}</td>
        <td class="r td-last"><span title="${esc(fmtFull(r.last_call_at))}">${r.last_call_at ? esc(fmtDay(r.last_call_at)) : DASH}</span></td>
      </tr>`;
    }).join('');

    // summary chips
    let n = 0, sum = 0, on = 0, repsOn = 0;
    for (const r of reps) {
      if (isNum(r.mean_listen_pct) && isNum(r.calls)) { n += r.calls; sum += r.mean_listen_pct * r.calls; }
      if (isNum(r.on_target_share) && isNum(r.calls)) on += r.on_target_share * r.calls;
      if (onTarget(r.mean_listen_pct, target)) repsOn++;
    }
    const chips = [`<span class="chip"><b>${reps.length}</b> ${reps.length === 1 ? 'rep' : 'reps'}</span>`];
    if (n) {
      const mean = sum / n;
      chips.push(`<span class="chip"><b class="tone-${zoneOf(mean, target)}">${fmtPct(mean)}%</b> team listen</span>`);
      chips.push(`<span class="chip"><b>${Math.round((on / n) * 100)}%</b> of ${n} calls on target</span>`);
      chips.push(`<span class="chip" title="Reps whose mean listen % reaches the target"><b>${repsOn}</b> ${repsOn === 1 ? 'rep averages' : 'reps average'} ≥ ${target}%</span>`);
    }
    $('team-summary').innerHTML = chips.join('');
  }

  body.addEventListener('click', (ev) => {
    if (ev.target.closest('a')) return;
    const tr = ev.target.closest('tr[data-href]');
    if (tr) location.href = tr.dataset.href;
  });
  body.addEventListener('keydown', (ev) => {
    const tr = ev.target.closest('tr[data-href]');
    if (tr && ev.key === 'Enter' && ev.target === tr) location.href = tr.dataset.href;
  });

  load();
}

// =====================================================================
// one rep
// =====================================================================

function repView(rep) {
  $('rep-view').hidden = false;
  document.title = `${rep} — Reps — talkratio`;
  setText($('crumb-rep'), rep);
  setText($('rep-name'), rep);
  $('rep-avatar').innerHTML = avatar(rep, 'lg');
  $('rep-library').href = '/?rep=' + encodeURIComponent(rep);

  let summary = null;  // the /api/reps entry
  let trendCalls = null;
  let trendTotal = 0;

  // ---------------------------------------------------------------- calls table (server-side sort + pages)

  const view = { sort: 'started_at', order: 'desc', page: 0 };
  const tableEl = $('rep-calls-table');
  const table = createCallTable(tableEl, {
    hide: ['rep'],
    sort: view.sort,
    order: view.order,
    onSort(s, o) { view.sort = s; view.order = o; view.page = 0; tableEl.classList.add('stale'); loadPage(); },
  });
  $('rep-prev').addEventListener('click', () => { if (view.page > 0) { view.page--; loadPage(); } });
  $('rep-next').addEventListener('click', () => { view.page++; loadPage(); });

  let pageTimer = 0;
  let pageSeq = 0;
  async function loadPage() {
    clearTimeout(pageTimer);
    const my = ++pageSeq;
    const q = new URLSearchParams({ rep, limit: String(PAGE), offset: String(view.page * PAGE), sort: view.sort, order: view.order });
    let busy = false;
    try {
      const d = await getJSON('/api/calls?' + q.toString());
      if (my !== pageSeq) return;
      if (isNum(d.target_listen_pct)) target = d.target_listen_pct;
      setMonologueFlag(d.long_monologue_s);
      const calls = (d.calls || []).filter((c) => c && c.rep === rep);
      const total = isNum(d.total) ? d.total : calls.length;
      tableEl.classList.remove('stale');
      $('rep-calls-loading').hidden = true;
      const n = table.render(calls, target);
      tableEl.hidden = n === 0;
      $('rep-calls-empty').hidden = n !== 0;
      setText($('rep-calls-count'), total ? `${total} ${total === 1 ? 'call' : 'calls'}` : '');
      const offset = isNum(d.offset) ? d.offset : view.page * PAGE;
      $('rep-pager').hidden = total <= PAGE && offset === 0;
      setText($('rep-pager-info'), total ? `Showing ${Math.min(total, offset + 1)}–${Math.min(total, offset + calls.filter((c) => c.state !== 'live').length)} of ${total}` : '');
      setText($('rep-pager-page'), `Page ${Math.floor(offset / PAGE) + 1} of ${Math.max(1, Math.ceil(total / PAGE))}`);
      $('rep-prev').disabled = offset <= 0;
      $('rep-next').disabled = offset + PAGE >= total;
      busy = calls.some((c) => c.state === 'analyzing' || c.state === 'live');
      showError('');
    } catch (e) {
      if (my !== pageSeq) return;
      showError(`Can't load ${rep}'s calls (${e.message || 'network error'}). Retrying…`);
    } finally {
      if (my === pageSeq) pageTimer = setTimeout(loadPage, busy ? 2000 : 15000);
    }
  }

  // ---------------------------------------------------------------- averages + trend

  async function loadSummary() {
    try {
      const [r, t] = await Promise.all([
        getJSON('/api/reps'),
        getJSON('/api/calls?' + new URLSearchParams({ rep, limit: String(TREND_LIMIT), offset: '0', sort: 'started_at', order: 'desc' })),
      ]);
      if (isNum(r.target_listen_pct)) target = r.target_listen_pct;
      setMonologueFlag(r.long_monologue_s);
      summary = (r.reps || []).find((x) => x && x.rep === rep) || null;
      const all = (t.calls || []).filter((c) => c && c.rep === rep && c.state !== 'live');
      trendTotal = isNum(t.total) ? t.total : all.length;
      trendCalls = all.filter((c) => c.state === 'ended' && isNum(c.listen_pct))
        .map((c) => ({ ...c, t: Date.parse(c.started_at) }))
        .filter((c) => Number.isFinite(c.t))
        .sort((a, b) => a.t - b.t);
      if (!summary && !all.length && !(t.calls || []).some((c) => c && c.rep === rep)) {
        // nobody by that name
        $('rep-none').hidden = false;
        setText($('rep-none-name'), rep);
        setText($('rep-sub'), 'No calls');
        for (const el of [$('rep-kpis'), document.querySelector('.trend-card'), $('rep-calls-table').closest('.lib-card'), $('rep-library')]) el.hidden = true;
        clearTimeout(pageTimer);
        pageSeq++;
        return;
      }
      renderSummary(all);
      drawTrend();
    } catch (e) {
      showError(`Can't load ${rep}'s numbers (${e.message || 'network error'}).`);
    }
  }

  function renderSummary(all) {
    setTargetText(target);
    const scored = trendCalls || [];
    const calls = summary && isNum(summary.calls) ? summary.calls : all.length;
    let mean = summary && isNum(summary.mean_listen_pct) ? summary.mean_listen_pct : null;
    if (mean === null && scored.length) mean = scored.reduce((s, c) => s + c.listen_pct, 0) / scored.length;
    let share = summary && isNum(summary.on_target_share) ? summary.on_target_share : null;
    if (share === null && scored.length) share = scored.filter((c) => (typeof c.on_target === 'boolean' ? c.on_target : onTarget(c.listen_pct, target))).length / scored.length;
    let mono = summary && isNum(summary.mean_longest_monologue_s) ? summary.mean_longest_monologue_s : null;
    if (mono === null && scored.length) mono = scored.reduce((s, c) => s + (c.longest_rep_monologue_s || 0), 0) / scored.length;
    const over2 = scored.filter((c) => isNum(c.longest_rep_monologue_s) && c.longest_rep_monologue_s >= monologueFlagS()).length;
    const last = summary && summary.last_call_at ? summary.last_call_at : scored.length ? scored[scored.length - 1].started_at : '';

    const k1 = $('kpi-listen');
    k1.dataset.zone = zoneOf(mean, target);
    setText(k1.querySelector('.v'), mean === null ? DASH : fmtPct(mean));
    k1.querySelector('.unit').hidden = mean === null;
    k1.querySelector('.kpi-bar i').style.width = `${Math.max(0, Math.min(100, mean ?? 0))}%`;
    k1.querySelector('.kpi-bar b').style.left = `calc(${target}% - 1px)`;
    const gap = mean === null ? '' : onTarget(mean, target) ? ' · on target' : ` · ${(target - Number(fmtPct(mean))).toFixed(1)} pp below`;
    k1.querySelector('.kpi-sub').innerHTML = `target ≥ <span class="target-pct">${target}</span>%${esc(gap)}`;

    const k2 = $('kpi-ontarget');
    setText(k2.querySelector('.v'), share === null ? DASH : String(Math.round(share * 100)));
    k2.querySelector('.unit').hidden = share === null;
    setText(k2.querySelector('.kpi-sub'), share === null ? 'no analyzed calls' : `${Math.round(share * calls)} of ${calls} calls at ≥ ${target}%`);

    const k3 = $('kpi-mono');
    setText(k3.querySelector('.v'), mono === null ? DASH : fmtDur(mono));
    k3.classList.toggle('warn', mono !== null && mono >= monologueFlagS());
    setText(k3.querySelector('.kpi-sub'), scored.length ? `${over2} ${over2 === 1 ? 'call' : 'calls'} with a monologue of ${fmtDur(monologueFlagS())} or more` : '');

    const k4 = $('kpi-calls');
    setText(k4.querySelector('.v'), String(calls));
    setText(k4.querySelector('.kpi-sub'), last ? `last ${dayPhrase(last)}${scored.length ? ` · first ${fmtShortDay(scored[0].started_at)}` : ''}` : '');

    setText($('rep-sub'), calls ? `${calls} analyzed ${calls === 1 ? 'call' : 'calls'}${last ? ` · last call ${dayPhrase(last)}` : ''}` : 'No analyzed calls yet');
    if (!calls && !all.length) {
      setText($('rep-calls-empty-text'), `There are no calls for ${rep}. Check the spelling, or pick a rep from the team page.`);
    }
  }

  // ---------------------------------------------------------------- trend chart (inline SVG)

  const wrap = $('trend');
  const tip = document.createElement('div');
  tip.className = 'chart-tip';
  tip.hidden = true;
  new ResizeObserver(() => drawTrend()).observe(wrap);
  let lastW = 0;

  function drawTrend() {
    if (!trendCalls) { wrap.innerHTML = '<div class="trend-empty"><span class="spin big"></span></div>'; return; }
    const pts = trendCalls;
    setText($('trend-note'), pts.length
      ? `${pts.length} analyzed ${pts.length === 1 ? 'call' : 'calls'}${trendTotal > TREND_LIMIT ? ` (the latest ${TREND_LIMIT})` : ''}`
      : '');
    if (pts.length < 2) {
      wrap.innerHTML = `<div class="trend-empty"><p>${pts.length ? 'One analyzed call so far — the trend appears after the second.' : 'No analyzed calls yet.'}</p></div>`;
      return;
    }
    const W = Math.max(280, Math.round(wrap.clientWidth));
    lastW = W;
    const H = W < 600 ? 240 : 300;
    const m = { l: 46, r: 18, t: 14, b: 32 };
    const pw = W - m.l - m.r, ph = H - m.t - m.b;
    let t0 = pts[0].t, t1 = pts[pts.length - 1].t;
    if (t1 - t0 < 86400000) { t0 -= 43200000; t1 += 43200000; }
    const pad = (t1 - t0) * 0.03;
    t0 -= pad; t1 += pad;
    const X = (t) => m.l + ((t - t0) / (t1 - t0)) * pw;
    const Y = (v) => m.t + (1 - v / 100) * ph;

    const parts = [];
    // target zone + grid
    parts.push(`<rect class="tz" x="${m.l}" y="${Y(100)}" width="${pw}" height="${Y(target) - Y(100)}"/>`);
    for (let v = 0; v <= 100; v += 20) {
      parts.push(`<line class="grid" x1="${m.l}" x2="${m.l + pw}" y1="${Y(v)}" y2="${Y(v)}"/>`);
      if (Math.abs(v - target) >= 6) parts.push(`<text class="ylab" x="${m.l - 10}" y="${Y(v) + 4}" text-anchor="end">${v}%</text>`);
    }
    parts.push(`<text class="ylab tgt" x="${m.l - 10}" y="${Y(target) + 4}" text-anchor="end">${target}%</text>`);
    // x ticks
    const DAY = 86400000;
    const spanDays = (t1 - t0) / DAY;
    const maxTicks = Math.max(2, Math.floor(pw / 90));
    const step = [1, 2, 3, 7, 14, 30, 61, 91, 182, 365].find((s) => spanDays / s <= maxTicks) || 365;
    const first = new Date(t0);
    first.setHours(0, 0, 0, 0);
    if (step >= 7 && step < 30) first.setDate(first.getDate() - ((first.getDay() + 6) % 7)); // Mondays
    if (step >= 30) first.setDate(1);
    const tickFmt = new Intl.DateTimeFormat(undefined, step >= 30 ? { month: 'short', year: spanDays > 300 ? '2-digit' : undefined } : { month: 'short', day: 'numeric' });
    for (let d = new Date(first); d.getTime() <= t1; step >= 30 ? d.setMonth(d.getMonth() + Math.round(step / 30)) : d.setDate(d.getDate() + step)) {
      const t = d.getTime();
      if (t < t0) continue;
      const x = X(t);
      parts.push(`<line class="xtick" x1="${x}" x2="${x}" y1="${m.t + ph}" y2="${m.t + ph + 5}"/>`);
      parts.push(`<text class="xlab" x="${x}" y="${H - 8}" text-anchor="middle">${esc(tickFmt.format(d))}</text>`);
    }
    // target line
    parts.push(`<line class="tline" x1="${m.l}" x2="${m.l + pw}" y1="${Y(target)}" y2="${Y(target)}"/>`);
    // per-call line
    parts.push(`<polyline class="pline" points="${pts.map((p) => `${X(p.t).toFixed(1)},${Y(p.listen_pct).toFixed(1)}`).join(' ')}"/>`);
    // moving average (5 calls)
    const avg = pts.map((p, i) => {
      const w = pts.slice(Math.max(0, i - 4), i + 1);
      return [p.t, w.reduce((s, q) => s + q.listen_pct, 0) / w.length];
    });
    parts.push(`<polyline class="aline" points="${avg.map(([t, v]) => `${X(t).toFixed(1)},${Y(v).toFixed(1)}`).join(' ')}"/>`);
    // dots
    const r = pts.length > 120 ? 3.5 : pts.length > 50 ? 4.5 : 5.5;
    pts.forEach((p, i) => {
      parts.push(`<a href="${esc(replayHref(p.id))}" class="dot-a" data-i="${i}" aria-label="${esc(`${p.name || 'Call'}, ${fmtDay(p.started_at)}: listened ${fmtPct(p.listen_pct)}%`)}"><circle class="dot ${zoneOf(p.listen_pct, target)}" cx="${X(p.t).toFixed(1)}" cy="${Y(p.listen_pct).toFixed(1)}" r="${r}"/></a>`);
    });
    parts.push(`<line class="hover-x" x1="0" x2="0" y1="${m.t}" y2="${m.t + ph}" visibility="hidden"/>`);

    wrap.innerHTML = `<svg class="trend" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Listen percentage per call over time, with the ${target}% target">${parts.join('')}</svg>`;
    wrap.append(tip);
    const svg = wrap.querySelector('svg');
    const hx = svg.querySelector('.hover-x');
    let cur = -1;

    const show = (i) => {
      if (i === cur) return;
      svg.querySelectorAll('.dot.on').forEach((d) => d.classList.remove('on'));
      cur = i;
      if (i < 0) { tip.hidden = true; hx.setAttribute('visibility', 'hidden'); return; }
      const p = pts[i];
      const dot = svg.querySelector(`.dot-a[data-i="${i}"] .dot`);
      dot.classList.add('on');
      const x = X(p.t), y = Y(p.listen_pct);
      hx.setAttribute('x1', x); hx.setAttribute('x2', x); hx.setAttribute('visibility', 'visible');
      const z = zoneOf(p.listen_pct, target);
      const mono = isNum(p.longest_rep_monologue_s) ? fmtDur(p.longest_rep_monologue_s) : DASH;
      tip.innerHTML = `<div class="ct-name">${esc(p.name || 'Untitled call')}</div>
        <div class="ct-sub">${esc(fmtDay(p.started_at))} · ${esc(fmtTime(p.started_at))}${p.customer ? ` · ${esc(p.customer)}` : ''}</div>
        <div class="ct-row"><span>Listened</span><b class="tone-${z}">${fmtPct(p.listen_pct)}%</b></div>
        <div class="ct-row"><span>Longest monologue</span><b>${esc(mono)}</b></div>
        <div class="ct-row"><span>5-call average</span><b>${fmtPct(avg[i][1])}%</b></div>
        <div class="ct-hint">Click to replay</div>`;
      tip.hidden = false;
      const tw = tip.offsetWidth, th = tip.offsetHeight;
      let left = x + 14;
      if (left + tw > W - 4) left = x - tw - 14;
      let top = y - th / 2;
      top = Math.max(0, Math.min(H - th, top));
      tip.style.left = `${left}px`;
      tip.style.top = `${top}px`;
    };
    svg.addEventListener('pointermove', (ev) => {
      const rect = svg.getBoundingClientRect();
      const px = ((ev.clientX - rect.left) / rect.width) * W;
      const py = ((ev.clientY - rect.top) / rect.height) * H;
      if (px < m.l - 10 || px > W - m.r + 10) { show(-1); return; }
      let best = -1, bd = Infinity;
      pts.forEach((p, i) => {
        const dx = X(p.t) - px, dy = (Y(p.listen_pct) - py) * 0.35;
        const d = dx * dx + dy * dy;
        if (d < bd) { bd = d; best = i; }
      });
      show(bd < 60 * 60 ? best : -1);
    });
    svg.addEventListener('pointerleave', () => show(-1));
    svg.addEventListener('click', (ev) => {
      if (ev.target.closest('a')) return;
      if (cur >= 0) location.href = replayHref(pts[cur].id);
    });
    svg.querySelectorAll('.dot-a').forEach((a) => {
      a.addEventListener('focus', () => show(Number(a.dataset.i)));
      a.addEventListener('blur', () => show(-1));
    });
  }

  drawTrend();
  loadSummary();
  loadPage();
  void lastW;
}
