// Shared helpers for the talkratio pages (ES module, no dependencies).

export const DASH = '\u2013'; // shown for "no value yet"

/** Whole-call / window listen % as text: "71.3", or "–" when null. */
export function fmtPct(v) {
  return isNum(v) ? v.toFixed(1) : DASH;
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
  if (!isNum(pct)) return 'none';
  const t = isNum(target) ? target : 80;
  if (pct >= t) return 'good';
  if (pct >= t - 10) return 'warn';
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
