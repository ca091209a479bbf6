/**
 * Writes to the movie catalog. The business rules (upsert, change detection, marking a
 * movie deleted) live in the SQL functions `public.ingest_movie` and
 * `public.mark_movie_not_found`; each method here is one round trip calling one of them, so
 * a movie is written atomically or not at all.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type postgres from "postgres";
import { z } from "zod";
import type { TmdbMovieDetails } from "./tmdb_schemas.ts";

/** What the catalog did with a movie. */
export type IngestAction = "inserted" | "updated" | "unchanged" | "not_found";

/** The result of one catalog write. */
export interface IngestOutcome {
  /** The TMDB movie id. */
  tmdb_id: number;
  /** The catalog's work id, or `null` for a not-found movie that was never stored. */
  work_id: number | null;
  /** What happened. */
  action: IngestAction;
}

/** The catalog, as the ingest pipeline sees it. */
export interface CatalogStore {
  /** Upserts a validated TMDB payload (one atomic statement). */
  ingestMovie(payload: TmdbMovieDetails, refreshedAt?: Date): Promise<IngestOutcome>;
  /** Records that TMDB answered 404 for `tmdbId` (one atomic statement). */
  markNotFound(tmdbId: number, at?: Date): Promise<IngestOutcome>;
}

/** The shape both SQL functions return (extra keys are allowed and ignored). */
export const ingestOutcomeSchema = z.object({
  tmdb_id: z.number().int(),
  work_id: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]).nullable(),
  action: z.enum(["inserted", "updated", "unchanged", "not_found"]),
}).passthrough();

function parseOutcome(fn: string, value: unknown): IngestOutcome {
  const parsed = ingestOutcomeSchema.safeParse(value);
  if (!parsed.success) {
    throw new Error(
      `${fn} returned an unexpected value: ${JSON.stringify(value)?.slice(0, 200)} (${
        parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")
      })`,
    );
  }
  const { tmdb_id, work_id, action } = parsed.data;
  return { tmdb_id, work_id, action };
}

/** A {@link CatalogStore} over postgres.js: one `select public.<fn>(…)` per call. */
export function createPostgresCatalogStore(sql: postgres.Sql): CatalogStore {
  return {
    async ingestMovie(payload, refreshedAt = new Date()) {
      const rows = await sql`
        select public.ingest_movie(
          ${sql.json(payload as unknown as postgres.JSONValue)},
          ${refreshedAt.toISOString()}::timestamptz
        ) as r`;
      return parseOutcome("public.ingest_movie", rows[0]?.r);
    },
    async markNotFound(tmdbId, at = new Date()) {
      const rows = await sql`
        select public.mark_movie_not_found(${tmdbId}::integer, ${at.toISOString()}::timestamptz)
          as r`;
      return parseOutcome("public.mark_movie_not_found", rows[0]?.r);
    },
  };
}

/** JSON with object keys sorted, so equal payloads hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** A stored movie in a {@link MemoryCatalogStore}. */
export interface MemoryMovie {
  /** Assigned work id (1, 2, … in insertion order). */
  work_id: number;
  /** SHA-256 of the canonical payload. */
  hash: string;
  /** The last payload stored. */
  payload: TmdbMovieDetails;
  /** When it was last written or confirmed. */
  refreshed_at: Date;
  /** Set when TMDB answered 404. */
  not_found_at: Date | null;
}

/** Options for {@link createMemoryCatalogStore}. */
export interface MemoryCatalogStoreOptions {
  /** Make `ingestMovie` / `markNotFound` reject for these TMDB ids (a database failure). */
  failFor?: Iterable<number>;
}

/** An in-memory {@link CatalogStore} for tests. */
export interface MemoryCatalogStore extends CatalogStore {
  /** Stored movies by TMDB id. */
  readonly movies: Map<number, MemoryMovie>;
  /** Every call, in order. */
  readonly calls: { method: "ingestMovie" | "markNotFound"; tmdb_id: number }[];
}

/**
 * Creates a {@link MemoryCatalogStore} that behaves like the SQL functions: `inserted` for a
 * new id, `unchanged` when the payload hashes the same as the stored one, else `updated`;
 * `markNotFound` keeps the work id of a stored movie (or reports `null`).
 */
export function createMemoryCatalogStore(
  options: MemoryCatalogStoreOptions = {},
): MemoryCatalogStore {
  const movies = new Map<number, MemoryMovie>();
  const calls: MemoryCatalogStore["calls"] = [];
  const failFor = new Set(options.failFor ?? []);
  let nextWorkId = 1;
  const maybeFail = (fn: string, tmdbId: number) => {
    if (failFor.has(tmdbId)) {
      throw new Error(`${fn}: simulated database failure for tmdb_id ${tmdbId}`);
    }
  };
  return {
    movies,
    calls,
    ingestMovie(payload, refreshedAt = new Date()) {
      calls.push({ method: "ingestMovie", tmdb_id: payload.id });
      try {
        maybeFail("public.ingest_movie", payload.id);
      } catch (error) {
        return Promise.reject(error);
      }
      const hash = createHash("sha256").update(canonicalJson(payload)).digest("hex");
      const existing = movies.get(payload.id);
      if (existing === undefined) {
        const movie = {
          work_id: nextWorkId++,
          hash,
          payload: structuredClone(payload),
          refreshed_at: refreshedAt,
          not_found_at: null,
        };
        movies.set(payload.id, movie);
        return Promise.resolve({ tmdb_id: payload.id, work_id: movie.work_id, action: "inserted" });
      }
      const changed = existing.hash !== hash || existing.not_found_at !== null;
      existing.refreshed_at = refreshedAt;
      if (changed) {
        existing.hash = hash;
        existing.payload = structuredClone(payload);
        existing.not_found_at = null;
      }
      return Promise.resolve({
        tmdb_id: payload.id,
        work_id: existing.work_id,
        action: changed ? "updated" : "unchanged",
      });
    },
    markNotFound(tmdbId, at = new Date()) {
      calls.push({ method: "markNotFound", tmdb_id: tmdbId });
      try {
        maybeFail("public.mark_movie_not_found", tmdbId);
      } catch (error) {
        return Promise.reject(error);
      }
      const existing = movies.get(tmdbId);
      if (existing) existing.not_found_at = at;
      return Promise.resolve({
        tmdb_id: tmdbId,
        work_id: existing?.work_id ?? null,
        action: "not_found",
      });
    },
  };
}
