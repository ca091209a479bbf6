/**
 * The hosted edge runtime's resource limits, as the local functions host enforces them: what
 * each limit is, its hosted default, how far it may be lowered, and where a value comes from
 * (an option of `startFunctionsHost`, a CLI flag of `local/functions_host.ts`, or an `EDGE_*`
 * environment variable read by `npm start` / `npm test` / `npm run bench`).
 *
 * The rules themselves (what counts, when a process retires, what the caller gets) are in
 * docs/functions-host.md, "Limits".
 *
 * @module
 */

/** The limits of one function process, as the host enforces them. */
export interface EdgeLimits {
  /** CPU time a process may use while serving requests, in ms (hosted: 2,000). */
  cpuLimitMs: number;
  /** Memory (resident set, peak) a process may use, in MB (hosted: 256). */
  memoryLimitMb: number;
  /** How long a request may wait for the response to start, or for its next chunk (ms). */
  idleTimeoutMs: number;
  /** How long a process may live once it listens, in ms (hosted: 150 s free, 400 s paid). */
  wallClockMs: number;
}

/** Which limit a request or a process ran into, as logged in `limit`. */
export type LimitName = "cpu" | "memory" | "idle_timeout" | "wall_clock";

/** How one limit is named and bounded everywhere it can be set. */
export interface EdgeLimitSpec {
  /** Key in {@linkcode EdgeLimits} and option name of `startFunctionsHost`. */
  option: keyof EdgeLimits;
  /** Environment variable read by the stack (`npm start`, `npm test`, `npm run bench`). */
  env: string;
  /** Flag of the functions host CLI (without the leading `--`). */
  flag: string;
  /** The hosted value, used when nothing is set. */
  default: number;
  /** Smallest accepted value. */
  min: number;
  /** Largest accepted value: the hosted one (a stand-in may be stricter, never looser). */
  max: number;
  /** Why the range is what it is, for error messages. */
  why: string;
}

/**
 * Smallest accepted memory limit. A bare function process already has a resident set of about
 * 42 MB, one that loaded postgres.js and zod about 55 MB (measured with Deno 2.9.6): below
 * 64 MB every function would be killed before it answered.
 */
export const MIN_MEMORY_LIMIT_MB = 64;

/** Every limit, in the order they are documented. */
export const EDGE_LIMIT_SPECS: readonly EdgeLimitSpec[] = [
  {
    option: "cpuLimitMs",
    env: "EDGE_CPU_LIMIT_MS",
    flag: "cpu-limit-ms",
    default: 2_000,
    min: 1,
    max: 2_000,
    why: "hosted allows 2,000 ms of CPU; it may only be lowered",
  },
  {
    option: "memoryLimitMb",
    env: "EDGE_MEMORY_LIMIT_MB",
    flag: "memory-limit-mb",
    default: 256,
    min: MIN_MEMORY_LIMIT_MB,
    max: 256,
    why: `hosted allows 256 MB; a function process needs about 55 MB to start, so ` +
      `${MIN_MEMORY_LIMIT_MB} MB is the floor`,
  },
  {
    option: "idleTimeoutMs",
    env: "EDGE_IDLE_TIMEOUT_MS",
    flag: "idle-timeout-ms",
    default: 150_000,
    min: 1,
    max: 150_000,
    why: "hosted waits 150,000 ms for a response; it may only be lowered",
  },
  {
    option: "wallClockMs",
    env: "EDGE_WALL_CLOCK_MS",
    flag: "wall-clock-ms",
    default: 150_000,
    min: 1,
    max: 400_000,
    why: "hosted workers live 150,000 ms (free plan) or 400,000 ms (paid plans)",
  },
];

/** The hosted limits (free plan). */
export const HOSTED_EDGE_LIMITS: Readonly<EdgeLimits> = Object.freeze(
  Object.fromEntries(
    EDGE_LIMIT_SPECS.map((spec) => [spec.option, spec.default]),
  ) as unknown as EdgeLimits,
);

/** Status the hosted runtime answers when it stopped a function at a limit (a custom code). */
export const WORKER_LIMIT_STATUS = 546;

/**
 * The body hosted Supabase sends with a 546 (Supabase docs, troubleshooting "546 error
 * response" and "Status codes": `code` was `WORKER_LIMIT` until 2026, `WORKER_RESOURCE_LIMIT`
 * since). Nothing is added: the request id travels in the `sb-request-id` header.
 */
export const WORKER_LIMIT_BODY: Readonly<{ code: string; message: string }> = Object.freeze({
  code: "WORKER_RESOURCE_LIMIT",
  message: "Function failed due to not having enough compute resources (please check logs)",
});

/** How a value was given, so an error names what the user typed. */
export type LimitSource = "option" | "env" | "flag";

function label(spec: EdgeLimitSpec, source: LimitSource): string {
  return source === "env" ? spec.env : source === "flag" ? `--${spec.flag}` : spec.option;
}

