/**
 * Scenario 9, storage and steady state (migration 030's depth policy and freshness view):
 *
 *   1. bytes per movie: a sample of the TMDB stand-in's movies (every k-th of a 1.1 M-movie
 *      catalog generated in-process, payloads as `/movie/{id}` with the parts refresh-worker
 *      asks for) is stored with `public.ingest_movie` at full depth, then again under new ids
 *      at base depth, in one transaction that starts by emptying the catalog tables and ends
 *      with a rollback (the stack's other data is untouched). Bytes are deltas of
 *      `pg_total_relation_size` (heap, TOAST and indexes) after a warm-up of a few movies, so
 *      each table's first pages are not charged to the sample;
 *   2. projections for 1.1 M movies at full and at base depth, next to Supabase's free plan
 *      (500 MB) and Pro (8 GB included), and the popularity threshold (from the stand-in's
 *      popularity distribution at 1.1 M movies) at which the catalog fits Pro. People are
 *      shared by movies: they are projected from the sample's bytes per person and the
 *      stand-in's person pool, as if credits picked people uniformly from it (an upper bound:
 *      the stand-in, like TMDB, picks some people far more often);
 *   3. steady state: the TMDB requests a day the freshness policy needs for 1.1 M movies,
 *      from the tiers of 001 (`public.refresh_interval`, applied in SQL to a sample of the
 *      stand-in's statuses and release dates) plus the movies the stand-in's change feed lists
 *      each day, as a share of TMDB's 40/s;
 *   4. `public.catalog_freshness` on the stack as it is (after scenario 1: ~1 M works, just
 *      inserted, their pages not yet in the visibility map), then after `vacuum` of works (as
 *      autovacuum leaves it): time per query and its plan.
 *
 * @module
 */
import type postgres from "postgres";
import { createCatalog } from "../tmdb_standin/catalog.ts";
import { type BenchContext, connect } from "./context.ts";
import { CATALOG_TABLES } from "./ingest_cost.ts";
import type { TableRow, TargetResult } from "./report.ts";
import {
  formatCount,
  formatMs,
  formatPercent,
  formatRatio,
  summarize,
  type Summary,
} from "./stats.ts";

/** The catalog the projections are for: TMDB's movies. */
export const TARGET_MOVIES = 1_100_000;
/** Supabase's free plan: 500 MB of database (counted here as MiB, like Postgres does). */
export const FREE_PLAN_BYTES = 500 * 1024 ** 2;
/** Supabase Pro: 8 GB of disk included (GiB). */
export const PRO_PLAN_BYTES = 8 * 1024 ** 3;
/** TMDB's rate limit the refresh is planned for (requests a second). */
export const TMDB_LIMIT_PER_SECOND = 40;
/** Target 9b: the steady state needs at most this share of the limit (the rest is for seeding). */
export const STEADY_STATE_MAX_SHARE = 0.5;
/** TMDB ids of the stored sample start here (clear of every other scenario's ids). */
export const STORAGE_TMDB_ID_BASE = 40_000_000;
/** The parts refresh-worker appends to `/movie/{id}`. */
const APPEND = ["credits", "videos", "release_dates", "external_ids", "keywords"];
/** Movies stored before measuring, so the tables' first pages are not charged to the sample. */
const WARM_UP = 20;

/** Sample sizes. */
export interface StorageSizes {
  /** Movies stored at each depth. */
  movies: number;
  /** Movies whose tier is looked up. */
  tierSample: number;
}

/** Full and quick sample sizes. */
export const STORAGE_SIZES: Record<"full" | "quick", StorageSizes> = {
  full: { movies: 2_000, tierSample: 50_000 },
  quick: { movies: 200, tierSample: 5_000 },
};

/** What one depth costs, per movie. */
export interface DepthBytes {
  /** Bytes per movie over the catalog tables, people excluded (they are shared). */
  perMovie: number;
  /** Bytes per movie by table (people excluded). */
  byTable: Record<string, number>;
  /** Projection for {@link TARGET_MOVIES} at this depth, people included. */
  projectedBytes: number;
}

