import assert from "node:assert/strict";
import { type ApiLogRow, createBatchedApiLogSink } from "./api_log.ts";
import { createRateLimiter } from "./rate_limiter.ts";
import { createTmdbClient, type TmdbClientOptions, TmdbError } from "./client.ts";
import {
  changesPageFixture,
  movieDetailsFixture,
  moviePageFixture,
  tmdbErrorFixture,
} from "../testing/tmdb_fixtures.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { memoryApiLogSink } from "../testing/memory_api_log.ts";

const TOKEN = "eyJhbGciOiJIUzI1NiJ9.SECRET-READ-ACCESS-TOKEN.sig";
const API_KEY = "0123456789abcdefSECRETKEY";
const BASE = "https://api.tmdb.test/3";
const START = Date.parse("2026-10-01T00:00:00Z");

interface FetchCall {
  url: URL;
  headers: Headers;
  at: number;
  signal: AbortSignal | null;
}

type Handler = (call: FetchCall, n: number) => Response | Promise<Response>;

/** A fake `fetch` that records each call and answers with `handler` (n = 1-based call number). */
function fakeFetch(clock: FakeClock, handler: Handler) {
  const calls: FetchCall[] = [];
  const fetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const call: FetchCall = {
      url: new URL(String(input)),
      headers: new Headers(init?.headers),
      at: clock.now(),
      signal: init?.signal ?? null,
    };
    calls.push(call);
    return Promise.resolve(handler(call, calls.length));
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

const notFound = () =>
  json(tmdbErrorFixture(34, "The resource you requested could not be found."), 404);

/** Waits until the request's signal aborts, then rejects with its reason (a hung server). */
function hang(call: FetchCall): Promise<Response> {
  return new Promise((_, reject) => {
    const signal = call.signal!;
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

function setup(handler: Handler, overrides: Partial<TmdbClientOptions> = {}) {
  const clock = new FakeClock({ start: START, autoAdvance: true });
  const { fetch, calls } = fakeFetch(clock, handler);
  const logs = memoryApiLogSink();
  const client = createTmdbClient({
    baseUrl: BASE,
    accessToken: TOKEN,
    fetch,
    clock,
    random: () => 0.5,
    logSink: logs,
    callerName: "sync-movies",
    runId: "run-42",
    ...overrides,
  });
  return { client, clock, calls, logs };
}

async function rejection(promise: Promise<unknown>): Promise<TmdbError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TmdbError, `expected a TmdbError, got ${error}`);
    return error;
  }
  assert.fail("expected the call to reject");
}

Deno.test("movieDetails() makes ONE request with every part appended and the bearer token", async () => {
  const { client, calls, logs } = setup(() => json(movieDetailsFixture(550)));
  const text = await client.movieDetailsText(550);
  // The body is handed on exactly as TMDB sent it: Postgres parses it.
  assert.equal(text, JSON.stringify(movieDetailsFixture(550)));
  assert.equal(calls.length, 1);
  assert.equal(calls[0].url.origin + calls[0].url.pathname, `${BASE}/movie/550`);
  assert.equal(
    calls[0].url.searchParams.get("append_to_response"),
    "credits,videos,release_dates,external_ids,keywords",
  );
  assert.equal(calls[0].url.searchParams.has("api_key"), false);
  assert.equal(calls[0].headers.get("authorization"), `Bearer ${TOKEN}`);
  assert.deepEqual(logs.rows, [
    {
      created_at: "2026-10-01T00:00:00.000Z",
      function_name: "sync-movies",
      run_id: "run-42",
      method: "GET",
      endpoint: "/movie/{id}",
      params: { append_to_response: "credits,videos,release_dates,external_ids,keywords" },
      http_status: 200,
      tmdb_status_code: null,
      duration_ms: 0,
      attempt: 1,
      error: null,
      tmdb_id: 550,
    },
  ]);
});

Deno.test("movieList() maps each list to its path and sends the page", async () => {
  const { client, calls, logs } = setup((call) =>
    json(moviePageFixture(Number(call.url.searchParams.get("page"))))
  );
  const nowPlaying = await client.movieList("now_playing", 3);
  assert.equal(nowPlaying.page, 3);
  assert.deepEqual(nowPlaying.ids, [1022789, 1200001]);
  assert.deepEqual(nowPlaying.drift, {});
  await client.movieList("popular", 1);
  await client.movieList("trending_day", 1);
  await client.movieList("trending_week", 500);
  assert.deepEqual(calls.map((c) => `${c.url.pathname}?${c.url.search.slice(1)}`), [
    "/3/movie/now_playing?page=3",
    "/3/movie/popular?page=1",
    "/3/trending/movie/day?page=1",
    "/3/trending/movie/week?page=500",
  ]);
  assert.deepEqual(logs.rows.map((r) => [r.endpoint, r.params]), [
    ["/movie/now_playing", { page: "3" }],
    ["/movie/popular", { page: "1" }],
    ["/trending/movie/day", { page: "1" }],
    ["/trending/movie/week", { page: "500" }],
  ]);
});

Deno.test("movieList() and movieDetailsText() refuse out-of-range input without a request", async () => {
  const { client, calls } = setup(() => json(moviePageFixture()));
  await assert.rejects(
    client.movieList("popular", 501),
    /`page` must be an integer between 1 and 500: current value is 501/,
  );
  await assert.rejects(client.movieList("popular", 0), /current value is 0/);
  await assert.rejects(
    client.movieList("upcoming" as "popular", 1),
    /`list` must be one of now_playing, popular, trending_day, trending_week: current value is "upcoming"/,
  );
  await assert.rejects(
    client.movieDetailsText(-5),
    /`tmdbId` must be an integer >= 1: current value is -5/,
  );
  assert.equal(calls.length, 0);
});

Deno.test("movieChanges() sends the window and page and refuses windows over 14 days or pages over 500", async () => {
  const { client, calls } = setup(() => json(changesPageFixture(2)));
  const page = await client.movieChanges({
    startDate: "2026-09-17",
    endDate: "2026-10-01",
    page: 2,
  });
  assert.deepEqual(page.ids, [550, 1190012, 1190013]);
  assert.equal(calls[0].url.pathname, "/3/movie/changes");
  assert.equal(calls[0].url.search, "?start_date=2026-09-17&end_date=2026-10-01&page=2");
  await assert.rejects(
    client.movieChanges({ startDate: "2026-09-16", endDate: "2026-10-01", page: 1 }),
    /must span 0 to 14 days: current value is 2026-09-16\.\.2026-10-01 \(15 days\)/,
  );
  await assert.rejects(
    client.movieChanges({ startDate: "2026-10-02", endDate: "2026-10-01", page: 1 }),
    /must span 0 to 14 days/,
  );
  await assert.rejects(
    client.movieChanges({ startDate: "2026-02-30", endDate: "2026-03-01", page: 1 }),
    /`startDate` must be a date YYYY-MM-DD: current value is "2026-02-30"/,
  );
  await assert.rejects(
    client.movieChanges({ startDate: "2026-09-17", endDate: "2026-10-01", page: 501 }),
    /`page` must be an integer between 1 and 500: current value is 501/,
  );
  assert.equal(calls.length, 1);
});

Deno.test("a 404 (status_code 34) is not retried: exactly one fetch, kind not_found", async () => {
  const { client, calls, logs } = setup(notFound);
  const error = await rejection(client.movieDetailsText(999_999_999));
  assert.equal(calls.length, 1);
  assert.equal(error.kind, "not_found");
  assert.equal(error.httpStatus, 404);
  assert.equal(error.statusCode, 34);
  assert.equal(error.statusMessage, "The resource you requested could not be found.");
  assert.equal(error.endpoint, "/movie/{id}");
  assert.equal(error.tmdbId, 999_999_999);
  assert.equal(error.attempts, 1);
  assert.equal(error.retryable, false);
  assert.equal(
    error.message,
    'TMDB GET /movie/999999999 failed: not_found: HTTP 404 status_code 34 "The resource you ' +
      'requested could not be found." (after 1 of at most 4 attempts)',
  );
  assert.equal(logs.rows.length, 1);
  assert.equal(logs.rows[0].http_status, 404);
  assert.equal(logs.rows[0].tmdb_status_code, 34);
});

Deno.test("401, 403 and 422 are not retried and keep TMDB's status_code", async () => {
  const cases: [number, number, string][] = [
    [401, 7, "unauthorized"],
    [403, 3, "unauthorized"],
    [422, 20, "bad_request"],
  ];
  for (const [status, code, kind] of cases) {
    const { client, calls } = setup(() => json(tmdbErrorFixture(code, `message ${code}`), status));
    const error = await rejection(client.movieList("popular", 1));
    assert.equal(calls.length, 1, `HTTP ${status}`);
    assert.equal(error.kind, kind);
    assert.equal(error.statusCode, code);
    assert.equal(error.statusMessage, `message ${code}`);
    assert.equal(error.retryable, false);
  }
});

Deno.test("a 5xx then success takes 2 attempts and leaves 2 log rows (attempt 1 and 2)", async () => {
  const { client, calls, logs } = setup((_, n) =>
    n === 1
      ? new Response("<html>Bad gateway</html>", { status: 502 })
      : json(movieDetailsFixture())
  );
  const text = await client.movieDetailsText(550);
  assert.equal(JSON.parse(text).id, 550);
  assert.equal(calls.length, 2);
  // Equal jitter, attempt 1: 500/2 + random(0.5) * 500/2 = 375 ms.
  assert.equal(calls[1].at - calls[0].at, 375);
  assert.deepEqual(
    logs.rows.map((r) => [r.attempt, r.http_status, r.tmdb_status_code, r.error]),
    [[1, 502, null, "server_error: HTTP 502"], [2, 200, null, null]],
  );
});

Deno.test("persistent 5xx fails after maxAttempts with growing, capped backoff", async () => {
  const { client, calls, logs } = setup(
    () => json(tmdbErrorFixture(11, "Internal error: Something went wrong."), 500),
    { maxAttempts: 5, backoff: { baseMs: 1_000, capMs: 3_000 } },
  );
  const error = await rejection(client.movieDetailsText(550));
  assert.equal(calls.length, 5);
  assert.equal(error.kind, "server_error");
  assert.equal(error.attempts, 5);
  assert.equal(error.retryable, true);
  assert.equal(error.statusCode, 11);
  const gaps = calls.slice(1).map((c, i) => c.at - calls[i].at);
  // d = 1000, 2000, 3000 (capped), 3000 → equal jitter with random 0.5 → 0.75·d.
  assert.deepEqual(gaps, [750, 1_500, 2_250, 2_250]);
  assert.deepEqual(logs.rows.map((r) => r.attempt), [1, 2, 3, 4, 5]);
});

Deno.test("a 429 is retried after Retry-After delta-seconds", async () => {
  const { client, calls } = setup((_, n) =>
    n === 1
      ? json(
        tmdbErrorFixture(25, "Your request count (51) is over the allowed limit of 50."),
        429,
        {
          "retry-after": "3",
        },
      )
      : json(moviePageFixture())
  );
  await client.movieList("popular", 1);
  assert.equal(calls.length, 2);
  assert.equal(calls[1].at - calls[0].at, 3_000);
});

Deno.test("a 429 is retried at the Retry-After HTTP-date", async () => {
  const retryAt = new Date(START + 7_000).toUTCString();
  const { client, calls } = setup((_, n) =>
    n === 1 ? json(tmdbErrorFixture(25, "over limit"), 429, { "retry-after": retryAt }) : json(
      moviePageFixture(),
    )
  );
  await client.movieList("popular", 1);
  assert.equal(calls[1].at - START, 7_000);
});

Deno.test("a 429 without Retry-After uses backoff; a huge Retry-After is capped", async () => {
  const first = setup((_, n) =>
    n === 1 ? json(tmdbErrorFixture(25, "over limit"), 429) : json(moviePageFixture())
  );
  await first.client.movieList("popular", 1);
  assert.equal(first.calls[1].at - first.calls[0].at, 375);

  const second = setup(
    (_, n) =>
      n === 1
        ? json(tmdbErrorFixture(25, "over limit"), 429, { "retry-after": "3600" })
        : json(moviePageFixture()),
    { retryAfterCapMs: 60_000 },
  );
  await second.client.movieList("popular", 1);
  assert.equal(second.calls[1].at - second.calls[0].at, 60_000);
});

Deno.test("a 429 pauses the shared limiter, so other calls wait for Retry-After too", async () => {
  const clock = new FakeClock({ start: START });
  const { fetch, calls } = fakeFetch(
    clock,
    (call, n) =>
      n === 1
        ? json(tmdbErrorFixture(25, "over limit"), 429, { "retry-after": "2" })
        : json(movieDetailsFixture(Number(call.url.pathname.split("/").pop()))),
  );
  const client = createTmdbClient({
    baseUrl: BASE,
    accessToken: TOKEN,
    fetch,
    clock,
    callerName: "t",
    runId: "r",
  });
  const a = client.movieDetailsText(1);
  await clock.advance(0); // movie 1 got its 429 and waits 2 s
  assert.equal(calls.length, 1);
  const b = client.movieDetailsText(2);
  await clock.advance(1_999);
  assert.equal(calls.length, 1, "movie 2 waits for the pause although tokens are available");
  await clock.advance(1);
  await Promise.all([a, b]);
  assert.deepEqual(calls.map((c) => [c.url.pathname, c.at - START]), [
    ["/3/movie/1", 0],
    ["/3/movie/2", 2_000],
    ["/3/movie/1", 2_000],
  ]);
});

Deno.test("timeouts are retried, then fail with kind timeout", async () => {
  const { client, calls, logs, clock } = setup(hang, { timeoutMs: 1_000, maxAttempts: 3 });
  const error = await rejection(client.movieDetailsText(550));
  assert.equal(calls.length, 3);
  assert.equal(error.kind, "timeout");
  assert.equal(error.httpStatus, null);
  assert.equal(error.attempts, 3);
  assert.equal(error.retryable, true);
  assert.match(error.message, /no complete response within 1000 ms/);
  assert.deepEqual(logs.rows.map((r) => [r.attempt, r.http_status, r.duration_ms]), [
    [1, null, 1_000],
    [2, null, 1_000],
    [3, null, 1_000],
  ]);
  // 3 timeouts + backoff 375 + 750.
  assert.equal(clock.now() - START, 3 * 1_000 + 375 + 750);
});

Deno.test("a timeout then success returns the movie", async () => {
  const { client, calls } = setup((call, n) => n === 1 ? hang(call) : json(movieDetailsFixture()));
  assert.equal(JSON.parse(await client.movieDetailsText(550)).id, 550);
  assert.equal(calls.length, 2);
});

Deno.test("network errors are retried", async () => {
  const { client, calls, logs } = setup((_, n) => {
    if (n < 3) throw new TypeError("error sending request: connection reset by peer");
    return json(movieDetailsFixture());
  });
  await client.movieDetailsText(550);
  assert.equal(calls.length, 3);
  assert.match(logs.rows[0].error!, /^network: TypeError: error sending request/);
});

Deno.test("malformed JSON in a 200 list page fails at once with a clear invalid_response error", async () => {
  const { client, calls, logs } = setup(() =>
    new Response('{"page": 1, "results": [{"id": 55', { status: 200 })
  );
  const error = await rejection(client.movieList("popular", 1));
  assert.equal(calls.length, 1, "not retried");
  assert.equal(error.kind, "invalid_response");
  assert.equal(error.retryable, false);
  assert.equal(error.httpStatus, 200);
  assert.match(
    error.message,
    /^TMDB GET \/movie\/popular\?page=1 failed: invalid_response: HTTP 200 body is not JSON/,
  );
  assert.match(error.message, /body starts "\{\\"page\\": 1, \\"results\\": \[\{\\"id\\": 55"/);
  assert.match(logs.rows[0].error!, /^invalid_response: HTTP 200 body is not JSON/);
});

Deno.test("a movie details body is not parsed: even a cut-off one is handed on as sent", async () => {
  const { client, calls } = setup(() =>
    new Response('{"id": 550, "title": "Fight Cl', { status: 200 })
  );
  assert.equal(await client.movieDetailsText(550), '{"id": 550, "title": "Fight Cl');
  assert.equal(calls.length, 1);
});

Deno.test("the secret never appears in log rows, error messages or String(error)", async () => {
  const scenarios: Record<string, (call: FetchCall, n: number) => Response | Promise<Response>> = {
    ok: () => json(movieDetailsFixture()),
    notFound,
    unauthorized: () =>
      json(tmdbErrorFixture(7, "Invalid API key: You must be granted a valid key."), 401),
    serverError: () => new Response("oops", { status: 503 }),
    // Deno's own fetch errors quote the full URL, query string included.
    network: (call) => {
      throw new TypeError(`error sending request for url (${call.url.href}): connection refused`);
    },
    timeout: hang,
    malformed: () => new Response("not json", { status: 200 }),
    echo: (call) =>
      json(
        tmdbErrorFixture(22, `Invalid page: ${call.url.href} ${call.headers.get("authorization")}`),
        400,
      ),
  };
  for (const [mode, secret] of [["accessToken", TOKEN], ["apiKey", API_KEY]] as const) {
    const texts: string[] = [];
    for (const [name, handler] of Object.entries(scenarios)) {
      const { client, calls, logs } = setup(handler, {
        accessToken: mode === "accessToken" ? TOKEN : undefined,
        apiKey: mode === "apiKey" ? API_KEY : undefined,
        maxAttempts: 2,
        timeoutMs: 100,
      });
      try {
        await client.movieDetailsText(550);
        await client.movieChanges({ startDate: "2026-09-30", endDate: "2026-10-01", page: 1 });
      } catch (error) {
        assert.ok(error instanceof TmdbError, `${mode}/${name}: ${error}`);
        texts.push(
          String(error),
          error.message,
          error.stack ?? "",
          JSON.stringify(error),
          Deno.inspect(error, { depth: 10 }),
          String(error.statusMessage),
        );
      }
      texts.push(JSON.stringify(logs.rows));
      // The secret did reach TMDB, so the test would notice a leak.
      const sent = mode === "accessToken"
        ? calls[0].headers.get("authorization")
        : calls[0].url.searchParams.get("api_key");
      assert.ok(sent?.includes(secret), `${mode}/${name}: the secret was not sent`);
      assert.ok(logs.rows.every((r) => !("api_key" in r.params)), `${mode}/${name}: params`);
    }
    assert.ok(texts.length > 20);
    for (const text of texts) {
      assert.ok(!text.includes(secret), `${mode}: secret leaked in ${text.slice(0, 300)}`);
      assert.ok(
        !text.includes("SECRET"),
        `${mode}: part of the secret leaked in ${text.slice(0, 300)}`,
      );
    }
  }
});

Deno.test("createTmdbClient() requires exactly one credential and names TMDB_API_TOKEN", () => {
  const base = { baseUrl: BASE, callerName: "x", runId: "r" };
  assert.throws(() => createTmdbClient(base), /TMDB_API_TOKEN/);
  assert.throws(() => createTmdbClient({ ...base, accessToken: "" }), /TMDB_API_TOKEN/);
  assert.throws(
    () => createTmdbClient({ ...base, accessToken: TOKEN, apiKey: API_KEY }),
    (e: Error) => /exactly one/.test(e.message) && !e.message.includes("SECRET"),
  );
  assert.throws(
    () => createTmdbClient({ ...base, accessToken: TOKEN, maxAttempts: 0 }),
    /`maxAttempts` must be an integer >= 1: current value is 0/,
  );
  assert.throws(
    () => createTmdbClient({ ...base, accessToken: TOKEN, baseUrl: "api.tmdb" }),
    /absolute URL/,
  );
});

Deno.test("log rows are batched: N calls produce one write on flushLogs()", async () => {
  const batches: ApiLogRow[][] = [];
  const logSink = createBatchedApiLogSink({
    write: (rows) => (batches.push(rows), Promise.resolve()),
    batchSize: 100,
  });
  const { client } = setup(
    (call) => json(movieDetailsFixture(Number(call.url.pathname.split("/").pop()))),
    {
      logSink,
    },
  );
  await Promise.all(Array.from({ length: 10 }, (_, i) => client.movieDetailsText(i + 1)));
  assert.equal(batches.length, 0);
  await client.flushLogs();
  assert.equal(batches.length, 1);
  assert.deepEqual(batches[0].map((r) => r.tmdb_id).sort((a, b) => a! - b!), [
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
  ]);
});

/** Largest number of timestamps in any closed window [t, t + windowMs]. */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let hi = 0, lo = 0; hi < sorted.length; hi++) {
    while (sorted[hi] - sorted[lo] > windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

Deno.test("200 concurrent calls stay within 48 requests per 1 s window and 20 connections", async () => {
  for (const latencyMs of [40, 1_500]) {
    const clock = new FakeClock({ start: START, autoAdvance: true });
    let inFlight = 0;
    let maxInFlight = 0;
    const { fetch, calls } = fakeFetch(clock, async (call) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await clock.sleep(latencyMs);
      inFlight--;
      return json(movieDetailsFixture(Number(call.url.pathname.split("/").pop())));
    });
    const client = createTmdbClient({
      baseUrl: BASE,
      accessToken: TOKEN,
      fetch,
      clock,
      callerName: "t",
      runId: "r",
    });
    const movies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => client.movieDetailsText(i + 1)),
    );
    assert.equal(movies.length, 200);
    assert.equal(calls.length, 200);
    const worst = maxInWindow(calls.map((c) => c.at), 1_000);
    assert.ok(worst <= 48, `latency ${latencyMs}: ${worst} requests in one 1 s window`);
    assert.ok(maxInFlight <= 20, `latency ${latencyMs}: ${maxInFlight} in flight`);
    if (latencyMs === 40) assert.ok(worst >= 40, `the rate limit paces the run: ${worst}`);
    else assert.equal(maxInFlight, 20, "the connection cap is what binds with slow responses");
  }
});

