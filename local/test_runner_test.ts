import assert from "node:assert/strict";
import type { StackConfig } from "./lib/stack_config.ts";
import {
  commandResult,
  countDenoTest,
  countTap,
  denoTestArgs,
  denoTestEnv,
  needsStack,
  parseTestArgs,
  SUITES,
  summaryLines,
} from "./test_runner.ts";

Deno.test("parseTestArgs() runs every suite by default, and only the named ones in suite order", () => {
  assert.deepEqual(parseTestArgs([]), { keep: false, suites: [...SUITES], filter: null });
  assert.deepEqual(parseTestArgs(["--only", "deno,pgtap", "--filter", "ingest", "--keep"]), {
    keep: true,
    suites: ["pgtap", "deno"],
    filter: "ingest",
  });
});

Deno.test("parseTestArgs() refuses an unknown suite, a missing value and an unknown argument", () => {
  assert.throws(
    () => parseTestArgs(["--only", "denno"]),
    /^Error: --only "denno" names no suite \(denno\): the suites are format, lint, types, pgtap, db-lint, deno, bench$/,
  );
  assert.throws(() => parseTestArgs(["--only", ","]), /--only "," names no suite: /);
  assert.throws(() => parseTestArgs(["--only"]), /^Error: --only needs a value$/);
  assert.throws(() => parseTestArgs(["--filter", "--keep"]), /^Error: --filter needs a value$/);
  assert.throws(
    () => parseTestArgs(["--quick"]),
    /^Error: unknown argument "--quick": expected --keep, --only a,b or --filter TEXT$/,
  );
});

Deno.test("needsStack() is true when a suite needs the throwaway stack", () => {
  assert.equal(needsStack(["format", "lint", "types"]), false);
  for (const suite of ["pgtap", "db-lint", "deno", "bench"] as const) {
    assert.equal(needsStack(["format", suite]), true, suite);
  }
});

Deno.test("countTap() counts ok and not ok lines of pg_prove --verbose, colours or not", () => {
  const output = [
    "supabase/tests/database/001.test.sql ..",
    "1..3",
    "ok 1 - a",
    "\x1b[31mnot ok 2 - b\x1b[0m",
    "    ok 3 - nested",
    "# ok 4 is a comment",
    "All tests successful.",
  ].join("\n");
  assert.deepEqual(countTap(output), { passed: 2, failed: 1 });
});

Deno.test("countDenoTest() reads the last summary line of deno test, or null without one", () => {
  const output = [
    "ok | 3 passed | 0 failed (10ms)",
    "\x1b[0m\x1b[31mFAILED\x1b[0m | 12 passed (3 steps) | 2 failed | 1 ignored (1m2s)",
  ].join("\n");
  assert.deepEqual(countDenoTest(output), { passed: 12, failed: 2 });
  assert.equal(countDenoTest("error: Module not found"), null);
});

Deno.test("commandResult() is one check, passed only on exit code 0", () => {
  assert.deepEqual(commandResult("lint", 0, 1.5), {
    name: "lint",
    passed: 1,
    failed: 0,
    seconds: 1.5,
  });
  assert.deepEqual(commandResult("lint", 2, 1), { name: "lint", passed: 0, failed: 1, seconds: 1 });
});

Deno.test("denoTestArgs() and denoTestEnv() pass the filter and point the integration tests at the test stack", () => {
  assert.deepEqual(denoTestArgs(null), ["test", "--allow-all", "--quiet"]);
  assert.deepEqual(denoTestArgs("reliability"), [
    "test",
    "--allow-all",
    "--quiet",
    "--filter",
    "reliability",
  ]);
  const cfg = { infoFile: "/r/.stack/test/stack.json", pgPort: 55322 } as StackConfig;
  assert.deepEqual(denoTestEnv(cfg, true), {
    STACK_INFO: "/r/.stack/test/stack.json",
    API_LOG_TEST_DATABASE_URL: "postgresql://postgres:postgres@127.0.0.1:55322/postgres",
  });
  assert.deepEqual(denoTestEnv(cfg, false), {});
});

Deno.test("summaryLines() ends with the totals over every suite", () => {
  const lines = summaryLines([
    { name: "format", passed: 1, failed: 0, seconds: 2.04 },
    { name: "deno", passed: 410, failed: 3, seconds: 123.46 },
  ], 130.4);
  assert.deepEqual(lines, [
    "\nsuite        passed  failed  seconds",
    "format            1       0      2.0",
    "deno            410       3    123.5",
    "(total 130 s)",
    "411 passed, 3 failed",
  ]);
});
