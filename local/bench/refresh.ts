/**
 * Scenarios 3 and 5: refresh-worker against the real ceiling, the TMDB stand-in started with
 * `--rate-limit 40 --latency-ms 30` (40 requests/s, 30 ms per answer).
 *
 * Setup (not timed as a figure): a pool of the stand-in's movies is ingested first — details
 * fetched from the stand-in (its rate limit lifted for the setup only, through
 * `/__control/rate-limit`) and stored with the functions' own `CatalogStore`
 * (`ingest_tmdb_responses`), so the worker later sees the very payloads it would have stored.
 *
 * Scenario 3, per run: make the movies due (`last_refreshed_at` 400 days back, so the
 * generated `next_refresh_at` is in the past), `enqueue_refresh` them, then POST
 * `/functions/v1/refresh-worker` (service-role key, default body) through the functions host
 * again and again until no item is pending or processing. Figures: movies finished per
 * second of drain time (and as a share of the 40/s limit), TMDB requests per movie and 429s
 * from the stand-in's `/__control/stats` before/after, completed and failed items.
 * Run 1 has no faults; run 2 injects 5 % 5xx and 5 % 429 (`Retry-After: 1`). Items the
 * queue put back for a retry wait out a backoff of 24–36 s (then 48–72 s) before they are
 * claimable; the benchmark does not sit through it: when nothing is claimable it moves
 * those items' `next_attempt_at` to now ("fast-forward", counted) and invokes again, so the
 * drain time measures work, not waiting.
 *
 * Scenario 5: how many movies ONE invocation with the worker's default budget refreshes
 * (the design summary's worker: at most 10 per 10-minute tick). The full run measures one
 * real invocation over a queue holding more than a budget's worth (40/s × budget × 1.15);
 * the quick run derives it from run 1's rate × the default budget, and says so.
 *
 * Before the first run the worker is invoked once on an empty queue, so its cold start
 * (process boot, first connections) is reported apart and kept out of the rates.
 *
 * @module
 */
import { createPostgresCatalogStore } from "../../supabase/functions/_shared/store/catalog.ts";
import {
  appendToResponse,
  MOVIE_APPEND_PARTS,
} from "../../supabase/functions/_shared/tmdb/schemas.ts";
import { BUDGET_MS } from "../../supabase/functions/refresh-worker/handler.ts";
import { createCatalog } from "../tmdb_standin/catalog.ts";
import type { BenchContext } from "./context.ts";
import { formatCount, formatRate, ratio } from "./stats.ts";

/** The stand-in's rate limit in this scenario (requests per second). */
export const STANDIN_RATE_LIMIT = 40;
/** The stand-in's added latency per answer. */
export const STANDIN_LATENCY_MS = 30;
/** The stand-in flags the bench stack starts with. */
export const STANDIN_ARGS = [
  "--rate-limit",
  String(STANDIN_RATE_LIMIT),
  "--latency-ms",
  String(STANDIN_LATENCY_MS),
];
/** The faults of run 2. */
export const FAULTS = { errorRate5xx: 0.05, rate429: 0.05, retryAfterSeconds: 1 };
/** Movies the design summary's worker refreshes per 10-minute tick. */
export const DESIGN_MOVIES_PER_TICK = 10;

/** `/__control/stats` fields used here. */
interface StandinStats {
  total: number;
  byEndpoint: Record<string, number>;
  byStatus: Record<string, number>;
  rateLimited: number;
  injected: Record<string, number>;
}

/** refresh-worker's answer (fields used here). */
interface WorkerSummary {
  claimed: number;
  refreshed: number;
  unchanged: number;
  not_found: number;
  retried: number;
  failed: number;
  lost_lease: number;
  stopped_because: string;
  tmdb_requests: number;
  duration_ms: number;
}