Deno.test("clients given the same limiter share its budget", async () => {
  const clock = new FakeClock({ start: START, autoAdvance: true });
  const limiter = createRateLimiter({ requestsPerSecond: 10, burst: 1, clock });
  const { fetch, calls } = fakeFetch(clock, () => json(moviePageFixture()));
  const make = (name: string) =>
    createTmdbClient({
      baseUrl: BASE,
      accessToken: TOKEN,
      fetch,
      clock,
      limiter,
      callerName: name,
      runId: "r",
    });
  const [a, b] = [make("a"), make("b")];
  await Promise.all(
    [1, 2, 3, 4, 5].flatMap((p) => [a.movieList("popular", p), b.movieList("popular", p)]),
  );
  assert.ok(maxInWindow(calls.map((c) => c.at), 1_000) <= 11);
});

Deno.test("aborting during a backoff rejects with the abort reason and sends nothing more", async () => {
  const clock = new FakeClock({ start: START });
  const { fetch, calls } = fakeFetch(clock, () => new Response("", { status: 503 }));
  const client = createTmdbClient({
    baseUrl: BASE,
    accessToken: TOKEN,
    fetch,
    clock,
    callerName: "t",
    runId: "r",
  });
  const controller = new AbortController();
  const pending = client.movieDetailsText(550, { signal: controller.signal });
  await clock.advance(100); // first attempt done, now waiting 250–500 ms
  assert.equal(calls.length, 1);
  controller.abort(new Error("function is shutting down"));
  await assert.rejects(pending, /function is shutting down/);
  await clock.advance(10_000);
  assert.equal(calls.length, 1);
});

