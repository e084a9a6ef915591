// The live seat-map page (/events/{id}/live) in real headless Chromium.
//
// 1. The page follows the stream: a seat held through the API turns `held` on the page
//    within 2 s, and a GA hold moves the type's counters.
// 2. Cut off (the page talks to the API through a TCP forwarder the test drops, see cut.mjs),
//    the page misses the changes made meanwhile; back on it catches up from the change log and
//    ends with exactly a fresh snapshot's seat states, counters and seq, and streams again.
// 3. The same with more changes than the log keeps (the server runs with
//    LIVE_LOG_MAX_ENTRIES=10): the page's cursor is too old, so it takes a new snapshot.
//
// Run: LIVE_FIXTURE=/path/fixture.json node --test tests/js/live/
// The fixture (written by the Rust e2e test tests/e2e/live_log.rs, which also runs the server)
// is { baseUrl, eventId, gaTypeId, seats: [label…], tokens: [buyer access token…],
// artifactsDir }. Screenshots and the page's console log land in artifactsDir. Without
// LIVE_FIXTURE the test is skipped. Needs Debian chromium at /usr/bin/chromium (never
// `playwright install`).

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, OFFLINE_ARGS } from "../chromium.mjs";
import { Api } from "./api.mjs";
import { startCutter } from "./cut.mjs";

const WAIT = 30_000;
const SHOWN_WITHIN = 2_000; // a change reaches a streaming page within this
const TEST_TIMEOUT = 120_000;

const FIXTURE = process.env.LIVE_FIXTURE;

