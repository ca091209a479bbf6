/**
 * Reliability, scenario 3 (docs/reliability.md): crashes. Nothing queued is lost.
 *
 * 1. The functions host is killed with SIGKILL (its whole process group, so the
 *    refresh-worker process dies mid-batch) while a `call_refresh_worker()` run holds items,
 *    2 times (heavy 5), and restarted each time. Time passing is injected: the killed run's
 *    leases (140 s for the default budget) are moved into the past instead of waited for.
 * 2. PostgreSQL is stopped (`pg_ctl stop -m fast`) and started again during a run.
 * 3. The pg_net worker is stopped while requests are queued, then started again.
 *
 * Afterwards every item is `completed` or `failed` (with its error), `retry_count` never
 * exceeds `max_retries`, and `edge_function_runs` tells each call's story: `error` for the
 * killed calls, `queued` while pg_net was down, `done` / 200 for the rest.
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import { loadOrCreateKeys } from "../local/lib/keys.ts";
import { serverRunning, startServer, stopServer } from "../local/lib/pg_cluster.ts";
import { isAlive, portOpen, readPid, waitFor } from "../local/lib/procs.ts";
import { type ServiceName, stackInfo, startService, stopService } from "../local/lib/stack.ts";
import {
  cfg,
  control,
  ingestThroughFunction,
  report,
  size,
  sleep,
  waitForRun,
  withIsolatedQueue,
} from "./_reliability.ts";
import { connect, needsStack, popularIds } from "./_stack.ts";

async function ensureService(service: ServiceName): Promise<void> {
  const c = cfg();
  const keys = await loadOrCreateKeys(c.keysFile);
  await startService(c, await stackInfo(c, keys), keys, service);
}

/** Puts the stack back the way the next test expects it: every process up, no faults. */
async function healStack(): Promise<void> {
  const c = cfg();
  if (!(await serverRunning(c))) await startServer(c);
  for (const s of ["pg_net_worker", "tmdb_standin", "functions_host"] as const) {
    await ensureService(s);
  }
  await control("faults", {}).catch(() => {});
}

/** Queues `ids` (ingested first, faults off) and returns their work ids. */
async function queueMovies(sql: postgres.Sql, ids: number[]): Promise<number[]> {
  await control("faults", {});
  await ingestThroughFunction(ids);
  const works = await sql`select id from public.works where tmdb_id = any(${ids})`;
  assert.equal(works.length, ids.length);
  const workIds = works.map((w) => Number(w.id));
  await sql`delete from public.refresh_queue where work_id = any(${workIds})`;
  await sql`select public.enqueue_refresh(${workIds}::bigint[])`;
  return workIds;
}

async function waitProcessing(sql: postgres.Sql, workIds: number[]): Promise<number> {
  let held = 0;
  await waitFor(
    async () => {
      const [r] = await sql`select count(*)::int as n from public.refresh_queue
                           where work_id = any(${workIds}) and status = 'processing'`;
      held = r.n;
      return held > 0;
    },
    "no item was claimed by the refresh worker",
    60_000,
  );
  return held;
}

/** The lease of every item a dead worker holds runs out (time passing, injected). */
async function expireLeases(sql: postgres.Sql, workIds: number[]): Promise<number> {
  const rows = await sql`update public.refresh_queue
                            set lease_expires_at = now() - interval '1 second'
                          where work_id = any(${workIds}) and status = 'processing'
                         returning id`;
  return rows.length;
}

/**
 * Runs `call_refresh_worker()` through pg_net until every item is final, injecting the
 * passing of time (backoff over, dead holders' leases expired) between runs. Every one of
 * these calls must end `done` / 200.
 */
