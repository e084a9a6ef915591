// The API calls of the live page test, made from Node (outside the browser, so they go through
// while the page is cut off): holds and releases as buyers, snapshots as anyone.

import assert from "node:assert/strict";

export class Api {
  // `fx`: the test fixture ({ baseUrl, eventId, tokens }).
  constructor(fx) {
    this.fx = fx;
    this.holds = new Map(); // name → { id, token }
  }

  async request(method, path, token, body) {
    const headers = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${this.fx.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON: the assertion below shows the text
    }
    return { status: res.status, json, text };
  }

  // Holds `what` ({seats} or {ticketTypeId, quantity}) as buyer `n`; remembered as `name`.
  async hold(n, what, name = String(n)) {
    const token = this.fx.tokens[n];
    const reply = await this.request("POST", "/v1/holds", token, { eventId: this.fx.eventId, ...what });
    assert.equal(reply.status, 201, `hold ${JSON.stringify(what)}: ${reply.text}`);
    this.holds.set(name, { id: reply.json.holdId, token });
  }

  // Releases the hold remembered as `name`.
  async release(name) {
    const held = this.holds.get(String(name));
    assert.ok(held, `no hold named ${name}`);
    const reply = await this.request("DELETE", `/v1/holds/${held.id}`, held.token);
    assert.equal(reply.status, 200, `release ${name}: ${reply.text}`);
    this.holds.delete(String(name));
  }

  async snapshot() {
    const reply = await this.request("GET", `/v1/events/${this.fx.eventId}/availability`);
    assert.equal(reply.status, 200, `availability: ${reply.text}`);
    return reply.json;
  }
}
