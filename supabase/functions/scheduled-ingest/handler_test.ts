import assert from "node:assert/strict";
import { type Clock } from "../_shared/platform/clock.ts";
import type { FreshnessState } from "../_shared/store/ingestion_runs.ts";
import {
  createScriptedIngestionRunStore,
  type ScriptedIngestionRunStore,
  type ScriptedIngestionRunStoreOptions,
} from "../_shared/testing/scripted_ingestion_runs.ts";
import {
  type TmdbClient,
  TmdbError,
  type TmdbErrorKind,
  type TmdbMovieList,
} from "../_shared/tmdb/client.ts";
import type { TmdbIdPage } from "../_shared/tmdb/schemas.ts";
import {
  createRecordingCatalogStore,
  type RecordingCatalogStore,
} from "../_shared/testing/recording_catalog.ts";
import { movieDetailsFixture } from "../_shared/testing/tmdb_fixtures.ts";
import {
  type Json,
  memoryLogger,
  postTo,
  SERVICE_KEY,
  TEST_SECRETS,
  testCpuMeter,
  TMDB_TOKEN,
} from "../_shared/testing/handler_testing.ts";
import {
  createHandler,
  type HandlerDeps,
  type ScheduledIngestSummary,
  SOURCE_NAMES,
} from "./handler.ts";
import { type MemoryLogger } from "../_shared/testing/memory_logger.ts";
import { FakeClock } from "../_shared/testing/fake_clock.ts";

const RUN_ID = "0b9f6a52-4d0c-4a8e-9c55-5d0f3c1f4a11";
const START = Date.parse("2026-11-02T10:00:00Z");

// ---------------------------------------------------------------------------------------
// Fakes
// ---------------------------------------------------------------------------------------

interface ListSpec {
  /** Ids per page (index 0 = page 1); pages past the end are empty. */
  pages?: number[][];
  /** Ids of page n, for lists too long to spell out. */
  page?: (n: number) => number[];
  /** `total_pages` TMDB reports. Default `pages.length`. */
  totalPages?: number;
  /** Make page n fail with this error kind. */
  failPage?: (n: number) => TmdbErrorKind | null;
  /** Drift the client reports for every page of the list. */
  drift?: TmdbIdPage["drift"];
}

function tmdbError(kind: TmdbErrorKind, endpoint: string, extra: Partial<TmdbError> = {}) {
  const status: Record<string, number> = {
    unauthorized: 401,
    not_found: 404,
    server_error: 503,
    rate_limited: 429,
    bad_request: 400,
  };
  return new TmdbError(`TMDB GET ${endpoint} failed: ${kind}`, {
    kind,
    httpStatus: status[kind] ?? null,
    statusCode: kind === "unauthorized" ? 7 : kind === "not_found" ? 34 : null,
    statusMessage: null,
    endpoint,
    attempts: 1,
    retryable: ["server_error", "rate_limited", "network", "timeout"].includes(kind),
    tmdbId: null,
    ...extra,
  });
}

interface FakeTmdb extends Pick<TmdbClient, "movieList" | "movieDetailsText" | "flushLogs"> {
  listCalls: { list: TmdbMovieList; page: number }[];
  detailCalls: number[];
  flushes: number;
}

function fakeTmdb(
  lists: Partial<Record<TmdbMovieList, ListSpec>>,
  options: {
    details?: (id: number) => string | TmdbError;
    onListCall?: () => void;
  } = {},
): FakeTmdb {
  const fake: FakeTmdb = {
    listCalls: [],
    detailCalls: [],
    flushes: 0,
    movieList(list, page) {
      fake.listCalls.push({ list, page });
      options.onListCall?.();
      const spec = lists[list];
      if (!spec) return Promise.reject(new Error(`test: no list ${list}`));
      const kind = spec.failPage?.(page) ?? null;
      if (kind !== null) return Promise.reject(tmdbError(kind, `/movie/${list}`));
      const ids = spec.page?.(page) ?? spec.pages?.[page - 1] ?? [];
      const result: TmdbIdPage = {
        page,
        ids,
        total_pages: spec.totalPages ?? spec.pages?.length ?? 1,
        drift: structuredClone(spec.drift ?? {}),
      };
      return Promise.resolve(result);
    },
    movieDetailsText(id) {
      fake.detailCalls.push(id);
      const out = options.details?.(id) ?? details(id);
      return out instanceof TmdbError ? Promise.reject(out) : Promise.resolve(out);
    },
    flushLogs() {
      fake.flushes++;
      return Promise.resolve();
    },
  };
  return fake;
}

