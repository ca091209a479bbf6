import assert from "node:assert/strict";
import {
  formatCount,
  formatMs,
  formatPercent,
  formatRate,
  formatRatio,
  percentile,
  planIndexNames,
  planNodeTypes,
  ratio,
  summarize,
} from "./stats.ts";

Deno.test("percentile() interpolates between the closest ranks", () => {
  const s = [1, 2, 3, 4];
  assert.equal(percentile(s, 0), 1);
  assert.equal(percentile(s, 100), 4);
  assert.equal(percentile(s, 50), 2.5);
  assert.equal(percentile([10], 95), 10);
  // rank 0.95 × 19 = 18.05 → 19 + 0.05 × (20 − 19)
  const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
  assert.ok(Math.abs(percentile(twenty, 95) - 19.05) < 1e-9);
});

Deno.test("percentile() rejects no samples and p outside 0..100, naming the value", () => {
  assert.throws(() => percentile([], 50), /must not be empty/);
  assert.throws(() => percentile([1], 101), /current value is 101/);
  assert.throws(() => percentile([1], Number.NaN), /current value is NaN/);
});

Deno.test("summarize() sorts a copy and reports n, min, mean, p50, p95, max", () => {
  const samples = [5, 1, 4, 2, 3];
  const s = summarize(samples);
  assert.deepEqual(s, { n: 5, min: 1, mean: 3, p50: 3, p95: 4.8, max: 5 });
  assert.deepEqual(samples, [5, 1, 4, 2, 3]);
});

Deno.test("summarize() refuses an empty list and non-finite samples", () => {
  assert.throws(() => summarize([]), /must not be empty/);
  assert.throws(() => summarize([1, Infinity]), /found Infinity/);
});

Deno.test("ratio() is null when a side is missing or the denominator is 0", () => {
  assert.equal(ratio(10, 4), 2.5);
  assert.equal(ratio(10, 0), null);
  assert.equal(ratio(null, 4), null);
  assert.equal(ratio(4, undefined), null);
});

const EXPLAIN = [{
  Plan: {
    "Node Type": "Limit",
    Plans: [{
      "Node Type": "Gather Merge",
      Plans: [{
        "Node Type": "Sort",
        Plans: [{ "Node Type": "Seq Scan", "Relation Name": "works" }],
      }],
    }, {
      "Node Type": "Index Scan",
      "Index Name": "works_next_refresh_at_idx",
    }],
  },
  "Planning Time": 0.1,
}];

Deno.test("planNodeTypes() collects Node Type depth first, root first", () => {
  assert.deepEqual(planNodeTypes(EXPLAIN), [
    "Limit",
    "Gather Merge",
    "Sort",
    "Seq Scan",
    "Index Scan",
  ]);
});

Deno.test("planNodeTypes() accepts the JSON text, one result object, or a bare plan", () => {
  const expected = ["Limit", "Gather Merge", "Sort", "Seq Scan", "Index Scan"];
  assert.deepEqual(planNodeTypes(JSON.stringify(EXPLAIN)), expected);
  assert.deepEqual(planNodeTypes(EXPLAIN[0]), expected);
  assert.deepEqual(planNodeTypes(EXPLAIN[0].Plan), expected);
});

Deno.test("planNodeTypes() throws on something that is not a plan", () => {
  assert.throws(() => planNodeTypes({ rows: 3 }), /not an EXPLAIN \(FORMAT JSON\) result/);
  assert.throws(() => planNodeTypes([]), /not an EXPLAIN/);
});

Deno.test("planIndexNames() lists each index once, in plan order", () => {
  assert.deepEqual(planIndexNames(EXPLAIN), ["works_next_refresh_at_idx"]);
  assert.deepEqual(planIndexNames([{ Plan: { "Node Type": "Seq Scan" } }]), []);
});

Deno.test("formatters render the table's numbers", () => {
  assert.equal(formatCount(1_000_000), "1,000,000");
  assert.equal(formatCount(999.6), "1,000");
  assert.equal(formatCount(-12345), "-12,345");
  assert.equal(formatMs(0.3124), "0.312 ms");
  assert.equal(formatMs(41.23), "41.2 ms");
  assert.equal(formatMs(412.3), "412 ms");
  assert.equal(formatMs(1480), "1.48 s");
  assert.equal(formatRatio(4774.2), "4,774×");
  assert.equal(formatRatio(12.34), "12.3×");
  assert.equal(formatRatio(0.521), "0.52×");
  assert.equal(formatRatio(null), "—");
  assert.equal(formatRate(8553.9), "8,554/s");
  assert.equal(formatRate(39.43), "39.4/s");
  assert.equal(formatPercent(0.97314), "97.3 %");
});
