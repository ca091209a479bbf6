/**
 * `POST /functions/v1/discover-movies`: import TMDB's daily id export (`discovery.ts`) —
 * new ids queued for ingest, ids absent twice queued for a recheck — within a wall-clock
 * and a CPU budget, then hand over to the next run of its chain while the import is
 * unfinished (`public.continue_discover_movies`). Called daily at 08:30 UTC by
 * `public.call_discover_movies()` through pg_net, or by an operator.
 * docs/functions.md#discover-movies has the request and the answers.
 *
 * @module
 */

import { z } from "zod";
import { bodyObject, intInRange, runFields } from "../_shared/http/body_fields.ts";
import {
  type BaseHandlerDeps,
  defineHandler,
  type HandleContext,
} from "../_shared/http/handler.ts";
import { jsonResponse } from "../_shared/http/response.ts";
import type { ExportImport, ExportImportStore } from "../_shared/store/export_imports.ts";
import type { Continuation } from "../_shared/store/refresh_queue.ts";
import { type DiscoveryStop, type FetchExport, runDiscovery } from "./discovery.ts";

/** The function's name (folder), used in logs. */
export const FUNCTION_NAME = "discover-movies";

/** Bounds and default of `budget_ms` (pg_net waits 150 s). */
export const BUDGET_MS = { min: 1_000, max: 140_000, default: 110_000 } as const;

/** Bounds of `cpu_budget_ms` (hosted Supabase kills a function at 2000 ms). */
export const CPU_BUDGET_MS = { min: 10, max: 1_900 } as const;

/** Bounds and default of `step_rows`, the rows of one parse/diff slice in SQL. */
export const STEP_ROWS = { min: 100, max: 1_000_000, default: 100_000 } as const;

/**
 * Bounds and default of `segment_kb`: decompressed KiB staged per transaction (one segment
 * is held in memory at a time: 8 MiB by default, far below the 256 MB limit).
 */
export const SEGMENT_KB = { min: 16, max: 65_536, default: 8_192 } as const;

/** The request body. */
export const discoverMoviesBodySchema = bodyObject({
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "day must be a date YYYY-MM-DD").refine(
    (d) =>
      !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) &&
      new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    "day must be a real date YYYY-MM-DD",
  ).optional(),
  budget_ms: intInRange("budget_ms", BUDGET_MS.min, BUDGET_MS.max).default(BUDGET_MS.default),
  cpu_budget_ms: intInRange("cpu_budget_ms", CPU_BUDGET_MS.min, CPU_BUDGET_MS.max).optional(),
  step_rows: intInRange("step_rows", STEP_ROWS.min, STEP_ROWS.max).default(STEP_ROWS.default),
  segment_kb: intInRange("segment_kb", SEGMENT_KB.min, SEGMENT_KB.max).default(
    SEGMENT_KB.default,
  ),
  chain_id: z.string().uuid("chain_id must be a uuid").optional(),
  chain_link: intInRange("chain_link", 1, 1_000_000).optional(),
  ...runFields,
  // A run started by the previous run of its chain (public.continue_discover_movies).
  trigger: z.enum(["cron", "manual", "continuation"], {
    errorMap: () => ({ message: "trigger must be 'cron', 'manual' or 'continuation'" }),
  }).default("manual"),
});

/** A parsed request body. */
export type DiscoverMoviesBody = z.infer<typeof discoverMoviesBodySchema>;

