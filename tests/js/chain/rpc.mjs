// The JSON-RPC plumbing of the chain tools: a minimal client, the project's contracts bound to
// their addresses, and actors that sign and send transactions with anvil's dev keys.
//
// Why not ethers' JsonRpcProvider/Contract: `tx.wait()` polls every 4 s by default, and the
// backfill sends hundreds of transactions. Here each transaction is signed locally (ethers
// Wallet), sent raw, and its receipt polled every few milliseconds; against an automining anvil
// that is one block per transaction at a few ms each. Fees and gas limits are fixed functions of
// the chain's answers, so a run on a fresh anvil produces the same transactions every time.

import { Interface, Wallet, getAddress, parseUnits } from "ethers";

/** Anvil's dev accounts 0–9 (mnemonic "test test … junk"), each with 10,000 ETH. */
export const DEV_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
  "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
  "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
  "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
  "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
  "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

// EIP-1559 fees: a fixed tip and a cap far above anything anvil reaches in these tools (its
// base fee starts at 1 gwei and falls on empty blocks). Fixed values keep signed transactions,
// and so transaction hashes, reproducible.
const MAX_PRIORITY_FEE = parseUnits("1", "gwei");
const MAX_FEE = parseUnits("1000", "gwei");
const RECEIPT_TIMEOUT_MS = 60_000;

/** An error answer of the node (`code`, `message`, `data` as JSON-RPC gives them). */
export class RpcError extends Error {
  constructor(method, error) {
    super(`${method}: ${error.message} (code ${error.code})`);
    this.code = error.code;
    this.data = error.data;
  }
}

/** A JSON-RPC client over fetch (keep-alive by default in Node's undici). */
export class Rpc {
  constructor(url) {
    this.url = url;
    this.nextId = 1;
  }

  async call(method, params = []) {
    const response = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: this.nextId++, method, params }),
    });
    if (!response.ok) {
      throw new Error(`${method}: HTTP ${response.status} from ${this.url}: ${await response.text()}`);
    }
    const body = await response.json();
    if (body.error) throw new RpcError(method, body.error);
    return body.result;
  }
}

const hex = (n) => `0x${BigInt(n).toString(16)}`;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/**
 * A connection to the node plus the project's three contracts at known addresses.
 * `addresses` is what `deploy` prints: `{ ticket, market, vault }` (deployBlock ignored).
 */
export class Chain {
  static async connect(url, artifacts, addresses = null) {
    const rpc = new Rpc(url);
    const chainId = BigInt(await rpc.call("eth_chainId"));
    return new Chain(rpc, chainId, artifacts, addresses);
  }

  constructor(rpc, chainId, artifacts, addresses) {
    this.rpc = rpc;
    this.chainId = chainId;
    this.artifacts = artifacts;
    this.ifaces = {
      ticket: new Interface(artifacts.TicketNFT.abi),
      market: new Interface(artifacts.Marketplace.abi),
      vault: new Interface(artifacts.PaymentVault.abi),
    };
    if (addresses) this.bind(addresses);
  }

  /** Binds the contracts' addresses (checksummed and validated). */
  bind(addresses) {
    this.addresses = {};
    for (const name of ["ticket", "market", "vault"]) {
      if (!addresses[name]) throw new Error(`addresses: missing "${name}"`);
      this.addresses[name] = getAddress(addresses[name]);
    }
    this.byAddress = new Map(
      Object.entries(this.addresses).map(([name, address]) => [address.toLowerCase(), name]),
    );
  }

  actor(key) {
    return new Actor(this, key);
  }

  /** A read-only call of `contract.fn(...args)`, decoded (a `Result`; single values unwrapped). */
  async read(contract, fn, args = []) {
    const iface = this.ifaces[contract];
    const data = iface.encodeFunctionData(fn, args);
    const out = await this.rpc.call("eth_call", [{ to: this.addresses[contract], data }, "latest"]);
    const result = iface.decodeFunctionResult(fn, out);
    return result.length === 1 ? result[0] : result;
  }

  /** The logs of a receipt emitted by our contracts, each with `contract` and `parsed` (ethers). */
  ourLogs(receipt) {
    return receipt.logs
      .filter((log) => this.byAddress.has(log.address.toLowerCase()))
      .map((log) => {
        const contract = this.byAddress.get(log.address.toLowerCase());
        return { ...log, contract, parsed: this.ifaces[contract].parseLog(log) };
      });
  }