Deno.test("aborting during a request rejects with the abort reason and logs the attempt", async () => {
  const { client, calls, logs, clock } = setup(hang);
  const controller = new AbortController();
  const pending = client.movieDetailsText(550, { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(calls.length, 1);
  controller.abort(new Error("client went away"));
  await assert.rejects(pending, /client went away/);
  assert.equal(calls.length, 1);
  assert.equal(clock.now(), START);
  assert.deepEqual(logs.rows.map((r) => [r.attempt, r.http_status, r.error]), [
    [1, null, "aborted: the caller's signal aborted the request"],
  ]);
});

Deno.test("no retry sleeps past the caller's deadline", async () => {
  const { client, calls, clock } = setup(() =>
    json(tmdbErrorFixture(25, "over limit"), 429, { "retry-after": "30" })
  );
  const error = await rejection(client.movieDetailsText(550, { deadline: START + 10_000 }));
  assert.equal(calls.length, 1);
  assert.equal(clock.now(), START, "did not sleep");
  assert.equal(error.kind, "rate_limited");
  assert.equal(error.retryable, true);
  assert.match(error.message, /not retried: a 30000 ms wait would pass the deadline/);
});

Deno.test("an attempt's timeout is cut to fit the caller's deadline", async () => {
  const { client, clock } = setup(hang, { timeoutMs: 10_000 });
  const error = await rejection(client.movieDetailsText(550, { deadline: START + 2_500 }));
  assert.equal(error.kind, "timeout");
  assert.ok(clock.now() <= START + 2_500, `ran until +${clock.now() - START} ms`);
});

Deno.test("a network error says why (the fetch error's cause) and which TMDB origin, never the URL", async () => {
  const { client } = setup((call) => {
    throw new TypeError("fetch failed", {
      cause: new Error(
        `error sending request for url (${call.url.href}): client error (Connect): tcp connect error: Connection refused (os error 111)`,
      ),
    });
  }, { maxAttempts: 1 });
  const error = await rejection(client.movieDetailsText(550));
  assert.equal(error.kind, "network");
  assert.match(
    error.message,
    /^TMDB GET \/movie\/550 failed: network: TypeError: fetch failed: error sending request: client error \(Connect\): tcp connect error: Connection refused \(os error 111\) \(TMDB at https?:\/\/[^/\s]+\) \(after 1 of at most 1 attempts\)$/,
  );
  assert.ok(!error.message.includes("/3/movie"), "no URL path in the message");
});
