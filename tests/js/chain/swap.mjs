// Real Uniswap V2 on a local anvil, for the swap-quote tests: the factory, pair, router and
// WETH9 of the npm packages @uniswap/v2-core 1.0.1 and @uniswap/v2-periphery 1.1.0-beta.0
// (their compiled waffle artifacts, pinned in package.json; no Uniswap code is rewritten or
// recompiled), test ERC-20 tokens (v2-core's build/ERC20.json, which mints its whole supply to
// the deployer), pools of chosen depths, and our Multicall3 (tests/contracts/Multicall3.sol) at
// the canonical Multicall3 address.
//
// The pools (amounts in units of 1e18 unless given in wei; every token has 18 decimals):
//   A/B      10 : 25                         shallow direct pool: best for small A→B amounts
//   A/WETH   1,000,000 : 1,000, then + 12,345.678901234567890123 A at the same price (odd)
//   WETH/B   1,003.141592653589793238 : 1,998,765.432109876543210987   deep, odd amounts
//            → A→B through WETH beats the direct pool above ~2.6 A
//   A/USDC   1,000,000 : 2,000,000               deep
//   USDC/C   50,000 : 100,000                    medium; no A/C and no WETH/C pool, so A→C
//                                               exists only as the one-hop route A→USDC→C
//   E/WETH   1,001 wei : 1,001 wei               tiny (1,001 is the least V2 mints: the first
//                                               1,000 liquidity units are locked) → outputs
//                                               of 0 and amounts out beyond the reserves
//   D        no pool at all                      → pair not found
//
// Transactions are signed and sent with rpc.mjs's actors (dev account 0 deploys and holds every
// token's supply). Library only: chain.mjs's `swap-deploy` and `swap-trade` commands call it.

import { createRequire } from "node:module";
import {
  AbiCoder,
  Interface,
  getAddress,
  getCreate2Address,
  keccak256,
  parseEther,
  parseUnits,
  solidityPackedKeccak256,
} from "ethers";
import { DEV_KEYS } from "./rpc.mjs";

const require = createRequire(import.meta.url);

/** Where Multicall3 lives on every chain that has it (and where swap-deploy installs ours). */
export const MULTICALL3_ADDRESS = getAddress("0xcA11bde05977b3631167028862bE2a173976CA11");

/** What swap-trade passes as the router's deadline: 2100-01-01, far past any test's clock. */
const DEADLINE = 4_102_444_800n;

/** Every test token's supply, all minted to the deployer: 1e9 whole tokens. */
const SUPPLY = parseUnits("1000000000", 18);

/** ETH the deployer wraps into WETH for the WETH pools (they take ~2,016 WETH). */
const WRAP = parseEther("3000");

/** The test tokens besides WETH, in deployment order. */
const TOKEN_NAMES = ["A", "B", "C", "D", "E", "USDC"];

/**
 * The pools, in creation order: `[tokenX, tokenY, amountX, amountY]` for one addLiquidity each
 * (a pool listed twice gets liquidity twice; the router keeps the second at the pool's price).
 */
const e18 = (text) => parseUnits(text, 18);
const LIQUIDITY = [
  ["A", "B", e18("10"), e18("25")],
  ["A", "WETH", e18("1000000"), e18("1000")],
  ["A", "WETH", e18("12345.678901234567890123"), e18("20")],
  ["WETH", "B", e18("1003.141592653589793238"), e18("1998765.432109876543210987")],
  ["A", "USDC", e18("1000000"), e18("2000000")],
  ["USDC", "C", e18("50000"), e18("100000")],
  ["E", "WETH", 1001n, 1001n],
];

// ------------------------------------------------------------------------------------ artifacts

/** `{abi, bytecode, deployedBytecode}` (0x-hex) of a waffle artifact in node_modules. */
function uniswapArtifact(path) {
  const raw = require(path);
  const code = (object, what) => {
    if (typeof object !== "string" || object.length === 0) throw new Error(`${path}: no ${what}`);
    const text = object.startsWith("0x") ? object : `0x${object}`;
    // Unlinked library placeholders (__Name__) would deploy as garbage.
    if (text.includes("__")) throw new Error(`${path}: ${what} has unlinked library references`);
    return text;
  };
  return {
    abi: raw.abi,
    // waffle writes both `bytecode` and solc's `evm.bytecode.object` (the same, without 0x).
    bytecode: code(raw.evm?.bytecode?.object ?? raw.bytecode, "bytecode"),
    deployedBytecode: code(raw.evm?.deployedBytecode?.object ?? raw.deployedBytecode, "deployedBytecode"),
  };
}

