// The door scanner page (/scanner/) in real Chromium with a fake camera.
//
// Each code the server issued is rendered from its SVG to a PNG, turned into a short Y4M clip,
// and fed to a fresh headless Chromium as its camera (`--use-file-for-fake-video-capture`,
// looped by Chromium). The page decodes it with jsQR (Linux Chromium has no BarcodeDetector
// engine) and must show what the check-in API (online) or its own checks (offline) decide.
//
// Run: SCANNER_FIXTURE=/path/fixture.json node --test tests/js/scanner/
// The fixture (written by the Rust e2e test, which also runs the server) is
//   { baseUrl, verifierKey, eventId, gate, artifactsDir,
//     online: {code, svg}, validPass: {code, svg, ticketId}, revokedPass: {code, svg} }
// and the revoked pass must already be on the event's revocation list. Screenshots, clips and
// the pages' console logs land in artifactsDir. Without SCANNER_FIXTURE the test is skipped.
// Needs Debian chromium at /usr/bin/chromium (never `playwright install`).

import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, OFFLINE_ARGS } from "../chromium.mjs";
import jsQR from "jsqr";
import { lumaFromPng, centerOnWhite, y4mFromLuma, rgbaFromLuma } from "./y4m.mjs";

const WAIT = 30_000; // per wait
const TEST_TIMEOUT = 180_000;
const cameraArgs = (clip) => [
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
  `--use-file-for-fake-video-capture=${clip}`,
];

const FIXTURE = process.env.SCANNER_FIXTURE;

