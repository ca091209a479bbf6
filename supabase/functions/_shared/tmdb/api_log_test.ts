import assert from "node:assert/strict";
import postgres from "postgres";
import {
  API_LOG_COLUMNS,
  type ApiLogRow,
  createBatchedApiLogSink,
  createPostgresApiLogWriter,
} from "./api_log.ts";
import { FakeClock } from "../testing/fake_clock.ts";

function row(i: number, overrides: Partial<ApiLogRow> = {}): ApiLogRow {
  return {
    created_at: new Date(Date.UTC(2026, 9, 1, 0, 0, i)).toISOString(),
    function_name: "sync-movies",
    run_id: "run-1",
    method: "GET",
    endpoint: "/movie/{id}",
    params: { append_to_response: "credits" },
    http_status: 200,
    tmdb_status_code: null,
    duration_ms: 12,
    attempt: 1,
    error: null,
    tmdb_id: 1000 + i,
    ...overrides,
  };
}

function recordingWriter() {
  const batches: ApiLogRow[][] = [];
  return { batches, write: (rows: ApiLogRow[]) => (batches.push(rows), Promise.resolve()) };
}

Deno.test("the batched sink writes N rows (N <= batchSize) in one write on flush()", async () => {
  const { batches, write } = recordingWriter();
  const sink = createBatchedApiLogSink({ write, batchSize: 100 });
  for (let i = 0; i < 30; i++) sink.add(row(i));
  assert.equal(batches.length, 0, "nothing is written before a batch fills or flush()");
  await sink.flush();
  assert.equal(batches.length, 1);
  assert.deepEqual(
    batches[0].map((r) => r.tmdb_id),
    Array.from({ length: 30 }, (_, i) => 1000 + i),
  );
  await sink.flush();
  assert.equal(batches.length, 1, "an empty flush writes nothing");
});

Deno.test("the batched sink writes each full batch at once and the rest on flush(), in order", async () => {
  const { batches, write } = recordingWriter();
  const sink = createBatchedApiLogSink({ write, batchSize: 100 });
  for (let i = 0; i < 250; i++) sink.add(row(i));
  await Promise.resolve();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(batches.map((b) => b.length), [100, 100]);
  await sink.flush();
  assert.deepEqual(batches.map((b) => b.length), [100, 100, 50]);
  assert.deepEqual(
    batches.flat().map((r) => r.tmdb_id),
    Array.from({ length: 250 }, (_, i) => 1000 + i),
  );
});

Deno.test("the batched sink runs one write at a time", async () => {
  let running = 0;
  let maxRunning = 0;
  const clock = new FakeClock({ autoAdvance: true });
  const sink = createBatchedApiLogSink({
    batchSize: 2,
    write: async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await clock.sleep(10);
      running--;
    },
  });
  for (let i = 0; i < 9; i++) sink.add(row(i));
  await sink.flush();
  assert.equal(maxRunning, 1);
});

Deno.test("a failed write is reported with its rows and never reaches add() or flush()", async () => {
  const reported: Record<string, unknown>[] = [];
  let calls = 0;
  const sink = createBatchedApiLogSink({
    batchSize: 3,
    write: (rows) => {
      calls++;
      return calls === 1
        ? Promise.reject(new Error('relation "public.tmdb_api_logs" does not exist'))
        : Promise.resolve(void rows);
    },
    logger: { error: (entry) => reported.push(entry) },
  });
  for (let i = 0; i < 5; i++) sink.add(row(i));
  await sink.flush();
  assert.equal(calls, 2);
  assert.equal(reported.length, 1);
  assert.equal(reported[0].msg, "tmdb_api_logs write failed");
  assert.equal(reported[0].error, 'relation "public.tmdb_api_logs" does not exist');
  assert.equal(reported[0].row_count, 3);
  assert.deepEqual((reported[0].rows as ApiLogRow[]).map((r) => r.tmdb_id), [1000, 1001, 1002]);
  // The entry is one JSON line's worth of data.
  assert.doesNotThrow(() => JSON.stringify(reported[0]));
});

