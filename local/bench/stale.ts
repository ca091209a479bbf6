/**
 * Scenario 1, finding stale movies: `get_stale_movies(100)` against the naive forms, on a
 * catalog of 1,000,000 works (quick: 20,000) inserted in bulk with `generate_series`.
 *
 * The catalog: release dates spread like TMDB's (and the TMDB stand-in's): ~3 % without a
 * date (Rumored / Planned / In Production / Canceled), ~2 % upcoming, ~5 % released in the
 * last 30 days, ~10 % in the last year, the rest back to 1920, denser towards now; ~0.5 %
 * missing on TMDB; ~0.1 % never refreshed. Each work's last refresh lies uniformly in
 * [now − 1.04 × its tier's interval, now], so ~4–5 % are due. Pseudo-random draws come from
 * `hashint8(i)`, so every run builds the same catalog (relative to today).
 *
 * Compared, side by side on the same table after `analyze`:
 *   * ours: `select * from public.get_stale_movies(100)`;
 *   * naive (index usable): `… where public.is_stale(w) order by w.next_refresh_at limit 100`
 *     (what the issue names): is_stale(w) is now `w.next_refresh_at <= now()`, and ordering
 *     by the indexed column lets the planner walk the index and stop after 100 rows;
 *   * naive (old design): the same query with index scans disabled
 *     (`enable_indexscan/bitmapscan/indexonlyscan = off`), i.e. what the original design
 *     had to do without a stored, indexed next_refresh_at: evaluate is_stale() on every row
 *     and sort. It is a lower bound of that design's cost, since its is_stale() computed the
 *     whole policy per row (here a single comparison per row). The target's "≥ 100× faster
 *     than naive" is judged against this one.
 * Latencies are client-side round trips on one dedicated connection (prepared statements).
 *
 * @module
 */
import type postgres from "postgres";
import { type BenchContext, connect } from "./context.ts";
import {
  formatCount,
  planIndexNames,
  planNodeTypes,
  ratio,
  summarize,
  type Summary,
} from "./stats.ts";

/** TMDB ids of the synthetic works start above every real and stand-in id. */
export const STALE_TMDB_ID_BASE = 10_000_000;

/** The query of our side. */
export const OURS_QUERY = "select * from public.get_stale_movies(100)";

/** The naive query the issue names. */
export const NAIVE_QUERY =
  "select w.id, w.tmdb_id, w.title, w.last_refreshed_at, w.next_refresh_at " +
  "from public.works w where public.is_stale(w) order by w.next_refresh_at limit 100";

/** Settings under which the naive query runs as the old design did (no usable index). */
export const NO_INDEX_SETTINGS = [
  "set local enable_indexscan = off",
  "set local enable_bitmapscan = off",
  "set local enable_indexonlyscan = off",
];

/** One measured query. */
export interface QueryFigures {
  /** The SQL text. */
  query: string;
  /** Session settings it ran under, if any. */
  settings: string[];
  /** Latency in ms. */
  latency: Summary;
  /** Rows the last call returned. */
  rows: number;
  /** Plan node types, depth first. */
  planNodes: string[];
  /** Indexes the plan reads. */
  indexes: string[];
}

/** What scenario 1 reports. */
export interface StaleResult {
  /** Works in the table. */
  works: number;
  /** Works due now (next_refresh_at <= now()). */
  due: number;
  /** `due / works`. */
  dueShare: number;
  /** Seconds the bulk insert took. */
  insertSeconds: number;
  /** `get_stale_movies(100)`. */
  ours: QueryFigures & {
    /** Plan of the function's body (the Function Scan hides it), from pg_proc.prosrc. */
    bodyPlanNodes: string[];
    /** Indexes the body reads. */
    bodyIndexes: string[];
  };
  /** The naive query, planner free to use the index. */
  naiveIndexed: QueryFigures;
  /** The naive query without index scans (the old design). */
  naiveScan: QueryFigures;
  /** naiveScan p50 / ours p50 (how many times faster ours is). */
  speedupVsScan: number | null;
  /** naiveIndexed p50 / ours p50. */
  speedupVsIndexed: number | null;
}

