import assert from "node:assert/strict";
import { type Clock } from "../_shared/platform/clock.ts";
import { CHANGES_SYNC_KEY } from "../_shared/store/refresh_queue.ts";
import {
  createScriptedRefreshQueue,
  type ScriptedRefreshQueue,
  type ScriptedRefreshQueueOptions,
} from "../_shared/testing/scripted_refresh_queue.ts";
import { type TmdbClient, TmdbError, type TmdbErrorKind } from "../_shared/tmdb/client.ts";
import type { TmdbIdPage } from "../_shared/tmdb/schemas.ts";
import {
  createRecordingCatalogStore,
  type RecordingCatalogStore,
} from "../_shared/testing/recording_catalog.ts";
import {
  type Json,
  memoryLogger,
  postTo,
  SERVICE_KEY,
  TEST_SECRETS,
  testCpuMeter,
  TMDB_TOKEN,
} from "../_shared/testing/handler_testing.ts";
import { createHandler, type DailyRefreshSummary, type HandlerDeps } from "./handler.ts";
import { type MemoryLogger } from "../_shared/testing/memory_logger.ts";
import { FakeClock } from "../_shared/testing/fake_clock.ts";

const RUN_ID = "5b0c2a8e-93a4-4e0f-8d7e-2f1c9a3b6d21";
const NOW = Date.parse("2026-11-02T10:30:00Z");
const DAY = 86_400_000;
const HOUR = 3_600_000;

// ---------------------------------------------------------------------------------------
// Fakes
// ---------------------------------------------------------------------------------------

interface ChangesCall {
  startDate: string;
  endDate: string;
  page: number;
}

interface FakeTmdb extends Pick<TmdbClient, "movieChanges" | "flushLogs"> {
  calls: ChangesCall[];
  flushes: number;
}

/**
 * A changes feed: `pages(start, end)` gives the ids of each page of a window; `fail` makes
 * a call fail with a TMDB error kind.
 */
function fakeTmdb(options: {
  pages?: (startDate: string, endDate: string) => number[][];
  fail?: (call: ChangesCall) => TmdbErrorKind | null;
  onCall?: () => void;
} = {}): FakeTmdb {
  const fake: FakeTmdb = {
    calls: [],
    flushes: 0,
    movieChanges(q) {
      const call = { startDate: q.startDate, endDate: q.endDate, page: q.page };
      fake.calls.push(call);
      options.onCall?.();
      const kind = options.fail?.(call) ?? null;
      if (kind !== null) {
        return Promise.reject(
          new TmdbError(
            `TMDB GET /movie/changes?start_date=${q.startDate}&page=${q.page} failed: ${kind}`,
            {
              kind,
              httpStatus: kind === "unauthorized" ? 401 : 503,
              statusCode: kind === "unauthorized" ? 7 : null,
              statusMessage: null,
              endpoint: "/movie/changes",
              attempts: 4,
              retryable: kind !== "unauthorized",
              tmdbId: null,
            },
          ),
        );
      }
      const pages = options.pages?.(q.startDate, q.endDate) ?? [[]];
      const ids = pages[q.page - 1] ?? [];
      const page: TmdbIdPage = {
        ids,
        page: q.page,
        total_pages: pages.length,
        drift: q.page === 1 ? { "results[].adult": { null: 1 } } : {},
      };
      return Promise.resolve(page);
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
  queue: ScriptedRefreshQueue;
  store: RecordingCatalogStore;
  logger: MemoryLogger;
}

function setup(
  tmdb: FakeTmdb,
  options: {
    watermark?: Date | null;
    clock?: Clock;
    queue?: ScriptedRefreshQueueOptions;
    deps?: Partial<HandlerDeps>;
  } = {},
): Setup {
  const clock = options.clock ?? new FakeClock({ start: NOW });
  const queue = createScriptedRefreshQueue({
    syncState: options.watermark === undefined ? null : {
      key: CHANGES_SYNC_KEY,
      last_sync_at: null,
      changes_watermark: options.watermark,
      last_run_id: null,
      last_error: null,
    },
    ...options.queue,
  });
  const logger = memoryLogger("daily-refresh");
  const store = createRecordingCatalogStore();
  const handler = createHandler({
    allowedKeys: [SERVICE_KEY],
    tmdbFor: () => tmdb,
    queue,
    store,
    logger,
    clock,
    newRunId: () => RUN_ID,
    secrets: TEST_SECRETS,
    cpuMeter: testCpuMeter(),
    ...options.deps,
  });
  return { handler, tmdb, queue, store, logger };
}

const post = postTo("daily-refresh");

/** What the run recorded with `recordChangesSync` (exactly once per run). */
function synced(s: Setup) {
  assert.equal(s.queue.syncRecords.length, 1, "one recordChangesSync per run");
  return s.queue.syncRecords[0];
}

async function call(s: Setup, body: unknown = {}): Promise<{ status: number; body: Json }> {
  const res = await s.handler(post(body));
  return { status: res.status, body: await res.json() };
}

const days = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / DAY;

// ---------------------------------------------------------------------------------------
// The HTTP boundary
// ---------------------------------------------------------------------------------------

Deno.test("daily-refresh answers 405 to a GET and 401 without or with a wrong key", async () => {
  const s = setup(fakeTmdb());
  const get = await s.handler(new Request("http://localhost/functions/v1/daily-refresh"));
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  const missing = await s.handler(post({}, null));
  assert.equal(missing.status, 401);
  assert.equal((await missing.json()).error, "missing_api_key");
  const wrong = await s.handler(post({}, "publishable-key"));
  assert.equal(wrong.status, 401);
  assert.equal((await wrong.json()).error, "invalid_api_key");
  assert.equal(s.tmdb.calls.length, 0);
  assert.equal(s.queue.calls.length, 0);
});

Deno.test("daily-refresh rejects limit outside 1..1000 and bad fields with a 400 naming them", async () => {
  const s = setup(fakeTmdb());
  for (const limit of [0, -1, 1001, 2.5, "100", null]) {
    const { status, body } = await call(s, { limit });
    assert.equal(status, 400, `limit ${JSON.stringify(limit)}`);
    assert.match(
      body.message,
      /limit: limit must be an integer between 1 and 1000: current value is/,
    );
  }
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ run_id: "x" }, /run_id: run_id must be a uuid/],
    [{ trigger: "daily" }, /trigger: trigger must be 'cron' or 'manual'/],
    [{ job_name: 7 }, /job_name: Expected string, received number/],
    [{ source: "popular" }, /Unrecognized key\(s\) in object: 'source'/],
  ];
  for (const [body, pattern] of cases) {
    const res = await call(s, body);
    assert.equal(res.status, 400);
    assert.equal(res.body.error, "invalid_body");
    assert.match(res.body.message, pattern);
  }
  assert.equal(s.tmdb.calls.length, 0);
});

