import assert from "node:assert/strict";
import { createMemoryCatalogStore, type MemoryCatalogStore } from "../_shared/catalog_store.ts";
import { type Clock, FakeClock } from "../_shared/clock.ts";
import type { MemoryLogger } from "../_shared/logger.ts";
import { createMemoryRefreshQueue, type MemoryRefreshQueue } from "../_shared/refresh_queue.ts";
import {
  type TmdbClient,
  TmdbError,
  type TmdbErrorKind,
  type TmdbRequestOptions,
} from "../_shared/tmdb_client.ts";
import { type TmdbMovieDetails, tmdbMovieDetailsSchema } from "../_shared/tmdb_schemas.ts";
import { movieDetailsFixture } from "../_shared/testing/tmdb_fixtures.ts";
import {
  type Json,
  memoryLogger,
  postTo,
  SERVICE_KEY,
  StepClock,
  TEST_SECRETS,
  TMDB_TOKEN,
} from "../_shared/testing/handler_testing.ts";
import {
  createHandler,
  DEFAULT_LOOPS,
  type HandlerDeps,
  type RefreshWorkerSummary,
  TMDB_BREAKER_THRESHOLD,
} from "./handler.ts";

const RUN_ID = "9d7c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
const WORKER = `refresh-worker:${RUN_ID}`;
const NOW = Date.parse("2026-11-02T10:40:00Z");
const DAY = 86_400_000;
const UNAUTHORIZED = "TMDB rejected the credentials (status_code 7): check TMDB_API_TOKEN";

// ---------------------------------------------------------------------------------------
// Fakes
// ---------------------------------------------------------------------------------------

/** What the fake TMDB does for one id. */
type Behaviour =
  | { kind: "ok"; payload?: TmdbMovieDetails }
  | { kind: "error"; error: TmdbErrorKind }
  | { kind: "hang" };

interface FakeTmdb extends Pick<TmdbClient, "movieDetails" | "flushLogs"> {
  calls: { id: number; opts?: TmdbRequestOptions }[];
  inFlight: number;
  maxInFlight: number;
  flushes: number;
}

function tmdbError(kind: TmdbErrorKind, id: number, message = `${kind}`): TmdbError {
  return new TmdbError(`TMDB GET /movie/${id} failed: ${message}`, {
    kind,
    httpStatus: ({ unauthorized: 401, not_found: 404, server_error: 503 } as Record<
      string,
      number
    >)[kind] ?? null,
    statusCode: kind === "unauthorized" ? 7 : kind === "not_found" ? 34 : null,
    statusMessage: null,
    endpoint: "/movie/{id}",
    attempts: 1,
    retryable: ["server_error", "rate_limited", "network", "timeout"].includes(kind),
    tmdbId: id,
  });
}

function details(id: number, overrides: Record<string, unknown> = {}): TmdbMovieDetails {
  return tmdbMovieDetailsSchema.parse({ ...movieDetailsFixture(id), ...overrides });
}

/**
 * A fake TMDB. `behaviour(id)` decides each answer; answers arrive on the next macrotask
 * (`async: true`) or at once. `onCall` runs before each answer (e.g. to move a clock).
 */
function fakeTmdb(options: {
  behaviour?: (id: number) => Behaviour;
  async?: boolean;
  onCall?: (id: number) => void;
} = {}): FakeTmdb {
  const fake: FakeTmdb = {
    calls: [],
    inFlight: 0,
    maxInFlight: 0,
    flushes: 0,
    async movieDetails(id, opts) {
      fake.calls.push({ id, opts });
      options.onCall?.(id);
      fake.inFlight++;
      fake.maxInFlight = Math.max(fake.maxInFlight, fake.inFlight);
      try {
        const b = options.behaviour?.(id) ?? { kind: "ok" };
        if (b.kind === "hang") {
          return await new Promise<never>((_, reject) => {
            const signal = opts?.signal;
            if (!signal) return;
            if (signal.aborted) reject(signal.reason);
            signal.addEventListener("abort", () => reject(signal.reason), { once: true });
          });
        }
        if (options.async) await new Promise((r) => setTimeout(r, 0));
        if (b.kind === "error") throw tmdbError(b.error, id);
        return b.payload ?? details(id);
      } finally {
        fake.inFlight--;
      }
    },
    flushLogs() {
      fake.flushes++;
      return Promise.resolve();
    },
  };
  return fake;
}