/** A policy that fits a budget. */
export interface Fit {
  /** Budget in bytes. */
  budget: number;
  /** Movies at full depth (the most popular). */
  fullMovies: number;
  /** fullMovies / TARGET_MOVIES. */
  fullShare: number;
  /** `catalog_depth_policy.full_min_popularity` that selects them (0: every movie full). */
  threshold: number;
  /** Projected bytes with this policy. */
  projectedBytes: number;
}

/** What scenario 9 reports. */
export interface StorageResult {
  /** Stand-in catalog size the sample and distributions come from. */
  catalogMovies: number;
  /** Movies stored at each depth. */
  movies: number;
  /** Mean payload size of the sample (JSON bytes). */
  payloadBytes: number;
  full: DepthBytes;
  base: DepthBytes;
  people: {
    /** People rows the full sample added. */
    rows: number;
    /** Bytes per person row (heap + indexes). */
    bytesPerPerson: number;
    /** Cast + key crew rows per full movie (picks from the pool). */
    creditsPerMovie: number;
    /** The stand-in's person pool at 1.1 M movies. */
    pool: number;
    /** Projected people rows at 1.1 M full movies. */
    projectedRowsAllFull: number;
  };
  /** The largest share of full movies that fits Pro (null: not even base depth fits). */
  fitPro: Fit | null;
  /** Same for the free plan. */
  fitFree: Fit | null;
  steady: {
    /** Movies whose tier was computed. */
    sample: number;
    /** Share of the sample per tier interval in days, e.g. {"1": 0.07, "7": 0.1, "30": 0.83}. */
    tierShares: Record<string, number>;
    /** Requests a day the tiers need at 1.1 M movies. */
    tierRequestsPerDay: number;
    /** Movies the stand-in's change feed lists in one day at 1.1 M movies. */
    changesPerDay: number;
    /** Tiers + changes (an upper bound: a changed movie that was due anyway counts twice). */
    requestsPerDay: number;
    /** requestsPerDay / (40/s × 86,400). */
    shareOfLimit: number;
  };
  /** The view as the stack is, then after a vacuum of works. */
  freshnessView: FreshnessTiming[];
}

/** `catalog_freshness` timed on the stack. */
export interface FreshnessTiming {
  /** `as is` or `after vacuum`. */
  when: string;
  /** Works on the stack when the view was timed. */
  works: number;
  /** Size of the works heap in bytes. */
  worksBytes: number;
  latency: Summary;
  /** How the plan reads works, e.g. `Parallel Index Only Scan using works_next_refresh_at_idx`. */
  worksScan: string;
}