if (!FIXTURE) {
  test("live page in Chromium", { skip: "LIVE_FIXTURE is not set" }, () => {});
} else {
  const fx = JSON.parse(await readFile(FIXTURE, "utf8"));
  for (const field of ["baseUrl", "eventId", "gaTypeId", "artifactsDir"]) {
    assert.ok(typeof fx[field] === "string" && fx[field], `fixture: ${field} missing`);
  }
  assert.ok(fx.seats?.length >= 20 && fx.tokens?.length >= 4, "fixture: seats / tokens");
  const artifact = (name) => path.join(path.resolve(fx.artifactsDir), name);
  const api = new Api(fx);
  const log = [];
  const pageErrors = [];
  let browser, context, page, cutter;

  describe("live seat-map page in Chromium", () => {
    before(async () => {
      await mkdir(path.resolve(fx.artifactsDir), { recursive: true });
      cutter = await startCutter(fx.baseUrl);
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: OFFLINE_ARGS });
      context = await browser.newContext({ viewport: { width: 900, height: 900 } });
      page = await context.newPage();
      page.on("console", (m) => log.push(`[${m.type()}] ${m.text()}`));
      page.on("pageerror", (e) => {
        pageErrors.push(e.message);
        log.push(`[pageerror] ${e.stack || e.message}`);
      });
      page.on("requestfailed", (r) => log.push(`[requestfailed] ${r.url()} ${r.failure()?.errorText}`));
      page.on("response", (r) => log.push(`[response] ${r.status()} ${r.url()}`));
      await page.goto(`${cutter.url}/events/${fx.eventId}/live`);
      await page.waitForFunction((n) => document.querySelectorAll("[data-seat]").length === n, fx.seats.length, {
        timeout: WAIT,
      });
      await page.waitForSelector("#seq:not([data-seq=''])", { timeout: WAIT });
    });

    after(async () => {
      await writeFile(artifact("console.log"), log.join("\n") + "\n").catch(() => {});
      await browser?.close();
      await cutter?.close();
    });

    test("a hold shows on the page within 2 s (stream)", { timeout: TEST_TIMEOUT }, async () => {
      await waitForMode("live");
      await api.hold(0, { seats: [fx.seats[0]] });
      const started = Date.now();
      await page.waitForSelector(`[data-seat="${fx.seats[0]}"][data-state="held"]`, { timeout: SHOWN_WITHIN });
      log.push(`[test] seat shown held after ${Date.now() - started} ms`);
      await api.hold(1, { ticketTypeId: fx.gaTypeId, quantity: 2 });
      await page.waitForSelector(`tr[data-type="${fx.gaTypeId}"] td[data-field="held"]:text-is("2")`, {
        timeout: SHOWN_WITHIN,
      });
      await expectSnapshot("after-hold");
      await page.screenshot({ path: artifact("live.png"), fullPage: true });
    });

    test("cut off, then back: every missed change is applied", { timeout: TEST_TIMEOUT }, async () => {
      // Fewer changes than the log keeps: the page catches up from the log.
      await cutOffWhile(async () => {
        await api.hold(2, { seats: [fx.seats[1], fx.seats[2]] });
        await api.release(0);
        await api.hold(3, { seats: [fx.seats[0]] });
        await api.hold(0, { ticketTypeId: fx.gaTypeId, quantity: 3 });
        await api.release(1);
        await api.hold(1, { seats: [fx.seats[5]] });
      }, 6);
      await expectSnapshot("after-catch-up");
      await waitForMode("live");
    });

    test("cut off past the log's retention: a new snapshot", { timeout: TEST_TIMEOUT }, async () => {
      await cutOffWhile(async () => {
        for (let n = 0; n < 12; n++) await api.hold(4 + (n % 4), { seats: [fx.seats[8 + n]] }, `r${n}`);
        await api.release(2);
      }, 13);
      await expectSnapshot("after-resnapshot");
      assert.deepEqual(pageErrors, [], "no uncaught errors in the page");
      const refused = log.filter((line) => line.includes("Content Security Policy"));
      assert.deepEqual(refused, [], "nothing the page loads is refused by its CSP");
    });
  });

  async function waitForMode(mode) {
    try {
      await page.waitForSelector(`#connection[data-mode="${mode}"]`, { timeout: WAIT });
    } catch (err) {
      const seen = await page.getAttribute("#connection", "data-mode").catch(() => "?");
      throw new Error(`the page is ${seen}, not ${mode}: ${err.message}`);
    }
  }

  const pageSeq = () => page.getAttribute("#seq", "data-seq").then(Number);

  // Cuts the page off (its open stream dropped, new connections refused), runs `changes`
  // (which must make `count` log entries) through the API, checks the page saw none of them,
  // and lets it back on.
  async function cutOffWhile(changes, count) {
    cutter.cut();
    await page.waitForSelector('#connection:not([data-mode="live"])', { timeout: WAIT });
    const before = await pageSeq();
    const headBefore = (await api.snapshot()).seq;
    await changes();
    const headAfter = (await api.snapshot()).seq;
    assert.equal(headAfter - headBefore, count, "the changes made the expected log entries");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(await pageSeq(), before, "the page saw nothing while cut off");
    cutter.restore();
  }

  // Waits until the page's seq is a fresh snapshot's, then compares everything it shows.
  async function expectSnapshot(name) {
    const snap = await api.snapshot();
    try {
      await page.waitForFunction((seq) => document.getElementById("seq").dataset.seq === String(seq), snap.seq, {
        timeout: WAIT,
      });
      const shown = await page.evaluate(() => ({
        seats: Object.fromEntries([...document.querySelectorAll("[data-seat]")].map((s) => [s.dataset.seat, s.dataset.state])),
        types: Object.fromEntries(
          [...document.querySelectorAll("tr[data-type]")].map((row) => [
            row.dataset.type,
            Object.fromEntries([...row.querySelectorAll("td[data-field]")].map((c) => [c.dataset.field, Number(c.textContent)])),
          ]),
        ),
        counts: { ...document.getElementById("seat-counts").dataset },
      }));
      const want = Object.fromEntries(fx.seats.map((label) => [label, snap.seatStates[label] ?? "free"]));
      assert.deepEqual(shown.seats, want, "seat states");
      for (const t of snap.ticketTypes) {
        const { free, held, sold, supply } = t;
        assert.deepEqual(shown.types[t.ticketTypeId], { free, held, sold, supply }, `type ${t.ticketTypeId}`);
      }
      assert.deepEqual(
        shown.counts,
        { free: String(snap.seats.free), held: String(snap.seats.held), sold: String(snap.seats.sold) },
        "seat counters",
      );
    } catch (err) {
      await page.screenshot({ path: artifact(`${name}-failure.png`), fullPage: true }).catch(() => {});
      throw err;
    }
  }
}
