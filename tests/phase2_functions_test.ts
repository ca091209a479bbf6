/**
 * Phase 2 end to end on a running stack (functions host, TMDB stand-in, migrations 016–026):
 * scheduled-ingest called through pg_net, one call_refresh_worker() draining the queue
 * through a chain of runs (under CPU limits of 800 ms and 300 ms), two workers
 * in parallel, and daily-refresh keeping its watermark when the TMDB stand-in fails.
 *
 * Run: `STACK=work bash local/bin/stack start --no-job`, then
 * `STACK_INFO=.stack/work/stack.json node_modules/.bin/deno test -A tests/phase2_functions_test.ts`.
 *
 * The tests pause the stack's cron jobs while they run (a `refresh_worker` firing would
 * claim the items under test) and restore them afterwards.
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import { createPostgresCatalogStore } from "../supabase/functions/_shared/store/catalog.ts";
import { ingestMovies } from "../supabase/functions/_shared/sync/ingest.ts";
import { intArrayLiteral } from "../supabase/functions/_shared/store/ingestion_runs.ts";
import { createTmdbClient } from "../supabase/functions/_shared/tmdb/client.ts";
import { functionCpuBudget } from "../local/lib/stack.ts";
import { startExtraHost } from "./_reliability.ts";
import { connect, eventually, type Json, needsStack, popularIds, stack } from "./_stack.ts";
import { createMemoryLogger } from "../supabase/functions/_shared/testing/memory_logger.ts";

/** The TMDB stand-in's origin (control API at `${origin}/__control/…`). */
function tmdbOrigin(): string {
  return stack!.tmdbUrl.replace(/\/3\/?$/, "");
}

async function setFaults(faults: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${tmdbOrigin()}/__control/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(faults),
  });
  assert.equal(res.status, 200, await res.text());
}

async function standinControl(path: string, method = "GET"): Promise<Json> {
  const res = await fetch(`${tmdbOrigin()}/__control/${path}`, { method });
  assert.equal(res.status, 200);
  return await res.json();
}

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
  const jobs = await sql<{ jobid: string }[]>`
    select jobid from cron.job where active`;
  for (const { jobid } of jobs) await sql`select cron.alter_job(${jobid}::bigint, active => false)`;
  try {
    return await fn();
  } finally {
    for (const { jobid } of jobs) {
      await sql`select cron.alter_job(${jobid}::bigint, active => true)`;
    }
  }
}

/** Makes sure every id is a work in the catalog (ingesting the missing ones in-process). */
async function ensureIngested(sql: postgres.Sql, ids: number[]): Promise<void> {
  const rows = await sql<{ tmdb_id: number; state: string }[]>`
    select tmdb_id, state from public.classify_tmdb_ids(${intArrayLiteral(ids)}::integer[])`;
  const missing = rows.filter((r) => r.state === "new").map((r) => r.tmdb_id);
  if (missing.length === 0) return;
  const tmdb = createTmdbClient({
    baseUrl: stack!.tmdbUrl,
    accessToken: stack!.tmdbToken!,
    callerName: "phase2-test",
    runId: crypto.randomUUID(),
  });
  const summary = await ingestMovies(missing, {
    tmdb,
    store: createPostgresCatalogStore(sql),
    logger: createMemoryLogger({ fn: "phase2-test" }),
    run: { runId: null, functionName: "phase2-test" },
    concurrency: 16,
  });
  assert.equal(summary.failed.length, 0, JSON.stringify(summary.failed.slice(0, 3)));
  assert.equal(summary.inserted + summary.updated + summary.unchanged, missing.length);
}

/**
 * Empties the active part of the queue and queues `ids` afresh, due for a refetch. Returns
 * the time just before they were queued (to tell their rows from earlier runs').
 */
async function queueForRefresh(sql: postgres.Sql, ids: number[]): Promise<Date> {
  // A run started before the caller paused cron (a firing at the 10-minute mark) would claim
  // the items under test: wait until none is in flight.
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
  await sql`
    update public.works set last_refreshed_at = now() - interval '30 days'
     where tmdb_id = any(${intArrayLiteral(ids)}::integer[])`;
  const [{ n }] = await sql<{ n: number }[]>`
    select public.enqueue_refresh(
      array(select id from public.works where tmdb_id = any(${intArrayLiteral(ids)}::integer[])),
      'manual',
      100::smallint
    ) as n`;
  assert.equal(n, ids.length);
  return since;
}

interface QueueRow {
  tmdb_id: number;
  status: string;
  retry_count: number;
  locked_by: string | null;
  result: string | null;
}

