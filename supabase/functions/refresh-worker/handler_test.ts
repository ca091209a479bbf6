import assert from "node:assert/strict";
import { type Clock } from "../_shared/platform/clock.ts";
import { createCpuMeter } from "../_shared/platform/cpu_meter.ts";
import type { WorkerItem } from "../_shared/store/refresh_queue.ts";
import {
  type TmdbClient,
  TmdbError,
  type TmdbErrorKind,
  type TmdbRequestOptions,
} from "../_shared/tmdb/client.ts";
import {
  createScriptedWorkerQueue,
  type ScriptedWorkerQueue,
  type ScriptedWorkerQueueOptions,
} from "../_shared/testing/scripted_worker_queue.ts";
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
  DEFAULT_LOOPS,
  type HandlerDeps,
  type RefreshWorkerSummary,
  TMDB_BREAKER_THRESHOLD,
} from "./handler.ts";
import { type MemoryLogger } from "../_shared/testing/memory_logger.ts";
import { FakeClock } from "../_shared/testing/fake_clock.ts";

const RUN_ID = "9d7c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
const WORKER = `refresh-worker:${RUN_ID}`;
const NOW = Date.parse("2026-11-02T10:40:00Z");
const UNAUTHORIZED = "TMDB rejected the credentials (status_code 7): check TMDB_API_TOKEN";

// ---------------------------------------------------------------------------------------
// Fakes
// ---------------------------------------------------------------------------------------

/** What the fake TMDB does for one id. */
type Behaviour =
  | { kind: "ok"; body?: string }
  | { kind: "error"; error: TmdbErrorKind }
  | { kind: "hang" };

interface FakeTmdb extends Pick<TmdbClient, "movieDetailsText" | "flushLogs"> {
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

/** The body the fake TMDB answers for `id` (never parsed by the worker). */
const movieBody = (id: number) => `{"id":${id},"title":"Movie ${id}"}`;

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
    async movieDetailsText(id, opts) {
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
        return b.body ?? movieBody(id);
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
  queue: ScriptedWorkerQueue;
  logger: MemoryLogger;
}

/** A worker over a scripted queue holding `ids` (in that order). */
function setup(
  tmdb: FakeTmdb,
  ids: number[],
  options: { clock?: Clock; deps?: Partial<HandlerDeps>; queue?: ScriptedWorkerQueueOptions } = {},
): Setup {
  const clock = options.clock ?? new FakeClock({ start: NOW });
  const queue = createScriptedWorkerQueue(ids, options.queue);
  const logger = memoryLogger("refresh-worker");
  const handler = createHandler({
    allowedKeys: [SERVICE_KEY],
    tmdbFor: () => tmdb,
    queue,
    logger,
    clock,
    newRunId: () => RUN_ID,
    secrets: TEST_SECRETS,
    // No CPU is spent unless a test says so.
    cpuMeter: testCpuMeter(),
    ...options.deps,
  });
  return { handler, tmdb, queue, logger };
}

const post = postTo("refresh-worker");

async function call(s: Setup, body: unknown = {}): Promise<{ status: number; body: Json }> {
  const res = await s.handler(post(body));
  return { status: res.status, body: await res.json() };
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

/** The items handed back to the queue, over every step. */
const handedBack = (q: ScriptedWorkerQueue): WorkerItem[] => q.steps.flatMap((s) => s.items);

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
  assert.equal(s.queue.steps.length, 0);
});

