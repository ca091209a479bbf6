/**
 * Scenario 2 at catalog depth: the queue holding 1,000,000 ready rows (quick: 20,000), as
 * it does while the whole catalog seeds, and 4 workers × batches of 10 draining 20,000 of
 * them (quick: 1,000) with a no-op handler; graphile-worker's best mode of the shallow run
 * does the same on a jobs table as deep (`graphile_depth.mjs`).
 *
 *   * ours: the rows are queued as new movies with one `enqueue_new_movies(ids,
 *     popularities)` call (priorities 1000–5000 from popularity g mod 997) and analyzed;
 *     then each worker claims with `claim_refresh_batch` and loops
 *     `finish_and_claim_refresh_batch` until the items are done, and finishes its last batch
 *     with a batch size of 0. Time: first claim to last finish; the combined call's round
 *     trip p50 / p95; the sequential and index scans of refresh_queue during the drain (from
 *     pg_stat_user_tables: the workers' counters are flushed when their connections close).
 *     Then housekeeping at that depth: every row is marked finished 8 days ago and one
 *     `prune_old_rows()` call (7-day retention) is timed.
 *   * peer: graphile-worker, same depth, same priorities, same number of items.
 *
 * @module
 */
import type postgres from "postgres";
import { type BenchContext, connect } from "./context.ts";
import { formatCount, formatRate, ratio, summarize, type Summary } from "./stats.ts";

/** Rows queued and items drained, full and quick. */
export const DEPTH_SIZES = {
  full: { depth: 1_000_000, items: 20_000 },
  quick: { depth: 20_000, items: 1_000 },
} as const;

/** Our side at depth. */
export interface OursDepthFigures {
  /** Seconds `enqueue_new_movies` and `analyze` took (not in the throughput). */
  loadSeconds: number;
  /** Seconds from the first claim to the last finish. */
  seconds: number;
  /** `min(executions, items) / seconds`. */
  itemsPerSecond: number;
  /** Handler executions (a worker's last batch may pass `items`). */
  executions: number;
  /** `executions - distinct queue ids`. */
  duplicates: number;
  /** Items the finish did not mark completed. */
  notCompletedByFinish: number;
  /** Round-trip ms of each `finish_and_claim_refresh_batch` call. */
  finishAndClaimMs: Summary;
  /** Sequential scans of refresh_queue during the drain (0 expected). */
  seqScans: number;
  /** Index scans of refresh_queue during the drain. */
  indexScans: number;
  /** Finished rows `prune_old_rows()` deleted once every queued row was finished 8 days ago. */
  pruned: number;
  /** Seconds that `prune_old_rows()` call took. */
  pruneSeconds: number;
}

/** graphile-worker at depth (graphile_depth.mjs's output). */
export interface GraphileDepthFigures {
  /** The mode run (the shallow run's fastest). */
  mode: string;
  /** Milliseconds loading the jobs took. */
  loadMs: number;
  /** Seconds from the first job's start to the last counted execution. */
  seconds: number;
  /** `items / seconds`. */
  itemsPerSecond: number;
  /** Task executions. */
  executions: number;
  /** `executions - distinct job ids`. */
  duplicates: number;
}

/** What the depth run reports. */
export interface QueueDepthResult {
  /** Rows (jobs) queued on each side. */
  depth: number;
  /** Items drained on each side. */
  items: number;
  /** The project's queue. */
  ours: OursDepthFigures;
  /** graphile-worker. */
  graphile: GraphileDepthFigures;
  /** ours items/s ÷ graphile-worker's items/s at the same depth. */
  ratio: number | null;
}

async function tableScans(sql: postgres.Sql): Promise<{ seq: number; idx: number }> {
  await sql`select pg_stat_clear_snapshot()`;
  const [row] = await sql`
    select seq_scan, idx_scan from pg_stat_user_tables where relid = 'public.refresh_queue'::regclass`;
  return { seq: Number(row.seq_scan), idx: Number(row.idx_scan ?? 0) };
}

