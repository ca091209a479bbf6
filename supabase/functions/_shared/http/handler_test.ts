import assert from "node:assert/strict";
import { z } from "zod";
import { ConfigError } from "../platform/config.ts";
import { type BaseHandlerDeps, createJsonHandler, type HandleContext } from "./handler.ts";
import { HttpError, jsonResponse } from "./response.ts";
import { SIGNATURE_HEADER, signInvocation } from "./invocation_signature.ts";
import { createMemoryLogger, type MemoryLogger } from "../testing/memory_logger.ts";
import { FakeClock } from "../testing/fake_clock.ts";

/** A JSON response body, read field by field in the assertions. */
// deno-lint-ignore no-explicit-any
type Json = any;

const SERVICE_KEY = "service-role-key-SECRET-0123456789";
const OTHER_SECRET = "tmdb-token-SECRET-abcdef";
const SECRETS = [SERVICE_KEY, OTHER_SECRET];

const schema = z.object({ n: z.number().int().default(1), run_id: z.string().optional() })
  .strict();
type Body = z.infer<typeof schema>;

interface Harness {
  handler: (req: Request) => Promise<Response>;
  logger: MemoryLogger;
  /** What `handle` was called with, in order. */
  calls: HandleContext<BaseHandlerDeps, Body>[];
}

/** A handler whose `handle` is `handle` (default: echoes the body with a 200). */
function harness(
  options: {
    handle?: (context: HandleContext<BaseHandlerDeps, Body>) => Promise<Response>;
    deps?: Partial<BaseHandlerDeps>;
  } = {},
): Harness {
  const logger = createMemoryLogger({ fn: "t", secrets: SECRETS });
  const calls: HandleContext<BaseHandlerDeps, Body>[] = [];
  const handler = createJsonHandler<BaseHandlerDeps, Body>({
    fn: "t",
    schema,
    source: { allowedKeys: [SERVICE_KEY], logger, secrets: SECRETS, ...options.deps },
    handle: (context) => {
      calls.push(context);
      return options.handle?.(context) ?? Promise.resolve(jsonResponse({ body: context.body }));
    },
  });
  return { handler, logger, calls };
}

function post(body: string, headers: Record<string, string> = {}): Request {
  return new Request("http://localhost/functions/v1/t", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${SERVICE_KEY}`,
      "sb-request-id": "req-1",
      ...headers,
    },
    body,
  });
}

async function call(h: Harness, req: Request) {
  const res = await h.handler(req);
  const text = await res.text();
  for (const secret of SECRETS) {
    assert.ok(!text.includes(secret), `a secret leaked into the response: ${text}`);
    for (const line of h.logger.lines) {
      assert.ok(!line.includes(secret), `a secret leaked into a log line: ${line}`);
    }
  }
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as Json };
}

Deno.test("createJsonHandler() answers 405 with Allow: POST to any other method, before anything else", async () => {
  let resolved = 0;
  const fallback = createMemoryLogger({ fn: "t" });
  const handler = createJsonHandler<BaseHandlerDeps, Body>({
    fn: "t",
    schema,
    source: {
      getDeps: () => {
        resolved++;
        return { allowedKeys: [SERVICE_KEY], logger: createMemoryLogger({ fn: "t" }) };
      },
      logger: fallback,
    },
    handle: () => assert.fail("handle must not run"),
  });
  for (const method of ["GET", "PUT", "DELETE", "OPTIONS"]) {
    const res = await handler(
      new Request("http://localhost/", { method, headers: { "sb-request-id": "req-1" } }),
    );
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST");
    assert.deepEqual(await res.json(), {
      error: "method_not_allowed",
      message: `Method ${method} is not allowed; use POST`,
      request_id: "req-1",
    });
  }
  assert.equal(resolved, 0, "dependencies are not resolved for a refused method");
  assert.deepEqual(
    fallback.entries.map((e) => [e.event, e.status, e.method]),
    ["GET", "PUT", "DELETE", "OPTIONS"].map((m) => ["request_failed", 405, m]),
    "logged by the fallback logger, the deps not being resolved",
  );
});

Deno.test("createJsonHandler() answers 500 misconfigured when lazy dependencies throw a ConfigError", async () => {
  const fallback = createMemoryLogger({ fn: "t" });
  let attempts = 0;
  const handler = createJsonHandler<BaseHandlerDeps, Body>({
    fn: "t",
    schema,
    source: {
      getDeps: () => {
        attempts++;
        throw new ConfigError([{
          variable: "TMDB_API_TOKEN",
          message: "TMDB_API_TOKEN is missing; set it with `supabase secrets set TMDB_API_TOKEN=…`",
        }]);
      },
      logger: fallback,
    },
    handle: () => assert.fail("handle must not run"),
  });
  for (let i = 1; i <= 2; i++) {
    const res = await handler(post("{}"));
    assert.equal(res.status, 500);
    const body = await res.json();
    assert.equal(body.error, "misconfigured");
    assert.match(body.message, /TMDB_API_TOKEN is missing; set it with `supabase secrets set/);
    assert.equal(body.request_id, "req-1");
  }
  assert.equal(attempts, 2, "getDeps is called again on every request");
  assert.deepEqual(fallback.entries.map((e) => e.event), ["misconfigured", "misconfigured"]);
  assert.deepEqual(fallback.entries[0].variables, ["TMDB_API_TOKEN"]);
});

