/**
 * Scenarios 6 and 7 as the reader sees them (pure, see `edge_report_test.ts`): their targets
 * and table rows.
 *
 *   6a edge drain under hosted limits: ≥ 90 % of the stand-in's 40/s, no request over
 *      1,500 ms of CPU, 0 answers of 546, every movie done once with one TMDB request;
 *   6b the same drain with the host's CPU limit at 300 ms completes (0 failed, every movie
 *      once);
 *   6c pipeline ceiling: ≥ 5 × 40/s with the rate limits lifted, no request over 1,500 ms;
 *   7  seed at the limit: ≥ 0.9 × the configured rate, 0 429s from the stand-in's bucket.
 *
 * @module
 */
import type { ChainDrain, EdgeResult, SeedResult } from "./edge.ts";
import { type TableRow, type TargetResult, verdict } from "./report.ts";
import { formatCount, formatPercent, formatRate, formatRatio } from "./stats.ts";

/** TMDB's rate the ceiling is compared with. */
export const TMDB_RATE = 40;
/** Target 6c: the ceiling as a multiple of {@link TMDB_RATE}. */
export const CEILING_MIN_MULTIPLE = 5;
/** Most CPU a request may use (ms) in 6a and 6c. */
export const MAX_REQUEST_CPU_MS = 1_500;
/** Share of the rate of 6a and 7. */
export const MIN_SHARE = 0.9;
/** The reference mirror's full sweep: hours, and its rate range. */
export const REFERENCE_MIRROR = { hours: 6, rate: "45–50 req/s" } as const;

function completed(d: ChainDrain): number {
  return Object.values(d.results).reduce((a, b) => a + b, 0);
}

/** Every movie finished, none retried, one request each, none asked twice. */
export function doneOnce(d: ChainDrain): boolean {
  return completed(d) === d.movies && d.failed === 0 && d.retried === 0 &&
    d.tmdbRequests === d.movies && d.idsAskedTwice === 0;
}

function onceDetail(d: ChainDrain): string {
  return `${formatCount(completed(d))} of ${
    formatCount(d.movies)
  } completed, ${d.failed} failed, ` +
    `${d.retried} retried, ${formatCount(d.tmdbRequests)} TMDB requests, ` +
    `${d.idsAskedTwice} ids asked twice`;
}

/** Targets 6a, 6b, 6c (not measured when scenario 6 did not run). */
export function edgeTargets(e: EdgeResult | undefined): TargetResult[] {
  const none = "scenario 6 did not run";
  const h = e?.hosted;
  const l = e?.lowCpu;
  const c = e?.ceiling;
  return [
    {
      id: "6a",
      description:
        `edge drain, ONE call_refresh_worker('cron'), hosted limits: ≥ ${MIN_SHARE * 100} % of ` +
        `${TMDB_RATE}/s, no request over ${formatCount(MAX_REQUEST_CPU_MS)} ms CPU, 0 × 546, ` +
        "every movie once with one TMDB request",
      met: h
        ? h.moviesPerSecond >= MIN_SHARE * TMDB_RATE && h.over1500 === 0 &&
          (h.statuses["546"] ?? 0) === 0 && doneOnce(h)
        : null,
      detail: h
        ? `${formatRate(h.moviesPerSecond)} (${formatPercent(h.moviesPerSecond / TMDB_RATE)}); ` +
          `max CPU ${h.cpuMaxMs} ms, ${h.over1500} over; 546: ${h.statuses["546"] ?? 0}; ` +
          onceDetail(h)
        : none,
    },
    {
      id: "6b",
      description: "the same drain under a host CPU limit of 300 ms completes, every movie once",
      met: l ? doneOnce(l) : null,
      detail: l
        ? `${formatRate(l.moviesPerSecond)}; 546: ${l.statuses["546"] ?? 0}, chains restarted ` +
          `${l.restarts}; ${onceDetail(l)}`
        : none,
    },
    {
      id: "6c",
      description: `pipeline ceiling ≥ ${CEILING_MIN_MULTIPLE}× ${TMDB_RATE}/s (rate limits ` +
        `lifted), no request over ${formatCount(MAX_REQUEST_CPU_MS)} ms CPU`,
      met: c
        ? c.moviesPerSecond >= CEILING_MIN_MULTIPLE * TMDB_RATE && c.over1500 === 0 &&
          completed(c) === c.movies
        : null,
      detail: c
        ? `${formatRate(c.moviesPerSecond)} = ${
          formatRatio(c.moviesPerSecond / TMDB_RATE)
        } ${TMDB_RATE}/s with ${c.maxChains} chains; max CPU ${c.cpuMaxMs} ms, ` +
          `${c.over1500} over; ${formatCount(completed(c))} of ${formatCount(c.movies)} completed`
        : none,
    },
  ];
}

/** Target 7. */
export function seedTarget(s: SeedResult | undefined): TargetResult {
  const description = `seed at the limit: ≥ ${MIN_SHARE} × the configured rate, 0 429s from ` +
    "the stand-in's bucket";
  if (!s) return { id: "7", description, met: null, detail: "scenario 7 did not run" };
  const d = s.drain;
  return {
    id: "7",
    description,
    met: d.moviesPerSecond >= MIN_SHARE * s.configuredRate && d.bucket429 === 0 &&
      completed(d) + d.failed === d.movies,
    detail:
      `${formatRate(d.moviesPerSecond)} = ${
        formatRatio(d.moviesPerSecond / s.configuredRate)
      } the configured ${s.configuredRate}/s; ${d.bucket429} 429s from the bucket; ` +
      `${formatCount(completed(d))} completed, ${d.failed} failed of ${formatCount(d.movies)}`,
  };
}