/** The response body (200). */
export interface DiscoverMoviesSummary {
  /** The run id. */
  run_id: string;
  /** `cron`, `manual` or `continuation`. */
  trigger: "cron" | "manual" | "continuation";
  /** The cron job, when there is one. */
  job_name: string | null;
  /** `imported`, `in_progress`, `already_imported` or `older` (see `discovery.ts`). */
  outcome: "imported" | "in_progress" | "already_imported" | "older";
  /** The import's `public.export_imports` row at the end. */
  import: ExportImport;
  /** Whether today's file was missing and the day before's was used. */
  fell_back: boolean;
  /** Whether this run resumed an import in progress. */
  resumed: boolean;
  /** Segments and decompressed bytes this run staged, and its parse/diff slices. */
  segments: number;
  /** Decompressed bytes this run staged. */
  bytes_staged: number;
  /** `discover_step` calls of this run. */
  steps: number;
  /** Why the run stopped. */
  stopped_because: DiscoveryStop;
  /** The chain of runs: its first run's id and this run's place in it. */
  chain: { id: string; link: number };
  /** Whether this run queued the next one (only tried after stopping for a budget). */
  continuation: Continuation | null;
  /** CPU the function's process used, in ms. */
  cpu_ms: number;
  /** Whether `cpu_ms` was measured. */
  cpu_measured: boolean;
  /** Wall time of the run. */
  duration_ms: number;
}

/** What the handler needs (the real ones come from `_shared/runtime.ts`). */
export interface HandlerDeps extends BaseHandlerDeps {
  /** The import bookkeeping and staging. */
  imports: ExportImportStore;
  /** Fetches export files (default `fetch`). */
  fetchExport?: FetchExport;
  /** `TMDB_EXPORTS_BASE_URL`. */
  exportsBaseUrl: string;
}

/** The `discover-movies` request handler, over its dependencies (see `defineHandler`). */
export const createHandler = defineHandler<HandlerDeps, DiscoverMoviesBody>({
  fn: FUNCTION_NAME,
  schema: discoverMoviesBodySchema,
  handle: discover,
});

async function discover(
  context: HandleContext<HandlerDeps, DiscoverMoviesBody>,
): Promise<Response> {
  const { body, deps, clock, cpu, startRun } = context;
  const start = clock.now();
  const { runId, logger } = startRun(body.run_id);
  let report;
  try {
    report = await runDiscovery({
      store: deps.imports,
      fetchExport: deps.fetchExport ?? ((url, init) => fetch(url, init)),
      exportsBaseUrl: deps.exportsBaseUrl,
      clock,
      cpu,
      logger,
    }, {
      runId,
      ...(body.day !== undefined ? { day: body.day } : {}),
      deadline: start + body.budget_ms,
      cpuBudgetMs: body.cpu_budget_ms ?? context.cpuBudgetMs,
      segmentBytes: body.segment_kb * 1024,
      stepRows: body.step_rows,
    });
  } catch (error) {
    logger.error("discover_movies_failed", { error });
    throw error;
  }

  const chain = { id: body.chain_id ?? runId, link: body.chain_link ?? 1 };
  let continuation: Continuation | null = null;
  if (report.stopped_because === "budget" || report.stopped_because === "cpu_budget") {
    try {
      continuation = await deps.imports.continueRun({
        runId,
        chainId: chain.id,
        chainLink: chain.link,
        body: {
          budget_ms: body.budget_ms,
          step_rows: body.step_rows,
          segment_kb: body.segment_kb,
          ...(body.cpu_budget_ms !== undefined ? { cpu_budget_ms: body.cpu_budget_ms } : {}),
        },
      });
    } catch (error) {
      // The import keeps its position; the next cron firing (or a manual call) resumes it.
      logger.error("discover_movies_continuation_failed", { error });
      continuation = { continued: false, reason: "error" };
    }
  }
  const summary: DiscoverMoviesSummary = {
    run_id: runId,
    trigger: body.trigger,
    job_name: body.job_name ?? null,
    outcome: report.outcome,
    import: report.import,
    fell_back: report.fell_back,
    resumed: report.resumed,
    segments: report.segments,
    bytes_staged: report.bytes_staged,
    steps: report.steps,
    stopped_because: report.stopped_because,
    chain,
    continuation,
    cpu_ms: Math.round(cpu.usedMs()),
    cpu_measured: cpu.measured,
    duration_ms: Math.max(0, Math.round(clock.now() - start)),
  };
  logger.info("discover_movies_run", { status: 200, ...summary });
  return jsonResponse(summary);
}
