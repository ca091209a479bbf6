/** `npm run status`: the health of a local stack at a glance. */
import postgres from "postgres";
import { serverRunning } from "./pg_cluster.ts";
import {
  DEPTH_QUERY,
  type DepthState,
  formatFreshness,
  FRESHNESS_QUERY,
  type FreshnessRow,
} from "./freshness_status.ts";
import { portOpen, readPid } from "./procs.ts";
import { SERVICES } from "./stack.ts";
import { dbUrl, type StackConfig } from "./stack_config.ts";

/** One `name  value` line of the status, the values aligned. */
export function statusLine(name: string, value: string): string {
  return `${name.padEnd(22)} ${value}`;
}

/** A service's state: its pid when running, and whether its port (if it has one) is open. */
export function serviceState(pid: number | null, port?: { port: number; open: boolean }): string {
  const portState = port ? `, port ${port.port} ${port.open ? "open" : "closed"}` : "";
  return pid ? `running (pid ${pid}${portState})` : `stopped${portState}`;
}

/** How many migrations are applied, and the latest. */
export function migrationsState(applied: ReadonlyArray<{ version: string; name: string }>): string {
  const latest = applied.at(-1);
  return `${applied.length}${latest ? ` (latest ${latest.version}_${latest.name})` : ""}`;
}

/** A row of `cron.job` with its last run. */
export interface CronJob {
  /** Null for a job scheduled without a name. */
  jobname: string | null;
  schedule: string;
  active: boolean;
  last_run: Date | string | null;
  last_status: string | null;
}

/** One cron job: name, schedule, active or paused, and its last run. */
export function cronJobLine(job: CronJob): string {
  const lastRun = job.last_run
    ? `${new Date(job.last_run).toISOString()} (${job.last_status})`
    : "never";
  return `  ${String(job.jobname).padEnd(28)} ${job.schedule.padEnd(16)} ${
    job.active ? "active" : "PAUSED"
  }  last run: ${lastRun}`;
}

/** Counts by status (`pending=3 done=10`), or `empty`. */
export function countsByStatus(rows: ReadonlyArray<{ status: string; n: number }>): string {
  return rows.length ? rows.map((r) => `${r.status}=${r.n}`).join(" ") : "empty";
}

/** Path/kind pairs of payload drift listed by `npm run status`. */
export const DRIFT_TOP = 10;

/** One path and kind of `public.tmdb_payload_drift`, summed over a period. */
export interface DriftSummaryRow {
  /** Field path, e.g. `credits.cast[].character` or `list:results[].title`. */
  path: string;
  /** `missing`, `null`, `wrong_type` or `unknown`. */
  kind: string;
  /** Occurrences, summed over the runs. */
  count: number;
  /** Runs that saw it. */
  runs: number;
  /** A movie that showed it (none for list and change-feed pages). */
  sample_tmdb_id: number | null;
}

/**
 * The drift section: a title line, then a header and one line per row (count, runs, kind,
 * sample, path; the path last because it is the longest).
 *
 * @example
 * formatDrift([{ path: "tagline", kind: "missing", count: 3, runs: 1, sample_tmdb_id: 550 }], 1);
 * // ["payload drift (last 24 h): 1 path/kind pair",
 * //  "    count   runs  kind           sample  path",
 * //  "        3      1  missing           550  tagline"]
 */
export function formatDrift(rows: readonly DriftSummaryRow[], total: number): string[] {
  const title = "payload drift (last 24 h)";
  if (rows.length === 0) return [`${title}: none`];
  const pairs = `${total} path/kind pair${total === 1 ? "" : "s"}`;
  const lines = [
    `${title}: ${pairs}${rows.length < total ? `, top ${rows.length} by count` : ""}`,
    `    ${"count".padStart(5)}  ${"runs".padStart(5)}  ${"kind".padEnd(10)}  ${
      "sample".padStart(9)
    }  path`,
  ];
  for (const r of rows) {
    lines.push(
      `    ${String(r.count).padStart(5)}  ${String(r.runs).padStart(5)}  ${r.kind.padEnd(10)}  ${
        String(r.sample_tmdb_id ?? "-").padStart(9)
      }  ${r.path}`,
    );
  }
  return lines;
}

/** refresh-worker chains now (`refresh_worker_settings` and the invocation log). */
export interface ChainState {
  /** `refresh_worker_runs_in_flight()`. */
  in_flight: number;
  /** Continuations queued in the last hour. */
  continuations_last_hour: number;
  /** `refresh_worker_settings.paused`. */
  paused: boolean;
  /** `refresh_worker_settings.max_chains`. */
  max_chains: number;
  /** `refresh_worker_settings.max_continuations_per_hour`. */
  max_continuations_per_hour: number;
}

