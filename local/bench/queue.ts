/**
 * Scenario 2, the queue against a peer: 20,000 queued items (quick: 2,000), 4 concurrent
 * workers, batches of 10, a handler that does nothing.
 *
 *   * ours: the project's SQL functions, as refresh-worker calls them: each of 4 workers
 *     (one postgres.js connection each, role `postgres`) claims its first batch with
 *     `claim_refresh_batch(worker, 10, 120)`, then loops record the ids →
 *     `finish_and_claim_refresh_batch(worker, [{ok, result}…], 10, 120)` (finishes the batch
 *     and claims the next in one round trip and one commit) until a call claims nothing.
 *     Items are queued beforehand with `enqueue_refresh` (one call).
 *   * peer: graphile-worker 0.17.3 driven by `graphile_queue.mjs` under Node, against the
 *     same Postgres as `postgres` (it installs its schema `graphile_worker`), in three modes
 *     (see that file): its defaults, 4 runners batching 10 like ours, and one pool batching
 *     10. The ratio uses graphile-worker's fastest mode.
 * Every execution's id is recorded on both sides; a duplicate is an id executed twice.
 * Both sides connect before their clock starts. Ours counts from the first claim to the last
 * finish (the call that claims nothing); graphile-worker's from its first job's start to an empty jobs table (its jobs are
 * added in one bulk call while its runners already listen).
 *
 * @module
 */
import { insertWorksSql } from "./stale.ts";
import type postgres from "postgres";
import { type BenchContext, connect } from "./context.ts";
import { formatCount, formatRate, ratio, summarize, type Summary } from "./stats.ts";
import { type QueueDepthResult, runQueueDepth } from "./queue_depth.ts";

/** Concurrent workers on each side. */
export const QUEUE_WORKERS = 4;
/** Items claimed per batch. */
export const QUEUE_BATCH = 10;

/** Our side's figures. */
export interface OursQueueFigures {
  /** Items queued. */
  items: number;
  /** Seconds from the first claim to the last finish. */
  seconds: number;
  /** `executions / seconds`. */
  itemsPerSecond: number;
  /** Handler executions. */
  executions: number;
  /** Distinct queue ids executed. */
  distinct: number;
  /** `executions - distinct`. */
  duplicates: number;
  /** Rows `completed` afterwards. */
  completed: number;
  /** Non-empty claims. */
  batches: number;
  /** Items the finish part of `finish_and_claim_refresh_batch` did not mark completed. */
  notCompletedByFinish: number;
  /** Round-trip ms of each worker's first `claim_refresh_batch` call (one per worker). */
  firstClaimMs: Summary;
  /** Round-trip ms of each `finish_and_claim_refresh_batch` call (the last, empty claim included). */
  finishAndClaimMs: Summary;
}

/** One graphile-worker mode's figures (from graphile_queue.mjs). */
export interface GraphileModeFigures {
  /** `default`, `batched` or `pooled`. */
  mode: string;
  /** Jobs queued. */
  jobs: number;
  /** Milliseconds `addJobs` took (not in the throughput). */
  addMs: number;
  /** Seconds from the first fetch to an empty jobs table. */
  seconds: number;
  /** `executions / seconds`. */
  itemsPerSecond: number;
  /** Task executions. */
  executions: number;
  /** Distinct job ids executed. */
  distinct: number;
  /** `executions - distinct`. */
  duplicates: number;
  /** Jobs left in the table at the end (0 expected). */
  leftover: number;
}

/** What scenario 2 reports. */
export interface QueueResult {
  /** Items per side. */
  items: number;
  /** Workers per side. */
  workers: number;
  /** Batch size. */
  batch: number;
  /** The project's queue. */
  ours: OursQueueFigures;
  /** graphile-worker. */
  graphile: {
    /** Its version. */
    version: string;
    /** The database role it connected as. */
    role: string;
    /** Milliseconds its schema installation took. */
    migrateMs: number;
    /** Every mode run. */
    modes: GraphileModeFigures[];
    /** The fastest mode's name. */
    best: string;
  };
  /** ours items/s ÷ graphile-worker's best items/s. */
  ratio: number | null;
  /** The same workload at catalog depth, against graphile-worker's best mode (queue_depth.ts). */
  depth?: QueueDepthResult;
}

