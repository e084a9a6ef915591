// Compiles the test contracts (tests/contracts/*.sol) with solc-js, the npm `solc` package
// pinned in package.json: forge cannot download a compiler here, solc-js needs no download.
//
// Writes tests/contracts/build/<Name>.json = {abi, bytecode, deployedBytecode} (creation code,
// and the runtime code that `anvil_setCode` installs) and skips the work when every artifact is
// newer than every source and than this file (which holds the settings).
//
// Run: node tests/js/chain/compile.mjs [--force]      (prints one JSON line: what it did)
// Use: import { loadArtifacts } from "./compile.mjs"  (compiles first when needed)

import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
export const CONTRACTS_DIR = resolve(HERE, "../../contracts");
export const BUILD_DIR = join(CONTRACTS_DIR, "build");

/**
 * The contracts, each in the file of its name; none imports another. Multicall3 is our own
 * implementation of the Multicall3 interface subset the swap quotes use (see swap.mjs).
 */
export const CONTRACTS = ["TicketNFT", "Marketplace", "PaymentVault", "Multicall3"];

// "cancun" runs on every hardfork anvil 1.x defaults to (prague, osaka) and is the newest
// target whose opcodes (PUSH0, MCOPY, TSTORE) every current EVM chain has.
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};

const sourcePath = (name) => join(CONTRACTS_DIR, `${name}.sol`);
const artifactPath = (name) => join(BUILD_DIR, `${name}.json`);

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/** True when some artifact is missing or older than a source or than this script. */
export function isStale() {
  const newestInput = Math.max(
    mtime(fileURLToPath(import.meta.url)),
    ...CONTRACTS.map((name) => mtime(sourcePath(name))),
  );
  return CONTRACTS.some((name) => {
    const built = mtime(artifactPath(name));
    return built === null || built <= newestInput;
  });
}

/**
 * Compiles when stale (or when `force`), then returns `{ compiled, solcVersion }`.
 * Throws with solc's formatted messages when the sources do not compile.
 */
export async function compile({ force = false } = {}) {
  if (!force && !isStale()) return { compiled: false };
  // Loading solc-js (an emscripten build) takes ~1 s: only when there is work to do.
  const { default: solc } = await import("solc");
  const input = {
    language: "Solidity",
    sources: Object.fromEntries(
      CONTRACTS.map((name) => [`${name}.sol`, { content: readFileSync(sourcePath(name), "utf8") }]),
    ),
    settings: SETTINGS,
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) {
    throw new Error(`solc ${solc.version()}:\n${errors.map((e) => e.formattedMessage).join("\n")}`);
  }
  for (const warning of output.errors ?? []) {
    process.stderr.write(`solc: ${warning.formattedMessage}\n`);
  }
  mkdirSync(BUILD_DIR, { recursive: true });
  for (const name of CONTRACTS) {
    const contract = output.contracts[`${name}.sol`]?.[name];
    if (!contract) throw new Error(`solc produced no ${name} in ${name}.sol`);
    const artifact = {
      abi: contract.abi,
      bytecode: `0x${contract.evm.bytecode.object}`,
      deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
    };
    // Write-then-rename, so a concurrent reader never sees half a file.
    const tmp = `${artifactPath(name)}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(artifact, null, 2)}\n`);
    renameSync(tmp, artifactPath(name));
  }
  return { compiled: true, solcVersion: solc.version() };
}

/** `{ TicketNFT: {abi, bytecode, deployedBytecode}, Marketplace: …, … }`, compiling first if needed. */
export async function loadArtifacts() {
  await compile();
  return Object.fromEntries(
    CONTRACTS.map((name) => [name, JSON.parse(readFileSync(artifactPath(name), "utf8"))]),
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  try {
    const result = await compile({ force: process.argv.includes("--force") });
    const ms = Math.round(performance.now() - started);
    process.stdout.write(`${JSON.stringify({ ...result, buildDir: BUILD_DIR, ms })}\n`);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