function row(scenario: string, metric: string, ours: string, more: Partial<TableRow> = {}) {
  return { scenario, metric, ours, versus: "", ratio: "", target: "", ...more };
}

function drainRows(sc: string, d: ChainDrain, name: string): TableRow[] {
  const s546 = d.statuses["546"] ?? 0;
  const other = Object.entries(d.statuses).filter(([k]) => k !== "200" && k !== "546")
    .map(([k, v]) => `${v} × ${k}`).join(", ");
  return [
    row(
      sc,
      `${name}: requests, continuations, chains restarted; answers 546${other ? ", other" : ""}`,
      `${formatCount(d.invocations)}, ${formatCount(d.continuations)}, ${d.restarts}; ` +
        `${s546}${other ? `, ${other}` : ""}`,
    ),
    row(
      sc,
      `${name}: CPU per request max / p50; function CPU per movie`,
      `${d.cpuMaxMs} ms / ${Math.round(d.cpuP50Ms)} ms; ${d.cpuPerMovieMs.toFixed(2)} ms`,
    ),
    row(
      sc,
      `${name}: items retried (another attempt), and why`,
      d.retried === 0
        ? "0"
        : `${formatCount(d.retried)}: ${
          d.retryErrors.map((e) => `${e.n} × ${e.error}`).join("; ")
        }`,
    ),
    row(
      sc,
      `${name}: results; TMDB requests per movie; ids asked twice; bucket 429s`,
      `${Object.entries(d.results).map(([k, v]) => `${formatCount(v)} ${k || "?"}`).join(", ")}` +
        `${d.failed ? `, ${d.failed} failed` : ""}; ` +
        `${(d.tmdbRequests / d.movies).toFixed(3)}; ${d.idsAskedTwice}; ${d.bucket429}`,
    ),
  ];
}

/** The table rows of scenario 6. */
export function edgeRows(e: EdgeResult, targets: TargetResult[]): TableRow[] {
  const sc = "6 edge drain";
  const t = (id: string) => `${id}: ${verdict(targets.find((x) => x.id === id)?.met ?? null)}`;
  return [
    row(
      sc,
      `movies/s, ${formatCount(e.hosted.movies)} new movies, ONE call_refresh_worker('cron'), ` +
        `hosted limits (CPU ${
          formatCount(e.hosted.cpuLimitMs)
        } ms), max_chains ${e.hosted.maxChains}`,
      `${formatRate(e.hosted.moviesPerSecond)} (${e.hosted.drainSeconds.toFixed(1)} s)`,
      {
        versus: `stand-in ${TMDB_RATE}/s`,
        ratio: formatRatio(e.hosted.moviesPerSecond / TMDB_RATE),
        target: t("6a"),
      },
    ),
    ...drainRows(sc, e.hosted, "hosted"),
    row(
      sc,
      `movies/s, ${formatCount(e.lowCpu.movies)} new movies, host CPU limit ` +
        `${e.lowCpu.cpuLimitMs} ms`,
      `${formatRate(e.lowCpu.moviesPerSecond)} (${e.lowCpu.drainSeconds.toFixed(1)} s)`,
      {
        versus: `hosted limits: ${formatRate(e.hosted.moviesPerSecond)}`,
        ratio: formatRatio(e.lowCpu.moviesPerSecond / e.hosted.moviesPerSecond),
        target: t("6b"),
      },
    ),
    ...drainRows(sc, e.lowCpu, `${e.lowCpu.cpuLimitMs} ms`),
    row(
      "6 ceiling",
      `movies/s, ${formatCount(e.ceiling.movies)} new movies, stand-in and shared bucket ` +
        `lifted (30 ms latency), ${e.ceiling.maxChains} chains`,
      `${formatRate(e.ceiling.moviesPerSecond)} (${e.ceiling.drainSeconds.toFixed(1)} s)`,
      {
        versus: `TMDB ${TMDB_RATE}/s`,
        ratio: formatRatio(e.ceiling.moviesPerSecond / TMDB_RATE),
        target: t("6c"),
      },
    ),
    ...drainRows("6 ceiling", e.ceiling, "ceiling"),
  ];
}

/** The table rows of scenario 7. */
export function seedRows(s: SeedResult, target: TargetResult): TableRow[] {
  const sc = "7 seed";
  const d = s.drain;
  return [
    row(
      sc,
      `movies/s, ${formatCount(d.movies)} new ids from ${s.exportFile} ` +
        `(${formatCount(s.exportLines)} lines), max_chains ${d.maxChains}`,
      `${formatRate(d.moviesPerSecond)} (${d.drainSeconds.toFixed(1)} s)`,
      {
        versus: `configured rate ${s.configuredRate}/s`,
        ratio: formatRatio(d.moviesPerSecond / s.configuredRate),
        target: `7: ${verdict(target.met)}`,
      },
    ),
    row(
      sc,
      "projected time for 1.1 M movies at this rate (at the configured rate)",
      `${s.projectedHours.toFixed(1)} h (${s.rateBoundHours.toFixed(1)} h)`,
      {
        versus: `reference mirror: ${REFERENCE_MIRROR.hours} h at ${REFERENCE_MIRROR.rate}`,
        ratio: formatRatio(REFERENCE_MIRROR.hours / s.projectedHours),
      },
    ),
    ...drainRows(sc, d, "seed"),
  ];
}