interface Setup {
  handler: (req: Request) => Promise<Response>;
  tmdb: FakeTmdb;
  queue: MemoryRefreshQueue;
  store: MemoryCatalogStore;
  logger: MemoryLogger;
}

/** A worker over a queue holding `ids` (in that order), each a work in the catalog. */
function setup(
  tmdb: FakeTmdb,
  ids: number[],
  options: { clock?: Clock; deps?: Partial<HandlerDeps>; store?: MemoryCatalogStore } = {},
): Setup {
  const clock = options.clock ?? new FakeClock({ start: NOW });
  const queue = createMemoryRefreshQueue({ clock });
  for (const tmdb_id of ids) {
    queue.addWork({ tmdb_id, last_refreshed_at: NOW - 30 * DAY, next_refresh_at: NOW - DAY });
    queue.enqueue(tmdb_id);
  }
  const store = options.store ?? createMemoryCatalogStore();
  const logger = memoryLogger("refresh-worker");
  const handler = createHandler({
    allowedKeys: [SERVICE_KEY],
    tmdbFor: () => tmdb,
    store,
    queue,
    logger,
    clock,
    newRunId: () => RUN_ID,
    secrets: TEST_SECRETS,
    ...options.deps,
  });
  return { handler, tmdb, queue, store, logger };
}

const post = postTo("refresh-worker");

async function call(s: Setup, body: unknown = {}): Promise<{ status: number; body: Json }> {
  const res = await s.handler(post(body));
  return { status: res.status, body: await res.json() };
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

// ---------------------------------------------------------------------------------------
// The HTTP boundary
// ---------------------------------------------------------------------------------------

Deno.test("refresh-worker answers 405 to a GET and 401 without or with a wrong key", async () => {
  const s = setup(fakeTmdb(), [1]);
  const get = await s.handler(new Request("http://localhost/functions/v1/refresh-worker"));
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  const missing = await s.handler(post({}, null));
  assert.equal(missing.status, 401);
  assert.equal((await missing.json()).error, "missing_api_key");
  const wrong = await s.handler(post({}, "anon"));
  assert.equal(wrong.status, 401);
  assert.equal((await wrong.json()).error, "invalid_api_key");
  assert.equal(s.queue.claimCalls.length, 0);
});

Deno.test("refresh-worker rejects batch_size outside 1..50 and budget_ms outside 1000..140000", async () => {
  const s = setup(fakeTmdb(), [1]);
  for (const batch_size of [0, -1, 51, 2.5, "10"]) {
    const { status, body } = await call(s, { batch_size });
    assert.equal(status, 400);
    assert.match(body.message, /batch_size: batch_size must be an integer between 1 and 50/);
  }
  for (const budget_ms of [999, 140_001, 5000.5, -1]) {
    const { status, body } = await call(s, { budget_ms });
    assert.equal(status, 400);
    assert.match(
      body.message,
      /budget_ms: budget_ms must be an integer between 1000 and 140000: current value is/,
    );
  }
  const bad = await call(s, { run_id: "nope", limit: 5 });
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /run_id: run_id must be a uuid/);
  assert.match(bad.body.message, /Unrecognized key\(s\) in object: 'limit'/);
  assert.equal(s.queue.claimCalls.length, 0);
});

Deno.test("refresh-worker accepts the body call_refresh_worker() sends", async () => {
  const s = setup(fakeTmdb(), [1]);
  const { status, body } = await call(s, {
    run_id: RUN_ID,
    trigger: "cron",
    job_name: "refresh_worker",
  });
  assert.equal(status, 200);
  assert.equal(body.worker_id, WORKER);
  assert.equal(body.trigger, "cron");
  assert.equal(body.job_name, "refresh_worker");
});

// ---------------------------------------------------------------------------------------
// Draining
// ---------------------------------------------------------------------------------------

