/**
 * The environment a benchmark ran on, stored with its figures: CPU model and cores, memory,
 * OS, load average at the start, PostgreSQL, Deno and Node versions, graphile-worker's
 * version, the git commit (and whether the tree had local changes), quick or full.
 *
 * @module
 */
import type postgres from "postgres";

/** What {@link collectEnvironment} records. */
export interface BenchEnvironment {
  /** `"quick"` or `"full"`. */
  mode: "quick" | "full";
  /** ISO time the run started. */
  startedAt: string;
  /** CPU model from /proc/cpuinfo, or `"unknown"`. */
  cpuModel: string;
  /** Logical CPUs. */
  cores: number;
  /** Total memory in MiB. */
  memoryMiB: number;
  /** OS name and version (/etc/os-release) and kernel. */
  os: string;
  /** 1, 5, 15 minute load averages when the run started (the machine may be shared). */
  loadAverage: number[];
  /** `select version()`. */
  postgres: string;
  /** Deno version. */
  deno: string;
  /** Node version (runs graphile-worker), or `"unknown"`. */
  node: string;
  /** graphile-worker's installed version, or `"unknown"`. */
  graphileWorker: string;
  /** `git rev-parse HEAD`, or `"unknown"`. */
  gitCommit: string;
  /**
   * Whether `git status --porcelain` listed changes (then the commit alone does not say what
   * ran); `null` when git is unavailable.
   */
  gitDirty: boolean | null;
}

async function output(cmd: string, args: string[], cwd: string): Promise<string | null> {
  try {
    const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "null" })
      .output();
    return out.code === 0 ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

async function readText(path: string): Promise<string> {
  return await Deno.readTextFile(path).catch(() => "");
}

/** The first `model name` of /proc/cpuinfo text, or `"unknown"`. */
export function cpuModelOf(cpuinfo: string): string {
  const m = cpuinfo.match(/^model name\s*:\s*(.+)$/m);
  return m ? m[1].trim() : "unknown";
}

/** `PRETTY_NAME` of /etc/os-release text, or `null`. */
export function prettyOsName(osRelease: string): string | null {
  const m = osRelease.match(/^PRETTY_NAME=(.*)$/m);
  return m ? m[1].replace(/^(['"])(.*)\1$/, "$2") : null;
}

/** Collects the environment (commands that fail leave `"unknown"`). */
export async function collectEnvironment(
  sql: postgres.Sql,
  options: { root: string; quick: boolean; startedAt: Date },
): Promise<BenchEnvironment> {
  const [{ version }] = await sql`select version()`;
  const osName = prettyOsName(await readText("/etc/os-release")) ?? Deno.build.os;
  const status = await output("git", ["status", "--porcelain"], options.root);
  const graphilePkg = await readText(`${options.root}/node_modules/graphile-worker/package.json`);
  let graphileWorker = "unknown";
  try {
    graphileWorker = JSON.parse(graphilePkg).version ?? "unknown";
  } catch { /* not installed */ }
  return {
    mode: options.quick ? "quick" : "full",
    startedAt: options.startedAt.toISOString(),
    cpuModel: cpuModelOf(await readText("/proc/cpuinfo")),
    cores: navigator.hardwareConcurrency,
    memoryMiB: Math.round(Deno.systemMemoryInfo().total / 1024 / 1024),
    os: `${osName}, kernel ${Deno.osRelease()} (${Deno.build.arch})`,
    loadAverage: Deno.loadavg().map((x) => Math.round(x * 100) / 100),
    postgres: String(version),
    deno: Deno.version.deno,
    node: (await output("node", ["--version"], options.root)) ?? "unknown",
    graphileWorker,
    gitCommit: (await output("git", ["rev-parse", "HEAD"], options.root)) ?? "unknown",
    gitDirty: status === null ? null : status.length > 0,
  };
}
