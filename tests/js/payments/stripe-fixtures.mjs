// Writes shared/src/payments/fixtures/stripe.json: webhook deliveries whose `Stripe-Signature`
// headers were made by Stripe's own npm library (`Stripe.webhooks.generateTestHeaderString`),
// each with the outcome `shared::payments::stripe::verify` must give and the verdict of the
// library's own verifier (`Stripe.webhooks.constructEvent`) on the same input. The Rust tests
// (`shared/src/payments/stripe.rs`) read it with `include_str!`, so our verifier is proven
// against signatures our code did not make.
//
// Deterministic: fixed secrets, fixed timestamps, fixed payloads; no network, no API key.
//
// Run: node tests/js/payments/stripe-fixtures.mjs [--check]
//   --check  regenerate in memory and exit 1 if the committed file differs (no write)
// Re-run it after upgrading npm `stripe` or changing a case, and commit the result.

import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Stripe from "stripe";

const OUT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../shared/src/payments/fixtures/stripe.json");

// Not real secrets: test values in Stripe's `whsec_` shape.
const SECRET = "whsec_onlineticket_fixture_endpoint_secret";
const OTHER_SECRET = "whsec_onlineticket_fixture_some_other_endpoint";
const T = 1767225600; // 2026-01-01T00:00:00Z
const TOLERANCE = 300; // Stripe's libraries' DEFAULT_TOLERANCE

