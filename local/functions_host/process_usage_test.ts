import assert from "node:assert/strict";
import { parseProcStatCpuMs, parseProcStatusMemory, readProcessUsage } from "./process_usage.ts";

Deno.test("parseProcStatCpuMs() adds utime and stime, counting fields after the command name", () => {
  // Fields 14 (utime) = 150 and 15 (stime) = 25 ticks; the name has a space and a ")".
  const stat = "4242 (deno (x) y) S 1 4242 4242 0 -1 4194560 9000 0 0 0 150 25 0 0 20 0 7 0 " +
    "123456 300000000 12000 18446744073709551615 1 1 0 0 0 0 0 4096 17922 0 0 0 17 1 0 0 0 0 0";
  assert.equal(parseProcStatCpuMs(stat), 1_750);
  assert.equal(parseProcStatCpuMs(stat, 1_000), 175);
  assert.throws(() => parseProcStatCpuMs("garbage"), /not a \/proc\/<pid>\/stat line: "garbage"/);
});

Deno.test("parseProcStatusMemory() reads VmRSS and VmHWM in MB", () => {
  const status = "Name:\tdeno\nVmPeak:\t 9000000 kB\nVmHWM:\t  102400 kB\nVmRSS:\t   51200 kB\n";
  assert.deepEqual(parseProcStatusMemory(status), { rssMb: 50, peakRssMb: 100 });
  assert.throws(() => parseProcStatusMemory("Name:\tdeno\nState:\tZ (zombie)\n"), /no VmRSS line/);
});

Deno.test("readProcessUsage() measures a live process and gives null for one that is gone", async () => {
  const own = readProcessUsage(Deno.pid);
  assert.ok(own, "this process can be read");
  assert.ok(own.cpuMs > 0 && own.rssMb > 0 && own.peakRssMb >= own.rssMb, JSON.stringify(own));
  const child = new Deno.Command("true").spawn();
  await child.status;
  assert.equal(readProcessUsage(child.pid), null);
});
