/**
 * How much CPU a function's process has used, so long runs stop with margin before the edge
 * runtime's CPU limit (2 s on hosted Supabase; past it the isolate is killed and the caller
 * gets 546). The limit is on the isolate's CPU, which adds up over every request it serves
 * (a worker that has used half is retired after its request), so the meter counts from the
 * process's first request, not from the current one.
 *
 * Measured with `process.cpuUsage()` (user + system time of the whole process, so it never
 * under-counts). Where that is unavailable the meter estimates from the work done, with
 * per-unit costs set well above what `npm run bench` measures (docs/functions.md).
 *
 * @module
 */

import process from "node:process";

/** CPU used so far by the process. */
export interface CpuMeter {
  /** Milliseconds of CPU the process has used (estimated: since the meter was created). */
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

/** The process's CPU when the first meter was made: loading the code is not counted. */
let baseline: { user: number; system: number } | null | undefined;

/**
 * Creates a meter. `read` defaults to `process.cpuUsage()`: the process's CPU since its
 * first meter was made (so since its first request, as the runtime counts it); a reader that
 * returns `null` makes it an estimating meter. A custom `read` is taken as is.
 */
export function createCpuMeter(read: CpuReader = processCpu): CpuMeter {
  if (read === processCpu && baseline === undefined) baseline = read();
  const zero = read === processCpu ? baseline : { user: 0, system: 0 };
  let estimated = 0;
  let measured = read() !== null && zero !== null && zero !== undefined;
  return {
    usedMs() {
      if (measured) {
        const now = read();
        if (now !== null && zero) return (now.user + now.system - zero.user - zero.system) / 1000;
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