/**
 * Checks one limit's value against its range. `text` is what the user gave (env var or flag),
 * when there was text. Throws a RangeError naming the variable, the range and the value.
 */
export function checkEdgeLimit(
  spec: EdgeLimitSpec,
  value: number,
  source: LimitSource,
  text?: string,
): number {
  if (!Number.isInteger(value) || value < spec.min || value > spec.max) {
    const shown = text === undefined ? String(value) : JSON.stringify(text);
    throw new RangeError(
      `${label(spec, source)} must be an integer from ${spec.min} to ${spec.max} ` +
        `(${spec.why}): current value is ${shown}`,
    );
  }
  return value;
}

/** Parses a decimal integer as typed by a user; anything else becomes NaN (and is refused). */
function integerText(text: string): number {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
}

/**
 * The limits with every missing value set to the hosted default, each given value checked
 * (see {@linkcode EDGE_LIMIT_SPECS} for the ranges).
 */
export function resolveEdgeLimits(
  given: Partial<EdgeLimits> = {},
  source: LimitSource = "option",
): EdgeLimits {
  const limits = { ...HOSTED_EDGE_LIMITS };
  for (const spec of EDGE_LIMIT_SPECS) {
    const value = given[spec.option];
    if (value !== undefined) limits[spec.option] = checkEdgeLimit(spec, value, source);
  }
  return limits;
}

/**
 * Reads `EDGE_CPU_LIMIT_MS`, `EDGE_MEMORY_LIMIT_MB`, `EDGE_IDLE_TIMEOUT_MS` and
 * `EDGE_WALL_CLOCK_MS` from `env`. Unset or empty means the hosted default. A value outside
 * its range (or not an integer) throws, naming the variable, the range and the value.
 *
 * @example
 * ```ts
 * edgeLimitsFromEnv(new Map([["EDGE_CPU_LIMIT_MS", "300"]]));
 * // → { cpuLimitMs: 300, memoryLimitMb: 256, idleTimeoutMs: 150000, wallClockMs: 150000 }
 * ```
 */
export function edgeLimitsFromEnv(
  env: { get(name: string): string | undefined } = Deno.env,
): EdgeLimits {
  const limits = { ...HOSTED_EDGE_LIMITS };
  for (const spec of EDGE_LIMIT_SPECS) {
    const text = env.get(spec.env);
    if (text === undefined || text.trim() === "") continue;
    limits[spec.option] = checkEdgeLimit(spec, integerText(text), "env", text);
  }
  return limits;
}

/** Parses the value of a CLI flag such as `--cpu-limit-ms 300` (undefined when absent). */
export function edgeLimitFromFlag(
  spec: EdgeLimitSpec,
  text: string | undefined,
): number | undefined {
  if (text === undefined) return undefined;
  return checkEdgeLimit(spec, integerText(text), "flag", text);
}

/**
 * The functions host CLI flags that set `limits`, e.g. `["--cpu-limit-ms", "300", …]`; a
 * limit at its hosted default is left out (the host applies it anyway).
 */
export function edgeLimitFlags(limits: EdgeLimits): string[] {
  const flags: string[] = [];
  for (const spec of EDGE_LIMIT_SPECS) {
    const value = limits[spec.option];
    if (value !== spec.default) flags.push(`--${spec.flag}`, String(value));
  }
  return flags;
}

/** What a process has used since it started listening, read from `/proc`. */
export interface UsageSample {
  /** CPU time of the whole process (every thread) since it started listening, in ms. */
  cpuMs: number;
  /** Current resident set, in MB. */
  rssMb: number;
  /** Peak resident set since the process started, in MB. */
  peakRssMb: number;
}

/**
 * The hard limit a process has run into, or null. CPU counts everything the process did since
 * it listened (its requests and whatever they left running), as hosted counts an isolate's
 * CPU over its life; memory is the peak resident set, so a spike between two samples counts.
 */
export function exceededLimit(usage: UsageSample, limits: EdgeLimits): "cpu" | "memory" | null {
  if (usage.cpuMs > limits.cpuLimitMs) return "cpu";
  if (usage.peakRssMb > limits.memoryLimitMb) return "memory";
  return null;
}

/**
 * Why a process should take no further request, or null. Hosted retires an isolate once it
 * used half of a resource (CPU, memory, or its wall clock): it finishes its request and stops,
 * and the next request gets a fresh isolate. So no request ever starts with less than half of
 * the CPU budget, and every request gets at least half of the wall clock.
 */
export function retireReason(
  usage: UsageSample,
  ageMs: number,
  limits: EdgeLimits,
): "cpu" | "memory" | "wall_clock" | null {
  if (usage.cpuMs >= limits.cpuLimitMs / 2) return "cpu";
  if (usage.rssMb >= limits.memoryLimitMb / 2) return "memory";
  if (ageMs >= limits.wallClockMs / 2) return "wall_clock";
  return null;
}