Deno.test("daily-refresh accepts limit 1 and 1000 and the body call_daily_refresh() sends", async () => {
  for (const limit of [1, 1000]) {
    const s = setup(fakeTmdb());
    const { status, body } = await call(s, { limit });
    assert.equal(status, 200);
    assert.equal(body.limit, limit);
  }
  const s = setup(fakeTmdb());
  const { status, body } = await call(s, {
    run_id: RUN_ID,
    trigger: "cron",
    job_name: "daily_refresh_enqueue",
  });
  assert.equal(status, 200);
  assert.equal(body.run_id, RUN_ID);
  assert.equal(body.trigger, "cron");
  assert.equal(body.job_name, "daily_refresh_enqueue");
  assert.equal(body.limit, 100);
  assert.equal(synced(s).runId, RUN_ID);
});

// ---------------------------------------------------------------------------------------
// Following the change feed
// ---------------------------------------------------------------------------------------

Deno.test("daily-refresh starts 24 h back without a watermark and then sets it to now", async () => {
  const tmdb = fakeTmdb({ pages: () => [[1, 2], [3]] });
  const s = setup(tmdb);
  const { status, body } = await call(s);
  assert.equal(status, 200);
  assert.deepEqual(tmdb.calls, [
    { startDate: "2026-11-01", endDate: "2026-11-02", page: 1 },
    { startDate: "2026-11-01", endDate: "2026-11-02", page: 2 },
  ]);
  const summary = body as DailyRefreshSummary;
  assert.equal(summary.changes.from, new Date(NOW - DAY).toISOString());
  assert.equal(summary.changes.to, new Date(NOW).toISOString());
  assert.equal(summary.changes.complete, true);
  assert.equal(summary.changes.pages, 2);
  assert.equal(summary.changes.ids, 3);
  assert.equal(summary.changes.watermark, new Date(NOW).toISOString());
  assert.equal(summary.changes.error, undefined);
  assert.deepEqual(synced(s), { watermark: new Date(NOW), runId: RUN_ID, error: null });
  assert.equal(tmdb.flushes, 1);
});

