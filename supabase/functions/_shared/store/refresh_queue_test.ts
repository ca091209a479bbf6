import assert from "node:assert/strict";
import type postgres from "postgres";
import { createPostgresRefreshQueue } from "./refresh_queue.ts";

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

Deno.test("step() takes a claimed movie without a work (queued as new, 029): work_id null", async () => {
  const { sql } = fakeSql({
    stored: [],
    drift: {},
    finished: { completed: 0, retried: 0, failed: 0, lost_lease: 0, items: [] },
    claimed: [{ queue_id: 15, work_id: null, tmdb_id: 1200001, attempt: 1 }],
  });
  const result = await createPostgresRefreshQueue(sql).step("w", [], {
    runId: "00000000-0000-4000-8000-000000000001",
    batchSize: 10,
    leaseSeconds: 140,
  });
  assert.deepEqual(result.claimed, [{ queue_id: 15, work_id: null, tmdb_id: 1200001, attempt: 1 }]);
});

Deno.test("step() rejects an unexpected result, naming the SQL function", async () => {
  const { sql } = fakeSql({ finished: {}, claimed: "nope" });
  await assert.rejects(
    createPostgresRefreshQueue(sql).step("w", [], { runId: "r", batchSize: 1, leaseSeconds: 1 }),
    /public\.refresh_worker_step returned an unexpected value/,
  );
});
