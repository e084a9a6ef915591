// OnlineTicket live seat map: plain JS, no framework, no build step.
//
// Takes a snapshot (GET /v1/events/{id}/availability, with the change-log seq it reflects),
// then applies every later change-log entry in seq order: from the stream
// (/availability/stream, server-sent events) while it works, from /availability/updates
// (polling) while it does not. The model (state.js) applies an entry only when its seq is the
// next one, so what the page shows is always "snapshot + every entry up to seq", whichever way
// the entries arrived; a cursor the log no longer covers (409 SEQ_TOO_OLD, or an
// `event: snapshot` on the stream) means a fresh snapshot. Served at /events/{id}/live; its
// files at /live/ (ES modules: strict mode, deferred, loaded under script-src 'self').
import { Availability } from './state.js';

const POLL_MS = 2000;        // the fallback's pace (the updates route caches answers ~1 s)
const STALL_MS = 3000;       // a stream still not open this long after an error: poll instead
const RETRY_MAX_MS = 30000;  // longest wait between attempts to get the stream back
const LIMIT = 1000;          // entries per /updates answer (the route's maximum)

const $ = (id) => document.getElementById(id);
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const match = /^\/events\/([^/]+)\/live\/?$/.exec(location.pathname);
const eventId = match ? decodeURIComponent(match[1]) : '';
const api = `/v1/events/${encodeURIComponent(eventId)}/availability`;

const model = new Availability();
const seatEls = new Map();   // label → element
const typeRows = new Map();  // ticket type id → row element
let names = new Map();       // ticket type id → name

function applySnapshot(snap) {
  model.reset(snap);
  renderAll();
}

// Offers an entry to the model and shows what it changed; false: entries are missing.
function offer(entry) {
  const changed = new Set();
  const next = model.offer(entry, changed);
  for (const label of changed) renderSeat(label);
  if (changed.size > 0 || next) renderCounts();
  return next;
}

// ---- drawing ----------------------------------------------------------------------------
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// One element per seat, grouped by section and row in the organizer's order.
function drawSeats(items) {
  const map = $('seat-map');
  const sections = new Map();
  for (const s of items) {
    if (!isObject(s) || typeof s.label !== 'string') continue;
    const sectionName = typeof s.section === 'string' ? s.section : '';
    let section = sections.get(sectionName);
    if (!section) {
      section = { node: el('div', 'section'), rows: new Map() };
      if (sectionName) section.node.append(el('div', 'section-name', sectionName));
      sections.set(sectionName, section);
      map.append(section.node);
    }
    const rowName = typeof s.row === 'string' ? s.row : '';
    let row = section.rows.get(rowName);
    if (!row) {
      row = el('div', 'row');
      row.append(el('span', 'row-name', rowName));
      section.rows.set(rowName, row);
      section.node.append(row);
    }
    const seat = el('span', 'seat', typeof s.number === 'string' && s.number ? s.number : s.label);
    seat.title = s.label;
    seat.dataset.seat = s.label;
    seat.dataset.state = 'free';
    seatEls.set(s.label, seat);
    row.append(seat);
  }
  $('seat-section').hidden = seatEls.size === 0;
}

function renderSeat(label) {
  const seat = seatEls.get(label);
  if (seat) seat.dataset.state = model.stateOf(label);
}

function renderAll() {
  for (const label of seatEls.keys()) renderSeat(label);
  renderCounts();
}

function renderCounts() {
  for (const t of model.typeCounts()) {
    let row = typeRows.get(t.id);
    if (!row) {
      row = el('tr');
      row.dataset.type = t.id;
      row.append(el('td', '', names.get(t.id) || t.id));
      for (const field of ['free', 'held', 'sold', 'supply']) {
        const cell = el('td');
        cell.dataset.field = field;
        row.append(cell);
      }
      typeRows.set(t.id, row);
      $('types-body').append(row);
    }
    for (const cell of row.querySelectorAll('td[data-field]')) cell.textContent = String(t[cell.dataset.field]);
  }
  const { total, free, held, sold } = model.seatCounts();
  const counts = $('seat-counts');
  Object.assign(counts.dataset, { free: String(free), held: String(held), sold: String(sold) });
  counts.textContent = `${free} free · ${held} held · ${sold} sold of ${total}`;
  renderSale();
  const seq = $('seq');
  seq.dataset.seq = String(model.seq);
  seq.textContent = String(model.seq);
}

function renderSale() {
  const s = model.sale;
  const now = Date.now();
  let text = 'on sale';
  let label = 'open';
  if (s.paused === true) [text, label] = ['sales are paused', 'paused'];
  else if (Number.isFinite(s.opensAt) && s.opensAt > now) [text, label] = [`opens ${new Date(s.opensAt).toLocaleString()}`, 'not-open'];
  else if (Number.isFinite(s.closesAt) && s.closesAt <= now) [text, label] = ['sales have closed', 'closed'];
  $('sale').textContent = text;
  $('sale').dataset.state = label;
}

function setMode(mode, text) {
  $('connection').dataset.mode = mode;
  $('connection').textContent = text || mode;
}

function showError(text) {
  $('error').textContent = text;
}

// ---- network ----------------------------------------------------------------------------
// `no-cache`: this browser revalidates instead of reusing a second-old answer (a poll that
// repeats its URL would otherwise see the same head for up to two polls); a CDN in front
// still collapses a crowd's polls, as it does not take orders from the client's headers.
async function getJson(url) {
  const res = await fetch(url, { cache: 'no-cache', headers: { accept: 'application/json' } });
  const body = await res.json().catch(() => null);
  return { status: res.status, body };
}

