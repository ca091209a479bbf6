/**
 * Scenario 8, export import: discover-movies importing TMDB's daily id export into the
 * catalog — a TMDB stand-in of its own at catalog size (1.2 M ids on its anchor day, so its
 * export has ~1.1 M lines; `--quick`: 20,000), a second functions host whose
 * `TMDB_EXPORTS_BASE_URL` points at it, and two imports: yesterday's file (seeding: every
 * id new) and today's (the daily diff: a few new, a few absent). The runs are called back to
 * back by the bench, not chained through pg_net (the stack's own host would serve a
 * continuation, against the stack's small stand-in): continuations are capped off for the
 * scenario (`discovery_settings.max_continuations_per_hour = 0`) and each run resumes the
 * import where the last one stopped, as a continuation does.
 *
 * Figures per import: wall time, invocations, CPU per invocation (max and p50, as the
 * function measures its process; the host's metered maximum beside), the process's peak
 * memory, lines, ids queued. Target 8: each import in minutes
 * (< 10 min) with no invocation over the edge runtime's 2 s of CPU (and no 546).
 *
 * @module
 */
import { edgeLimitsFromEnv } from "../functions_host/edge_limits.ts";
import { startFunctionsHost } from "../functions_host/host.ts";
import { startTmdbStandin } from "../tmdb_standin/standin.ts";
import type { BenchContext } from "./context.ts";
import type { TableRow, TargetResult } from "./report.ts";
import { verdict } from "./report.ts";
import { formatCount, formatMs } from "./stats.ts";

/** Stand-in catalog sizes (ids on the anchor day). */
export const EXPORT_CATALOG_SIZE = { full: 1_200_000, quick: 20_000 } as const;

/** Target 8: an import finishes within this wall time. */
export const EXPORT_IMPORT_MAX_SECONDS = 600;

/** The edge runtime's CPU limit per request (hosted Supabase). */
export const EDGE_CPU_LIMIT_MS = 2_000;

/** One import's figures. */
export interface ImportFigures {
  /** `seed` (every id new) or `daily` (the next day's diff). */
  kind: "seed" | "daily";
  /** The export day. */
  day: string;
  /** Wall time from the first call to the import done, in seconds. */
  seconds: number;
  /** Function invocations it took. */
  invocations: number;
  /** Answers other than 200 (a 546 is the runtime killing a run). */
  failedInvocations: number;
  /** Statuses of those answers. */
  failedStatuses: number[];
  /** Largest `cpu_ms` a run reported. */
  cpuMaxMs: number;
  /** Median `cpu_ms`. */
  cpuP50Ms: number;
  /** Largest CPU of one request as the functions host metered it (its limit's measure). */
  hostCpuMaxMs: number;
  /** Peak resident memory of the function's process during the import, MB (host's measure). */
  maxRssMb: number;
  /** Lines of the file (staged and parsed). */
  lines: number;
  /** Malformed lines. */
  malformed: number;
  /** Ids new to `tmdb_export_ids`. */
  newIds: number;
  /** Rows `enqueue_new_movies` queued. */
  queuedNew: number;
  /** Known ids missing from the file. */
  absent: number;
  /** Seconds from the import's start until its last line was staged (download). */
  downloadSeconds: number;
  /** Seconds from then until the import was done (parse and diff, in Postgres). */
  diffSeconds: number;
}

/** Scenario 8's result. */
export interface ExportImportResult {
  /** Stand-in catalog size. */
  catalogSize: number;
  /** The two imports. */
  imports: ImportFigures[];
  /** The functions host's CPU limit during the run (ms). */
  cpuLimitMs: number;
}

/** Runs scenario 8 (see the module docs). */
export async function runExportImport(ctx: BenchContext): Promise<ExportImportResult> {
  const { sql, progress, cfg } = ctx;
  const size = ctx.quick ? EXPORT_CATALOG_SIZE.quick : EXPORT_CATALOG_SIZE.full;
  const standin = await progress.phase(
    `starting a TMDB stand-in of ${formatCount(size)} movies for the exports`,
    () => startTmdbStandin({ port: 0, size, exportPublishHour: 0, variation: false }),
  );
  const env: Record<string, string> = JSON.parse(
    await Deno.readTextFile(`${cfg.dir}/functions_env.json`),
  );
  const limits = edgeLimitsFromEnv(Deno.env);
  // The host's own measure of each request (CPU, peak memory), as it enforces its limits.
  const requests: { cpuMs: number; rssMb: number }[] = [];
  const onLog = (entry: Record<string, unknown>) => {
    if (entry.event === "request" && typeof entry.cpu_ms === "number") {
      requests.push({ cpuMs: entry.cpu_ms, rssMb: Number(entry.max_rss_mb ?? 0) });
    }
  };
  const host = await startFunctionsHost({
    ...limits,
    port: 0,
    functionsDir: `${cfg.root}/supabase/functions`,
    env: { ...env, TMDB_EXPORTS_BASE_URL: `${standin.origin}/p/exports` },
    envFile: `${cfg.dir}/no-user-secrets.env`,
    log: onLog,
  }).catch(async (error) => {
    await standin.close();
    throw error;
  });
  const key = ctx.info.serviceRoleKey;
  const [settings] = await sql`select * from public.discovery_settings`;
  try {
    await sql`update public.discovery_settings set max_continuations_per_hour = 0`;
    await sql`delete from public.export_imports`;
    await sql`truncate public.tmdb_export_ids, public.export_import_lines, public.export_import_ids`;
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.parse(today) - 86_400_000).toISOString().slice(0, 10);
    const imports: ImportFigures[] = [];
    for (const [kind, day] of [["seed", yesterday], ["daily", today]] as const) {
      imports.push(
        await progress.phase(
          `importing the ${kind === "seed" ? "first" : "next"} export (${day})`,
          () =>
            importDay(`${host.url}/functions/v1/discover-movies`, key, kind, day, ctx, requests),
          (f) =>
            `${formatCount(f.lines)} lines, ${f.invocations} invocations, CPU max ` +
            `${formatMs(f.cpuMaxMs)}`,
        ),
      );
    }
    return { catalogSize: size, imports, cpuLimitMs: limits.cpuLimitMs };
  } finally {
    await sql`
      update public.discovery_settings
         set max_continuations_per_hour = ${settings.max_continuations_per_hour}`;
    await host.close();
    await standin.close();
  }
}

