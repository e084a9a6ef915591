// History for the indexer's backfill tests and benchmark: at least N logs of our contracts
// spread over at least B blocks, made as fast as an automining anvil allows.
//
// Accounts 8 (organizer) and 9 (holder) do the work, so the story of `scenario` (accounts 0–6)
// is untouched. Each round is one `mintBatch` of up to 50 tickets (a Transfer and a
// TicketMinted log each), one ticket handed back from the holder to the organizer (a Transfer),
// every tenth round a vault deposit (a Deposit), then `anvil_mine` of empty blocks so that the
// rounds spread over the block range the way sparse real traffic does.

import { id as keccakText } from "ethers";
import { DEV_KEYS, hex } from "./rpc.mjs";

const BATCH = 50; // tickets per mintBatch: ~1.4 M gas, far below any block or tx gas cap
const LOGS_PER_ROUND = 2 * BATCH + 1;
const DEPOSIT_EVERY = 10;

/**
 * Emits at least `events` logs over a range with `toBlock - fromBlock >= blocks`; resolves to
 * `{ fromBlock, toBlock, logs, emitted, transactions, blocks }` (`blocks`: how many blocks the
 * inclusive range holds) where `logs` is what
 * `eth_getLogs` over the range returns for our three contracts and `emitted` what this run's
 * receipts hold (equal unless someone else used the contracts meanwhile).
 */
export async function runBackfill(chain, { events, blocks = 2000 }) {
  if (!Number.isInteger(events) || events < 1) throw new Error("backfill: --events must be a positive integer");
  const organizer = chain.actor(DEV_KEYS[8]);
  const holder = chain.actor(DEV_KEYS[9]);
  let emitted = 0;
  let transactions = 0;
  let fromBlock = null;
  const send = async (actor, contract, fn, args, value = 0n) => {
    const receipt = await actor.send(contract, fn, args, value);
    emitted += chain.countOurLogs(receipt);
    transactions += 1;
    fromBlock ??= Number(receipt.blockNumber);
    return receipt;
  };
  const parsed = (receipt, name) => chain.eventArgs(receipt, "ticket", name);

  const [created] = parsed(await send(organizer, "ticket", "createEvent", ["Backfill Arena"]), "EventCreated");
  const eventId = created.eventId;
  const [type] = parsed(await send(organizer, "ticket", "createTicketType", [eventId, 0n, 2n ** 64n - 1n]), "TicketTypeCreated");
  const typeId = type.typeId;

  // Spread the rounds evenly: the empty blocks between rounds fill what the transactions' own
  // blocks (one each under automine) do not.
  const rounds = Math.max(1, Math.ceil((events - emitted) / LOGS_PER_ROUND));
  const txBlocks = 2 + rounds * 2 + Math.floor(rounds / DEPOSIT_EVERY);
  const gap = rounds > 1 ? Math.max(0, Math.ceil((blocks + 1 - txBlocks) / (rounds - 1))) : 0;

  for (let round = 0; emitted < events; round += 1) {
    if (round > 0) await chain.mine(gap);
    const missing = events - emitted;
    const count = Math.max(1, Math.min(BATCH, Math.ceil((missing - 1) / 2)));
    const [first] = parsed(await send(organizer, "ticket", "mintBatch", [holder.address, eventId, typeId, BigInt(count)]), "TicketMinted");
    await send(holder, "ticket", "transferFrom", [holder.address, organizer.address, first.tokenId]);
    if (round % DEPOSIT_EVERY === DEPOSIT_EVERY - 1) {
      await send(holder, "vault", "deposit", [keccakText(`backfill-order-${round + 1}`)], 1_000_000_000n);
    }
  }
  // Round-count estimates can fall short of the span (e.g. tiny `events`): top up with blocks,
  // so that `toBlock - fromBlock >= blocks` (the range holds blocks + 1 blocks).
  const head = await chain.blockNumber();
  if (head - fromBlock < blocks) await chain.mine(blocks - (head - fromBlock));
  const toBlock = await chain.blockNumber();

  const logs = await chain.rpc.call("eth_getLogs", [
    { fromBlock: hex(fromBlock), toBlock: hex(toBlock), address: Object.values(chain.addresses) },
  ]);
  if (logs.length !== emitted) {
    process.stderr.write(`backfill: eth_getLogs finds ${logs.length} logs in ${fromBlock}..${toBlock}, our receipts ${emitted}: someone else used the contracts meanwhile\n`);
  }
  return { fromBlock, toBlock, logs: logs.length, emitted, transactions, blocks: toBlock - fromBlock + 1 };
}