Deno.test("refresh-worker rejects batch_size outside 1..50, budget_ms outside 1000..140000 and cpu_budget_ms outside 10..1900", async () => {
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
  for (const cpu_budget_ms of [9, 1901, 12.5]) {
    const { status, body } = await call(s, { cpu_budget_ms });
    assert.equal(status, 400);
    assert.match(body.message, /cpu_budget_ms must be an integer between 10 and 1900/);
  }
  const bad = await call(s, { run_id: "nope", limit: 5 });
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /run_id: run_id must be a uuid/);
  assert.match(bad.body.message, /Unrecognized key\(s\) in object: 'limit'/);
  assert.equal(s.queue.steps.length, 0);
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

Deno.test("refresh-worker drains the queue, each item once, one step per batch that stores, finishes and claims", async () => {
  const tmdb = fakeTmdb({ async: true });
  const drift = { "release_dates.results[].release_dates[].note": { missing: 1 } };
  const s = setup(tmdb, range(1, 95), {
    queue: {
      stored: (item) => ({ outcome: item.answer.tmdb_id <= 30 ? "unchanged" : "updated" }),
      drift,
    },
  });
  const { status, body } = await call(s, { batch_size: 10 });
  assert.equal(status, 200);
  const summary = body as RefreshWorkerSummary;
  assert.deepEqual(
    { ...summary, queue: undefined, duration_ms: 0, cpu_ms: 0 },
    {
      run_id: RUN_ID,
      worker_id: WORKER,
      trigger: "manual",
      job_name: null,
      batches: 10,
      claimed: 95,
      refreshed: 65,
      unchanged: 30,
      not_found: 0,
      retried: 0,
      failed: 0,
      lost_lease: 0,
      stopped_because: "queue_empty",
      item_errors: [],
      // Each of the 10 batches' steps reported one missing note.
      drift: { "release_dates.results[].release_dates[].note": { missing: 10 } },
      queue: undefined,
      tmdb_requests: 95,
      chain: { id: RUN_ID, link: 1 },
      continuation: null,
      cpu_ms: 0,
      cpu_measured: true,
      duration_ms: 0,
    },
  );
  assert.deepEqual(tmdb.calls.map((c) => c.id).sort((a, b) => a - b), range(1, 95));
  // Each loop's first step only claims; every other step hands back one batch (the bodies
  // as TMDB sent them, unparsed) and claims the next: one round trip per batch.
  assert.equal(s.queue.steps.length, DEFAULT_LOOPS + summary.batches);
  assert.equal(s.queue.steps.filter((st) => st.items.length === 0).length, DEFAULT_LOOPS);
  const items = handedBack(s.queue);
  assert.equal(items.length, 95);
  assert.equal(new Set(items.map((i) => i.queue_id)).size, 95);
  for (const item of items) {
    assert.ok("answer" in item && item.answer.status === 200);
    assert.equal(item.answer.body, movieBody(item.answer.tmdb_id));
  }
  for (const st of s.queue.steps) {
    assert.equal(st.worker, WORKER);
    assert.equal(st.options.runId, RUN_ID);
    assert.ok(st.items.length <= 10);
    assert.ok(
      st.options.leaseSeconds >= 140,
      `lease ${st.options.leaseSeconds} s covers the budget`,
    );
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
  const clock = new FakeClock({ start: NOW, instantSleep: true });
  // Each TMDB call takes 1 s of (fake) time; a batch of 2 takes 2 s.
  const tmdb = fakeTmdb({ onCall: () => clock.jump(1_000) });
  const s = setup(tmdb, range(1, 30), { clock, deps: { loops: 1 } });
  const { status, body } = await call(s, { batch_size: 2, budget_ms: 10_000 });
  assert.equal(status, 200);
  // Batches start at +0, +2, +4, +6, +8 s; at +10 s nothing is left of the budget.
  assert.equal(body.batches, 5);
  assert.equal(body.claimed, 10);
  assert.equal(body.stopped_because, "budget");
  assert.equal(s.queue.remaining.length, 20);
  assert.deepEqual(
    s.queue.steps.map((st) => st.options.batchSize),
    [2, 2, 2, 2, 2, 0],
    "the last batch is finished without claiming another",
  );
  for (const c of tmdb.calls) assert.equal(c.opts?.deadline, NOW + 10_000, "deadline passed on");
});

Deno.test("refresh-worker does not start a batch it cannot finish in the budget left", async () => {
  const clock = new FakeClock({ start: NOW, instantSleep: true });
  const tmdb = fakeTmdb({ onCall: () => clock.jump(3_000) });
  const s = setup(tmdb, range(1, 30), { clock, deps: { loops: 1 } });
  const { body } = await call(s, { batch_size: 1, budget_ms: 10_000 });
  // Batches at +0, +3, +6 s; at +9 s 1 s is left, less than a batch took (3 s).
  assert.equal(body.batches, 3);
  assert.equal(body.stopped_because, "budget");
});

Deno.test("refresh-worker stops claiming before the next batch would pass its CPU budget, and says so", async () => {
  // Every TMDB answer costs 40 ms of (fake) CPU, so a batch of 10 costs 400 ms: after two
  // batches (800 ms) a third would end at 1,200 ms, past the 1,000 ms budget, so it is not
  // claimed (claiming until the budget was spent ended this run at 1,200 ms).
  let cpuUs = 0;
  const tmdb = fakeTmdb({ onCall: () => (cpuUs += 40_000) });
  const s = setup(tmdb, range(1, 100), {
    deps: { loops: 1, cpuMeter: () => createCpuMeter(() => ({ user: cpuUs, system: 0 })) },
  });
  const { status, body } = await call(s, { batch_size: 10, cpu_budget_ms: 1_000 });
  assert.equal(status, 200);
  assert.equal(body.stopped_because, "cpu_budget");
  assert.equal(body.batches, 2);
  assert.equal(body.refreshed, 20);
  assert.equal(body.cpu_ms, 800);
  assert.equal(body.cpu_measured, true);
  assert.deepEqual(s.queue.steps.map((st) => st.options.batchSize), [10, 10, 0]);
  assert.equal(s.queue.remaining.length, 80);
  // Work remains: the run hands over to the next run of its chain, with its budgets.
  assert.deepEqual(s.queue.continuations, [{
    runId: RUN_ID,
    chainId: RUN_ID,
    chainLink: 1,
    body: { batch_size: 10, budget_ms: 110_000, cpu_budget_ms: 1_000 },
  }]);
  assert.deepEqual(body.continuation, { continued: true, reason: "queued", request_id: 1 });
});

Deno.test("refresh-worker on a process that already used its CPU budget still stores one batch, then hands over", async () => {
  // A warm process that served an earlier run starts this one at 300 ms, past the 100 ms
  // budget: the run claims its first batch (the process has more than half the runtime's
  // limit left), and no more. Without the first batch, every run on this process would claim
  // nothing and hand over an empty run.
  let cpuUs = 300_000;
  const s = setup(fakeTmdb({ onCall: () => (cpuUs += 1_000) }), range(1, 50), {
    deps: { loops: 2, cpuMeter: () => createCpuMeter(() => ({ user: cpuUs, system: 0 })) },
  });
  const { status, body } = await call(s, { batch_size: 10, cpu_budget_ms: 100 });
  assert.equal(status, 200);
  assert.equal(body.stopped_because, "cpu_budget");
  assert.equal(body.batches, 1);
  assert.equal(body.refreshed, 10);
  assert.equal(s.queue.remaining.length, 40);
  assert.deepEqual(body.continuation, { continued: true, reason: "queued", request_id: 1 });
});

Deno.test("refresh-worker: a continuation run carries its chain on, and a failed hand-over is reported, not fatal", async () => {
  const chainId = "11111111-2222-4333-8444-555555555555";
  let cpuUs = 0;
  const s = setup(fakeTmdb({ onCall: () => (cpuUs += 40_000) }), range(1, 50), {
    deps: { loops: 1, cpuMeter: () => createCpuMeter(() => ({ user: cpuUs, system: 0 })) },
    queue: {
      continuation: () => {
        throw new Error("connection lost");
      },
    },
  });
  const { status, body } = await call(s, {
    trigger: "continuation",
    chain_id: chainId,
    chain_link: 7,
    batch_size: 10,
    cpu_budget_ms: 100,
  });
  assert.equal(status, 200);
  assert.equal(body.trigger, "continuation");
  assert.deepEqual(body.chain, { id: chainId, link: 7 });
  assert.equal(body.stopped_because, "cpu_budget");
  assert.deepEqual(body.continuation, { continued: false, reason: "error" });
  assert.ok(s.logger.entries.some((e) => e.event === "refresh_worker_continuation_failed"));
});

Deno.test("refresh-worker does not hand over when the queue is empty or TMDB stopped the run", async () => {
  const empty = setup(fakeTmdb(), range(1, 5));
  assert.equal((await call(empty)).body.continuation, null);
  assert.equal(empty.queue.continuations.length, 0);
  const down = setup(
    fakeTmdb({ behaviour: () => ({ kind: "error", error: "unauthorized" }) }),
    range(1, 50),
  );
  assert.equal((await call(down)).status, 502);
  assert.equal(down.queue.continuations.length, 0);
});

Deno.test("refresh-worker estimates its CPU from the work done where the runtime cannot measure it", async () => {
  const tmdb = fakeTmdb();
  const s = setup(tmdb, range(1, 500), {
    deps: { loops: 1, cpuMeter: () => createCpuMeter(() => null) },
  });
  // Estimate: 1.5 ms a movie + 3 ms a batch = 18 ms per batch of 10; after 5 batches (90 ms)
  // a 6th would end at 108 ms, past the 100 ms budget.
  const { body } = await call(s, { batch_size: 10, cpu_budget_ms: 100 });
  assert.equal(body.stopped_because, "cpu_budget");
  assert.equal(body.batches, 5);
  assert.equal(body.cpu_measured, false);
  assert.equal(body.cpu_ms, 90);
});

Deno.test("refresh-worker with two loops keeps the CPU of the batch the other loop holds: the run ends within its budget", async () => {
  // 10 ms of (fake) CPU per TMDB answer: a batch of 10 costs 100 ms. Two loops each hold a
  // batch; a loop claims only when its next batch and the other loop's unfetched batch fit.
  let cpuUs = 0;
  const tmdb = fakeTmdb({ onCall: () => (cpuUs += 10_000) });
  const s = setup(tmdb, range(1, 200), {
    deps: { loops: 2, cpuMeter: () => createCpuMeter(() => ({ user: cpuUs, system: 0 })) },
  });
  const { body } = await call(s, { batch_size: 10, cpu_budget_ms: 500 });
  assert.equal(body.stopped_because, "cpu_budget");
  assert.ok(body.cpu_ms <= 500, `the run used ${body.cpu_ms} ms of its 500 ms budget`);
  assert.ok(body.batches >= 3, `${body.batches} batches`);
  assert.equal(body.refreshed, body.batches * 10);
  assert.equal(s.queue.remaining.length, 200 - body.refreshed);
});

// ---------------------------------------------------------------------------------------
// Item outcomes
// ---------------------------------------------------------------------------------------

Deno.test("refresh-worker hands a 404 back as an answer: the movie is completed as not_found", async () => {
  const tmdb = fakeTmdb({
    behaviour: (id) => id === 2 ? { kind: "error", error: "not_found" } : { kind: "ok" },
  });
  const s = setup(tmdb, [1, 2, 3]);
  const { status, body } = await call(s);
  assert.equal(status, 200);
  assert.equal(body.not_found, 1);
  assert.equal(body.refreshed, 2);
  assert.equal(body.retried, 0);
  const item2 = handedBack(s.queue).find((i) => i.queue_id === 2)!;
  assert.deepEqual(item2, { queue_id: 2, attempt: 1, answer: { tmdb_id: 2, status: 404 } });
});

Deno.test("refresh-worker hands back a failed call as retryable with its error text", async () => {
  const tmdb = fakeTmdb({
    behaviour: (id) => id === 2 ? { kind: "error", error: "server_error" } : { kind: "ok" },
  });
  const s = setup(tmdb, [1, 2]);
  const { body } = await call(s);
  assert.equal(body.retried, 1);
  assert.equal(body.failed, 0);
  const item2 = handedBack(s.queue).find((i) => i.queue_id === 2)!;
  assert.deepEqual(item2, {
    queue_id: 2,
    attempt: 1,
    error: "server_error: TMDB GET /movie/2 failed: server_error",
    retryable: true,
  });
  assert.deepEqual(body.item_errors, [{
    queue_id: 2,
    tmdb_id: 2,
    attempt: 1,
    error: "server_error: TMDB GET /movie/2 failed: server_error",
  }]);
});

Deno.test("refresh-worker lists a movie the database refused (e.g. an essential field) in item_errors", async () => {
  const s = setup(fakeTmdb(), [1, 2], {
    queue: {
      stored: (item) =>
        item.answer.tmdb_id === 2
          ? {
            outcome: "failed",
            error:
              "ingest_movie: genres[0].id is missing: the row cannot exist without it (tmdb_id 2)",
          }
          : { outcome: "updated" },
    },
  });
  const { body } = await call(s);
  assert.equal(body.refreshed, 1);
  assert.equal(body.retried, 1);
  assert.deepEqual(body.item_errors, [{
    queue_id: 2,
    tmdb_id: 2,
    attempt: 1,
    error:
      "invalid_response: ingest_movie: genres[0].id is missing: the row cannot exist without it (tmdb_id 2)",
  }]);
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
  assert.deepEqual(
    s.queue.steps.map((st) => st.options.batchSize),
    [4, 0],
    "no batch is claimed after the 401: the batch is finished by a finish-only step",
  );
  assert.deepEqual(
    s.queue.steps[1].items.map((i) => "answer" in i ? "answer" : [i.error, i.retryable]),
    ["answer", [UNAUTHORIZED, true], [UNAUTHORIZED, true], [UNAUTHORIZED, true]],
  );
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
  assert.equal(s.queue.remaining.length, 180);
});

Deno.test("refresh-worker never puts a secret in its answer, its log lines or the queue", async () => {
  const tmdb = fakeTmdb();
  tmdb.movieDetailsText = (id) =>
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
  assert.ok(!JSON.stringify(handedBack(s.queue)).includes(TMDB_TOKEN));
});

Deno.test("refresh-worker: a database failure in a step answers 500 and stops claiming", async () => {
  const s = setup(fakeTmdb(), range(1, 10), {
    deps: { loops: 1 },
    queue: { failStep: (n) => n === 2 ? new Error("connection lost") : undefined },
  });
  const { status, body } = await call(s, { batch_size: 1 });
  assert.equal(status, 500);
  assert.equal(body.error, "internal_error");
  assert.equal(s.queue.steps.length, 1, "only the first claim went through");
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
  assert.deepEqual(s.queue.steps.map((st) => st.options.batchSize), [15, 0]);
  assert.equal(tmdb.inFlight, 0, "no TMDB call is left running");
  for (const item of s.queue.steps[1].items) {
    assert.ok(!("answer" in item));
    assert.equal(item.retryable, true);
    if (item.queue_id <= 12) {
      assert.equal(item.error, `network: TMDB GET /movie/${item.queue_id} failed: network`);
    } else assert.equal(item.error, UNAVAILABLE, `item ${item.queue_id} was cut short`);
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
  let claimedAtTrip = -1;
  const s = setup(tmdb, range(1, 200), { deps: { loops: 4 } });
  tmdb.movieDetailsText = async (id, opts) => {
    tmdb.calls.push({ id, opts });
    await new Promise((r) => setTimeout(r, 0));
    if (opts?.signal?.aborted) throw opts.signal.reason;
    if (++failures === TMDB_BREAKER_THRESHOLD) claimedAtTrip = 200 - s.queue.remaining.length;
    throw tmdbError("timeout", id);
  };
  const { status, body } = await call(s, { batch_size: 5 });
  assert.equal(status, 502);
  assert.equal(body.error, "tmdb_unavailable");
  assert.match(
    body.message,
    /^TMDB is unreachable or failing: 10 items in a row failed \(timeout: TMDB GET \/movie\/1 /,
  );
  assert.ok(claimedAtTrip >= 20, "the four loops had claimed a batch each");
  assert.equal(200 - s.queue.remaining.length, claimedAtTrip, "no loop claims after the trip");
  assert.equal(body.claimed, claimedAtTrip);
  assert.equal(body.retried, body.claimed, "every in-hand item goes back to the queue");
});

Deno.test("refresh-worker: failures broken up by TMDB answers never trip the breaker", async () => {
  // Calls answer in the order they are made: 9 server errors, then a movie, then 9 more, …
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
  assert.equal(body.refreshed, 10);
  assert.equal(body.retried, 90);
});

Deno.test("refresh-worker: a 404 counts as a TMDB answer, and other errors do not count toward the breaker", async () => {
  // 9 network failures then a 404, five times over; then only bad requests.
  let n = 0;
  const tmdb = fakeTmdb({
    async: true,
    behaviour: () => {
      n++;
      if (n > 50) return { kind: "error", error: "bad_request" };
      return n % 10 === 0
        ? { kind: "error", error: "not_found" }
        : { kind: "error", error: "network" };
    },
  });
  const s = setup(tmdb, range(1, 80), { deps: { loops: 1 } });
  const { status, body } = await call(s, { batch_size: 10 });
  assert.equal(status, 200);
  assert.equal(body.stopped_because, "queue_empty");
  assert.equal(body.not_found, 5);
  assert.equal(body.retried, 75);
  assert.equal(tmdb.calls.length, 80, "30 bad requests in a row did not stop the run");
});

Deno.test("refresh-worker: the tmdb_unavailable answer holds no secret, even when TMDB's error does", async () => {
  const tmdb = fakeTmdb();
  tmdb.movieDetailsText = (id) =>
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

Deno.test("refresh-worker takes its CPU budget from its configuration unless the body sets one", async () => {
  let cpuUs = 0;
  const tmdb = fakeTmdb({ onCall: () => (cpuUs += 40_000) });
  const s = setup(tmdb, range(1, 100), {
    deps: {
      loops: 1,
      cpuBudgetMs: 200,
      cpuMeter: () => createCpuMeter(() => ({ user: cpuUs, system: 0 })),
    },
  });
  // 400 ms of CPU per batch of 10: over the configured 200 ms after the first batch.
  const { body } = await call(s, { batch_size: 10 });
  assert.equal(body.stopped_because, "cpu_budget");
  assert.equal(body.batches, 1);
  // The next run gets no explicit budget: it uses its own configuration too.
  assert.deepEqual(s.queue.continuations[0].body, { batch_size: 10, budget_ms: 110_000 });
});