async function drain(sql: postgres.Sql, workIds: number[]): Promise<number> {
  let calls = 0;
  for (; calls < 10; calls++) {
    const [open] = await sql`select count(*)::int as n from public.refresh_queue
                              where work_id = any(${workIds}) and status in ('pending', 'processing')`;
    if (open.n === 0) return calls;
    await expireLeases(sql, workIds);
    await sql`update public.refresh_queue set next_attempt_at = now()
               where work_id = any(${workIds}) and status = 'pending'`;
    const [{ id }] = await sql`select public.call_refresh_worker() as id`;
    const run = await waitForRun(sql, Number(id), 120_000);
    assert.equal(run.state, "done", JSON.stringify(run).slice(0, 400));
    assert.equal(run.status_code, 200);
  }
  throw new Error(`the queue did not settle after ${calls} refresh-worker runs`);
}

/** Every item final with a result or an error, attempts within max_retries. */
async function assertSettled(sql: postgres.Sql, workIds: number[]) {
  const rows = await sql`select id, status, result, last_error, retry_count, max_retries
                           from public.refresh_queue where work_id = any(${workIds})`;
  assert.equal(rows.length, workIds.length, "one queue row per movie: nothing lost or duplicated");
  const bad = rows.filter((r) =>
    r.retry_count > r.max_retries ||
    !((r.status === "completed" && r.result !== null) ||
      (r.status === "failed" && typeof r.last_error === "string" && r.last_error !== ""))
  );
  assert.deepEqual(bad, [], "every item final, with its result or its error, within max_retries");
  return {
    completed: rows.filter((r) => r.status === "completed").length,
    failed: rows.filter((r) => r.status === "failed").length,
    max_attempts: Math.max(...rows.map((r) => r.retry_count)),
    attempts_histogram: [1, 2, 3].map((a) => rows.filter((r) => r.retry_count === a).length),
  };
}

Deno.test({
  name:
    "reliability: functions host SIGKILLed mid-batch and restarted: nothing lost, attempts within max_retries, the killed calls show as errors",
  ...needsStack(),
  async fn() {
    const crashes = size(2, 5);
    const c = cfg();
    await withIsolatedQueue(async ({ sql, park }) => {
      // 4 loops × batch 10 = 40 items in flight per run; enough for every crash to hit fresh ones.
      const ids = await popularIds(40 * crashes + 40, 1);
      const workIds = await queueMovies(sql, ids);
      await park(workIds);
      const killed: Record<string, unknown>[] = [];
      for (let i = 0; i < crashes; i++) {
        await control("faults", { latencyMs: 500 });
        await sql`update public.refresh_queue set next_attempt_at = now()
                   where work_id = any(${workIds}) and status = 'pending'`;
        const [{ id }] = await sql`select public.call_refresh_worker() as id`;
        const held = await waitProcessing(sql, workIds);
        const pid = await readPid(`${c.pidDir}/functions_host.pid`);
        assert.ok(pid, "the functions host is running");
        Deno.kill(-pid, "SIGKILL");
        await waitFor(
          async () => !isAlive(pid) && !(await portOpen(c.functionsPort)),
          "host died",
          10_000,
        );
        const run = await waitForRun(sql, Number(id), 30_000);
        assert.ok(["error", "timed_out"].includes(run.state as string), JSON.stringify(run));
        assert.ok(
          typeof run.error_msg === "string" && run.error_msg !== "",
          "the error is recorded",
        );
        killed.push({
          request_id: Number(id),
          held_when_killed: held,
          state: run.state,
          error_msg: run.error_msg,
        });
        await ensureService("functions_host");
        await expireLeases(sql, workIds);
      }
      await control("faults", {});
      const runs = await drain(sql, workIds);
      const settled = await assertSettled(sql, workIds);
      const views = await sql`select state, count(*)::int as n from public.edge_function_runs
                               where request_id = any(${killed.map((k) => k.request_id as number)})
                               group by state`;
      report("crash functions host SIGKILL", {
        movies: workIds.length,
        crashes,
        killed,
        recovery_runs: runs,
        killed_calls_by_state: Object.fromEntries(views.map((v) => [v.state, v.n])),
        ...settled,
      });
    }, { cleanup: healStack });
  },
});