async function queueRows(sql: postgres.Sql, ids: number[], since: Date): Promise<QueueRow[]> {
  return await sql<QueueRow[]>`
    select w.tmdb_id, q.status, q.retry_count, q.locked_by, q.result
      from public.refresh_queue q
      join public.works w on w.id = q.work_id
     where w.tmdb_id = any(${intArrayLiteral(ids)}::integer[])
       and q.queued_at >= ${since}
     order by q.id`;
}

// ---------------------------------------------------------------------------------------

Deno.test({
  name: "call_scheduled_ingest('mixed_daily', 5, 'manual') goes through pg_net and ingests 5 works",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      await setFaults({});
      await withCronPaused(sql, async () => {
        const [{ request_id }] = await sql<{ request_id: string }[]>`
          select public.call_scheduled_ingest('mixed_daily', 5, 'manual') as request_id`;
        assert.ok(request_id !== null);
        const run = await eventually(
          async () => {
            const [r] = await sql`
            select * from public.edge_function_runs
             where request_id = ${request_id} and state <> 'queued'`;
            return r;
          },
          "the scheduled-ingest response",
          150_000,
        );
        assert.equal(run.state, "done", JSON.stringify(run.response_text));
        assert.equal(run.status_code, 200);
        assert.equal(run.function_name, "scheduled-ingest");
        const summary = run.response;
        assert.equal(summary.run_id, run.run_id);
        assert.equal(summary.source, "mixed_daily");
        assert.equal(summary.limit, 5);
        assert.equal(summary.trigger, "manual");
        assert.equal(summary.candidates, 5);
        assert.equal(summary.ingested, 5);
        assert.deepEqual(summary.failed, []);
        assert.equal(summary.status, "succeeded");
        assert.ok(summary.pages_fetched >= 1);
        assert.ok(summary.found >= 5);

        const [log] = await sql`
          select * from public.scheduled_ingestion_log where run_id = ${run.run_id}`;
        assert.equal(log.source, "mixed_daily");
        assert.equal(log.trigger, "manual");
        assert.equal(log.requested, 5);
        assert.equal(log.status, "succeeded");
        assert.equal(log.ingested, 5);
        assert.equal(log.found, summary.found);
        assert.equal(log.skipped_fresh, summary.skipped_fresh);
        assert.equal(log.error, null);
        assert.ok(log.finished_at !== null);

        // The 5 movies fetched by this run are in the catalog, refreshed just now.
        const fetched = await sql<{ tmdb_id: number }[]>`
          select distinct tmdb_id from public.tmdb_api_logs
           where run_id = ${run.run_id} and endpoint = '/movie/{id}' and http_status = 200`;
        assert.equal(fetched.length, 5);
        const [{ n }] = await sql<{ n: number }[]>`
          select count(*)::int as n from public.works
           where tmdb_id = any(${intArrayLiteral(fetched.map((f) => f.tmdb_id))}::integer[])
             and last_refreshed_at > now() - interval '5 minutes'`;
        assert.equal(n, 5);
      });
    } finally {
      await sql.end();
    }
  },
});

/**
 * Drains `ids` through one `call_refresh_worker()` and the chain of runs it starts, waiting
 * until the last run answered. Returns every run of the chain (edge_function_runs, in order).
 */
async function drainThroughChain(sql: postgres.Sql, ids: number[], timeoutMs: number) {
  const since = await queueForRefresh(sql, ids);
  await standinControl("reset", "POST");
  const [{ request_id }] = await sql<{ request_id: string }[]>`
    select public.call_refresh_worker() as request_id`;
  const [{ run_id: first }] = await sql<{ run_id: string }[]>`
    select run_id::text from public.edge_function_invocations where request_id = ${request_id}`;
  try {
    await eventually(
      async () => {
        const [{ open, in_flight }] = await sql<{ open: number; in_flight: number }[]>`
        select (select count(*)::int from public.refresh_queue
                 where status in ('pending', 'processing') and queued_at >= ${since}) as open,
               public.refresh_worker_runs_in_flight() as in_flight`;
        return open === 0 && in_flight === 0 ? true : null;
      },
      "the chain to drain the queue and its last run to answer",
      timeoutMs,
    );
  } catch (error) {
    // Leave no backlog behind: a chain still running, or cron once resumed, would go on
    // refreshing these movies while later tests run and expect a quiet catalog.
    await sql`delete from public.refresh_queue
               where status in ('pending', 'processing') and queued_at >= ${since}`;
    throw error;
  }
  const runs = await sql<Json[]>`
    select r.trigger, r.run_id::text as run_id, r.status_code, r.response, r.body
      from (select i.trigger, i.run_id, i.body, e.status_code, e.response, i.id
              from public.edge_function_invocations i
              join public.edge_function_runs e on e.request_id = i.request_id
             where i.function_name = 'refresh-worker' and i.invoked_at >= ${since}) r
     order by r.id`;
  return { since, first, runs };
}