Deno.test("the batched sink writes rows left waiting for flushIntervalMs", async () => {
  const clock = new FakeClock();
  const { batches, write } = recordingWriter();
  const sink = createBatchedApiLogSink({ write, batchSize: 100, flushIntervalMs: 1_000, clock });
  sink.add(row(1));
  await clock.advance(500);
  sink.add(row(2));
  assert.equal(batches.length, 0);
  await clock.advance(500);
  assert.deepEqual(batches.map((b) => b.length), [2]);
  await sink.flush();
  assert.equal(clock.pendingTimers, 0, "no timer is left behind");
});

Deno.test("createBatchedApiLogSink() rejects a bad batchSize and names the value", () => {
  assert.throws(
    () => createBatchedApiLogSink({ write: () => Promise.resolve(), batchSize: 0 }),
    /`batchSize` must be a positive integer: current value is 0/,
  );
});

Deno.test("createPostgresApiLogWriter() issues one INSERT with every column and params as json", async () => {
  const statements: { strings: readonly string[]; values: unknown[] }[] = [];
  const helperCalls: { rows: Record<string, unknown>[]; columns: string[] }[] = [];
  // Just enough of postgres.js: `sql(rows, ...columns)` builds a helper, `sql\`…\`` runs.
  const fakeSql = (first: unknown, ...rest: unknown[]) => {
    if (Array.isArray(first) && "raw" in first) {
      statements.push({ strings: first as readonly string[], values: rest });
      return Promise.resolve([]);
    }
    const call = { rows: first as Record<string, unknown>[], columns: rest as string[] };
    helperCalls.push(call);
    return call;
  };
  fakeSql.json = (value: unknown) => ({ type: 3802, value });
  const write = createPostgresApiLogWriter(fakeSql as unknown as postgres.Sql);

  await write([]);
  assert.equal(statements.length, 0, "an empty batch sends nothing");

  await write([row(1), row(2, { params: { page: "2" }, http_status: null, error: "timeout" })]);
  assert.equal(statements.length, 1);
  assert.equal(statements[0].strings[0], "insert into public.tmdb_api_logs ");
  assert.equal(statements[0].values[0], helperCalls[0]);
  assert.deepEqual(helperCalls[0].columns, [...API_LOG_COLUMNS]);
  assert.deepEqual(helperCalls[0].rows[1].params, { type: 3802, value: { page: "2" } });
  assert.equal(helperCalls[0].rows[1].error, "timeout");
});

const databaseUrl = Deno.env.get("API_LOG_TEST_DATABASE_URL");

Deno.test({
  name: "createPostgresApiLogWriter() inserts a batch into public.tmdb_api_logs (real Postgres)",
  ignore: databaseUrl === undefined,
  async fn() {
    const sql = postgres(databaseUrl!, { max: 1, onnotice: () => {} });
    const rollback = new Error("rollback");
    try {
      await sql.begin(async (tx) => {
        // Uses the migrated table if present; otherwise a stand-in, rolled back below.
        await tx`create table if not exists public.tmdb_api_logs (
          id bigint generated always as identity primary key,
          created_at timestamptz not null, function_name text not null, run_id text not null,
          method text not null, endpoint text not null, params jsonb not null,
          http_status int, tmdb_status_code int, duration_ms int not null, attempt int not null,
          error text, tmdb_id bigint)`;
        const runId = crypto.randomUUID();
        await createPostgresApiLogWriter(tx as unknown as postgres.Sql)([
          row(1, { run_id: runId }),
          row(2, { run_id: runId, params: { page: "2" }, http_status: null, error: "timeout" }),
        ]);
        const found = await tx`select params, http_status, error, tmdb_id::int as tmdb_id,
            jsonb_typeof(params) as params_type
          from public.tmdb_api_logs where run_id = ${runId} order by tmdb_id`;
        assert.deepEqual(found.map((r) => ({ ...r })), [
          {
            params: { append_to_response: "credits" },
            http_status: 200,
            error: null,
            tmdb_id: 1001,
            params_type: "object",
          },
          {
            params: { page: "2" },
            http_status: null,
            error: "timeout",
            tmdb_id: 1002,
            params_type: "object",
          },
        ]);
        throw rollback;
      });
    } catch (error) {
      if (error !== rollback) throw error;
    } finally {
      await sql.end();
    }
  },
});