/** How an `EXPLAIN (FORMAT JSON)` plan reads a relation (its scan nodes, joined by `; `). */
export function scansOf(explain: unknown, relation: string): string {
  const found: string[] = [];
  const walk = (node: Record<string, unknown>) => {
    if (node["Relation Name"] === relation) {
      found.push(
        (node["Parallel Aware"] ? "Parallel " : "") + String(node["Node Type"]) +
          (node["Index Name"] ? ` using ${node["Index Name"]}` : ""),
      );
    }
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  const roots = Array.isArray(explain) ? explain : [explain];
  for (const r of roots) walk((r as { Plan: Record<string, unknown> }).Plan);
  return found.join("; ");
}

/**
 * People rows stored for `movies` full movies whose credits pick `creditsPerMovie` people each
 * from a pool of `pool`: pool × (1 − e^(−picks/pool)), the expected distinct count of uniform
 * picks, which no other distribution of picks exceeds.
 */
export function projectedPeople(movies: number, creditsPerMovie: number, pool: number): number {
  if (pool <= 0) return 0;
  return pool * (1 - Math.exp(-(movies * creditsPerMovie) / pool));
}

/** Bytes of a catalog of `total` movies with `fullMovies` of them at full depth. */
export function projectBytes(
  fullMovies: number,
  total: number,
  r: Pick<StorageResult, "full" | "base" | "people">,
): number {
  return fullMovies * r.full.perMovie + (total - fullMovies) * r.base.perMovie +
    projectedPeople(fullMovies, r.people.creditsPerMovie, r.people.pool) * r.people.bytesPerPerson;
}

/**
 * The most movies at full depth (the most popular first) that keep the projection within
 * `budget`, and the popularity threshold that selects them from `popularityDesc` (the
 * catalog's popularities, highest first); null when even a base-only catalog exceeds it.
 */
export function fitBudget(
  budget: number,
  total: number,
  r: Pick<StorageResult, "full" | "base" | "people">,
  popularityDesc: ArrayLike<number>,
): Fit | null {
  if (projectBytes(0, total, r) > budget) return null;
  let lo = 0;
  let hi = total;
  // projectBytes grows with fullMovies (a full movie costs more than a base one).
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (projectBytes(mid, total, r) <= budget) lo = mid;
    else hi = mid - 1;
  }
  const n = popularityDesc.length;
  const rank = Math.ceil((lo / total) * n);
  // Every movie from rank on falls below the threshold; ties at the threshold go full, so the
  // threshold is just above the popularity of the first movie left out.
  const threshold = rank >= n
    ? 0
    : rank === 0
    ? Number(popularityDesc[0]) + 0.001
    : Math.round((Number(popularityDesc[rank]) + 0.001) * 1000) / 1000;
  return {
    budget,
    fullMovies: lo,
    fullShare: lo / total,
    threshold,
    projectedBytes: projectBytes(lo, total, r),
  };
}

async function tableBytes(tx: postgres.TransactionSql): Promise<Record<string, number>> {
  const rows = await tx`
    select c.relname, pg_total_relation_size(c.oid)::float8 as bytes
      from pg_class c
     where c.relnamespace = 'public'::regnamespace and c.relname = any(${[...CATALOG_TABLES]})`;
  return Object.fromEntries(rows.map((r) => [String(r.relname), Number(r.bytes)]));
}

function delta(after: Record<string, number>, before: Record<string, number>) {
  return Object.fromEntries(CATALOG_TABLES.map((t) => [t, (after[t] ?? 0) - (before[t] ?? 0)]));
}

function perMovieWithoutPeople(d: Record<string, number>, movies: number): DepthBytes {
  const byTable = Object.fromEntries(
    Object.entries(d).filter(([t]) => t !== "people").map(([t, b]) => [t, b / movies]),
  );
  return {
    perMovie: Object.values(byTable).reduce((a, b) => a + b, 0),
    byTable,
    projectedBytes: 0,
  };
}

class Rollback extends Error {}

