// Starts a private anvil for the tools that need a fresh chain (fixtures, timings).
//
// It listens on 127.0.0.1 on a port the OS picks (`--port 0`; anvil prints the real one), with
// chain id 31337. With `deterministic`, the genesis timestamp is fixed and every block is 12 s
// after its parent (`anvil_setBlockTimestampInterval`), so block hashes do not depend on the
// wall clock and the same transactions give the same chain.

import { spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Rpc } from "./rpc.mjs";

const ANVIL = resolve(dirname(fileURLToPath(import.meta.url)), "../../../node_modules/.bin/anvil");
const GENESIS_TIMESTAMP = 1767225600; // 2026-01-01T00:00:00Z
const START_TIMEOUT_MS = 30_000;

/** Resolves to `{ url, pid, stop() }` once anvil answers JSON-RPC. */
export async function startAnvil({ deterministic = true } = {}) {
  const args = ["--host", "127.0.0.1", "--port", "0", "--chain-id", "31337"];
  if (deterministic) args.push("--timestamp", String(GENESIS_TIMESTAMP));
  const child = spawn(ANVIL, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const url = await new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`anvil did not start in ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk) => {
      output += chunk;
      const match = output.match(/Listening on (127\.0\.0\.1:\d+)/);
      if (match) {
        clearTimeout(timer);
        done(`http://${match[1]}`);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`anvil exited with ${code}:\n${output}`));
    });
  });
  // Keep draining anvil's per-request log lines so its pipe never fills.
  child.stdout.resume();
  child.stderr.resume();
  if (deterministic) await new Rpc(url).call("anvil_setBlockTimestampInterval", [12]);
  return {
    url,
    pid: child.pid,
    stop() {
      child.removeAllListeners("exit");
      child.kill("SIGTERM");
    },
  };
}
