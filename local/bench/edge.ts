/**
 * Scenarios 6 and 7: the whole refresh pipeline as production runs it — ONE
 * `select public.call_refresh_worker('cron')`, then pg_net, the functions host under the edge
 * runtime's limits, refresh-worker's chains continuing each other (026), the shared TMDB
 * bucket (027) and the TMDB stand-in — until the queue is empty.
 *
 *   6 edge drain: movies queued as new (029's `enqueue_new_movies`) drained at the stand-in's
 *     40/s under the hosted limits (2 s CPU), then again with the host's CPU limit at 300 ms;
 *   6 pipeline ceiling: the same with the stand-in's rate limit lifted (30 ms latency kept),
 *     the shared bucket lifted too, and {@link CEILING_CHAINS} chains;
 *   7 seed at the limit: new ids from the stand-in's daily export
 *     (`/p/exports/movie_ids_MM_DD_YYYY.json.gz`), at the stand-in's rate limit, default
 *     max_chains (2).
 *
 * Figures of a drain: movies/s from the call to an empty queue; per function request (the
 * functions host's `request` log lines): CPU (`cpu_ms`), status (546 = the runtime's
 * WORKER_LIMIT); requests per movie and ids asked twice (stand-in `/__control/stats`); 429s
 * from the stand-in's own bucket. Every drain takes ids nobody used before (not in works, not
 * in refresh_queue), so each one stores new movies: the heaviest path (every row inserted).
 *
 * @module
 */
import { edgeLimitFlags, HOSTED_EDGE_LIMITS } from "../functions_host/edge_limits.ts";
import { loadOrCreateKeys } from "../lib/keys.ts";
import { functionCpuBudget, startService, stopService } from "../lib/stack.ts";
import type { BenchContext } from "./context.ts";
import { STANDIN_RATE_LIMIT } from "./refresh.ts";
import { formatCount, formatRate, percentile } from "./stats.ts";

/** Chains of the pipeline-ceiling drain (026's max_chains; each process takes ≤ 40 tokens/s). */
export const CEILING_CHAINS = 8;
/** The host's lowered CPU limit of the second edge drain. */
export const LOW_CPU_LIMIT_MS = 300;
/** Movies in the whole catalog, for the seed projection. */
export const CATALOG_MOVIES = 1_100_000;

/** Sizes of scenarios 6 and 7. */
export interface EdgeSizes {
  /** Movies of the edge drain under hosted limits. */
  edgeDrain: number;
  /** Movies of the edge drain under the lowered CPU limit. */
  lowCpuDrain: number;
  /** Movies of the pipeline-ceiling drain. */
  ceilingDrain: number;
  /** New movies of the seed. */
  seed: number;
}

/** Full and quick sizes. */
export const EDGE_SIZES: Record<"full" | "quick", EdgeSizes> = {
  full: { edgeDrain: 10_000, lowCpuDrain: 2_000, ceilingDrain: 10_000, seed: 20_000 },
  quick: { edgeDrain: 200, lowCpuDrain: 100, ceilingDrain: 300, seed: 200 },
};

/** One drain through the chains. */
export interface ChainDrain {
  /** What ran. */
  label: string;
  /** Movies queued. */
  movies: number;
  /** The functions host's CPU limit. */
  cpuLimitMs: number;
  /** refresh_worker_settings.max_chains. */
  maxChains: number;
  /** The stand-in's rate limit, or null (lifted). */
  standinRate: number | null;
  /** Seconds from the call to an empty queue. */
  drainSeconds: number;
  /** Finished items ÷ drainSeconds. */
  moviesPerSecond: number;
  /** Items completed, by result. */
  results: Record<string, number>;
  /** Items failed for good. */
  failed: number;
  /** Completed items that needed more than one attempt. */
  retried: number;
  /** Why items needed another attempt: their last errors (first 160 characters), most frequent first. */
  retryErrors: { error: string; n: number }[];
  /** refresh-worker requests the host served, and how many were continuations. */
  invocations: number;
  /** Continuations queued by the runs (edge_function_invocations). */
  continuations: number;
  /** Times the bench had to start a chain again (as a cron firing would): 0 expected. */
  restarts: number;
  /** Answers by status (546 = WORKER_LIMIT). */
  statuses: Record<string, number>;
  /** CPU per request (ms): max, p50, and requests over 1,500 ms. */
  cpuMaxMs: number;
  /** Median CPU per request. */
  cpuP50Ms: number;
  /** Requests over 1,500 ms of CPU. */
  over1500: number;
  /** Function CPU per movie (sum of cpu_ms ÷ movies). */
  cpuPerMovieMs: number;
  /** `/movie/{id}` requests the stand-in counted. */
  tmdbRequests: number;
  /** Ids of this drain the stand-in was asked for more than once. */
  idsAskedTwice: number;
  /** 429s from the stand-in's own bucket. */
  bucket429: number;
}

