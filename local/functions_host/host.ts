/**
 * Local stand-in for hosted Supabase Edge Functions (and `supabase functions serve`, which
 * needs Docker): one HTTP port serving `/functions/v1/<name>[/subpath]` for every folder
 * `<functionsDir>/<name>/index.ts` whose name does not start with `_` or `.`, each function in
 * its own processes under the edge runtime's limits. See docs/functions-host.md.
 *
 * @module
 */

import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type EdgeLimits, resolveEdgeLimits } from "./edge_limits.ts";
import { loadEnvFile } from "./env_file.ts";
import { type LogEntry, logEntry, printLogEntry } from "./log.ts";
import { assertProcessUsageAvailable } from "./process_usage.ts";
import { ResponseBodyFailed } from "./relay.ts";
import { createRequestHandler } from "./request.ts";
import { FunctionSupervisor, passthroughEnv } from "./supervisor.ts";

/** How long a cold start may take before the request fails with 503 `boot_error`. */
export const DEFAULT_BOOT_TIMEOUT_MS = 30_000;
/** How long `close()` waits after SIGTERM before it SIGKILLs a function process. */
export const DEFAULT_STOP_GRACE_MS = 2_000;
/** Most processes one function may have at once; further requests wait for a free one. */
export const DEFAULT_MAX_PROCESSES_PER_FUNCTION = 16;
/** An idle process beyond the one kept warm is stopped after this long without a request. */
export const DEFAULT_IDLE_PROCESS_MS = 30_000;
/** How often a busy process's CPU time and memory are sampled. */
export const DEFAULT_USAGE_POLL_MS = 20;

/** The repository root (this file is in local/functions_host/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Options of {@linkcode startFunctionsHost}. The limits (`cpuLimitMs`, `memoryLimitMb`,
 * `idleTimeoutMs`, `wallClockMs`) default to hosted's and may only be lowered (ranges in
 * `EDGE_LIMIT_SPECS`, edge_limits.ts).
 */
export interface FunctionsHostOptions extends Partial<EdgeLimits> {
  /** Port to listen on; 0 picks a free one (read it back from the result). */
  port: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  hostname?: string;
  /** Folder holding one folder per function, e.g. `<repo>/supabase/functions`. */
  functionsDir: string;
  /**
   * Env every function gets, like hosted: SUPABASE_URL, SUPABASE_DB_URL,
   * SUPABASE_SERVICE_ROLE_KEY, SUPABASE_ANON_KEY, SUPABASE_SECRET_KEYS,
   * SUPABASE_PUBLISHABLE_KEYS, plus what the stack adds (e.g. TMDB_BASE_URL). Wins over the
   * env file.
   */
  env: Record<string, string>;
  /**
   * Dotenv file with the user's secrets (e.g. `supabase/functions/.env`, gitignored). A missing
   * file is fine; a name starting with `SUPABASE_` is refused, as `supabase secrets set` does.
   * Read once, at start.
   */
  envFile?: string;
  /** Cold-start limit (process start until it listens); over it → 503. Default 30 s. */
  bootTimeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL when stopping a function. Default 2 s. */
  stopGraceMs?: number;
  /** Most processes per function (busy, starting or idle). Default 16. */
  maxProcessesPerFunction?: number;
  /** Idle time after which a process beyond the one kept warm is stopped. Default 30 s. */
  idleProcessMs?: number;
  /** How often a busy process's CPU time and memory are sampled. Default 20 ms. */
  usagePollMs?: number;
  /** `deno` binary for the function processes. Default: the running one. */
  denoPath?: string;
  /** `deno.json` giving the import map. Default: the repo's `deno.json`. */
  configPath?: string;
  /** Receives every log entry. Default: one JSON line on stdout. */
  log?: (entry: LogEntry) => void;
}