/** The bulk insert of works `from..to` (inclusive), one statement. */
export function insertWorksSql(from: number, to: number): string {
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 1 && to >= from)) {
    throw new RangeError(`insertWorksSql needs integers 1 <= from <= to: got ${from}..${to}`);
  }
  // Interval per tier (docs/schema.md) computed inline: calling public.refresh_interval()
  // here would add ~60 µs a row on top of the generated column's own call.
  return `
insert into public.works (
  tmdb_id, title, release_date, status, payload_hash, last_refreshed_at, tmdb_missing_at,
  first_ingested_at
)
select ${STALE_TMDB_ID_BASE} + d.i, 'Bench movie ' || d.i, d.release_date, d.status,
  md5(d.i::text) || md5((-d.i)::text),
  case when d.w < 0.001 then null
       else now() - (case when d.w > 0.995 then interval '180 days'
                          when d.status in ('Rumored', 'Planned', 'In Production',
                                            'Post Production') then interval '1 day'
                          when d.status = 'Canceled' then interval '30 days'
                          when d.release_date is null or current_date - d.release_date <= 30
                            then interval '1 day'
                          when current_date - d.release_date <= 365 then interval '7 days'
                          else interval '30 days' end) * (d.v * 1.04) end,
  case when d.w > 0.995 then now() - interval '400 days' end,
  now() - interval '2 years'
from (
  select s.i, s.v, s.w,
    case when s.k < 0.03 then null
         when s.k < 0.05 then current_date + 1 + floor(180 * s.u ^ 1.5)::int
         when s.k < 0.10 then current_date - floor(30 * s.u)::int
         when s.k < 0.20 then current_date - 30 - floor(335 * s.u)::int
         else current_date - 365 - floor((current_date - 365 - date '1920-01-01') * s.u * s.u)::int
    end as release_date,
    case when s.k < 0.03
           then (array['Rumored', 'Planned', 'In Production', 'Canceled'])[1 + floor(s.u * 4)::int]
         when s.k < 0.05
           then (array['Planned', 'In Production', 'Post Production'])[1 + floor(s.u * 3)::int]
         else 'Released' end as status
  from (
    select i,
      (hashint8(i::bigint * 4) & 2147483647)::float8 / 2147483648 as k,
      (hashint8(i::bigint * 4 + 1) & 2147483647)::float8 / 2147483648 as u,
      (hashint8(i::bigint * 4 + 2) & 2147483647)::float8 / 2147483648 as v,
      (hashint8(i::bigint * 4 + 3) & 2147483647)::float8 / 2147483648 as w
    from generate_series(${from}, ${to}) as i
  ) s
) d`;
}

/** Splits 1..n into `parts` contiguous inclusive ranges. */
export function splitRange(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  const size = Math.ceil(n / parts);
  for (let from = 1; from <= n; from += size) out.push([from, Math.min(n, from + size - 1)]);
  return out;
}

async function explainJson(
  conn: postgres.Sql | postgres.TransactionSql,
  query: string,
): Promise<unknown> {
  const rows = await conn.unsafe(`explain (format json) ${query}`);
  return rows[0]["QUERY PLAN"];
}

async function timeOnce(conn: postgres.Sql | postgres.TransactionSql, query: string) {
  const t0 = performance.now();
  const rows = await conn.unsafe(query, [], { prepare: true });
  return { ms: performance.now() - t0, rows: rows.length };
}

