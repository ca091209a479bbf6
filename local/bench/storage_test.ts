import assert from "node:assert/strict";
import {
  fitBudget,
  PRO_PLAN_BYTES,
  projectBytes,
  projectedPeople,
  scansOf,
  STEADY_STATE_MAX_SHARE,
  type StorageResult,
  storageTargets,
} from "./storage.ts";

const SHAPE: Pick<StorageResult, "full" | "base" | "people"> = {
  full: { perMovie: 10_000, byTable: {}, projectedBytes: 0 },
  base: { perMovie: 2_000, byTable: {}, projectedBytes: 0 },
  people: {
    rows: 0,
    bytesPerPerson: 100,
    creditsPerMovie: 10,
    pool: 1_000,
    projectedRowsAllFull: 0,
  },
};

Deno.test("projectedPeople() is the expected distinct count of uniform picks, capped by the pool", () => {
  assert.equal(projectedPeople(0, 10, 1_000), 0);
  // 1 pick from a large pool: one person.
  assert.ok(Math.abs(projectedPeople(1, 1, 1e9) - 1) < 1e-6);
  // Many picks: the whole pool, never more.
  assert.ok(Math.abs(projectedPeople(1e6, 10, 1_000) - 1_000) < 1e-6);
  // As many picks as people: 1 − 1/e of them.
  assert.ok(Math.abs(projectedPeople(100, 10, 1_000) - 1_000 * (1 - Math.exp(-1))) < 1e-6);
});

Deno.test("projectBytes() charges full and base movies and the people the full ones reference", () => {
  assert.equal(projectBytes(0, 100, SHAPE), 100 * 2_000);
  const people = 1_000 * (1 - Math.exp(-1)) * 100;
  assert.ok(Math.abs(projectBytes(100, 100, SHAPE) - (100 * 10_000 + people)) < 1e-6);
});

Deno.test("fitBudget() keeps the most popular movies full while the projection fits", () => {
  const popularity = [50, 40, 30, 20, 10, 9, 8, 7, 6, 5];
  // 10 movies: all base 20,000 B; each full one adds 8,000 B + its people.
  assert.equal(fitBudget(19_999, 10, SHAPE, popularity), null);
  const all = fitBudget(1e9, 10, SHAPE, popularity)!;
  assert.deepEqual([all.fullMovies, all.fullShare, all.threshold], [10, 1, 0]);
  const some = fitBudget(20_000 + 3 * 8_000 + 3_000, 10, SHAPE, popularity)!;
  // 3 full movies: 44,000 B + people of 30 picks from 1,000 (~2,955 B) fits; 4 would not.
  assert.equal(some.fullMovies, 3);
  assert.equal(some.threshold, 20.001, "just above the first movie left out");
  assert.ok(some.projectedBytes <= some.budget);
  const none = fitBudget(20_000, 10, SHAPE, popularity)!;
  assert.deepEqual([none.fullMovies, none.threshold], [0, 50.001]);
});

Deno.test("storageTargets() judges the fit and the steady state, or says it did not run", () => {
  assert.deepEqual(storageTargets(undefined).map((t) => t.met), [null, null]);
  const result = {
    fitPro: {
      budget: PRO_PLAN_BYTES,
      fullMovies: 10,
      fullShare: 0.1,
      threshold: 5,
      projectedBytes: 1,
    },
    steady: { shareOfLimit: STEADY_STATE_MAX_SHARE + 0.01, requestsPerDay: 1 },
  } as unknown as StorageResult;
  assert.deepEqual(storageTargets(result).map((t) => t.met), [true, false]);
  assert.deepEqual(
    storageTargets({ ...result, fitPro: null, steady: { ...result.steady, shareOfLimit: 0.1 } })
      .map((t) => t.met),
    [false, true],
  );
});

Deno.test("scansOf() names how a plan reads one relation", () => {
  const plan = [{
    Plan: {
      "Node Type": "Aggregate",
      Plans: [
        {
          "Node Type": "Index Only Scan",
          "Parallel Aware": true,
          "Relation Name": "works",
          "Index Name": "works_next_refresh_at_idx",
        },
        { "Node Type": "Seq Scan", "Parallel Aware": false, "Relation Name": "tmdb_api_logs" },
      ],
    },
  }];
  assert.equal(scansOf(plan, "works"), "Parallel Index Only Scan using works_next_refresh_at_idx");
  assert.equal(scansOf(plan, "tmdb_api_logs"), "Seq Scan");
  assert.equal(scansOf(plan, "people"), "");
});
