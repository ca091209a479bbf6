import assert from "node:assert/strict";
import { bodyObject, intInRange, runFields } from "./body_fields.ts";

/** The messages of `schema.safeParse(value)`'s issues, `path: message`. */
function problems(
  schema: { safeParse(v: unknown): { success: boolean; error?: { issues: unknown[] } } },
  value: unknown,
): string[] {
  const parsed = schema.safeParse(value);
  assert.equal(parsed.success, false, `expected ${JSON.stringify(value)} to be refused`);
  return (parsed.error!.issues as { path: (string | number)[]; message: string }[]).map((i) =>
    `${i.path.join(".")}: ${i.message}`
  );
}

Deno.test("intInRange() refuses a fraction, a string, or a value out of range with one message naming the value", () => {
  const limit = intInRange("limit", 1, 200);
  for (
    const [value, shown] of [[0, "0"], [201, "201"], [2.5, "2.5"], ["10", '"10"'], [null, "null"]]
  ) {
    assert.deepEqual(problems(limit, value), [
      `: limit must be an integer between 1 and 200: current value is ${shown}`,
    ]);
  }
  assert.equal(limit.parse(1), 1);
  assert.equal(limit.parse(200), 200);
});

Deno.test("intInRange() shows a missing required value as undefined", () => {
  const schema = bodyObject({ batch_size: intInRange("batch_size", 1, 50) });
  assert.deepEqual(problems(schema, {}), [
    "batch_size: batch_size must be an integer between 1 and 50: current value is undefined",
  ]);
});

Deno.test("runFields: run_id optional uuid, trigger defaults to manual, job_name ≤ 100 characters or null", () => {
  const schema = bodyObject({ ...runFields });
  assert.deepEqual(schema.parse({}), { trigger: "manual" });
  const full = {
    run_id: "9d7c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d",
    trigger: "cron",
    job_name: "x".repeat(100),
  };
  assert.deepEqual(schema.parse(full), full);
  assert.deepEqual(schema.parse({ job_name: null }), { trigger: "manual", job_name: null });
  assert.deepEqual(
    problems(schema, { run_id: "nope", trigger: "hourly", job_name: "x".repeat(101) }),
    [
      "run_id: run_id must be a uuid",
      "trigger: trigger must be 'cron' or 'manual'",
      "job_name: job_name must be at most 100 characters",
    ],
  );
});

Deno.test("bodyObject() refuses unknown keys and anything but an object", () => {
  const schema = bodyObject({ limit: intInRange("limit", 1, 10).default(5) });
  assert.deepEqual(schema.parse({}), { limit: 5 });
  assert.deepEqual(problems(schema, { limit: 1, lmit: 2 }), [
    ": Unrecognized key(s) in object: 'lmit'",
  ]);
  for (const value of [[], "x", 1, null]) {
    assert.deepEqual(problems(schema, value), [": Expected a JSON object"]);
  }
});