/** One drain of the queue (scenario 3). */
export interface DrainFigures {
  /** `no faults` or `5 % 5xx + 5 % 429`. */
  label: string;
  /** Fault configuration set on the stand-in. */
  faults: Record<string, number>;
  /** Items queued. */
  movies: number;
  /** Items completed (refreshed, unchanged or not found). */
  completed: number;
  /** Items failed for good. */
  failed: number;
  /** Completed items by result. */
  results: Record<string, number>;
  /** Seconds from the first invocation to an empty queue. */
  drainSeconds: number;
  /** `(completed + failed) / drainSeconds`. */
  moviesPerSecond: number;
  /** `moviesPerSecond / 40`. */
  shareOfLimit: number;
  /** Worker invocations. */
  invocations: number;
  /** Times retried items were made claimable at once instead of waiting out their backoff. */
  fastForwards: number;
  /** Sum of the invocations' `duration_ms` (time inside the worker). */
  workerMs: number;
  /** `/movie/{id}` requests the stand-in received. */
  tmdbRequests: number;
  /** `tmdbRequests / movies`. */
  requestsPerMovie: number;
  /** 429 answers (real bucket + injected). */
  http429: number;
  /** 429 answers from the real token bucket. */
  rateLimited429: number;
  /** 5xx answers (injected). */
  http5xx: number;
  /** Sum of the workers' `retried` (items put back after a failed attempt). */
  retriedItems: number;
  /** Sum of the workers' `lost_lease`. */
  lostLeases: number;
}

/** What scenario 5 reports. */
export interface InvocationFigures {
  /** `measured` (one real invocation) or `derived` (run 1's rate × budget). */
  method: "measured" | "derived";
  /** The worker's default `budget_ms`. */
  budgetMs: number;
  /** Items queued before the invocation (measured only). */
  queued: number | null;
  /** Movies refreshed (completed items) by the one invocation. */
  movies: number;
  /** The invocation's `duration_ms` (measured only). */
  durationMs: number | null;
  /** Why it stopped (measured only; `budget` expected). */
  stoppedBecause: string | null;
  /** TMDB requests it made (stand-in count, measured only). */
  tmdbRequests: number | null;
  /** `movies / 10`. */
  ratioToDesign: number | null;
  /** Movies per day at one invocation every 10 minutes (144 a day). */
  moviesPerDay: number;
}

/** What scenarios 3 and 5 report. */
export interface RefreshResult {
  /** Stand-in settings. */
  standin: { rateLimitPerSecond: number; latencyMs: number; size: number };
  /** Movies ingested for the runs, and how long that took. */
  pool: { movies: number; seconds: number };
  /** The first invocation on an empty queue (process boot included), in ms. */
  coldStartMs: number;
  /** Run 1 (no faults) and run 2 (faults). */
  runs: DrainFigures[];
  /** Scenario 5. */
  invocation: InvocationFigures;
}

async function control(ctx: BenchContext, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${ctx.cfg.tmdbPort}/__control/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`stand-in /__control/${path} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

async function standinStats(ctx: BenchContext): Promise<StandinStats> {
  return await control(ctx, "stats") as StandinStats;
}

async function invokeWorker(ctx: BenchContext, body: Record<string, unknown> = {}) {
  const t0 = performance.now();
  const res = await fetch(`${ctx.info.functionsUrl}/refresh-worker`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${ctx.info.serviceRoleKey}`,
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(200_000),
  });
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(`refresh-worker answered ${res.status}: ${text.slice(0, 500)}`);
  }
  return { summary: JSON.parse(text) as WorkerSummary, ms: performance.now() - t0 };
}

/** The stand-in's movie ids the runs use: the catalog's first `n` (same seed, size, anchor). */
async function poolIds(ctx: BenchContext, n: number): Promise<number[]> {
  const health = await control(ctx, "health") as { size: number; seed: number; anchor: string };
  const catalog = createCatalog({ size: health.size, seed: health.seed, anchor: health.anchor });
  if (catalog.size < n) {
    throw new Error(`the stand-in holds ${catalog.size} movies; the refresh runs need ${n}`);
  }
  return Array.from(catalog.ids.subarray(0, n));
}

