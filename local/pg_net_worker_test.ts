// Tests for the pg_net stand-in's request sending, against an in-process server; the worker's
// queue loop needs PostgreSQL and is exercised by the integration tests.

import assert from "node:assert/strict";
import {
  loggedPath,
  type QueuedRequest,
  sendRequest,
  workerOptionsFromEnv,
} from "./pg_net_worker.ts";

interface Seen {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

/** Runs `body` against a server that records each request and answers as `answer` says. */
async function withServer(
  answer: (request: Request, parked: Promise<void>) => Response | Promise<Response>,
  body: (url: string, seen: Seen[]) => Promise<void>,
): Promise<void> {
  const seen: Seen[] = [];
  const parked = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    seen.push({
      method: req.method,
      path: url.pathname + url.search,
      headers: req.headers,
      body: await req.text(),
    });
    return answer(req, parked.promise);
  });
  try {
    await body(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    parked.resolve();
    await server.shutdown();
  }
}

function queued(overrides: Partial<QueuedRequest>): QueuedRequest {
  return {
    id: "1",
    method: "POST",
    url: "http://127.0.0.1:1/",
    headers: null,
    body: null,
    timeout_milliseconds: 5_000,
    ...overrides,
  };
}

Deno.test("sendRequest() sends the queued method, headers and body, and records status, headers and content", async () => {
  await withServer(
    () => Response.json({ ok: true }, { status: 201, headers: { "x-fn": "refresh" } }),
    async (url, seen) => {
      const outcome = await sendRequest(queued({
        url: `${url}/functions/v1/refresh-worker?x=1`,
        headers: { "content-type": "application/json", "x-signature": "sig" },
        body: new TextEncoder().encode('{"batch":5}'),
      }));
      assert.equal(seen.length, 1);
      assert.equal(seen[0].method, "POST");
      assert.equal(seen[0].path, "/functions/v1/refresh-worker?x=1");
      assert.equal(seen[0].headers.get("x-signature"), "sig");
      assert.equal(seen[0].body, '{"batch":5}');
      assert.equal(outcome.status_code, 201);
      assert.equal(outcome.content_type, "application/json");
      assert.equal(outcome.headers?.["x-fn"], "refresh");
      assert.equal(outcome.content, '{"ok":true}');
      assert.equal(outcome.timed_out, false);
      assert.equal(outcome.error_msg, null);
    },
  );
});

Deno.test("sendRequest() sends a GET without its body and a POST without a body as empty", async () => {
  await withServer(() => new Response("x"), async (url, seen) => {
    await sendRequest(queued({ method: "GET", url, body: new TextEncoder().encode("dropped") }));
    await sendRequest(queued({ method: "POST", url, body: null }));
    await sendRequest(queued({ method: "DELETE", url, body: new TextEncoder().encode("kept") }));
    assert.deepEqual(seen.map((s) => [s.method, s.body]), [["GET", ""], ["POST", ""], [
      "DELETE",
      "kept",
    ]]);
    assert.equal(seen[1].headers.get("content-type"), null, "no headers when headers is null");
  });
});

Deno.test("sendRequest() records a request past its timeout as timed_out with pg_net's message", async () => {
  await withServer(async (_request, parked) => {
    await parked;
    return new Response("late");
  }, async (url) => {
    assert.deepEqual(await sendRequest(queued({ url, timeout_milliseconds: 50 })), {
      status_code: null,
      content_type: null,
      headers: null,
      content: null,
      timed_out: true,
      error_msg: "Timeout of 50 ms reached",
    });
  });
});

Deno.test("sendRequest() records a refused connection as pg_net's 'Couldn't connect to server'", async () => {
  let closedPort = 0;
  await withServer(() => new Response(), (url) => {
    closedPort = Number(new URL(url).port);
    return Promise.resolve();
  });
  const outcome = await sendRequest(queued({ url: `http://127.0.0.1:${closedPort}/` }));
  assert.equal(outcome.status_code, null);
  assert.equal(outcome.timed_out, false);
  assert.match(String(outcome.error_msg), /^Couldn't connect to server: /);
});

Deno.test("sendRequest() records other failures as 'Request failed'", async () => {
  const outcome = await sendRequest(queued({ url: "not a url" }));
  assert.equal(outcome.timed_out, false);
  assert.match(String(outcome.error_msg), /^Request failed: /);
});

Deno.test("loggedPath() keeps a URL's path only, never its query", () => {
  assert.equal(loggedPath("http://h:1/functions/v1/x?apikey=secret"), "/functions/v1/x");
  assert.equal(loggedPath("::nonsense"), "(invalid url)");
});

Deno.test("workerOptionsFromEnv() needs PGNET_DB_URL and defaults concurrency 64 and a 6 h TTL", () => {
  const env = (vars: Record<string, string>) => new Map(Object.entries(vars));
  assert.deepEqual(workerOptionsFromEnv(env({ PGNET_DB_URL: "postgresql://a" })), {
    dbUrl: "postgresql://a",
    concurrency: 64,
    ttlSeconds: 21600,
  });
  assert.deepEqual(
    workerOptionsFromEnv(
      env({ PGNET_DB_URL: "postgresql://a", PGNET_CONCURRENCY: "8", PGNET_TTL_SECONDS: "60" }),
    ),
    { dbUrl: "postgresql://a", concurrency: 8, ttlSeconds: 60 },
  );
  assert.throws(() => workerOptionsFromEnv(env({})), /^Error: PGNET_DB_URL is not set: /);
});
