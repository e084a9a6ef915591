// Starts a private anvil for the tools that need a fresh chain (fixtures, smoke timings).
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

/** Resolves to `{ url, pid, stop() }` once anvil answers JSON-RPC; `extraArgs` go to anvil. */
export async function startAnvil({ deterministic = true, extraArgs = [] } = {}) {
  const args = ["--host", "127.0.0.1", "--port", "0", "--chain-id", "31337", ...extraArgs];
  if (deterministic) args.push("--timestamp", String(GENESIS_TIMESTAMP));
  // node_modules/.bin/anvil is a Node wrapper around the platform binary: start it as the
  // leader of its own process group so that stopping it ends both, never only the wrapper.
  const child = spawn(ANVIL, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  // Also when this process ends on an error: a detached anvil would otherwise outlive it.
  process.once("exit", stop);

  let output = "";
  try {
    const url = await new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`anvil did not start in ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
      const onData = (chunk) => {
        output += chunk;
        const match = output.match(/Listening on (127\.0\.0\.1:\d+)/);
        if (match) {
          clearTimeout(timer);
          child.removeAllListeners("exit");
          done(`http://${match[1]}`);
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.once("exit", (code) => {
        clearTimeout(timer);
        fail(new Error(`anvil exited with ${code}:\n${output}`));
      });
    });
    // Keep draining anvil's per-request log lines so its pipes never fill.
    child.stdout.removeAllListeners("data").resume();
    child.stderr.removeAllListeners("data").resume();
    if (deterministic) await new Rpc(url).call("anvil_setBlockTimestampInterval", [12]);
    return {
      url,
      pid: child.pid,
      stop() {
        process.removeListener("exit", stop);
        stop();
      },
    };
  } catch (error) {
    stop();
    throw error;
  }
}
