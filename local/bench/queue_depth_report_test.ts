import assert from "node:assert/strict";
import type { QueueDepthResult } from "./queue_depth.ts";
import { queueDepthRows, queueDepthTarget } from "./queue_depth_report.ts";
import { summarize } from "./stats.ts";

function depth(over: { ours?: number; peer?: number; seqScans?: number; depth?: number } = {}) {
  const ours = over.ours ?? 12_000;
  const peer = over.peer ?? 10_000;
  const d: QueueDepthResult = {
    depth: over.depth ?? 1_000_000,
    items: 20_000,
    ours: {
      loadSeconds: 12.3,
      seconds: 20_000 / ours,
      itemsPerSecond: ours,
      executions: 20_030,
      duplicates: 0,
      notCompletedByFinish: 0,
      finishAndClaimMs: summarize([2, 3, 4]),
      seqScans: over.seqScans ?? 0,
      indexScans: 6_012,
      pruned: 1_000_000,
      pruneSeconds: 9.5,
    },
    graphile: {
      mode: "batched",
      loadMs: 30_000,
      seconds: 20_000 / peer,
      itemsPerSecond: peer,
      executions: 20_004,
      duplicates: 0,
    },
    ratio: ours / peer,
  };
  return d;
}

Deno.test("queueDepthTarget() is met at ≥ 1.0× with no duplicate and no sequential scan", () => {
  assert.equal(queueDepthTarget(depth()).met, true);
  assert.equal(queueDepthTarget(depth({ ours: 10_000, peer: 10_000 })).met, true);
  assert.equal(queueDepthTarget(depth({ ours: 9_999, peer: 10_000 })).met, false);
  assert.equal(queueDepthTarget(depth({ seqScans: 1 })).met, false);
  assert.equal(queueDepthTarget(undefined).met, null);
});

Deno.test("queueDepthTarget() says when the depth was a quick run's", () => {
  assert.match(queueDepthTarget(depth({ depth: 20_000 })).detail, /20,000 queued \(quick depth\)/);
  assert.doesNotMatch(queueDepthTarget(depth()).detail, /quick/);
});

Deno.test("queueDepthRows() shows rate, ratio, verdict, latency and scans", () => {
  const d = depth();
  const rows = queueDepthRows(d, queueDepthTarget(d));
  assert.equal(rows.length, 6);
  assert.ok(rows.every((r) => r.scenario === "2 queue"));
  assert.equal(rows[0].ratio, "1.20×");
  assert.equal(rows[0].target, "2d: met");
  assert.match(rows[0].metric, /20,000 of 1,000,000 queued/);
  assert.equal(rows[2].ours, "0 / 6,012");
});