function details(id: number): string {
  return JSON.stringify(movieDetailsFixture(id));
}

/** A store answering `unchanged` for `unchanged` ids and `updated` for `updated` ones. */
function storeWith(outcomes: { unchanged?: number[]; updated?: number[] } = {}) {
  return createRecordingCatalogStore({
    outcome: (a) =>
      outcomes.unchanged?.includes(a.tmdb_id)
        ? { outcome: "unchanged" }
        : outcomes.updated?.includes(a.tmdb_id)
        ? { outcome: "updated" }
        : undefined,
  });
}

interface Setup {
  handler: (req: Request) => Promise<Response>;
  tmdb: FakeTmdb;
  runs: ScriptedIngestionRunStore;
  store: RecordingCatalogStore;
  logger: MemoryLogger;
}

function setup(
  tmdb: FakeTmdb,
  options: {
    states?: [number, FreshnessState][];
    clock?: Clock;
    deps?: Partial<HandlerDeps>;
    store?: RecordingCatalogStore;
    runs?: ScriptedIngestionRunStoreOptions;
  } = {},
): Setup {
  const runs = createScriptedIngestionRunStore({ states: options.states, ...options.runs });
  const store = options.store ?? storeWith();
  const logger = memoryLogger("scheduled-ingest");
  const handler = createHandler({
    allowedKeys: [SERVICE_KEY],
    tmdbFor: () => tmdb,
    store,
    runs,
    logger,
    clock: options.clock ?? new FakeClock({ start: START }),
    newRunId: () => RUN_ID,
    secrets: TEST_SECRETS,
    concurrency: 1,
    cpuMeter: testCpuMeter(),
    ...options.deps,
  });
  return { handler, tmdb, runs, store, logger };
}

const post = postTo("scheduled-ingest");

