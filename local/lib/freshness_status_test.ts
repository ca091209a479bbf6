import assert from "node:assert/strict";
import { formatDuration, formatFreshness, type FreshnessRow } from "./freshness_status.ts";

const ROW: FreshnessRow = {
  works: 4,
  within_tier: 1,
  within_tier_share: 0.25,
  overdue: 3,
  never_refreshed: 1,
  oldest_overdue_s: 10 * 86_400,
  queue_pending: 2,
  queue_processing: 1,
  queue_backlog: 3,
  queue_finished_last_hour: 4,
  queue_finished_last_day: 6,
  queue_finished_per_hour: 4,
  queue_backlog_eta_s: 2700,
  tmdb_requests_last_day: 5,
  tmdb_requests_limit_per_day: 86,
  tmdb_requests_share: 0.0581,
  drift_last_day: 5,
  drift_paths_last_day: 2,
  queue_failed_last_day: 1,
  ingest_runs_failed_last_day: 2,
  ingest_items_failed_last_day: 3,
};

Deno.test("formatDuration() picks the unit a person reads", () => {
  assert.equal(formatDuration(45), "45 s");
  assert.equal(formatDuration(2700), "45 min");
  assert.equal(formatDuration(3 * 3600 + 5 * 60), "3 h 05 min");
  assert.equal(formatDuration(10 * 86_400 + 4 * 3600), "10 d 4 h");
});

Deno.test("formatFreshness() prints every figure of the view, and the depth policy", () => {
  assert.deepEqual(
    formatFreshness(ROW, { full_min_popularity: 10, keep_full: true, full: 3, base: 1 }),
    [
      [
        "within tier",
        "1 of 4 works (25.0 %); 3 overdue (1 never refreshed), most overdue by 10 d 0 h",
      ],
      [
        "queue backlog",
        "3 (2 pending, 1 processing); finished 4 in the last hour, 6 in the day; ETA 45 min at 4/h",
      ],
      ["TMDB requests", "5 in the last day of 86 allowed (5.8 %)"],
      [
        "drift, failures",
        "5 drift occurrences on 2 paths; 1 queue items failed, 2 ingest runs failed or partial " +
        "(3 items) in the last day",
      ],
      ["depth", "full at popularity ≥ 10, full movies stay full; works: 3 full, 1 base"],
    ],
  );
});

Deno.test("formatFreshness() says when there is no rate to measure and nothing is overdue", () => {
  const lines = formatFreshness(
    {
      ...ROW,
      overdue: 0,
      never_refreshed: 0,
      within_tier: 4,
      oldest_overdue_s: null,
      queue_finished_last_hour: 0,
      queue_finished_last_day: 0,
      queue_finished_per_hour: 0,
      queue_backlog_eta_s: null,
    },
    { full_min_popularity: null, keep_full: true, full: 4, base: 0 },
  );
  assert.match(lines[0][1], /4 of 4 works \(25\.0 %\); none overdue$/);
  assert.match(lines[1][1], /ETA unknown \(nothing finished in the last day\)$/);
  assert.equal(lines[4][1], "every movie full; works: 4 full, 0 base");
  const idle = formatFreshness({ ...ROW, queue_backlog: 0 }, null);
  assert.equal(idle.length, 4);
  assert.match(idle[1][1], /nothing queued$/);
});
