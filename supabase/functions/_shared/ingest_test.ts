import assert from "node:assert/strict";
import { createMemoryCatalogStore } from "./catalog_store.ts";
import type { Clock } from "./clock.ts";
import { ingestMovies, ingestOne } from "./ingest.ts";
import { createMemoryLogger } from "./logger.ts";
import { TmdbError, type TmdbErrorKind } from "./tmdb_client.ts";
import { type TmdbMovieDetails, tmdbMovieDetailsSchema } from "./tmdb_schemas.ts";
import { movieDetailsFixture } from "./testing/tmdb_fixtures.ts";

function movie(id: number, overrides: Record<string, unknown> = {}): TmdbMovieDetails {
  return tmdbMovieDetailsSchema.parse({ ...movieDetailsFixture(id), ...overrides });
}

function tmdbError(kind: TmdbErrorKind, httpStatus: number | null, statusCode: number | null) {
  return new TmdbError(`TMDB GET /movie/1 failed: ${kind}: HTTP ${httpStatus}`, {
    kind,
    httpStatus,
    statusCode,
    statusMessage: null,
    endpoint: "/movie/{id}",
    attempts: 1,
    retryable: kind === "server_error",
    tmdbId: null,
  });
}

/** A manual clock: `now()` is whatever the test (or the fake TMDB) sets. */
function manualClock(start = 1_000_000): Clock & { t: number } {
  const clock = {
    t: start,
    now: () => clock.t,
    sleep: () => Promise.resolve(),
  };
  return clock;
}

type Answer = TmdbMovieDetails | TmdbError | Error;

/** A fake TMDB client answering from `answers`; records calls; optional per-call hook. */
function fakeTmdb(answers: Record<number, Answer>, onCall?: (id: number) => void) {
  const calls: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    calls,
    get maxInFlight() {
      return maxInFlight;
    },
    async movieDetails(id: number) {
      calls.push(id);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      onCall?.(id);
      await new Promise((r) => setTimeout(r, 0));
      inFlight--;
      const answer = answers[id];
      if (answer === undefined) throw tmdbError("not_found", 404, 34);
      if (answer instanceof Error) throw answer;
      return structuredClone(answer);
    },
  };
}

Deno.test("ingestMovies() reports a mix of ok / 404 / 500 / database failures exactly", async () => {
  const store = createMemoryCatalogStore({ failFor: [40] });
  const logger = createMemoryLogger({ fn: "test" });
  const clock = manualClock();
  const tmdb = fakeTmdb({
    10: movie(10),
    20: movie(20),
    30: tmdbError("server_error", 500, null),
    40: movie(40),
    // 50: unknown → 404
  });
  const summary = await ingestMovies([10, 20, 30, 40, 50], { tmdb, store, logger, clock });

  assert.deepEqual({ ...summary, results: undefined }, {
    requested: 5,
    inserted: 2,
    updated: 0,
    unchanged: 0,
    not_found: [50],
    failed: [
      {
        tmdb_id: 30,
        kind: "server_error",
        message: "TMDB GET /movie/1 failed: server_error: HTTP 500",
      },
      {
        tmdb_id: 40,
        kind: "database",
        message:
          "storing movie 40 failed: Error: public.ingest_movie: simulated database failure for tmdb_id 40",
      },
    ],
    skipped: [],
    results: undefined,
    duration_ms: 0,
  });
  assert.deepEqual(summary.results, [
    { tmdb_id: 10, outcome: "inserted", work_id: 1 },
    { tmdb_id: 20, outcome: "inserted", work_id: 2 },
    {
      tmdb_id: 30,
      outcome: "failed",
      error: {
        kind: "server_error",
        message: "TMDB GET /movie/1 failed: server_error: HTTP 500",
        http_status: 500,
      },
    },
    {
      tmdb_id: 40,
      outcome: "failed",
      error: {
        kind: "database",
        message:
          "storing movie 40 failed: Error: public.ingest_movie: simulated database failure for tmdb_id 40",
      },
    },
    { tmdb_id: 50, outcome: "not_found", work_id: null },
  ]);
  assert.deepEqual(
    store.calls.map((c) => `${c.method}:${c.tmdb_id}`).sort(),
    ["ingestMovie:10", "ingestMovie:20", "ingestMovie:40", "markNotFound:50"],
  );
  assert.deepEqual(
    logger.entries.map((e) => [e.event, e.tmdb_id, e.kind]),
    [["movie_failed", 30, "server_error"], ["movie_failed", 40, "database"]],
  );
});

Deno.test("ingestMovies() reports unchanged and updated on a second run", async () => {
  const store = createMemoryCatalogStore();
  const logger = createMemoryLogger({ fn: "test" });
  await ingestMovies([1, 2], { tmdb: fakeTmdb({ 1: movie(1), 2: movie(2) }), store, logger });
  const second = await ingestMovies([1, 2], {
    tmdb: fakeTmdb({ 1: movie(1), 2: movie(2, { vote_count: 99_999 }) }),
    store,
    logger,
  });
  assert.equal(second.inserted, 0);
  assert.equal(second.unchanged, 1);
  assert.equal(second.updated, 1);
  assert.deepEqual(second.results.map((r) => [r.tmdb_id, r.outcome, r.work_id]), [
    [1, "unchanged", 1],
    [2, "updated", 2],
  ]);
});

