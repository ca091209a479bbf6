import assert from "node:assert/strict";
import { HOSTED_EDGE_LIMITS, type UsageSample } from "./edge_limits.ts";
import { LimitWatch } from "./limit_watch.ts";

/** A process whose usage the test sets; the clock is the test's too. */
function fake(start: UsageSample) {
  const process = { readyAt: 0, exited: false, now: start, usage: () => process.now };
  return process;
}

const limits = {
  ...HOSTED_EDGE_LIMITS,
  cpuLimitMs: 1_000,
  memoryLimitMb: 128,
  wallClockMs: 10_000,
};

Deno.test("LimitWatch measures a request's own CPU time and the largest resident set it saw", () => {
  const process = fake({ cpuMs: 200, rssMb: 50, peakRssMb: 60 });
  let now = 100;
  const breaches: string[] = [];
  const watch = new LimitWatch(process, {
    limits,
    onBreach: (l) => breaches.push(l),
    now: () => now,
  });
  process.now = { cpuMs: 450, rssMb: 58, peakRssMb: 60 };
  assert.equal(watch.check(), undefined);
  process.now = { cpuMs: 500, rssMb: 52, peakRssMb: 60 };
  watch.check();
  assert.equal(watch.cpuMs, 300);
  assert.equal(watch.maxRssMb, 58);
  // A peak that grew during the request is the request's, even if no sample saw it.
  process.now = { cpuMs: 520, rssMb: 52, peakRssMb: 90 };
  watch.check();
  assert.equal(watch.maxRssMb, 90);
  now = 9_000;
  assert.equal(watch.msLeft(), 1_000);
  assert.deepEqual(breaches, []);
});

Deno.test("LimitWatch reports the first limit once: the process's CPU counts, not only the request's", () => {
  const process = fake({ cpuMs: 400, rssMb: 50, peakRssMb: 50 });
  const breaches: string[] = [];
  const watch = new LimitWatch(process, {
    limits,
    onBreach: (l) => breaches.push(l),
    now: () => 0,
  });
  process.now = { cpuMs: 1_010, rssMb: 200, peakRssMb: 200 };
  assert.equal(watch.check(), "cpu");
  assert.equal(watch.check(), "cpu");
  assert.deepEqual(breaches, ["cpu"]);
  assert.equal(watch.cpuMs, 610);
  assert.equal(watch.processUsage.cpuMs, 1_010);
});

Deno.test("LimitWatch reports memory on the peak resident set and the wall clock at the process's end", () => {
  const process = fake({ cpuMs: 0, rssMb: 50, peakRssMb: 50 });
  const memory: string[] = [];
  const watch = new LimitWatch(process, { limits, onBreach: (l) => memory.push(l), now: () => 0 });
  process.now = { cpuMs: 5, rssMb: 60, peakRssMb: 129 };
  assert.equal(watch.check(), "memory");
  assert.deepEqual(memory, ["memory"]);

  const old = fake({ cpuMs: 0, rssMb: 50, peakRssMb: 50 });
  const wall: string[] = [];
  const late = new LimitWatch(old, { limits, onBreach: (l) => wall.push(l), now: () => 10_000 });
  assert.equal(late.check(), "wall_clock");
  assert.deepEqual(wall, ["wall_clock"]);
});

Deno.test("LimitWatch keeps the last sample of a process that has exited", () => {
  const process = fake({ cpuMs: 100, rssMb: 50, peakRssMb: 50 });
  const watch = new LimitWatch(process, { limits, onBreach: () => {}, now: () => 0 });
  process.now = { cpuMs: 300, rssMb: 55, peakRssMb: 55 };
  watch.check();
  process.exited = true;
  process.now = { cpuMs: 0, rssMb: 0, peakRssMb: 0 };
  assert.equal(watch.check(), undefined);
  assert.equal(watch.cpuMs, 200);
});
