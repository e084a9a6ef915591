// Serves the built Worker bundle on workerd through Miniflare, for the e2e tests and the
// benchmark. Bindings come from the WORKER_BINDINGS JSON; the port from PORT.
// The scheduled handler is reachable at /cdn-cgi/handler/scheduled (unsafeTriggerHandlers).
import { Miniflare } from "miniflare";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..", "..");
const bundle = path.join(root, "functions/hosts/cloudflare/build/index.js");

const mf = new Miniflare({
  modules: true,
  scriptPath: bundle,
  modulesRoot: path.dirname(bundle),
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
  compatibilityDate: "2026-04-20",
  bindings: JSON.parse(process.env.WORKER_BINDINGS ?? "{}"),
  host: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  unsafeTriggerHandlers: true,
  cf: false,
  verbose: false,
});
const url = await mf.ready;
console.log(`listening ${url.href}`);

const stop = async () => {
  await mf.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
