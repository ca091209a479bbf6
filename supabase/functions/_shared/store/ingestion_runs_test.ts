import assert from "node:assert/strict";
import { intArrayLiteral } from "./ingestion_runs.ts";

Deno.test("intArrayLiteral renders ids as a Postgres array literal and refuses non-integers", () => {
  assert.equal(intArrayLiteral([550, 1200001]), "{550,1200001}");
  assert.equal(intArrayLiteral([]), "{}");
  assert.throws(() => intArrayLiteral([1, 2.5]), /ids must be integers: current value has 2.5/);
  assert.throws(() => intArrayLiteral([Number.NaN]), /current value has null/);
});