  /** How many logs of `receipt` our contracts emitted (no decoding: the backfill's hot path). */
  countOurLogs(receipt) {
    return receipt.logs.filter((log) => this.byAddress.has(log.address.toLowerCase())).length;
  }

  /** The args of every `contract` log named `event` in `receipt`; decodes only those logs. */
  eventArgs(receipt, contract, event) {
    const iface = this.ifaces[contract];
    const { topicHash } = iface.getEvent(event);
    const address = this.addresses[contract].toLowerCase();
    return receipt.logs
      .filter((log) => log.address.toLowerCase() === address && log.topics[0] === topicHash)
      .map((log) => iface.parseLog(log).args);
  }

  /** Names a revert by the custom error of any of our contracts, when it is one. */
  describeRevert(error) {
    const data = typeof error.data === "string" ? error.data : error.data?.data;
    if (typeof data === "string" && data.length >= 10) {
      for (const iface of Object.values(this.ifaces)) {
        try {
          const parsed = iface.parseError(data);
          if (parsed) return `${parsed.name}(${parsed.args.map(String).join(", ")})`;
        } catch {
          // not this contract's error
        }
      }
    }
    return error.message;
  }

  async blockNumber() {
    return Number(await this.rpc.call("eth_blockNumber"));
  }

  /** Mines `count` empty blocks (anvil). */
  async mine(count) {
    if (count > 0) await this.rpc.call("anvil_mine", [hex(count)]);
  }
}

/** An account that sends transactions, keeping its own nonce after the first look-up. */
export class Actor {
  constructor(chain, key) {
    this.chain = chain;
    this.wallet = new Wallet(key);
    this.address = this.wallet.address;
    this.nonce = null;
  }

  /** Calls `contract.fn(...args)` with `value` wei; resolves to the receipt (status 1). */
  async send(contract, fn, args = [], value = 0n) {
    const { ifaces, addresses } = this.chain;
    const data = ifaces[contract].encodeFunctionData(fn, args);
    return this.sendRaw({ to: addresses[contract], data, value, label: `${contract}.${fn}` });
  }

  /** Deploys `bytecode` (constructor arguments already appended); resolves to the receipt. */
  async deploy(bytecode, label) {
    return this.sendRaw({ to: null, data: bytecode, value: 0n, label: `deploy ${label}` });
  }

  async sendRaw({ to, data, value, label }) {
    const { rpc } = this.chain;
    if (this.nonce === null) {
      this.nonce = Number(await rpc.call("eth_getTransactionCount", [this.address, "pending"]));
    }
    const call = { from: this.address, data, value: hex(value), ...(to ? { to } : {}) };
    let estimate;
    try {
      estimate = BigInt(await rpc.call("eth_estimateGas", [call]));
    } catch (error) {
      throw new Error(`${label} from ${this.address} reverts: ${this.chain.describeRevert(error)}`);
    }
    const signed = await this.wallet.signTransaction({
      type: 2,
      chainId: this.chain.chainId,
      nonce: this.nonce,
      to,
      data,
      value,
      // 20% over the estimate: calls into other contracts lose 1/64 of the gas they forward.
      gasLimit: (estimate * 12n) / 10n,
      maxPriorityFeePerGas: MAX_PRIORITY_FEE,
      maxFeePerGas: MAX_FEE,
    });
    let hash;
    try {
      hash = await rpc.call("eth_sendRawTransaction", [signed]);
    } catch (error) {
      this.nonce = null; // someone else may have used this account: look the nonce up again
      throw new Error(`${label} from ${this.address}: ${error.message}`);
    }
    this.nonce += 1;
    const receipt = await waitForReceipt(rpc, hash);
    if (receipt.status !== "0x1") throw new Error(`${label} (${hash}) failed on chain`);
    return receipt;
  }
}

/** Polls for a receipt: at once, then with a short backoff (automine answers within ms). */
export async function waitForReceipt(rpc, hash) {
  const deadline = Date.now() + RECEIPT_TIMEOUT_MS;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    const receipt = await rpc.call("eth_getTransactionReceipt", [hash]);
    if (receipt) return receipt;
    if (Date.now() > deadline) throw new Error(`no receipt for ${hash} after ${RECEIPT_TIMEOUT_MS} ms`);
    await sleep(pause);
  }
}

export { hex };
