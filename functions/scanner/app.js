// OnlineTicket door scanner: plain JS, no framework, no build step.
//
// Online: every scan goes to POST /v1/checkin/scan. Offline (or when that request fails):
// offline passes are verified here (Ed25519 via WebCrypto with the event's public keys and the
// revocation list pulled while online), online codes are shown as "unverifiable", and both are
// queued in localStorage and uploaded to POST /v1/checkin/upload when the network is back.
//
// Served by the Worker at /scanner/ next to jsqr.js (npm `jsqr`, global `jsQR`).
(() => {
  'use strict';

  // ---- settings ---------------------------------------------------------------------------
  const params = new URLSearchParams(location.search);
  const COOLDOWN_MS = nonNegativeInt(params.get('cooldown'), 3000); // same code ignored this long
  const SCAN_EVERY_MS = 200;          // ~5 decodes a second
  const SYNC_EVERY_MS = 30000;
  const UPLOAD_EVERY_MS = 5000;
  const UPLOAD_BATCH = 500;
  const QUEUE_MAX = 20000;            // keeps localStorage (~5 MB) from overflowing
  const MAX_CODE_LEN = 1024;          // longer texts are not ours (the server's limit too)
  const API = new URL('../', location.href); // the page lives at /scanner/, the API at /v1/

  const REASONS = {
    ok: 'valid ticket: admit',
    already_redeemed: 'this ticket was already scanned in',
    revoked: 'this ticket was revoked (refunded or transferred)',
    invalid: 'not a valid ticket code',
    expired: 'the code has expired; ask for a fresh one',
    wrong_event: 'this ticket is for another event',
    not_paid: "this ticket's order is not paid",
    unverifiable: 'online code: needs network',
    error: 'the server could not check this code',
  };
  const VERDICTS = {
    ok: 'ADMIT', already_redeemed: 'ALREADY SCANNED', revoked: 'REVOKED', invalid: 'INVALID',
    expired: 'EXPIRED', wrong_event: 'WRONG EVENT', not_paid: 'NOT PAID',
    unverifiable: 'CANNOT VERIFY', error: 'ERROR',
  };

  // ---- small helpers ----------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const str = (v) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
  const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  const randomHex = (n) => toHex(crypto.getRandomValues(new Uint8Array(n)));

  function nonNegativeInt(text, fallback) {
    const n = Number(text);
    return text !== null && text !== '' && Number.isFinite(n) && n >= 0 ? Math.floor(n) : fallback;
  }

  function formatTime(ms) {
    const d = new Date(typeof ms === 'string' && /^\d+$/.test(ms) ? Number(ms) : ms);
    return Number.isNaN(d.getTime()) ? str(ms) : d.toLocaleTimeString();
  }

  // localStorage with JSON values; never throws (private mode, full quota, corrupt data).
  const store = {
    get(name, fallback) {
      try {
        const raw = localStorage.getItem('otscan.' + name);
        return raw === null ? fallback : JSON.parse(raw);
      } catch { return fallback; }
    },
    set(name, value) {
      try { localStorage.setItem('otscan.' + name, JSON.stringify(value)); return true; } catch { return false; }
    },
    del(name) { try { localStorage.removeItem('otscan.' + name); } catch { /* ignore */ } },
  };

  // base64url without padding → Uint8Array, or null.
  function unb64url(text) {
    if (typeof text !== 'string' || !/^[A-Za-z0-9_-]+$/.test(text) || text.length % 4 === 1) return null;
    try {
      const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4));
      return Uint8Array.from(bin, (c) => c.charCodeAt(0));
    } catch { return null; }
  }

  // ---- state ------------------------------------------------------------------------------
  let deviceId = store.get('deviceId', null);
  if (typeof deviceId !== 'string' || !deviceId) {
    deviceId = 'dev_' + randomHex(8);
    store.set('deviceId', deviceId);
  }

  const session = {
    key: str(store.get('key', '')),
    gate: str(store.get('gate', '')),
    eventId: str(store.get('eventId', '')),
    name: str(store.get('keyName', '')),
  };

  // Per event: public keys, revoked pass ids + cursor, tickets admitted on this device.
  let ev = null;
  function loadEvent(eventId) {
    const saved = store.get('event.' + eventId, null);
    ev = { eventId, keys: [], revoked: new Set(), cursor: 0, admitted: {}, keysSyncedAt: 0, revSyncedAt: 0 };
    if (!isObject(saved)) return;
    if (Array.isArray(saved.keys)) ev.keys = saved.keys.filter(isObject);
    if (Array.isArray(saved.revoked)) ev.revoked = new Set(saved.revoked.filter((p) => typeof p === 'string'));
    if (Number.isFinite(saved.cursor)) ev.cursor = saved.cursor;
    if (isObject(saved.admitted)) ev.admitted = saved.admitted;
    ev.keysSyncedAt = Number(saved.keysSyncedAt) || 0;
    ev.revSyncedAt = Number(saved.revSyncedAt) || 0;
  }
  function saveEvent(e = ev) {
    if (e) store.set('event.' + e.eventId, { ...e, revoked: [...e.revoked] });
  }

  let queue = store.get('queue', []);
  if (!Array.isArray(queue)) queue = [];
  queue = queue.filter((s) => isObject(s) && typeof s.code === 'string' && typeof s.nonce === 'string');
  function saveQueue() {
    if (!store.set('queue', queue)) $('upload-status').textContent = 'warning: cannot save the upload queue on this device';
    $('queue-count').textContent = String(queue.length);
  }

  // ---- API --------------------------------------------------------------------------------
  // → {status, body}; throws only on network failure or timeout.
  async function api(method, path, body, timeoutMs = 10000) {
    const headers = { 'X-Verifier-Key': session.key, Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store', signal: AbortSignal.timeout(timeoutMs) };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(new URL(path.replace(/^\//, ''), API), init);
    const text = await res.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
    return { status: res.status, body: parsed };
  }

  function errorMessage(res) {
    const b = res && res.body;
    if (isObject(b) && typeof b.message === 'string' && b.message) return b.message;
    if (isObject(b) && typeof b.error_code === 'string') return b.error_code;
    return 'HTTP ' + (res ? res.status : '?');
  }

  function showNet() {
    const el = $('net-status');
    el.textContent = navigator.onLine ? 'online' : 'offline';
    el.setAttribute('data-online', String(navigator.onLine));
  }

  // ---- login ------------------------------------------------------------------------------
  function showView() {
    const loggedIn = Boolean(session.key && session.eventId);
    $('login-view').hidden = loggedIn;
    $('scan-view').hidden = !loggedIn;
    if (loggedIn) {
      $('who').textContent = (session.name ? session.name + ' · ' : '') + 'event ' + session.eventId +
        ' · gate ' + session.gate + ' · device ' + deviceId;
    } else {
      $('key').value = '';
      $('gate').value = session.gate;
    }
  }

  async function login(evt) {
    evt.preventDefault();
    const key = $('key').value.trim();
    const gate = Array.from($('gate').value.replace(/\p{Cc}/gu, ' ').trim()).slice(0, 64).join(''); // as the server accepts
    const err = $('login-error');
    err.textContent = '';
    if (!key) { err.textContent = 'Enter the verifier key.'; return; }
    if (!gate) { err.textContent = 'Enter the gate name.'; return; }
    $('login').disabled = true;
    session.key = key;
    try {
      const res = await api('GET', '/v1/checkin/me');
      const me = res.body;
      if (res.status !== 200 || !isObject(me) || typeof me.eventId !== 'string' || !me.eventId) {
        session.key = '';
        err.textContent = res.status === 200 ? 'Unexpected answer from the server.' : errorMessage(res);
        return;
      }
      Object.assign(session, { gate, eventId: me.eventId, name: str(me.name) });
      store.set('key', key); store.set('gate', gate);
      store.set('eventId', session.eventId); store.set('keyName', session.name);
      $('forget-key').disabled = false; // a fresh login stores the key again
      $('key-status').textContent = '';
      loadEvent(session.eventId);
      showView();
      showSync();
      sync();
      upload();
    } catch {
      session.key = '';
      err.textContent = 'Cannot reach the server: log in while online.';
    } finally {
      $('login').disabled = false;
    }
  }

  function logout() {
    stopScanning();
    Object.assign(session, { key: '', eventId: '', name: '' });
    store.del('key'); store.del('eventId'); store.del('keyName');
    ev = null;
    showView();
  }

  // Removes the verifier key from this device's storage (a shared or lost phone must not keep
  // it) while this tab keeps scanning with the key in memory; a reload asks for it again.
  // Queued offline scans stay and upload while this tab is open or after the next login.
  function forgetKey() {
    store.del('key');
    $('forget-key').disabled = true;
    $('key-status').textContent = 'Key forgotten on this device: this tab keeps scanning until it is closed; then the key must be entered again.';
  }

  // On load with a saved session: keep working offline, re-check the key when online.
  async function recheckLogin() {
    if (!navigator.onLine) return;
    try {
      const res = await api('GET', '/v1/checkin/me');
      if (res.status === 401 || res.status === 403) {
        logout();
        $('login-error').textContent = errorMessage(res);
      }
    } catch { /* offline: keep the saved session */ }
  }

  // ---- sync: public keys + revocation list --------------------------------------------------
  let syncing = false;

  function showSync(problem) {
    const el = $('sync-status');
    if (!ev) return;
    const synced = ev.keysSyncedAt > 0 && ev.revSyncedAt > 0;
    el.setAttribute('data-synced', String(synced));
    el.setAttribute('data-revocations', String(ev.revoked.size));
    let text = synced
      ? `synced ${formatTime(Math.min(ev.keysSyncedAt, ev.revSyncedAt))} · ${ev.keys.length} key(s) · ${ev.revoked.size} revoked`
      : 'not synced yet: offline passes cannot be checked';
    if (problem) text += ' · last sync failed: ' + problem;
    el.textContent = text;
  }

  async function syncKeys(e) {
    const res = await api('GET', `/v1/checkin/events/${encodeURIComponent(e.eventId)}/keys`, undefined, 15000);
    if (res.status !== 200 || !isObject(res.body) || !Array.isArray(res.body.keys)) throw new Error('keys: ' + errorMessage(res));
    e.keys = res.body.keys
      .filter((k) => isObject(k) && typeof k.publicKey === 'string' && Number.isInteger(k.generation) &&
        (k.alg === undefined || k.alg === 'Ed25519'))
      .map((k) => ({ kid: str(k.kid), generation: k.generation, alg: 'Ed25519', publicKey: k.publicKey }));
    e.keysSyncedAt = Date.now();
    saveEvent(e);
  }

  async function syncRevocations(e) {
    const base = `/v1/checkin/events/${encodeURIComponent(e.eventId)}/revocations`;
    for (let round = 0; round < 1000; round++) {
      const res = await api('GET', `${base}?since=${encodeURIComponent(e.cursor)}`, undefined, 15000);
      const b = res.body;
      if (res.status !== 200 || !isObject(b) || !Array.isArray(b.items)) throw new Error('revocations: ' + errorMessage(res));
      for (const item of b.items) {
        if (isObject(item) && typeof item.passId === 'string') e.revoked.add(item.passId.toLowerCase());
      }
      const moved = Number.isFinite(b.cursor) && b.cursor !== e.cursor;
      if (moved) e.cursor = b.cursor;
      saveEvent(e);
      if (b.items.length === 0 || !moved || b.more === false) break;
    }
    e.revSyncedAt = Date.now();
    saveEvent(e);
  }

  async function sync() {
    if (syncing || !ev || !navigator.onLine) return;
    syncing = true;
    const target = ev;
    const problems = [];
    const attempt = (job) => job(target).catch((e) => problems.push(e instanceof TypeError ? 'network' : e.message));
    try {
      await Promise.all([attempt(syncKeys), attempt(syncRevocations)]);
    } finally {
      syncing = false;
      if (ev === target) showSync(problems.join('; '));
    }
  }

  // ---- upload queue -------------------------------------------------------------------------
  let uploading = false;

  function enqueue(scan) {
    queue.push(scan);
    if (queue.length > QUEUE_MAX) queue.splice(0, queue.length - QUEUE_MAX);
    saveQueue();
  }

  function unqueue(batch) {
    const sent = new Set(batch.map((s) => s.nonce));
    queue = queue.filter((s) => !sent.has(s.nonce));
    saveQueue();
  }

  // The server checks a whole upload before it records any of it, so one malformed scan gets
  // the batch a 400: then the scans go one at a time and only the one refused alone is dropped.
  async function upload() {
    if (uploading || !session.key || !navigator.onLine) return;
    uploading = true;
    let size = UPLOAD_BATCH;
    let dropped = 0;
    try {
      while (queue.length) {
        const batch = queue.slice(0, size);
        const res = await api('POST', '/v1/checkin/upload', { scans: batch }, 30000);
        if (res.status === 400 && batch.length > 1) { size = 1; continue; }
        if (res.status === 400) { dropped += 1; unqueue(batch); continue; }
        if (res.status !== 200) {
          $('upload-status').textContent = 'upload failed: ' + errorMessage(res);
          return;
        }
        unqueue(batch);
        const results = isObject(res.body) && Array.isArray(res.body.results) ? res.body.results : [];
        const refused = results.filter((r) => isObject(r) && r.result !== 'ok').length;
        $('upload-status').textContent = `uploaded ${batch.length} offline scan(s) at ${formatTime(Date.now())}` +
          (refused ? ` · ${refused} not admitted by the server` : '') +
          (dropped ? ` · ${dropped} malformed scan(s) dropped` : '');
      }
    } catch { /* network: try again later */ } finally {
      uploading = false;
    }
  }

  // ---- offline pass -------------------------------------------------------------------------
  // u8 version(1) | u8 keyGeneration | 8 bytes passId | str eventId | str ticketId | str serial
  // | str seat | str ticketType | u32 validFrom | u32 validUntil | 64-byte Ed25519 signature;
  // str = 1 length byte + UTF-8, integers big-endian. Returns null when it is not such a pass.
  function parsePass(text) {
    const bytes = unb64url(text);
    if (!bytes || bytes.length < 2 + 8 + 5 + 8 + 64 || bytes[0] !== 1) return null;
    const body = bytes.subarray(0, bytes.length - 64);
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    let at = 10;
    const string = () => {
      const len = body[at];
      if (len === undefined || len > 64 || at + 1 + len > body.length) throw new Error('short');
      at += 1 + len;
      return utf8.decode(body.subarray(at - len, at));
    };
    const u32 = () => { at += 4; return view.getUint32(at - 4); }; // throws RangeError past the end
    try {
      const pass = {
        keyGeneration: body[1],
        passId: toHex(body.subarray(2, 10)),
        eventId: string(), ticketId: string(), serial: string(), seat: string(), type: string(),
        validFrom: u32(), validUntil: u32(),
        body, signature: bytes.subarray(bytes.length - 64),
      };
      if (at !== body.length || !pass.eventId || !/^[A-Za-z0-9_-]{1,64}$/.test(pass.ticketId)) return null;
      return pass;
    } catch { return null; }
  }

  // → 'ok' | 'bad' | 'no-key'
  async function checkSignature(e, pass) {
    const key = e.keys.find((k) => k.generation === pass.keyGeneration);
    const raw = key && unb64url(key.publicKey);
    if (!raw || raw.length !== 32) return 'no-key';
    try {
      const pk = await crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
      return (await crypto.subtle.verify({ name: 'Ed25519' }, pk, pass.signature, pass.body)) ? 'ok' : 'bad';
    } catch { return 'bad'; }
  }

  // → {result, reason, ticket, firstScan?, queue} (queue: whether to upload the scan later).
  async function checkPassOffline(text, scan) {
    const e = ev; // stays the same event even if someone logs out meanwhile
    const pass = parsePass(text);
    if (!pass) return { result: 'invalid', reason: REASONS.invalid, ticket: null, queue: false };
    const ticket = { id: pass.ticketId, serial: pass.serial, seat: pass.seat, type: pass.type, holder: null };
    if (pass.eventId !== e.eventId) return { result: 'wrong_event', reason: REASONS.wrong_event, ticket, queue: true };
    if (!globalThis.crypto || !crypto.subtle) {
      return { result: 'unverifiable', reason: 'this browser cannot check passes (the page needs HTTPS)', ticket, queue: true };
    }
    const signature = await checkSignature(e, pass);
    if (signature !== 'ok') {
      const reason = signature === 'no-key'
        ? `no event key of generation ${pass.keyGeneration} on this device (sync while online)`
        : 'signature does not verify with the event key';
      return { result: 'invalid', reason, ticket: null, queue: true };
    }
    const now = Math.floor(Date.now() / 1000);
    if (now < pass.validFrom || now > pass.validUntil) {
      return { result: 'expired', reason: 'this pass is not valid at this time', ticket, queue: true };
    }
    if (e.revoked.has(pass.passId)) return { result: 'revoked', reason: REASONS.revoked, ticket, queue: true };
    const first = e.admitted[pass.ticketId];
    if (first) return { result: 'already_redeemed', reason: REASONS.already_redeemed, ticket, firstScan: first, queue: true };
    e.admitted[pass.ticketId] = { at: scan.scannedAt, gate: scan.gate, deviceId: scan.deviceId };
    saveEvent(e);
    return { result: 'ok', reason: REASONS.ok, ticket, queue: true };
  }

  // ---- one decoded code ---------------------------------------------------------------------
  const ONLINE_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/; // base64url(payload) "." base64url(mac)

  async function checkOffline(text, scan) {
    if (!text.includes('.')) return checkPassOffline(text, scan);
    if (!ONLINE_SHAPE.test(text)) return { result: 'invalid', reason: REASONS.invalid, ticket: null, queue: false };
    return { result: 'unverifiable', reason: REASONS.unverifiable, ticket: null, queue: true };
  }

  async function handleCode(text) {
    if (!ev) return;
    if (text.length > MAX_CODE_LEN) {
      show({ result: 'invalid', reason: REASONS.invalid }, navigator.onLine ? 'online' : 'offline');
      return;
    }
    const scan = { code: text, gate: session.gate, deviceId, scannedAt: Date.now(), nonce: randomHex(16) };
    let res = null;
    if (navigator.onLine) {
      try { res = await api('POST', '/v1/checkin/scan', scan, 6000); } catch { res = null; } // network → offline
    }
    if (!res) {
      const r = await checkOffline(text, scan);
      if (r.queue) enqueue(scan);
      show(r, 'offline');
      return;
    }
    const b = res.body;
    if (res.status !== 200 || !isObject(b) || typeof b.result !== 'string') {
      show({ result: 'error', reason: errorMessage(res) }, 'online');
      return;
    }
    rememberServerResult(b, scan);
    show({ result: b.result, reason: str(b.reason), ticket: b.ticket, firstScan: b.firstScan }, 'online');
  }

  // Admissions the server reports also count for later offline checks on this device.
  function rememberServerResult(b, scan) {
    const id = isObject(b.ticket) ? b.ticket.id : null;
    if (!ev || typeof id !== 'string' || ev.admitted[id]) return;
    if (b.result === 'ok') {
      ev.admitted[id] = { at: scan.scannedAt, gate: scan.gate, deviceId: scan.deviceId };
    } else if (b.result === 'already_redeemed' && isObject(b.firstScan)) {
      ev.admitted[id] = { at: b.firstScan.at, gate: str(b.firstScan.gate), deviceId: str(b.firstScan.deviceId) };
    } else {
      return;
    }
    saveEvent();
  }

  // ---- the result panel -----------------------------------------------------------------------
  let scanCount = 0;
  function show(r, mode) {
    const el = $('result');
    const result = Object.hasOwn(VERDICTS, r.result) ? r.result : 'error';
    el.setAttribute('data-result', result);
    el.setAttribute('data-mode', mode);
    el.setAttribute('data-scan', String(++scanCount));
    $('verdict').textContent = VERDICTS[result];
    $('reason').textContent = r.reason || REASONS[result] || (result === 'error' ? '' : 'unknown result ' + str(r.result));

    const dl = $('ticket');
    dl.replaceChildren();
    const t = isObject(r.ticket) ? r.ticket : {};
    for (const [label, value] of [['Serial', t.serial], ['Seat', t.seat], ['Type', t.type], ['Holder', t.holder]]) {
      if (!str(value)) continue;
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent = str(value);
      dl.append(dt, dd);
    }
    dl.hidden = !dl.firstChild;

    const f = result === 'already_redeemed' && isObject(r.firstScan) ? r.firstScan : null;
    $('first-scan').textContent = f
      ? `First scan: gate ${str(f.gate) || '?'} at ${formatTime(f.at)}` + (str(f.deviceId) ? ` (device ${str(f.deviceId)})` : '')
      : '';
    $('mode').textContent = (mode === 'offline' ? 'checked offline on this device' : 'checked online') +
      ' · ' + new Date().toLocaleTimeString();
    try { navigator.vibrate?.(result === 'ok' ? 80 : [200, 100, 200]); } catch { /* ignore */ }
  }

  // ---- camera + decoding ----------------------------------------------------------------------
  let scanning = false;
  let stream = null;
  let timer = null;
  let decode = null;
  let lastText = null;
  let lastAt = 0;

  // BarcodeDetector when it can read QR codes (Linux Chromium has no engine), else jsQR.
  async function pickDecoder() {
    try {
      if ('BarcodeDetector' in window && (await BarcodeDetector.getSupportedFormats()).includes('qr_code')) {
        const detector = new BarcodeDetector({ formats: ['qr_code'] });
        return async (video) => (await detector.detect(video))[0]?.rawValue ?? null;
      }
    } catch { /* fall back to jsQR */ }
    if (typeof window.jsQR !== 'function') return null;
    const canvas = $('canvas');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    return async (video) => {
      const scale = Math.min(1, 960 / Math.max(video.videoWidth, video.videoHeight));
      const w = Math.round(video.videoWidth * scale);
      const h = Math.round(video.videoHeight * scale);
      if (!w || !h) return null;
      if (canvas.width !== w) canvas.width = w;
      if (canvas.height !== h) canvas.height = h;
      ctx.drawImage(video, 0, 0, w, h);
      return window.jsQR(ctx.getImageData(0, 0, w, h).data, w, h)?.data ?? null;
    };
  }

  async function startScanning() {
    if (scanning) return;
    const camErr = $('camera-error');
    camErr.textContent = '';
    if (!navigator.mediaDevices?.getUserMedia) {
      camErr.textContent = 'No camera access in this browser (the page needs HTTPS).';
      return;
    }
    $('start').disabled = true;
    try {
      decode = await pickDecoder();
      if (!decode) throw new Error('no QR decoder available');
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
      const video = $('video');
      video.srcObject = stream;
      $('camera').hidden = false;
      await video.play();
      scanning = true;
      lastText = null;
      $('start').hidden = true;
      $('stop').hidden = false;
      $('verdict').textContent = 'SCANNING';
      $('reason').textContent = 'Point the camera at a ticket.';
      timer = setTimeout(tick, 0);
    } catch (e) {
      stopScanning();
      camErr.textContent = 'Camera: ' + (e?.message || String(e));
    } finally {
      $('start').disabled = false;
    }
  }

  function stopScanning() {
    scanning = false;
    clearTimeout(timer);
    stream?.getTracks().forEach((t) => t.stop());
    stream = null;
    $('video').srcObject = null;
    $('camera').hidden = true;
    $('start').hidden = false;
    $('stop').hidden = true;
  }

  // One decode, then the next one SCAN_EVERY_MS later (never two at once).
  async function tick() {
    if (!scanning) return;
    const video = $('video');
    try {
      if (video.readyState >= 2) {
        const text = await decode(video);
        const fresh = text !== lastText || Date.now() - lastAt >= COOLDOWN_MS;
        if (scanning && typeof text === 'string' && text && fresh) {
          lastText = text;
          await handleCode(text);
          lastAt = Date.now(); // the cooldown starts once the result is on screen
        }
      }
    } catch (e) {
      show({ result: 'error', reason: 'scanner error: ' + (e?.message || String(e)) }, navigator.onLine ? 'online' : 'offline');
    }
    if (scanning) timer = setTimeout(tick, SCAN_EVERY_MS);
  }

  // ---- wiring ---------------------------------------------------------------------------------
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', () => {
    if (queue.length && !confirm(`${queue.length} offline scan(s) are not uploaded yet; they stay queued. Log out?`)) return;
    logout();
  });
  $('forget-key').addEventListener('click', forgetKey);
  $('start').addEventListener('click', startScanning);
  $('stop').addEventListener('click', stopScanning);
  window.addEventListener('online', () => { showNet(); upload(); sync(); });
  window.addEventListener('offline', showNet);
  setInterval(() => { showNet(); upload(); }, UPLOAD_EVERY_MS);
  setInterval(sync, SYNC_EVERY_MS);

  showNet();
  saveQueue();
  if (session.key && session.eventId) {
    loadEvent(session.eventId);
    showView();
    showSync();
    recheckLogin();
    sync();
    upload();
  } else {
    showView();
  }
})();
