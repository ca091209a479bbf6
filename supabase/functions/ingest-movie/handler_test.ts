import assert from "node:assert/strict";
import { ConfigError } from "../_shared/platform/config.ts";
import { createTmdbClient, TmdbError } from "../_shared/tmdb/client.ts";
import {
  createRecordingCatalogStore,
  type RecordingCatalogStore,
} from "../_shared/testing/recording_catalog.ts";
import { movieDetailsFixture } from "../_shared/testing/tmdb_fixtures.ts";
import { createHandler, type HandlerDeps } from "./handler.ts";
import { createMemoryLogger, type MemoryLogger } from "../_shared/testing/memory_logger.ts";
import { FakeClock } from "../_shared/testing/fake_clock.ts";
import { memoryApiLogSink } from "../_shared/testing/memory_api_log.ts";

const SERVICE_KEY = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.service-signature";
const SECRET_KEY = "sb_secret_handler-test-0123456789";
const ANON_KEY = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.anon-signature";
const TMDB_TOKEN = "tmdb-read-access-token-handler-test-XYZ";
const SECRETS = [SERVICE_KEY, SECRET_KEY, TMDB_TOKEN];

function movie(id: number): string {
  return JSON.stringify(movieDetailsFixture(id));
}

function notFound(id: number) {
  return new TmdbError(`TMDB GET /movie/${id} failed: not_found: HTTP 404`, {
    kind: "not_found",
    httpStatus: 404,
    statusCode: 34,
    statusMessage: "The resource you requested could not be found.",
    endpoint: "/movie/{id}",
    attempts: 1,
    retryable: false,
    tmdbId: id,
  });
}

interface Harness {
  handler: (req: Request) => Promise<Response>;
  logger: MemoryLogger;
  store: RecordingCatalogStore;
  tmdbCalls: number[];
  runIds: string[];
  flushes: () => number;
}

/**
 * A handler on fakes. TMDB knows movies 550 and 680; 500 answers a server error; every other
 * id is not found.
 */
function harness(overrides: Partial<HandlerDeps> = {}): Harness {
  const logger = createMemoryLogger({ fn: "ingest-movie", secrets: SECRETS });
  // Stores each movie the first time as inserted, then as unchanged; reports drift.
  const seen = new Set<number>();
  const store = createRecordingCatalogStore({
    outcome: (a) => {
      const again = seen.has(a.tmdb_id);
      seen.add(a.tmdb_id);
      return a.status === 200 && again ? { outcome: "unchanged" } : undefined;
    },
    drift: () => ({ "release_dates.results[].release_dates[].note": { missing: 1 } }),
  });
  const tmdbCalls: number[] = [];
  const runIds: string[] = [];
  let flushes = 0;
  let nextRun = 1;
  const deps: HandlerDeps = {
    allowedKeys: [SERVICE_KEY, SECRET_KEY],
    store,
    logger,
    clock: new FakeClock({ start: Date.UTC(2026, 5, 1) }),
    secrets: SECRETS,
    newRunId: () => `run-${nextRun++}`,
    tmdbFor(runId) {
      runIds.push(runId);
      return {
        movieDetailsText(id: number) {
          tmdbCalls.push(id);
          if (id === 550 || id === 680) return Promise.resolve(movie(id));
          if (id === 500) {
            return Promise.reject(
              new TmdbError(`TMDB GET /movie/500 failed: server_error: HTTP 503`, {
                kind: "server_error",
                httpStatus: 503,
                statusCode: null,
                statusMessage: null,
                endpoint: "/movie/{id}",
                attempts: 4,
                retryable: true,
                tmdbId: 500,
              }),
            );
          }
          return Promise.reject(notFound(id));
        },
        flushLogs() {
          flushes++;
          return Promise.resolve();
        },
      };
    },
    ...overrides,
  };
  return {
    handler: createHandler(deps),
    logger,
    store,
    tmdbCalls,
    runIds,
    flushes: () => flushes,
  };
}