/** A running functions host. */
export interface FunctionsHost {
  /** Base URL, e.g. `http://127.0.0.1:54321` (functions live under `/functions/v1/`). */
  url: string;
  /** The port it listens on (useful with `port: 0`). */
  port: number;
  /** The limits it enforces. */
  limits: EdgeLimits;
  /** Stops every function process (SIGTERM, then SIGKILL after a grace period) and the server. */
  close(): Promise<void>;
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}: got ${value}`);
  }
  return value;
}

/**
 * Starts the functions host. Resolves once it listens; rejects if the env file is unreadable or
 * sets a `SUPABASE_*` name, if the options are invalid (a limit above hosted's, say), or if
 * `/proc` cannot be read (the limits could not be enforced).
 *
 * @example
 * ```ts
 * const host = await startFunctionsHost({
 *   port: 54321,
 *   functionsDir: "supabase/functions",
 *   env: { SUPABASE_URL: "http://127.0.0.1:54321" },
 *   envFile: "supabase/functions/.env",
 *   cpuLimitMs: 300, // lower than hosted's 2,000 ms: find CPU-heavy requests early
 * });
 * await fetch(`${host.url}/functions/v1/hello`);
 * await host.close();
 * ```
 */
export async function startFunctionsHost(options: FunctionsHostOptions): Promise<FunctionsHost> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = checkInteger("port", options.port, 0, 65535);
  const limits = resolveEdgeLimits(options);
  const bootTimeoutMs = checkInteger(
    "bootTimeoutMs",
    options.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS,
    1,
    2 ** 31 - 1,
  );
  const stopGraceMs = checkInteger(
    "stopGraceMs",
    options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
    0,
    2 ** 31 - 1,
  );
  const maxProcesses = checkInteger(
    "maxProcessesPerFunction",
    options.maxProcessesPerFunction ?? DEFAULT_MAX_PROCESSES_PER_FUNCTION,
    1,
    1_000,
  );
  const idleProcessMs = checkInteger(
    "idleProcessMs",
    options.idleProcessMs ?? DEFAULT_IDLE_PROCESS_MS,
    1,
    2 ** 31 - 1,
  );
  const usagePollMs = checkInteger(
    "usagePollMs",
    options.usagePollMs ?? DEFAULT_USAGE_POLL_MS,
    1,
    60_000,
  );
  assertProcessUsageAvailable();
  const functionsDir = resolve(options.functionsDir);
  try {
    if (!(await Deno.stat(functionsDir)).isDirectory) throw new Error("not a directory");
  } catch (error) {
    throw new Error(
      `functionsDir ${functionsDir} is not a readable directory: ${(error as Error).message}`,
    );
  }
  const configPath = resolve(options.configPath ?? join(REPO_ROOT, "deno.json"));
  const denoPath = options.denoPath ?? Deno.execPath();
  const log = options.log ?? printLogEntry;
  const shownDir = relative(REPO_ROOT, functionsDir).startsWith("..")
    ? functionsDir
    : relative(REPO_ROOT, functionsDir);

  for (const [name, value] of Object.entries(options.env)) {
    if (typeof value !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new TypeError(
        `env must map variable names to strings: ${JSON.stringify(name)} is ${typeof value}`,
      );
    }
  }
  const fileEnv = options.envFile ? await loadEnvFile(options.envFile) : {};
  const overridden = Object.keys(fileEnv).filter((name) => name in options.env);
  if (overridden.length > 0) {
    log(logEntry("warn", "env_file_overridden", {
      names: overridden,
      message: `The host's env wins over ${options.envFile} for ${overridden.join(", ")}`,
    }));
  }

  const supervisor = new FunctionSupervisor({
    denoPath,
    configPath,
    functionsDir,
    env: { ...passthroughEnv(Deno.env), ...fileEnv, ...options.env },
    limits,
    stopGraceMs,
    maxProcessesPerFunction: maxProcesses,
    idleProcessMs,
    log,
  });
  let closing: Promise<void> | undefined;
  const handle = createRequestHandler({
    functionsDir,
    shownDir,
    processes: (name) => supervisor.pool(name),
    closing: () => closing !== undefined,
    limits,
    bootTimeoutMs,
    stopGraceMs,
    usagePollMs,
    denoPath,
    log,
  });

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port,
      onListen: () => {},
      // Only reached for a bug in the handler or a failed response stream: keep logs JSON.
      onError: (error) => {
        if (!(error instanceof ResponseBodyFailed)) {
          log(logEntry("error", "host_error", {
            message: error instanceof Error ? error.message : String(error),
            stack: error instanceof Error ? error.stack : undefined,
          }));
        }
        return Response.json({ error: "internal_error", message: "Functions host error" }, {
          status: 500,
        });
      },
    }, handle);
  } catch (error) {
    await supervisor.close();
    throw new Error(
      `Functions host cannot listen on ${hostname}:${port}: ${(error as Error).message}`,
    );
  }
  const boundPort = server.addr.port;
  const url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${boundPort}`;
  log(logEntry("info", "listening", {
    url,
    port: boundPort,
    functions_dir: functionsDir,
    cpu_limit_ms: limits.cpuLimitMs,
    memory_limit_mb: limits.memoryLimitMb,
    idle_timeout_ms: limits.idleTimeoutMs,
    wall_clock_ms: limits.wallClockMs,
    max_processes_per_function: maxProcesses,
  }));

  return {
    url,
    port: boundPort,
    limits,
    close() {
      closing ??= (async () => {
        await supervisor.close();
        await server.shutdown();
        log(logEntry("info", "stopped", { url }));
      })();
      return closing;
    },
  };
}
