import assert from "node:assert/strict";
import { SIZES } from "./context.ts";
import type { BenchEnvironment } from "./env.ts";
import type { QueueResult } from "./queue.ts";
import type { QueueDepthResult } from "./queue_depth.ts";
import type { DrainFigures, RefreshResult } from "./refresh.ts";
import { type BenchResults, buildRows, evaluateTargets } from "./results.ts";
import type { StaleResult } from "./stale.ts";
import { summarize } from "./stats.ts";

const ENV: BenchEnvironment = {
  mode: "full",
  startedAt: "2026-11-30T09:00:00.000Z",
  cpuModel: "cpu",
  cores: 2,
  memoryMiB: 1024,
  os: "linux",
  loadAverage: [0, 0, 0],
  postgres: "PostgreSQL 15.18",
  deno: "2.9.6",
  node: "v20",
  graphileWorker: "0.17.3",
  gitCommit: "abc",
  gitDirty: false,
};

function stale(oursP50: number, scanP50: number): StaleResult {
  const q = (p50: number) => ({
    query: "q",
    settings: [],
    latency: summarize([p50, p50, p50]),
    rows: 100,
    planNodes: ["Limit", "Index Scan"],
    indexes: ["works_next_refresh_at_idx"],
  });
  return {
    works: 1_000_000,
    due: 45_000,
    dueShare: 0.045,
    insertSeconds: 40,
    ours: { ...q(oursP50), bodyPlanNodes: ["Limit", "Index Scan"], bodyIndexes: [] },
    naiveIndexed: q(oursP50),
    naiveScan: q(scanP50),
    speedupVsScan: scanP50 / oursP50,
    speedupVsIndexed: 1,
  };
}

/** Depth figures at 1M queued rows with the same rates as the shallow run. */
function queueDepth(ours: number, peer: number, duplicates = 0): QueueDepthResult {
  return {
    depth: 1_000_000,
    items: 100,
    ours: {
      loadSeconds: 10,
      seconds: 1,
      itemsPerSecond: ours,
      executions: 100 + duplicates,
      duplicates,
      notCompletedByFinish: 0,
      finishAndClaimMs: summarize([1, 2]),
      seqScans: 0,
      indexScans: 40,
      pruned: 1_000_000,
      pruneSeconds: 9.5,
      statsMs: 250,
    },
    graphile: {
      mode: "batched",
      loadMs: 9000,
      seconds: 1,
      itemsPerSecond: peer,
      executions: 100,
      duplicates: 0,
    },
    ratio: ours / peer,
  };
}

function queue(ours: number, peer: number, duplicates = 0): QueueResult {
  const mode = {
    mode: "batched",
    jobs: 100,
    addMs: 1,
    seconds: 1,
    itemsPerSecond: peer,
    executions: 100,
    distinct: 100,
    duplicates: 0,
    leftover: 0,
  };
  return {
    items: 100,
    workers: 4,
    batch: 10,
    ours: {
      items: 100,
      seconds: 1,
      itemsPerSecond: ours,
      executions: 100 + duplicates,
      distinct: 100,
      duplicates,
      completed: 100,
      batches: 10,
      notCompletedByFinish: 0,
      firstClaimMs: summarize([1, 2]),
      finishAndClaimMs: summarize([1, 2]),
    },
    graphile: { version: "0.17.3", role: "postgres", migrateMs: 5, modes: [mode], best: "batched" },
    ratio: ours / peer,
    depth: queueDepth(ours, peer, duplicates),
  };
}

function drain(over: Partial<DrainFigures>): DrainFigures {
  return {
    label: "no faults",
    faults: {},
    movies: 100,
    completed: 100,
    failed: 0,
    results: { unchanged: 100 },
    drainSeconds: 2.6,
    moviesPerSecond: 38,
    shareOfLimit: 0.95,
    invocations: 1,
    fastForwards: 0,
    workerMs: 2500,
    tmdbRequests: 100,
    requestsPerMovie: 1,
    http429: 0,
    rateLimited429: 0,
    http5xx: 0,
    retriedItems: 0,
    lostLeases: 0,
    ...over,
  };
}

