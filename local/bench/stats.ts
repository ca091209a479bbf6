/**
 * Pure helpers of the benchmarks: percentiles and summaries of timing samples, ratios,
 * query-plan node extraction from `EXPLAIN (FORMAT JSON)`, and number formatting for the
 * table. No I/O, so `stats_test.ts` covers them without a stack.
 *
 * @module
 */

/** A summary of timing samples (milliseconds, or whatever unit the samples are in). */
export interface Summary {
  /** Number of samples. */
  n: number;
  /** Smallest sample. */
  min: number;
  /** Arithmetic mean. */
  mean: number;
  /** Median (linear interpolation between the two closest ranks). */
  p50: number;
  /** 95th percentile (same interpolation). */
  p95: number;
  /** Largest sample. */
  max: number;
}

/**
 * The `p`-th percentile (0..100) of samples that are already sorted ascending, interpolating
 * linearly between the two closest ranks (the "R-7" / NumPy default definition): p0 is the
 * minimum, p100 the maximum, p50 of an even count the mean of the middle two.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) {
    throw new RangeError("percentile of no samples: `sorted` must not be empty");
  }
  if (!(p >= 0 && p <= 100)) {
    throw new RangeError(`\`p\` must be between 0 and 100: current value is ${p}`);
  }
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** Summarises samples (in any order); throws on an empty list or a non-finite sample. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) {
    throw new RangeError("cannot summarise no samples: `samples` must not be empty");
  }
  for (const s of samples) {
    if (!Number.isFinite(s)) {
      throw new RangeError(`samples must be finite numbers: found ${s}`);
    }
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    min: sorted[0],
    mean: sum / sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted[sorted.length - 1],
  };
}

/** `numerator / denominator`, or `null` when either is missing or the denominator is 0. */
export function ratio(
  numerator: number | null | undefined,
  denominator: number | null | undefined,
): number | null {
  if (numerator === null || numerator === undefined) return null;
  if (denominator === null || denominator === undefined || denominator === 0) return null;
  const r = numerator / denominator;
  return Number.isFinite(r) ? r : null;
}

/** One node of a query plan as `EXPLAIN (FORMAT JSON)` prints it (the fields used here). */
interface PlanNode {
  "Node Type"?: unknown;
  "Index Name"?: unknown;
  "Relation Name"?: unknown;
  Plans?: unknown;
}

function rootPlans(explain: unknown): PlanNode[] {
  // EXPLAIN (FORMAT JSON) answers `[{"Plan": {...}, "Planning Time": …}]`; postgres.js may
  // hand it over as a JSON string, and a caller may pass the inner object or a bare plan.
  let value = explain;
  if (typeof value === "string") value = JSON.parse(value);
  const items = Array.isArray(value) ? value : [value];
  const out: PlanNode[] = [];
  for (const item of items) {
    if (item === null || typeof item !== "object") continue;
    const o = item as Record<string, unknown>;
    if (o.Plan && typeof o.Plan === "object") out.push(o.Plan as PlanNode);
    else if ("Node Type" in o) out.push(o as PlanNode);
  }
  return out;
}

function walk(node: PlanNode, visit: (n: PlanNode) => void): void {
  visit(node);
  if (Array.isArray(node.Plans)) {
    for (const child of node.Plans) {
      if (child && typeof child === "object") walk(child as PlanNode, visit);
    }
  }
}

/**
 * The `Node Type`s of a plan from `EXPLAIN (FORMAT JSON)`, depth first in plan order (the
 * root first), e.g. `["Limit", "Index Scan"]`. Accepts the JSON text, the parsed array, or
 * one plan object. Throws when there is no plan in it.
 */
export function planNodeTypes(explain: unknown): string[] {
  const roots = rootPlans(explain);
  if (roots.length === 0) {
    throw new Error(
      `not an EXPLAIN (FORMAT JSON) result: ${JSON.stringify(explain)?.slice(0, 120)}`,
    );
  }
  const types: string[] = [];
  for (const root of roots) {
    walk(root, (n) => {
      if (typeof n["Node Type"] === "string") types.push(n["Node Type"]);
    });
  }
  return types;
}

/** The index names a plan reads (`Index Name` of its index scans), in plan order, deduplicated. */
export function planIndexNames(explain: unknown): string[] {
  const names: string[] = [];
  for (const root of rootPlans(explain)) {
    walk(root, (n) => {
      if (typeof n["Index Name"] === "string" && !names.includes(n["Index Name"])) {
        names.push(n["Index Name"]);
      }
    });
  }
  return names;
}

/** `1234567` → `"1,234,567"` (rounded to an integer). */
export function formatCount(n: number): string {
  const r = Math.round(n);
  const sign = r < 0 ? "-" : "";
  return sign + String(Math.abs(r)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A duration in milliseconds with 3 significant digits: `"0.312 ms"`, `"41.2 ms"`, `"1.48 s"`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms >= 1000) return `${(ms / 1000).toPrecision(3)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms === 0) return "0 ms";
  return `${ms.toPrecision(3)} ms`;
}

/** A ratio for the table: `"4,774×"`, `"12.3×"`, `"0.52×"`, or `"—"` when there is none. */
export function formatRatio(r: number | null): string {
  if (r === null || !Number.isFinite(r)) return "—";
  if (r >= 100) return `${formatCount(r)}×`;
  if (r >= 10) return `${r.toFixed(1)}×`;
  return `${r.toFixed(2)}×`;
}

/** A rate for the table: `"8,553/s"`, `"39.4/s"`. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return String(perSecond);
  return perSecond >= 100 ? `${formatCount(perSecond)}/s` : `${perSecond.toFixed(1)}/s`;
}

/** A share for the table: `0.9731` → `"97.3 %"`. */
export function formatPercent(share: number): string {
  if (!Number.isFinite(share)) return String(share);
  return `${(share * 100).toFixed(1)} %`;
}
