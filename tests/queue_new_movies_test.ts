/**
 * Movies queued as new (029): refresh-worker fetches them by tmdb_id, an answer inserts the
 * work, and an id TMDB does not know (404) finishes not_found without creating a work.
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import { intArrayLiteral } from "../supabase/functions/_shared/store/ingestion_runs.ts";
import { connect, eventually, type Json, needsStack, popularIds, stack } from "./_stack.ts";

/** The stand-in's id range starts at 2: id 1 never exists (404 / 34). */
const UNKNOWN_ID = 1;

/** POSTs `body` to a function with the service-role key; returns status and JSON body. */
async function invoke(name: string, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${stack!.functionsUrl}/${name}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${stack!.serviceRoleKey}`,
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(160_000),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    throw new Error(`${name} answered ${res.status} with non-JSON: ${text.slice(0, 500)}`);
  }
}

/** Runs `fn` with every active cron job paused, then restores them. */
async function withCronPaused<T>(sql: postgres.Sql, fn: () => Promise<T>): Promise<T> {
  const jobs = await sql<{ jobid: string }[]>`select jobid from cron.job where active`;
  for (const { jobid } of jobs) await sql`select cron.alter_job(${jobid}::bigint, active => false)`;
  try {
    return await fn();
  } finally {
    for (const { jobid } of jobs) {
      await sql`select cron.alter_job(${jobid}::bigint, active => true)`;
    }
  }
}

Deno.test({
  name:
    "refresh-worker ingests movies queued as new by tmdb_id, and a 404 new id ends not_found with no work",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      await withCronPaused(sql, async () => {
        // Movies the stand-in has and the catalog lacks.
        const candidates = await popularIds(60, 20);
        const classified = await sql<{ tmdb_id: number; state: string }[]>`
          select tmdb_id, state from public.classify_tmdb_ids(
            ${intArrayLiteral([...candidates, UNKNOWN_ID])}::integer[])`;
        const fresh = classified.filter((r) => r.state === "new").map((r) => r.tmdb_id);
        assert.ok(fresh.includes(UNKNOWN_ID), "id 1 is not in the catalog");
        const known = fresh.filter((id) => id !== UNKNOWN_ID).slice(0, 3);
        assert.equal(known.length, 3, `three stand-in movies not in the catalog: ${fresh}`);
        const ids = [...known, UNKNOWN_ID];

        // Only these rows are ready: no run in flight, nothing else active.
        await eventually(
          async () => {
            const [{ n }] = await sql<{ n: number }[]>`
              select public.refresh_worker_runs_in_flight() as n`;
            return n === 0 ? true : null;
          },
          "no refresh-worker run in flight",
          160_000,
        );
        await sql`delete from public.refresh_queue where status in ('pending', 'processing')`;
        const [{ since }] = await sql<{ since: Date }[]>`select clock_timestamp() as since`;
        const [{ queued }] = await sql<{ queued: number }[]>`
          select public.enqueue_new_movies(
            ${intArrayLiteral(ids)}::bigint[], array[50, 5, 0.5, 1]::double precision[]
          ) as queued`;
        assert.equal(queued, 4);

        const { status, body } = await invoke("refresh-worker", { batch_size: 5 });
        assert.equal(status, 200, JSON.stringify(body));

        const rows = await sql<
          { tmdb_id: number; reason: string; status: string; result: string | null }[]
        >`
          select q.tmdb_id, q.reason, q.status, q.result
            from public.refresh_queue q
           where q.tmdb_id = any(${intArrayLiteral(ids)}::integer[]) and q.queued_at >= ${since}
           order by q.tmdb_id`;
        assert.deepEqual(
          [...rows],
          [...ids].sort((a, b) => a - b).map((id) => ({
            tmdb_id: id,
            reason: "new",
            status: "completed",
            result: id === UNKNOWN_ID ? "not_found" : "refreshed",
          })),
        );
        const works = await sql<{ tmdb_id: number; title: string }[]>`
          select tmdb_id, title from public.works
           where tmdb_id = any(${intArrayLiteral(ids)}::integer[]) order by tmdb_id`;
        assert.deepEqual(works.map((w) => w.tmdb_id), [...known].sort((a, b) => a - b));
        for (const w of works) assert.ok(w.title.length > 0, `work ${w.tmdb_id} has a title`);
      });
    } finally {
      await sql.end();
    }
  },
});
