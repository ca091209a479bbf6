/**
 * One discover-movies run: find the import to work on (the one in progress, else today's
 * export, else yesterday's), stream the export's gzip'd lines into staging segment by
 * segment, then let Postgres parse and diff them a slice at a time — until the import is
 * done or a budget (wall clock, CPU) is spent. The SQL functions of migration 031 hold every
 * rule; this module only moves bytes and calls them.
 *
 * @module
 */

import type { Clock } from "../_shared/platform/clock.ts";
import type { CpuMeter } from "../_shared/platform/cpu_meter.ts";
import type { Logger } from "../_shared/platform/logger.ts";
import { HttpError } from "../_shared/http/response.ts";
import type { ExportImport, ExportImportStore } from "../_shared/store/export_imports.ts";
import { EXPORT_KINDS, exportUrl, previousDay, segments, utcDay } from "./export_files.ts";

/** Fetches an export file (the real one is `fetch`). */
export type FetchExport = (url: string, init: RequestInit) => Promise<Response>;

/** What a run needs. */
export interface DiscoveryDeps {
  /** The import bookkeeping and staging. */
  store: ExportImportStore;
  /** Fetches export files. */
  fetchExport: FetchExport;
  /** Where the files are (`TMDB_EXPORTS_BASE_URL`). */
  exportsBaseUrl: string;
  /** The clock (today's UTC day, the wall budget). */
  clock: Clock;
  /** CPU used by the function's process. */
  cpu: CpuMeter;
  /** The run's logger. */
  logger: Logger;
}

/** How a run goes. */
export interface DiscoveryOptions {
  /** The run id (recorded on the import). */
  runId: string;
  /** Import this day (`YYYY-MM-DD`) instead of today's (no fallback then). */
  day?: string;
  /** Epoch ms after which the run starts no more work. */
  deadline: number;
  /** Process CPU (ms) after which the run starts no more work. */
  cpuBudgetMs: number;
  /** Decompressed bytes per staged segment (about). */
  segmentBytes: number;
  /** Rows per `discover_step` slice. */
  stepRows: number;
}

/** Why a run stopped. */
export type DiscoveryStop = "done" | "budget" | "cpu_budget" | "lost_race";

/** What a run did. */
export interface DiscoveryReport {
  /**
   * `imported` (the import finished in this run), `in_progress` (a budget stopped it),
   * `already_imported` (the day is done), `older` (a later day is done already).
   */
  outcome: "imported" | "in_progress" | "already_imported" | "older";
  /** The import's row at the end. */
  import: ExportImport;
  /** Whether today's file was missing and yesterday's was used. */
  fell_back: boolean;
  /** Whether the run resumed an import in progress. */
  resumed: boolean;
  /** Segments staged by this run. */
  segments: number;
  /** Decompressed bytes staged by this run. */
  bytes_staged: number;
  /** `discover_step` calls made by this run. */
  steps: number;
  /** Why the run stopped. */
  stopped_because: DiscoveryStop;
}

/** The request headers of an export download (no transport compression: the file is gzip). */
const FETCH_HEADERS = { "accept-encoding": "identity" };

/** Runs discovery (see the module docs). Throws `HttpError` 502 when no export can be read. */
export async function runDiscovery(
  deps: DiscoveryDeps,
  options: DiscoveryOptions,
): Promise<DiscoveryReport> {
  const { store, clock, cpu, logger } = deps;
  const spent = (): "budget" | "cpu_budget" | null =>
    cpu.usedMs() >= options.cpuBudgetMs
      ? "cpu_budget"
      : clock.now() >= options.deadline
      ? "budget"
      : null;

  let response: Response | null = null;
  let fellBack = false;
  let decision = await store.open(null, null, options.runId);
  const resumed = decision.action === "resume";
  if (decision.action === "none") {
    const today = utcDay(clock.now());
    const days = options.day !== undefined ? [options.day] : [today, previousDay(today)];
    for (const day of days) {
      const url = exportUrl(deps.exportsBaseUrl, "movie", day);
      const res = await fetchFile(deps.fetchExport, url);
      if (res.status === 404) {
        await res.body?.cancel();
        logger.info("discover_export_missing", { day });
        continue;
      }
      decision = await store.open(day, options.day ?? today, options.runId);
      fellBack = day !== (options.day ?? today);
      if (decision.action === "start") response = res;
      else await res.body?.cancel();
      break;
    }
    if (decision.action === "none") {
      throw new HttpError(
        502,
        "export_missing",
        `no export file found for ${days.join(" or ")} under ${deps.exportsBaseUrl}`,
      );
    }
  }
  let imp = decision.import;
  let staged = 0;
  let bytes = 0;
  let steps = 0;
  const report = (
    outcome: DiscoveryReport["outcome"],
    stopped: DiscoveryStop,
  ): DiscoveryReport => ({
    outcome,
    import: imp,
    fell_back: fellBack,
    resumed,
    segments: staged,
    bytes_staged: bytes,
    steps,
    stopped_because: stopped,
  });
  if (decision.action === "done") return report("already_imported", "done");
  if (decision.action === "older") return report("older", "done");

  // Download: each file of the day, from where staging stopped.
  while (imp.status === "downloading") {
    const kind = EXPORT_KINDS[imp.file_index];
    const url = exportUrl(deps.exportsBaseUrl, kind, imp.export_day);
    const res = response ?? await fetchFile(deps.fetchExport, url);
    response = null;
    if (res.status === 404) {
      await res.body?.cancel();
      const message = `${kind} export of ${imp.export_day} is missing (404) while importing it`;
      await store.fail(imp.id, message);
      throw new HttpError(502, "export_missing", message);
    }
    const body = res.body!.pipeThrough(new DecompressionStream("gzip"));
    const from = imp.bytes_staged;
    let stop: DiscoveryStop | null = null;
    let position = from;
    for await (
      const segment of segments(body, { skipBytes: from, segmentBytes: options.segmentBytes })
    ) {
      const next = await store.stage({
        importId: imp.id,
        fileIndex: imp.file_index,
        bytesFrom: position,
        bytesTo: segment.endOffset,
        chunks: segment.chunks,
        fileDone: segment.last,
      });
      if (next === null) {
        stop = "lost_race";
        break;
      }
      staged++;
      bytes += segment.endOffset - position;
      position = segment.endOffset;
      imp = next;
      if (!segment.last) stop = spent();
      if (stop !== null) break;
    }
    if (stop !== null) {
      await body.cancel().catch(() => {});
      return report("in_progress", stop);
    }
  }

  // Parse and diff, a slice at a time; the first slice always runs (a run makes progress).
  while (imp.status === "parsing" || imp.status === "queuing" || imp.status === "finishing") {
    if (steps > 0 || staged > 0) {
      const stop = spent();
      if (stop !== null) return report("in_progress", stop);
    }
    imp = await store.step(imp.id, options.stepRows);
    steps++;
  }
  return report(imp.status === "done" ? "imported" : "in_progress", "done");
}

/** GET an export file; a network failure or a status other than 200/404 is a 502. */
async function fetchFile(fetchExport: FetchExport, url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetchExport(url, { headers: FETCH_HEADERS });
  } catch (error) {
    throw new HttpError(
      502,
      "export_unavailable",
      `fetching ${url} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (res.status !== 200 && res.status !== 404) {
    await res.body?.cancel();
    throw new HttpError(502, "export_unavailable", `${url} answered HTTP ${res.status}`);
  }
  if (res.status === 200 && res.body === null) {
    throw new HttpError(502, "export_unavailable", `${url} answered 200 without a body`);
  }
  return res;
}