async function runOurs(ctx: BenchContext, n: number): Promise<OursQueueFigures> {
  const { sql } = ctx;
  await sql`delete from public.refresh_queue`;
  const selectIds = async () =>
    (await sql`select id from public.works order by id limit ${n}`).map((r) => Number(r.id));
  let ids = await selectIds();
  if (ids.length === 0) {
    // Run on its own (--only 2): scenario 1 did not fill the catalog, so make the works here.
    await sql.unsafe(insertWorksSql(1, n));
    ids = await selectIds();
  }
  if (ids.length < n) {
    throw new Error(`the queue benchmark needs ${n} works; the catalog has ${ids.length}`);
  }
  const [{ queued }] = await sql`
    select public.enqueue_refresh(${ids}::bigint[], 'manual', 100::smallint) as queued`;
  if (queued !== n) throw new Error(`enqueue_refresh queued ${queued} items, expected ${n}`);

  const conns: postgres.Sql[] = Array.from(
    { length: QUEUE_WORKERS },
    () => connect(ctx.info.dbUrl, 1),
  );
  try {
    await Promise.all(conns.map((c) => c`select 1`));
    const seen = new Map<number, number>();
    let executions = 0;
    let batches = 0;
    let notCompleted = 0;
    const firstClaimMs: number[] = [];
    const finishAndClaimMs: number[] = [];
    const worker = async (c: postgres.Sql, w: number) => {
      const id = `bench-queue-${w}`;
      // As refresh-worker does: the first batch is claimed alone, every later one comes with
      // the previous batch's finish in one call.
      const tc = performance.now();
      let claimed: { queue_id: unknown; attempt: unknown }[] = await c`
        select queue_id, attempt from public.claim_refresh_batch(${id}, ${QUEUE_BATCH}, 120)`;
      firstClaimMs.push(performance.now() - tc);
      while (claimed.length > 0) {
        batches++;
        const results = claimed.map((r) => {
          const q = Number(r.queue_id);
          // The no-op handler: record the execution.
          seen.set(q, (seen.get(q) ?? 0) + 1);
          executions++;
          return { queue_id: q, attempt: Number(r.attempt), ok: true, result: "unchanged" };
        });
        const tf = performance.now();
        const [{ out }] = await c`
          select public.finish_and_claim_refresh_batch(
            ${id}, ${c.json(results)}, ${QUEUE_BATCH}, 120
          ) as out`;
        finishAndClaimMs.push(performance.now() - tf);
        notCompleted += results.length - Number(out.finished.completed);
        claimed = out.claimed;
      }
    };
    const t0 = performance.now();
    await Promise.all(conns.map((c, w) => worker(c, w)));
    const seconds = (performance.now() - t0) / 1000;
    const [{ completed }] = await sql`
      select count(*)::int as completed from public.refresh_queue where status = 'completed'`;
    return {
      items: n,
      seconds,
      itemsPerSecond: executions / seconds,
      executions,
      distinct: seen.size,
      duplicates: executions - seen.size,
      completed,
      batches,
      notCompletedByFinish: notCompleted,
      firstClaimMs: summarize(firstClaimMs),
      finishAndClaimMs: summarize(finishAndClaimMs),
    };
  } finally {
    await Promise.all(conns.map((c) => c.end()));
    await sql`delete from public.refresh_queue`;
  }
}

interface GraphileOutput {
  graphileWorkerVersion: string;
  migrateMs: number;
  modes: GraphileModeFigures[];
}

async function runGraphile(ctx: BenchContext, n: number): Promise<GraphileOutput> {
  const script = `${ctx.cfg.root}/local/bench/graphile_queue.mjs`;
  const out = await new Deno.Command("node", {
    args: [
      script,
      "--url",
      ctx.info.dbUrl,
      "--jobs",
      String(n),
      "--workers",
      String(QUEUE_WORKERS),
      "--batch",
      String(QUEUE_BATCH),
    ],
    cwd: ctx.cfg.root,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (out.code !== 0) {
    throw new Error(
      `node local/bench/graphile_queue.mjs failed (exit ${out.code}):\n${stderr.slice(-2000)}`,
    );
  }
  const last = stdout.split("\n").at(-1) ?? "";
  try {
    return JSON.parse(last) as GraphileOutput;
  } catch {
    throw new Error(`graphile_queue.mjs printed no JSON result: ${JSON.stringify(last)}`);
  }
}

/** Runs scenario 2. */
export async function runQueue(ctx: BenchContext): Promise<QueueResult> {
  const n = ctx.sizes.queueItems;
  const ours = await ctx.progress.phase(
    `queue, ours: ${formatCount(n)} items, ${QUEUE_WORKERS} workers × batches of ${QUEUE_BATCH}`,
    () => runOurs(ctx, n),
    (r) => `${formatRate(r.itemsPerSecond)}, ${r.duplicates} duplicates`,
  );
  const g = await ctx.progress.phase(
    `queue, graphile-worker: ${formatCount(n)} jobs × 3 modes (node)`,
    () => runGraphile(ctx, n),
    (r) => r.modes.map((m) => `${m.mode} ${formatRate(m.itemsPerSecond)}`).join(", "),
  );
  const best = g.modes.reduce((a, b) => (b.itemsPerSecond > a.itemsPerSecond ? b : a));
  const depth = await runQueueDepth(ctx, best.mode, QUEUE_WORKERS, QUEUE_BATCH);
  return {
    items: n,
    workers: QUEUE_WORKERS,
    batch: QUEUE_BATCH,
    ours,
    graphile: {
      version: g.graphileWorkerVersion,
      role: "postgres",
      migrateMs: g.migrateMs,
      modes: g.modes,
      best: best.mode,
    },
    ratio: ratio(ours.itemsPerSecond, best.itemsPerSecond),
    depth,
  };
}