/** The checks every drained chain must pass: nothing lost, nothing twice, no 546. */
async function assertChainDrained(
  sql: postgres.Sql,
  ids: number[],
  chain: Awaited<ReturnType<typeof drainThroughChain>>,
) {
  const { since, first, runs } = chain;
  assert.equal(runs[0].run_id, first);
  assert.equal(runs[0].trigger, "manual");
  for (const [i, run] of runs.entries()) {
    assert.equal(run.status_code, 200, `run ${i + 1} answered ${run.status_code}`);
    assert.deepEqual(run.response.chain, { id: first, link: i + 1 });
    if (i > 0) {
      assert.equal(run.trigger, "continuation");
      assert.equal(run.body.chain_id, first);
      assert.equal(run.body.chain_link, i + 1);
    }
    if (i < runs.length - 1) {
      assert.ok(
        ["cpu_budget", "budget"].includes(run.response.stopped_because),
        `run ${i + 1} stopped for ${run.response.stopped_because}`,
      );
      assert.equal(run.response.continuation.reason, "queued");
      assert.equal(run.response.continuation.run_id, runs[i + 1].run_id);
    }
  }
  // The last run found the queue empty, or stopped for its budget just as it emptied it.
  const last = runs.at(-1).response;
  if (last.stopped_because !== "queue_empty") {
    assert.deepEqual(last.continuation, { continued: false, reason: "queue_empty" });
  }
  const claimed = runs.reduce((a: number, r: Json) => a + r.response.claimed, 0);
  assert.equal(claimed, ids.length, "every item claimed once over the chain");

  const rows = await queueRows(sql, ids, since);
  assert.equal(rows.length, ids.length);
  for (const r of rows) {
    assert.equal(r.status, "completed", JSON.stringify(r));
    assert.equal(r.retry_count, 1, `claimed once: ${JSON.stringify(r)}`);
  }
  // One TMDB request per movie, none twice.
  const stats = await standinControl("stats");
  assert.equal(stats.byEndpoint["/movie/{id}"], ids.length);
  for (const id of ids) assert.equal(stats.byMovieId[String(id)], 1, `movie ${id}`);
}

/**
 * Runs `fn` with the stack's project URL (Vault `project_url`) pointed at an extra functions
 * host with these limits and function env, so cron and chain continuations reach it; returns
 * the lines of the host's log that name a breached limit.
 */
async function withChainHost(
  sql: postgres.Sql,
  label: string,
  env: Record<string, string>,
  limits: { cpuLimitMs?: number },
  fn: () => Promise<void>,
): Promise<string[]> {
  const host = await startExtraHost(label, env, limits);
  const admin = connect("supabase_admin");
  const setUrl = (value: string) =>
    admin`select vault.update_secret(
            (select id from vault.decrypted_secrets where name = 'project_url'), ${value})`;
  try {
    const [{ url }] = await sql<{ url: string }[]>`select public.get_supabase_url() as url`;
    await setUrl(host.url);
    try {
      await fn();
    } finally {
      await setUrl(url);
    }
    return (await Deno.readTextFile(host.logFile)).split("\n")
      .filter((l) => l.includes('"limit"'));
  } finally {
    await host.close();
    await admin.end();
  }
}

/**
 * The functions host's CPU limit in the first chain test. Under hosted's 2 s, how many runs
 * 1,500 movies take depends on the machine's speed (a run's budget is 1,400 ms and a movie
 * costs ~1 ms); at 800 ms (budget 600 ms, a process retires at 400 ms) they take several
 * runs on any machine this suite runs on, and each run still does real work.
 */
const CHAIN_TEST_CPU_LIMIT_MS = 800;