function refresh(run1: Partial<DrainFigures>, run2: Partial<DrainFigures>): RefreshResult {
  return {
    standin: { rateLimitPerSecond: 40, latencyMs: 30, size: 2000 },
    pool: { movies: 100, seconds: 1 },
    coldStartMs: 200,
    runs: [drain(run1), drain({ label: "faults", ...run2 })],
    invocation: {
      method: "derived",
      budgetMs: 110_000,
      queued: null,
      movies: 4180,
      durationMs: null,
      stoppedBecause: null,
      tmdbRequests: null,
      ratioToDesign: 418,
      moviesPerDay: 4180 * 144,
    },
  };
}

function results(over: Partial<BenchResults>): BenchResults {
  return {
    environment: ENV,
    sizes: SIZES.full,
    errors: [],
    cronJobsPaused: 4,
    durationSeconds: 1,
    ...over,
  };
}

const met = (r: BenchResults) => Object.fromEntries(evaluateTargets(r).map((t) => [t.id, t.met]));

Deno.test("evaluateTargets() marks every target met on figures that meet them", () => {
  const r = results({
    stale: stale(0.4, 1500),
    queue: queue(9000, 8000),
    refresh: refresh({}, { completed: 95, failed: 5 }),
  });
  assert.deepEqual(met(r), {
    "1a": true,
    "1b": true,
    "2": true,
    "2d": true,
    "3a": true,
    "3b": true,
    "3c": true,
    // Scenarios 6 and 7 did not run (edge_report_test.ts judges them).
    "6a": null,
    "6b": null,
    "6c": null,
    "7": null,
    "8": null,
    "9a": null,
    "9b": null,
  });
});

Deno.test("evaluateTargets() marks each target missed just past its threshold", () => {
  const r = results({
    stale: stale(5, 499),
    queue: queue(9000, 8000, 1),
    refresh: refresh({ shareOfLimit: 0.899, tmdbRequests: 101 }, { completed: 90, failed: 5 }),
  });
  assert.deepEqual(met(r), {
    "1a": false,
    "1b": false,
    "2": false,
    "2d": false,
    "3a": false,
    "3b": false,
    "3c": false,
    "6a": null,
    "6b": null,
    "6c": null,
    "7": null,
    "8": null,
    "9a": null,
    "9b": null,
  });
  assert.equal(met(results({ queue: queue(7999, 8000) }))["2"], false);
});

Deno.test("evaluateTargets() says not measured for scenarios that did not run", () => {
  const t = evaluateTargets(results({}));
  assert.ok(t.every((x) => x.met === null));
  assert.match(t[0].detail, /scenario 1 did not run/);
});

Deno.test("buildRows() has the figures of every scenario that ran, and the errors", () => {
  const r = results({
    stale: stale(0.4, 1500),
    queue: queue(9000, 8000),
    refresh: refresh({}, {}),
    errors: [{ scenario: "4 ingest", message: "boom" }],
  });
  const rows = buildRows(r, evaluateTargets(r));
  const scenarios = new Set(rows.map((x) => x.scenario));
  assert.deepEqual([...scenarios], ["1 stale", "2 queue", "3 refresh", "5 vs design", "4 ingest"]);
  assert.equal(rows[0].ratio, "3,750×");
  assert.equal(rows[0].target, "1a: met; 1b: met");
  const err = rows.at(-1)!;
  assert.deepEqual([err.metric, err.ours], ["ERROR", "boom"]);
  const design = rows.find((x) => x.scenario === "5 vs design")!;
  assert.match(design.ours, /^4,180 \(derived/);
  assert.equal(design.ratio, "418×");
});