Deno.test("createJsonHandler() answers 401 without a key or with a wrong one, and logs request_failed", async () => {
  const h = harness();
  const missing = await call(h, post("{}", { authorization: "" }));
  assert.equal(missing.status, 401);
  assert.equal(missing.body.error, "missing_api_key");
  assert.equal(missing.headers.get("www-authenticate")?.startsWith("Bearer"), true);
  const wrong = await call(h, post("{}", { authorization: "Bearer not-the-key" }));
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error, "invalid_api_key");
  assert.equal(h.calls.length, 0);
  const lines = h.logger.entries.filter((e) => e.event === "request_failed");
  assert.deepEqual(lines.map((e) => [e.level, e.status, e.error, e.method, e.request_id]), [
    ["warn", 401, "missing_api_key", "POST", "req-1"],
    ["warn", 401, "invalid_api_key", "POST", "req-1"],
  ]);
  assert.ok(lines.every((e) => !("run_id" in e)), "no run has started");
});

Deno.test("createJsonHandler() answers 400 invalid_body from the schema, naming the field", async () => {
  const h = harness();
  const res = await call(h, post('{"n": "x", "extra": 1}'));
  assert.equal(res.status, 400);
  assert.equal(res.body.error, "invalid_body");
  assert.equal(
    res.body.message,
    "Invalid request body: n: Expected number, received string; body: Unrecognized key(s) in " +
      "object: 'extra'",
  );
  assert.equal(res.body.request_id, "req-1");
  assert.equal(h.calls.length, 0);
  const line = h.logger.entries.find((e) => e.event === "request_failed")!;
  assert.equal(line.status, 400);
  assert.equal(line.error, "invalid_body");
  assert.equal(line.message, res.body.message);
});

Deno.test("createJsonHandler() hands the parsed body, the deps and the request id to handle", async () => {
  const clock = new FakeClock({ start: 0 });
  const h = harness({ deps: { clock } });
  const res = await call(h, post("{}"));
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { body: { n: 1 } }, "defaults applied");
  const [context] = h.calls;
  assert.equal(context.requestId, "req-1");
  assert.equal(context.clock, clock);
  assert.deepEqual(context.secrets, SECRETS);
  assert.equal(context.deps.allowedKeys[0], SERVICE_KEY);
  assert.equal(context.req.method, "POST");
});

Deno.test("createJsonHandler() startRun() takes the body's run id, else newRunId(), else a UUID", async () => {
  const ids: string[] = [];
  const record = ({ body, startRun }: HandleContext<BaseHandlerDeps, Body>) => {
    const { runId, logger } = startRun(body.run_id);
    ids.push(runId);
    logger.info("ran");
    return Promise.resolve(jsonResponse({}));
  };
  const withNew = harness({ handle: record, deps: { newRunId: () => "run-from-deps" } });
  await call(withNew, post('{"run_id": "run-from-body"}'));
  await call(withNew, post("{}"));
  const without = harness({ handle: record });
  await call(without, post("{}"));
  assert.deepEqual(ids.slice(0, 2), ["run-from-body", "run-from-deps"]);
  assert.match(ids[2], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const ran = withNew.logger.entries.filter((e) => e.event === "ran");
  assert.deepEqual(ran.map((e) => [e.request_id, e.run_id]), [
    ["req-1", "run-from-body"],
    ["req-1", "run-from-deps"],
  ]);
});

Deno.test("createJsonHandler() names the run in the request_failed line of an HttpError thrown by handle", async () => {
  const h = harness({
    handle: ({ startRun }) => {
      const { runId } = startRun("run-9");
      throw new HttpError(409, "duplicate_run", `A run with run_id ${runId} already exists`);
    },
  });
  const res = await call(h, post("{}"));
  assert.equal(res.status, 409);
  assert.deepEqual(res.body, {
    error: "duplicate_run",
    message: "A run with run_id run-9 already exists",
    request_id: "req-1",
  });
  const line = h.logger.entries.find((e) => e.event === "request_failed")!;
  assert.deepEqual(
    [line.level, line.request_id, line.run_id, line.method, line.status, line.error],
    ["warn", "req-1", "run-9", "POST", 409, "duplicate_run"],
  );
});

Deno.test("createJsonHandler() turns an unknown error into 500 internal_error with the request id, no secret", async () => {
  const h = harness({
    handle: () => Promise.reject(new Error(`database said no to ${SERVICE_KEY}`)),
  });
  const res = await call(h, post("{}"));
  assert.equal(res.status, 500);
  assert.deepEqual(res.body, {
    error: "internal_error",
    message: "Internal error while handling the request; see the function logs for " +
      "request_id req-1",
    request_id: "req-1",
  });
  const entry = h.logger.entries.find((e) => e.event === "unhandled_error")!;
  assert.equal(entry.level, "error");
  assert.match(JSON.stringify(entry), /database said no to \[REDACTED\]/);
  assert.ok(
    !h.logger.entries.some((e) => e.event === "request_failed"),
    "a 500 is logged once, as unhandled_error",
  );
});

Deno.test("createJsonHandler() redacts the deps' secrets from an HttpError message", async () => {
  const h = harness({
    handle: () => Promise.reject(new HttpError(400, "bad", `the value ${OTHER_SECRET} is bad`)),
  });
  const res = await call(h, post("{}"));
  assert.equal(res.status, 400);
  assert.equal(res.body.message, "the value [REDACTED] is bad");
});

// ---------------------------------------------------------------------------------------
// Signed (cron) calls
// ---------------------------------------------------------------------------------------

const INVOKE_SECRET = "invoke-secret-SECRET-0123456789abcdef0123456789";
const NOW_S = 1_800_000_000;

function signed(body: string, options: { secret?: string; fn?: string; at?: number } = {}) {
  const header = signInvocation({
    secret: options.secret ?? INVOKE_SECRET,
    functionName: options.fn ?? "t",
    body,
    signedAt: options.at ?? NOW_S,
  });
  return post(body, { authorization: "", [SIGNATURE_HEADER]: header });
}

function signedHarness(deps: Partial<BaseHandlerDeps> = {}): Harness {
  return harness({
    deps: {
      invokeSecrets: [INVOKE_SECRET],
      clock: new FakeClock({ start: NOW_S * 1000 }),
      ...deps,
    },
  });
}

Deno.test("createJsonHandler() accepts a call signed over its exact body, without any key", async () => {
  const h = signedHarness();
  const res = await call(h, signed('{"n": 7}'));
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { body: { n: 7 } });
  assert.equal(h.calls.length, 1);
});