Deno.test("refresh-worker drains the queue, each item once, finishing each batch and claiming the next in one call", async () => {
  const store = createMemoryCatalogStore();
  for (const id of range(1, 30)) await store.ingestMovie(details(id)); // unchanged on refresh
  for (const id of range(31, 20)) await store.ingestMovie(details(id, { title: "Old" })); // updated
  const tmdb = fakeTmdb({ async: true });
  const s = setup(tmdb, range(1, 95), { store });
  const { status, body } = await call(s, { batch_size: 10 });
  assert.equal(status, 200);
  const summary = body as RefreshWorkerSummary;
  assert.equal(summary.claimed, 95);
  assert.equal(summary.batches, 10);
  assert.equal(summary.refreshed, 65);
  assert.equal(summary.unchanged, 30);
  assert.equal(summary.not_found, 0);
  assert.equal(summary.retried, 0);
  assert.equal(summary.failed, 0);
  assert.equal(summary.lost_lease, 0);
  assert.equal(summary.stopped_because, "queue_empty");
  assert.equal(summary.tmdb_requests, 95);
  assert.equal(summary.worker_id, WORKER);
  assert.deepEqual(summary.queue, {
    pending: 0,
    processing: 0,
    completed: 95,
    failed: 0,
    ready: 0,
    expired_leases: 0,
  });
  for (const item of s.queue.items.values()) {
    assert.equal(item.status, "completed");
    assert.equal(item.completions, 1);
    assert.equal(item.attempt, 1);
  }
  assert.deepEqual(tmdb.calls.map((c) => c.id).sort((a, b) => a - b), range(1, 95));

  // One finish per non-empty claim, holding exactly that claim's items; each loop claims its
  // first batch alone (claimBatch), then every finish is a finishAndClaim that also claims
  // the next batch: one queue round trip per batch.
  const claims = s.queue.claimCalls.filter((c) => c.got > 0);
  assert.equal(s.queue.finishCalls.length, claims.length);
  assert.equal(s.queue.finishCalls.length, summary.batches);
  assert.equal(s.queue.finishAndClaimCalls.length, summary.batches);
  assert.ok(s.queue.finishCalls.every((f) => f.combined), "every finish comes with a claim");
  assert.equal(
    s.queue.claimCalls.filter((c) => !c.combined).length,
    DEFAULT_LOOPS,
    "one claimBatch a loop",
  );
  for (const c of s.queue.finishAndClaimCalls) assert.ok(c.results.length > 0);
  const finished = s.queue.finishCalls.flatMap((f) => f.results.map((r) => r.queue_id));
  assert.equal(new Set(finished).size, 95);
  assert.equal(finished.length, 95);
  for (const f of s.queue.finishCalls) {
    assert.equal(f.worker, WORKER);
    assert.ok(f.results.length <= 10);
  }
  for (const c of s.queue.claimCalls) {
    assert.equal(c.worker, WORKER);
    assert.equal(c.batchSize, 10);
    assert.ok(c.leaseSeconds >= 120, `lease ${c.leaseSeconds} s covers the 110 s budget`);
  }
  assert.equal(tmdb.flushes, 1);
});

Deno.test("refresh-worker runs several batch loops at once", async () => {
  const tmdb = fakeTmdb({ async: true });
  const s = setup(tmdb, range(1, 40), { deps: { loops: 4 } });
  const { body } = await call(s, { batch_size: 5 });
  assert.equal(body.claimed, 40);
  assert.equal(tmdb.maxInFlight, 20, "4 loops × 5 items in flight together");
});