/** What scenario 6 reports. */
export interface EdgeResult {
  /** Under the hosted limits, stand-in at 40/s. */
  hosted: ChainDrain;
  /** Host CPU limit 300 ms. */
  lowCpu: ChainDrain;
  /** Stand-in and shared bucket lifted, {@link CEILING_CHAINS} chains. */
  ceiling: ChainDrain;
}

/** What scenario 7 reports. */
export interface SeedResult {
  /** The export file the ids came from, and its lines. */
  exportFile: string;
  /** Lines in it. */
  exportLines: number;
  /** The project's configured rate (tmdb_rate_limit.requests_per_second). */
  configuredRate: number;
  /** The drain. */
  drain: ChainDrain;
  /** Hours to seed {@link CATALOG_MOVIES} at the measured rate. */
  projectedHours: number;
  /** Hours the configured rate allows for them. */
  rateBoundHours: number;
}

interface ExportLine {
  id: number;
  popularity: number;
  adult: boolean;
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

/** The newest export the stand-in publishes: its name and lines. */
export async function readExport(
  ctx: BenchContext,
): Promise<{ file: string; lines: ExportLine[] }> {
  const { available } = await control(ctx, "exports") as { available: string[] };
  const file = available.find((f) => f.startsWith("movie_ids_"));
  if (!file) {
    throw new Error(`the stand-in publishes no movie export: ${JSON.stringify(available)}`);
  }
  const res = await fetch(`http://127.0.0.1:${ctx.cfg.tmdbPort}/p/exports/${file}`);
  if (!res.ok || !res.body) throw new Error(`export ${file} answered ${res.status}`);
  const text = await new Response(res.body.pipeThrough(new DecompressionStream("gzip"))).text();
  const lines = text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
  return { file, lines };
}

/** The first `n` non-adult export ids that are neither in works nor were ever queued. */
async function freshIds(ctx: BenchContext, lines: ExportLine[], n: number) {
  const candidates = lines.filter((l) => !l.adult);
  const used = new Set(
    (await ctx.sql<{ id: number }[]>`
      select tmdb_id as id from public.works
      union select tmdb_id from public.refresh_queue`).map((r) => Number(r.id)),
  );
  const picked = candidates.filter((l) => !used.has(l.id)).slice(0, n);
  if (picked.length < n) {
    throw new Error(`the export holds ${picked.length} unused ids; this drain needs ${n}`);
  }
  return picked;
}

interface HostRequest {
  status: number;
  cpu_ms: number;
}

/** refresh-worker's `request` lines of the functions host's log after byte `offset`. */
async function hostRequests(logFile: string, offset: number): Promise<HostRequest[]> {
  const bytes = await Deno.readFile(logFile);
  const text = new TextDecoder().decode(bytes.subarray(offset));
  const out: HostRequest[] = [];
  for (const line of text.split("\n")) {
    if (!line.includes('"event":"request"') || !line.includes('"refresh-worker"')) continue;
    try {
      const e = JSON.parse(line);
      if (e.event === "request" && e.function === "refresh-worker") {
        out.push({ status: Number(e.status), cpu_ms: Number(e.cpu_ms ?? 0) });
      }
    } catch { /* a line cut by a concurrent write: not a request line */ }
  }
  return out;
}

async function fileSize(path: string): Promise<number> {
  return await Deno.stat(path).then((s) => s.size).catch(() => 0);
}

interface StandinStats {
  byEndpoint: Record<string, number>;
  byMovieId: Record<string, number>;
  rateLimited: number;
}

/**
 * Queues `lines` as new movies, fires ONE `call_refresh_worker('cron')` and waits until the
 * queue is empty and no run is in flight. A chain that ended while items were still ready
 * (a run killed at a limit) is started again, as the next cron firing would, and counted.
 */
async function chainDrain(
  ctx: BenchContext,
  label: string,
  lines: ExportLine[],
  opts: { cpuLimitMs: number; maxChains: number; standinRate: number | null },
): Promise<ChainDrain> {
  const { sql } = ctx;
  const logFile = `${ctx.cfg.logDir}/functions_host.log`;
  await sql`delete from public.refresh_queue where status in ('pending', 'processing')`;
  await sql`update public.refresh_worker_settings set max_chains = ${opts.maxChains}`;
  const ids = lines.map((l) => l.id);
  const [{ queued }] = await sql`
    select public.enqueue_new_movies(${ids}::bigint[], ${
    lines.map((l) => l.popularity)
  }::double precision[]) as queued`;
  if (queued !== ids.length) {
    throw new Error(`enqueue_new_movies queued ${queued} of ${ids.length}`);
  }
  const offset = await fileSize(logFile);
  const before = await control(ctx, "stats") as StandinStats;
  const [{ since }] = await sql`select now() as since`;
  const t0 = performance.now();
  await sql`select public.call_refresh_worker('cron')`;
  let restarts = 0;
  let drainSeconds = 0;
  const limitMs = Math.max(180_000, ids.length / (opts.standinRate ?? 100) * 4_000);
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const [q] = await sql`
      select count(*) filter (where status in ('pending', 'processing'))::int as open,
             count(*) filter (where status = 'pending' and next_attempt_at <= now())::int as ready,
             public.refresh_worker_runs_in_flight() as in_flight
        from public.refresh_queue where tmdb_id = any(${ids}::int[])`;
    if (q.open === 0 && drainSeconds === 0) drainSeconds = (performance.now() - t0) / 1000;
    if (q.open === 0 && q.in_flight === 0) break;
    if (q.open > 0 && q.ready > 0 && q.in_flight === 0) {
      restarts++;
      await sql`select public.call_refresh_worker('cron')`;
    }
    if (performance.now() - t0 > limitMs) {
      throw new Error(`${label}: the queue did not drain in ${Math.round(limitMs / 1000)} s`);
    }
  }
  // The host writes a request's line when its answer ends: let the last one land.
  await new Promise((r) => setTimeout(r, 500));
  const after = await control(ctx, "stats") as StandinStats;
  const requests = await hostRequests(logFile, offset);
  const rows = await sql`
    select status, coalesce(result, '') as result, count(*)::int as n,
           count(*) filter (where retry_count > 1)::int as retried
      from public.refresh_queue where tmdb_id = any(${ids}::int[]) group by 1, 2`;
  const results: Record<string, number> = {};
  let failed = 0;
  let retried = 0;
  for (const r of rows) {
    retried += r.retried;
    if (r.status === "completed") results[r.result] = (results[r.result] ?? 0) + r.n;
    else if (r.status === "failed") failed += r.n;
  }
  const retryErrors = (await sql<{ error: string; n: number }[]>`
    select left(coalesce(last_error, '(none)'), 160) as error, count(*)::int as n
      from public.refresh_queue where tmdb_id = any(${ids}::int[]) and retry_count > 1
     group by 1 order by 2 desc limit 5`).map((r) => ({ error: r.error, n: r.n }));
  const [{ continuations }] = await sql`
    select count(*)::int as continuations from public.edge_function_invocations
     where function_name = 'refresh-worker' and trigger = 'continuation' and invoked_at >= ${since}`;
  const cpu = requests.map((r) => r.cpu_ms).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const r of requests) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const finished = Object.values(results).reduce((a, b) => a + b, 0) + failed;
  return {
    label,
    movies: ids.length,
    cpuLimitMs: opts.cpuLimitMs,
    maxChains: opts.maxChains,
    standinRate: opts.standinRate,
    drainSeconds,
    moviesPerSecond: finished / drainSeconds,
    results,
    failed,
    retried,
    retryErrors,
    invocations: requests.length,
    continuations,
    restarts,
    statuses,
    cpuMaxMs: cpu.length ? cpu[cpu.length - 1] : 0,
    cpuP50Ms: cpu.length ? percentile(cpu, 50) : 0,
    over1500: cpu.filter((c) => c > 1_500).length,
    cpuPerMovieMs: cpu.reduce((a, b) => a + b, 0) / ids.length,
    tmdbRequests: (after.byEndpoint["/movie/{id}"] ?? 0) - (before.byEndpoint["/movie/{id}"] ?? 0),
    idsAskedTwice:
      ids.filter((id) =>
        (after.byMovieId[String(id)] ?? 0) - (before.byMovieId[String(id)] ?? 0) > 1
      ).length,
    bucket429: after.rateLimited - before.rateLimited,
  };
}

