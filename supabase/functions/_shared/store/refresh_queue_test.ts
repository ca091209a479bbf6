import assert from "node:assert/strict";
import type postgres from "postgres";
import {
  CHANGES_SYNC_KEY,
  createMemoryRefreshQueue,
  createPostgresRefreshQueue,
} from "./refresh_queue.ts";
import { FakeClock } from "../testing/fake_clock.ts";

const NOW = Date.parse("2026-11-02T10:00:00Z");
const HOUR = 3_600_000;

Deno.test("memory refresh queue: changed works honour the 12 h floor and go before stale ones", async () => {
  const clock = new FakeClock({ start: NOW });
  const queue = createMemoryRefreshQueue({ clock });
  queue.addWork({ tmdb_id: 1, last_refreshed_at: NOW - 13 * HOUR, next_refresh_at: NOW + HOUR });
  queue.addWork({ tmdb_id: 2, last_refreshed_at: NOW - 11 * HOUR, next_refresh_at: NOW + HOUR });
  queue.addWork({ tmdb_id: 3, last_refreshed_at: NOW - 99 * HOUR, next_refresh_at: NOW - HOUR });
  assert.equal(await queue.enqueueChanged([1, 2, 404], 10), 1);
  assert.equal(await queue.enqueueStale(10), 1);
  assert.equal(await queue.enqueueStale(10), 0, "already queued");
  assert.deepEqual([...queue.items.values()].map((i) => [i.tmdb_id, i.priority]), [[1, 10], [
    3,
    100,
  ]]);
});

Deno.test("memory refresh queue: the watermark only moves forward; last_sync_at always", async () => {
  const clock = new FakeClock({ start: NOW });
  const queue = createMemoryRefreshQueue({ clock });
  assert.equal(await queue.readSyncState(), null);
  await queue.recordChangesSync({ watermark: new Date(NOW), runId: "r1", error: null });
  await clock.advance(1000);
  await queue.recordChangesSync({ watermark: new Date(NOW - HOUR), runId: "r2", error: null });
  await clock.advance(1000);
  await queue.recordChangesSync({ watermark: null, runId: "r3", error: "page 2 failed" });
  const state = (await queue.readSyncState(CHANGES_SYNC_KEY))!;
  assert.equal(state.changes_watermark!.getTime(), NOW);
  assert.equal(state.last_sync_at!.getTime(), NOW + 2000);
  assert.equal(state.last_run_id, "r3");
  assert.equal(state.last_error, "page 2 failed");
});

/** A stand-in for postgres.js's `sql.unsafe`: records the statement and answers `value`. */
function fakeSql(value: unknown) {
  const statements: { text: string; values: unknown[] }[] = [];
  const sql = {
    unsafe: (text: string, values: unknown[]) => {
      statements.push({ text, values });
      return Promise.resolve([{ r: value }]);
    },
  };
  return { sql: sql as unknown as postgres.Sql, statements };
}

Deno.test("step() is one refresh_worker_step call: answers with their bodies, failures with their errors", async () => {
  const { sql, statements } = fakeSql({
    stored: [{ queue_id: "11", tmdb_id: 550, outcome: "updated", work_id: 3 }],
    drift: { "release_dates.results[].release_dates[].note": { missing: 1 } },
    finished: { completed: 2, retried: 1, failed: 0, lost_lease: 0, items: [] },
    claimed: [{ queue_id: 14, work_id: "9", tmdb_id: 77, attempt: 1 }],
  });
  const result = await createPostgresRefreshQueue(sql).step("worker-1", [
    { queue_id: 11, attempt: 1, answer: { tmdb_id: 550, status: 200, body: '{"id":550}' } },
    { queue_id: 12, attempt: 2, answer: { tmdb_id: 7, status: 404 } },
    { queue_id: 13, attempt: 1, error: "timeout: no answer", retryable: true },
  ], { runId: "00000000-0000-4000-8000-000000000001", batchSize: 10, leaseSeconds: 140 });
  assert.deepEqual(result, {
    stored: [{ queue_id: 11, tmdb_id: 550, outcome: "updated", work_id: 3 }],
    drift: { "release_dates.results[].release_dates[].note": { missing: 1 } },
    finished: { completed: 2, retried: 1, failed: 0, lost_lease: 0 },
    claimed: [{ queue_id: 14, work_id: 9, tmdb_id: 77, attempt: 1 }],
  });
  assert.equal(statements.length, 1);
  assert.equal(
    statements[0].text,
    "select public.refresh_worker_step($1::text, $2::uuid, $3::jsonb, array[$6::text], $4::integer, $5::integer) as r",
  );
  assert.deepEqual(statements[0].values, [
    "worker-1",
    "00000000-0000-4000-8000-000000000001",
    [
      { queue_id: 11, attempt: 1, tmdb_id: 550, status: 200, body: 1 },
      { queue_id: 12, attempt: 2, tmdb_id: 7, status: 404 },
      { queue_id: 13, attempt: 1, error: "timeout: no answer", retryable: true },
    ],
    10,
    140,
    '{"id":550}',
  ]);
});

Deno.test("step() rejects an unexpected result, naming the SQL function", async () => {
  const { sql } = fakeSql({ finished: {}, claimed: "nope" });
  await assert.rejects(
    createPostgresRefreshQueue(sql).step("w", [], { runId: "r", batchSize: 1, leaseSeconds: 1 }),
    /public\.refresh_worker_step returned an unexpected value/,
  );
});
