import assert from "node:assert/strict";
import {
  EDGE_LIMIT_SPECS,
  edgeLimitFlags,
  edgeLimitFromFlag,
  edgeLimitsFromEnv,
  exceededLimit,
  HOSTED_EDGE_LIMITS,
  resolveEdgeLimits,
  retireReason,
} from "./edge_limits.ts";

const env = (vars: Record<string, string>) => new Map(Object.entries(vars));

Deno.test("edgeLimitsFromEnv() gives hosted's limits when nothing is set", () => {
  assert.deepEqual(edgeLimitsFromEnv(env({})), {
    cpuLimitMs: 2_000,
    memoryLimitMb: 256,
    idleTimeoutMs: 150_000,
    wallClockMs: 150_000,
  });
  assert.deepEqual(edgeLimitsFromEnv(env({ EDGE_CPU_LIMIT_MS: "  " })), HOSTED_EDGE_LIMITS);
});

Deno.test("edgeLimitsFromEnv() reads lowered limits, and a wall clock up to the paid plan's 400 s", () => {
  assert.deepEqual(
    edgeLimitsFromEnv(env({
      EDGE_CPU_LIMIT_MS: "300",
      EDGE_MEMORY_LIMIT_MB: "64",
      EDGE_IDLE_TIMEOUT_MS: "1",
      EDGE_WALL_CLOCK_MS: "400000",
    })),
    { cpuLimitMs: 300, memoryLimitMb: 64, idleTimeoutMs: 1, wallClockMs: 400_000 },
  );
});

Deno.test("edgeLimitsFromEnv() refuses a value outside its range, naming the variable, the range and the value", () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      "EDGE_CPU_LIMIT_MS",
      "2001",
      /^RangeError: EDGE_CPU_LIMIT_MS must be an integer from 1 to 2000 \(.*\): current value is "2001"$/,
    ],
    ["EDGE_CPU_LIMIT_MS", "0", /from 1 to 2000 .*current value is "0"$/],
    ["EDGE_CPU_LIMIT_MS", "1.5", /current value is "1.5"$/],
    ["EDGE_CPU_LIMIT_MS", "-5", /current value is "-5"$/],
    ["EDGE_CPU_LIMIT_MS", "fast", /current value is "fast"$/],
    [
      "EDGE_MEMORY_LIMIT_MB",
      "63",
      /^RangeError: EDGE_MEMORY_LIMIT_MB must be an integer from 64 to 256 .*: current value is "63"$/,
    ],
    ["EDGE_MEMORY_LIMIT_MB", "512", /from 64 to 256 .*: current value is "512"$/],
    [
      "EDGE_IDLE_TIMEOUT_MS",
      "150001",
      /^RangeError: EDGE_IDLE_TIMEOUT_MS must be an integer from 1 to 150000 .*"150001"$/,
    ],
    [
      "EDGE_WALL_CLOCK_MS",
      "400001",
      /^RangeError: EDGE_WALL_CLOCK_MS must be an integer from 1 to 400000 .*"400001"$/,
    ],
  ];
  for (const [name, value, message] of cases) {
    assert.throws(() => edgeLimitsFromEnv(env({ [name]: value })), message, `${name}=${value}`);
  }
});

Deno.test("edgeLimitFlags() turns limits into the host's CLI flags, leaving hosted defaults out", () => {
  assert.deepEqual(edgeLimitFlags(HOSTED_EDGE_LIMITS), []);
  const limits = { ...HOSTED_EDGE_LIMITS, cpuLimitMs: 300, wallClockMs: 400_000 };
  const flags = edgeLimitFlags(limits);
  assert.deepEqual(flags, ["--cpu-limit-ms", "300", "--wall-clock-ms", "400000"]);
  // The host reads them back to the same limits.
  const back: Record<string, number | undefined> = {};
  for (const spec of EDGE_LIMIT_SPECS) {
    const index = flags.indexOf(`--${spec.flag}`);
    back[spec.option] = edgeLimitFromFlag(spec, index < 0 ? undefined : flags[index + 1]);
  }
  assert.deepEqual(resolveEdgeLimits(back), limits);
});

Deno.test("resolveEdgeLimits() fills in hosted defaults and names an out-of-range option", () => {
  assert.deepEqual(resolveEdgeLimits({ idleTimeoutMs: 500 }), {
    ...HOSTED_EDGE_LIMITS,
    idleTimeoutMs: 500,
  });
  assert.throws(
    () => resolveEdgeLimits({ cpuLimitMs: 5_000 }),
    /^RangeError: cpuLimitMs must be an integer from 1 to 2000 .*: current value is 5000$/,
  );
});

Deno.test("exceededLimit() names CPU past the limit and a peak resident set past the limit", () => {
  const limits = { ...HOSTED_EDGE_LIMITS, cpuLimitMs: 300, memoryLimitMb: 128 };
  assert.equal(exceededLimit({ cpuMs: 300, rssMb: 50, peakRssMb: 128 }, limits), null);
  assert.equal(exceededLimit({ cpuMs: 310, rssMb: 50, peakRssMb: 60 }, limits), "cpu");
  // A spike that is gone again still counts: the peak is what a sample missed.
  assert.equal(exceededLimit({ cpuMs: 10, rssMb: 50, peakRssMb: 129 }, limits), "memory");
});

Deno.test("retireReason() retires a process at half of its CPU, memory or wall clock", () => {
  const limits = { ...HOSTED_EDGE_LIMITS, cpuLimitMs: 600, memoryLimitMb: 128, wallClockMs: 2_000 };
  const fresh = { cpuMs: 0, rssMb: 45, peakRssMb: 45 };
  assert.equal(retireReason(fresh, 0, limits), null);
  assert.equal(retireReason({ ...fresh, cpuMs: 299 }, 999, limits), null);
  assert.equal(retireReason({ ...fresh, cpuMs: 300 }, 0, limits), "cpu");
  assert.equal(retireReason({ ...fresh, rssMb: 64 }, 0, limits), "memory");
  assert.equal(retireReason(fresh, 1_000, limits), "wall_clock");
});
