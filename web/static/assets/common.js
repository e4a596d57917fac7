// Shared helpers for the talkratio pages (ES module, no dependencies).

export const DASH = '\u2013'; // shown for "no value yet"

// The one verdict (see tally.RoundListen and tally.OnTarget): the listen %
// rounded to a tenth is THE number, shown as such everywhere, and a call is
// on target when that number reaches the target. The server already sends
// listen figures rounded; figures the pages work out themselves (a mean, a
// fallback) go through the same rounding before they are shown or judged.

/** A listen % rounded to a tenth, as the server rounds it; null for none. */
export function roundPct(v) {
  return isNum(v) ? Math.round(v * 10) / 10 : null;
}

/** Whether a listen % is on target: its rounded figure reaches the target. */
export function onTarget(pct, target) {
  const p = roundPct(pct);
  return p !== null && p >= (isNum(target) ? target : 80);
}

/** Whole-call / window listen % as text: "71.3", or "–" when null. */
export function fmtPct(v) {
  const p = roundPct(v);
  return p === null ? DASH : p.toFixed(1);
}

/** Seconds with one decimal ("20.1"). */
export function fmtSec1(v) {
  return isNum(v) ? v.toFixed(1) : '0.0';
}

/** Duration as m:ss or h:mm:ss. */
export function fmtClock(s) {
  if (!isNum(s) || s < 0) s = 0;
  s = Math.floor(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function isNum(v) {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * Zone of a listen % against the target: "good" (>= target), "warn" (less
 * than 10 percentage points below), "bad" (below that) or "none" (no value).
 */
export function zoneOf(pct, target) {
  const p = roundPct(pct);
  if (p === null) return 'none';
  const t = isNum(target) ? target : 80;
  if (onTarget(p, t)) return 'good';
  if (p >= t - 10) return 'warn';
  return 'bad';
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

/** Local start time: "10:04" today, "Nov 26, 10:04" otherwise. */
export function fmtStarted(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return DASH;
  const now = new Date();
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return sameDay ? timeFmt.format(d) : dateTimeFmt.format(d);
}

export function fmtFull(iso) {
  const d = new Date(iso);
  return !iso || Number.isNaN(d.getTime()) ? '' : fullFmt.format(d);
}

/** Set textContent only when it changes (avoids needless style/layout work). */
export function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

export function setAttr(el, name, value) {
  if (el && el.getAttribute(name) !== value) el.setAttribute(name, value);
}

/** Minimal HTML escaping for template strings. */
export function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

/** Reads a short message out of an error response ({"error": "..."} or plain text). */
export async function errorText(resp) {
  let body = '';
  try { body = (await resp.text()).trim(); } catch { /* ignore */ }
  if (body.startsWith('{')) {
    try {
      const j = JSON.parse(body);
      if (j && typeof j.error === 'string') body = j.error;
    } catch { /* keep raw */ }
  }
  return body || `${resp.status} ${resp.statusText}`.trim();
}

// ---------------------------------------------------------------- library helpers

/** Where each kind of page lives. */
export const liveHref = (id) => '/calls/' + encodeURIComponent(id);
export const replayHref = (id) => '/replay/' + encodeURIComponent(id);
export const repHref = (rep) => '/reps/' + encodeURIComponent(rep);

/** Page for a call summary: live calls open the live meter, the rest replay. */
export function callHref(c) {
  return c && c.state === 'live' ? liveHref(c.id) : replayHref(c.id);
}

/** The URL-decoded path segment after `prefix` ("/replay/"), or "". */
export function pathParam(prefix) {
  const p = location.pathname;
  if (!p.startsWith(prefix)) return '';
  const raw = p.slice(prefix.length).replace(/\/+$/, '');
  try { return decodeURIComponent(raw); } catch { return raw; }
}

/** A length of time for people: "48 s", "2:14", "1:02:05". */
export function fmtDur(s) {
  if (!isNum(s)) return DASH;
  return s < 60 ? `${Math.round(s)} s` : fmtClock(s);
}

const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', month: 'short', day: 'numeric' });
const dayYearFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', year: 'numeric' });
const shortDayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

function startOfDay(d) { return new Date(d.getFullYear(), d.getMonth(), d.getDate()); }

/** Local day of an RFC 3339 time: "Today", "Yesterday", "Mon, Nov 24", "Nov 24, 2025". */
export function fmtDay(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return DASH;
  const days = Math.round((startOfDay(new Date()) - startOfDay(d)) / 86400000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  if (d.getFullYear() !== new Date().getFullYear()) return dayYearFmt.format(d);
  return dayFmt.format(d);
}

/** Local day without weekday: "Nov 24" (with the year when it is not this year). */
export function fmtShortDay(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return DASH;
  return d.getFullYear() !== new Date().getFullYear() ? dayYearFmt.format(d) : shortDayFmt.format(d);
}

/** Local time of day: "10:04". */
export function fmtTime(iso) {
  const d = new Date(iso);
  return !iso || Number.isNaN(d.getTime()) ? '' : timeFmt.format(d);
}

/** Bytes as "840 KB" / "12.4 MB". */
export function fmtBytes(n) {
  if (!isNum(n)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** Send the user to sign in (the service requires tokens), then back here. */
export function signIn() {
  location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
}

/** GET a JSON document; throws an Error with .status and the server's message. */
export async function getJSON(url, opts = {}) {
  const r = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store', ...opts });
  if (r.status === 401) signIn();
  if (!r.ok) {
    const e = new Error(await errorText(r));
    e.status = r.status;
    throw e;
  }
  return r.json();
}

/** One or two initials of a name, for avatars. */
export function initials(name) {
  const parts = String(name || '').trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return '?';
  const a = parts[0][0] || '';
  const b = parts.length > 1 ? parts[parts.length - 1][0] : '';
  return (a + b).toUpperCase();
}

/** A stable hue for a name (avatars). */
export function hueOf(name) {
  let h = 0;
  for (const ch of String(name || '')) h = (h * 31 + ch.codePointAt(0)) % 360;
  return (h + 200) % 360;
}

/** Avatar markup for a rep. */
export function avatar(name, cls = '') {
  return `<span class="avatar ${cls}" style="--h:${hueOf(name)}" aria-hidden="true">${esc(initials(name))}</span>`;
}

/** Local calendar date of a Date as YYYY-MM-DD. */
export function isoDay(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** The overlap of two sorted lists of disjoint [start, end] spans. */
export function intersect(a, b) {
  const out = [];
  let i = 0, j = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a[i][0], b[j][0]);
    const hi = Math.min(a[i][1], b[j][1]);
    if (hi > lo) out.push([lo, hi]);
    if (a[i][1] < b[j][1]) i++; else j++;
  }
  return out;
}