let uniswapCache = null;

/** The Uniswap V2 artifacts: `{ Factory, Pair, Router02, WETH9, ERC20 }`. */
export function loadUniswapArtifacts() {
  uniswapCache ??= {
    Factory: uniswapArtifact("@uniswap/v2-core/build/UniswapV2Factory.json"),
    Pair: uniswapArtifact("@uniswap/v2-core/build/UniswapV2Pair.json"),
    ERC20: uniswapArtifact("@uniswap/v2-core/build/ERC20.json"),
    Router02: uniswapArtifact("@uniswap/v2-periphery/build/UniswapV2Router02.json"),
    WETH9: uniswapArtifact("@uniswap/v2-periphery/build/WETH9.json"),
  };
  return uniswapCache;
}

let ifacesCache = null;

/**
 * The ethers Interfaces of the Uniswap contracts. Loaded on first use, not at import: chain.mjs
 * imports this file, and its other commands must not need the Uniswap packages.
 */
function ifaces() {
  if (ifacesCache === null) {
    const u = loadUniswapArtifacts();
    ifacesCache = {
      factory: new Interface(u.Factory.abi),
      pair: new Interface(u.Pair.abi),
      erc20: new Interface(u.ERC20.abi),
      router: new Interface(u.Router02.abi),
      weth: new Interface(u.WETH9.abi),
    };
  }
  return ifacesCache;
}

/** keccak256 of the pair's creation code: the hash CREATE2 pair addresses derive from. */
export function pairInitCodeHash() {
  return keccak256(loadUniswapArtifacts().Pair.bytecode);
}

/** The address `factory` creates (or would create) the pair of `tokenX` and `tokenY` at. */
export function pairAddress(factory, tokenX, tokenY, initCodeHash = pairInitCodeHash()) {
  const [token0, token1] = sortTokens(tokenX, tokenY);
  return getCreate2Address(factory, solidityPackedKeccak256(["address", "address"], [token0, token1]), initCodeHash);
}

function sortTokens(x, y) {
  const [a, b] = [getAddress(x), getAddress(y)];
  if (a === b) throw new Error(`identical tokens ${a}`);
  return a.toLowerCase() < b.toLowerCase() ? [a, b] : [b, a];
}

// -------------------------------------------------------------------------------- call helpers

/** A read-only call of `iface.fn(...args)` at `to` (a `Result`; single values unwrapped). */
async function read(chain, iface, to, fn, args = []) {
  const data = iface.encodeFunctionData(fn, args);
  let out;
  try {
    out = await chain.rpc.call("eth_call", [{ to, data }, "latest"]);
  } catch (error) {
    throw new Error(`${fn} at ${to} reverts: ${error.message}`);
  }
  const result = iface.decodeFunctionResult(fn, out);
  return result.length === 1 ? result[0] : result;
}

/** `iface.fn(...args)` at `to` sent by `actor` with `value` wei; resolves to the receipt. */
function send(actor, iface, to, fn, args = [], value = 0n, label = fn) {
  return actor.sendRaw({ to, data: iface.encodeFunctionData(fn, args), value, label });
}

async function deployContract(actor, artifact, label, types = [], args = []) {
  const encoded = AbiCoder.defaultAbiCoder().encode(types, args).slice(2);
  const receipt = await actor.deploy(artifact.bytecode + encoded, label);
  return getAddress(receipt.contractAddress);
}

// ---------------------------------------------------------------------------------- swap-deploy

/**
 * Deploys the Uniswap V2 world described at the top of this file from dev account 0, installs
 * Multicall3 at its canonical address and checks that the router finds the factory's pairs.
 * `chain` is an rpc.mjs Chain whose artifacts include Multicall3 (chain.mjs's `connect`).
 */
