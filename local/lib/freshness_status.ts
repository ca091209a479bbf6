/**
 * The freshness section of `npm run status`: `public.catalog_freshness` (migration 030) and
 * the depth policy, as `[name, value]` pairs (status.ts aligns them). Pure formatting;
 * `printStatus` runs the queries.
 *
 * @module
 */
/** One row of `public.catalog_freshness`, numbers as numbers and intervals in seconds. */
export interface FreshnessRow {
  works: number;
  within_tier: number;
  /** 0..1, null for an empty catalog. */
  within_tier_share: number | null;
  overdue: number;
  never_refreshed: number;
  /** How long the most overdue movie (with a due time) has been due; null when none. */
  oldest_overdue_s: number | null;
  queue_pending: number;
  queue_processing: number;
  queue_backlog: number;
  queue_finished_last_hour: number;
  queue_finished_last_day: number;
  queue_finished_per_hour: number;
  /** Null when nothing finished in the last day (no rate to measure). */
  queue_backlog_eta_s: number | null;
  tmdb_requests_last_day: number;
  tmdb_requests_limit_per_day: number;
  /** 0..1 of the limit. */
  tmdb_requests_share: number | null;
  drift_last_day: number;
  drift_paths_last_day: number;
  queue_failed_last_day: number;
  ingest_runs_failed_last_day: number;
  ingest_items_failed_last_day: number;
}

/** The depth policy (`catalog_depth_policy`) and the works at each depth. */
export interface DepthState {
  full_min_popularity: number | null;
  keep_full: boolean;
  full: number;
  base: number;
}

/** The SQL that reads {@link FreshnessRow} (intervals as seconds, counts as numbers). */
export const FRESHNESS_QUERY = `
  select works::float8 as works, within_tier::float8 as within_tier,
         within_tier_share::float8 as within_tier_share, overdue::float8 as overdue,
         never_refreshed::float8 as never_refreshed,
         extract(epoch from oldest_overdue_by)::float8 as oldest_overdue_s,
         queue_pending::float8 as queue_pending, queue_processing::float8 as queue_processing,
         queue_backlog::float8 as queue_backlog,
         queue_finished_last_hour::float8 as queue_finished_last_hour,
         queue_finished_last_day::float8 as queue_finished_last_day,
         queue_finished_per_hour::float8 as queue_finished_per_hour,
         extract(epoch from queue_backlog_eta)::float8 as queue_backlog_eta_s,
         tmdb_requests_last_day::float8 as tmdb_requests_last_day,
         tmdb_requests_limit_per_day::float8 as tmdb_requests_limit_per_day,
         tmdb_requests_share::float8 as tmdb_requests_share,
         drift_last_day::float8 as drift_last_day,
         drift_paths_last_day::float8 as drift_paths_last_day,
         queue_failed_last_day::float8 as queue_failed_last_day,
         ingest_runs_failed_last_day::float8 as ingest_runs_failed_last_day,
         ingest_items_failed_last_day::float8 as ingest_items_failed_last_day
    from public.catalog_freshness`;

/** The SQL that reads {@link DepthState} (one pass over works: depth has no index). */
export const DEPTH_QUERY = `
  select p.full_min_popularity::float8 as full_min_popularity, p.keep_full,
         c.full::float8 as full, c.base::float8 as base
    from public.catalog_depth_policy p,
         (select count(*) filter (where w.depth = 'full') as full,
                 count(*) filter (where w.depth = 'base') as base
            from public.works w) c`;

/**
 * A duration for people: `45 s`, `12 min`, `3 h 05 min`, `10 d 4 h`.
 *
 * @example
 * formatDuration(2700); // "45 min"
 */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) {
    const h = Math.floor(s / 3600);
    return `${h} h ${String(Math.round((s - h * 3600) / 60)).padStart(2, "0")} min`;
  }
  const d = Math.floor(s / 86_400);
  return `${d} d ${Math.round((s - d * 86_400) / 3600)} h`;
}

function n(x: number): string {
  return x.toLocaleString("en-US");
}

function pct(share: number | null): string {
  return share === null ? "-" : `${(share * 100).toFixed(1)} %`;
}

/**
 * The section's `[name, value]` pairs, under the title "catalog freshness".
 *
 * @example
 * formatFreshness(row, null)[0]; // ["within tier", "1 of 4 works (25.0 %); 3 overdue …"]
 */
export function formatFreshness(
  f: FreshnessRow,
  depth: DepthState | null,
): [string, string][] {
  const rate = f.queue_finished_per_hour;
  const eta = f.queue_backlog === 0
    ? "nothing queued"
    : f.queue_backlog_eta_s === null
    ? "ETA unknown (nothing finished in the last day)"
    : `ETA ${formatDuration(f.queue_backlog_eta_s)} at ${n(rate)}/h`;
  const overdue = f.overdue === 0 ? "none overdue" : `${n(f.overdue)} overdue` +
    (f.never_refreshed ? ` (${n(f.never_refreshed)} never refreshed)` : "") +
    (f.oldest_overdue_s === null ? "" : `, most overdue by ${formatDuration(f.oldest_overdue_s)}`);
  const lines: [string, string][] = [
    [
      "within tier",
      `${n(f.within_tier)} of ${n(f.works)} works (${pct(f.within_tier_share)}); ${overdue}`,
    ],
    [
      "queue backlog",
      `${n(f.queue_backlog)} (${n(f.queue_pending)} pending, ${n(f.queue_processing)} ` +
      `processing); finished ${n(f.queue_finished_last_hour)} in the last hour, ` +
      `${n(f.queue_finished_last_day)} in the day; ${eta}`,
    ],
    [
      "TMDB requests",
      `${n(f.tmdb_requests_last_day)} in the last day of ${
        n(f.tmdb_requests_limit_per_day)
      } allowed (${pct(f.tmdb_requests_share)})`,
    ],
    [
      "drift, failures",
      `${n(f.drift_last_day)} drift occurrences on ${n(f.drift_paths_last_day)} paths; ` +
      `${n(f.queue_failed_last_day)} queue items failed, ${n(f.ingest_runs_failed_last_day)} ` +
      `ingest runs failed or partial (${n(f.ingest_items_failed_last_day)} items) in the last day`,
    ],
  ];
  if (depth) {
    const policy = depth.full_min_popularity === null
      ? "every movie full"
      : `full at popularity ≥ ${depth.full_min_popularity}` +
        (depth.keep_full ? ", full movies stay full" : "");
    lines.push(["depth", `${policy}; works: ${n(depth.full)} full, ${n(depth.base)} base`]);
  }
  return lines;
}