Deno.test("refresh-worker stops claiming when the budget left is too small for a batch", async () => {
  const clock = new StepClock(NOW);
  // Each TMDB call takes 1 s of (fake) time; a batch of 2 takes 2 s.
  const tmdb = fakeTmdb({ onCall: () => (clock.t += 1_000) });
  const s = setup(tmdb, range(1, 30), { clock, deps: { loops: 1 } });
  const { status, body } = await call(s, { batch_size: 2, budget_ms: 10_000 });
  assert.equal(status, 200);
  // Batches start at +0, +2, +4, +6, +8 s; at +10 s nothing is left of the budget.
  assert.equal(body.batches, 5);
  assert.equal(body.claimed, 10);
  assert.equal(body.stopped_because, "budget");
  assert.equal(body.queue.pending, 20);
  assert.deepEqual(
    s.queue.finishAndClaimCalls.map((c) => c.batchSize),
    [2, 2, 2, 2, 0],
    "the last batch is finished without claiming another",
  );
  assert.equal([...s.queue.items.values()].filter((i) => i.status === "completed").length, 10);
  for (const c of tmdb.calls) assert.equal(c.opts?.deadline, NOW + 10_000, "deadline passed on");
});

Deno.test("refresh-worker does not start a batch it cannot finish in the budget left", async () => {
  const clock = new StepClock(NOW);
  const tmdb = fakeTmdb({ onCall: () => (clock.t += 3_000) });
  const s = setup(tmdb, range(1, 30), { clock, deps: { loops: 1 } });
  const { body } = await call(s, { batch_size: 1, budget_ms: 10_000 });
  // Batches at +0, +3, +6 s; at +9 s 1 s is left, less than a batch took (3 s).
  assert.equal(body.batches, 3);
  assert.equal(body.stopped_because, "budget");
});

// ---------------------------------------------------------------------------------------
// Item outcomes
// ---------------------------------------------------------------------------------------

Deno.test("refresh-worker completes a movie TMDB no longer knows as not_found (no retry)", async () => {
  const tmdb = fakeTmdb({
    behaviour: (id) => id === 2 ? { kind: "error", error: "not_found" } : { kind: "ok" },
  });
  const s = setup(tmdb, [1, 2, 3]);
  const { status, body } = await call(s);
  assert.equal(status, 200);
  assert.equal(body.not_found, 1);
  assert.equal(body.refreshed, 2);
  assert.equal(body.retried, 0);
  const results = s.queue.finishCalls.flatMap((f) => f.results);
  const item2 = [...s.queue.items.values()].find((i) => i.tmdb_id === 2)!;
  assert.deepEqual(results.find((r) => r.queue_id === item2.queue_id), {
    queue_id: item2.queue_id,
    attempt: 1,
    ok: true,
    result: "not_found",
  });
  assert.equal(item2.status, "completed");
  assert.equal(item2.result, "not_found");
  assert.deepEqual(s.store.calls.filter((c) => c.method === "markNotFound"), [
    { method: "markNotFound", tmdb_id: 2 },
  ]);
});

Deno.test("refresh-worker reports a retryable failure as retryable with its error text", async () => {
  const tmdb = fakeTmdb({
    behaviour: (id) => id === 2 ? { kind: "error", error: "server_error" } : { kind: "ok" },
  });
  const s = setup(tmdb, [1, 2]);
  const { body } = await call(s);
  assert.equal(body.retried, 1);
  assert.equal(body.failed, 0);
  const item2 = [...s.queue.items.values()].find((i) => i.tmdb_id === 2)!;
  const result = s.queue.finishCalls.flatMap((f) => f.results).find((r) =>
    r.queue_id === item2.queue_id
  )!;
  assert.equal(result.ok, false);
  assert.equal(result.retryable, true);
  assert.match(result.error!, /^server_error: TMDB GET \/movie\/2 failed/);
  assert.equal(item2.status, "pending");
  assert.equal(item2.last_error, result.error);
  assert.deepEqual(body.item_errors, [{
    queue_id: item2.queue_id,
    tmdb_id: 2,
    attempt: 1,
    error: result.error,
    retryable: true,
  }]);
});

Deno.test("refresh-worker retries invalid_response until the queue fails it after 3 attempts", async () => {
  const tmdb = fakeTmdb({ behaviour: () => ({ kind: "error", error: "invalid_response" }) });
  const s = setup(tmdb, [7]);
  const outcomes: [number, number][] = [];
  for (let run = 0; run < 4; run++) {
    const { body } = await call(s, { run_id: crypto.randomUUID() });
    outcomes.push([body.retried, body.failed]);
  }
  assert.deepEqual(outcomes, [[1, 0], [1, 0], [0, 1], [0, 0]]);
  const item = [...s.queue.items.values()][0];
  assert.equal(item.status, "failed");
  assert.equal(item.attempt, 3);
  assert.match(item.last_error!, /^invalid_response:/);
  for (const f of s.queue.finishCalls) assert.equal(f.results[0].retryable, true);
});