/** Runs scenario 9. */
export async function runStorage(ctx: BenchContext): Promise<StorageResult> {
  const sizes = STORAGE_SIZES[ctx.quick ? "quick" : "full"];
  const { progress } = ctx;
  const nowMs = Date.now();
  const catalog = createCatalog({ size: TARGET_MOVIES, seed: 1, anchor: nowMs });
  const ids = catalog.ids;
  const pick = (i: number, n: number) => ids[Math.floor(((i + 0.5) * catalog.size) / n)];

  // ---- 4. the freshness view on the stack as it is ----
  const conn = connect(ctx.info.dbUrl, 1);
  try {
    const timeView = (when: string) =>
      progress.phase(
        `catalog_freshness ${when}: 10 queries`,
        async (): Promise<FreshnessTiming> => {
          const [{ works, heap }] = await conn`
            select count(*)::float8 as works,
                   pg_relation_size('public.works')::float8 as heap from public.works`;
          const ms: number[] = [];
          for (let i = 0; i < 11; i++) {
            const t0 = performance.now();
            await conn`select * from public.catalog_freshness`;
            if (i > 0) ms.push(performance.now() - t0);
          }
          const [plan] = await conn.unsafe(
            "explain (format json) select * from public.catalog_freshness",
          );
          return {
            when,
            works: Number(works),
            worksBytes: Number(heap),
            latency: summarize(ms),
            worksScan: scansOf(plan["QUERY PLAN"], "works"),
          };
        },
        (r) => `p50 ${formatMs(r.latency.p50)} at ${formatCount(r.works)} works`,
      );
    const freshnessView = [await timeView("as is")];
    await conn`vacuum public.works`;
    freshnessView.push(await timeView("after vacuum"));

    // ---- 1. bytes per movie ----
    const payloads = Array.from({ length: sizes.movies }, (_, i) => {
      const d = catalog.details(pick(i, sizes.movies), nowMs, APPEND);
      if (!d) throw new Error(`the stand-in has no movie ${pick(i, sizes.movies)}`);
      return d as unknown as Record<string, unknown>;
    });
    const payloadBytes = payloads.reduce((a, p) => a + JSON.stringify(p).length, 0) /
      payloads.length;
    const store = async (tx: postgres.TransactionSql, offset: number) => {
      for (let i = 0; i < payloads.length; i++) {
        const p = { ...payloads[i], id: STORAGE_TMDB_ID_BASE + offset + i };
        await tx`select public.ingest_movie(${tx.json(p as postgres.JSONValue)}, now())`;
      }
    };
    const measured: { v?: Pick<StorageResult, "full" | "base" | "people"> } = {};
    await progress.phase(
      `bytes per movie: ${formatCount(sizes.movies)} stand-in movies at full depth, then at base`,
      () =>
        conn.begin(async (tx) => {
          // Empty tables (this transaction only: it is rolled back) so nothing else's free
          // space is filled by the sample.
          await tx`truncate public.works, public.people, public.genres cascade`;
          await tx`update public.catalog_depth_policy set full_min_popularity = null`;
          for (let i = 0; i < WARM_UP; i++) {
            const p = { ...payloads[i % payloads.length], id: STORAGE_TMDB_ID_BASE - 1 - i };
            await tx`select public.ingest_movie(${tx.json(p as postgres.JSONValue)}, now())`;
          }
          const [{ people: people0 }] = await tx`select count(*)::int as people from public.people`;
          const b0 = await tableBytes(tx);
          await store(tx, 0);
          const b1 = await tableBytes(tx);
          const [{ people: people1, credits }] = await tx`
            select (select count(*) from public.people)::int as people,
                   ((select count(*) from public.work_cast) + (select count(*) from public.work_crew))::int
                     as credits`;
          await tx`update public.catalog_depth_policy set full_min_popularity = 1e9, keep_full = false`;
          await store(tx, sizes.movies);
          const b2 = await tableBytes(tx);
          const [{ base }] = await tx`
            select count(*)::int as base from public.works where depth = 'base'`;
          if (base !== sizes.movies) {
            throw new Error(`expected ${sizes.movies} base works, found ${base}`);
          }
          const fullDelta = delta(b1, b0);
          const peopleRows = people1 - people0;
          measured.v = {
            full: perMovieWithoutPeople(fullDelta, sizes.movies),
            base: perMovieWithoutPeople(delta(b2, b1), sizes.movies),
            people: {
              rows: peopleRows,
              bytesPerPerson: peopleRows > 0 ? fullDelta.people / peopleRows : 0,
              // Credits of the full sample (the warm-up's are few: WARM_UP of them).
              creditsPerMovie: credits / (sizes.movies + WARM_UP),
              pool: catalog.peopleCount,
              projectedRowsAllFull: 0,
            },
          };
          throw new Rollback();
        }).catch((e) => {
          if (!(e instanceof Rollback)) throw e;
        }),
    );
    const m = measured.v;
    if (!m) throw new Error("the storage sample was not measured");
    m.people.projectedRowsAllFull = projectedPeople(
      TARGET_MOVIES,
      m.people.creditsPerMovie,
      m.people.pool,
    );
    m.full.projectedBytes = projectBytes(TARGET_MOVIES, TARGET_MOVIES, m);
    m.base.projectedBytes = projectBytes(0, TARGET_MOVIES, m);

    // ---- 2. the threshold that fits ----
    const popularityDesc = await progress.phase(
      `popularity distribution of ${formatCount(TARGET_MOVIES)} stand-in movies`,
      () => Promise.resolve(Float64Array.from(catalog.board(nowMs).popularity).sort().reverse()),
    );
    const fitPro = fitBudget(PRO_PLAN_BYTES, TARGET_MOVIES, m, popularityDesc);
    const fitFree = fitBudget(FREE_PLAN_BYTES, TARGET_MOVIES, m, popularityDesc);

    // ---- 3. steady state ----
    const steady = await progress.phase(
      `steady state: tiers of ${formatCount(sizes.tierSample)} stand-in movies, a day of changes`,
      async () => {
        const statuses: string[] = [];
        const dates: (string | null)[] = [];
        for (let i = 0; i < sizes.tierSample; i++) {
          const d = catalog.details(pick(i, sizes.tierSample), nowMs);
          if (!d) continue;
          statuses.push(String(d.status));
          dates.push(d.release_date ? String(d.release_date) : null);
        }
        // The tiers are 001's, computed by its own SQL function (one source of the policy).
        const tiers = await conn`
          select extract(epoch from public.refresh_interval(s, d::date, now()))::float8 / 86400
                   as days,
                 count(*)::int as n
            from unnest(${statuses}::text[], ${dates}::text[]) as t(s, d)
           group by 1 order by 1`;
        const sample = tiers.reduce((a, t) => a + Number(t.n), 0);
        const tierShares: Record<string, number> = {};
        let perMovie = 0;
        for (const t of tiers) {
          tierShares[String(Number(t.days))] = Number(t.n) / sample;
          perMovie += Number(t.n) / sample / Number(t.days);
        }
        const day = Math.floor(nowMs / 86_400_000) * 86_400_000 - 86_400_000;
        const changesPerDay = catalog.changedIndexes(day, day + 86_400_000, nowMs).length;
        const tierRequestsPerDay = perMovie * TARGET_MOVIES;
        const requestsPerDay = tierRequestsPerDay + changesPerDay;
        return {
          sample,
          tierShares,
          tierRequestsPerDay,
          changesPerDay,
          requestsPerDay,
          shareOfLimit: requestsPerDay / (TMDB_LIMIT_PER_SECOND * 86_400),
        };
      },
      (r) => `${formatCount(r.requestsPerDay)} requests/day`,
    );

    return {
      catalogMovies: catalog.size,
      movies: sizes.movies,
      payloadBytes,
      ...m,
      fitPro,
      fitFree,
      steady,
      freshnessView,
    };
  } finally {
    await conn.end();
  }
}

function bytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(0)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}

function fitText(f: Fit | null, plan: string): string {
  return f === null
    ? `nothing fits ${plan}, not even base depth`
    : f.fullMovies === TARGET_MOVIES
    ? `every movie full fits ${plan} (${bytes(f.projectedBytes)})`
    : `full_min_popularity ${f.threshold}: ${formatCount(f.fullMovies)} full movies ` +
      `(${formatPercent(f.fullShare)}), ${bytes(f.projectedBytes)}`;
}

/** Targets 9a (a depth policy fits Pro) and 9b (steady state within its share of the limit). */
export function storageTargets(s: StorageResult | undefined): TargetResult[] {
  return [
    {
      id: "9a",
      description: `a depth policy fits ${formatCount(TARGET_MOVIES)} movies in Pro's 8 GB`,
      met: s ? s.fitPro !== null : null,
      detail: s ? fitText(s.fitPro, "Pro") : "scenario 9 did not run",
    },
    {
      id: "9b",
      description: `steady state ≤ ${STEADY_STATE_MAX_SHARE * 100} % of TMDB's ` +
        `${TMDB_LIMIT_PER_SECOND}/s`,
      met: s ? s.steady.shareOfLimit <= STEADY_STATE_MAX_SHARE : null,
      detail: s
        ? `${formatCount(s.steady.requestsPerDay)} requests/day = ` +
          `${formatPercent(s.steady.shareOfLimit)}`
        : "scenario 9 did not run",
    },
  ];
}

