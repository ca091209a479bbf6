/**
 * The ingestion-run log (`public.scheduled_ingestion_log`) and the freshness check used by
 * `scheduled-ingest`. The rules live in SQL (`public.start_ingestion_run`,
 * `public.finish_ingestion_run`, `public.classify_tmdb_ids`); each method here is one round
 * trip calling one of them.
 *
 * @module
 */

import type postgres from "postgres";
import { z } from "zod";

/**
 * What the catalog knows about a TMDB id: `new` (not in the catalog), `due` (in the catalog
 * and due for a refresh) or `fresh` (refreshed recently enough to skip).
 */
export type FreshnessState = "new" | "due" | "fresh";

/** How a run ended. */
export type IngestionRunStatus = "succeeded" | "partial" | "failed";

/** What {@link IngestionRunStore.start} records. */
export interface IngestionRunStart {
  /** The run's uuid (also on its API log rows). */
  runId: string;
  /** What is ingested, e.g. `mixed_daily`. */
  source: string;
  /** What started the run: `cron` or `manual`. */
  trigger: string;
  /** How many movies the run was asked for (the `limit`). */
  requested: number;
}

/** What {@link IngestionRunStore.finish} records. */
export interface IngestionRunFinish {
  /** The run's uuid, as passed to `start`. */
  runId: string;
  /** Unique TMDB ids seen on the list pages. */
  found: number;
  /** Movies inserted or updated. */
  ingested: number;
  /** Movies fetched whose data had not changed. */
  unchanged: number;
  /** Movies that failed. */
  failed: number;
  /** Ids skipped because the catalog holds a fresh copy. */
  skippedFresh: number;
  /** How the run ended. */
  status: IngestionRunStatus;
  /** Why the run failed (or what went partly wrong), or `null`. Must hold no secret. */
  error: string | null;
  /** Anything else worth keeping (a JSON object, no secrets). */
  details: Record<string, unknown>;
}

/** The run log and freshness check, as `scheduled-ingest` sees them. */
export interface IngestionRunStore {
  /**
   * Classifies `tmdbIds` (one round trip). Every id passed gets a state; an empty input
   * makes no call.
   */
  classify(tmdbIds: readonly number[]): Promise<Map<number, FreshnessState>>;
  /** Inserts the run's row with status `running`; returns the row id. */
  start(run: IngestionRunStart): Promise<number>;
  /** Records the run's counters and outcome on its row. */
  finish(run: IngestionRunFinish): Promise<void>;
}

/**
 * `ids` as a Postgres array literal (`{1,2,3}`), bound as text and cast to `integer[]` in
 * SQL. postgres.js's `sql.array()` needs the array types it fetches on a connection's first
 * query, so on a fresh connection it sends `1,2,3` without braces ("malformed array
 * literal"); a literal does not depend on that. Throws on a non-integer.
 */
export function intArrayLiteral(ids: readonly number[]): string {
  for (const id of ids) {
    if (!Number.isSafeInteger(id)) {
      throw new TypeError(`ids must be integers: current value has ${JSON.stringify(id)}`);
    }
  }
  return `{${ids.join(",")}}`;
}

const classifyRowSchema = z.object({
  tmdb_id: z.number().int(),
  state: z.enum(["new", "due", "fresh"]),
});

/** An {@link IngestionRunStore} over postgres.js: one `public.<fn>(…)` call per method. */
export function createPostgresIngestionRunStore(sql: postgres.Sql): IngestionRunStore {
  return {
    async classify(tmdbIds) {
      const out = new Map<number, FreshnessState>();
      if (tmdbIds.length === 0) return out;
      const rows = await sql`
        select c.tmdb_id, c.state
          from public.classify_tmdb_ids(${intArrayLiteral(tmdbIds)}::integer[]) as c`;
      for (const row of rows) {
        const parsed = classifyRowSchema.safeParse(row);
        if (!parsed.success) {
          throw new Error(
            `public.classify_tmdb_ids returned an unexpected row: ${
              JSON.stringify(row).slice(0, 200)
            }`,
          );
        }
        out.set(parsed.data.tmdb_id, parsed.data.state);
      }
      // An id the function did not answer for is treated as not in the catalog.
      for (const id of tmdbIds) if (!out.has(id)) out.set(id, "new");
      return out;
    },
    async start(run) {
      const rows = await sql`
        select public.start_ingestion_run(
          ${run.runId}::uuid, ${run.source}, ${run.trigger}, ${run.requested}::integer
        ) as id`;
      return Number(rows[0]?.id);
    },
    async finish(run) {
      await sql`
        select public.finish_ingestion_run(
          ${run.runId}::uuid,
          ${run.found}::integer,
          ${run.ingested}::integer,
          ${run.unchanged}::integer,
          ${run.failed}::integer,
          ${run.skippedFresh}::integer,
          ${run.status},
          ${run.error},
          ${sql.json(run.details as postgres.JSONValue)}
        )`;
    },
  };
}