Deno.test({
  name:
    "reliability: PostgreSQL stopped (fast) and started during a refresh-worker run: every item reaches a final state, the function recovers",
  ...needsStack(),
  async fn() {
    const c = cfg();
    await withIsolatedQueue(async (q) => {
      let { sql } = q;
      const ids = await popularIds(60, 11);
      const workIds = await queueMovies(sql, ids);
      await q.park(workIds);
      await control("faults", { latencyMs: 500 });
      const [{ id }] = await sql`select public.call_refresh_worker() as id`;
      const held = await waitProcessing(sql, workIds);
      await sql.end();
      await stopServer(c, "fast");
      assert.equal(await serverRunning(c), false);
      // An outage long enough for the run's next SQL call to find the database gone.
      await sleep(2000);
      await startServer(c);
      // the new connection goes into q, so that it is the one ended at the end
      sql = q.sql = connect();
      // pg_net keeps the request until it can record its outcome: it ends recorded.
      const restartedAt = performance.now();
      const run = await waitForRun(sql, Number(id), 120_000);
      const recordedAfterMs = Math.round(performance.now() - restartedAt);
      // Either the run finished on a fresh connection, or it failed cleanly (500, JSON).
      assert.ok(
        (run.state === "done" && run.status_code === 200) ||
          (run.state === "http_error" && run.status_code === 500 &&
            (run.response as { error?: string })?.error === "internal_error"),
        JSON.stringify(run).slice(0, 500),
      );
      await control("faults", {});
      const runs = await drain(sql, workIds);
      const settled = await assertSettled(sql, workIds);
      report("crash postgres restart", {
        movies: workIds.length,
        held_when_stopped: held,
        call_recorded_ms_after_restart: recordedAfterMs,
        interrupted_call: {
          state: run.state,
          status_code: run.status_code,
          error: (run.response as Record<string, unknown> | null)?.error ?? run.error_msg,
        },
        recovery_runs: runs,
        ...settled,
      });
    }, { cleanup: healStack });
  },
});

Deno.test({
  name:
    "reliability: pg_net worker stopped while requests are queued: they wait as 'queued', are sent once it is back, and complete",
  ...needsStack(),
  async fn() {
    const c = cfg();
    await withIsolatedQueue(async ({ sql, park }) => {
      const ids = await popularIds(30, 15);
      const workIds = await queueMovies(sql, ids);
      await park(workIds);
      assert.equal(await stopService(c, "pg_net_worker"), true, "the pg_net worker was running");
      const [calls] =
        await sql`select public.call_refresh_worker() as a, public.call_refresh_worker() as b`;
      const requestIds = [Number(calls.a), Number(calls.b)];
      // Real time must pass to show that nothing is sent while the worker is down.
      await sleep(1500);
      const waiting = await sql`select state from public.edge_function_runs
                                 where request_id = any(${requestIds})`;
      assert.deepEqual(waiting.map((r) => r.state), ["queued", "queued"]);
      const [{ n: queuedRequests }] =
        await sql`select count(*)::int as n from net.http_request_queue
                                                 where id = any(${requestIds})`;
      assert.equal(queuedRequests, 2, "both requests wait in net.http_request_queue");
      const [{ n: untouched }] = await sql`select count(*)::int as n from public.refresh_queue
                                            where work_id = any(${workIds}) and status = 'pending'`;
      assert.equal(untouched, ids.length, "no item was claimed while the requests waited");
      await ensureService("pg_net_worker");
      const runs = await Promise.all(requestIds.map((id) => waitForRun(sql, id, 120_000)));
      assert.deepEqual(runs.map((r) => [r.state, r.status_code]), [["done", 200], ["done", 200]]);
      const claimed = runs.map((r) => (r.response as { claimed: number }).claimed);
      assert.equal(claimed[0] + claimed[1], ids.length, `claimed ${claimed}`);
      const settled = await assertSettled(sql, workIds);
      assert.equal(settled.completed, ids.length);
      report("crash pg_net worker stopped", {
        movies: ids.length,
        requests_queued_while_down: 2,
        states_while_down: waiting.map((r) => r.state),
        after_restart: runs.map((r) => `${r.state}/${r.status_code}`),
        claimed_per_run: claimed,
        ...settled,
      });
    }, { cleanup: healStack });
  },
});