async function call(s: Setup, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await s.handler(post(body));
  return { status: res.status, body: await res.json() };
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

// ---------------------------------------------------------------------------------------
// The HTTP boundary
// ---------------------------------------------------------------------------------------

Deno.test("scheduled-ingest answers 405 with Allow: POST to a GET", async () => {
  const s = setup(fakeTmdb({}));
  const res = await s.handler(new Request("http://localhost/functions/v1/scheduled-ingest"));
  assert.equal(res.status, 405);
  assert.equal(res.headers.get("allow"), "POST");
  assert.equal((await res.json()).error, "method_not_allowed");
  assert.equal(s.runs.runs.size, 0);
});

Deno.test("scheduled-ingest answers 401 without a key and with a wrong key", async () => {
  const s = setup(fakeTmdb({ popular: { pages: [[1]] } }));
  const missing = await s.handler(post({ source: "popular" }, null));
  assert.equal(missing.status, 401);
  assert.equal((await missing.json()).error, "missing_api_key");
  const wrong = await s.handler(post({ source: "popular" }, "anon-key"));
  assert.equal(wrong.status, 401);
  const body = await wrong.json();
  assert.equal(body.error, "invalid_api_key");
  assert.ok(!JSON.stringify(body).includes("anon-key"));
  assert.equal(s.tmdb.listCalls.length, 0);
  assert.equal(s.runs.runs.size, 0);
});

Deno.test("scheduled-ingest rejects an unknown source with 400 listing the valid sources", async () => {
  const s = setup(fakeTmdb({}));
  const { status, body } = await call(s, { source: "upcoming" });
  assert.equal(status, 400);
  assert.equal(body.error, "invalid_body");
  assert.match(body.message, /source: Unknown source "upcoming"/);
  for (const name of SOURCE_NAMES) assert.ok(body.message.includes(name), name);
  assert.match(
    body.message,
    /now_playing, popular, trending_day, trending_week, mixed_daily, mixed_weekly/,
  );
  const missing = await call(s, {});
  assert.equal(missing.status, 400);
  assert.match(missing.body.message, /source is required: one of now_playing, popular/);
});

Deno.test("scheduled-ingest rejects limit outside 1..200, negative or non-integer with 400", async () => {
  const s = setup(fakeTmdb({}));
  for (const limit of [0, -5, 201, 2.5, "10", null, 1e9]) {
    const { status, body } = await call(s, { source: "popular", limit });
    assert.equal(status, 400, `limit ${JSON.stringify(limit)}`);
    assert.match(
      body.message,
      /limit: limit must be an integer between 1 and 200: current value is /,
      `limit ${JSON.stringify(limit)}`,
    );
    assert.ok(body.message.includes(JSON.stringify(limit)), body.message);
  }
  assert.equal(s.runs.runs.size, 0);
});

Deno.test("scheduled-ingest accepts limit 1 and 200 and defaults to 30", async () => {
  for (const [limit, expected] of [[1, 1], [200, 200], [undefined, 30]] as const) {
    const s = setup(fakeTmdb({ popular: { page: (n) => range(n * 1000, 20), totalPages: 500 } }));
    const { status, body } = await call(s, { source: "popular", limit });
    assert.equal(status, 200);
    assert.equal(body.limit, expected);
    assert.equal(body.candidates, expected);
    assert.equal(s.runs.runs.get(RUN_ID)!.requested, expected);
  }
});

Deno.test("scheduled-ingest names the field in a 400 for run_id, trigger, job_name and unknown keys", async () => {
  const s = setup(fakeTmdb({}));
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ source: "popular", run_id: "not-a-uuid" }, /run_id: run_id must be a uuid/],
    [{ source: "popular", trigger: "hourly" }, /trigger: trigger must be 'cron' or 'manual'/],
    [{ source: "popular", job_name: "x".repeat(101) }, /job_name: job_name must be at most 100/],
    [{ source: "popular", limt: 5 }, /Unrecognized key\(s\) in object: 'limt'/],
  ];
  for (const [body, pattern] of cases) {
    const res = await call(s, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.match(res.body.message, pattern);
  }
  const notJson = await s.handler(post("{"));
  assert.equal(notJson.status, 400);
  assert.equal((await notJson.json()).error, "invalid_json");
});

Deno.test("scheduled-ingest accepts the body call_scheduled_ingest() sends (job_name null)", async () => {
  const s = setup(fakeTmdb({ popular: { pages: [[7]] } }));
  const { status, body } = await call(s, {
    source: "popular",
    limit: 5,
    run_id: RUN_ID,
    trigger: "manual",
    job_name: null,
  });
  assert.equal(status, 200);
  assert.equal(body.run_id, RUN_ID);
  assert.equal(body.job_name, null);
  assert.equal(s.runs.runs.get(RUN_ID)!.trigger, "manual");
});

// ---------------------------------------------------------------------------------------
// Walking the lists
// ---------------------------------------------------------------------------------------

Deno.test("scheduled-ingest walks the lists round-robin and dedupes ids across lists and pages", async () => {
  const tmdb = fakeTmdb({
    now_playing: { pages: [[1, 2, 3, 3], [3, 4]] },
    trending_week: { pages: [[2, 5], [5, 6, 1]] },
  });
  const s = setup(tmdb);
  const { status, body } = await call(s, { source: "mixed_daily", limit: 100 });
  assert.equal(status, 200);
  assert.deepEqual(tmdb.listCalls, [
    { list: "now_playing", page: 1 },
    { list: "trending_week", page: 1 },
    { list: "now_playing", page: 2 },
    { list: "trending_week", page: 2 },
  ]);
  // Each page's unseen ids are classified once, in one call.
  assert.deepEqual(s.runs.classifyCalls, [[1, 2, 3], [5], [4], [6]]);
  assert.deepEqual(tmdb.detailCalls, [1, 2, 3, 5, 4, 6]);
  assert.equal(body.found, 6);
  assert.equal(body.candidates, 6);
  assert.equal(body.inserted, 6);
  assert.equal(body.pages_fetched, 4);
  assert.equal(body.stopped_because, "exhausted");
  assert.equal(body.status, "succeeded");
});