Deno.test("refresh-worker: TMDB 401 stops the run, fails the in-hand items with the clear error, 502", async () => {
  // 1 answers at once, 2 is rejected (401), 3 and 4 are still waiting when that happens.
  const tmdb = fakeTmdb({
    behaviour: (id) =>
      id === 2
        ? { kind: "error", error: "unauthorized" }
        : id === 3 || id === 4
        ? { kind: "hang" }
        : { kind: "ok" },
  });
  const s = setup(tmdb, range(1, 12), { deps: { loops: 1 } });
  const res = await s.handler(post({ batch_size: 4 }));
  assert.equal(res.status, 502);
  const text = await res.text();
  const body = JSON.parse(text);
  assert.equal(body.error, "tmdb_unauthorized");
  assert.equal(body.message, UNAUTHORIZED);
  assert.equal(body.stopped_because, "tmdb_unauthorized");
  assert.equal(body.claimed, 4);
  assert.equal(body.refreshed, 1);
  assert.equal(body.retried, 3);
  assert.equal(s.queue.claimCalls.length, 1, "no batch is claimed after the 401");
  assert.equal(s.queue.finishCalls.length, 1);
  assert.deepEqual(
    s.queue.finishAndClaimCalls.map((c) => c.batchSize),
    [0],
    "the batch is finished by a finish-only call",
  );
  const results = s.queue.finishCalls[0].results;
  assert.deepEqual(results.map((r) => [r.ok, r.error ?? r.result, r.retryable]), [
    [true, "refreshed", undefined],
    [false, UNAUTHORIZED, true],
    [false, UNAUTHORIZED, true],
    [false, UNAUTHORIZED, true],
  ]);
  assert.equal(body.queue.pending, 11, "8 never claimed + 3 back for a retry");
  for (const secret of [SERVICE_KEY, TMDB_TOKEN]) {
    assert.ok(!text.includes(secret));
    assert.ok(!s.logger.lines.some((l) => l.includes(secret)));
  }
  const line = s.logger.entries.find((e) => e.event === "refresh_worker_run")!;
  assert.equal(line.level, "error");
  assert.equal(line.error, "tmdb_unauthorized");
});

Deno.test("refresh-worker: with several loops a 401 stops every loop", async () => {
  const tmdb = fakeTmdb({
    async: true,
    behaviour: (id) => id === 5 ? { kind: "error", error: "unauthorized" } : { kind: "ok" },
  });
  const s = setup(tmdb, range(1, 200), { deps: { loops: 4 } });
  const { status, body } = await call(s, { batch_size: 5 });
  assert.equal(status, 502);
  // The four first batches were in hand together; none after them.
  assert.equal(body.batches, 4);
  assert.equal(s.queue.claimCalls.length, 4);
});

Deno.test("refresh-worker never puts a secret in its answer or its log lines", async () => {
  const tmdb = fakeTmdb();
  tmdb.movieDetails = (id) =>
    Promise.reject(
      new TmdbError(`TMDB GET /movie/${id} failed: network: Bearer ${TMDB_TOKEN} rejected`, {
        kind: "network",
        httpStatus: null,
        statusCode: null,
        statusMessage: null,
        endpoint: "/movie/{id}",
        attempts: 4,
        retryable: true,
        tmdbId: id,
      }),
    );
  const s = setup(tmdb, [1, 2]);
  const res = await s.handler(post({}));
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.equal(JSON.parse(text).retried, 2);
  assert.ok(!text.includes(TMDB_TOKEN));
  assert.ok(!text.includes(SERVICE_KEY));
  assert.ok(!s.logger.lines.some((l) => l.includes(TMDB_TOKEN) || l.includes(SERVICE_KEY)));
  for (const f of s.queue.finishCalls) {
    assert.ok(!JSON.stringify(f.results).includes(TMDB_TOKEN));
  }
});

