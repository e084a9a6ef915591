// The fixed story the e2e tests and the decoding fixtures run on a fresh deployment, and the
// chain's truth afterwards, read back from the contracts and the receipts.
//
// Actors (anvil dev accounts): 0 deployer and vault owner; 1 organizer A; 2 organizer B;
// 3 ana, 4 ben, 5 cleo, 6 dev (fans). Ids below are those of a fresh deployment; the code reads
// the real ids from the receipts, so the story also runs on a used one.
//
//  1. A creates event E1 "RustFest Berlin 2026"; B creates E2 "Wasm Summit Lisboa — São Jorge 🎟"
//     (non-ASCII on purpose: the name travels as ABI `string`).
//  2. A adds T1 (E1, 0.05 ETH, 100) and T2 (E1 VIP, 0.2 ETH, 10); B adds T3 (E2, free, 3).
//  3. A mints #1 (T1) to ana and #2 (T2) to ben; cleo buys #3 (T1) for 0.05 ETH;
//     B mintBatch-es #4 and #5 (T3) to dev; ben buys #6 (T3) for 0 ETH (T3 is now sold out).
//  4. ana safeTransferFrom-s #1 to cleo; dev approves ana for #5 and ana pulls #5 to herself;
//     dev sets ben as operator for all its tickets (ApprovalForAll).
//  5. B marks #4 used; A revokes #2.
//  6. Marketplace: cleo approves it for #3, lists #3 at 0.08 (L1) and cancels L1; cleo approves
//     it for all, lists #1 at 0.07 (L2) and dev buys L2; ana approves it for #5 and lists #5 at
//     0.1 (L3, left open); ben approves it for #6, lists #6 at 0.01 (L4) and then gives #6 to ana,
//     who approves it and lists #6 at 0.02 (L5, left open): L4 is cancelled by that listing.
//  7. Vault: ana deposits 0.05 ETH for order-1001; ben deposits 0.12 ETH for order-1002;
//     the owner refunds ben's 0.12 ETH for order-1002.
//
// Final state on a fresh deployment:
//   tickets  #1 dev valid, #2 ben revoked, #3 cleo valid, #4 dev used, #5 ana valid, #6 ana valid
//   listings L1 cancelled, L2 sold to dev, L3 active, L4 cancelled, L5 active

import { getAddress, id as keccakText, parseEther } from "ethers";
import { DEV_KEYS } from "./rpc.mjs";

/** `orderRef` of the story's orders: keccak256 of the order's name. */
export const orderRef = (name) => keccakText(name);

const TICKET_STATUS = ["valid", "used", "revoked"];
const LISTING_STATUS = ["none", "active", "cancelled", "sold"];
const dec = (n) => BigInt(n).toString(10);

/** The first log `name` emitted by our contracts in `receipt` (ethers-parsed). */
function logOf(chain, receipt, name) {
  const log = chain.ourLogs(receipt).find((l) => l.parsed?.name === name);
  if (!log) throw new Error(`no ${name} log in ${receipt.transactionHash}`);
  return log.parsed.args;
}

