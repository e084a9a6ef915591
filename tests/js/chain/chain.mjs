// Drives the project's contracts on a local EVM node (anvil) for the Rust e2e tests and the
// benchmark. Library (the exports) and CLI; the CLI prints exactly ONE JSON line on stdout
// (diagnostics go to stderr) and exits non-zero on failure.
//
//   node tests/js/chain/chain.mjs deploy   --rpc URL
//       → {"ticket","market","vault","deployBlock","chainId"}     (compiles first when needed)
//   node tests/js/chain/chain.mjs scenario --rpc URL --addresses '<deploy output>'
//       → the chain's truth after the story of scenario.mjs: {"fromBlock","toBlock","logs",
//         "actors","events","ticketTypes","tickets","listings","deposits","refunds"}
//   node tests/js/chain/chain.mjs backfill --rpc URL --addresses '<json>' --events N [--blocks B]
//       → {"fromBlock","toBlock","logs","emitted","transactions","blocks"}: ≥ N logs of our
//         contracts in fromBlock..toBlock, toBlock - fromBlock ≥ B (default 2000); `logs` is
//         what eth_getLogs returns for the range, `emitted` what this run's receipts hold
//   node tests/js/chain/chain.mjs deposit  --rpc URL --addresses '<json>' --order-ref 0x… --value-wei N --from-key 0x…
//   node tests/js/chain/chain.mjs transfer --rpc URL --addresses '<json>' --token-id N --from-key 0x… --to 0x…
//       → {"txHash","blockNumber","blockHash"}
//   node tests/js/chain/chain.mjs swap-deploy --rpc URL
//       → real Uniswap V2 (npm artifacts) from dev account 0, Multicall3 at its canonical address,
//         test tokens and pools of chosen depths (swap.mjs): {"factory","router","weth",
//         "multicall","initCodeHash","baseTokens":[weth, usdc],"tokens":{"A","B","C","D","E",
//         "USDC","WETH"},"pairs":[{"name","pair","token0","token1","reserve0","reserve1"}…],
//         "blockNumber","chainId"}
//   node tests/js/chain/chain.mjs swap-trade --rpc URL --addresses '<swap-deploy output>'
//            --path A,WETH,B --amount-in N [--from-key 0x…]
//       → router.swapExactTokensForTokens(N, 0, path, sender, far deadline) from --from-key
//         (default dev account 0); path items are token names or addresses:
//         {"txHash","blockNumber","amounts"}
//
// JSON conventions: addresses EIP-55 checksummed; uint256 values (ids, prices, amounts) as
// decimal strings; block numbers and counts as numbers; hashes and bytes32 as 0x-hex.
// --rpc defaults to $ETH_RPC_URL, then http://127.0.0.1:8545.

import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { AbiCoder, getAddress, isHexString } from "ethers";
import { runBackfill } from "./backfill.mjs";
import { loadArtifacts } from "./compile.mjs";
import { Chain, DEV_KEYS } from "./rpc.mjs";
import { runScenario } from "./scenario.mjs";
import { swapDeploy, swapTrade } from "./swap.mjs";

export { DEV_KEYS } from "./rpc.mjs";
export { orderRef } from "./scenario.mjs";

/** Connects to `rpc`; binds the contracts when `addresses` (the deploy output) is given. */
export async function connect(rpc, addresses = null) {
  return Chain.connect(rpc, await loadArtifacts(), addresses);
}

/** Deploys TicketNFT, Marketplace(TicketNFT) and PaymentVault from dev account 0. */
export async function deploy(chain) {
  const deployer = chain.actor(DEV_KEYS[0]);
  const { TicketNFT, Marketplace, PaymentVault } = chain.artifacts;
  const ticketReceipt = await deployer.deploy(TicketNFT.bytecode, "TicketNFT");
  const ticket = getAddress(ticketReceipt.contractAddress);
  const marketArgs = AbiCoder.defaultAbiCoder().encode(["address"], [ticket]).slice(2);
  const market = getAddress((await deployer.deploy(Marketplace.bytecode + marketArgs, "Marketplace")).contractAddress);
  const vault = getAddress((await deployer.deploy(PaymentVault.bytecode, "PaymentVault")).contractAddress);
  const addresses = { ticket, market, vault, deployBlock: Number(ticketReceipt.blockNumber), chainId: Number(chain.chainId) };
  chain.bind(addresses);
  return addresses;
}