/** A Stripe event as the API renders it (pretty-printed, like real webhook bodies). */
function event({ id, type, created, object }) {
  const body = {
    id,
    object: "event",
    api_version: "2025-12-15.clover",
    created,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
  return JSON.stringify(body, null, 2);
}

function paymentIntent({ id, status, amount, currency, metadata, lastPaymentError = null }) {
  return {
    id,
    object: "payment_intent",
    amount,
    amount_received: status === "succeeded" ? amount : 0,
    currency,
    last_payment_error: lastPaymentError,
    livemode: false,
    metadata,
    status,
  };
}

const SUCCEEDED = event({
  id: "evt_3SucceededOnlineTicket01",
  type: "payment_intent.succeeded",
  created: T,
  object: paymentIntent({
    id: "pi_3SucceededOnlineTicket01",
    status: "succeeded",
    amount: 4200,
    currency: "eur",
    // Non-ASCII on purpose: the MAC is over the raw UTF-8 bytes.
    metadata: { order_id: "ord_01JGZ8Q3", order_ref: "0x5e1f0c3a9b7d2e4f6a8c0b1d3e5f7a9c2b4d6e8f0a1c3e5b7d9f1a3c5e7b9d0f", venue: "Zürich Hallenstadion" },
  }),
});

const FAILED = event({
  id: "evt_3FailedOnlineTicket0002",
  type: "payment_intent.payment_failed",
  created: T + 60,
  object: paymentIntent({
    id: "pi_3FailedOnlineTicket0002",
    status: "requires_payment_method",
    amount: 9900,
    currency: "usd",
    metadata: { order_id: "ord_01JGZ9XK" },
    lastPaymentError: { code: "card_declined", decline_code: "insufficient_funds", type: "card_error" },
  }),
});

// A charge event: the payment intent is referenced by `payment_intent`, not the object's id.
const CHARGE = event({
  id: "evt_3ChargeOnlineTicket00003",
  type: "charge.succeeded",
  created: T,
  object: {
    id: "ch_3ChargeOnlineTicket00003",
    object: "charge",
    amount: 4200,
    currency: "eur",
    metadata: {},
    payment_intent: "pi_3SucceededOnlineTicket01",
    status: "succeeded",
  },
});

const NOT_JSON = "this body is signed but is not JSON";

const sign = (payload, secret, timestamp) => Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
const v1Of = (header) => header.split(",").find((item) => item.startsWith("v1=")).slice(3);

/**
 * stripe-node's verdict, in the names of our error variants, from the message its verifier
 * gives (Webhooks.js of stripe@23: one StripeSignatureVerificationError message per check) or a
 * SyntaxError from parsing a correctly signed body that is not JSON.
 */
function outcomeOf(error) {
  if (error instanceof SyntaxError) return "InvalidEvent";
  const message = String(error.message);
  const byMessage = [
    ["No stripe-signature header value was provided", "Malformed"],
    ["Unable to extract timestamp and signatures from header", "Malformed"],
    ["No signatures found with expected scheme", "NoSignatures"],
    ["No signatures found matching the expected signature", "Mismatch"],
    ["Timestamp outside the tolerance zone", "TimestampOutsideTolerance"],
  ];
  const hit = byMessage.find(([prefix]) => message.startsWith(prefix));
  if (!hit) throw new Error(`stripe-node failed in a way this script does not know: ${message}`);
  return hit[1];
}

/** What stripe-node's own verifier says about a delivery received at `now` (unix seconds). */
function stripeNodeVerdict({ payload, header, now, tolerance }) {
  try {
    Stripe.webhooks.constructEvent(payload, header, SECRET, tolerance, undefined, now * 1000);
    return { outcome: "ok" };
  } catch (error) {
    return { outcome: outcomeOf(error), message: String(error.message).split("\n")[0].trim() };
  }
}

/** The fields `StripeEvent` must hold for a valid delivery of `payload`. */
function expectedEvent(payload) {
  const e = JSON.parse(payload);
  const o = e.data.object;
  return {
    id: e.id,
    eventType: e.type,
    paymentIntentId: o.object === "payment_intent" ? o.id : typeof o.payment_intent === "string" ? o.payment_intent : null,
    metadata: o.metadata ?? {},
    amount: o.amount ?? null,
    currency: o.currency ?? null,
  };
}

function cases() {
  const ok = sign(SUCCEEDED, SECRET, T);
  const failed = sign(FAILED, SECRET, T + 60);
  const other = sign(SUCCEEDED, OTHER_SECRET, T);
  const list = [
    { name: "succeeded", about: "A payment_intent.succeeded delivery received 10 s after signing.", payload: SUCCEEDED, header: ok, now: T + 10, expect: "ok" },
    { name: "payment_failed", about: "A payment_intent.payment_failed delivery received 2 s after signing.", payload: FAILED, header: failed, now: T + 62, expect: "ok" },
    { name: "charge_succeeded", about: "A charge event: the payment intent id comes from data.object.payment_intent.", payload: CHARGE, header: sign(CHARGE, SECRET, T), now: T + 1, expect: "ok" },
    {
      name: "signed_not_json",
      about: "A correctly signed body that is not a Stripe event: authentic, but unreadable.",
      payload: NOT_JSON,
      header: sign(NOT_JSON, SECRET, T),
      now: T + 1,
      expect: "InvalidEvent",
    },
    {
      name: "two_v1_second_valid",
      about: "During a secret roll Stripe sends one v1 per secret: the first (another endpoint secret) does not match, the second does.",
      payload: SUCCEEDED,
      header: `t=${T},v1=${v1Of(other)},v1=${v1Of(ok)}`,
      now: T + 10,
      expect: "ok",
    },
    {
      name: "unknown_scheme_ignored",
      about: "A v0 (test-mode) signature and an unknown key are ignored; the v1 decides.",
      payload: SUCCEEDED,
      header: `t=${T},v0=${v1Of(other)},v1=${v1Of(ok)},x9=future-scheme`,
      now: T + 10,
      expect: "ok",
    },
    { name: "other_secret", about: "Signed by Stripe's library with another endpoint's secret.", payload: SUCCEEDED, header: other, now: T + 10, expect: "Mismatch" },
    {
      name: "tampered_payload",
      about: "The header is Stripe's signature of the original body; the amount in the body was then changed.",
      payload: SUCCEEDED.replace('"amount": 4200', '"amount": 1'),
      header: ok,
      now: T + 10,
      expect: "Mismatch",
    },
    {
      name: "timestamp_moved",
      about: "Stripe's signature with t rewritten (to make a stale delivery look fresh): t is under the MAC.",
      payload: SUCCEEDED,
      header: ok.replace(`t=${T}`, `t=${T + 3600}`),
      now: T + 3610,
      expect: "Mismatch",
    },
    { name: "edge_of_tolerance", about: "Received exactly 300 s after signing: still accepted (age > tolerance rejects).", payload: SUCCEEDED, header: ok, now: T + TOLERANCE, expect: "ok" },
    { name: "stale", about: "Received 301 s after signing: a replay or a badly delayed delivery.", payload: SUCCEEDED, header: ok, now: T + TOLERANCE + 1, expect: "TimestampOutsideTolerance" },
    { name: "stale_by_a_day", about: "Received a day after signing.", payload: SUCCEEDED, header: ok, now: T + 86_400, expect: "TimestampOutsideTolerance" },
    {
      name: "future_timestamp",
      about: "t is an hour ahead of our clock. Stripe's libraries only reject timestamps too far in the past, and so do we.",
      payload: SUCCEEDED,
      header: ok,
      now: T - 3600,
      expect: "ok",
    },
    {
      name: "stale_and_other_secret",
      about: "Stale and signed with another secret: the signature is checked first (as Stripe's libraries do), so this is a mismatch.",
      payload: SUCCEEDED,
      header: other,
      now: T + 86_400,
      expect: "Mismatch",
    },
    {
      name: "whitespace_after_commas",
      about: "Spaces after the commas. stripe-ruby splits on /,\\s*/ and accepts; stripe-node splits on ',' only and finds no v1. We accept, like stripe-ruby.",
      payload: SUCCEEDED,
      header: ok.replace(",", ", "),
      now: T + 10,
      expect: "ok",
      divergesFromStripeNode: true,
    },
    { name: "no_v1", about: "Only a v0 signature: no signature with the expected scheme.", payload: SUCCEEDED, header: `t=${T},v0=${v1Of(ok)}`, now: T + 10, expect: "NoSignatures" },
    { name: "missing_t", about: "No timestamp.", payload: SUCCEEDED, header: `v1=${v1Of(ok)}`, now: T + 10, expect: "Malformed" },
    { name: "empty_header", about: "An empty Stripe-Signature header.", payload: SUCCEEDED, header: "", now: T + 10, expect: "Malformed" },
  ];
  return list.map((c) => {
    const stripeNode = stripeNodeVerdict({ ...c, tolerance: TOLERANCE });
    const agrees = stripeNode.outcome === c.expect;
    if (agrees === Boolean(c.divergesFromStripeNode)) {
      throw new Error(`case ${c.name}: expected ${c.expect} but stripe-node says ${JSON.stringify(stripeNode)}`);
    }
    const { divergesFromStripeNode = false, ...rest } = c;
    return {
      ...rest,
      tolerance: TOLERANCE,
      ...(c.expect === "ok" ? { event: expectedEvent(c.payload) } : {}),
      stripeNode,
      divergesFromStripeNode,
    };
  });
}

function generate() {
  const fixture = {
    about: `Stripe webhook deliveries signed by npm stripe@${Stripe.PACKAGE_VERSION} (generateTestHeaderString), each with the outcome shared::payments::stripe::verify must give (expect: "ok" or an error variant) and stripe-node's own constructEvent verdict. Generated by tests/js/payments/stripe-fixtures.mjs; do not edit by hand.`,
    stripeNodeVersion: Stripe.PACKAGE_VERSION,
    secret: SECRET,
    otherSecret: OTHER_SECRET,
    cases: cases(),
  };
  return `${JSON.stringify(fixture, null, 2)}\n`;
}

const text = generate();
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(OUT, "utf8");
  } catch {
    // missing: differs
  }
  if (current !== text) {
    process.stderr.write(`${OUT} is stale: run node tests/js/payments/stripe-fixtures.mjs\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ upToDate: OUT })}\n`);
} else {
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, text);
  process.stdout.write(`${JSON.stringify({ wrote: OUT, cases: JSON.parse(text).cases.length })}\n`);
}
