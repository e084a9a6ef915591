// Assembles the Workers static assets (wrangler.toml [assets] directory = target/worker-assets):
// the scanner and live seat-map pages' files, the npm jsQR decoder, and the `_headers` /
// `_redirects` that give them the headers and the /scanner redirect the function sends on Spin
// (where the same files are compiled in). The one dynamic page, /events/{id}/live, stays in the
// Worker (functions/src/routes/live_page.rs): an asset store cannot map it onto one file.
//
// Run by wrangler's [build] command and by tests/support/serve-worker.mjs (ensureAssets), so
// `wrangler deploy`, the e2e tests and the bench all serve this one directory. Concurrent runs
// are safe: the directory is built aside and renamed into place, only when it differs.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ASSETS_DIR = path.join(root, "target/worker-assets");

// Without node_modules (run scripts/setup.sh) the page relies on the browser's BarcodeDetector,
// as the Spin build does (functions/build.rs).
const JSQR_STUB = "/* jsqr is not installed (run scripts/setup.sh); BarcodeDetector only. */\n";

/** Every asset: its path in the directory and its bytes. */
function wanted() {
  const read = (p) => fs.readFileSync(path.join(root, p));
  const files = new Map();
  for (const name of ["index.html", "app.js", "app.css"]) {
    files.set(`scanner/${name}`, read(`functions/scanner/${name}`));
  }
  const jsqr = path.join(root, "node_modules/jsqr/dist/jsQR.js");
  files.set("scanner/jsqr.js", fs.existsSync(jsqr) ? fs.readFileSync(jsqr) : Buffer.from(JSQR_STUB));
  // Not live/index.html: the Worker serves it at /events/{id}/live, and only there.
  for (const name of ["app.js", "state.js", "app.css"]) {
    files.set(`live/${name}`, read(`functions/live/${name}`));
  }
  for (const name of ["_headers", "_redirects"]) {
    files.set(name, read(`functions/hosts/cloudflare/assets/${name}`));
  }
  return files;
}

/** Paths of the files under `dir`, relative and with `/`. */
function listed(dir) {
  if (!fs.existsSync(dir)) return null;
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"));
}

function matches(dir, files) {
  const present = listed(dir);
  if (present === null || present.length !== files.size) return false;
  return present.every((p) => files.has(p) && fs.readFileSync(path.join(dir, p)).equals(files.get(p)));
}

/** Makes ASSETS_DIR hold exactly the assets; returns it. */
export function ensureAssets() {
  const files = wanted();
  if (matches(ASSETS_DIR, files)) return ASSETS_DIR;
  const fresh = `${ASSETS_DIR}.${process.pid}.new`;
  fs.rmSync(fresh, { recursive: true, force: true });
  for (const [p, bytes] of files) {
    fs.mkdirSync(path.dirname(path.join(fresh, p)), { recursive: true });
    fs.writeFileSync(path.join(fresh, p), bytes);
  }
  const old = `${ASSETS_DIR}.${process.pid}.old`;
  try {
    fs.renameSync(ASSETS_DIR, old);
  } catch (e) {
    if (e.code !== "ENOENT") throw e;
  }
  try {
    fs.renameSync(fresh, ASSETS_DIR);
  } catch (e) {
    // Another run put its copy in place first: it holds the same files.
    if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") throw e;
    fs.rmSync(fresh, { recursive: true, force: true });
  }
  fs.rmSync(old, { recursive: true, force: true });
  return ASSETS_DIR;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = ensureAssets();
  const count = listed(dir).length;
  console.log(`worker assets: ${count} files in ${path.relative(root, dir)}`);
}