export async function swapDeploy(chain) {
  const multicallArtifact = chain.artifacts.Multicall3;
  if (!multicallArtifact?.deployedBytecode) {
    throw new Error("no Multicall3 artifact with deployedBytecode: compile.mjs must build tests/contracts/Multicall3.sol");
  }
  const u = loadUniswapArtifacts();
  const deployer = chain.actor(DEV_KEYS[0]);

  const weth = await deployContract(deployer, u.WETH9, "WETH9");
  const tokens = {};
  for (const name of TOKEN_NAMES) {
    tokens[name] = await deployContract(deployer, u.ERC20, `ERC20 ${name}`, ["uint256"], [SUPPLY]);
  }
  tokens.WETH = weth;
  const factory = await deployContract(deployer, u.Factory, "UniswapV2Factory", ["address"], [deployer.address]);
  const router = await deployContract(deployer, u.Router02, "UniswapV2Router02", ["address", "address"], [factory, weth]);

  // Our Multicall3's runtime code where real chains have Multicall3 (it needs no constructor).
  await chain.rpc.call("anvil_setCode", [MULTICALL3_ADDRESS, multicallArtifact.deployedBytecode]);
  const installed = await chain.rpc.call("eth_getCode", [MULTICALL3_ADDRESS, "latest"]);
  if (installed.toLowerCase() !== multicallArtifact.deployedBytecode.toLowerCase()) {
    throw new Error(`anvil_setCode: the code at ${MULTICALL3_ADDRESS} is not Multicall3's runtime code`);
  }

  // The router pulls both amounts with transferFrom: wrap ETH, then approve once per token.
  await send(deployer, ifaces().weth, weth, "deposit", [], WRAP, "WETH9.deposit");
  for (const name of [...TOKEN_NAMES, "WETH"]) {
    const needed = LIQUIDITY.reduce(
      (sum, [x, y, ax, ay]) => sum + (x === name ? ax : 0n) + (y === name ? ay : 0n),
      0n,
    );
    if (needed > 0n) await send(deployer, ifaces().erc20, tokens[name], "approve", [router, needed], 0n, `${name}.approve`);
  }
  for (const [x, y, ax, ay] of LIQUIDITY) {
    await send(
      deployer,
      ifaces().router,
      router,
      "addLiquidity",
      [tokens[x], tokens[y], ax, ay, 0n, 0n, deployer.address, DEADLINE],
      0n,
      `addLiquidity ${x}/${y}`,
    );
  }

  // The router computes pair addresses itself (CREATE2 with the init code hash compiled into
  // UniswapV2Library): it must agree with the factory, or every quote through it is wrong.
  const initCodeHash = pairInitCodeHash();
  const names = [...new Set(LIQUIDITY.map(([x, y]) => `${x}/${y}`))];
  const pairs = [];
  for (const name of names) {
    const [x, y] = name.split("/");
    const pair = getAddress(await read(chain, ifaces().factory, factory, "getPair", [tokens[x], tokens[y]]));
    const expected = pairAddress(factory, tokens[x], tokens[y], initCodeHash);
    if (pair !== expected) {
      throw new Error(
        `factory.getPair(${x}, ${y}) = ${pair} but CREATE2 with keccak256(UniswapV2Pair bytecode) = ${initCodeHash} gives ${expected}: the npm Pair bytecode is not the one the factory deploys`,
      );
    }
    const [token0, token1] = sortTokens(tokens[x], tokens[y]);
    const onChain0 = getAddress(await read(chain, ifaces().pair, pair, "token0"));
    if (onChain0 !== token0) throw new Error(`pair ${name}: token0 is ${onChain0}, expected ${token0}`);
    const [reserve0, reserve1] = await read(chain, ifaces().pair, pair, "getReserves");
    pairs.push({ name, pair, token0, token1, reserve0: reserve0.toString(), reserve1: reserve1.toString() });
  }
  const noPair = await read(chain, ifaces().factory, factory, "getPair", [tokens.A, tokens.D]);
  if (BigInt(noPair) !== 0n) throw new Error(`A/D must have no pair, the factory has ${noPair}`);

  if (getAddress(await read(chain, ifaces().router, router, "factory")) !== factory) throw new Error("router.factory() is not the factory");
  if (getAddress(await read(chain, ifaces().router, router, "WETH")) !== weth) throw new Error("router.WETH() is not WETH9");
  let amounts;
  try {
    amounts = await read(chain, ifaces().router, router, "getAmountsOut", [e18("1"), [tokens.A, weth, tokens.B]]);
  } catch (error) {
    throw new Error(
      `router.getAmountsOut(1e18, [A, WETH, B]) fails: the init code hash compiled into UniswapV2Router02 is not keccak256 of the npm UniswapV2Pair bytecode (${initCodeHash})? ${error.message}`,
    );
  }
  if (amounts.length !== 3 || amounts[2] === 0n) throw new Error(`router.getAmountsOut(1e18, [A, WETH, B]) = ${amounts}`);

  const blockNumber = await chain.blockNumber();
  const multicallBlock = await read(chain, new Interface(multicallArtifact.abi), MULTICALL3_ADDRESS, "getBlockNumber");
  if (Number(multicallBlock) !== blockNumber) {
    throw new Error(`Multicall3.getBlockNumber() = ${multicallBlock}, eth_blockNumber = ${blockNumber}`);
  }

  return {
    factory,
    router,
    weth,
    multicall: MULTICALL3_ADDRESS,
    initCodeHash,
    baseTokens: [weth, tokens.USDC],
    tokens,
    pairs,
    blockNumber,
    chainId: Number(chain.chainId),
  };
}