Deno.test("mixed_weekly walks popular and trending_week", async () => {
  const tmdb = fakeTmdb({ popular: { pages: [[1]] }, trending_week: { pages: [[2]] } });
  const s = setup(tmdb);
  const { body } = await call(s, { source: "mixed_weekly" });
  assert.deepEqual(tmdb.listCalls.map((c) => c.list), ["popular", "trending_week"]);
  assert.equal(body.inserted, 2);
});

Deno.test("scheduled-ingest stops requesting pages once limit candidates are collected", async () => {
  const tmdb = fakeTmdb({ popular: { page: (n) => range(n * 100, 5), totalPages: 10 } });
  const s = setup(tmdb);
  const { body } = await call(s, { source: "popular", limit: 7 });
  assert.deepEqual(tmdb.listCalls.map((c) => c.page), [1, 2]);
  assert.equal(body.found, 10);
  assert.equal(body.candidates, 7);
  assert.deepEqual(tmdb.detailCalls, [100, 101, 102, 103, 104, 200, 201]);
  assert.equal(body.inserted, 7);
  assert.equal(body.stopped_because, "limit");
});

Deno.test("scheduled-ingest does not read the next list once the first fills the limit", async () => {
  const tmdb = fakeTmdb({
    now_playing: { pages: [[1, 2, 3], [4]] },
    trending_week: { pages: [[5]] },
  });
  const s = setup(tmdb);
  const { body } = await call(s, { source: "mixed_daily", limit: 2 });
  assert.deepEqual(tmdb.listCalls, [{ list: "now_playing", page: 1 }]);
  assert.deepEqual(tmdb.detailCalls, [1, 2]);
  assert.equal(body.found, 3);
  assert.equal(body.stopped_because, "limit");
});

Deno.test("scheduled-ingest skips fresh ids, ingests new and due ones", async () => {
  const tmdb = fakeTmdb({ popular: { pages: [[1, 2, 3, 4], [5, 6]] } });
  const store = storeWith({ updated: [2] });
  const s = setup(tmdb, { states: [[1, "fresh"], [2, "due"], [4, "fresh"], [6, "fresh"]], store });
  const { body } = await call(s, { source: "popular", limit: 3 });
  assert.deepEqual(tmdb.detailCalls, [2, 3, 5]);
  assert.equal(body.skipped_fresh, 3);
  assert.equal(body.found, 6);
  assert.equal(body.candidates, 3);
  assert.equal(body.inserted, 2);
  assert.equal(body.updated, 1);
  assert.equal(body.ingested, 3);
});

Deno.test("scheduled-ingest never requests a page past 500, whatever total_pages says", async () => {
  const tmdb = fakeTmdb({ popular: { page: (n) => [n], totalPages: 40_000 } });
  const s = setup(tmdb, { states: range(1, 600).map((id) => [id, "fresh"]) });
  const { status, body } = await call(s, { source: "popular", limit: 10 });
  assert.equal(status, 200);
  assert.equal(tmdb.listCalls.length, 500);
  assert.equal(Math.max(...tmdb.listCalls.map((c) => c.page)), 500);
  assert.equal(body.pages_fetched, 500);
  assert.equal(body.skipped_fresh, 500);
  assert.equal(body.candidates, 0);
  assert.equal(body.stopped_because, "exhausted");
  assert.equal(body.status, "succeeded");
});

Deno.test("scheduled-ingest stops a list after its total_pages", async () => {
  const tmdb = fakeTmdb({
    now_playing: { pages: [[1], [2], [3]], totalPages: 3 },
    trending_week: { pages: [[10]], totalPages: 1 },
  });
  const s = setup(tmdb);
  const { body } = await call(s, { source: "mixed_daily", limit: 50 });
  assert.deepEqual(tmdb.listCalls, [
    { list: "now_playing", page: 1 },
    { list: "trending_week", page: 1 },
    { list: "now_playing", page: 2 },
    { list: "now_playing", page: 3 },
  ]);
  assert.equal(body.found, 4);
  assert.equal(body.stopped_because, "exhausted");
});