Deno.test("refresh-worker: a database failure finishing a batch answers 500 and stops claiming", async () => {
  const tmdb = fakeTmdb();
  const clock = new FakeClock({ start: NOW });
  const queue = createMemoryRefreshQueue({ clock, failOn: ["finishBatch"] });
  const s = setup(tmdb, [], { clock, deps: { queue, loops: 1 } });
  queue.addWork({ tmdb_id: 1, last_refreshed_at: null, next_refresh_at: NOW });
  queue.enqueue(1);
  queue.addWork({ tmdb_id: 2, last_refreshed_at: null, next_refresh_at: NOW });
  queue.enqueue(2);
  const { status, body } = await call(s, { batch_size: 1 });
  assert.equal(status, 500);
  assert.equal(body.error, "internal_error");
  assert.equal(queue.claimCalls.length, 1);
  assert.ok(s.logger.entries.some((e) => e.event === "refresh_worker_failed"));
});

// ---------------------------------------------------------------------------------------
// TMDB down: the circuit breaker
// ---------------------------------------------------------------------------------------

const UNAVAILABLE =
  "TMDB is unreachable or failing: 10 items in a row failed (network: TMDB GET /movie/1 " +
  "failed: network); the run stopped early so the rest of the queue keeps its attempts";

Deno.test("refresh-worker: 10 network failures in a row stop the run: no further batch, in-flight calls aborted, 502 tmdb_unavailable", async () => {
  assert.equal(TMDB_BREAKER_THRESHOLD, 10);
  // 1–12 fail with network errors (in that order); 13–15 are still waiting when 1–10 have
  // failed, and must be aborted rather than wait for their own timeout.
  const tmdb = fakeTmdb({
    async: true,
    behaviour: (id) => id <= 12 ? { kind: "error", error: "network" } : { kind: "hang" },
  });
  const s = setup(tmdb, range(1, 200), { deps: { loops: 1 } });
  const res = await s.handler(post({ batch_size: 15 }));
  assert.equal(res.status, 502);
  const body = await res.json();
  assert.equal(body.error, "tmdb_unavailable");
  assert.equal(body.message, UNAVAILABLE);
  assert.equal(body.request_id.length > 0, true);
  assert.equal(body.stopped_because, "tmdb_unavailable");
  assert.equal(body.batches, 1);
  assert.equal(body.claimed, 15);
  assert.equal(body.retried, 15, "every in-hand item goes back to the queue");
  assert.equal(body.failed, 0);
  assert.equal(body.tmdb_requests, 15);
  assert.equal(s.queue.claimCalls.length, 1, "no batch is claimed after the breaker trips");
  assert.equal(body.queue.pending, 200, "185 never claimed + 15 back for a retry");
  assert.equal(tmdb.inFlight, 0, "no TMDB call is left running");

  const results = s.queue.finishCalls[0].results;
  const byTmdbId = new Map(
    [...s.queue.items.values()].map((i) => [i.queue_id, i.tmdb_id] as const),
  );
  for (const r of results) {
    const id = byTmdbId.get(r.queue_id)!;
    assert.equal(r.ok, false);
    assert.equal(r.retryable, true);
    if (id <= 12) assert.equal(r.error, `network: TMDB GET /movie/${id} failed: network`);
    else assert.equal(r.error, UNAVAILABLE, `item ${id} was cut short`);
  }
  const line = s.logger.entries.find((e) => e.event === "refresh_worker_run")!;
  assert.equal(line.level, "error");
  assert.equal(line.status, 502);
  assert.equal(line.error, "tmdb_unavailable");
  assert.equal(line.message, UNAVAILABLE);
});

