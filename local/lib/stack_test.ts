import assert from "node:assert/strict";
import { functionCpuBudget } from "./stack.ts";

Deno.test("functionCpuBudget() leaves hosted's limit to the functions' default, else keeps a margin under it", () => {
  assert.deepEqual(functionCpuBudget(2_000), {});
  assert.deepEqual(functionCpuBudget(1_000), { EDGE_CPU_BUDGET_MS: "750" });
  assert.deepEqual(functionCpuBudget(300), { EDGE_CPU_BUDGET_MS: "100" });
  assert.deepEqual(functionCpuBudget(200), { EDGE_CPU_BUDGET_MS: "10" });
});