Deno.test("scheduled-ingest stops walking pages when the time budget for pages runs out", async () => {
  const clock = new FakeClock({ start: START });
  let now = START;
  const stepping: Clock = { now: () => now, sleep: (ms, signal) => clock.sleep(ms, signal) };
  const tmdb = fakeTmdb(
    { popular: { page: (n) => [n], totalPages: 500 } },
    { onListCall: () => (now += 10_000) },
  );
  const s = setup(tmdb, {
    clock: stepping,
    deps: { budget: { pagesMs: 35_000, startMs: 100_000, hardMs: 110_000 } },
  });
  const { status, body } = await call(s, { source: "popular", limit: 100 });
  assert.equal(status, 200);
  // Pages start at +0, +10, +20, +30 s; at +40 s the page budget (35 s) is spent.
  assert.equal(tmdb.listCalls.length, 4);
  assert.equal(body.stopped_because, "budget");
  assert.equal(body.candidates, 4);
  assert.equal(body.inserted, 4);
});

// ---------------------------------------------------------------------------------------
// The run row and the outcome
// ---------------------------------------------------------------------------------------

Deno.test("scheduled-ingest finishes the run row with exact counts and answers the summary", async () => {
  const store = storeWith({ unchanged: [2], updated: [3] });
  const tmdb = fakeTmdb(
    {
      now_playing: { pages: [[1, 2, 3, 9]], drift: { "results[].title": { null: 1 } } },
      trending_week: { pages: [[4, 5, 1, 8]] },
    },
    {
      details: (id) =>
        id === 4
          ? tmdbError("not_found", "/movie/{id}", { tmdbId: 4 })
          : id === 5
          ? tmdbError("server_error", "/movie/{id}", { tmdbId: 5 })
          : details(id),
    },
  );
  const s = setup(tmdb, { states: [[2, "due"], [3, "due"], [9, "fresh"], [8, "fresh"]], store });
  const { status, body } = await call(s, {
    source: "mixed_daily",
    limit: 10,
    run_id: RUN_ID,
    trigger: "cron",
    job_name: "scheduled_ingest_daily",
  });
  assert.equal(status, 200);
  const summary = body as ScheduledIngestSummary;
  assert.deepEqual(
    { ...summary, duration_ms: 0, failed: summary.failed.map((f) => f.tmdb_id) },
    {
      run_id: RUN_ID,
      source: "mixed_daily",
      limit: 10,
      trigger: "cron",
      job_name: "scheduled_ingest_daily",
      pages_fetched: 2,
      found: 7,
      candidates: 5,
      ingested: 2,
      inserted: 1,
      updated: 1,
      unchanged: 1,
      not_found: [4],
      failed: [5],
      skipped: [],
      skipped_fresh: 2,
      list_errors: [],
      stopped_because: "exhausted",
      drift: { "list:results[].title": { null: 1 } },
      status: "partial",
      duration_ms: 0,
    },
  );
  assert.deepEqual(s.store.recordedDrift, [
    {
      runId: RUN_ID,
      functionName: "scheduled-ingest",
      drift: { "list:results[].title": { null: 1 } },
    },
  ]);
  assert.equal(summary.failed[0].kind, "server_error");

  const row = s.runs.runs.get(RUN_ID)!;
  assert.equal(row.source, "mixed_daily");
  assert.equal(row.trigger, "cron");
  assert.equal(row.requested, 10);
  assert.equal(row.status, "partial");
  const finished = row.finished!;
  assert.deepEqual(
    {
      found: finished.found,
      ingested: finished.ingested,
      unchanged: finished.unchanged,
      failed: finished.failed,
      skippedFresh: finished.skippedFresh,
    },
    { found: 7, ingested: 2, unchanged: 1, failed: 1, skippedFresh: 2 },
  );
  assert.match(finished.error!, /1 of 5 movies failed/);
  assert.equal(finished.details.job_name, "scheduled_ingest_daily");
  assert.deepEqual(finished.details.not_found, [4]);
  assert.deepEqual(finished.details.drift, { "list:results[].title": { null: 1 } });
  assert.equal(tmdb.flushes, 1);

  const runLines = s.logger.entries.filter((e) => e.event === "scheduled_ingest_run");
  assert.equal(runLines.length, 1);
  assert.equal(runLines[0].run_id, RUN_ID);
  assert.equal(runLines[0].status, "partial");
});