Deno.test("daily-refresh walks windows of at most 14 days and every page of each, then moves the watermark to now", async () => {
  const watermark = new Date(NOW - 40 * DAY);
  const tmdb = fakeTmdb({
    pages: (
      start,
    ) => [[Number(start.slice(8, 10)) * 10 + 1], [Number(start.slice(8, 10)) * 10 + 2]],
  });
  const s = setup(tmdb, { watermark });
  const { status, body } = await call(s);
  assert.equal(status, 200);
  const windows = [...new Set(tmdb.calls.map((c) => `${c.startDate}..${c.endDate}`))];
  assert.deepEqual(windows, [
    "2026-09-23..2026-10-07",
    "2026-10-08..2026-10-22",
    "2026-10-23..2026-11-02",
  ]);
  for (const c of tmdb.calls) assert.ok(days(c.startDate, c.endDate) <= 14, JSON.stringify(c));
  assert.deepEqual(tmdb.calls.map((c) => c.page), [1, 2, 1, 2, 1, 2]);
  assert.equal(body.changes.windows, 3);
  assert.equal(body.changes.windows_complete, 3);
  assert.equal(body.changes.complete, true);
  assert.equal(body.changes.watermark_advanced, true);
  assert.equal(synced(s).watermark!.getTime(), NOW);
  // Each window's first page reported one null adult: summed, namespaced, recorded once.
  assert.deepEqual(body.drift, { "changes:results[].adult": { null: 3 } });
  assert.deepEqual(s.store.recordedDrift, [
    { runId: RUN_ID, functionName: "daily-refresh", drift: body.drift },
  ]);
});

Deno.test("daily-refresh moves the watermark to the last complete window when a later page fails", async () => {
  const watermark = new Date(NOW - 30 * DAY); // 2026-10-03T10:30Z
  const tmdb = fakeTmdb({
    pages: () => [[1], [2], [3]],
    fail: (c) => c.startDate === "2026-10-18" && c.page === 2 ? "server_error" : null,
  });
  const s = setup(tmdb, { watermark });
  const { status, body } = await call(s);
  assert.equal(status, 200);
  // Window 1 (10-03..10-17) complete; window 2 fails on page 2; window 3 never requested.
  assert.deepEqual(
    tmdb.calls.map((c) => `${c.startDate}#${c.page}`),
    ["2026-10-03#1", "2026-10-03#2", "2026-10-03#3", "2026-10-18#1", "2026-10-18#2"],
  );
  const end1 = Date.parse("2026-10-18T00:00:00Z");
  assert.equal(body.changes.complete, false);
  assert.equal(body.changes.windows_complete, 1);
  assert.equal(body.changes.watermark, new Date(end1).toISOString());
  assert.match(body.changes.error, /server_error/);
  assert.equal(synced(s).watermark!.getTime(), end1);
  assert.match(synced(s).error!, /page=2 failed: server_error/);
});

Deno.test("daily-refresh does NOT move the watermark when a page of the first window fails", async () => {
  const watermark = new Date(NOW - 2 * DAY);
  const tmdb = fakeTmdb({
    pages: () => [[1], [2]],
    fail: (c) => c.page === 2 ? "timeout" : null,
  });
  const s = setup(tmdb, { watermark });
  const { status, body } = await call(s);
  assert.equal(status, 200);
  assert.equal(body.changes.complete, false);
  assert.equal(body.changes.watermark_advanced, false);
  assert.equal(body.changes.watermark, watermark.toISOString());
  assert.equal(synced(s).watermark, null, "no watermark is passed after a partial fetch");
  assert.match(synced(s).error!, /timeout/);
  // The ids of the page that was read are still queued (page 1: id 1).
  assert.deepEqual(s.queue.calls.find((c) => c.method === "enqueueChanged")!.args[0], [1]);
});

Deno.test("daily-refresh stops reading the feed when its time budget runs out", async () => {
  const clock = new FakeClock({ start: NOW, instantSleep: true });
  const tmdb = fakeTmdb({
    pages: () => [[1], [2], [3], [4], [5], [6]],
    onCall: () => clock.jump(10_000),
  });
  const s = setup(tmdb, {
    clock,
    watermark: new Date(NOW - 2 * HOUR),
    deps: { budget: { changesMs: 35_000, hardMs: 45_000 } },
  });
  const { status, body } = await call(s);
  assert.equal(status, 200);
  assert.equal(tmdb.calls.length, 4); // at +0, +10, +20, +30 s
  assert.equal(body.changes.complete, false);
  assert.match(body.changes.error, /time budget/);
  assert.equal(body.changes.watermark_advanced, false);
  assert.equal(body.changes.watermark, new Date(NOW - 2 * HOUR).toISOString());
  assert.equal(synced(s).watermark, null);
});

