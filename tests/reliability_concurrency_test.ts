/**
 * Reliability, scenario 2 (docs/reliability.md): concurrency on the refresh queue.
 *
 * 1. Eight workers on eight connections call `claim_refresh_batch` / `finish_refresh_batch`
 *    directly over N queued items (2,000; heavy 10,000) with a tiny handler. Every
 *    processing is recorded as (queue_id, worker, attempt): each item is processed exactly
 *    once and completed exactly once, by the worker the database says holds it.
 * 2. A lease that expires (time injected: `lease_expires_at` moved into the past) is the one
 *    way an item is processed twice: the second holder completes it, the late first holder's
 *    finish is ignored (`lost_lease`) and changes nothing.
 * 3. Three refresh-worker runs, started together by `call_refresh_worker()` through pg_net,
 *    over M real movies (150; heavy 600): every movie fetched from TMDB exactly once, every
 *    item completed exactly once, each by one of the three runs.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import {
  control,
  createSyntheticWorks,
  deleteSyntheticWorks,
  ingestThroughFunction,
  report,
  size,
  sleep,
  standinStats,
  waitForRun,
  withIsolatedQueue,
} from "./_reliability.ts";
import { needsStack, popularIds, stack } from "./_stack.ts";

const WORKERS = 8;

interface Processing {
  queue_id: number;
  worker: string;
  attempt: number;
}

Deno.test({
  name:
    "reliability: claim_refresh_batch / finish_refresh_batch from 8 connections: every item processed and completed exactly once",
  ...needsStack(),
  async fn() {
    const n = size(2_000, 10_000);
    const conns: postgres.Sql[] = [];
    await withIsolatedQueue(async ({ sql, park }) => {
      await deleteSyntheticWorks(sql);
      const workIds = await createSyntheticWorks(sql, 0, n);
      await park(workIds);
      const [{ n: queued }] = await sql`
        select public.enqueue_refresh(${workIds}::bigint[], 'manual', 100::smallint) as n`;
      assert.equal(queued, n);
      const queueIds = new Set(
        (await sql`select id from public.refresh_queue where work_id = any(${workIds})`)
          .map((r) => Number(r.id)),
      );

      const processed: Processing[] = [];
      const outcomes = { completed: 0, retried: 0, failed: 0, lost_lease: 0 };
      const claims: number[] = Array(WORKERS).fill(0);
      const t0 = performance.now();
      await Promise.all(Array.from({ length: WORKERS }, async (_, w) => {
        const db = postgres(stack!.dbUrl, { max: 1, onnotice: () => {} });
        conns.push(db);
        const worker = `reliability-${w}`;
        for (;;) {
          const items = await db`
            select queue_id, attempt from public.claim_refresh_batch(${worker}, 10, 600)`;
          if (items.length === 0) return;
          claims[w]++;
          for (const it of items) {
            processed.push({ queue_id: Number(it.queue_id), worker, attempt: it.attempt });
          }
          // the "handler": a tiny pause so claims and finishes interleave
          await sleep(Math.random() < 0.5 ? 0 : 1);
          const [{ r }] = await db`
            select public.finish_refresh_batch(${worker}, ${
            db.json(items.map((it) => ({
              queue_id: Number(it.queue_id),
              attempt: it.attempt,
              ok: true,
              result: "unchanged",
            })))
          }) as r`;
          outcomes.completed += Number(r.completed);
          outcomes.retried += Number(r.retried);
          outcomes.failed += Number(r.failed);
          outcomes.lost_lease += Number(r.lost_lease);
        }
      }));
      const seconds = (performance.now() - t0) / 1000;

      const times = new Map<number, Processing[]>();
      for (const p of processed) times.set(p.queue_id, [...(times.get(p.queue_id) ?? []), p]);
      const twice = [...times.entries()].filter(([, ps]) => ps.length > 1);
      assert.deepEqual(twice, [], "no item is processed twice (leases are 600 s, never expire)");
      assert.equal(processed.length, n, "every item processed once");
      assert.deepEqual([...times.keys()].filter((id) => !queueIds.has(id)), [], "only our items");
      assert.deepEqual(outcomes, { completed: n, retried: 0, failed: 0, lost_lease: 0 });

      const rows = await sql`
        select id, status, retry_count, locked_by, result from public.refresh_queue
         where work_id = any(${workIds})`;
      const wrong = rows.filter((r) =>
        r.status !== "completed" || r.retry_count !== 1 || r.result !== "unchanged" ||
        r.locked_by !== times.get(Number(r.id))?.[0].worker
      );
      assert.deepEqual(wrong, [], "each row completed once, on attempt 1, by its one processor");
      assert.ok(claims.every((c) => c > 0), `every worker got work: ${claims}`);
      report("concurrency claim/finish", {
        items: n,
        workers: WORKERS,
        processed: processed.length,
        processed_twice: twice.length,
        completed: outcomes.completed,
        lost_lease: outcomes.lost_lease,
        claims_per_worker: claims,
        seconds: Math.round(seconds * 10) / 10,
        items_per_second: Math.round(n / seconds),
      });
    }, {
      cleanup: async ({ sql }) => {
        await Promise.all(conns.map((c) => c.end()));
        await deleteSyntheticWorks(sql).catch(() => {});
      },
    });
  },
});

Deno.test({
  name:
    "reliability: an item is processed twice only after its lease expired: the late holder's finish is lost_lease and changes nothing",
  ...needsStack(),
  async fn() {
    await withIsolatedQueue(async ({ sql, park }) => {
      await deleteSyntheticWorks(sql);
      const workIds = await createSyntheticWorks(sql, 0, 20);
      await park(workIds);
      await sql`select public.enqueue_refresh(${workIds}::bigint[])`;
      const first = await sql`select * from public.claim_refresh_batch('slow', 20, 600)`;
      assert.equal(first.length, 20);
      // Time passes for the slow holder: its lease runs out while it still works.
      await sql`update public.refresh_queue set lease_expires_at = now() - interval '1 second'
                 where work_id = any(${workIds})`;
      const second = await sql`select * from public.claim_refresh_batch('fast', 20, 600)`;
      assert.equal(second.length, 20, "expired leases are claimable again");
      assert.deepEqual(second.map((r) => r.attempt), Array(20).fill(2));
      const [{ r: fast }] = await sql`select public.finish_refresh_batch('fast', ${
        sql.json(
          second.map((r) => ({
            queue_id: Number(r.queue_id),
            attempt: r.attempt,
            ok: true,
            result: "refreshed",
          })),
        )
      }) as r`;
      assert.equal(fast.completed, 20);
      const before =
        await sql`select * from public.refresh_queue where work_id = any(${workIds}) order by id`;
      const [{ r: slow }] = await sql`select public.finish_refresh_batch('slow', ${
        sql.json(
          first.map((r) => ({
            queue_id: Number(r.queue_id),
            attempt: r.attempt,
            ok: false,
            error: "late",
          })),
        )
      }) as r`;
      assert.equal(slow.lost_lease, 20, "the late holder's results are all ignored");
      const after =
        await sql`select * from public.refresh_queue where work_id = any(${workIds}) order by id`;
      assert.deepEqual(after, before, "the late finish changed nothing");
      assert.ok(after.every((r) => r.status === "completed" && r.locked_by === "fast"));
      report("concurrency lease expiry", {
        items: 20,
        processed_twice: 20,
        explained_by_expired_lease: 20,
        late_finish_lost_lease: slow.lost_lease,
      });
    }, { cleanup: ({ sql }) => deleteSyntheticWorks(sql).catch(() => {}) });
  },
});

Deno.test({
  name:
    "reliability: three overlapping refresh-worker runs (call_refresh_worker through pg_net): every movie fetched once, every item completed once",
  ...needsStack(),
  async fn() {
    const m = size(150, 600);
    await withIsolatedQueue(async ({ sql, park }) => {
      await control("faults", {});
      const ids = await popularIds(m);
      await ingestThroughFunction(ids);
      const works = await sql`select id, tmdb_id from public.works where tmdb_id = any(${ids})`;
      assert.equal(works.length, m);
      const workIds = works.map((w) => Number(w.id));
      await sql`delete from public.refresh_queue where work_id = any(${workIds})`;
      await park(workIds);
      await sql`select public.enqueue_refresh(${workIds}::bigint[])`;
      await control("reset", {});

      // One transaction: pg_net sends the three requests together after commit.
      const [calls] = await sql`
        select public.call_refresh_worker() as a, public.call_refresh_worker() as b,
               public.call_refresh_worker() as c`;
      const requestIds = [calls.a, calls.b, calls.c].map(Number);
      const runs = await Promise.all(requestIds.map((id) => waitForRun(sql, id, 120_000)));
      for (const run of runs) {
        assert.equal(run.state, "done", JSON.stringify(run).slice(0, 500));
        assert.equal(run.status_code, 200);
      }
      const responses = runs.map((r) => r.response as Record<string, number>);
      const claimed = responses.map((r) => r.claimed);
      assert.equal(claimed.reduce((a, b) => a + b, 0), m, `claimed per run: ${claimed}`);
      assert.equal(responses.reduce((a, r) => a + r.lost_lease + r.retried + r.failed, 0), 0);

      const stats = await standinStats();
      const perMovie = ids.map((id) => stats.byMovieId[String(id)] ?? 0);
      assert.deepEqual(
        ids.filter((_, i) => perMovie[i] !== 1),
        [],
        "every movie was fetched from TMDB exactly once",
      );
      const rows = await sql`
        select status, retry_count, locked_by from public.refresh_queue
         where work_id = any(${workIds})`;
      assert.equal(rows.length, m);
      assert.deepEqual(
        rows.filter((r) => r.status !== "completed" || r.retry_count !== 1),
        [],
        "every item completed on its first attempt",
      );
      const workers = new Set(
        responses.map((r) => (r as unknown as { worker_id: string }).worker_id),
      );
      assert.ok(rows.every((r) => workers.has(r.locked_by)), "each item held by one of the runs");
      const perRun = [...workers].map((w) => rows.filter((r) => r.locked_by === w).length);
      assert.deepEqual(perRun, claimed, "each run completed exactly what it claimed");
      const overlapping = runs.filter((r) =>
        Number((r.response as { claimed: number }).claimed) > 0
      )
        .length;
      report("concurrency overlapping refresh-worker runs", {
        movies: m,
        runs: 3,
        runs_that_claimed: overlapping,
        claimed_per_run: claimed,
        tmdb_requests: stats.total,
        processed_twice: perMovie.filter((c) => c > 1).length,
      });
    });
  },
});