/** Fetches and ingests the pool; returns the work ids in pool order. */
async function ingestPool(ctx: BenchContext, tmdbIds: number[]): Promise<number[]> {
  const store = createPostgresCatalogStore(ctx.sql);
  const append = appendToResponse(MOVIE_APPEND_PARTS);
  await control(ctx, "rate-limit", { perSecond: null });
  try {
    let next = 0;
    const worker = async () => {
      while (next < tmdbIds.length) {
        const id = tmdbIds[next++];
        const res = await fetch(`${ctx.info.tmdbUrl}/movie/${id}?append_to_response=${append}`, {
          headers: { authorization: `Bearer ${ctx.info.tmdbToken}` },
        });
        const text = await res.text();
        if (res.status !== 200) {
          throw new Error(`stand-in /movie/${id} answered ${res.status}: ${text.slice(0, 200)}`);
        }
        const [stored] = (await store.storeAnswers(
          [{ tmdb_id: id, status: 200, body: text }],
          { runId: null, functionName: "bench" },
        )).items;
        if (stored.outcome === "failed") {
          throw new Error(`movie ${id} was not stored: ${stored.error}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  } finally {
    await control(ctx, "rate-limit", { perSecond: STANDIN_RATE_LIMIT });
  }
  const rows = await ctx.sql`
    select id, tmdb_id from public.works where tmdb_id = any(${tmdbIds}::integer[])`;
  const byTmdb = new Map(rows.map((r) => [Number(r.tmdb_id), Number(r.id)]));
  return tmdbIds.map((t) => {
    const w = byTmdb.get(t);
    if (w === undefined) throw new Error(`movie ${t} was not stored by the pool ingest`);
    return w;
  });
}

/** Empties the queue, makes the works due and queues them. */
async function queueDue(ctx: BenchContext, workIds: number[]): Promise<void> {
  const { sql } = ctx;
  await sql`delete from public.refresh_queue`;
  await sql`
    update public.works set last_refreshed_at = now() - interval '400 days'
     where id = any(${workIds}::bigint[])`;
  const [{ due }] = await sql`
    select count(*)::int as due from public.works
     where id = any(${workIds}::bigint[]) and next_refresh_at <= now()`;
  if (due !== workIds.length) {
    throw new Error(
      `${workIds.length - due} of ${workIds.length} movies are not due after the update`,
    );
  }
  const [{ queued }] = await sql`
    select public.enqueue_refresh(${workIds}::bigint[], 'stale', 100::smallint) as queued`;
  if (queued !== workIds.length) {
    throw new Error(`enqueue_refresh queued ${queued} of ${workIds.length} movies`);
  }
}

function delta(after: Record<string, number>, before: Record<string, number>, key: string) {
  return (after[key] ?? 0) - (before[key] ?? 0);
}

function sumStatus(s: StandinStats, pred: (status: number) => boolean): number {
  return Object.entries(s.byStatus).filter(([k]) => pred(Number(k))).reduce((a, [, v]) => a + v, 0);
}

async function drain(
  ctx: BenchContext,
  workIds: number[],
  label: string,
  faults: Record<string, number>,
): Promise<DrainFigures> {
  const { sql } = ctx;
  await queueDue(ctx, workIds);
  await control(ctx, "faults", faults);
  const before = await standinStats(ctx);
  const summaries: WorkerSummary[] = [];
  let fastForwards = 0;
  const t0 = performance.now();
  try {
    for (let i = 0;; i++) {
      if (i >= 100) throw new Error(`the queue did not drain after ${i} invocations`);
      summaries.push((await invokeWorker(ctx)).summary);
      const [q] = await sql`
        select count(*) filter (where status = 'pending')::int as pending,
               count(*) filter (where status = 'processing')::int as processing,
               count(*) filter (where status = 'pending' and next_attempt_at <= now())::int
                 as ready
          from public.refresh_queue`;
      if (q.pending === 0 && q.processing === 0) break;
      if (q.ready === 0 && q.pending > 0) {
        await sql`
          update public.refresh_queue set next_attempt_at = now()
           where status = 'pending' and next_attempt_at > now()`;
        fastForwards++;
      }
    }
  } finally {
    await control(ctx, "faults", {});
  }
  const drainSeconds = (performance.now() - t0) / 1000;
  const after = await standinStats(ctx);
  const rows = await sql`
    select status, coalesce(result, '') as result, count(*)::int as n
      from public.refresh_queue group by 1, 2`;
  let completed = 0;
  let failed = 0;
  const results: Record<string, number> = {};
  for (const r of rows) {
    if (r.status === "completed") {
      completed += r.n;
      results[r.result] = (results[r.result] ?? 0) + r.n;
    } else if (r.status === "failed") failed += r.n;
  }
  const tmdbRequests = delta(after.byEndpoint, before.byEndpoint, "/movie/{id}");
  const moviesPerSecond = (completed + failed) / drainSeconds;
  return {
    label,
    faults,
    movies: workIds.length,
    completed,
    failed,
    results,
    drainSeconds,
    moviesPerSecond,
    shareOfLimit: moviesPerSecond / STANDIN_RATE_LIMIT,
    invocations: summaries.length,
    fastForwards,
    workerMs: summaries.reduce((a, s) => a + s.duration_ms, 0),
    tmdbRequests,
    requestsPerMovie: tmdbRequests / workIds.length,
    http429: sumStatus(after, (s) => s === 429) - sumStatus(before, (s) => s === 429),
    rateLimited429: after.rateLimited - before.rateLimited,
    http5xx: sumStatus(after, (s) => s >= 500) - sumStatus(before, (s) => s >= 500),
    retriedItems: summaries.reduce((a, s) => a + s.retried, 0),
    lostLeases: summaries.reduce((a, s) => a + s.lost_lease, 0),
  };
}

/** Runs scenarios 3 and 5. */
export async function runRefresh(ctx: BenchContext): Promise<RefreshResult> {
  const { sizes, progress } = ctx;
  const budgetMs = BUDGET_MS.default;
  const invocationQueue = Math.ceil((STANDIN_RATE_LIMIT * budgetMs / 1000) * 1.15);
  const poolSize = Math.max(sizes.refreshMovies, sizes.realInvocation ? invocationQueue : 0);

  const tPool = performance.now();
  const pool = await progress.phase(
    `ingesting ${formatCount(poolSize)} stand-in movies for the refresh runs (setup)`,
    async () => await ingestPool(ctx, await poolIds(ctx, poolSize)),
  );
  const poolSeconds = (performance.now() - tPool) / 1000;

  await ctx.sql`delete from public.refresh_queue`;
  const cold = await progress.phase(
    "refresh-worker cold start (empty queue)",
    () => invokeWorker(ctx),
    (r) => `${Math.round(r.ms)} ms`,
  );

  const runIds = pool.slice(0, sizes.refreshMovies);
  const runs: DrainFigures[] = [];
  for (const [label, faults] of [["no faults", {}], ["5 % 5xx + 5 % 429", FAULTS]] as const) {
    runs.push(
      await progress.phase(
        `refresh ${formatCount(runIds.length)} movies through refresh-worker, ${label}`,
        () => drain(ctx, runIds, label, faults),
        (r) =>
          `${formatRate(r.moviesPerSecond)}, ${r.requestsPerMovie.toFixed(3)} requests/movie, ` +
          `${formatCount(r.completed)} completed, ${formatCount(r.failed)} failed`,
      ),
    );
  }

  let invocation: InvocationFigures;
  if (sizes.realInvocation) {
    invocation = await progress.phase(
      `one refresh-worker invocation, default budget ${budgetMs / 1000} s, ` +
        `${formatCount(pool.length)} movies queued`,
      async () => {
        await queueDue(ctx, pool);
        const before = await standinStats(ctx);
        const { summary } = await invokeWorker(ctx);
        const after = await standinStats(ctx);
        await ctx.sql`delete from public.refresh_queue`;
        const movies = summary.refreshed + summary.unchanged + summary.not_found;
        return {
          method: "measured" as const,
          budgetMs,
          queued: pool.length,
          movies,
          durationMs: summary.duration_ms,
          stoppedBecause: summary.stopped_because,
          tmdbRequests: delta(after.byEndpoint, before.byEndpoint, "/movie/{id}"),
          ratioToDesign: ratio(movies, DESIGN_MOVIES_PER_TICK),
          moviesPerDay: movies * 144,
        };
      },
      (r) => `${formatCount(r.movies)} movies (${r.stoppedBecause})`,
    );
  } else {
    const movies = Math.floor(runs[0].moviesPerSecond * budgetMs / 1000);
    invocation = {
      method: "derived",
      budgetMs,
      queued: null,
      movies,
      durationMs: null,
      stoppedBecause: null,
      tmdbRequests: null,
      ratioToDesign: ratio(movies, DESIGN_MOVIES_PER_TICK),
      moviesPerDay: movies * 144,
    };
  }

  const health = await control(ctx, "health") as { size: number };
  return {
    standin: {
      rateLimitPerSecond: STANDIN_RATE_LIMIT,
      latencyMs: STANDIN_LATENCY_MS,
      size: health.size,
    },
    pool: { movies: pool.length, seconds: poolSeconds },
    coldStartMs: cold.ms,
    runs,
    invocation,
  };
}
