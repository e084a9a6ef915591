// The live page's model of an event's availability, without the DOM (so Node tests it too):
// a snapshot (GET /v1/events/{id}/availability) plus every later change-log entry, applied
// strictly in seq order by the README's rule. Entries hold absolute new values, so applying
// one twice would be harmless, but one applied out of order would not: an entry ahead of a
// missing one waits in `pending` until the gap is filled.

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const count = (v) => (Number.isFinite(v) && v > 0 ? v : 0);

export class Availability {
  constructor() {
    this.seq = -1; // no snapshot yet: entries are ignored until one arrives
    this.seats = new Map(); // label → 'held' | 'sold' (free seats are absent)
    this.seatTotal = 0;
    this.held = 0;
    this.sold = 0;
    this.types = new Map(); // ticket type id → { supply, held, sold }
    this.sale = {};
    this.pending = new Map(); // seq → entry that arrived ahead of a missing one
  }

  // Replaces the state with `snap`'s; entries already waiting that follow it are applied.
  // Throws on a body without a seq (it cannot be followed).
  reset(snap) {
    if (!isObject(snap) || !Number.isFinite(snap.seq)) throw new Error('the snapshot has no seq');
    this.seq = snap.seq;
    this.seats = new Map(Object.entries(isObject(snap.seatStates) ? snap.seatStates : {}));
    const seats = isObject(snap.seats) ? snap.seats : {};
    this.seatTotal = count(seats.total);
    this.held = count(seats.held);
    this.sold = count(seats.sold);
    this.types = new Map();
    for (const t of Array.isArray(snap.ticketTypes) ? snap.ticketTypes : []) {
      if (isObject(t) && typeof t.ticketTypeId === 'string') {
        this.types.set(t.ticketTypeId, { supply: count(t.supply), held: count(t.held), sold: count(t.sold) });
      }
    }
    this.sale = isObject(snap.sale) ? { ...snap.sale } : {};
    for (const seq of this.pending.keys()) if (seq <= this.seq) this.pending.delete(seq);
    this.drain(new Set());
  }

  // Applies `entry` if it is the next one (and whatever waited behind it), adding the labels
  // of seats it changed to `changed`. Returns false when entries are missing before it: it
  // is kept, and the caller fetches the missing ones.
  offer(entry, changed = new Set()) {
    if (!isObject(entry) || !Number.isFinite(entry.seq) || this.seq < 0) return true;
    if (entry.seq <= this.seq) return true; // already applied (the stream and polling overlap)
    if (entry.seq > this.seq + 1) {
      this.pending.set(entry.seq, entry);
      return false;
    }
    this.apply(entry, changed);
    this.drain(changed);
    return true;
  }

  drain(changed) {
    for (let next = this.pending.get(this.seq + 1); next; next = this.pending.get(this.seq + 1)) {
      this.pending.delete(next.seq);
      this.apply(next, changed);
    }
  }

  // What the entry names is set to its new value; the rest stays.
  apply(entry, changed) {
    if (isObject(entry.seats)) {
      for (const [label, now] of Object.entries(entry.seats)) {
        if (now === 'free') this.seats.delete(label);
        else this.seats.set(label, now);
        changed.add(label);
      }
    }
    if (isObject(entry.seatCounts)) {
      this.held = count(entry.seatCounts.held);
      this.sold = count(entry.seatCounts.sold);
    }
    if (isObject(entry.types)) {
      for (const [id, c] of Object.entries(entry.types)) {
        const t = this.types.get(id) || { supply: 0, held: 0, sold: 0 };
        if (isObject(c)) Object.assign(t, { held: count(c.held), sold: count(c.sold) });
        this.types.set(id, t);
      }
    }
    if (isObject(entry.sale)) Object.assign(this.sale, entry.sale);
    this.seq = entry.seq;
  }

  stateOf(label) {
    return this.seats.get(label) || 'free';
  }

  // Per ticket type: supply, held, sold and free (never below zero).
  typeCounts() {
    return [...this.types].map(([id, t]) => ({ id, ...t, free: Math.max(0, t.supply - t.held - t.sold) }));
  }

  seatCounts() {
    const free = Math.max(0, this.seatTotal - this.held - this.sold);
    return { total: this.seatTotal, free, held: this.held, sold: this.sold };
  }
}
