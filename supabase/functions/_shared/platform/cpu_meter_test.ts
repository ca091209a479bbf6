import assert from "node:assert/strict";
import { createCpuMeter } from "./cpu_meter.ts";

Deno.test("createCpuMeter() measures the process's user + system time since the process started", () => {
  let t = { user: 1_000_000, system: 500_000 };
  const meter = createCpuMeter(() => t);
  assert.equal(meter.measured, true);
  assert.equal(meter.usedMs(), 1500, "what earlier requests used counts too");
  t = { user: 1_750_000, system: 750_000 };
  assert.equal(meter.usedMs(), 2500);
  meter.add(100, 5); // ignored while measured
  assert.equal(meter.usedMs(), 2500);
});

Deno.test("createCpuMeter() estimates from the work added when the runtime cannot tell", () => {
  const meter = createCpuMeter(() => null);
  assert.equal(meter.measured, false);
  meter.add(10, 0.8);
  meter.add(1, 2);
  assert.equal(meter.usedMs(), 10);
});

Deno.test("createCpuMeter() with the real process reader sees a busy loop", () => {
  const meter = createCpuMeter();
  assert.equal(meter.measured, true);
  const before = meter.usedMs();
  // Spin until the meter has seen 20 ms of CPU (on a busy machine that takes longer than
  // 20 ms of wall time); a meter that does not move fails after 5 s.
  const giveUp = performance.now() + 5_000;
  let x = 0;
  while (meter.usedMs() - before < 20 && performance.now() < giveUp) {
    for (let i = 0; i < 10_000; i++) x++;
  }
  assert.ok(x > 0);
  assert.ok(meter.usedMs() - before >= 20, `used ${meter.usedMs() - before} ms`);
});