/** The table rows of scenario 9. */
export function storageRows(s: StorageResult, targets: TargetResult[]): TableRow[] {
  const sc = "9 storage";
  const t = (id: string) => {
    const x = targets.find((y) => y.id === id);
    return x ? `${id}: ${x.met === null ? "not measured" : x.met ? "met" : "missed"}` : "";
  };
  const row = (metric: string, ours: string, more: Partial<TableRow> = {}): TableRow => ({
    scenario: sc,
    metric,
    ours,
    versus: "",
    ratio: "",
    target: "",
    ...more,
  });
  const top = (d: DepthBytes) =>
    Object.entries(d.byTable).filter(([, b]) => b >= 1).sort((a, b) => b[1] - a[1])
      .map(([k, b]) => `${k} ${bytes(b)}`).join(", ");
  const tiers = Object.entries(s.steady.tierShares)
    .map(([d, share]) => `${d} d ${formatPercent(share)}`).join(", ");
  return [
    row(
      `bytes per movie (tables + indexes), ${formatCount(s.movies)} stand-in movies ` +
        `(payload ${bytes(s.payloadBytes)}): full / base, people apart`,
      `${bytes(s.full.perMovie)} / ${bytes(s.base.perMovie)}`,
      {
        versus: `full: ${top(s.full)}; base: ${top(s.base)}; people ` +
          `${bytes(s.people.bytesPerPerson)} each, ${s.people.creditsPerMovie.toFixed(1)} ` +
          `credits per full movie`,
        ratio: formatRatio(s.full.perMovie / s.base.perMovie),
      },
    ),
    row(
      `projected for ${formatCount(TARGET_MOVIES)} movies: every movie full / every movie base`,
      `${bytes(s.full.projectedBytes)} / ${bytes(s.base.projectedBytes)}`,
      {
        versus: `free 500 MB, Pro 8 GB; people at all full ≤ ` +
          `${formatCount(s.people.projectedRowsAllFull)} of a pool of ${
            formatCount(s.people.pool)
          }`,
        ratio: `${formatRatio(PRO_PLAN_BYTES / s.full.projectedBytes)} / ` +
          formatRatio(PRO_PLAN_BYTES / s.base.projectedBytes) + " of Pro",
      },
    ),
    row(
      "depth policy that fits Pro (8 GB) / free (500 MB)",
      fitText(s.fitPro, "Pro"),
      { versus: fitText(s.fitFree, "free"), target: t("9a") },
    ),
    row(
      `steady state: TMDB requests/day for ${formatCount(TARGET_MOVIES)} movies ` +
        `(tiers from ${formatCount(s.steady.sample)} stand-in movies: ${tiers}; + changes)`,
      `${formatCount(s.steady.requestsPerDay)} (${formatCount(s.steady.tierRequestsPerDay)} ` +
        `tiers + ${formatCount(s.steady.changesPerDay)} changed)`,
      {
        versus: `limit ${TMDB_LIMIT_PER_SECOND}/s = ` +
          `${formatCount(TMDB_LIMIT_PER_SECOND * 86_400)}/day`,
        ratio: formatPercent(s.steady.shareOfLimit),
        target: t("9b"),
      },
    ),
    ...s.freshnessView.map((v) =>
      row(
        `catalog_freshness p50 / p95, ${formatCount(v.works)} works (heap ${
          bytes(v.worksBytes)
        }), ` +
          v.when,
        `${formatMs(v.latency.p50)} / ${formatMs(v.latency.p95)}`,
        {
          versus: `works read by: ${v.worksScan}`,
        },
      )
    ),
  ];
}
