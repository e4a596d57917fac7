// The upload form of the library page: stereo WAVs (+ which channel is the
// rep), one call each, or two mono WAVs of one call, sent as
// multipart/form-data to POST /api/calls with XMLHttpRequest so the upload
// progress can be shown; several stereo files go one after the other,
// each named after its file. After the 202 the (last) new call is followed
// (GET /api/calls/{id} every second) until it is analyzed.
//
// #upload-status reads: idle, uploading, analyzing, done, error.
import { fmtBytes, isNum, setText, setAttr, replayHref, getJSON } from './common.js';

const POLL_MS = 1000;

/**
 * wires the form. options:
 *   onCreated(summary)   the server accepted the upload (202)
 *   onUpdate(summary)    a poll of the new call returned
 */
export function initUpload(form, options = {}) {
  const $ = (id) => document.getElementById(id);
  const el = {
    stereo: $('upload-audio'), rep: $('upload-rep-audio'), cust: $('upload-customer-audio'),
    channel: $('upload-rep-channel'), name: $('upload-name'), repName: $('upload-rep'), customer: $('upload-customer'),
    when: $('upload-started-at'), submit: $('upload-submit'), cancel: $('upload-cancel'),
    status: $('upload-status'), pill: $('upload-pill'), callId: $('upload-call-id'), callWrap: $('upload-call'),
    callLink: $('upload-call-link'), progress: $('upload-progress'), bar: $('upload-bar'), note: $('upload-note'),
    error: $('upload-error'), paneStereo: $('upload-pane-stereo'), paneMono: $('upload-pane-mono'),
  };
  const modeButtons = [...form.querySelectorAll('[data-mode]')];
  let mode = 'stereo';
  let xhr = null;
  let pollTimer = 0;
  let busy = false;
  let nameTouched = false;
  const namePlaceholder = el.name.placeholder;

  // ---------------------------------------------------------------- mode

  function setMode(m) {
    mode = m === 'mono' ? 'mono' : 'stereo';
    modeButtons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.mode === mode)));
    el.paneStereo.hidden = mode !== 'stereo';
    el.paneMono.hidden = mode !== 'mono';
    form.dataset.mode = mode;
  }
  modeButtons.forEach((b) => b.addEventListener('click', () => setMode(b.dataset.mode)));

  // ---------------------------------------------------------------- files

  const zones = [...form.querySelectorAll('.dropzone')];
  for (const zone of zones) {
    const input = zone.querySelector('input[type=file]');
    const clear = zone.querySelector('.dz-clear');
    input.addEventListener('change', () => {
      if (input.files.length && (input === el.rep || input === el.cust)) setMode('mono');
      if (input.files.length && input === el.stereo) setMode('stereo');
      showFile(zone);
      suggestName();
    });
    clear?.addEventListener('click', (ev) => {
      ev.preventDefault();
      ev.stopPropagation();
      input.value = '';
      showFile(zone);
    });
    zone.addEventListener('dragenter', (ev) => { if (hasFiles(ev)) { ev.preventDefault(); zone.classList.add('over'); } });
    zone.addEventListener('dragover', (ev) => { if (hasFiles(ev)) { ev.preventDefault(); ev.dataTransfer.dropEffect = 'copy'; zone.classList.add('over'); } });
    zone.addEventListener('dragleave', (ev) => { if (!zone.contains(ev.relatedTarget)) zone.classList.remove('over'); });
    zone.addEventListener('drop', (ev) => {
      ev.preventDefault();
      ev.stopPropagation();
      zone.classList.remove('over');
      takeFiles([...ev.dataTransfer.files], input);
    });
  }

  // Files dropped anywhere else on the page land in the form too, instead of
  // the browser navigating away to the file.
  let pageDrag = 0;
  window.addEventListener('dragenter', (ev) => { if (hasFiles(ev)) { pageDrag++; form.classList.add('drag-target'); } });
  window.addEventListener('dragleave', () => { pageDrag = Math.max(0, pageDrag - 1); if (!pageDrag) form.classList.remove('drag-target'); });
  window.addEventListener('dragover', (ev) => { if (hasFiles(ev)) ev.preventDefault(); });
  window.addEventListener('drop', (ev) => {
    pageDrag = 0;
    form.classList.remove('drag-target');
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    takeFiles([...ev.dataTransfer.files], null);
    form.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  });

  /** Puts dropped files into the right inputs. Two files => two mono WAVs. */
  function takeFiles(files, input) {
    if (!files.length || busy) return;
    const isCust = (f) => /cust|client|caller|prospect|buyer|right/i.test(f.name);
    const isRep = (f) => /rep|agent|seller|sales|left/i.test(f.name);
    const pair = files.length === 2 && (mode === 'mono' || input === el.rep || input === el.cust ||
      (isRep(files[0]) || isRep(files[1])) && (isCust(files[0]) || isCust(files[1])));
    if (files.length >= 2 && !pair) {
      setFiles(el.stereo, files);
      setMode('stereo');
    } else if (files.length >= 2) {
      let [a, b] = files;
      if (isCust(a) && !isCust(b)) [a, b] = [b, a];
      else if (isRep(b) && !isRep(a)) [a, b] = [b, a];
      setFile(el.rep, a);
      setFile(el.cust, b);
      setMode('mono');
    } else if (input === el.rep || input === el.cust) {
      setFile(input, files[0]);
      setMode('mono');
    } else if (!input && mode === 'mono') {
      setFile(el.rep.files.length && !el.cust.files.length ? el.cust : el.rep, files[0]);
    } else {
      setFile(el.stereo, files[0]);
      setMode('stereo');
    }
    zones.forEach(showFile);
    suggestName();
  }

  function setFile(input, file) { setFiles(input, [file]); }
  function setFiles(input, files) {
    const dt = new DataTransfer();
    files.forEach((f) => dt.items.add(f));
    input.files = dt.files;
  }

  function showFile(zone) {
    const input = zone.querySelector('input[type=file]');
    const all = input.files ? [...input.files] : [];
    const f = all[0];
    zone.classList.toggle('has-file', !!f);
    setText(zone.querySelector('.dz-fname'), all.length > 1 ? `${all.length} files (${all.map((x) => x.name).join(', ')})` : f ? f.name : '');
    setText(zone.querySelector('.dz-fsize'), f ? fmtBytes(all.reduce((n, x) => n + x.size, 0)) : '');
    zone.querySelector('.dz-clear').hidden = !f;
    const warn = all.some((x) => !/\.wav$/i.test(x.name) && !/wav/i.test(x.type));
    zone.classList.toggle('not-wav', !!warn);
  }

  el.name.addEventListener('input', () => { nameTouched = el.name.value.trim() !== ''; });
  // A suggested name is selected when the field is entered, so that what
  // the user types replaces it instead of being appended to it.
  let selectOnFocus = false;
  el.name.addEventListener('focus', () => {
    if (!nameTouched && el.name.value) { el.name.select(); selectOnFocus = true; }
  });
  el.name.addEventListener('mouseup', (ev) => {
    if (selectOnFocus) { ev.preventDefault(); selectOnFocus = false; }
  });
  function suggestName() {
    if (nameTouched) return;
    if (mode === 'stereo' && el.stereo.files.length > 1) {
      el.name.value = '';
      el.name.placeholder = 'each call is named after its file';
      return;
    }
    el.name.placeholder = namePlaceholder;
    const f = (mode === 'mono' ? el.rep.files[0] : el.stereo.files[0]) || el.stereo.files[0] || el.rep.files[0];
    el.name.value = f ? f.name.replace(/\.[^.]+$/, '').replace(/[_]+/g, ' ').replace(/\s+/g, ' ').trim() : '';
  }

  // ---------------------------------------------------------------- status

  function setStatus(st, note = '') {
    setText(el.status, st);
    setAttr(el.pill, 'data-state', st);
    setAttr(form, 'data-status', st);
    setText(el.note, note);
  }

  function setProgress(p, indeterminate = false) {
    el.progress.hidden = p === null;
    el.progress.classList.toggle('indet', indeterminate);
    if (p !== null) {
      el.bar.style.transform = `scaleX(${Math.max(0, Math.min(1, p))})`;
      el.progress.setAttribute('aria-valuenow', String(Math.round(p * 100)));
    }
  }

  function showError(msg) {
    el.error.textContent = msg;
    el.error.hidden = !msg;
  }

  function setBusy(b) {
    busy = b;
    el.submit.disabled = b;
    el.cancel.hidden = !b || !xhr;
    form.querySelectorAll('input, select, [data-mode]').forEach((x) => { x.disabled = b; });
  }

  // ---------------------------------------------------------------- submit

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (busy) return;
    start();
  });
  el.cancel.addEventListener('click', () => {
    if (xhr) { xhr.abort(); }
  });

  function pickFiles() {
    const s = [...el.stereo.files], r = el.rep.files[0], c = el.cust.files[0];
    if (mode === 'stereo' && s.length) return { audio: s };
    if (mode === 'mono' && r && c) return { rep: r, cust: c };
    if (s.length) return { audio: s };
    if (r && c) return { rep: r, cust: c };
    return null;
  }

  function start() {
    showError('');
    const files = pickFiles();
    if (!files) {
      setStatus('error');
      setProgress(null);
      showError(mode === 'mono'
        ? 'Choose both mono WAV files: the rep\u2019s and the customer\u2019s.'
        : 'Choose a stereo WAV file first (or switch to two mono files).');
      return;
    }
    clearTimeout(pollTimer);
    el.callWrap.hidden = true;
    setText(el.callId, '');
    // One request per call: each stereo file is a call of its own.
    const calls = files.audio
      ? files.audio.map((f) => ({ parts: [['audio', f]], size: f.size, name: files.audio.length > 1 ? stem(f.name) : '' }))
      : [{ parts: [['rep_audio', files.rep], ['customer_audio', files.cust]], size: files.rep.size + files.cust.size, name: '' }];
    setBusy(true);
    send(calls, 0);
  }

  function stem(name) {
    return name.replace(/\.[^.]+$/, '');
  }

  function send(calls, i) {
    const one = calls[i];
    const of = calls.length > 1 ? `${i + 1} of ${calls.length} · ` : '';
    const fd = new FormData();
    fd.append('name', one.name || el.name.value.trim());
    fd.append('rep', el.repName.value.trim());
    fd.append('customer', el.customer.value.trim());
    if (el.when && el.when.value) {
      const d = new Date(el.when.value);
      if (!Number.isNaN(d.getTime())) fd.append('started_at', rfc3339(d));
    }
    fd.append('rep_channel', one.parts.length === 1 && el.channel.value === 'right' ? 'right' : 'left');
    for (const [part, f] of one.parts) fd.append(part, f, f.name);
    const size = one.size;

    const req = new XMLHttpRequest();
    xhr = req;
    req.open('POST', '/api/calls');
    req.setRequestHeader('Accept', 'application/json');
    req.upload.onprogress = (e) => {
      const tot = e.lengthComputable ? e.total : size;
      const p = tot ? e.loaded / tot : 0;
      setProgress(p);
      setText(el.note, `${of}${Math.round(p * 100)}% · ${fmtBytes(e.loaded)} of ${fmtBytes(tot)}`);
    };
    req.upload.onload = () => {
      setProgress(1, true);
      setText(el.note, `${of}Uploaded — waiting for the server…`);
    };
    req.onload = () => {
      xhr = null;
      let body = null;
      try { body = JSON.parse(req.responseText); } catch { /* not JSON */ }
      if (req.status >= 200 && req.status < 300 && body && body.id != null) {
        if (i + 1 < calls.length) {
          options.onCreated?.(body);
          send(calls, i + 1);
        } else {
          accepted(body);
        }
        return;
      }
      setBusy(false);
      setStatus('error');
      setProgress(null);
      const which = calls.length > 1 ? `${one.parts[0][1].name}: ` : '';
      const msg = body && typeof body.error === 'string' ? body.error : (req.responseText || '').trim().slice(0, 300);
      if (req.status === 413) showError(`${which}The file is too large for the server${msg ? `: ${msg}` : '.'}`);
      else if (req.status >= 400 && req.status < 500) showError(which + (msg || `The server refused the upload (${req.status}).`));
      else showError(`${which}Upload failed (${req.status || 'no answer'}${msg ? `: ${msg}` : ''}).`);
    };
    req.onerror = () => {
      xhr = null;
      setBusy(false);
      setStatus('error');
      setProgress(null);
      showError('The upload was cut off. Check the connection and try again — a very large file may also have been refused by the server.');
    };
    req.onabort = () => {
      xhr = null;
      setBusy(false);
      setStatus('idle');
      setProgress(null);
      setText(el.note, 'Upload cancelled.');
    };
    setStatus('uploading', `${of}0% · 0 B of ${fmtBytes(size)}`);
    setProgress(0);
    setBusy(true);
    req.send(fd);
  }

  function accepted(c) {
    setBusy(false);
    setText(el.callId, String(c.id));
    el.callLink.href = replayHref(c.id);
    el.callWrap.hidden = false;
    // clear the files so the next upload starts fresh; keep rep / customer
    for (const i of [el.stereo, el.rep, el.cust]) i.value = '';
    zones.forEach(showFile);
    el.name.value = '';
    el.name.placeholder = namePlaceholder;
    nameTouched = false;
    options.onCreated?.(c);
    follow(c);
  }

  function follow(c) {
    clearTimeout(pollTimer);
    if (c.state === 'analyzing' || c.state === 'live') {
      const p = isNum(c.progress) ? c.progress : 0;
      setStatus('analyzing', `Analyzing… ${Math.round(p * 100)}%`);
      setProgress(p);
      pollTimer = setTimeout(async () => {
        let next = c;
        try {
          next = await getJSON('/api/calls/' + encodeURIComponent(c.id));
          options.onUpdate?.(next);
        } catch (e) {
          if (e.status === 404) {
            setStatus('error');
            setProgress(null);
            showError('The call disappeared before its analysis finished (deleted?).');
            return;
          }
        }
        follow(next);
      }, POLL_MS);
      return;
    }
    if (c.state === 'failed') {
      setStatus('error');
      setProgress(null);
      showError(`The analysis failed: ${c.error || 'unknown error'}`);
      return;
    }
    setProgress(null);
    setStatus('done', 'Analyzed and added to the library.');
  }

  setMode('stereo');
  zones.forEach(showFile);
  setStatus('idle', '');
  setProgress(null);

  return { setMode };
}

function hasFiles(ev) {
  return !!ev.dataTransfer && [...(ev.dataTransfer.types || [])].includes('Files');
}

/** RFC 3339 with the local offset: 2025-11-26T10:04:00+01:00. */
function rfc3339(d) {
  const p = (n) => String(Math.floor(Math.abs(n))).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${sign}${p(off / 60)}:${p(off % 60)}`;
}
