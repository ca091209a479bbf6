/**
 * The export imports of discover-movies (`public.export_imports`, migration 031) and their
 * staging tables: each method is one round trip (or one transaction) over the SQL functions
 * that hold the rules — which import a run works on, a staged segment's position check, the
 * bounded parse/diff steps, the continuation.
 *
 * @module
 */

import type postgres from "postgres";
import { z } from "zod";
import { parseSqlResult } from "../platform/db.ts";
import type { Continuation, ContinueOptions } from "./refresh_queue.ts";

/** The phases of an import, in order (`failed` ends one early). */
export const IMPORT_STATUSES = [
  "downloading",
  "parsing",
  "queuing",
  "finishing",
  "done",
  "failed",
] as const;

/** One of {@link IMPORT_STATUSES}. */
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

const count = z.union([z.number(), z.string()]).transform(Number).pipe(
  z.number().int().nonnegative(),
);

/** A row of `public.export_imports` (the fields the function uses). */
export const exportImportSchema = z.object({
  id: count,
  export_day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  requested_day: z.string().nullable(),
  include_adult: z.boolean(),
  status: z.enum(IMPORT_STATUSES),
  file_index: count,
  bytes_staged: count,
  lines_staged: count,
  lines_parsed: count,
  malformed_lines: count,
  adult_skipped: count,
  ids_seen: count,
  new_ids: count,
  queued_new: count,
  absent_ids: count,
  recheck_queued: count,
  reappeared: count,
  invocations: count,
  error: z.string().nullable(),
});

/** A parsed `public.export_imports` row. */
export type ExportImport = z.infer<typeof exportImportSchema>;

/** What `public.discover_import` decided. */
export type ImportDecision =
  | { action: "none" }
  | { action: "resume" | "start" | "done" | "older"; import: ExportImport };

const decisionSchema = z.union([
  z.object({ action: z.literal("none") }),
  z.object({
    action: z.enum(["resume", "start", "done", "older"]),
    import: exportImportSchema,
  }),
]);

const continuationSchema = z.object({
  continued: z.boolean(),
  reason: z.string(),
  request_id: count.optional(),
  run_id: z.string().optional(),
});

/** One downloaded segment, staged in one transaction. */
export interface StagedSegment {
  /** The import. */
  importId: number;
  /** The file (0 main, 1 adult). */
  fileIndex: number;
  /** The position the run resumed from (must still be the import's). */
  bytesFrom: number;
  /** The position after this segment. */
  bytesTo: number;
  /** The segment's bytes: whole lines. */
  chunks: readonly Uint8Array[];
  /** Whether the file ends with this segment. */
  fileDone: boolean;
}

/** The import bookkeeping as discover-movies uses it. */
export interface ExportImportStore {
  /**
   * The import to work on (`public.discover_import`): with `day` null only one in progress;
   * else that day's, started unless done already (or older than one done).
   */
  open(day: string | null, requestedDay: string | null, runId: string): Promise<ImportDecision>;
  /**
   * COPYs a segment's lines into `public.export_import_lines` and records the new position,
   * in one transaction; `null` when another run moved the import meanwhile (nothing staged).
   */
  stage(segment: StagedSegment): Promise<ExportImport | null>;
  /** One bounded slice of parsing or diffing (`public.discover_step`). */
  step(importId: number, maxRows: number): Promise<ExportImport>;
  /** Marks the import failed and empties staging (`public.discover_fail`). */
  fail(importId: number, error: string): Promise<void>;
  /** Queues the next run of the chain (`public.continue_discover_movies`). */
  continueRun(options: ContinueOptions): Promise<Continuation>;
}

/**
 * Lines go in as CSV with a delimiter and a quote byte (0x01, 0x02) that valid JSON never
 * holds unescaped: CSV has no backslash escapes, so every line arrives byte for byte (text
 * format would turn `\"` into `"`). An empty line arrives as null (counted malformed).
 */
const COPY_LINES = "copy public.export_import_lines (line) from stdin " +
  "with (format csv, delimiter e'\\x01', quote e'\\x02')";

/** Writes `chunks` to a node Writable (postgres.js COPY) and waits until it has finished. */
function writeAll(
  writable: {
    write(chunk: Uint8Array): boolean;
    end(cb: () => void): void;
    once(event: string, cb: (arg?: unknown) => void): void;
  },
  chunks: readonly Uint8Array[],
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    writable.once("error", (error) => reject(error));
    let i = 0;
    const next = () => {
      while (i < chunks.length) {
        if (!writable.write(chunks[i++])) {
          writable.once("drain", next);
          return;
        }
      }
      writable.end(() => resolve());
    };
    next();
  });
}

/** {@link ExportImportStore} over a postgres.js pool (the function's `postgres` role). */
export function createPostgresExportImportStore(sql: postgres.Sql): ExportImportStore {
  return {
    async open(day, requestedDay, runId) {
      const rows = await sql`
        select public.discover_import(${day}::date, ${requestedDay}::date, ${runId}::uuid) as r`;
      return parseSqlResult("public.discover_import", decisionSchema, rows[0]?.r);
    },
    async stage(segment) {
      const result = await sql.begin(async (tx) => {
        const [{ ok }] = await tx`
          select public.discover_stage_begin(
            ${segment.importId}::bigint, ${segment.fileIndex}::integer, ${segment.bytesFrom}::bigint
          ) as ok`;
        if (ok !== true) return null;
        if (segment.chunks.length > 0) {
          const writable = await tx.unsafe(COPY_LINES).writable();
          await writeAll(writable, segment.chunks);
        }
        const [{ r }] = await tx`
          select public.discover_stage_commit(
            ${segment.importId}::bigint, ${segment.bytesTo}::bigint,
            ${segment.fileDone}::boolean
          ) as r`;
        return r as unknown;
      });
      return result === null ? null : parseSqlResult(
        "public.discover_stage_commit",
        exportImportSchema,
        result,
      );
    },
    async step(importId, maxRows) {
      const rows = await sql`
        select public.discover_step(${importId}::bigint, ${maxRows}::integer) as r`;
      return parseSqlResult("public.discover_step", exportImportSchema, rows[0]?.r);
    },
    async fail(importId, error) {
      await sql`select public.discover_fail(${importId}::bigint, ${error})`;
    },
    async continueRun({ runId, chainId, chainLink, body }) {
      const rows = await sql`
        select public.continue_discover_movies(
          ${runId}::uuid, ${chainId}::uuid, ${chainLink}::integer,
          ${sql.json(body as postgres.JSONValue)}::jsonb
        ) as r`;
      return parseSqlResult("public.continue_discover_movies", continuationSchema, rows[0]?.r);
    },
  };
}
