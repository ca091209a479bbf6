/**
 * Where SQL and TypeScript must agree: what the `call_*()` functions accept and the bodies
 * they queue for pg_net, against the schemas and bounds of the functions that receive them.
 * Each call runs in a transaction that is rolled back, so nothing is sent.
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import { dailyRefreshBodySchema } from "../supabase/functions/daily-refresh/handler.ts";
import { discoverMoviesBodySchema } from "../supabase/functions/discover-movies/handler.ts";
import { refreshWorkerBodySchema } from "../supabase/functions/refresh-worker/handler.ts";
import {
  LIMIT,
  scheduledIngestBodySchema,
  SOURCE_NAMES,
} from "../supabase/functions/scheduled-ingest/handler.ts";
import { DRIFT_KINDS } from "../supabase/functions/_shared/tmdb/policy.ts";
import { connect, needsStack } from "./_stack.ts";

const ROLLBACK = new Error("rollback");

/** Runs `call` (a SQL expression returning a pg_net request id) and returns the body it queued. */
async function queuedBody(
  sql: postgres.Sql,
  call: (tx: postgres.TransactionSql) => Promise<
    { id: string | null }[]
  >,
): Promise<unknown> {
  let body: unknown;
  await sql.begin(async (tx) => {
    const [{ id }] = await call(tx);
    assert.notEqual(id, null, "a request was queued");
    const [row] = await tx<{ body: string }[]>`
      select convert_from(body, 'UTF8') as body from net.http_request_queue where id = ${id}`;
    body = JSON.parse(row.body);
    throw ROLLBACK;
  }).catch((error) => {
    if (error !== ROLLBACK) throw error;
  });
  return body;
}

/** The SQLSTATE a statement fails with (in a rolled-back transaction), or null. */
async function sqlState(sql: postgres.Sql, run: (tx: postgres.TransactionSql) => Promise<unknown>) {
  let state: string | null = null;
  await sql.begin(async (tx) => {
    await run(tx);
    throw ROLLBACK;
  }).catch((error) => {
    if (error !== ROLLBACK) state = (error as { code?: string }).code ?? "unknown";
  });
  return state;
}

Deno.test({
  name:
    "call_scheduled_ingest() accepts exactly the sources and limits scheduled-ingest accepts, and queues a body its schema parses",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      for (const source of SOURCE_NAMES) {
        for (const limit of [LIMIT.min, LIMIT.max]) {
          const body = await queuedBody(
            sql,
            (tx) => tx`select public.call_scheduled_ingest(${source}, ${limit}, 'manual') as id`,
          );
          const parsed = scheduledIngestBodySchema.safeParse(body);
          assert.ok(parsed.success, `${source}/${limit}: ${JSON.stringify(body)}`);
          assert.equal(parsed.data.source, source);
          assert.equal(parsed.data.limit, limit);
        }
      }
      for (const limit of [LIMIT.min - 1, LIMIT.max + 1]) {
        assert.equal(
          await sqlState(sql, (tx) => tx`select public.call_scheduled_ingest('popular', ${limit})`),
          "22023",
          `limit ${limit} refused in SQL as in the function`,
        );
      }
      assert.equal(
        await sqlState(sql, (tx) => tx`select public.call_scheduled_ingest('upcoming', 10)`),
        "22023",
        "a source the function does not know is refused in SQL",
      );
      // And nothing more: the list SQL checks against is the function's list.
      const [{ def }] = await sql<{ def: string }[]>`
        select pg_get_functiondef('public.call_scheduled_ingest(text, integer, text)'::regprocedure)
          as def`;
      const list = /c_sources\s+constant\s+text\[\]\s*:=\s*array\[([^\]]*)\]/i.exec(def);
      assert.ok(list, "call_scheduled_ingest() keeps its sources in c_sources");
      const sqlSources = [...list[1].matchAll(/'([a-z_]+)'/g)].map((m) => m[1]).sort();
      assert.deepEqual(sqlSources, [...SOURCE_NAMES].sort());
    } finally {
      await sql.end();
    }
  },
});

Deno.test({
  name: "call_daily_refresh() and call_refresh_worker() queue bodies the functions' schemas parse",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      const daily = await queuedBody(sql, (tx) => tx`select public.call_daily_refresh() as id`);
      assert.ok(dailyRefreshBodySchema.safeParse(daily).success, JSON.stringify(daily));
      // refresh-worker: the cron call skips while a chain runs; pause nothing, just call it.
      const worker = await queuedBody(
        sql,
        (tx) => tx`select public.call_refresh_worker() as id`,
      );
      assert.ok(refreshWorkerBodySchema.safeParse(worker).success, JSON.stringify(worker));
    } finally {
      await sql.end();
    }
  },
});

Deno.test({
  name:
    "call_discover_movies() and continue_discover_movies() queue bodies discover-movies' schema parses",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      const cron = await queuedBody(
        sql,
        (tx) => tx`select public.call_discover_movies('cron') as id`,
      );
      const parsed = discoverMoviesBodySchema.safeParse(cron);
      assert.ok(parsed.success, JSON.stringify(cron));
      assert.equal(parsed.data.trigger, "cron");
      assert.equal(parsed.data.job_name, "discover_movies");
      // A continuation needs an import in progress: one is started inside the transaction.
      const next = await queuedBody(sql, async (tx) => {
        await tx`select public.discover_import('2026-01-01', null, null)`;
        return await tx`
          select (public.continue_discover_movies(
            gen_random_uuid(), gen_random_uuid(), 3,
            '{"budget_ms": 5000, "step_rows": 1000, "segment_kb": 64, "cpu_budget_ms": 900}'
          ) ->> 'request_id')::bigint as id`;
      });
      const cont = discoverMoviesBodySchema.safeParse(next);
      assert.ok(cont.success, JSON.stringify(next));
      assert.equal(cont.data.trigger, "continuation");
      assert.equal(cont.data.chain_link, 4);
    } finally {
      await sql.end();
    }
  },
});

Deno.test({
  name: "the drift kinds the functions count are exactly those tmdb_payload_drift accepts",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      const [{ def }] = await sql<{ def: string }[]>`
        select pg_get_constraintdef(oid) as def from pg_constraint
         where conname = 'tmdb_payload_drift_kind_check'`;
      const kinds = [...def.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]).sort();
      assert.deepEqual(kinds, [...DRIFT_KINDS].sort());
    } finally {
      await sql.end();
    }
  },
});