/** Restarts the functions host with CPU limit `cpuLimitMs` (the other limits hosted's). */
async function restartHost(ctx: BenchContext, cpuLimitMs: number): Promise<void> {
  await stopService(ctx.cfg, "functions_host");
  const keys = await loadOrCreateKeys(ctx.cfg.keysFile);
  const limits = { ...HOSTED_EDGE_LIMITS, cpuLimitMs };
  await startService(
    ctx.cfg,
    ctx.info,
    keys,
    "functions_host",
    edgeLimitFlags(limits),
    functionCpuBudget(cpuLimitMs),
  );
}

function describe(d: ChainDrain): string {
  return `${formatRate(d.moviesPerSecond)}, ${formatCount(d.invocations)} requests, ` +
    `max CPU ${d.cpuMaxMs} ms, 546: ${d.statuses["546"] ?? 0}`;
}

/**
 * Scenario 6. The bench stack's host must run with hosted limits (it is restarted with the
 * lowered CPU limit for the second drain, and back). The hourly continuation cap is raised
 * for the run: the bench drains in minutes what production drains in hours.
 */
export async function runEdge(ctx: BenchContext): Promise<EdgeResult> {
  const sizes = EDGE_SIZES[ctx.quick ? "quick" : "full"];
  const { progress, sql } = ctx;
  await sql`update public.refresh_worker_settings set max_continuations_per_hour = 10000`;
  const { lines } = await readExport(ctx);
  const hostedCpu = HOSTED_EDGE_LIMITS.cpuLimitMs;
  const hosted = await progress.phase(
    `edge drain: ${formatCount(sizes.edgeDrain)} new movies, ONE call_refresh_worker('cron'), ` +
      `hosted limits, stand-in ${STANDIN_RATE_LIMIT}/s`,
    async () =>
      chainDrain(ctx, "hosted limits", await freshIds(ctx, lines, sizes.edgeDrain), {
        cpuLimitMs: hostedCpu,
        maxChains: 2,
        standinRate: STANDIN_RATE_LIMIT,
      }),
    describe,
  );
  let lowCpu: ChainDrain;
  await restartHost(ctx, LOW_CPU_LIMIT_MS);
  try {
    lowCpu = await progress.phase(
      `edge drain: ${formatCount(sizes.lowCpuDrain)} new movies, host CPU limit ` +
        `${LOW_CPU_LIMIT_MS} ms`,
      async () =>
        chainDrain(
          ctx,
          `CPU limit ${LOW_CPU_LIMIT_MS} ms`,
          await freshIds(ctx, lines, sizes.lowCpuDrain),
          {
            cpuLimitMs: LOW_CPU_LIMIT_MS,
            maxChains: 2,
            standinRate: STANDIN_RATE_LIMIT,
          },
        ),
      describe,
    );
  } finally {
    await restartHost(ctx, hostedCpu);
  }
  // The ceiling: TMDB's limit out of the way (the stand-in's and the project's own bucket,
  // whose check constraint caps it at TMDB's 50/s: dropped here, restored after).
  await control(ctx, "rate-limit", { perSecond: null });
  await sql`alter table public.tmdb_rate_limit drop constraint tmdb_rate_limit_rate_range`;
  await sql`update public.tmdb_rate_limit set requests_per_second = 100000, burst = 50`;
  let ceiling: ChainDrain;
  try {
    ceiling = await progress.phase(
      `pipeline ceiling: ${formatCount(sizes.ceilingDrain)} new movies, rate limits lifted, ` +
        `${CEILING_CHAINS} chains`,
      async () =>
        chainDrain(ctx, "rate limits lifted", await freshIds(ctx, lines, sizes.ceilingDrain), {
          cpuLimitMs: hostedCpu,
          maxChains: CEILING_CHAINS,
          standinRate: null,
        }),
      describe,
    );
  } finally {
    await sql`update public.tmdb_rate_limit set requests_per_second = 40, burst = 8, tokens = 0`;
    await sql`alter table public.tmdb_rate_limit add constraint tmdb_rate_limit_rate_range
                check (requests_per_second > 0 and requests_per_second <= 50)`;
    await control(ctx, "rate-limit", { perSecond: STANDIN_RATE_LIMIT });
    await sql`update public.refresh_worker_settings set max_chains = 2`;
  }
  return { hosted, lowCpu, ceiling };
}

