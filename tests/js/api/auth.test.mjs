// Wallet login end to end, with signatures made by a real wallet library (ethers v6), against
// the API on one runtime. Run by tests/e2e/accounts.rs with API_URL, CHAIN_ID, JWT_SECRET,
// JWT_AUDIENCE and ADMIN_KEY (the private key of a wallet listed in ADMIN_ADDRESSES).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { Wallet } from "ethers";

const API = process.env.API_URL;
const CHAIN_ID = Number(process.env.CHAIN_ID);
const JWT_SECRET = process.env.JWT_SECRET;
const JWT_AUDIENCE = process.env.JWT_AUDIENCE;
const ADMIN_KEY = process.env.ADMIN_KEY;
for (const [name, value] of Object.entries({ API, CHAIN_ID, JWT_SECRET, JWT_AUDIENCE, ADMIN_KEY })) {
  if (!value) throw new Error(`${name} is not set`);
}

async function call(method, path, { body, token, headers = {} } = {}) {
  const res = await fetch(`${API}${path}`, {
    method,
    headers: {
      ...(body ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

async function challenge(wallet, chainId = CHAIN_ID) {
  const r = await call("POST", "/v1/auth/siwe/challenge", { body: { address: wallet.address, chainId } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

async function siweLogin(wallet) {
  const { message } = await challenge(wallet);
  const signature = await wallet.signMessage(message);
  const r = await call("POST", "/v1/auth/siwe/verify", { body: { message, signature } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

function expectError(r, status, code) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error_code, code, JSON.stringify(r.body));
}

const b64url = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
function jwt(header, payload, key) {
  const unsigned = `${b64url(header)}.${b64url(payload)}`;
  if (!key) return `${unsigned}.`;
  return `${unsigned}.${createHmac("sha256", key).update(unsigned).digest("base64url")}`;
}

test("SIWE challenge has the EIP-4361 shape", async () => {
  const wallet = Wallet.createRandom();
  const c = await challenge(wallet);
  assert.match(c.nonce, /^[A-Za-z0-9]{16,}$/);
  const lines = c.message.split("\n");
  assert.equal(lines[0], `${new URL(API).host} wants you to sign in with your Ethereum account:`);
  assert.equal(lines[1], wallet.address);
  assert.ok(lines.includes(`URI: ${API}`));
  assert.ok(lines.includes("Version: 1"));
  assert.ok(lines.includes(`Chain ID: ${CHAIN_ID}`));
  assert.ok(lines.includes(`Nonce: ${c.nonce}`));
  assert.equal(c.expiresAt - c.issuedAt, 300_000);
  expectError(await call("POST", "/v1/auth/siwe/challenge", { body: { address: wallet.address, chainId: 1 } }), 400, "SIWE_CHAIN_MISMATCH");
  const bad = await call("POST", "/v1/auth/siwe/challenge", { body: { address: "0x123", chainId: CHAIN_ID } });
  expectError(bad, 400, "VALIDATION_FAILED");
  assert.equal(bad.body.field, "address");
});

test("SIWE login succeeds once; a replay fails", async () => {
  const wallet = Wallet.createRandom();
  const { message } = await challenge(wallet);
  const signature = await wallet.signMessage(message);
  const ok = await call("POST", "/v1/auth/siwe/verify", { body: { message, signature } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.user.address, wallet.address);
  assert.equal(ok.body.user.role, "user");
  assert.equal(ok.body.expiresIn, 900);
  const me = await call("GET", "/v1/auth/me", { token: ok.body.accessToken });
  assert.equal(me.status, 200);
  assert.equal(me.body.address, wallet.address);
  expectError(await call("POST", "/v1/auth/siwe/verify", { body: { message, signature } }), 401, "SIWE_NONCE_INVALID");
});

test("20 concurrent verifies of one signed message give exactly one session", async () => {
  const wallet = Wallet.createRandom();
  const { message } = await challenge(wallet);
  const signature = await wallet.signMessage(message);
  const results = await Promise.all(
    Array.from({ length: 20 }, () => call("POST", "/v1/auth/siwe/verify", { body: { message, signature } })),
  );
  assert.equal(results.filter((r) => r.status === 200).length, 1);
  const refused = results.filter((r) => r.status === 401);
  assert.equal(refused.length, 19);
  assert.ok(refused.every((r) => r.body.error_code === "SIWE_NONCE_INVALID"));
});

test("each forged or stale SIWE message fails with its own code", async () => {
  const wallet = Wallet.createRandom();
  const attempt = async (mutate, signer = wallet) => {
    const { message } = await challenge(wallet);
    const text = mutate(message);
    return call("POST", "/v1/auth/siwe/verify", { body: { message: text, signature: await signer.signMessage(text) } });
  };
  const past = new Date(Date.now() - 60_000).toISOString();
  const longAgo = new Date(Date.now() - 600_000).toISOString();
  expectError(
    await attempt((m) => m.replace(/Issued At: .*/, `Issued At: ${longAgo}`).replace(/Expiration Time: .*/, `Expiration Time: ${past}`)),
    401,
    "SIWE_EXPIRED",
  );
  expectError(await attempt((m) => m.replace(/^[^ ]+ wants/, "evil.example wants")), 401, "SIWE_DOMAIN_MISMATCH");
  expectError(await attempt((m) => m.replace(/Chain ID: \d+/, "Chain ID: 1")), 401, "SIWE_CHAIN_MISMATCH");
  expectError(await attempt((m) => m.replace(/URI: .*/, "URI: https://evil.example")), 401, "SIWE_URI_MISMATCH");
  expectError(await attempt((m) => m.replace(/Nonce: \w+/, `Nonce: ${randomBytes(12).toString("hex")}`)), 401, "SIWE_NONCE_INVALID");
  expectError(await attempt((m) => m, Wallet.createRandom()), 401, "SIWE_SIGNATURE_INVALID");
  expectError(await attempt((m) => m.replace("Version: 1", "Version: 9")), 400, "SIWE_MESSAGE_INVALID");
  const future = new Date(Date.now() + 3_600_000).toISOString();
  expectError(await attempt((m) => `${m}\nNot Before: ${future}`), 401, "SIWE_NOT_YET_VALID");

  // Tampered after signing: the signature no longer matches the text.
  const { message } = await challenge(wallet);
  const signature = await wallet.signMessage(message);
  const tampered = message.replace("Sign in to OnlineTicket.", "Sign in to OnlineTicket and give me your tickets.");
  expectError(await call("POST", "/v1/auth/siwe/verify", { body: { message: tampered, signature } }), 401, "SIWE_SIGNATURE_INVALID");
  // None of the failures above consumed the real nonce: the untouched message still works once.
  const ok = await call("POST", "/v1/auth/siwe/verify", { body: { message, signature } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
});

test("simple nonce + personal_sign login follows the same nonce rules", async () => {
  const wallet = Wallet.createRandom();
  const n = await call("GET", `/v1/auth/nonce?address=${wallet.address.toLowerCase()}`);
  assert.equal(n.status, 200);
  assert.equal(n.body.expiresIn, 300);
  // The message names this deployment's domain (the SIWE domain, from PUBLIC_URL).
  const message = `Login to OnlineTicket at ${new URL(API).host}: nonce=${n.body.nonce}`;
  assert.equal(n.body.message, message);
  // Issue 12: a signature over the same nonce for another site is refused, and burns nothing.
  const foreign = message.replace(new URL(API).host, "tickets.evil.example");
  const foreignSignature = await wallet.signMessage(foreign);
  expectError(await call("POST", "/v1/auth/verify-sig", { body: { address: wallet.address, message: foreign, signature: foreignSignature } }), 401, "LOGIN_DOMAIN_MISMATCH");
  // The old message without a domain is not a login message any more.
  const bare = `Login to OnlineTicket: nonce=${n.body.nonce}`;
  expectError(await call("POST", "/v1/auth/verify-sig", { body: { address: wallet.address, message: bare, signature: await wallet.signMessage(bare) } }), 400, "LOGIN_MESSAGE_INVALID");
  const signature = await wallet.signMessage(message);
  const ok = await call("POST", "/v1/auth/verify-sig", { body: { address: wallet.address, message, signature } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.user.address, wallet.address);
  expectError(await call("POST", "/v1/auth/verify-sig", { body: { address: wallet.address, message, signature } }), 401, "SIWE_NONCE_INVALID");

  const other = Wallet.createRandom();
  const n2 = await call("GET", `/v1/auth/nonce?address=${wallet.address}`);
  const message2 = n2.body.message;
  const wrongSigner = await other.signMessage(message2);
  expectError(await call("POST", "/v1/auth/verify-sig", { body: { address: wallet.address, message: message2, signature: wrongSigner } }), 401, "SIWE_SIGNATURE_INVALID");
  // The nonce was issued for `wallet`; `other` cannot use it even with its own valid signature.
  expectError(await call("POST", "/v1/auth/verify-sig", { body: { address: other.address, message: message2, signature: wrongSigner } }), 401, "SIWE_NONCE_INVALID");
  expectError(await call("POST", "/v1/auth/verify-sig", { body: { address: wallet.address, message: "hello", signature: wrongSigner } }), 400, "LOGIN_MESSAGE_INVALID");
});

test("forged, expired, foreign and revoked access tokens are refused", async () => {
  const wallet = Wallet.createRandom();
  const session = await siweLogin(wallet);
  const [, payloadPart] = session.accessToken.split(".");
  const claims = JSON.parse(Buffer.from(payloadPart, "base64url").toString());
  assert.equal(claims.sub, wallet.address);
  assert.equal(claims.role, "user");
  assert.equal(claims.aud, JWT_AUDIENCE);
  assert.equal(claims.iss, API);
  assert.equal(claims.exp - claims.iat, 900);

  const now = Math.floor(Date.now() / 1000);
  const me = (token) => call("GET", "/v1/auth/me", { token });
  expectError(await me(jwt({ alg: "none", typ: "JWT" }, { ...claims, role: "admin" })), 401, "AUTH_TOKEN_INVALID");
  expectError(await me(jwt({ alg: "HS256", typ: "JWT" }, { ...claims, role: "admin" }, "not-the-server-secret-0123456789abcdef")), 401, "AUTH_TOKEN_INVALID");
  expectError(await me(jwt({ alg: "HS256", typ: "JWT" }, { ...claims, iat: now - 2000, exp: now - 1000 }, JWT_SECRET)), 401, "AUTH_TOKEN_EXPIRED");
  expectError(await me(jwt({ alg: "HS256", typ: "JWT" }, { ...claims, aud: "another-service" }, JWT_SECRET)), 401, "AUTH_TOKEN_AUDIENCE");
  expectError(await me(undefined), 401, "AUTH_TOKEN_MISSING");

  assert.equal((await me(session.accessToken)).status, 200);
  const out = await call("POST", "/v1/auth/logout", { token: session.accessToken });
  assert.equal(out.status, 200);
  expectError(await me(session.accessToken), 401, "AUTH_TOKEN_REVOKED");
  expectError(await call("POST", "/v1/auth/refresh", { body: { refreshToken: session.refreshToken } }), 401, "REFRESH_TOKEN_REVOKED");
});

test("refresh rotates; reusing an old refresh token revokes the whole family", async () => {
  const wallet = Wallet.createRandom();
  const session = await siweLogin(wallet);
  const first = await call("POST", "/v1/auth/refresh", { body: { refreshToken: session.refreshToken } });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.notEqual(first.body.refreshToken, session.refreshToken);
  assert.equal((await call("GET", "/v1/auth/me", { token: first.body.accessToken })).status, 200);

  expectError(await call("POST", "/v1/auth/refresh", { body: { refreshToken: session.refreshToken } }), 401, "REFRESH_TOKEN_REUSED");
  expectError(await call("POST", "/v1/auth/refresh", { body: { refreshToken: first.body.refreshToken } }), 401, "REFRESH_TOKEN_REVOKED");
  expectError(await call("GET", "/v1/auth/me", { token: first.body.accessToken }), 401, "AUTH_TOKEN_REVOKED");
  expectError(await call("POST", "/v1/auth/refresh", { body: { refreshToken: "rt_garbage" } }), 401, "REFRESH_TOKEN_INVALID");
});

test("a bootstrapped admin grants the organizer role; the grant is audited and reaches the token at refresh", async () => {
  const admin = new Wallet(ADMIN_KEY);
  const adminSession = await siweLogin(admin);
  assert.equal(adminSession.user.role, "admin");
  const fan = Wallet.createRandom();
  const fanSession = await siweLogin(fan);

  const denied = await call("PUT", `/v1/admin/users/${fan.address}/role`, { token: fanSession.accessToken, body: { role: "organizer" } });
  expectError(denied, 403, "FORBIDDEN_ROLE");
  const granted = await call("PUT", `/v1/admin/users/${fan.address.toLowerCase()}/role`, { token: adminSession.accessToken, body: { role: "organizer" } });
  assert.equal(granted.status, 200, JSON.stringify(granted.body));
  assert.deepEqual(granted.body, { address: fan.address, role: "organizer" });
  expectError(await call("PUT", `/v1/admin/users/${fan.address}/role`, { token: adminSession.accessToken, body: { role: "admin" } }), 422, "ROLE_NOT_ASSIGNABLE");
  expectError(await call("PUT", `/v1/admin/users/${admin.address}/role`, { token: adminSession.accessToken, body: { role: "user" } }), 422, "ROLE_NOT_ASSIGNABLE");

  const refreshed = await call("POST", "/v1/auth/refresh", { body: { refreshToken: fanSession.refreshToken } });
  const claims = JSON.parse(Buffer.from(refreshed.body.accessToken.split(".")[1], "base64url").toString());
  assert.equal(claims.role, "organizer");

  const audit = await call("GET", `/v1/admin/audit?actor=${admin.address}&action=user.role.set`, { token: adminSession.accessToken });
  assert.equal(audit.status, 200);
  assert.equal(audit.body.total, 1, JSON.stringify(audit.body));
  assert.equal(audit.body.items[0].target, fan.address);
  assert.deepEqual(audit.body.items[0].detail, { role: "organizer" });
  assert.match(audit.body.items[0].requestId, /^[0-9a-f]{24}$/);
  // The fan's token from before the grant no longer works at all (a role change bites at once);
  // the refreshed one carries the new role, which still is not admin.
  expectError(await call("GET", "/v1/admin/audit", { token: fanSession.accessToken }), 401, "AUTH_ROLE_CHANGED");
  expectError(await call("GET", "/v1/admin/audit", { token: refreshed.body.accessToken }), 403, "FORBIDDEN_ROLE");
});
