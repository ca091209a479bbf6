/**
 * CPU time and memory of a process, read from Linux's `/proc/<pid>/stat` and
 * `/proc/<pid>/status` (see proc(5)). Used by the functions host to enforce the edge runtime's
 * CPU and memory limits on each function process.
 *
 * @module
 */

/**
 * Clock ticks per second of the times in `/proc/<pid>/stat` (`USER_HZ`). The kernel reports
 * them in USER_HZ, which is 100 on every Linux architecture this project runs on (x86-64,
 * arm64); `getconf CLK_TCK` prints it.
 */
export const USER_HZ = 100;

/** CPU and memory of one process at one moment. */
export interface ProcessUsage {
  /** User + system CPU time of every thread of the process, in ms (10 ms resolution). */
  cpuMs: number;
  /** Current resident set (`VmRSS`), in MB. */
  rssMb: number;
  /** Peak resident set since the process started (`VmHWM`), in MB. */
  peakRssMb: number;
}

/**
 * CPU time (utime + stime, fields 14 and 15) of a `/proc/<pid>/stat` line, in ms. These are the
 * process totals: every thread, not its children. The command name (field 2) may contain spaces
 * and parentheses, so fields are counted from its closing parenthesis.
 */
export function parseProcStatCpuMs(stat: string, ticksPerSecond = USER_HZ): number {
  const close = stat.lastIndexOf(")");
  const fields = stat.slice(close + 2).trim().split(/\s+/);
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (close < 0 || !Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(stat.slice(0, 200))}`);
  }
  return ((utime + stime) * 1000) / ticksPerSecond;
}

/** `VmRSS` and `VmHWM` of a `/proc/<pid>/status` text, in MB (kB values / 1024). */
export function parseProcStatusMemory(status: string): { rssMb: number; peakRssMb: number } {
  const kb = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB$`, "m").exec(status);
    if (!match) {
      throw new Error(`/proc/<pid>/status has no ${name} line (a zombie process has none)`);
    }
    return Number(match[1]);
  };
  return { rssMb: kb("VmRSS") / 1024, peakRssMb: kb("VmHWM") / 1024 };
}

/**
 * Reads the CPU time and memory of process `pid`, or null when it is gone (or already a
 * zombie, which has no memory left to report).
 */
export function readProcessUsage(pid: number): ProcessUsage | null {
  try {
    const cpuMs = parseProcStatCpuMs(Deno.readTextFileSync(`/proc/${pid}/stat`));
    const memory = parseProcStatusMemory(Deno.readTextFileSync(`/proc/${pid}/status`));
    return { cpuMs, ...memory };
  } catch {
    return null;
  }
}

/**
 * Throws unless this machine exposes `/proc` the way {@linkcode readProcessUsage} needs (Linux):
 * without it the CPU and memory limits could not be enforced, and a stand-in that silently
 * enforced nothing would be looser than the platform.
 */
export function assertProcessUsageAvailable(): void {
  if (readProcessUsage(Deno.pid) === null) {
    throw new Error(
      `Cannot read /proc/${Deno.pid}/stat and /proc/${Deno.pid}/status: the functions host ` +
        `measures each function's CPU time and memory there, and cannot enforce the edge ` +
        `runtime's limits without them. It needs Linux, and Deno grants /proc only to ` +
        `--allow-all (-A): run it with -A`,
    );
  }
}