function post(
  body: BodyInit | null,
  headers: Record<string, string> = { authorization: `Bearer ${SERVICE_KEY}` },
): Request {
  return new Request("http://localhost/functions/v1/ingest-movie", {
    method: "POST",
    headers: { "content-type": "application/json", "sb-request-id": "req-1", ...headers },
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
  return { status: res.status, headers: res.headers, body: JSON.parse(text) };
}

Deno.test("ingest-movie answers 405 with Allow: POST to other methods", async () => {
  const h = harness();
  for (const method of ["GET", "PUT", "DELETE", "OPTIONS"]) {
    const res = await call(
      h,
      new Request("http://localhost/", {
        method,
        headers: { authorization: `Bearer ${SERVICE_KEY}`, "sb-request-id": "req-1" },
      }),
    );
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST");
    assert.equal(res.body.error, "method_not_allowed");
    assert.equal(res.body.request_id, "req-1");
  }
  assert.deepEqual(h.tmdbCalls, []);
});

Deno.test("ingest-movie answers 401 to a missing, wrong, anon or publishable key", async () => {
  const h = harness();
  const cases: [Record<string, string>, string][] = [
    [{}, "missing_api_key"],
    [{ authorization: "Bearer wrong-key" }, "invalid_api_key"],
    [{ authorization: `Bearer ${SERVICE_KEY.slice(0, -1)}X` }, "invalid_api_key"],
    [{ authorization: `Bearer ${ANON_KEY}` }, "invalid_api_key"],
    [{ apikey: ANON_KEY }, "invalid_api_key"],
    [{ apikey: "sb_publishable_abcdefghijklmnop" }, "invalid_api_key"],
  ];
  for (const [headers, code] of cases) {
    const res = await call(h, post('{"tmdb_id":550}', headers));
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal(res.body.error, code);
    assert.equal(typeof res.body.message, "string");
  }
  assert.deepEqual(h.tmdbCalls, [], "nothing was fetched without a valid key");
  assert.equal(h.logger.entries.filter((e) => e.event === "request_failed").length, cases.length);
});

Deno.test("ingest-movie accepts a secret key in the apikey header", async () => {
  const h = harness();
  const res = await call(h, post('{"tmdb_id":550}', { apikey: SECRET_KEY }));
  assert.equal(res.status, 200);
});

Deno.test("ingest-movie answers 400 invalid_json naming the parse problem", async () => {
  const h = harness();
  const res = await call(h, post("{tmdb_id: 550}"));
  assert.equal(res.status, 400);
  assert.equal(res.body.error, "invalid_json");
  assert.match(res.body.message, /^Request body is not valid JSON: \S+/);
  const empty = await call(h, post(""));
  assert.equal(empty.body.error, "invalid_json");
});

Deno.test("ingest-movie answers 415 to a non-JSON content type", async () => {
  const h = harness();
  const res = await call(
    h,
    post("tmdb_id=550", {
      authorization: `Bearer ${SERVICE_KEY}`,
      "content-type": "text/plain",
    }),
  );
  assert.equal(res.status, 415);
  assert.equal(res.body.error, "unsupported_media_type");
});

Deno.test("ingest-movie answers 400 invalid_body naming each field with a wrong type", async () => {
  const h = harness();
  const res = await call(h, post('{"tmdb_ids":[550, 680, 12, "13", -4, 1.5]}'));
  assert.equal(res.status, 400);
  assert.equal(res.body.error, "invalid_body");
  assert.match(res.body.message, /tmdb_ids\[3\]: Expected number, received string/);
  assert.match(res.body.message, /tmdb_ids\[4\]: Expected a positive TMDB id/);
  assert.match(res.body.message, /tmdb_ids\[5\]: Expected an integer TMDB id/);
  const single = await call(h, post('{"tmdb_id":"550"}'));
  assert.match(single.body.message, /tmdb_id: Expected number, received string/);
  // works.tmdb_id is a 32-bit integer: a larger id never reaches TMDB or the database.
  const huge = await call(h, post('{"tmdb_ids":[550, 2147483648]}'));
  assert.equal(huge.status, 400);
  assert.match(huge.body.message, /tmdb_ids\[1\]: Expected a TMDB id of at most 2147483647/);
  assert.deepEqual(h.tmdbCalls, []);
});

Deno.test("ingest-movie answers 400 naming unknown keys", async () => {
  const h = harness();
  const res = await call(h, post('{"tmdb_id":550,"force":true,"tmbd_ids":[1]}'));
  assert.equal(res.status, 400);
  assert.equal(res.body.error, "invalid_body");
  assert.match(res.body.message, /Unrecognized key\(s\) in object: 'force', 'tmbd_ids'/);
});

Deno.test("ingest-movie answers 400 unless exactly one of tmdb_id / tmdb_ids is given", async () => {
  const h = harness();
  for (const body of ["{}", '{"tmdb_id":550,"tmdb_ids":[680]}']) {
    const res = await call(h, post(body));
    assert.equal(res.status, 400, body);
    assert.match(res.body.message, /Exactly one of tmdb_id \/ tmdb_ids is required/);
  }
  const notObject = await call(h, post("[550]"));
  assert.equal(notObject.status, 400);
  assert.match(notObject.body.message, /body: Expected a JSON object/);
  const emptyList = await call(h, post('{"tmdb_ids":[]}'));
  assert.match(emptyList.body.message, /tmdb_ids: Expected at least 1 TMDB id/);
});

Deno.test("ingest-movie answers 400 naming the limit when more than 50 ids are sent", async () => {
  const h = harness();
  const ids = Array.from({ length: 51 }, (_, i) => i + 1);
  const res = await call(h, post(JSON.stringify({ tmdb_ids: ids })));
  assert.equal(res.status, 400);
  assert.match(res.body.message, /tmdb_ids: At most 50 TMDB ids per request/);
  const ok = await call(h, post(JSON.stringify({ tmdb_ids: ids.slice(0, 50) })));
  assert.equal(ok.status, 200);
  assert.equal(ok.body.requested, 50);
});

Deno.test("ingest-movie answers 413 to a body over 64 KiB", async () => {
  const h = harness();
  const huge = JSON.stringify({ tmdb_id: 550, pad: "x".repeat(70_000) });
  const res = await call(h, post(huge));
  assert.equal(res.status, 413);
  assert.equal(res.body.error, "body_too_large");
  // Without a Content-Length header too (streamed body).
  const stream = new Blob([huge]).stream();
  const streamed = await call(h, post(stream));
  assert.equal(streamed.status, 413);
  assert.deepEqual(h.tmdbCalls, []);
});

Deno.test("ingest-movie ingests the movies and answers the summary", async () => {
  const h = harness();
  const res = await call(h, post(JSON.stringify({ tmdb_ids: [550, 680, 404, 500, 550] })));
  assert.equal(res.status, 200);
  const { duration_ms, ...rest } = res.body;
  assert.equal(typeof duration_ms, "number");
  assert.deepEqual(rest, {
    run_id: "run-1",
    requested: 4,
    ingested: 2,
    inserted: 2,
    updated: 0,
    unchanged: 0,
    not_found: [404],
    failed: [{
      tmdb_id: 500,
      kind: "server_error",
      message: "TMDB GET /movie/500 failed: server_error: HTTP 503",
    }],
    skipped: [],
    drift: { "release_dates.results[].release_dates[].note": { missing: 1 } },
  });
  assert.deepEqual(h.runIds, ["run-1"]);
  assert.equal(h.flushes(), 1, "API logs were flushed before answering");
  assert.deepEqual(h.store.calls.map((c) => c.context), [
    { runId: "run-1", functionName: "ingest-movie", refreshedAt: new Date(Date.UTC(2026, 5, 1)) },
  ]);
  assert.deepEqual(
    h.store.answers.map((a) => [a.tmdb_id, a.status]).sort(),
    [[404, 404], [550, 200], [680, 200]],
  );

  const summaryLines = h.logger.entries.filter((e) => e.event === "ingest_movie_request");
  assert.equal(summaryLines.length, 1);
  assert.equal(summaryLines[0].request_id, "req-1");
  assert.equal(summaryLines[0].run_id, "run-1");
  assert.equal(summaryLines[0].inserted, 2);
  assert.deepEqual(summaryLines[0].not_found, [404]);

  const again = await call(h, post('{"tmdb_id":550}'));
  assert.equal(again.body.unchanged, 1);
  assert.equal(again.body.ingested, 0);
  assert.equal(again.body.run_id, "run-2");
});

Deno.test("ingest-movie answers 500 misconfigured naming the variable when config is missing", async () => {
  const logger = createMemoryLogger({ fn: "ingest-movie" });
  const handler = createHandler({
    getDeps: () => {
      throw new ConfigError([{
        variable: "TMDB_API_TOKEN",
        message: "TMDB_API_TOKEN is missing; set it with `supabase secrets set TMDB_API_TOKEN=…`",
      }]);
    },
    logger,
  });
  const res = await handler(post('{"tmdb_id":550}'));
  assert.equal(res.status, 500);
  const body = await res.json();
  assert.equal(body.error, "misconfigured");
  assert.match(body.message, /TMDB_API_TOKEN is missing; set it with `supabase secrets set/);
  assert.equal(body.request_id, "req-1");
  assert.deepEqual(logger.entries.map((e) => e.event), ["misconfigured"]);
});

Deno.test("ingest-movie turns an unexpected error into 500 internal_error without leaking it", async () => {
  const h = harness({
    tmdbFor: () => {
      throw new Error(`could not build client with token ${TMDB_TOKEN}`);
    },
  });
  const res = await call(h, post('{"tmdb_id":550}'));
  assert.equal(res.status, 500);
  assert.equal(res.body.error, "internal_error");
  assert.equal(res.body.request_id, "req-1");
  assert.ok(!JSON.stringify(res.body).includes("could not build client"));
  const entry = h.logger.entries.find((e) => e.event === "unhandled_error")!;
  assert.match(JSON.stringify(entry), /could not build client with token \[REDACTED\]/);
});

Deno.test("ingest-movie never echoes the TMDB token or service key, even when TMDB or the database does", async () => {
  // The real TMDB client on a fake fetch whose error bodies quote the credentials back.
  const sink = memoryApiLogSink();
  const clock = new FakeClock({ start: Date.UTC(2026, 5, 1), autoAdvance: true });
  const fetchFake: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const auth = new Headers(init?.headers).get("authorization") ?? "";
    const id = Number(url.pathname.split("/").pop());
    if (id === 550) return Promise.resolve(Response.json(movieDetailsFixture(550)));
    return Promise.resolve(
      Response.json({
        success: false,
        status_code: 7,
        status_message: `Invalid API key: you sent ${auth} for ${SERVICE_KEY}`,
      }, { status: 401 }),
    );
  };
  const logger = createMemoryLogger({ fn: "ingest-movie", secrets: SECRETS });
  const store = createRecordingCatalogStore({
    failCall: () => new Error(`db auth failed for ${SERVICE_KEY}`),
  });
  const h: Harness = {
    handler: createHandler({
      allowedKeys: [SERVICE_KEY],
      store,
      logger,
      clock,
      secrets: SECRETS,
      tmdbFor: (runId) =>
        createTmdbClient({
          baseUrl: "http://tmdb.test/3",
          accessToken: TMDB_TOKEN,
          maxAttempts: 1,
          fetch: fetchFake,
          clock,
          logSink: sink,
          callerName: "ingest-movie",
          runId,
        }),
    }),
    logger,
    store,
    tmdbCalls: [],
    runIds: [],
    flushes: () => sink.flushes,
  };
  const res = await call(h, post('{"tmdb_ids":[550, 551]}'));
  assert.equal(res.status, 200);
  assert.equal(res.body.inserted, 0);
  assert.deepEqual(res.body.failed.map((f: { kind: string }) => f.kind), [
    "database",
    "unauthorized",
  ]);
  assert.equal(
    res.body.failed[0].message,
    "storing movie 550 failed: Error: db auth failed for [REDACTED]",
  );
  assert.equal(sink.flushes, 1);
  // The client only knows its own token; it must keep it out of the rows it writes.
  assert.equal(sink.rows.length, 2);
  assert.ok(!JSON.stringify(sink.rows).includes(TMDB_TOKEN), "API log rows hold no token");
});
