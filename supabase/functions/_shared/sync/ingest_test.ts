import assert from "node:assert/strict";
import { FakeClock } from "../testing/fake_clock.ts";
import { fetchAnswer, ingestMovies } from "./ingest.ts";
import { TmdbError, type TmdbErrorKind } from "../tmdb/client.ts";
import { createRecordingCatalogStore } from "../testing/recording_catalog.ts";
import { createMemoryLogger } from "../testing/memory_logger.ts";

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

/** A clock the fake TMDB moves: `sleep` and each call take fake time at once. */
function manualClock(start = 1_000_000): FakeClock {
  return new FakeClock({ start, instantSleep: true });
}

const body = (id: number) => JSON.stringify({ id, title: `Movie ${id}` });

/** A fake TMDB answering from `answers` (a body, or an error; absent → 404); records calls. */
function fakeTmdb(answers: Record<number, string | Error>, onCall?: (id: number) => void) {
  const calls: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    calls,
    get maxInFlight() {
      return maxInFlight;
    },
    async movieDetailsText(id: number) {
      calls.push(id);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      onCall?.(id);
      await new Promise((r) => setTimeout(r, 0));
      inFlight--;
      const answer = answers[id];
      if (answer === undefined) throw tmdbError("not_found", 404, 34);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

const RUN = { runId: "run-1", functionName: "test" };

Deno.test("ingestMovies() hands the bodies unparsed to the store and reports each outcome exactly", async () => {
  const store = createRecordingCatalogStore({
    outcome: (a) =>
      a.tmdb_id === 40
        ? {
          outcome: "failed",
          work_id: null,
          kind: "invalid_response",
          error: "genres[0].id is missing",
        }
        : a.tmdb_id === 20
        ? { outcome: "unchanged" }
        : undefined,
    drift: (answers) => ({ "x.note": { missing: answers.length } }),
  });
  const logger = createMemoryLogger({ fn: "test" });
  const tmdb = fakeTmdb({
    10: body(10),
    20: body(20),
    30: tmdbError("server_error", 500, null),
    40: "{cut off",
    // 50: unknown → 404
  });
  const summary = await ingestMovies([10, 20, 30, 40, 50], {
    tmdb,
    store,
    logger,
    run: RUN,
    clock: manualClock(),
  });
  assert.deepEqual({ ...summary, results: undefined }, {
    requested: 5,
    inserted: 1,
    updated: 0,
    unchanged: 1,
    not_found: [50],
    failed: [
      {
        tmdb_id: 30,
        kind: "server_error",
        message: "TMDB GET /movie/1 failed: server_error: HTTP 500",
      },
      { tmdb_id: 40, kind: "invalid_response", message: "genres[0].id is missing" },
    ],
    skipped: [],
    drift: { "x.note": { missing: 4 } },
    results: undefined,
    duration_ms: 0,
  });
  assert.deepEqual(
    store.answers.map((a) => a.status === 200 ? [a.tmdb_id, a.body] : [a.tmdb_id, 404]).sort(),
    [[10, body(10)], [20, body(20)], [40, "{cut off"], [50, 404]],
  );
  assert.deepEqual(store.calls.map((c) => c.context.runId), ["run-1"]);
  assert.deepEqual(
    logger.entries.map((e) => [e.event, e.tmdb_id, e.kind]),
    [["movie_failed", 30, "server_error"], ["movie_failed", 40, "invalid_response"]],
  );
});

Deno.test("ingestMovies() stores the answers in batches of `storeBatch`", async () => {
  const ids = Array.from({ length: 25 }, (_, i) => i + 1);
  const store = createRecordingCatalogStore();
  const summary = await ingestMovies(ids, {
    tmdb: fakeTmdb(Object.fromEntries(ids.map((id) => [id, body(id)]))),
    store,
    logger: createMemoryLogger({ fn: "test" }),
    run: RUN,
    storeBatch: 10,
  });
  assert.equal(summary.inserted, 25);
  assert.deepEqual(store.calls.map((c) => c.answers.length), [10, 10, 5]);
});

Deno.test("ingestMovies() reports every movie of a batch the store could not take as a database failure", async () => {
  const store = createRecordingCatalogStore({
    failCall: (answers) =>
      answers.some((a) => a.tmdb_id === 2) ? new Error("connection refused") : undefined,
  });
  const summary = await ingestMovies([1, 2, 3], {
    tmdb: fakeTmdb({ 1: body(1), 2: body(2), 3: body(3) }),
    store,
    logger: createMemoryLogger({ fn: "test" }),
    run: RUN,
    storeBatch: 2,
    concurrency: 1,
  });
  assert.deepEqual(summary.results.map((r) => [r.tmdb_id, r.outcome, r.error?.kind]), [
    [1, "failed", "database"],
    [2, "failed", "database"],
    [3, "inserted", undefined],
  ]);
  assert.equal(
    summary.failed[0].message,
    "storing movie 1 failed: Error: connection refused",
  );
});

Deno.test("ingestMovies() ingests duplicate ids once, in first-seen order", async () => {
  const store = createRecordingCatalogStore();
  const tmdb = fakeTmdb({ 7: body(7), 8: body(8) });
  const summary = await ingestMovies([7, 8, 7, 7, 8], {
    tmdb,
    store,
    logger: createMemoryLogger({ fn: "test" }),
    run: RUN,
  });
  assert.deepEqual(tmdb.calls.sort(), [7, 8]);
  assert.equal(summary.requested, 2);
  assert.equal(summary.inserted, 2);
  assert.deepEqual(summary.results.map((r) => r.tmdb_id), [7, 8]);
  assert.equal(store.answers.length, 2);
});

Deno.test("ingestMovies() starts no movie at or after the deadline and reports the rest as skipped", async () => {
  const clock = manualClock(0);
  // Each TMDB call takes 1 s of (fake) time.
  const tmdb = fakeTmdb({ 1: body(1), 2: body(2), 3: body(3), 4: body(4), 5: body(5) }, () => {
    clock.jump(1000);
  });
  const summary = await ingestMovies([1, 2, 3, 4, 5], {
    tmdb,
    store: createRecordingCatalogStore(),
    logger: createMemoryLogger({ fn: "test" }),
    run: RUN,
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
  const tmdb = fakeTmdb({ 1: body(1) });
  const store = createRecordingCatalogStore();
  const summary = await ingestMovies([1, 2], {
    tmdb,
    store,
    logger: createMemoryLogger({ fn: "test" }),
    run: RUN,
    signal: controller.signal,
  });
  assert.deepEqual(tmdb.calls, []);
  assert.deepEqual(summary.skipped, [1, 2]);
  assert.equal(store.calls.length, 0);
});

Deno.test("ingestMovies() fetches at most `concurrency` movies at once", async () => {
  const ids = Array.from({ length: 20 }, (_, i) => i + 1);
  const tmdb = fakeTmdb(Object.fromEntries(ids.map((id) => [id, body(id)])));
  const summary = await ingestMovies(ids, {
    tmdb,
    store: createRecordingCatalogStore(),
    logger: createMemoryLogger({ fn: "test" }),
    run: RUN,
    concurrency: 3,
  });
  assert.equal(summary.inserted, 20);
  assert.equal(tmdb.maxInFlight, 3);
});

Deno.test("fetchAnswer() never rejects: a 404 is an answer, other errors are failures", async () => {
  const tmdb = fakeTmdb({ 1: new Error("socket hang up"), 2: body(2) });
  assert.deepEqual(await fetchAnswer(1, tmdb), {
    failure: {
      tmdb_id: 1,
      outcome: "failed",
      error: { kind: "internal", message: "fetching TMDB movie 1 failed: Error: socket hang up" },
    },
  });
  assert.deepEqual(await fetchAnswer(2, tmdb), {
    answer: { tmdb_id: 2, status: 200, body: body(2) },
  });
  assert.deepEqual(await fetchAnswer(3, tmdb), { answer: { tmdb_id: 3, status: 404 } });
  const aborted = new AbortController();
  aborted.abort();
  const result = await fetchAnswer(1, tmdb, { signal: aborted.signal });
  assert.equal("failure" in result && result.failure.error?.kind, "aborted");
});