/** Calls discover-movies for `day` until its import is done; the figures of that import. */
async function importDay(
  url: string,
  key: string,
  kind: "seed" | "daily",
  day: string,
  ctx: BenchContext,
  requests: { cpuMs: number; rssMb: number }[],
): Promise<ImportFigures> {
  requests.length = 0;
  const t0 = performance.now();
  const cpu: number[] = [];
  const failedStatuses: number[] = [];
  // deno-lint-ignore no-explicit-any
  let last: any = null;
  for (let call = 1; call <= 500; call++) {
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ day }),
    });
    const text = await res.text();
    if (res.status !== 200) {
      failedStatuses.push(res.status);
      if (failedStatuses.length >= 5) {
        throw new Error(
          `discover-movies failed 5 times, last ${res.status}: ${text.slice(0, 300)}`,
        );
      }
      continue;
    }
    last = JSON.parse(text);
    cpu.push(last.cpu_ms);
    if (last.outcome !== "in_progress") break;
  }
  if (last === null || last.import.status !== "done") {
    throw new Error(`the import of ${day} did not finish: ${JSON.stringify(last)?.slice(0, 300)}`);
  }
  const [row] = await ctx.sql`
    select i.*, extract(epoch from i.downloaded_at - i.started_at)::float8 as download_s,
           extract(epoch from i.finished_at - i.downloaded_at)::float8 as diff_s
      from public.export_imports i where i.export_day = ${day}`;
  const sorted = [...cpu].sort((a, b) => a - b);
  return {
    kind,
    day,
    seconds: (performance.now() - t0) / 1000,
    invocations: cpu.length + failedStatuses.length,
    failedInvocations: failedStatuses.length,
    failedStatuses,
    cpuMaxMs: sorted.at(-1) ?? 0,
    cpuP50Ms: sorted[Math.floor(sorted.length / 2)] ?? 0,
    hostCpuMaxMs: Math.max(0, ...requests.map((r) => r.cpuMs)),
    maxRssMb: Math.max(0, ...requests.map((r) => r.rssMb)),
    lines: Number(row.lines_parsed),
    malformed: Number(row.malformed_lines),
    newIds: Number(row.new_ids),
    queuedNew: Number(row.queued_new),
    absent: Number(row.absent_ids),
    downloadSeconds: Number(row.download_s),
    diffSeconds: Number(row.diff_s),
  };
}

/** Target 8 and its verdict (`met: null` when the scenario did not run). */
export function exportImportTarget(r: ExportImportResult | undefined): TargetResult {
  const description = `export import: 1.1 M lines in minutes (< ${
    EXPORT_IMPORT_MAX_SECONDS / 60
  } min), no invocation over ${EDGE_CPU_LIMIT_MS} ms CPU`;
  if (!r) return { id: "8", description, met: null, detail: "scenario 8 did not run" };
  const worst = Math.max(...r.imports.map((i) => Math.max(i.cpuMaxMs, i.hostCpuMaxMs)));
  const slowest = Math.max(...r.imports.map((i) => i.seconds));
  const failed = r.imports.reduce((n, i) => n + i.failedInvocations, 0);
  return {
    id: "8",
    description,
    met: slowest < EXPORT_IMPORT_MAX_SECONDS && worst < EDGE_CPU_LIMIT_MS && failed === 0,
    detail:
      r.imports.map((i) => `${i.kind} ${formatCount(i.lines)} lines ${i.seconds.toFixed(0)} s`)
        .join(", ") +
      `; CPU max ${formatMs(worst)} per invocation; ${failed} failed invocations` +
      (r.catalogSize < EXPORT_CATALOG_SIZE.full ? " (quick)" : ""),
  };
}

/** Scenario 8's table rows. */
export function exportImportRows(r: ExportImportResult, target: TargetResult): TableRow[] {
  return r.imports.map((i) => ({
    scenario: "8 export import",
    metric: `${i.kind === "seed" ? "first import (every id new)" : "next day's diff"}, ` +
      `${formatCount(i.lines)} lines: wall time (download + parse and diff), invocations, ` +
      "CPU per invocation max / p50 (host's max); peak memory; ids new, queued, absent",
    ours: `${i.seconds.toFixed(1)} s (${i.downloadSeconds.toFixed(1)} + ` +
      `${i.diffSeconds.toFixed(1)} s), ${i.invocations}, ` +
      `${formatMs(i.cpuMaxMs)} / ${formatMs(i.cpuP50Ms)} (${formatMs(i.hostCpuMaxMs)}); ` +
      `${i.maxRssMb.toFixed(0)} MB; ${formatCount(i.newIds)}, ` +
      `${formatCount(i.queuedNew)}, ${formatCount(i.absent)}` +
      (i.failedInvocations ? `; failed answers ${i.failedStatuses.join(", ")}` : ""),
    versus: `edge limits ${formatMs(r.cpuLimitMs)} CPU, 256 MB`,
    ratio: "",
    target: `8: ${verdict(target.met)}`,
  }));
}