/** `PaymentVault.deposit(orderRef)` with `valueWei` from the account of `fromKey`. */
export async function deposit(chain, { orderRef, valueWei, fromKey }) {
  return txSummary(await chain.actor(fromKey).send("vault", "deposit", [orderRef], valueWei));
}

/** `TicketNFT.transferFrom(holder, to, tokenId)` signed by the holder (`fromKey`). */
export async function transfer(chain, { tokenId, fromKey, to }) {
  const holder = chain.actor(fromKey);
  return txSummary(await holder.send("ticket", "transferFrom", [holder.address, to, tokenId]));
}

const txSummary = (receipt) => ({
  txHash: receipt.transactionHash,
  blockNumber: Number(receipt.blockNumber),
  blockHash: receipt.blockHash,
});

export { runScenario, runBackfill, swapDeploy, swapTrade };

// ------------------------------------------------------------------------------------------ CLI

const OPTIONS = {
  rpc: { type: "string" },
  addresses: { type: "string" },
  events: { type: "string" },
  blocks: { type: "string" },
  "order-ref": { type: "string" },
  "value-wei": { type: "string" },
  "from-key": { type: "string" },
  "token-id": { type: "string" },
  to: { type: "string" },
  path: { type: "string" },
  "amount-in": { type: "string" },
};

function required(values, name) {
  const value = values[name];
  if (value === undefined || value === "") throw new Error(`--${name} is required`);
  return value;
}

function uint(values, name) {
  const text = required(values, name);
  if (!/^\d+$/.test(text)) throw new Error(`--${name} must be a decimal integer, got ${text}`);
  return BigInt(text);
}

function hexOfLength(values, name, bytes) {
  const text = required(values, name);
  if (!isHexString(text, bytes)) throw new Error(`--${name} must be 0x and ${bytes} bytes of hex`);
  return text;
}

function parseAddresses(values) {
  try {
    return JSON.parse(required(values, "addresses"));
  } catch (error) {
    throw new Error(`--addresses must be the JSON that deploy prints: ${error.message}`);
  }
}

async function main(argv) {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  const [command] = positionals;
  const rpc = values.rpc ?? process.env.ETH_RPC_URL ?? "http://127.0.0.1:8545";
  switch (command) {
    case "deploy":
      return deploy(await connect(rpc));
    case "scenario":
      return runScenario(await connect(rpc, parseAddresses(values)));
    case "backfill": {
      const events = Number(uint(values, "events"));
      const blocks = values.blocks === undefined ? 2000 : Number(uint(values, "blocks"));
      return runBackfill(await connect(rpc, parseAddresses(values)), { events, blocks });
    }
    case "deposit":
      return deposit(await connect(rpc, parseAddresses(values)), {
        orderRef: hexOfLength(values, "order-ref", 32),
        valueWei: uint(values, "value-wei"),
        fromKey: hexOfLength(values, "from-key", 32),
      });
    case "transfer":
      return transfer(await connect(rpc, parseAddresses(values)), {
        tokenId: uint(values, "token-id"),
        fromKey: hexOfLength(values, "from-key", 32),
        to: getAddress(required(values, "to")),
      });
    case "swap-deploy":
      return swapDeploy(await connect(rpc));
    case "swap-trade":
      return swapTrade(await connect(rpc), parseAddresses(values), {
        path: required(values, "path").split(",").map((token) => token.trim()),
        amountIn: uint(values, "amount-in"),
        ...(values["from-key"] === undefined ? {} : { fromKey: hexOfLength(values, "from-key", 32) }),
      });
    default:
      throw new Error(`usage: chain.mjs deploy|scenario|backfill|deposit|transfer|swap-deploy|swap-trade --rpc URL … (see the header of ${fileURLToPath(import.meta.url)})`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const result = await main(process.argv.slice(2));
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } catch (error) {
    process.stderr.write(`chain.mjs: ${error.message}\n`);
    process.exitCode = 1;
  }
}