/**
 * The value of the `refresh chains` line.
 *
 * @example
 * formatChains({ in_flight: 1, continuations_last_hour: 3, paused: false, max_chains: 1,
 *   max_continuations_per_hour: 240 });
 * // "1 run in flight (max_chains 1), 3 continuations in the last hour (cap 240), not paused"
 */
export function formatChains(s: ChainState): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return `${plural(s.in_flight, "run")} in flight (max_chains ${s.max_chains}), ` +
    `${plural(s.continuations_last_hour, "continuation")} in the last hour ` +
    `(cap ${s.max_continuations_per_hour}), ` +
    (s.paused ? "PAUSED (refresh_worker_settings.paused)" : "not paused");
}

/**
 * Prints processes, ports, migrations, cron jobs, pg_net backlog, queue counts, refresh-worker
 * chains, the catalog's freshness and depth, and the payload drift of the last 24 hours.
 */
export async function printStatus(cfg: StackConfig): Promise<number> {
  const line = (k: string, v: string) => console.log(statusLine(k, v));
  console.log(`stack "${cfg.name}" (${cfg.dir})`);
  const pgUp = await serverRunning(cfg);
  line("postgres", pgUp ? `running on 127.0.0.1:${cfg.pgPort}` : "stopped");
  const ports: Record<string, number> = {
    functions_host: cfg.functionsPort,
    tmdb_standin: cfg.tmdbPort,
  };
  for (const s of SERVICES) {
    const pid = await readPid(`${cfg.pidDir}/${s}.pid`);
    const port = ports[s];
    line(s, serviceState(pid, port ? { port, open: await portOpen(port) } : undefined));
  }
  if (!pgUp) return 1;
  const sql = postgres(dbUrl(cfg, "postgres"), { max: 1, onnotice: () => {} });
  try {
    const migrations = await sql<{ version: string; name: string }[]>`
      select version, name from supabase_migrations.schema_migrations order by version`
      .catch(() => []);
    line("migrations applied", migrationsState(migrations));
    const jobs = await sql<CronJob[]>`
      select j.jobname, j.schedule, j.active,
             (select max(d.start_time) from cron.job_run_details d where d.jobid = j.jobid) as last_run,
             (select d.status from cron.job_run_details d where d.jobid = j.jobid order by d.start_time desc limit 1) as last_status
      from cron.job j order by j.jobname`.catch(() => []);
    console.log(`cron jobs (${jobs.length}):`);
    for (const job of jobs) console.log(cronJobLine(job));
    const [net] = await sql`select
        (select count(*) from net.http_request_queue)::int as pending,
        (select count(*) from net._http_response)::int as responses,
        (select count(*) from net._http_response where error_msg is not null or timed_out)::int as failed`
      .catch(() => [{ pending: "?", responses: "?", failed: "?" }]);
    line(
      "pg_net",
      `${net.pending} pending, ${net.responses} responses kept (${net.failed} errors/timeouts)`,
    );
    const queue = await sql<{ status: string; n: number }[]>`
      select status, count(*)::int as n from public.refresh_queue group by status order by status`
      .catch(() => null);
    if (queue) line("refresh_queue", countsByStatus(queue));
    const [chains] = await sql<ChainState[]>`
      select public.refresh_worker_runs_in_flight() as in_flight,
             (select count(*) from public.edge_function_invocations i
               where i.function_name = 'refresh-worker' and i.trigger = 'continuation'
                 and i.invoked_at > now() - interval '1 hour')::int as continuations_last_hour,
             s.paused, s.max_chains, s.max_continuations_per_hour
        from public.refresh_worker_settings s`.catch(() => []);
    if (chains) line("refresh chains", formatChains(chains));
    const works = await sql`select count(*)::int as n from public.works`.catch(() => null);
    if (works) line("works", String(works[0].n));
    const [freshness] = await sql.unsafe<FreshnessRow[]>(FRESHNESS_QUERY).catch(() => []);
    const [depth] = await sql.unsafe<DepthState[]>(DEPTH_QUERY).catch(() => []);
    if (freshness) {
      console.log("catalog freshness (catalog_freshness):");
      for (const [k, v] of formatFreshness(freshness, depth ?? null)) line(`  ${k}`, v);
    }
    const drift = await sql<(DriftSummaryRow & { total: number })[]>`
      select path, kind, sum(count)::int as count, count(distinct run_id)::int as runs,
             (array_agg(sample_tmdb_id order by last_seen_at desc)
                filter (where sample_tmdb_id is not null))[1] as sample_tmdb_id,
             (count(*) over ())::int as total
        from public.tmdb_payload_drift
       where last_seen_at > now() - interval '24 hours'
       group by path, kind
       order by 3 desc, path, kind
       limit ${DRIFT_TOP}`.catch(() => null);
    if (drift) {
      for (const l of formatDrift(drift, drift[0]?.total ?? 0)) console.log(l);
    }
  } finally {
    await sql.end();
  }
  return 0;
}
