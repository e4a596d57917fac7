// Entry point of call.html, served for /calls/{id}: the id is the last path
// segment (call.html?id=... also works, for local development).
import { mountMeter } from './meter.js';

function callIdFromLocation() {
  const q = new URLSearchParams(location.search).get('id');
  if (q) return q;
  const parts = location.pathname.split('/').filter(Boolean);
  const lastSeg = parts[parts.length - 1] || '';
  try { return decodeURIComponent(lastSeg); } catch { return lastSeg; }
}

const id = callIdFromLocation();
mountMeter(document.getElementById('app'), id && id !== 'call.html' ? id : '-', {
  fullscreenButton: true,
  title: true,
});
