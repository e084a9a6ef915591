// Serves the built Worker bundle on workerd through Miniflare, for the e2e tests and the
// benchmark. Bindings come from the WORKER_BINDINGS JSON; the port from PORT.
// The scheduled handler: with static assets Miniflare's entry is the assets router, whose
// /cdn-cgi/handler/scheduled does not reach the Worker, so with CONTROL_FILE set a small control
// server (its port in the file CONTROL_FILE names) answers GET /scheduled?cron=… by calling the
// Worker's scheduled() itself.
// The pages' files are Workers static assets, served before the Worker as in production, from
// the directory wrangler.toml deploys (assembled here when missing or stale).
import { Miniflare } from "miniflare";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { ensureAssets } from "../../scripts/worker-assets.mjs";

const root = path.resolve(import.meta.dirname, "..", "..");
const bundle = path.join(root, "functions/hosts/cloudflare/build/index.js");

if (process.env.CONTROL_FILE) {
  const control = createServer(async (req, res) => {
    const asked = new URL(req.url ?? "/", "http://control");
    if (asked.pathname !== "/scheduled") {
      res.writeHead(404).end("not found");
      return;
    }
    try {
      await ready;
      const worker = await mf.getWorker();
      const result = await worker.scheduled({ cron: asked.searchParams.get("cron") ?? "* * * * *" });
      res.writeHead(result.outcome === "ok" ? 200 : 500, { "content-type": "text/plain" });
      res.end(result.outcome);
    } catch (error) {
      res.writeHead(500, { "content-type": "text/plain" }).end(String(error));
    }
  });
  // Any free port, written to CONTROL_FILE once bound: a port picked in advance could be taken
  // by another process before this server binds it.
  control.listen(0, "127.0.0.1", () => {
    writeFileSync(process.env.CONTROL_FILE, String(control.address().port));
  });
}

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
const ready = mf.ready;
const url = await ready;
console.log(`listening ${url.href}`);


const stop = async () => {
  await mf.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