/** Runs scenario 1. */
export async function runStale(ctx: BenchContext): Promise<StaleResult> {
  const { sql, sizes, progress } = ctx;
  const n = sizes.works;
  const parts = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2));
  const tIns = performance.now();
  await progress.phase(`inserting ${formatCount(n)} works (${parts} connections)`, async () => {
    await Promise.all(splitRange(n, parts).map(([a, b]) => sql.unsafe(insertWorksSql(a, b))));
    await sql`analyze public.works`;
  });
  const insertSeconds = (performance.now() - tIns) / 1000;
  const [{ due, total }] = await sql`
    select count(*) filter (where next_refresh_at <= now())::int as due, count(*)::int as total
      from public.works`;

  // One connection for every timed call, so each side sees the same session state.
  const conn = connect(ctx.info.dbUrl, 1);
  try {
    const ours: number[] = [];
    const indexed: number[] = [];
    let oursRows = 0;
    let indexedRows = 0;
    await progress.phase(
      `get_stale_movies(100) and naive (index usable), ${sizes.staleReps} calls each, interleaved`,
      async () => {
        for (let i = 0; i < 3; i++) {
          await timeOnce(conn, OURS_QUERY);
          await timeOnce(conn, NAIVE_QUERY);
        }
        for (let i = 0; i < sizes.staleReps; i++) {
          const a = await timeOnce(conn, OURS_QUERY);
          const b = await timeOnce(conn, NAIVE_QUERY);
          ours.push(a.ms);
          indexed.push(b.ms);
          oursRows = a.rows;
          indexedRows = b.rows;
        }
      },
      () => `p50 ${summarize(ours).p50.toFixed(3)} ms vs ${summarize(indexed).p50.toFixed(3)} ms`,
    );

    const scan: number[] = [];
    let scanRows = 0;
    let scanPlan: unknown = null;
    await progress.phase(
      `naive without index (old design), ${sizes.naiveReps} calls over ${formatCount(total)} works`,
      () =>
        conn.begin(async (tx) => {
          for (const s of NO_INDEX_SETTINGS) await tx.unsafe(s);
          await timeOnce(tx, NAIVE_QUERY);
          for (let i = 0; i < sizes.naiveReps; i++) {
            const r = await timeOnce(tx, NAIVE_QUERY);
            scan.push(r.ms);
            scanRows = r.rows;
          }
          scanPlan = await explainJson(tx, NAIVE_QUERY);
        }),
      () => `p50 ${summarize(scan).p50.toFixed(1)} ms`,
    );

    const oursPlan = await explainJson(conn, OURS_QUERY);
    const indexedPlan = await explainJson(conn, NAIVE_QUERY);
    // The Function Scan hides the body's plan: explain the deployed body itself.
    const [fn] = await conn`
      select p.prosrc from pg_proc p
       where p.proname = 'get_stale_movies' and p.pronamespace = 'public'::regnamespace`;
    let bodyPlan: unknown = null;
    if (fn) {
      const body = String(fn.prosrc).replace(/\b(get_stale_movies\.)?limit_count\b/g, "100")
        .replace(/;\s*$/, "");
      bodyPlan = await explainJson(conn, body);
    }

    const oursSummary = summarize(ours);
    const indexedSummary = summarize(indexed);
    const scanSummary = summarize(scan);
    return {
      works: total,
      due,
      dueShare: total ? due / total : 0,
      insertSeconds,
      ours: {
        query: OURS_QUERY,
        settings: [],
        latency: oursSummary,
        rows: oursRows,
        planNodes: planNodeTypes(oursPlan),
        indexes: planIndexNames(oursPlan),
        bodyPlanNodes: bodyPlan ? planNodeTypes(bodyPlan) : [],
        bodyIndexes: bodyPlan ? planIndexNames(bodyPlan) : [],
      },
      naiveIndexed: {
        query: NAIVE_QUERY,
        settings: [],
        latency: indexedSummary,
        rows: indexedRows,
        planNodes: planNodeTypes(indexedPlan),
        indexes: planIndexNames(indexedPlan),
      },
      naiveScan: {
        query: NAIVE_QUERY,
        settings: NO_INDEX_SETTINGS.map((s) => s.replace("set local ", "")),
        latency: scanSummary,
        rows: scanRows,
        planNodes: planNodeTypes(scanPlan),
        indexes: planIndexNames(scanPlan),
      },
      speedupVsScan: ratio(scanSummary.p50, oursSummary.p50),
      speedupVsIndexed: ratio(indexedSummary.p50, oursSummary.p50),
    };
  } finally {
    await conn.end();
  }
}
