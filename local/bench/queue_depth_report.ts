/**
 * Scenario 2 at depth as the reader sees it (pure, see `queue_depth_report_test.ts`):
 * target 2d and the table rows of `queue_depth.ts`'s figures.
 *
 * Target 2d: with 1,000,000 rows queued, ≥ graphile-worker's best shallow mode at the same
 * depth (items/s), zero duplicate executions and no sequential scan of refresh_queue.
 *
 * @module
 */
import type { QueueDepthResult } from "./queue_depth.ts";
import { type TableRow, type TargetResult, verdict } from "./report.ts";
import { formatCount, formatMs, formatRate, formatRatio } from "./stats.ts";

/** The depth target 2d is stated at (a quick run's smaller depth is reported, not judged). */
export const TARGET_DEPTH = 1_000_000;

/** Target 2d for `d` (not measured when the depth run did not happen). */
export function queueDepthTarget(d: QueueDepthResult | undefined): TargetResult {
  const description =
    "at 1M queued rows: ≥ graphile-worker's best mode items/s at the same depth, zero duplicates, no sequential scan";
  if (!d) return { id: "2d", description, met: null, detail: "scenario 2's depth run did not run" };
  const quick = d.depth < TARGET_DEPTH ? " (quick depth)" : "";
  return {
    id: "2d",
    description,
    met: d.ratio === null
      ? null
      : d.ratio >= 1 && d.ours.duplicates === 0 && d.graphile.duplicates === 0 &&
        d.ours.seqScans === 0,
    detail: `${formatRate(d.ours.itemsPerSecond)} vs ${formatRate(d.graphile.itemsPerSecond)} ` +
      `(graphile-worker ${d.graphile.mode}) = ${formatRatio(d.ratio)} at ` +
      `${formatCount(d.depth)} queued${quick}; duplicates ${d.ours.duplicates} ` +
      `(graphile-worker ${d.graphile.duplicates}); sequential scans ${d.ours.seqScans}`,
  };
}

/** The table rows of the depth run. */
export function queueDepthRows(d: QueueDepthResult, target: TargetResult): TableRow[] {
  const sc = "2 queue";
  const at = `${formatCount(d.items)} of ${formatCount(d.depth)} queued`;
  const row = (metric: string, ours: string, more: Partial<TableRow> = {}): TableRow => ({
    scenario: sc,
    metric,
    ours,
    versus: "",
    ratio: "",
    target: "",
    ...more,
  });
  return [
    row(`at depth: items/s, ${at}, same workers and batches`, formatRate(d.ours.itemsPerSecond), {
      versus: `graphile-worker (${d.graphile.mode}), same depth: ` +
        formatRate(d.graphile.itemsPerSecond),
      ratio: formatRatio(d.ratio),
      target: `2d: ${verdict(target.met)}`,
    }),
    row(
      "at depth: finish_and_claim_refresh_batch round trip, p50 / p95",
      `${formatMs(d.ours.finishAndClaimMs.p50)} / ${formatMs(d.ours.finishAndClaimMs.p95)}`,
    ),
    row(
      "at depth: scans of refresh_queue while draining (sequential / index)",
      `${d.ours.seqScans} / ${formatCount(d.ours.indexScans)}`,
    ),
    row(
      "at depth: loading the queue (not in the rate)",
      `${d.ours.loadSeconds.toFixed(1)} s (enqueue_new_movies + analyze)`,
      {
        versus: `${(d.graphile.loadMs / 1000).toFixed(1)} s (add_jobs + analyze)`,
      },
    ),
    row(
      "at depth: prune_old_rows() with every queued row finished 8 days ago",
      `${formatCount(d.ours.pruned)} rows deleted in ${d.ours.pruneSeconds.toFixed(1)} s`,
    ),
    row(
      "at depth: duplicate executions",
      `${d.ours.duplicates} of ${formatCount(d.ours.executions)}`,
      {
        versus: `${d.graphile.duplicates} of ${formatCount(d.graphile.executions)}`,
      },
    ),
  ];
}
