// Smoke run and timings of the chain tools on a fresh private anvil: deploy, scenario, then
// backfill. Prints one JSON line with the wall-clock time of each step (figures to read, not
// assertions) and exits non-zero if a step fails or the scenario's truth is not the one the
// story of scenario.mjs promises.
//
// Run: node tests/js/chain/smoke.mjs [--events 10000] [--blocks 2000] [-- <extra anvil args>]

import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { startAnvil } from "./anvil.mjs";
import { connect, deploy, runBackfill, runScenario } from "./chain.mjs";

const { values, positionals } = parseArgs({
  options: { events: { type: "string", default: "10000" }, blocks: { type: "string", default: "2000" } },
  allowPositionals: true,
});

const timed = async (fn) => {
  const started = performance.now();
  const result = await fn();
  return [result, Math.round(performance.now() - started)];
};

const anvil = await startAnvil({ deterministic: false, extraArgs: positionals });
try {
  const [chain, connectMs] = await timed(() => connect(anvil.url));
  const [addresses, deployMs] = await timed(() => deploy(chain));
  const [truth, scenarioMs] = await timed(() => runScenario(chain));
  const owners = truth.tickets.map((t) => `${t.tokenId}:${roleOf(truth.actors, t.owner)}:${t.status}`);
  assert.deepEqual(owners, ["1:dev:valid", "2:ben:revoked", "3:cleo:valid", "4:dev:used", "5:ana:valid", "6:ana:valid"]);
  assert.deepEqual(truth.listings.map((l) => l.status), ["cancelled", "sold", "active", "cancelled", "active"]);
  const [backfill, backfillMs] = await timed(() =>
    runBackfill(chain, { events: Number(values.events), blocks: Number(values.blocks) }),
  );
  assert.ok(backfill.logs >= Number(values.events) && backfill.logs === backfill.emitted);
  assert.ok(backfill.toBlock - backfill.fromBlock >= Number(values.blocks));
  const result = { connectMs, deployMs, scenarioMs, scenarioLogs: truth.logs, backfillMs, backfill, addresses };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  anvil.stop();
}

function roleOf(actors, address) {
  return Object.entries(actors).find(([, a]) => a === address)?.[0] ?? address;
}
