/**
 * Writes TMDB's answers to the movie catalog. The function never parses a movie: it passes
 * each `/movie/{id}` response text to Postgres, many per round trip, and
 * `public.ingest_tmdb_responses` parses it, applies the payload policy, stores it (or marks
 * a 404 not found) in a subtransaction of its own and records the run's drift.
 *
 * @module
 */

import type postgres from "postgres";
import { z } from "zod";
import { type Drift, hasDrift } from "../tmdb/policy.ts";
import { parseSqlResult } from "../platform/db.ts";

/** One TMDB answer about a movie. */
export type TmdbAnswer =
  | { tmdb_id: number; status: 200; body: string }
  | { tmdb_id: number; status: 404 };

/** What happened to one answer. */
export type StoreOutcome = "inserted" | "updated" | "unchanged" | "not_found" | "failed";

/** The result for one answer. */
export interface StoredMovie {
  /** The TMDB id. */
  tmdb_id: number;
  /** What happened. */
  outcome: StoreOutcome;
  /** The catalog's work id (`null` for a failed answer or an unknown not-found movie). */
  work_id: number | null;
  /** Why it failed: `invalid_response` (the body, e.g. an essential field) or `database`. */
  kind?: "invalid_response" | "database";
  /** What went wrong, naming the field path when the payload policy refused it. */
  error?: string;
}

/** What {@link CatalogStore.storeAnswers} returns. */
export interface StoreResult {
  /** One result per answer, in order. */
  items: StoredMovie[];
  /** What the payload policy defaulted, summed over the stored movies. */
  drift: Drift;
}

/** The run the answers belong to. */
export interface StoreContext {
  /** The run id, under which the drift is recorded (`null`: not recorded). */
  runId: string | null;
  /** The calling function, recorded with the drift. */
  functionName: string;
  /** The refresh time written to the movies. Default now. */
  refreshedAt?: Date;
}

/** The catalog, as the functions see it. */
export interface CatalogStore {
  /** Stores `answers` in one round trip (nothing for an empty list). */
  storeAnswers(answers: readonly TmdbAnswer[], context: StoreContext): Promise<StoreResult>;
  /**
   * Adds drift the function found itself (list pages, the change feed) to the run's record
   * in `tmdb_payload_drift` (one round trip; nothing when `drift` is empty).
   */
  recordDrift(context: { runId: string; functionName: string }, drift: Drift): Promise<void>;
}

const workId = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]).nullable();

/** One stored item as SQL returns it. */
export const storedMovieSchema = z.object({
  tmdb_id: z.number().int(),
  outcome: z.enum(["inserted", "updated", "unchanged", "not_found", "failed"]),
  work_id: workId.optional().transform((v) => v ?? null),
  kind: z.enum(["invalid_response", "database"]).optional(),
  error: z.string().optional(),
});

/** A drift object as SQL returns it. */
export const driftSchema = z.record(z.record(z.number().int().nonnegative()));

const storeResultSchema = z.object({
  items: z.array(storedMovieSchema),
  drift: driftSchema,
});

/**
 * The SQL text and parameters that pass `answers` to a function taking
 * `(…, p_responses jsonb, p_bodies text[], …)`: each body is its own text parameter, so
 * postgres.js sends it as is (no array escaping, no JSON re-encoding in the function).
 */
export function answersParameters(answers: readonly TmdbAnswer[], firstParam: number) {
  const responses: { tmdb_id: number; status: 200 | 404; body?: number }[] = [];
  const bodies: string[] = [];
  for (const a of answers) {
    if (a.status === 200) {
      bodies.push(a.body);
      responses.push({ tmdb_id: a.tmdb_id, status: 200, body: bodies.length });
    } else responses.push({ tmdb_id: a.tmdb_id, status: 404 });
  }
  const array = bodies.length === 0
    ? "array[]::text[]"
    : `array[${bodies.map((_, i) => `$${firstParam + i}::text`).join(",")}]`;
  return { responses, bodies, array };
}

/** A {@link CatalogStore} over postgres.js: one `select public.ingest_tmdb_responses(…)` per call. */
export function createPostgresCatalogStore(sql: postgres.Sql): CatalogStore {
  return {
    async storeAnswers(answers, context) {
      if (answers.length === 0) return { items: [], drift: {} };
      const { responses, bodies, array } = answersParameters(answers, 5);
      const rows = await sql.unsafe(
        `select public.ingest_tmdb_responses($1::uuid, $2::text, $3::jsonb, ${array}, $4::timestamptz) as r`,
        [
          context.runId,
          context.functionName,
          // An object: postgres.js serialises it for the jsonb parameter (a string would be
          // sent as a JSON string).
          responses as unknown as postgres.JSONValue,
          (context.refreshedAt ?? new Date()).toISOString(),
          ...bodies,
        ],
      );
      return parseSqlResult("public.ingest_tmdb_responses", storeResultSchema, rows[0]?.r);
    },
    async recordDrift(context, drift) {
      if (!hasDrift(drift)) return;
      await sql`
        select public.record_payload_drift(
          ${context.runId}::uuid, ${context.functionName}::text,
          ${sql.json(drift as postgres.JSONValue)}::jsonb)`;
    },
  };
}
