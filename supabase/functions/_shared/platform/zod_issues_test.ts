import assert from "node:assert/strict";
import { z } from "zod";
import { describeIssues, issuePath } from "./zod_issues.ts";

Deno.test("issuePath() writes paths as in JavaScript and names the root", () => {
  assert.equal(issuePath(["tmdb_ids", 3], "body"), "tmdb_ids[3]");
  assert.equal(issuePath(["finished", "retried"], "body"), "finished.retried");
  assert.equal(issuePath([0, "id"], "body"), "[0].id");
  assert.equal(issuePath([], "body"), "body");
});

Deno.test("describeIssues() joins path: message pairs and counts what it leaves out", () => {
  const schema = z.object({ a: z.number(), b: z.array(z.string()) });
  const error = schema.safeParse({ a: "x", b: [1, 2] }).error!;
  assert.equal(
    describeIssues(error, { root: "body" }),
    "a: Expected number, received string; b[0]: Expected string, received number; " +
      "b[1]: Expected string, received number",
  );
  assert.equal(
    describeIssues(error, { max: 1 }),
    "a: Expected number, received string; and 2 more problem(s)",
  );
  assert.equal(
    describeIssues(z.number().safeParse("x").error!),
    "(root): Expected number, received string",
  );
});