Deno.test("scheduled-ingest reports succeeded when every candidate worked", async () => {
  const s = setup(fakeTmdb({ trending_day: { pages: [[1, 2]] } }));
  const { status, body } = await call(s, { source: "trending_day" });
  assert.equal(status, 200);
  assert.equal(body.status, "succeeded");
  assert.match(body.run_id, /^[0-9a-f-]{36}$/);
  const row = s.runs.runs.get(body.run_id)!;
  assert.equal(row.status, "succeeded");
  assert.equal(row.finished!.error, null);
  assert.equal(row.finished!.ingested, 2);
});

Deno.test("scheduled-ingest: TMDB 401 on a list page fails the run (row failed, 502, clear error)", async () => {
  const tmdb = fakeTmdb({
    now_playing: { pages: [[1]], failPage: () => "unauthorized" },
    trending_week: { pages: [[2]] },
  });
  const s = setup(tmdb);
  const res = await s.handler(post({ source: "mixed_daily", limit: 5 }));
  assert.equal(res.status, 502);
  const text = await res.text();
  const body = JSON.parse(text);
  assert.equal(body.error, "tmdb_unauthorized");
  assert.equal(
    body.message,
    "TMDB rejected the credentials (status_code 7): check TMDB_API_TOKEN",
  );
  assert.equal(body.status, "failed");
  assert.equal(body.run_id, RUN_ID);
  assert.equal(body.stopped_because, "tmdb_unauthorized");
  assert.equal(tmdb.listCalls.length, 1, "no further page is requested");
  assert.equal(tmdb.detailCalls.length, 0);
  const row = s.runs.runs.get(RUN_ID)!;
  assert.equal(row.status, "failed");
  assert.equal(
    row.finished!.error,
    "TMDB rejected the credentials (status_code 7): check TMDB_API_TOKEN",
  );
  assert.equal(tmdb.flushes, 1);
  for (const secret of [SERVICE_KEY, TMDB_TOKEN]) {
    assert.ok(!text.includes(secret));
    assert.ok(!s.logger.lines.some((l) => l.includes(secret)));
  }
  const line = s.logger.entries.find((e) => e.event === "scheduled_ingest_run")!;
  assert.equal(line.level, "error");
  assert.equal(line.error, "tmdb_unauthorized");
});

Deno.test("scheduled-ingest: TMDB 401 on a movie stops the ingest and fails the run", async () => {
  const tmdb = fakeTmdb(
    { popular: { pages: [[1, 2, 3, 4]] } },
    { details: (id) => id === 2 ? tmdbError("unauthorized", "/movie/{id}") : details(id) },
  );
  const s = setup(tmdb);
  const { status, body } = await call(s, { source: "popular", limit: 4 });
  assert.equal(status, 502);
  assert.equal(body.error, "tmdb_unauthorized");
  assert.deepEqual(tmdb.detailCalls, [1, 2], "no movie is started after the 401");
  assert.equal(body.inserted, 1);
  assert.deepEqual(body.skipped, [3, 4]);
  assert.equal(s.runs.runs.get(RUN_ID)!.status, "failed");
  assert.equal(s.runs.runs.get(RUN_ID)!.finished!.ingested, 1);
});

Deno.test("scheduled-ingest: a failing list is reported and the other list goes on (partial)", async () => {
  const tmdb = fakeTmdb({
    now_playing: { pages: [[1], [2]], failPage: (n) => n === 2 ? "server_error" : null },
    trending_week: { pages: [[3], [4], [5]] },
  });
  const s = setup(tmdb);
  const { status, body } = await call(s, { source: "mixed_daily", limit: 10 });
  assert.equal(status, 200);
  assert.equal(body.status, "partial");
  assert.equal(body.list_errors.length, 1);
  assert.equal(body.list_errors[0].list, "now_playing");
  assert.equal(body.list_errors[0].page, 2);
  assert.equal(body.list_errors[0].kind, "server_error");
  assert.deepEqual(tmdb.listCalls.filter((c) => c.list === "now_playing").length, 2);
  assert.equal(body.inserted, 4);
});

