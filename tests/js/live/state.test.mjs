// Unit tests of the live page's model (functions/live/state.js): the README's apply rule, and
// entries that arrive twice, out of order, or across a new snapshot.
// Run: node --test tests/js/live/state.test.mjs (no server needed).

import { test } from "node:test";
import assert from "node:assert/strict";
import { Availability } from "../../../functions/live/state.js";

const snapshot = (seq, extra = {}) => ({
  eventId: "evt_0123456789abcdef0123",
  seq,
  at: 1,
  ticketTypes: [
    { ticketTypeId: "tt_seated", supply: 4, held: 1, sold: 1, free: 2 },
    { ticketTypeId: "tt_ga", supply: 10, held: 0, sold: 0, free: 10 },
  ],
  seats: { total: 4, free: 2, held: 1, sold: 1 },
  seatStates: { "A-1": "held", "A-2": "sold" },
  sale: { paused: false, opensAt: null, closesAt: null },
  ...extra,
});

const view = (m) => ({
  seq: m.seq,
  seats: Object.fromEntries(["A-1", "A-2", "A-3", "A-4"].map((l) => [l, m.stateOf(l)])),
  counts: m.seatCounts(),
  types: m.typeCounts(),
  sale: m.sale,
});

test("a snapshot, then entries by the rule", () => {
  const m = new Availability();
  m.reset(snapshot(10));
  const changed = new Set();
  assert.equal(
    m.offer({ seq: 11, at: 2, kind: "release", seats: { "A-1": "free", "A-3": "held" }, seatCounts: { held: 1, sold: 1 } }, changed),
    true,
  );
  assert.deepEqual([...changed].sort(), ["A-1", "A-3"]);
  m.offer({ seq: 12, at: 3, kind: "hold", types: { tt_ga: { held: 12, sold: 0 } } });
  m.offer({ seq: 13, at: 4, kind: "sale", sale: { paused: true } });
  assert.deepEqual(view(m), {
    seq: 13,
    seats: { "A-1": "free", "A-2": "sold", "A-3": "held", "A-4": "free" },
    counts: { total: 4, free: 2, held: 1, sold: 1 },
    types: [
      { id: "tt_seated", supply: 4, held: 1, sold: 1, free: 2 },
      // More held than the supply shows as none free, never as a negative number.
      { id: "tt_ga", supply: 10, held: 12, sold: 0, free: 0 },
    ],
    sale: { paused: true, opensAt: null, closesAt: null },
  });
});

test("an entry seen twice is applied once; one ahead waits for the gap", () => {
  const m = new Availability();
  m.reset(snapshot(10));
  assert.equal(m.offer({ seq: 12, kind: "hold", seats: { "A-4": "held" }, seatCounts: { held: 1, sold: 2 } }), false);
  assert.equal(m.seq, 10, "not applied before 11");
  assert.equal(m.stateOf("A-4"), "free");
  const changed = new Set();
  assert.equal(m.offer({ seq: 11, kind: "sold", seats: { "A-1": "sold" }, seatCounts: { held: 0, sold: 2 } }, changed), true);
  assert.equal(m.seq, 12, "11 filled the gap and 12 followed");
  assert.deepEqual([...changed].sort(), ["A-1", "A-4"]);
  assert.equal(m.offer({ seq: 11, kind: "release", seats: { "A-1": "free" } }), true);
  assert.equal(m.stateOf("A-1"), "sold", "a replayed old entry changes nothing");
  assert.deepEqual(m.seatCounts(), { total: 4, free: 1, held: 1, sold: 2 }, "entry 12's counters, applied last");
});

test("a new snapshot replaces everything and keeps only what follows it", () => {
  const m = new Availability();
  assert.equal(m.offer({ seq: 5, kind: "hold" }), true, "ignored before a snapshot");
  assert.equal(m.seq, -1);
  m.reset(snapshot(10));
  m.offer({ seq: 12, kind: "hold", seats: { "A-3": "held" }, seatCounts: { held: 9, sold: 9 } });
  m.offer({ seq: 21, kind: "hold", seats: { "A-4": "held" }, seatCounts: { held: 2, sold: 1 } });
  m.reset(snapshot(20, { seatStates: {}, seats: { total: 4, free: 4, held: 0, sold: 0 } }));
  assert.equal(m.seq, 21, "the waiting entry 21 follows the new snapshot");
  assert.equal(m.stateOf("A-3"), "free", "entry 12 belongs to the old state and is dropped");
  assert.equal(m.stateOf("A-4"), "held");
  assert.equal(m.pending.size, 0);
  assert.throws(() => m.reset({ seats: {} }), /no seq/);
});