/** Scenario 7: seed new ids from the export at the stand-in's rate limit, default max_chains. */
export async function runSeed(ctx: BenchContext): Promise<SeedResult> {
  const sizes = EDGE_SIZES[ctx.quick ? "quick" : "full"];
  const { sql, progress } = ctx;
  await sql`update public.refresh_worker_settings set max_continuations_per_hour = 10000, max_chains = 2`;
  const { file, lines } = await readExport(ctx);
  const [{ rate }] = await sql`
    select requests_per_second::float8 as rate from public.tmdb_rate_limit`;
  const drain = await progress.phase(
    `seed at the limit: ${formatCount(sizes.seed)} new ids from ${file}, stand-in ` +
      `${STANDIN_RATE_LIMIT}/s, max_chains 2`,
    async () =>
      chainDrain(ctx, "seed", await freshIds(ctx, lines, sizes.seed), {
        cpuLimitMs: HOSTED_EDGE_LIMITS.cpuLimitMs,
        maxChains: 2,
        standinRate: STANDIN_RATE_LIMIT,
      }),
    describe,
  );
  return {
    exportFile: file,
    exportLines: lines.length,
    configuredRate: Number(rate),
    drain,
    projectedHours: CATALOG_MOVIES / drain.moviesPerSecond / 3600,
    rateBoundHours: CATALOG_MOVIES / Number(rate) / 3600,
  };
}
