/**
 * Scenario 4, ingest cost in SQL: the time of one `public.ingest_movie(payload)` call for a
 * typical payload (`typical_payload.ts`) and the rows it writes, over N distinct movies
 * (500; quick: 50), in three passes:
 *
 *   1. first insert: N new movies (their people partly shared, from a pool of 20,000);
 *   2. changed: the same N movies with a routine TMDB edit (popularity, votes, one
 *      character) — expected: the work row and one cast row rewritten, nothing else;
 *   3. unchanged: the same payloads again — expected: only `works.last_refreshed_at`.
 *
 * Time is the client-side round trip of each call (one connection, one call at a time, the
 * ~35 KB payload sent as a parameter). Rows written are the deltas of
 * `n_tup_ins + n_tup_upd + n_tup_del` in `pg_stat_user_tables` over the catalog tables:
 * the writing session calls `pg_stat_force_next_flush()` so its counters reach the shared
 * statistics as soon as it is idle, and `pg_stat_clear_snapshot()` before each read.
 *
 * @module
 */
import type postgres from "postgres";
import { type BenchContext, connect } from "./context.ts";
import { formatCount, summarize, type Summary } from "./stats.ts";
import { typicalPayload } from "./typical_payload.ts";

/** TMDB ids of the scenario's movies start here (clear of the other scenarios' ids). */
export const INGEST_TMDB_ID_BASE = 30_000_000;

/** The tables `ingest_movie` writes. */
export const CATALOG_TABLES = [
  "works",
  "genres",
  "work_genres",
  "people",
  "work_cast",
  "work_crew",
  "work_videos",
  "work_release_dates",
] as const;

/** Row writes per table (inserts + updates + deletes). */
export type RowWrites = Record<string, number>;

/** One pass over the N movies. */
export interface IngestPass {
  /** `first_insert`, `changed` or `unchanged`. */
  pass: string;
  /** The action every call must report. */
  expectedAction: string;
  /** Calls whose action differed from `expectedAction`. */
  unexpectedActions: number;
  /** Per-call latency in ms. */
  latency: Summary;
  /** Row writes per table over the pass. */
  rows: RowWrites;
  /** All row writes / N. */
  rowsPerMovie: number;
  /** Row writes other than the `works` rows / N. */
  childRowsPerMovie: number;
}

/** What scenario 4 reports. */
export interface IngestCostResult {
  /** Movies per pass. */
  movies: number;
  /** The shape of the typical payload. */
  payload: {
    bytes: number;
    cast: number;
    crew: number;
    videos: number;
    genres: number;
    releaseDates: number;
  };
  /** The three passes. */
  passes: IngestPass[];
}

async function rowWrites(conn: postgres.Sql): Promise<RowWrites> {
  await conn`select pg_stat_clear_snapshot()`;
  const rows = await conn`
    select relname, (n_tup_ins + n_tup_upd + n_tup_del)::bigint as n
      from pg_stat_user_tables
     where schemaname = 'public' and relname = any(${[...CATALOG_TABLES]})`;
  const out: RowWrites = Object.fromEntries(CATALOG_TABLES.map((t) => [t, 0]));
  for (const r of rows) out[r.relname] = Number(r.n);
  return out;
}

function diff(after: RowWrites, before: RowWrites): RowWrites {
  return Object.fromEntries(CATALOG_TABLES.map((t) => [t, (after[t] ?? 0) - (before[t] ?? 0)]));
}

async function ingest(conn: postgres.Sql, payload: Record<string, unknown>): Promise<string> {
  const [{ r }] = await conn`
    select public.ingest_movie(${conn.json(payload as postgres.JSONValue)}, now()) as r`;
  return String(r.action);
}

/** Runs scenario 4. */
export async function runIngestCost(ctx: BenchContext): Promise<IngestCostResult> {
  const n = ctx.sizes.ingestMovies;
  const ids = Array.from({ length: n }, (_, i) => INGEST_TMDB_ID_BASE + 1 + i);
  const sample = typicalPayload(ids[0]);
  const credits = sample.credits as { cast: unknown[]; crew: unknown[] };
  const groups = (sample.release_dates as { results: { release_dates: unknown[] }[] }).results;
  const payloadShape = {
    bytes: new TextEncoder().encode(JSON.stringify(sample)).length,
    cast: credits.cast.length,
    crew: credits.crew.length,
    videos: (sample.videos as { results: unknown[] }).results.length,
    genres: (sample.genres as unknown[]).length,
    releaseDates: groups.reduce((a, g) => a + g.release_dates.length, 0),
  };

  const conn = connect(ctx.info.dbUrl, 1);
  try {
    // Warm up every path (plpgsql compiles on first use) on a movie outside the passes.
    const warm = INGEST_TMDB_ID_BASE;
    await ingest(conn, typicalPayload(warm));
    await ingest(conn, typicalPayload(warm, { variant: "changed" }));
    await ingest(conn, typicalPayload(warm, { variant: "changed" }));

    const plan: [string, "base" | "changed", string][] = [
      ["first_insert", "base", "inserted"],
      ["changed", "changed", "updated"],
      ["unchanged", "changed", "unchanged"],
    ];
    const passes: IngestPass[] = [];
    for (const [pass, variant, expected] of plan) {
      const payloads = ids.map((id) => typicalPayload(id, { variant }));
      const result = await ctx.progress.phase(
        `ingest_movie ${pass.replace("_", " ")}: ${formatCount(n)} typical payloads`,
        async () => {
          await conn`select pg_stat_force_next_flush()`;
          const before = await rowWrites(conn);
          const ms: number[] = [];
          let unexpected = 0;
          for (const p of payloads) {
            const t0 = performance.now();
            const action = await ingest(conn, p);
            ms.push(performance.now() - t0);
            if (action !== expected) unexpected++;
          }
          await conn`select pg_stat_force_next_flush()`;
          const after = await rowWrites(conn);
          const rows = diff(after, before);
          const total = Object.values(rows).reduce((a, b) => a + b, 0);
          return {
            pass,
            expectedAction: expected,
            unexpectedActions: unexpected,
            latency: summarize(ms),
            rows,
            rowsPerMovie: total / n,
            childRowsPerMovie: (total - rows.works) / n,
          };
        },
        (r) =>
          `p50 ${r.latency.p50.toFixed(2)} ms, ${r.rowsPerMovie.toFixed(2)} rows/movie` +
          (r.unexpectedActions ? `, ${r.unexpectedActions} unexpected actions` : ""),
      );
      passes.push(result);
    }
    return { movies: n, payload: payloadShape, passes };
  } finally {
    await conn.end();
  }
}