Deno.test({
  name:
    "one call_refresh_worker() drains the queue through a chain of runs, each within the CPU limit: nothing lost, nothing twice, no 546",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      await setFaults({});
      const ids = await popularIds(1500);
      await ensureIngested(sql, ids);
      await withCronPaused(sql, async () => {
        const breaches = await withChainHost(
          sql,
          "chain",
          functionCpuBudget(CHAIN_TEST_CPU_LIMIT_MS),
          { cpuLimitMs: CHAIN_TEST_CPU_LIMIT_MS },
          async () => {
            const chain = await drainThroughChain(sql, ids, 150_000);
            assert.ok(chain.runs.length >= 2, `a chain of ${chain.runs.length} run(s)`);
            await assertChainDrained(sql, ids, chain);
            for (const run of chain.runs) {
              assert.ok(
                run.response.cpu_ms < CHAIN_TEST_CPU_LIMIT_MS,
                `a run's process used ${run.response.cpu_ms} ms of CPU`,
              );
            }
          },
        );
        assert.deepEqual(breaches, [], "no function hit the host's limits");
      });
    } finally {
      await sql.end();
    }
  },
});

Deno.test({
  name:
    "under a functions host CPU limit of 300 ms the same chain still drains the queue, in more runs, with no 546",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      await setFaults({});
      const ids = await popularIds(300);
      await ensureIngested(sql, ids);
      await withCronPaused(sql, async () => {
        const breaches = await withChainHost(
          sql,
          "cpu300",
          functionCpuBudget(300),
          { cpuLimitMs: 300 },
          async () => {
            const chain = await drainThroughChain(sql, ids, 150_000);
            assert.ok(chain.runs.length >= 3, `a chain of ${chain.runs.length} run(s)`);
            await assertChainDrained(sql, ids, chain);
          },
        );
        assert.deepEqual(breaches, [], "no function hit the host's limits");
      });
    } finally {
      await sql.end();
    }
  },
});

Deno.test({
  name: "two refresh-workers invoked in parallel never process one item twice",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      await setFaults({});
      const ids = (await popularIds(1300)).slice(1000); // other movies than the 1,000 above
      await ensureIngested(sql, ids);
      await withCronPaused(sql, async () => {
        const since = await queueForRefresh(sql, ids);
        await standinControl("reset", "POST");
        const [a, b] = await Promise.all([
          invoke("refresh-worker", { batch_size: 5 }),
          invoke("refresh-worker", { batch_size: 5 }),
        ]);
        assert.equal(a.status, 200, JSON.stringify(a.body));
        assert.equal(b.status, 200, JSON.stringify(b.body));
        assert.notEqual(a.body.worker_id, b.body.worker_id);
        assert.equal(a.body.claimed + b.body.claimed, ids.length);
        assert.equal(a.body.lost_lease + b.body.lost_lease, 0);

        const rows = await queueRows(sql, ids, since);
        assert.equal(rows.length, ids.length);
        const byWorker = new Map<string, number>();
        for (const r of rows) {
          assert.equal(r.status, "completed");
          assert.equal(r.retry_count, 1, `claimed once: ${JSON.stringify(r)}`);
          byWorker.set(r.locked_by!, (byWorker.get(r.locked_by!) ?? 0) + 1);
        }
        assert.equal(byWorker.get(a.body.worker_id), a.body.claimed);
        assert.equal(byWorker.get(b.body.worker_id), b.body.claimed);
        const stats = await standinControl("stats");
        for (const id of ids) assert.equal(stats.byMovieId[String(id)], 1, `movie ${id}`);
      });
    } finally {
      await sql.end();
    }
  },
});

Deno.test({
  name: "daily-refresh keeps the watermark when the stand-in fails a page, and advances it after",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      await withCronPaused(sql, async () => {
        const [{ wm }] = await sql<{ wm: Date }[]>`
          select date_trunc('second', now() - interval '2 days') as wm`;
        await sql`
          insert into public.sync_state (key, changes_watermark)
          values ('tmdb_movie_changes', ${wm})
          on conflict (key) do update
             set changes_watermark = excluded.changes_watermark, last_error = null`;
        const [before] = await sql`
          select last_sync_at from public.sync_state where key = 'tmdb_movie_changes'`;

        // Every request fails (5xx), also after the client's retries.
        await setFaults({ errorRate5xx: 1 });
        let failed;
        try {
          failed = await invoke("daily-refresh", { limit: 10 });
        } finally {
          await setFaults({});
        }
        assert.equal(failed.status, 200, JSON.stringify(failed.body));
        assert.equal(failed.body.changes.complete, false);
        assert.equal(failed.body.changes.watermark_advanced, false);
        assert.match(failed.body.changes.error, /\/movie\/changes/);
        const [afterFail] = await sql`
          select changes_watermark, last_sync_at, last_error, last_run_id
            from public.sync_state where key = 'tmdb_movie_changes'`;
        assert.equal(afterFail.changes_watermark.getTime(), wm.getTime(), "watermark kept");
        assert.ok(afterFail.last_error !== null);
        assert.equal(afterFail.last_run_id, failed.body.run_id);
        assert.ok(
          before.last_sync_at === null ||
            afterFail.last_sync_at.getTime() > before.last_sync_at.getTime(),
        );

        // Without faults the same range is read completely and the watermark moves to now.
        const ok = await invoke("daily-refresh", { limit: 10 });
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.equal(ok.body.changes.complete, true);
        assert.equal(ok.body.changes.from, wm.toISOString());
        assert.ok(ok.body.changes.pages >= 1);
        const [afterOk] = await sql`
          select changes_watermark, last_error from public.sync_state
           where key = 'tmdb_movie_changes'`;
        assert.equal(afterOk.last_error, null);
        assert.equal(afterOk.changes_watermark.toISOString(), ok.body.changes.to);
        assert.ok(afterOk.changes_watermark.getTime() > wm.getTime());
        assert.ok(ok.body.enqueued <= 10);
      });
    } finally {
      await setFaults({}).catch(() => {});
      await sql.end();
    }
  },
});