// ----------------------------------------------------------------------------------- swap-trade

/** A token given by its name in `deployed.tokens` (any case) or by its address. */
export function resolveToken(deployed, token) {
  const byName = Object.entries(deployed.tokens ?? {}).find(([name]) => name.toLowerCase() === token.toLowerCase());
  if (byName) return getAddress(byName[1]);
  try {
    return getAddress(token);
  } catch {
    throw new Error(`token ${token} is neither a name of ${Object.keys(deployed.tokens ?? {}).join(", ")} nor an address`);
  }
}

/**
 * `router.swapExactTokensForTokens(amountIn, 0, path, sender, far deadline)` from the account of
 * `fromKey` (default dev account 0, which holds every supply). A sender short of the input token
 * is topped up first: it wraps its own ETH when the input is WETH, else dev account 0 sends the
 * shortfall. `deployed` is swapDeploy's output; `path` token names or addresses.
 * Resolves to `{ txHash, blockNumber, amounts }`, amounts (decimal strings) as the pairs' Swap
 * events report them: amounts[0] is amountIn, amounts[i + 1] what hop i paid out.
 */
export async function swapTrade(chain, deployed, { path, amountIn, fromKey = DEV_KEYS[0] }) {
  if (!Array.isArray(path) || path.length < 2) throw new Error("a swap path needs at least two tokens");
  if (amountIn <= 0n) throw new Error("amountIn must be positive");
  const tokens = path.map((token) => resolveToken(deployed, token));
  const router = getAddress(deployed.router);
  const factory = getAddress(deployed.factory);
  const weth = getAddress(deployed.weth);
  const sender = chain.actor(fromKey);

  const balance = await read(chain, ifaces().erc20, tokens[0], "balanceOf", [sender.address]);
  if (balance < amountIn) {
    const shortfall = amountIn - balance;
    if (tokens[0] === weth) {
      await send(sender, ifaces().weth, weth, "deposit", [], shortfall, "WETH9.deposit");
    } else {
      const funder = chain.actor(DEV_KEYS[0]);
      if (funder.address === sender.address) {
        throw new Error(`${sender.address} holds ${balance} of ${tokens[0]}, less than ${amountIn}`);
      }
      await send(funder, ifaces().erc20, tokens[0], "transfer", [sender.address, shortfall], 0n, "top-up transfer");
    }
  }
  await send(sender, ifaces().erc20, tokens[0], "approve", [router, amountIn], 0n, "approve router");
  const receipt = await send(
    sender,
    ifaces().router,
    router,
    "swapExactTokensForTokens",
    [amountIn, 0n, tokens, sender.address, DEADLINE],
    0n,
    `swapExactTokensForTokens ${path.join("→")}`,
  );

  // One Swap per hop, in path order; each pays out the side that is not its input.
  const swapTopic = ifaces().pair.getEvent("Swap").topicHash;
  const swaps = receipt.logs.filter((log) => log.topics[0] === swapTopic);
  if (swaps.length !== tokens.length - 1) throw new Error(`expected ${tokens.length - 1} Swap events, the receipt has ${swaps.length}`);
  const amounts = [amountIn];
  swaps.forEach((log, hop) => {
    const expectedPair = pairAddress(factory, tokens[hop], tokens[hop + 1]);
    if (getAddress(log.address) !== expectedPair) throw new Error(`hop ${hop}: Swap from ${log.address}, expected pair ${expectedPair}`);
    const { amount0Out, amount1Out } = ifaces().pair.parseLog(log).args;
    amounts.push(amount0Out > 0n ? amount0Out : amount1Out);
  });
  return {
    txHash: receipt.transactionHash,
    blockNumber: Number(receipt.blockNumber),
    amounts: amounts.map((amount) => amount.toString()),
  };
}