Deno.test("ingestMovies() ingests duplicate ids once, in first-seen order", async () => {
  const store = createMemoryCatalogStore();
  const tmdb = fakeTmdb({ 7: movie(7), 8: movie(8) });
  const summary = await ingestMovies([7, 8, 7, 7, 8], {
    tmdb,
    store,
    logger: createMemoryLogger({ fn: "test" }),
  });
  assert.deepEqual(tmdb.calls.sort(), [7, 8]);
  assert.equal(summary.requested, 2);
  assert.equal(summary.inserted, 2);
  assert.deepEqual(summary.results.map((r) => r.tmdb_id), [7, 8]);
  assert.equal(store.calls.length, 2);
});

Deno.test("ingestMovies() starts no movie at or after the deadline and reports the rest as skipped", async () => {
  const clock = manualClock(0);
  const store = createMemoryCatalogStore();
  // Each TMDB call takes 1 s of (fake) time.
  const tmdb = fakeTmdb({ 1: movie(1), 2: movie(2), 3: movie(3), 4: movie(4), 5: movie(5) }, () => {
    clock.t += 1000;
  });
  const summary = await ingestMovies([1, 2, 3, 4, 5], {
    tmdb,
    store,
    logger: createMemoryLogger({ fn: "test" }),
    clock,
    concurrency: 1,
    deadline: 2500, // movies start at t = 0, 1000, 2000; the 4th would start at 3000
  });
  assert.deepEqual(tmdb.calls, [1, 2, 3]);
  assert.equal(summary.inserted, 3);
  assert.deepEqual(summary.skipped, [4, 5]);
  assert.deepEqual(summary.results.slice(3), [
    { tmdb_id: 4, outcome: "skipped" },
    { tmdb_id: 5, outcome: "skipped" },
  ]);
  assert.equal(summary.duration_ms, 3000);
});

Deno.test("ingestMovies() skips everything once the signal has aborted", async () => {
  const controller = new AbortController();
  controller.abort();
  const tmdb = fakeTmdb({ 1: movie(1) });
  const summary = await ingestMovies([1, 2], {
    tmdb,
    store: createMemoryCatalogStore(),
    logger: createMemoryLogger({ fn: "test" }),
    signal: controller.signal,
  });
  assert.deepEqual(tmdb.calls, []);
  assert.deepEqual(summary.skipped, [1, 2]);
});

Deno.test("ingestMovies() runs at most `concurrency` movies at once", async () => {
  const answers: Record<number, TmdbMovieDetails> = {};
  const ids = Array.from({ length: 20 }, (_, i) => i + 1);
  for (const id of ids) answers[id] = movie(id);
  const tmdb = fakeTmdb(answers);
  const summary = await ingestMovies(ids, {
    tmdb,
    store: createMemoryCatalogStore(),
    logger: createMemoryLogger({ fn: "test" }),
    concurrency: 3,
  });
  assert.equal(summary.inserted, 20);
  assert.equal(tmdb.maxInFlight, 3);
});

Deno.test("ingestOne() never rejects: unexpected errors, wrong ids and bad input become failures", async () => {
  const deps = {
    tmdb: fakeTmdb({ 1: new Error("socket hang up"), 2: movie(3) }),
    store: createMemoryCatalogStore(),
    logger: createMemoryLogger({ fn: "test" }),
  };
  assert.deepEqual(await ingestOne(1, deps), {
    tmdb_id: 1,
    outcome: "failed",
    error: { kind: "internal", message: "fetching TMDB movie 1 failed: Error: socket hang up" },
  });
  const wrong = await ingestOne(2, deps);
  assert.equal(wrong.outcome, "failed");
  assert.equal(wrong.error?.kind, "invalid_response");
  const bad = await ingestOne(-5, deps);
  assert.equal(bad.error?.kind, "invalid_id");
  assert.equal(deps.store.calls.length, 0, "nothing was written");
});

Deno.test("ingestOne() marks a 404 not found and keeps the stored work id", async () => {
  const store = createMemoryCatalogStore();
  const logger = createMemoryLogger({ fn: "test" });
  await ingestOne(9, { tmdb: fakeTmdb({ 9: movie(9) }), store, logger });
  const gone = await ingestOne(9, { tmdb: fakeTmdb({}), store, logger });
  assert.deepEqual(gone, { tmdb_id: 9, outcome: "not_found", work_id: 1 });
  assert.notEqual(store.movies.get(9)?.not_found_at, null);
});

Deno.test("ingestOne() reports a failing markNotFound as a database failure", async () => {
  const result = await ingestOne(5, {
    tmdb: fakeTmdb({}),
    store: createMemoryCatalogStore({ failFor: [5] }),
    logger: createMemoryLogger({ fn: "test" }),
  });
  assert.equal(result.outcome, "failed");
  assert.deepEqual(
    {
      kind: result.error?.kind,
      http: result.error?.http_status,
      code: result.error?.tmdb_status_code,
    },
    { kind: "database", http: 404, code: 34 },
  );
});