/** Runs the story; resolves to the chain's truth afterwards (see the file header). */
export async function runScenario(chain) {
  const [owner, orgA, orgB, ana, ben, cleo, dev] = DEV_KEYS.slice(0, 7).map((k) => chain.actor(k));
  const receipts = [];
  const send = async (actor, contract, fn, args = [], value = 0n) => {
    const receipt = await actor.send(contract, fn, args, value);
    receipts.push(receipt);
    return receipt;
  };
  const { market } = chain.addresses;

  // 1–2. events and ticket types
  const e1 = logOf(chain, await send(orgA, "ticket", "createEvent", ["RustFest Berlin 2026"]), "EventCreated").eventId;
  const e2 = logOf(chain, await send(orgB, "ticket", "createEvent", ["Wasm Summit Lisboa — São Jorge 🎟"]), "EventCreated").eventId;
  const newType = async (org, eventId, price, supply) =>
    logOf(chain, await send(org, "ticket", "createTicketType", [eventId, price, supply]), "TicketTypeCreated").typeId;
  const t1 = await newType(orgA, e1, parseEther("0.05"), 100n);
  const t2 = await newType(orgA, e1, parseEther("0.2"), 10n);
  const t3 = await newType(orgB, e2, 0n, 3n);

  // 3. primary issuance and sales
  const minted = (receipt) => chain.ourLogs(receipt).filter((l) => l.parsed?.name === "TicketMinted").map((l) => l.parsed.args.tokenId);
  const [k1] = minted(await send(orgA, "ticket", "mint", [ana.address, e1, t1]));
  const [k2] = minted(await send(orgA, "ticket", "mint", [ben.address, e1, t2]));
  const [k3] = minted(await send(cleo, "ticket", "buy", [e1, t1], parseEther("0.05")));
  const [k4, k5] = minted(await send(orgB, "ticket", "mintBatch", [dev.address, e2, t3, 2n]));
  const [k6] = minted(await send(ben, "ticket", "buy", [e2, t3], 0n));

  // 4. transfers and approvals
  await send(ana, "ticket", "safeTransferFrom(address,address,uint256)", [ana.address, cleo.address, k1]);
  await send(dev, "ticket", "approve", [ana.address, k5]);
  await send(ana, "ticket", "transferFrom", [dev.address, ana.address, k5]);
  await send(dev, "ticket", "setApprovalForAll", [ben.address, true]);

  // 5. at the door, and a revocation
  await send(orgB, "ticket", "markUsed", [k4]);
  await send(orgA, "ticket", "revoke", [k2]);

  // 6. resale
  const listed = async (actor, tokenId, price) =>
    logOf(chain, await send(actor, "market", "list", [tokenId, price]), "Listed").listingId;
  await send(cleo, "ticket", "approve", [market, k3]);
  const l1 = await listed(cleo, k3, parseEther("0.08"));
  await send(cleo, "market", "cancel", [l1]);
  await send(cleo, "ticket", "setApprovalForAll", [market, true]);
  const l2 = await listed(cleo, k1, parseEther("0.07"));
  await send(dev, "market", "buy", [l2], parseEther("0.07"));
  await send(ana, "ticket", "approve", [market, k5]);
  const l3 = await listed(ana, k5, parseEther("0.1"));
  await send(ben, "ticket", "approve", [market, k6]);
  const l4 = await listed(ben, k6, parseEther("0.01"));
  await send(ben, "ticket", "transferFrom", [ben.address, ana.address, k6]);
  await send(ana, "ticket", "approve", [market, k6]);
  const l5 = await listed(ana, k6, parseEther("0.02"));

  // 7. payments
  await send(ana, "vault", "deposit", [orderRef("order-1001")], parseEther("0.05"));
  await send(ben, "vault", "deposit", [orderRef("order-1002")], parseEther("0.12"));
  await send(owner, "vault", "refund", [orderRef("order-1002"), ben.address, parseEther("0.12")]);

  return readTruth(chain, receipts, {
    events: [e1, e2],
    ticketTypes: [t1, t2, t3],
    tickets: [k1, k2, k3, k4, k5, k6],
    listings: [l1, l2, l3, l4, l5],
    actors: { owner, organizerA: orgA, organizerB: orgB, ana, ben, cleo, dev },
  });
}

/** The state after the story, from contract reads (current state) and receipts (history). */
async function readTruth(chain, receipts, ids) {
  const all = receipts.flatMap((r) =>
    chain.ourLogs(r).map((l) => ({ ...l.parsed, txHash: r.transactionHash, blockNumber: Number(r.blockNumber) })),
  );
  const buyers = new Map(all.filter((l) => l.name === "Sold").map((l) => [dec(l.args.listingId), getAddress(l.args.buyer)]));
  const payments = (name) =>
    all
      .filter((l) => l.name === name)
      .map((l) => ({
        orderRef: l.args.orderRef,
        payer: getAddress(l.args.payer),
        ...(name === "Deposit" ? { token: getAddress(l.args.token) } : {}),
        amount: dec(l.args.amount),
        txHash: l.txHash,
        blockNumber: l.blockNumber,
      }));

  const events = [];
  for (const eventId of ids.events) {
    const [organizer, name] = await chain.read("ticket", "eventInfo", [eventId]);
    events.push({ eventId: dec(eventId), organizer: getAddress(organizer), name });
  }
  const ticketTypes = [];
  for (const typeId of ids.ticketTypes) {
    const [eventId, price, supply, mintedCount] = await chain.read("ticket", "ticketType", [typeId]);
    ticketTypes.push({ typeId: dec(typeId), eventId: dec(eventId), price: dec(price), supply: dec(supply), minted: dec(mintedCount) });
  }
  const tickets = [];
  for (const tokenId of ids.tickets) {
    const [owner, eventId, typeId, status] = await chain.read("ticket", "ticket", [tokenId]);
    tickets.push({
      tokenId: dec(tokenId),
      eventId: dec(eventId),
      typeId: dec(typeId),
      owner: getAddress(owner),
      status: TICKET_STATUS[Number(status)],
    });
  }
  const listings = [];
  for (const listingId of ids.listings) {
    const [tokenId, price, seller, status] = await chain.read("market", "listings", [listingId]);
    listings.push({
      listingId: dec(listingId),
      tokenId: dec(tokenId),
      seller: getAddress(seller),
      price: dec(price),
      status: LISTING_STATUS[Number(status)],
      buyer: buyers.get(dec(listingId)) ?? null,
    });
  }
  const blocks = receipts.map((r) => Number(r.blockNumber));
  return {
    fromBlock: Math.min(...blocks),
    toBlock: Math.max(...blocks),
    logs: all.length,
    actors: Object.fromEntries(Object.entries(ids.actors).map(([role, actor]) => [role, actor.address])),
    events,
    ticketTypes,
    tickets,
    listings,
    deposits: payments("Deposit"),
    refunds: payments("Refunded"),
  };
}
