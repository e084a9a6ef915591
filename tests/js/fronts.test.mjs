// Conformance of the local data fronts (ops::front) with the official JS clients.
//
// The project runs its own stand-ins for Upstash (a REST front over a real
// redis-server) and Turso (a Hrana-over-HTTP front over embedded libSQL). This
// file proves that `@upstash/redis` and `@libsql/client`, unmodified, work
// against them: if these pass, the fronts speak the managed services' dialect.
//
// Run: node --test tests/js/   (Node >= 20), with the stack already started and
//   UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN  (the Upstash REST front)
//   LIBSQL_URL (http://127.0.0.1:PORT), LIBSQL_AUTH_TOKEN  (the Hrana front)
// in the environment (the Rust e2e harness sets them).

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { createClient } from "@libsql/client";

function env(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: start the local stack (redis + ops fronts) and export ` +
        "UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, LIBSQL_URL, LIBSQL_AUTH_TOKEN",
    );
  }
  return value;
}

const REDIS_URL = env("UPSTASH_REDIS_REST_URL");
const REDIS_TOKEN = env("UPSTASH_REDIS_REST_TOKEN");
const LIBSQL_URL = env("LIBSQL_URL");
const LIBSQL_TOKEN = env("LIBSQL_AUTH_TOKEN");

// Every key and table carries this run's id, so runs never see each other's data.
const RUN = randomBytes(6).toString("hex");
const key = (name) => `ot:fronts-test:${RUN}:${name}`;
const table = (name) => `fronts_${RUN}_${name}`;

const UNICODE = "héllo wörld ✓ 🎟 — 日本語";

describe("Upstash REST front with @upstash/redis", () => {
  // The default client: sends `Upstash-Encoding: base64` and decodes results.
  const redis = new Redis({
    url: REDIS_URL,
    token: REDIS_TOKEN,
    enableTelemetry: false,
    retry: { retries: 0 },
  });
  // Plain JSON results (no base64), the other encoding the front must serve.
  const plain = new Redis({
    url: REDIS_URL,
    token: REDIS_TOKEN,
    enableTelemetry: false,
    responseEncoding: false,
    automaticDeserialization: false,
    retry: { retries: 0 },
  });

  test("set/get round-trips non-ASCII text in both encodings", async () => {
    assert.equal(await redis.set(key("greeting"), UNICODE), "OK");
    assert.equal(await redis.get(key("greeting")), UNICODE);
    assert.equal(await plain.get(key("greeting")), UNICODE);

    assert.equal(await plain.set(key("plain"), "just ascii", { ex: 60 }), "OK");
    assert.equal(await redis.get(key("plain")), "just ascii");
    const ttl = await redis.ttl(key("plain"));
    assert.ok(ttl > 0 && ttl <= 60, `ttl ${ttl} should be in (0, 60]`);

    assert.equal(await redis.get(key("missing")), null);
    assert.equal(await plain.get(key("missing")), null);
  });

  test("incr / incrby / decr return integers", async () => {
    assert.equal(await redis.incr(key("counter")), 1);
    assert.equal(await redis.incrby(key("counter"), 41), 42);
    assert.equal(await redis.decr(key("counter")), 41);
    assert.equal(await plain.get(key("counter")), "41");
  });

  test("EVAL with keys and args", async () => {
    const result = await redis.eval(
      "redis.call('SET', KEYS[1], ARGV[1]); return {KEYS[1], redis.call('GET', KEYS[1]), tonumber(ARGV[2]) + 1}",
      [key("eval")],
      ["välue", "41"],
    );
    assert.deepEqual(result, [key("eval"), "välue", 42]);
    assert.equal(await redis.get(key("eval")), "välue");
  });

  test("EVALSHA of an unknown script gets NOSCRIPT, then the script falls back to EVAL", async () => {
    // A script text no one has loaded yet (the run id makes it unique).
    const script = redis.createScript(
      `-- fronts test ${RUN}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`,
    );
    await assert.rejects(script.evalsha([key("script")], ["5"]), (err) => {
      assert.match(err.message, /NOSCRIPT No matching script\. Please use EVAL\./);
      return true;
    });
    // exec() tries EVALSHA, sees NOSCRIPT, and retries with EVAL (which loads it).
    assert.equal(await script.exec([key("script")], ["5"]), 5);
    // Now the script is cached, so EVALSHA alone works.
    assert.equal(await script.evalsha([key("script")], ["7"]), 12);
  });

  test("pipeline returns every result in order", async () => {
    const results = await redis
      .pipeline()
      .set(key("p:a"), "alpha")
      .incr(key("p:n"))
      .incr(key("p:n"))
      .get(key("p:a"))
      .exists(key("p:a"), key("p:none"))
      .exec();
    assert.deepEqual(results, ["OK", 1, 2, "alpha", 1]);
  });

  test("multi-exec runs atomically and returns every result", async () => {
    const results = await redis
      .multi()
      .set(key("m:n"), "10")
      .incr(key("m:n"))
      .lpush(key("m:list"), "x", "y")
      .lrange(key("m:list"), 0, -1)
      .get(key("m:n"))
      .exec();
    assert.deepEqual(results, ["OK", 11, 2, ["y", "x"], 11]);
  });

  test("an error inside a pipeline is reported for that command only", async () => {
    const results = await redis
      .pipeline()
      .set(key("err:s"), "not a number")
      .incr(key("err:s"))
      .get(key("err:s"))
      .exec({ keepErrors: true });
    assert.equal(results.length, 3);
    assert.deepEqual(results[0], { error: undefined, result: "OK" });
    assert.match(results[1].error, /^ERR value is not an integer or out of range/);
    assert.deepEqual(results[2], { error: undefined, result: "not a number" });

    await assert.rejects(
      redis.pipeline().get(key("err:s")).incr(key("err:s")).exec(),
      /Command 2 \[ incr \] failed: ERR value is not an integer or out of range/,
    );
  });

  test("raw REST: bearer token required, path form, EXECABORT", async () => {
    const noAuth = await fetch(REDIS_URL, { method: "POST", body: JSON.stringify(["PING"]) });
    assert.equal(noAuth.status, 401);
    assert.deepEqual(await noAuth.json(), { error: "Unauthorized" });

    const headers = { authorization: `Bearer ${REDIS_TOKEN}` };
    const set = await fetch(`${REDIS_URL}/set/${encodeURIComponent(key("path/x"))}/${encodeURIComponent("a b/ü")}`, { headers });
    assert.equal(set.status, 200);
    assert.deepEqual(await set.json(), { result: "OK" });
    assert.equal(await redis.get(key("path/x")), "a b/ü");

    const aborted = await fetch(`${REDIS_URL}/multi-exec`, {
      method: "POST",
      headers,
      body: JSON.stringify([["SET", key("abort"), "1"], ["INCR"], ["GET", key("abort")]]),
    });
    assert.equal(aborted.status, 400);
    assert.deepEqual(await aborted.json(), {
      error: "EXECABORT Transaction discarded because of previous errors.",
    });
    assert.equal(await redis.get(key("abort")), null);
  });
});

describe("Hrana front with @libsql/client", () => {
  let db;
  let bigints;

  before(() => {
    db = createClient({ url: LIBSQL_URL, authToken: LIBSQL_TOKEN });
    bigints = createClient({ url: LIBSQL_URL, authToken: LIBSQL_TOKEN, intMode: "bigint" });
  });

  after(() => {
    db?.close();
    bigints?.close();
  });

  test("execute with positional and named args", async () => {
    const t = table("people");
    await db.execute(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT)`);

    const ins = await db.execute({ sql: `INSERT INTO ${t} (id, name, note) VALUES (?, ?, ?)`, args: [1, "Ada", null] });
    assert.equal(ins.rowsAffected, 1);
    assert.equal(ins.lastInsertRowid, 1n);

    // Named args, given with and without their prefix (`:`, `@`, `$`).
    await db.execute({ sql: `INSERT INTO ${t} (id, name, note) VALUES (:id, @name, $note)`, args: { id: 2, name: "Grace", note: "x" } });
    await db.execute({ sql: `INSERT INTO ${t} (id, name, note) VALUES (:id, @name, $note)`, args: { ":id": 3, "@name": "Linus", $note: "y" } });

    const rs = await db.execute({ sql: `SELECT id, name, note FROM ${t} WHERE id >= ? ORDER BY id`, args: [2] });
    assert.deepEqual(rs.columns, ["id", "name", "note"]);
    assert.deepEqual(rs.columnTypes, ["INTEGER", "TEXT", "TEXT"]);
    assert.equal(rs.rows.length, 2);
    assert.equal(rs.rows[0].length, 3);
    assert.deepEqual([rs.rows[0][0], rs.rows[0][1], rs.rows[0][2]], [2, "Grace", "x"]);
    assert.equal(rs.rows[1].name, "Linus");
    assert.equal(rs.rows[1].note, "y");
    assert.equal(rs.rowsAffected, 0);

    const upd = await db.execute({ sql: `UPDATE ${t} SET note = :n WHERE id IN (1, 2)`, args: { n: "upd" } });
    assert.equal(upd.rowsAffected, 2);

    // sqld's codes: a plain SQLite error is SQLITE_UNKNOWN (its code map has no SQLITE_ERROR),
    // its message prefixed "SQLite error: "; a prepare error located at a token is SQL_INPUT_ERROR.
    await assert.rejects(db.execute(`SELECT * FROM ${table("nope")}`), (err) => {
      assert.equal(err.code, "SQLITE_UNKNOWN");
      assert.match(err.message, /SQLite error: no such table/);
      return true;
    });
    await assert.rejects(db.execute(`SELECT missing FROM ${t}`), (err) => {
      assert.equal(err.code, "SQL_INPUT_ERROR");
      assert.match(err.message, /no such column: missing \(at offset \d+\)/);
      return true;
    });
  });

  test("arguments are checked as sqld checks them: none missing, no positional for :name", async () => {
    const t = table("args");
    await db.execute(`CREATE TABLE ${t} (a, b)`);
    await assert.rejects(db.execute({ sql: `INSERT INTO ${t} VALUES (?, ?)`, args: [1] }), (err) => {
      assert.equal(err.code, "ARGS_INVALID");
      assert.match(err.message, /value for parameter 2 not found/);
      return true;
    });
    await assert.rejects(db.execute({ sql: `INSERT INTO ${t} VALUES (:a, :b)`, args: [1, 2] }), (err) => {
      assert.equal(err.code, "ARGS_INVALID");
      return true;
    });
    // In a write batch the failing statement rolls the whole batch back (no NULL row).
    await assert.rejects(
      db.batch(
        [
          { sql: `INSERT INTO ${t} VALUES (?, ?)`, args: [1, 2] },
          { sql: `INSERT INTO ${t} VALUES (?, ?)`, args: [3] },
        ],
        "write",
      ),
      (err) => {
        assert.equal(err.code, "ARGS_INVALID");
        return true;
      },
    );
    const rs = await db.execute(`SELECT count(*) AS c FROM ${t}`);
    assert.equal(rs.rows[0].c, 0);
  });

  test("a parse error anywhere in a batch or script runs nothing; VACUUM is refused", async () => {
    const t = table("parsed");
    await db.execute(`CREATE TABLE ${t} (a)`);
    await assert.rejects(
      db.batch([`INSERT INTO ${t} VALUES (1)`, `INSERTT INTO ${t} VALUES (2)`], "write"),
      (err) => {
        assert.equal(err.code, "SQL_PARSE_ERROR");
        return true;
      },
    );
    await assert.rejects(db.executeMultiple(`INSERT INTO ${t} VALUES (1); SELEC 2;`), (err) => {
      assert.equal(err.code, "SQL_PARSE_ERROR");
      return true;
    });
    const rs = await db.execute(`SELECT count(*) AS c FROM ${t}`);
    assert.equal(rs.rows[0].c, 0);
    await assert.rejects(db.execute("VACUUM"), (err) => {
      assert.equal(err.code, "SQL_PARSE_ERROR");
      assert.match(err.message, /unsupported statement: VACUUM/);
      return true;
    });
  });

  test("lastInsertRowid is set after INSERT only", async () => {
    const t = table("rowids");
    await db.execute(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, a)`);
    const ins = await db.execute({ sql: `INSERT INTO ${t} (a) VALUES (?)`, args: [1] });
    assert.equal(ins.lastInsertRowid, 1n);
    const upd = await db.execute(`UPDATE ${t} SET a = 2`);
    assert.equal(upd.rowsAffected, 1);
    assert.equal(upd.lastInsertRowid, undefined);
    const del = await db.execute(`DELETE FROM ${t}`);
    assert.equal(del.lastInsertRowid, undefined);
  });

  test("all value types round-trip: null, integer, float, text, blob", async () => {
    const t = table("types");
    await db.execute(`CREATE TABLE ${t} (n, i INTEGER, f REAL, s TEXT, b BLOB)`);
    const big = 9007199254740993n; // 2^53 + 1: not representable as a JS number
    const blob = new Uint8Array([0, 1, 2, 127, 128, 254, 255]);
    await bigints.execute({ sql: `INSERT INTO ${t} VALUES (?, ?, ?, ?, ?)`, args: [null, big, 3.25, UNICODE, blob] });

    const rs = await bigints.execute(`SELECT n, i, f, s, b, typeof(i) AS ti, typeof(f) AS tf, typeof(b) AS tb FROM ${t}`);
    const row = rs.rows[0];
    assert.equal(row.n, null);
    assert.equal(row.i, big);
    assert.equal(row.f, 3.25);
    assert.equal(row.s, UNICODE);
    assert.ok(row.b instanceof ArrayBuffer, "blob comes back as an ArrayBuffer");
    assert.deepEqual(new Uint8Array(row.b), blob);
    assert.deepEqual([row.ti, row.tf, row.tb], ["integer", "real", "blob"]);

    // The default intMode returns safe integers as JS numbers.
    const small = await db.execute("SELECT -42 AS i, 0.5 AS f, x'00ff' AS b, NULL AS n");
    assert.equal(small.rows[0].i, -42);
    assert.equal(small.rows[0].f, 0.5);
    assert.deepEqual(new Uint8Array(small.rows[0].b), new Uint8Array([0, 255]));
    assert.equal(small.rows[0].n, null);
  });

  test("batch in write mode commits every statement", async () => {
    const t = table("seats");
    const results = await db.batch(
      [
        `CREATE TABLE ${t} (id TEXT PRIMARY KEY, state TEXT NOT NULL)`,
        { sql: `INSERT INTO ${t} VALUES (?, ?)`, args: ["A1", "free"] },
        { sql: `INSERT INTO ${t} VALUES (?, ?)`, args: ["A2", "free"] },
        { sql: `UPDATE ${t} SET state = ? WHERE id = ?`, args: ["held", "A1"] },
        `SELECT id, state FROM ${t} ORDER BY id`,
      ],
      "write",
    );
    assert.equal(results.length, 5);
    assert.deepEqual(results.slice(1, 4).map((r) => r.rowsAffected), [1, 1, 1]);
    assert.deepEqual(results[4].rows.map((r) => [r.id, r.state]), [["A1", "held"], ["A2", "free"]]);
  });

  test("a batch whose middle statement fails rolls back entirely", async () => {
    const t = table("orders");
    await db.execute(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, item TEXT NOT NULL)`);
    await db.execute({ sql: `INSERT INTO ${t} VALUES (?, ?)`, args: [1, "existing"] });

    await assert.rejects(
      db.batch(
        [
          { sql: `INSERT INTO ${t} VALUES (?, ?)`, args: [2, "first"] },
          { sql: `INSERT INTO ${t} VALUES (?, ?)`, args: [1, "duplicate"] }, // PRIMARY KEY clash
          { sql: `INSERT INTO ${t} VALUES (?, ?)`, args: [3, "third"] },
        ],
        "write",
      ),
      (err) => {
        assert.equal(err.code, "SQLITE_CONSTRAINT");
        assert.match(err.message, /SQLite error: UNIQUE constraint failed: /);
        assert.equal(err.statementIndex, 1);
        return true;
      },
    );
    const rs = await db.execute(`SELECT id, item FROM ${t} ORDER BY id`);
    assert.deepEqual(rs.rows.map((r) => [r.id, r.item]), [[1, "existing"]]);
  });

  test("interactive transaction: commit is visible, uncommitted work is isolated", async () => {
    const t = table("tickets");
    await db.execute(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, owner TEXT)`);

    const tx = await db.transaction("write");
    try {
      await tx.execute({ sql: `INSERT INTO ${t} VALUES (?, ?)`, args: [1, "alice"] });
      await tx.execute({ sql: `INSERT INTO ${t} VALUES (?, ?)`, args: [2, "bob"] });
      const inside = await tx.execute(`SELECT count(*) AS c FROM ${t}`);
      assert.equal(inside.rows[0].c, 2);
      // Another stream does not see the uncommitted rows (WAL snapshot).
      const outside = await db.execute(`SELECT count(*) AS c FROM ${t}`);
      assert.equal(outside.rows[0].c, 0);
      await tx.commit();
    } finally {
      tx.close();
    }
    const after = await db.execute(`SELECT id, owner FROM ${t} ORDER BY id`);
    assert.deepEqual(after.rows.map((r) => [r.id, r.owner]), [[1, "alice"], [2, "bob"]]);
  });

  test("interactive transaction: rollback discards the work", async () => {
    const t = table("holds");
    await db.execute(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, seat TEXT)`);
    await db.execute({ sql: `INSERT INTO ${t} VALUES (?, ?)`, args: [1, "A1"] });

    const tx = await db.transaction("write");
    try {
      await tx.execute({ sql: `INSERT INTO ${t} VALUES (?, ?)`, args: [2, "A2"] });
      await tx.execute({ sql: `DELETE FROM ${t} WHERE id = ?`, args: [1] });
      const inside = await tx.execute(`SELECT id FROM ${t} ORDER BY id`);
      assert.deepEqual(inside.rows.map((r) => r.id), [2]);
      await tx.rollback();
    } finally {
      tx.close();
    }
    const after = await db.execute(`SELECT id, seat FROM ${t} ORDER BY id`);
    assert.deepEqual(after.rows.map((r) => [r.id, r.seat]), [[1, "A1"]]);
  });

  test("a concurrent writer waits for an open write transaction instead of failing", async () => {
    const t = table("contended");
    await db.execute(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, who TEXT)`);

    const tx = await db.transaction("write"); // BEGIN IMMEDIATE: holds the write lock
    let batchDone = false;
    let pending;
    try {
      await tx.execute({ sql: `INSERT INTO ${t} VALUES (?, ?)`, args: [1, "tx"] });
      pending = db
        .batch([{ sql: `INSERT INTO ${t} VALUES (?, ?)`, args: [2, "batch"] }], "write")
        .finally(() => {
          batchDone = true;
        });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(batchDone, false, "the second writer must wait for the lock");
      await tx.commit();
    } finally {
      tx.close();
    }
    const [res] = await pending;
    assert.equal(res.rowsAffected, 1);
    const rs = await db.execute(`SELECT id, who FROM ${t} ORDER BY id`);
    assert.deepEqual(rs.rows.map((r) => [r.id, r.who]), [[1, "tx"], [2, "batch"]]);
  });

  test("concurrent read-modify-write transactions lose no update", async () => {
    const t = table("counter");
    await db.batch([`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`, `INSERT INTO ${t} VALUES (1, 0)`], "write");
    const workers = 12;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        const tx = await db.transaction("write");
        try {
          const rs = await tx.execute(`SELECT n FROM ${t} WHERE id = 1`);
          await tx.execute({ sql: `UPDATE ${t} SET n = ? WHERE id = 1`, args: [rs.rows[0].n + 1] });
          await tx.commit();
        } finally {
          tx.close();
        }
      }),
    );
    const rs = await db.execute(`SELECT n FROM ${t} WHERE id = 1`);
    assert.equal(rs.rows[0].n, workers);
  });

  test("protocol errors are HTTP 400 plain text", async () => {
    const post = (body) =>
      fetch(new URL("v2/pipeline", LIBSQL_URL), {
        method: "POST",
        headers: { authorization: `Bearer ${LIBSQL_TOKEN}`, "content-type": "application/json" },
        body,
      });
    const malformed = await post("{not json");
    assert.equal(malformed.status, 400);
    assert.equal(malformed.headers.get("content-type"), "text/plain");
    assert.match(await malformed.text(), /^Cannot deserialize client message from JSON: /);
    const unknown = await post(JSON.stringify({ baton: null, requests: [{ type: "frobnicate" }] }));
    assert.equal(unknown.status, 400);
    assert.match(await unknown.text(), /unknown variant `frobnicate`/);
    const baton = await post(JSON.stringify({ baton: "forged", requests: [{ type: "close" }] }));
    assert.equal(baton.status, 400);
    assert.equal(await baton.text(), "Received an invalid baton");
  });

  test("executeMultiple runs a SQL script (Hrana sequence)", async () => {
    const t = table("script");
    await db.executeMultiple(`
      CREATE TABLE ${t} (id INTEGER PRIMARY KEY, v TEXT);
      INSERT INTO ${t} VALUES (1, 'one');
      INSERT INTO ${t} VALUES (2, 'two; with a semicolon');
    `);
    const rs = await db.execute(`SELECT v FROM ${t} ORDER BY id`);
    assert.deepEqual(rs.rows.map((r) => r.v), ["one", "two; with a semicolon"]);
  });

  test("a wrong token is refused with 401 and sqld's body", async () => {
    const res = await fetch(new URL("v2/pipeline", LIBSQL_URL), {
      method: "POST",
      headers: { authorization: "Bearer wrong", "content-type": "application/json" },
      body: JSON.stringify({ baton: null, requests: [{ type: "close" }] }),
    });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: "Unauthorized: `The JWT is invalid`" });
    const bad = createClient({ url: LIBSQL_URL, authToken: "wrong" });
    try {
      // sqld's 401 body has no `message`, so the client reports a plain HTTP failure.
      await assert.rejects(bad.execute("SELECT 1"), (err) => {
        assert.equal(err.code, "SERVER_ERROR");
        assert.match(err.message, /HTTP status 401/);
        return true;
      });
    } finally {
      bad.close();
    }
  });
});