async function takeSnapshot() {
  const { status, body } = await getJson(api);
  if (status !== 200) throw new Error((isObject(body) && body.message) || `availability: HTTP ${status}`);
  applySnapshot(body);
}

// Follows /updates from the current seq until the log's head; a cursor the log dropped
// means a new snapshot. Runs once at a time.
let catching = null;
function catchUp() {
  catching = catching || (async () => {
    for (;;) {
      const { status, body } = await getJson(`${api}/updates?since_seq=${model.seq}&limit=${LIMIT}`);
      if (status === 409 && isObject(body) && body.error_code === 'SEQ_TOO_OLD') return takeSnapshot();
      if (status !== 200 || !isObject(body) || !Array.isArray(body.updates)) {
        throw new Error((isObject(body) && body.message) || `updates: HTTP ${status}`);
      }
      for (const entry of body.updates) offer(entry);
      if (body.updates.length === 0 || !(body.toSeq < body.headSeq)) return undefined;
    }
  })().finally(() => { catching = null; });
  return catching;
}

let source = null;
let stallTimer = 0;
let pollTimer = 0;
let retryMs = POLL_MS;
let nextStreamAt = 0;

function openStream() {
  if (typeof EventSource !== 'function') return poll();
  closeStream();
  // A reconnect of this EventSource sends Last-Event-ID (the last entry it delivered);
  // since_seq covers the first connection.
  source = new EventSource(`${api}/stream?since_seq=${model.seq}`);
  source.addEventListener('open', () => {
    clearTimeout(stallTimer);
    stallTimer = 0;
    clearTimeout(pollTimer);
    retryMs = POLL_MS;
    setMode('live');
    showError('');
  });
  source.addEventListener('update', (e) => {
    let entry;
    try { entry = JSON.parse(e.data); } catch { return; }
    if (!offer(entry)) catchUp().catch(() => {});
  });
  source.addEventListener('snapshot', (e) => {
    try { applySnapshot(JSON.parse(e.data)); } catch (err) { showError(String(err.message || err)); }
  });
  source.addEventListener('error', () => {
    if (!source) return;
    // CLOSED: the server refused the stream (4xx/5xx): poll. CONNECTING: the browser
    // retries by itself (how a stream that ended on schedule comes back); if no retry has
    // opened STALL_MS after the first error (its retries must not push that back), poll.
    if (!stallTimer) {
      stallTimer = setTimeout(() => {
        stallTimer = 0;
        if (source && source.readyState !== EventSource.OPEN) fallBack();
      }, STALL_MS);
    }
    return undefined;
  });
}

function closeStream() {
  clearTimeout(stallTimer);
  stallTimer = 0;
  if (source) source.close();
  source = null;
}

function fallBack() {
  closeStream();
  nextStreamAt = Date.now() + retryMs;
  retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  poll();
}

const streaming = () => source !== null && source.readyState === EventSource.OPEN;

// One poll, then the next one or the stream again. A stream that opened meanwhile takes
// over; one still connecting decides by its own `open` or `error`.
let pollFailed = false;
async function poll() {
  clearTimeout(pollTimer);
  try {
    await catchUp();
    // The server is reachable again after a failure: try the stream now, not at its backoff.
    if (pollFailed) [pollFailed, nextStreamAt, retryMs] = [false, 0, POLL_MS];
    if (streaming()) return undefined;
    setMode('polling');
    showError('');
  } catch (err) {
    pollFailed = true;
    if (streaming()) return undefined;
    setMode(navigator.onLine === false ? 'offline' : 'error');
    showError(`cannot reach the server (${String(err.message || err)}); retrying`);
  }
  if (source) return undefined;
  if (Date.now() >= nextStreamAt && typeof EventSource === 'function') return openStream();
  pollTimer = setTimeout(poll, POLL_MS);
  return undefined;
}

// Back online: catch up now rather than at the next tick.
window.addEventListener('online', () => {
  if (!source) {
    nextStreamAt = 0;
    poll();
  }
});

async function start() {
  if (!/^evt_[0-9a-f]{20}$/.test(eventId)) throw new Error('this address names no event');
  const [seats, types, event] = await Promise.all([
    getJson(`/v1/events/${encodeURIComponent(eventId)}/seats`),
    getJson(`/v1/events/${encodeURIComponent(eventId)}/ticket-types`),
    getJson(`/v1/events/${encodeURIComponent(eventId)}`),
  ]);
  if (seats.status === 404) throw new Error('there is no such event');
  if (seats.status !== 200 || !isObject(seats.body)) throw new Error(`seats: HTTP ${seats.status}`);
  if (isObject(types.body) && Array.isArray(types.body.items)) {
    names = new Map(types.body.items.filter(isObject).map((t) => [t.id, String(t.name)]));
  }
  if (isObject(event.body) && typeof event.body.title === 'string') {
    $('title').textContent = event.body.title;
    document.title = `${event.body.title}: live`;
  }
  drawSeats(Array.isArray(seats.body.items) ? seats.body.items : []);
  await takeSnapshot();
  openStream();
}

start().catch((err) => {
  setMode('error', 'not connected');
  showError(String(err.message || err));
  // A first load that failed on the network is tried again; a missing event is not.
  if (!/no such event|names no event/.test(String(err.message))) setTimeout(() => location.reload(), 10000);
});
