// Signs a Stripe webhook payload the way Stripe does, with Stripe's own npm library
// (`Stripe.webhooks.generateTestHeaderString`), so the e2e tests never sign with our code.
//
// Run: node tests/js/payments/sign.mjs <secret> <unix timestamp> < payload
// Prints the `Stripe-Signature` header value.
import Stripe from "stripe";

const [secret, timestamp] = process.argv.slice(2);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const payload = Buffer.concat(chunks).toString("utf8");
process.stdout.write(
  Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Number(timestamp) }),
);