Deno.test("refresh-worker: with several loops the breaker stops every loop", async () => {
  // Every call times out; note how many batches were claimed when the 10th failure lands.
  const tmdb = fakeTmdb();
  let failures = 0;
  let claimsAtTrip = -1;
  const s = setup(tmdb, range(1, 200), { deps: { loops: 4 } });
  tmdb.movieDetails = async (id, opts) => {
    tmdb.calls.push({ id, opts });
    await new Promise((r) => setTimeout(r, 0));
    if (opts?.signal?.aborted) throw opts.signal.reason;
    if (++failures === TMDB_BREAKER_THRESHOLD) claimsAtTrip = s.queue.claimCalls.length;
    throw tmdbError("timeout", id);
  };
  const { status, body } = await call(s, { batch_size: 5 });
  assert.equal(status, 502);
  assert.equal(body.error, "tmdb_unavailable");
  assert.match(
    body.message,
    /^TMDB is unreachable or failing: 10 items in a row failed \(timeout: TMDB GET \/movie\/1 /,
  );
  assert.ok(claimsAtTrip >= 4, "the four loops had claimed a batch each");
  assert.equal(s.queue.claimCalls.length, claimsAtTrip, "no loop claims after the trip");
  assert.equal(body.batches, claimsAtTrip);
  assert.equal(body.claimed, 5 * claimsAtTrip);
  assert.equal(body.retried, body.claimed, "every in-hand item goes back to the queue");
  assert.equal(body.queue.pending, 200);
});

Deno.test("refresh-worker: failures broken up by TMDB answers never trip the breaker", async () => {
  // Calls answer in the order they are made: 9 server errors, then a movie, then 9 more, …
  // (failed items come back within the run), so never 10 failures in a row.
  let n = 0;
  const tmdb = fakeTmdb({
    async: true,
    behaviour: () => ++n % 10 === 0 ? { kind: "ok" } : { kind: "error", error: "server_error" },
  });
  const s = setup(tmdb, range(1, 100), { deps: { loops: 1 } });
  const { status, body } = await call(s, { batch_size: 10 });
  assert.equal(status, 200);
  assert.equal(body.error, undefined);
  assert.equal(body.stopped_because, "queue_empty");
  assert.equal(body.tmdb_requests, tmdb.calls.length);
  assert.equal(body.refreshed, Math.floor(tmdb.calls.length / 10));
  assert.equal(body.refreshed + body.failed, 100, "each item refreshed or failed for good");
  assert.equal(body.queue.pending, 0);
});

Deno.test("refresh-worker: a 404 counts as a TMDB answer, and bad responses do not count toward the breaker", async () => {
  // 9 network failures then a 404, five times over; then only malformed answers.
  let n = 0;
  const tmdb = fakeTmdb({
    async: true,
    behaviour: () => {
      n++;
      if (n > 50) return { kind: "error", error: "invalid_response" };
      return n % 10 === 0
        ? { kind: "error", error: "not_found" }
        : { kind: "error", error: "network" };
    },
  });
  const s = setup(tmdb, range(1, 40), { deps: { loops: 1 } });
  const { status, body } = await call(s, { batch_size: 10 });
  assert.equal(status, 200);
  assert.equal(body.stopped_because, "queue_empty");
  assert.equal(body.not_found, 5);
  assert.equal(body.failed, 35, "every other item used its 3 attempts");
  assert.ok(tmdb.calls.length > 60, "malformed answers went on well past 10 in a row");
});

Deno.test("refresh-worker: the tmdb_unavailable answer holds no secret, even when TMDB's error does", async () => {
  const tmdb = fakeTmdb();
  tmdb.movieDetails = (id) =>
    Promise.reject(tmdbError("network", id, `network: Bearer ${TMDB_TOKEN} rejected`));
  const s = setup(tmdb, range(1, 30), { deps: { loops: 1 } });
  const res = await s.handler(post({ batch_size: 10 }));
  assert.equal(res.status, 502);
  const text = await res.text();
  assert.equal(
    JSON.parse(text).message,
    "TMDB is unreachable or failing: 10 items in a row failed (network: TMDB GET /movie/1 " +
      "failed: network: Bearer [REDACTED] rejected); the run stopped early so the rest of the " +
      "queue keeps its attempts",
  );
  for (const secret of [SERVICE_KEY, TMDB_TOKEN]) {
    assert.ok(!text.includes(secret));
    assert.ok(!s.logger.lines.some((l) => l.includes(secret)));
  }
});