async function runOursAtDepth(
  ctx: BenchContext,
  depth: number,
  items: number,
  workers: number,
  batch: number,
): Promise<OursDepthFigures> {
  const { sql } = ctx;
  await sql`truncate public.refresh_queue`;
  const load = connect(ctx.info.dbUrl, 1);
  const tLoad = performance.now();
  try {
    const [{ queued }] = await load`
      select public.enqueue_new_movies(
        array(select g::bigint from generate_series(1, ${depth}::int) g),
        array(select (g % 997)::double precision from generate_series(1, ${depth}::int) g)
      ) as queued`;
    if (queued !== depth) throw new Error(`enqueue_new_movies queued ${queued}, expected ${depth}`);
    await load`analyze public.refresh_queue`;
  } finally {
    await load.end();
  }
  const loadSeconds = (performance.now() - tLoad) / 1000;

  const conns = Array.from({ length: workers }, () => connect(ctx.info.dbUrl, 1));
  try {
    await Promise.all(conns.map((c) => c`select 1`));
    const before = await tableScans(sql);
    const seen = new Set<number>();
    let executions = 0;
    let notCompleted = 0;
    const finishAndClaimMs: number[] = [];
    const worker = async (c: postgres.Sql, w: number) => {
      const id = `bench-depth-${w}`;
      let claimed: { queue_id: unknown; attempt: unknown }[] = await c`
        select queue_id, attempt from public.claim_refresh_batch(${id}, ${batch}, 120)`;
      while (claimed.length > 0) {
        const results = claimed.map((r) => {
          seen.add(Number(r.queue_id));
          executions++;
          return {
            queue_id: Number(r.queue_id),
            attempt: Number(r.attempt),
            ok: true,
            result: "unchanged",
          };
        });
        const next = executions >= items ? 0 : batch;
        const t = performance.now();
        const [{ out }] = await c`
          select public.finish_and_claim_refresh_batch(${id}, ${c.json(results)}, ${next}, 120)
            as out`;
        finishAndClaimMs.push(performance.now() - t);
        notCompleted += results.length - Number(out.finished.completed);
        claimed = out.claimed;
      }
    };
    const t0 = performance.now();
    await Promise.all(conns.map((c, w) => worker(c, w)));
    const seconds = (performance.now() - t0) / 1000;
    await Promise.all(conns.map((c) => c.end()));
    conns.length = 0;
    const after = await tableScans(sql);
    // Housekeeping at this depth: every row finished 8 days ago, past the 7-day retention.
    await sql`
      update public.refresh_queue
         set status = 'completed', result = coalesce(result, 'unchanged'),
             completed_at = now() - interval '8 days', lease_expires_at = null`;
    const tPrune = performance.now();
    const [{ counts }] = await sql`select public.prune_old_rows() as counts`;
    const pruneSeconds = (performance.now() - tPrune) / 1000;
    return {
      loadSeconds,
      seconds,
      itemsPerSecond: Math.min(executions, items) / seconds,
      executions,
      duplicates: executions - seen.size,
      notCompletedByFinish: notCompleted,
      finishAndClaimMs: summarize(finishAndClaimMs),
      seqScans: after.seq - before.seq,
      indexScans: after.idx - before.idx,
      pruned: Number(counts.refresh_queue),
      pruneSeconds,
    };
  } finally {
    await Promise.all(conns.map((c) => c.end()));
    await sql`truncate public.refresh_queue`;
  }
}

async function runGraphileAtDepth(
  ctx: BenchContext,
  mode: string,
  depth: number,
  items: number,
  workers: number,
  batch: number,
): Promise<GraphileDepthFigures> {
  const out = await new Deno.Command("node", {
    args: [
      `${ctx.cfg.root}/local/bench/graphile_depth.mjs`,
      "--url",
      ctx.info.dbUrl,
      "--depth",
      String(depth),
      "--items",
      String(items),
      "--mode",
      mode,
      "--workers",
      String(workers),
      "--batch",
      String(batch),
    ],
    cwd: ctx.cfg.root,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  if (out.code !== 0) {
    const stderr = new TextDecoder().decode(out.stderr).trim();
    throw new Error(
      `node local/bench/graphile_depth.mjs failed (exit ${out.code}):\n${stderr.slice(-2000)}`,
    );
  }
  const last = stdout.split("\n").at(-1) ?? "";
  try {
    const r = JSON.parse(last);
    return {
      mode: r.mode,
      loadMs: r.loadMs,
      seconds: r.seconds,
      itemsPerSecond: r.itemsPerSecond,
      executions: r.executions,
      duplicates: r.duplicates,
    };
  } catch {
    throw new Error(`graphile_depth.mjs printed no JSON result: ${JSON.stringify(last)}`);
  }
}

/** Runs the depth part of scenario 2 against graphile-worker's `mode` (its fastest shallow). */
export async function runQueueDepth(
  ctx: BenchContext,
  mode: string,
  workers: number,
  batch: number,
): Promise<QueueDepthResult> {
  const { depth, items } = DEPTH_SIZES[ctx.quick ? "quick" : "full"];
  const ours = await ctx.progress.phase(
    `queue at depth, ours: ${formatCount(items)} of ${formatCount(depth)} queued rows`,
    () => runOursAtDepth(ctx, depth, items, workers, batch),
    (r) => `${formatRate(r.itemsPerSecond)}, ${r.seqScans} sequential scans`,
  );
  const graphile = await ctx.progress.phase(
    `queue at depth, graphile-worker ${mode}: ${formatCount(items)} of ${
      formatCount(depth)
    } jobs (node)`,
    () => runGraphileAtDepth(ctx, mode, depth, items, workers, batch),
    (r) => formatRate(r.itemsPerSecond),
  );
  return {
    depth,
    items,
    ours,
    graphile,
    ratio: ratio(ours.itemsPerSecond, graphile.itemsPerSecond),
  };
}