/** Sets the shared TMDB bucket (migration 027) for `fn`, then restores it. */
async function withTmdbRate<T>(
  sql: postgres.Sql,
  rate: { perSecond: number; burst: number },
  fn: () => Promise<T>,
): Promise<T> {
  const [saved] = await sql<{ requests_per_second: string; burst: number }[]>`
    select requests_per_second, burst from public.tmdb_rate_limit`;
  await sql`
    update public.tmdb_rate_limit
       set requests_per_second = ${rate.perSecond}, burst = ${rate.burst}, tokens = 0,
           refilled_at = clock_timestamp(), paused_until = null`;
  try {
    return await fn();
  } finally {
    await sql`
      update public.tmdb_rate_limit
         set requests_per_second = ${saved.requests_per_second}::numeric,
             burst = ${saved.burst}, paused_until = null`;
  }
}

/** Invokes `n` refresh-workers at once; every one must answer 200. */
async function refreshWorkersAtOnce(n: number): Promise<Json[]> {
  const answers = await Promise.all(
    Array.from({ length: n }, () => invoke("refresh-worker", { batch_size: 5 })),
  );
  for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
  return answers.map((a) => a.body);
}

Deno.test({
  name:
    "eight refresh-workers draining one queue together never exceed the one TMDB rate limit (rate plus burst in any second)",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      await setFaults({});
      const ids = (await popularIds(1540)).slice(1300);
      await ensureIngested(sql, ids);
      await withCronPaused(sql, () =>
        withTmdbRate(sql, { perSecond: 20, burst: 4 }, async () => {
          const since = await queueForRefresh(sql, ids);
          await standinControl("reset", "POST");
          const started = performance.now();
          const runs = await refreshWorkersAtOnce(8);
          const seconds = (performance.now() - started) / 1000;

          assert.equal(runs.reduce((a, r) => a + r.claimed, 0), ids.length);
          assert.ok(runs.filter((r) => r.claimed > 0).length >= 4, "the work was shared");
          const rows = await queueRows(sql, ids, since);
          assert.ok(rows.every((r) => r.status === "completed"), "every item completed");
          const stats = await standinControl("stats");
          assert.equal(stats.byEndpoint["/movie/{id}"], ids.length);
          assert.equal(stats.rateLimited, 0, "no 429 from the stand-in's bucket");
          // 20 a second plus a burst of 4: the bucket grants at most 24 in any second. The
          // stand-in counts arrivals, which trail their grants by each process's scheduling
          // delay (up to ~250 ms on a loaded 2-core machine): 24 + 20 × 0.25 = 29. Each
          // process alone (the old per-process limiter) would have allowed 8 × 40 a second.
          assert.ok(stats.busiestSecond <= 29, `${stats.busiestSecond} requests in one second`);
          // … so 240 requests need at least (240 - 4) / 20 = 11.8 s, whatever the workers.
          assert.ok(seconds >= 11, `drained in ${seconds.toFixed(1)} s`);
        }));
    } finally {
      await sql.end();
    }
  },
});

