// Serves the built Worker bundle on workerd through Miniflare, for the e2e tests and the
// benchmark. Bindings come from the WORKER_BINDINGS JSON; the port from PORT.
// The scheduled handler is reachable at /cdn-cgi/handler/scheduled (unsafeTriggerHandlers).
// The pages' files are Workers static assets, served before the Worker as in production, from
// the directory wrangler.toml deploys (assembled here when missing or stale).
import { Miniflare } from "miniflare";
import path from "node:path";
import { ensureAssets } from "../../scripts/worker-assets.mjs";

const root = path.resolve(import.meta.dirname, "..", "..");
const bundle = path.join(root, "functions/hosts/cloudflare/build/index.js");

const mf = new Miniflare({
  modules: true,
  scriptPath: bundle,
  modulesRoot: path.dirname(bundle),
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
  compatibilityDate: "2026-04-20",
  bindings: JSON.parse(process.env.WORKER_BINDINGS ?? "{}"),
  // As wrangler.toml [assets]: a file that exists is served with the headers of its `_headers`
  // rule; anything else reaches the Worker.
  assets: {
    directory: ensureAssets(),
    routerConfig: { has_user_worker: true },
    assetConfig: { html_handling: "auto-trailing-slash", not_found_handling: "none" },
  },
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
