import assert from "node:assert/strict";
import type { ChainDrain, EdgeResult, SeedResult } from "./edge.ts";
import { doneOnce, edgeRows, edgeTargets, seedRows, seedTarget } from "./edge_report.ts";

function drain(over: Partial<ChainDrain> = {}): ChainDrain {
  return {
    label: "x",
    movies: 1_000,
    cpuLimitMs: 2_000,
    maxChains: 2,
    standinRate: 40,
    drainSeconds: 26,
    moviesPerSecond: 38.5,
    results: { refreshed: 1_000 },
    failed: 0,
    retried: 0,
    retryErrors: [],
    invocations: 3,
    continuations: 1,
    restarts: 0,
    statuses: { "200": 3 },
    cpuMaxMs: 900,
    cpuP50Ms: 700,
    over1500: 0,
    cpuPerMovieMs: 2.1,
    tmdbRequests: 1_000,
    idsAskedTwice: 0,
    bucket429: 0,
    ...over,
  };
}

function edge(over: Partial<EdgeResult> = {}): EdgeResult {
  return {
    hosted: drain(),
    lowCpu: drain({ cpuLimitMs: 300, moviesPerSecond: 30 }),
    ceiling: drain({ maxChains: 8, standinRate: null, moviesPerSecond: 210 }),
    ...over,
  };
}

Deno.test("doneOnce() needs every movie completed once with one request", () => {
  assert.equal(doneOnce(drain()), true);
  assert.equal(doneOnce(drain({ retried: 1 })), false);
  assert.equal(doneOnce(drain({ tmdbRequests: 1_001 })), false);
  assert.equal(doneOnce(drain({ idsAskedTwice: 1 })), false);
  assert.equal(doneOnce(drain({ results: { refreshed: 999 }, failed: 1 })), false);
});

Deno.test("6a is met at ≥ 36/s with no 546 and no request over 1,500 ms, missed otherwise", () => {
  const met = (e: EdgeResult) => edgeTargets(e).find((t) => t.id === "6a")!.met;
  assert.equal(met(edge()), true);
  assert.equal(met(edge({ hosted: drain({ moviesPerSecond: 35.9 }) })), false);
  assert.equal(met(edge({ hosted: drain({ statuses: { "200": 2, "546": 1 } }) })), false);
  assert.equal(met(edge({ hosted: drain({ over1500: 1, cpuMaxMs: 1_501 }) })), false);
});

Deno.test("6b needs the drain to complete, 6c needs ≥ 200/s and no request over 1,500 ms", () => {
  const t = (e: EdgeResult, id: string) => edgeTargets(e).find((x) => x.id === id)!.met;
  assert.equal(t(edge(), "6b"), true);
  assert.equal(t(edge({ lowCpu: drain({ failed: 5, results: { refreshed: 995 } }) }), "6b"), false);
  assert.equal(t(edge(), "6c"), true);
  assert.equal(t(edge({ ceiling: drain({ moviesPerSecond: 199 }) }), "6c"), false);
  assert.equal(t(edge({ ceiling: drain({ moviesPerSecond: 250, over1500: 2 }) }), "6c"), false);
});

Deno.test("targets of scenarios that did not run are not measured", () => {
  assert.deepEqual(edgeTargets(undefined).map((t) => t.met), [null, null, null]);
  assert.equal(seedTarget(undefined).met, null);
});

Deno.test("7 is met at ≥ 0.9 × the configured rate with 0 bucket 429s; the projection is shown", () => {
  const seed = (d: Partial<ChainDrain>): SeedResult => ({
    exportFile: "movie_ids_12_02_2026.json.gz",
    exportLines: 60_000,
    configuredRate: 40,
    drain: drain({ movies: 20_000, results: { refreshed: 20_000 }, tmdbRequests: 20_000, ...d }),
    projectedHours: 1_100_000 / (d.moviesPerSecond ?? 38.5) / 3600,
    rateBoundHours: 1_100_000 / 40 / 3600,
  });
  assert.equal(seedTarget(seed({ moviesPerSecond: 36 })).met, true);
  assert.equal(seedTarget(seed({ moviesPerSecond: 35.9 })).met, false);
  assert.equal(seedTarget(seed({ bucket429: 1 })).met, false);
  const rows = seedRows(seed({ moviesPerSecond: 38.5 }), seedTarget(seed({})));
  assert.match(rows[1].ours, /^7\.9 h \(7\.6 h\)$/);
  assert.match(rows[1].versus, /6 h at 45–50 req\/s/);
});

Deno.test("edgeRows() reports the three drains with their verdicts", () => {
  const e = edge({ hosted: drain({ statuses: { "200": 3, "546": 1, "500": 2 } }) });
  const rows = edgeRows(e, edgeTargets(e));
  assert.equal(rows.length, 15);
  assert.equal(rows[0].target, "6a: missed");
  assert.match(rows[1].ours, /; 1, 2 × 500$/);
  assert.equal(rows[10].scenario, "6 ceiling");
  assert.equal(rows[10].target, "6c: met");
});