Deno.test({
  name: "a 429 with Retry-After seen by one refresh-worker pauses every worker sharing the limit",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      const ids = (await popularIds(1660)).slice(1540);
      await ensureIngested(sql, ids);
      await withCronPaused(sql, async () => {
        const since = await queueForRefresh(sql, ids);
        await standinControl("reset", "POST");
        // About one request in 25 answered 429 with `Retry-After: 2`.
        await setFaults({ rate429: 0.04, retryAfterSeconds: 2, seed: 7 });
        let runs: Json[];
        try {
          runs = await refreshWorkersAtOnce(4);
        } finally {
          await setFaults({});
        }
        assert.equal(runs.reduce((a, r) => a + r.claimed, 0), ids.length);
        const rows = await queueRows(sql, ids, since);
        assert.ok(
          rows.every((r) => r.status === "completed"),
          "every item completed after retries",
        );

        // Every attempt of these runs, with when it started and (for a 429) when it ended.
        const runIds = runs.map((r) => r.run_id);
        const attempts = await sql<{ at: number; until: number; status: number | null }[]>`
          select extract(epoch from created_at) * 1000 as at,
                 extract(epoch from created_at) * 1000 + duration_ms as until,
                 http_status as status
            from public.tmdb_api_logs
           where run_id = any(${runIds}::uuid[]) and endpoint = '/movie/{id}'
           order by created_at`;
        const limited = attempts.filter((a) => a.status === 429);
        assert.ok(limited.length >= 2, `${limited.length} 429s`);
        assert.ok(
          new Set(runs.filter((r) => r.claimed > 0).map((r) => r.run_id)).size >= 2,
          "more than one worker took part",
        );
        // After a 429 is answered, no worker (the one that saw it or any other) starts a
        // request until Retry-After has passed; a margin covers requests already granted.
        for (const hit of limited) {
          const during = attempts.filter((a) =>
            a.at > Number(hit.until) + 150 && a.at < Number(hit.until) + 2_000 - 50
          );
          assert.deepEqual(during, [], `requests during the pause after the 429 at ${hit.at}`);
        }
      });
    } finally {
      await setFaults({}).catch(() => {});
      await sql.end();
    }
  },
});

Deno.test({
  name:
    "a cron firing with a backlog starts max_chains chains that drain it together, within the one TMDB rate",
  ...needsStack(),
  async fn() {
    const sql = connect();
    try {
      await setFaults({});
      const ids = (await popularIds(1960)).slice(1660);
      await ensureIngested(sql, ids);
      await withCronPaused(sql, async () => {
        const [saved] = await sql<{ max_chains: number }[]>`
          select max_chains from public.refresh_worker_settings`;
        await sql`update public.refresh_worker_settings set max_chains = 2`;
        try {
          const since = await queueForRefresh(sql, ids);
          await standinControl("reset", "POST");
          const [{ first }] = await sql<{ first: string | null }[]>`
            select public.call_refresh_worker('cron')::text as first`;
          assert.notEqual(first, null, "the firing started runs");
          await eventually(
            async () => {
              const [{ open, in_flight }] = await sql<{ open: number; in_flight: number }[]>`
                select (select count(*)::int from public.refresh_queue
                         where status in ('pending', 'processing') and queued_at >= ${since}) as open,
                       public.refresh_worker_runs_in_flight() as in_flight`;
              return open === 0 && in_flight === 0 ? true : null;
            },
            "both chains to drain the queue",
            150_000,
          );
          const runs = await sql<{ trigger: string; chain: string; claimed: number }[]>`
            select i.trigger, coalesce(i.body ->> 'chain_id', i.run_id::text) as chain,
                   (e.response ->> 'claimed')::int as claimed
              from public.edge_function_invocations i
              join public.edge_function_runs e on e.request_id = i.request_id
             where i.function_name = 'refresh-worker' and i.invoked_at >= ${since}`;
          assert.equal(runs.filter((r) => r.trigger === "cron").length, 2, "two chains started");
          assert.equal(new Set(runs.map((r) => r.chain)).size, 2);
          assert.equal(runs.reduce((a, r) => a + r.claimed, 0), ids.length, "each item once");
          const rows = await queueRows(sql, ids, since);
          assert.ok(rows.every((r) => r.status === "completed" && r.retry_count === 1));
          const stats = await standinControl("stats");
          assert.equal(stats.rateLimited, 0, "no 429 from the stand-in");
          // 40 a second plus a burst of 8, and up to ~250 ms of scheduling delay (see above).
          assert.ok(stats.busiestSecond <= 58, `${stats.busiestSecond} requests in one second`);
        } finally {
          await sql`update public.refresh_worker_settings set max_chains = ${saved.max_chains}`;
        }
      });
    } finally {
      await sql.end();
    }
  },
});
