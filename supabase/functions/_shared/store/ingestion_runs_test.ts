import assert from "node:assert/strict";
import { createMemoryIngestionRunStore, intArrayLiteral } from "./ingestion_runs.ts";

const RUN = "6f1d3c2b-1a2b-4c3d-8e9f-0a1b2c3d4e5f";

Deno.test("memory ingestion runs: classify answers every id, unknown ones as new", async () => {
  const runs = createMemoryIngestionRunStore({ states: [[1, "fresh"], [2, "due"]] });
  assert.deepEqual([...(await runs.classify([1, 2, 3]))], [[1, "fresh"], [2, "due"], [3, "new"]]);
  assert.deepEqual(runs.classifyCalls, [[1, 2, 3]]);
});

Deno.test("memory ingestion runs: start once (23505 on a repeat), then finish", async () => {
  const runs = createMemoryIngestionRunStore();
  assert.equal(
    await runs.start({ runId: RUN, source: "popular", trigger: "cron", requested: 5 }),
    1,
  );
  await assert.rejects(
    () => runs.start({ runId: RUN, source: "popular", trigger: "cron", requested: 5 }),
    (error: unknown) => (error as { code?: string }).code === "23505",
  );
  await runs.finish({
    runId: RUN,
    found: 9,
    ingested: 4,
    unchanged: 1,
    failed: 0,
    skippedFresh: 4,
    status: "succeeded",
    error: null,
    details: {},
  });
  const row = runs.runs.get(RUN)!;
  assert.equal(row.status, "succeeded");
  assert.equal(row.finished!.found, 9);
  await assert.rejects(() =>
    runs.finish({ ...row.finished!, runId: "00000000-0000-4000-8000-000000000000" })
  );
});

Deno.test("intArrayLiteral renders ids as a Postgres array literal and refuses non-integers", () => {
  assert.equal(intArrayLiteral([550, 1200001]), "{550,1200001}");
  assert.equal(intArrayLiteral([]), "{}");
  assert.throws(() => intArrayLiteral([1, 2.5]), /ids must be integers: current value has 2.5/);
  assert.throws(() => intArrayLiteral([Number.NaN]), /current value has null/);
});