Deno.test("createJsonHandler() refuses a signed call whose body, function or secret differs (401 invalid_signature)", async () => {
  const h = signedHarness();
  const tampered = signed('{"n": 7}');
  const header = tampered.headers.get(SIGNATURE_HEADER)!;
  for (
    const req of [
      post('{"n": 8}', { authorization: "", [SIGNATURE_HEADER]: header }),
      signed('{"n": 7}', { fn: "other-function" }),
      signed('{"n": 7}', { secret: "another-secret-0123456789abcdef0123456789" }),
    ]
  ) {
    const res = await call(h, req);
    assert.equal(res.status, 401);
    assert.equal(res.body.error, "invalid_signature");
    assert.ok(!JSON.stringify(res.body).includes(INVOKE_SECRET));
  }
  assert.equal(h.calls.length, 0);
  assert.deepEqual(
    h.logger.entries.filter((e) => e.event === "request_failed").map((e) => e.error),
    ["invalid_signature", "invalid_signature", "invalid_signature"],
  );
});

Deno.test("createJsonHandler() refuses a replay after 10 minutes (401 stale_signature)", async () => {
  const h = signedHarness({ clock: new FakeClock({ start: (NOW_S + 601) * 1000 }) });
  const res = await call(h, signed("{}"));
  assert.equal(res.status, 401);
  assert.equal(res.body.error, "stale_signature");
  assert.equal(h.calls.length, 0);
});

Deno.test("createJsonHandler() answers a signed call 500 misconfigured when the function has no invocation secret", async () => {
  const h = signedHarness({ invokeSecrets: [] });
  const res = await call(h, signed("{}"));
  assert.equal(res.status, 500);
  assert.equal(res.body.error, "misconfigured");
  assert.match(res.body.message, /EDGE_INVOKE_SECRET is not set/);
  assert.match(res.body.message, /edge_invoke_secret/);
});

Deno.test("createJsonHandler() still accepts an operator's key, with or without a (bad) signature header", async () => {
  const h = signedHarness();
  const withKey = await call(h, post('{"n": 2}', { [SIGNATURE_HEADER]: "t=1,v1=00" }));
  assert.equal(withKey.status, 200);
  const plain = await call(h, post('{"n": 3}'));
  assert.equal(plain.status, 200);
  assert.deepEqual(h.calls.map((c) => c.body.n), [2, 3]);
});

Deno.test("createJsonHandler() still checks the key of an unsigned call before reading its body", async () => {
  const h = signedHarness();
  let pulled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled = true;
      controller.enqueue(new TextEncoder().encode("{}"));
      controller.close();
    },
  }, { highWaterMark: 0 });
  const res = await call(
    h,
    new Request("http://localhost/functions/v1/t", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    }),
  );
  assert.equal(res.status, 401);
  assert.equal(res.body.error, "missing_api_key");
  assert.equal(pulled, false, "the body of an unauthenticated call is not read");
});
