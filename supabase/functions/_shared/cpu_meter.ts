/**
 * How much CPU a function has used, so long runs stop with margin before the edge
 * runtime's per-request CPU limit (2 s on hosted Supabase; past it the isolate is killed
 * and the caller gets 546 `WORKER_LIMIT`).
 *
 * Measured with `process.cpuUsage()` (user + system time of the whole process, so it never
 * under-counts). Where that is unavailable the meter estimates from the work done, with
 * per-unit costs set well above what `npm run bench` measures (docs/functions.md).
 *
 * @module
 */

import process from "node:process";

/** CPU used so far by a run. */
export interface CpuMeter {
  /** Milliseconds of CPU since the meter was created. */
  usedMs(): number;
  /** Whether {@link usedMs} is measured (`true`) or estimated from {@link add} (`false`). */
  readonly measured: boolean;
  /** Counts work for the estimate (ignored when measured). */
  add(units: number, msPerUnit: number): void;
}

/** Reads the process's CPU time in microseconds, or `null` where it cannot be read. */
export type CpuReader = () => { user: number; system: number } | null;

const processCpu: CpuReader = () => {
  try {
    const usage = process.cpuUsage();
    return Number.isFinite(usage.user) && Number.isFinite(usage.system) ? usage : null;
  } catch {
    return null;
  }
};

/**
 * Creates a meter starting now. `read` defaults to `process.cpuUsage()`; a reader that
 * returns `null` (or always the same value, as some runtimes do) makes it an estimating meter.
 */
export function createCpuMeter(read: CpuReader = processCpu): CpuMeter {
  const start = read();
  let estimated = 0;
  let measured = start !== null;
  return {
    usedMs() {
      if (measured) {
        const now = read();
        if (now !== null && start !== null) {
          return (now.user + now.system - start.user - start.system) / 1000;
        }
        measured = false;
      }
      return estimated;
    },
    get measured() {
      return measured;
    },
    add(units, msPerUnit) {
      estimated += units * msPerUnit;
    },
  };
}