if (!FIXTURE) {
  test("scanner page in Chromium", { skip: "SCANNER_FIXTURE is not set" }, () => {});
} else {
  const fx = JSON.parse(await readFile(FIXTURE, "utf8"));
  for (const field of ["baseUrl", "verifierKey", "eventId", "gate", "artifactsDir"]) {
    assert.ok(typeof fx[field] === "string" && fx[field], `fixture: ${field} missing`);
  }
  for (const field of ["online", "validPass", "revokedPass"]) {
    assert.ok(fx[field]?.code && fx[field]?.svg, `fixture: ${field}.code / ${field}.svg missing`);
  }
  const artifacts = path.resolve(fx.artifactsDir);
  const artifact = (name) => path.join(artifacts, name);
  const clips = {}; // name → absolute .y4m path

  describe("scanner page in Chromium with a fake camera", () => {
    before(async () => {
      await mkdir(artifacts, { recursive: true });
      const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: OFFLINE_ARGS });
      try {
        const page = await browser.newPage({ viewport: { width: 400, height: 400 } });
        for (const name of ["online", "validPass", "revokedPass"]) {
          clips[name] = await makeClip(page, name, fx[name]);
        }
      } finally {
        await browser.close();
      }
    });

    test("online code: ok, then already_redeemed after the cooldown", { timeout: TEST_TIMEOUT }, async () => {
      await withScanner("online", clips.online, async ({ page }) => {
        await login(page, "?cooldown=1500");
        await page.click("#start");
        await expectResult(page, "ok", "online");
        await page.screenshot({ path: artifact("online-ok.png"), fullPage: true });
        assert.equal(await page.isVisible("#ticket"), true, "ticket details shown for an admitted ticket");

        await expectResult(page, "already_redeemed", "online");
        await page.screenshot({ path: artifact("online-already-redeemed.png"), fullPage: true });
        const firstScan = await page.textContent("#first-scan");
        assert.ok(firstScan.includes(fx.gate), `#first-scan names the first gate: ${JSON.stringify(firstScan)}`);
      });
    });

    test("valid pass offline: ok on the device, uploaded when back online", { timeout: TEST_TIMEOUT }, async () => {
      await withScanner("valid-pass", clips.validPass, async ({ context, page }) => {
        await login(page);
        await page.waitForSelector('#sync-status[data-synced="true"]', { timeout: WAIT });
        await goOffline(context, page);
        await page.click("#start");
        await expectResult(page, "ok", "offline");
        await page.screenshot({ path: artifact("offline-ok.png"), fullPage: true });
        assert.equal(await page.isVisible("#ticket"), true, "ticket details from the pass are shown");
        const queued = Number(await page.textContent("#queue-count"));
        assert.ok(queued >= 1, `#queue-count is ${queued} after an offline scan`);

        await context.setOffline(false);
        await page.waitForFunction(
          () => document.getElementById("queue-count").textContent.trim() === "0",
          null,
          { timeout: WAIT },
        );
        const res = await fetch(`${fx.baseUrl}/v1/checkin/events/${encodeURIComponent(fx.eventId)}/stats`, {
          headers: { "X-Verifier-Key": fx.verifierKey },
        });
        const body = await res.text();
        assert.equal(res.status, 200, `stats: ${body}`);
        assert.equal(JSON.parse(body).admitted, 2, `stats after the online ticket and this pass: ${body}`);
      });
    });

    test("revoked pass offline: revoked from the synced revocation list", { timeout: TEST_TIMEOUT }, async () => {
      await withScanner("revoked-pass", clips.revokedPass, async ({ context, page }) => {
        await login(page);
        await page.waitForSelector('#sync-status[data-synced="true"]', { timeout: WAIT });
        await page.waitForFunction(
          () => Number(document.getElementById("sync-status").getAttribute("data-revocations")) >= 1,
          null,
          { timeout: WAIT },
        );
        await goOffline(context, page);
        await page.click("#start");
        await expectResult(page, "revoked", "offline");
        await page.screenshot({ path: artifact("offline-revoked.png"), fullPage: true });
      });
    });

    test("forget key: gone from storage, this tab keeps scanning, a reload asks again", { timeout: TEST_TIMEOUT }, async () => {
      await withScanner("forget-key", clips.online, async ({ page }) => {
        await login(page);
        const stored = () => page.evaluate(() => localStorage.getItem("otscan.key"));
        assert.equal(await stored(), JSON.stringify(fx.verifierKey), "login stores the key");
        await page.click("#forget-key");
        assert.equal(await stored(), null, "the key is removed from storage");
        assert.equal(await page.isDisabled("#forget-key"), true);
        assert.equal(await page.isVisible("#scan-view"), true, "this tab keeps its session");
        // The key still works from memory: the first test admitted this ticket already.
        await page.click("#start");
        await expectResult(page, "already_redeemed", "online");
        await page.reload();
        await page.waitForSelector("#login-view:not([hidden])", { timeout: WAIT });
        assert.equal(await page.isVisible("#scan-view"), false, "after a reload the key is asked again");
      });
    });
  });

  // The SVG → a 400×400 screenshot → a 640×480 grayscale Y4M clip (checked to decode first).
  async function makeClip(page, name, { code, svg }) {
    const markup = String(svg).replace(/^\s*<\?xml[^>]*\?>/, "");
    await page.setContent(
      "<!doctype html><html><head><style>" +
        "html,body{margin:0;width:400px;height:400px;overflow:hidden;background:#fff}" +
        "body{display:flex;align-items:center;justify-content:center}" +
        "svg{display:block;width:360px;height:360px}" +
        `</style></head><body>${markup}</body></html>`,
    );
    await page.evaluate(() => {
      const svg = document.querySelector("svg");
      if (!svg) throw new Error("no <svg> element in the fixture's svg");
      if (!svg.getAttribute("viewBox")) {
        const w = parseFloat(svg.getAttribute("width"));
        const h = parseFloat(svg.getAttribute("height"));
        if (w > 0 && h > 0) svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
      }
      svg.removeAttribute("width");
      svg.removeAttribute("height");
      svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    });
    const png = await page.screenshot({ type: "png" });
    await writeFile(artifact(`${name}-qr.png`), png);

    const frame = centerOnWhite(lumaFromPng(png), 640, 480);
    const decoded = jsQR(rgbaFromLuma(frame), frame.width, frame.height);
    if (name === "online") {
      // Every /qr.svg call signs a fresh online code (new nonce), so the SVG holds a sibling of
      // the fixture's code: same ticket and key, its own nonce and MAC.
      const [payload] = String(decoded?.data ?? "").split(".");
      const ticketOf = (text) => Buffer.from(text.split(".")[0], "base64url").toString().split("|")[0];
      assert.ok(payload && decoded.data.includes("."), `${name}: the clip decodes to an online code`);
      assert.equal(ticketOf(decoded.data), ticketOf(code), `${name}: the clip's code is for the fixture's ticket`);
    } else {
      assert.equal(decoded?.data, code, `${name}: the clip's frame decodes to the fixture's code`);
    }

    const clip = artifact(`${name}.y4m`);
    await writeFile(clip, y4mFromLuma(frame, { fps: 5, frames: 5 }));
    return clip;
  }

  // A fresh Chromium (fresh profile) whose camera plays `clip`; logs go to artifacts.
  async function withScanner(name, clip, run) {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...OFFLINE_ARGS, ...cameraArgs(clip)],
    });
    const log = [];
    const pageErrors = [];
    let page;
    try {
      const context = await browser.newContext({ viewport: { width: 480, height: 960 } });
      await context.grantPermissions(["camera"], { origin: fx.baseUrl });
      page = await context.newPage();
      page.on("console", (m) => log.push(`[${m.type()}] ${m.text()}`));
      page.on("pageerror", (e) => {
        pageErrors.push(e.message);
        log.push(`[pageerror] ${e.stack || e.message}`);
      });
      page.on("requestfailed", (r) => log.push(`[requestfailed] ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
      page.on("response", (r) => log.push(`[response] ${r.status()} ${r.request().method()} ${r.url()}`));
      await run({ context, page });
      assert.deepEqual(pageErrors, [], "no uncaught errors in the page");
      // The page runs under its strict CSP: anything it needs and the policy refuses shows here.
      const refused = log.filter((line) => line.includes("Content Security Policy"));
      assert.deepEqual(refused, [], "nothing the page loads is refused by its CSP");
    } catch (err) {
      await page?.screenshot({ path: artifact(`${name}-failure.png`), fullPage: true }).catch(() => {});
      throw err;
    } finally {
      await writeFile(artifact(`${name}.console.log`), log.join("\n") + "\n").catch(() => {});
      await browser.close();
    }
  }

  async function login(page, query = "") {
    await page.goto(`${fx.baseUrl}/scanner/${query}`);
    await page.fill("#key", fx.verifierKey);
    await page.fill("#gate", fx.gate);
    await page.click("#login");
    await page.waitForFunction(
      () => !document.getElementById("scan-view").hidden || document.getElementById("login-error").textContent,
      null,
      { timeout: WAIT },
    );
    assert.equal(await page.textContent("#login-error"), "", "login succeeds");
  }

  async function goOffline(context, page) {
    await context.setOffline(true);
    await page.waitForFunction(() => !navigator.onLine, null, { timeout: WAIT });
    await page.waitForSelector('#net-status[data-online="false"]', { timeout: WAIT });
  }

  // Waits for #result to show `result` in `mode`; on timeout says what it shows instead.
  async function expectResult(page, result, mode) {
    try {
      await page.waitForSelector(`#result[data-result="${result}"][data-mode="${mode}"]`, { timeout: WAIT });
    } catch (err) {
      const seen = await page
        .evaluate(() => {
          const r = document.getElementById("result");
          return {
            result: r.dataset.result,
            mode: r.dataset.mode,
            scans: r.dataset.scan,
            reason: document.getElementById("reason").textContent,
            camera: document.getElementById("camera-error").textContent,
          };
        })
        .catch(() => null);
      throw new Error(`expected #result ${result}/${mode}, page shows ${JSON.stringify(seen)}: ${err.message}`);
    }
  }
}