Deno.test("scheduled-ingest: when no list page can be read the run fails with 502", async () => {
  const tmdb = fakeTmdb({ popular: { pages: [[1]], failPage: () => "server_error" } });
  const s = setup(tmdb);
  const { status, body } = await call(s, { source: "popular" });
  assert.equal(status, 502);
  assert.equal(body.error, "tmdb_unavailable");
  assert.equal(body.status, "failed");
  assert.equal(s.runs.runs.get(RUN_ID)!.status, "failed");
});

Deno.test("scheduled-ingest: a database failure mid-run finishes the row as failed, answers 500", async () => {
  const tmdb = fakeTmdb({ popular: { pages: [[1]] } });
  const runs = createScriptedIngestionRunStore();
  runs.classify = () =>
    Promise.reject(new Error(`connection to postgres://u:${SERVICE_KEY}@db lost`));
  const s = setup(tmdb, { deps: { runs } });
  const res = await s.handler(post({ source: "popular" }));
  assert.equal(res.status, 500);
  const text = await res.text();
  assert.equal(JSON.parse(text).error, "internal_error");
  assert.ok(!text.includes(SERVICE_KEY));
  const row = runs.runs.get(RUN_ID)!;
  assert.equal(row.status, "failed");
  assert.match(row.finished!.error!, /connection to postgres/);
  assert.ok(!row.finished!.error!.includes(SERVICE_KEY));
  assert.ok(!s.logger.lines.some((l) => l.includes(SERVICE_KEY)));
});

Deno.test("scheduled-ingest answers 409 when the run row's run_id is taken (unique violation 23505)", async () => {
  const taken = Object.assign(new Error("duplicate key value violates unique constraint"), {
    code: "23505",
  });
  const s = setup(fakeTmdb({ popular: { pages: [[1]] } }), { runs: { startError: taken } });
  const again = await call(s, { source: "popular", run_id: RUN_ID });
  assert.equal(again.status, 409);
  assert.equal(again.body.error, "duplicate_run");
  assert.match(again.body.message, /A run with run_id .* already exists; omit run_id/);
  assert.equal(s.tmdb.listCalls.length, 0, "nothing fetched for a refused run");
});

Deno.test("scheduled-ingest redacts secrets that reach an error message", async () => {
  const tmdb = fakeTmdb(
    { popular: { pages: [[1]] } },
    {
      details: () =>
        new TmdbError(`TMDB GET /movie/1 failed: network: token ${TMDB_TOKEN} refused`, {
          kind: "network",
          httpStatus: null,
          statusCode: null,
          statusMessage: null,
          endpoint: "/movie/{id}",
          attempts: 4,
          retryable: true,
          tmdbId: 1,
        }),
    },
  );
  const s = setup(tmdb);
  const res = await s.handler(post({ source: "popular" }));
  const text = await res.text();
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(text).failed.length, 1);
  assert.ok(!text.includes(TMDB_TOKEN));
  assert.ok(!s.logger.lines.some((l) => l.includes(TMDB_TOKEN) || l.includes(SERVICE_KEY)));
  const row = s.runs.runs.get(RUN_ID)!;
  assert.ok(!JSON.stringify(row.finished).includes(TMDB_TOKEN));
});

Deno.test("scheduled-ingest stops walking pages once its process has used its CPU budget", async () => {
  let cpuMs = 0;
  const tmdb = fakeTmdb(
    { popular: { page: (n) => [n], totalPages: 500 } },
    { onListCall: () => (cpuMs += 100) },
  );
  const s = setup(tmdb, {
    deps: { cpuMeter: testCpuMeter(() => cpuMs), cpuBudgetMs: 350 },
  });
  const { status, body } = await call(s, { source: "popular", limit: 100 });
  assert.equal(status, 200);
  // Pages at 0, 100, 200, 300 ms of CPU; at 400 ms the 350 ms budget is spent.
  assert.equal(tmdb.listCalls.length, 4);
  assert.equal(body.stopped_because, "cpu_budget");
  assert.equal(body.candidates, 4);
  // The candidates found are not started either: the budget is spent.
  assert.deepEqual(body.skipped, [1, 2, 3, 4]);
  assert.equal(body.status, "partial");
  assert.match(
    s.runs.runs.get(RUN_ID)!.finished!.error!,
    /4 movies not started: the CPU budget ran out/,
  );
});