Deno.test("daily-refresh: TMDB 401 answers 502 with the credentials message and keeps the watermark", async () => {
  const watermark = new Date(NOW - 3 * DAY);
  const tmdb = fakeTmdb({ fail: () => "unauthorized" });
  const s = setup(tmdb, { watermark, queue: { enqueueStale: (limit) => Math.min(2, limit) } });
  const res = await s.handler(post({ limit: 10 }));
  assert.equal(res.status, 502);
  const text = await res.text();
  const body = JSON.parse(text);
  assert.equal(body.error, "tmdb_unauthorized");
  assert.equal(body.message, "TMDB rejected the credentials (status_code 7): check TMDB_API_TOKEN");
  assert.equal(body.changes.error, body.message);
  assert.equal(tmdb.calls.length, 1);
  assert.equal(synced(s).watermark, null);
  assert.equal(synced(s).error, body.message);
  assert.equal(body.changes.watermark, watermark.toISOString());
  // Stale works are still queued: that needs no TMDB.
  assert.deepEqual(
    s.queue.calls.filter((c) => c.method.startsWith("enqueue")).map((c) => [c.method, c.args]),
    [["enqueueChanged", [[], 10]], ["enqueueStale", [10]]],
  );
  assert.equal(body.enqueued_stale, 2);
  for (const secret of [SERVICE_KEY, TMDB_TOKEN]) {
    assert.ok(!text.includes(secret));
    assert.ok(!s.logger.lines.some((l) => l.includes(secret)));
  }
  const line = s.logger.entries.find((e) => e.event === "daily_refresh_run")!;
  assert.equal(line.level, "error");
});

// ---------------------------------------------------------------------------------------
// Filling the queue
// ---------------------------------------------------------------------------------------

Deno.test("daily-refresh queues the changed ids first, then asks for as many overdue works as the limit leaves", async () => {
  const tmdb = fakeTmdb({ pages: () => [[101, 102, 103, 999], [104, 101]] });
  // The SQL decides which changed ids it queues (works we have, not refreshed within 12 h):
  // here 3 of the 5; and 2 overdue works.
  const stats = { pending: 5, processing: 0 };
  const s = setup(tmdb, {
    queue: { enqueueChanged: () => 3, enqueueStale: (limit) => Math.min(limit, 2), stats },
  });
  const { status, body } = await call(s, { limit: 5 });
  assert.equal(status, 200);
  assert.equal(body.changes.ids, 5);
  assert.equal(body.enqueued_changed, 3);
  assert.equal(body.enqueued_stale, 2);
  assert.equal(body.enqueued, 5);
  assert.deepEqual(body.queue, stats);
  assert.deepEqual(
    s.queue.calls.map((c) => c.method),
    ["readSyncState", "enqueueChanged", "enqueueStale", "recordChangesSync", "stats"],
  );
  // Every distinct id once, in feed order; the stale call gets what the changed ones left.
  assert.deepEqual(s.queue.calls[1].args, [[101, 102, 103, 999, 104], 5]);
  assert.deepEqual(s.queue.calls[2].args, [2]);
});

Deno.test("daily-refresh does not ask for stale works when changed works fill the limit", async () => {
  const tmdb = fakeTmdb({ pages: () => [[1, 2, 3, 4]] });
  const s = setup(tmdb);
  const { body } = await call(s, { limit: 3 });
  assert.equal(body.enqueued_changed, 3);
  assert.equal(body.enqueued_stale, 0);
  assert.ok(!s.queue.calls.some((c) => c.method === "enqueueStale"));
});

Deno.test("daily-refresh: a database failure while enqueueing keeps the watermark and answers 500", async () => {
  const tmdb = fakeTmdb({ pages: () => [[1]] });
  const s = setup(tmdb, { queue: { failOn: ["enqueueChanged"] } });
  const res = await s.handler(post({}));
  assert.equal(res.status, 500);
  assert.equal((await res.json()).error, "internal_error");
  assert.equal(synced(s).watermark, null);
  assert.match(synced(s).error!, /enqueueing failed/);
});

Deno.test("daily-refresh stops reading the feed once its process has used its CPU budget, keeping the watermark", async () => {
  let cpuMs = 0;
  const watermark = new Date(NOW - 40 * DAY);
  const tmdb = fakeTmdb({ pages: () => [[1], [2], [3]], onCall: () => (cpuMs += 100) });
  const s = setup(tmdb, {
    watermark,
    deps: { cpuMeter: testCpuMeter(() => cpuMs), cpuBudgetMs: 450 },
  });
  const { status, body } = await call(s);
  assert.equal(status, 200);
  // The first window's 3 pages (0–300 ms), the second's first 2; then the budget is spent.
  assert.equal(tmdb.calls.length, 5);
  assert.equal(body.changes.windows_complete, 1);
  assert.equal(body.changes.complete, false);
  assert.match(body.changes.error, /^the CPU budget for reading the change feed ran out at /);
  // The watermark moves to the end of the one complete window only.
  assert.equal(body.changes.watermark_advanced, true);
  assert.equal(synced(s).watermark!.toISOString(), body.changes.watermark);
  assert.ok(synced(s).watermark!.getTime() < NOW, "not past the complete window");
});
