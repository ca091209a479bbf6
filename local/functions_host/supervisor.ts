/**
 * The function processes of a functions host: one {@linkcode FunctionPool} per function, each
 * process started with the function's env and the edge runtime's memory cap, stopped when it
 * retires or idles, and all of them stopped on close.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type EdgeLimits, retireReason } from "./edge_limits.ts";
import { ENTRY_HOSTNAME_ENV, ENTRY_NAME_ENV, ENTRY_PORT_ENV } from "./function_entry.ts";
import { FunctionPool } from "./function_pool.ts";
import { FunctionProcess } from "./function_process.ts";
import { type LogEntry, logEntry } from "./log.ts";

/**
 * The only variables of the host's own environment a function process inherits: what `deno`
 * needs to run and to fetch npm packages (cache dirs, certificates, proxies). Everything else
 * the function sees comes from the host's `env` and the env file.
 */
export const PASSTHROUGH_ENV_NAMES: readonly string[] = [
  "PATH",
  "HOME",
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "TMPDIR",
  "TMP",
  "TEMP",
  "DENO_CERT",
  "DENO_TLS_CA_STORE",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "NPM_CONFIG_REGISTRY",
  "npm_config_registry",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
];

const ENTRY_PATH = fileURLToPath(new URL("./function_entry.ts", import.meta.url));

/** The {@linkcode PASSTHROUGH_ENV_NAMES} that are set in `hostEnv`, with their values. */
export function passthroughEnv(
  hostEnv: { get(name: string): string | undefined },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSTHROUGH_ENV_NAMES) {
    const value = hostEnv.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** What {@linkcode functionCommand} builds a command from. */
export interface FunctionCommandOptions {
  /** `deno.json` giving the import map; the process runs in its folder. */
  configPath: string;
  /** Folder holding one folder per function. */
  functionsDir: string;
  /** Function name (folder name). */
  name: string;
  /** Memory limit in MB: V8's heap is capped at it. */
  memoryLimitMb: number;
  /** The whole environment of the process, apart from what `function_entry.ts` reads. */
  env: Record<string, string>;
}

/** The `deno run` arguments and environment of one function process (docs/functions-host.md). */
export function functionCommand(options: FunctionCommandOptions): Deno.CommandOptions & {
  args: string[];
  env: Record<string, string>;
} {
  return {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      // A sudden allocation past the memory limit then ends in V8's out-of-memory abort at
      // once, instead of growing until the next sample (external memory such as ArrayBuffers
      // is caught by the resident-set samples).
      `--v8-flags=--max-old-space-size=${options.memoryLimitMb}`,
      "--config",
      options.configPath,
      ENTRY_PATH,
      join(options.functionsDir, options.name, "index.ts"),
    ],
    cwd: dirname(options.configPath),
    clearEnv: true,
    env: {
      ...options.env,
      [ENTRY_NAME_ENV]: options.name,
      [ENTRY_HOSTNAME_ENV]: "127.0.0.1",
      [ENTRY_PORT_ENV]: "0",
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  };
}

/** Options of {@linkcode FunctionSupervisor}. */
export interface FunctionSupervisorOptions {
  /** `deno` binary for the function processes. */
  denoPath: string;
  /** `deno.json` giving the import map. */
  configPath: string;
  /** Folder holding one folder per function. */
  functionsDir: string;
  /** Every function process's environment (see {@linkcode functionCommand}). */
  env: Record<string, string>;
  /** The limits the processes run under. */
  limits: EdgeLimits;
  /** Grace period between SIGTERM and SIGKILL when stopping a process. */
  stopGraceMs: number;
  /** Most processes per function. */
  maxProcessesPerFunction: number;
  /** Idle time after which a process beyond the one kept warm is stopped. */
  idleProcessMs: number;
  /** Receives every log entry. */
  log: (entry: LogEntry) => void;
}

/** The function processes of a host (see the module doc). */
export class FunctionSupervisor {
  readonly #options: FunctionSupervisorOptions;
  readonly #pools = new Map<string, FunctionPool<FunctionProcess>>();
  readonly #running = new Set<FunctionProcess>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  #closing: Promise<void> | undefined;

  /** Starts sweeping idle processes (no process starts before the first request). */
  constructor(options: FunctionSupervisorOptions) {
    this.#options = options;
    this.#sweeper = setInterval(
      () => this.#pools.forEach((pool) => pool.sweep()),
      Math.min(1_000, Math.max(10, Math.floor(options.idleProcessMs / 2))),
    );
    Deno.unrefTimer(this.#sweeper);
  }

  /** Processes alive or still forwarding their output. */
  get running(): number {
    return this.#running.size;
  }

  /** The pool of function `name` (created on first use). */
  pool(name: string): FunctionPool<FunctionProcess> {
    let pool = this.#pools.get(name);
    if (!pool) {
      const { log, stopGraceMs, limits } = this.#options;
      pool = new FunctionPool<FunctionProcess>({
        spawn: () => this.#spawn(name),
        stop: (worker, reason) => {
          if (worker.exited) return;
          if (worker.killedFor === undefined) {
            log(logEntry("info", "function_retired", {
              function: name,
              pid: worker.pid,
              reason,
              cpu_ms: worker.readyAt === undefined ? null : Math.round(worker.usage().cpuMs),
            }));
          }
          worker.stop(stopGraceMs).catch(() => {});
        },
        retireReason: (worker) =>
          worker.readyAt === undefined
            ? null
            : retireReason(worker.usage(), performance.now() - worker.readyAt, limits),
        maxProcesses: this.#options.maxProcessesPerFunction,
        idleMs: this.#options.idleProcessMs,
      });
      this.#pools.set(name, pool);
    }
    return pool;
  }

  /**
   * Refuses further requests and stops every process (SIGTERM, SIGKILL after the grace
   * period); resolves once all have exited and their output is forwarded.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#sweeper);
      for (const pool of this.#pools.values()) pool.close();
      const { stopGraceMs } = this.#options;
      await Promise.all([...this.#running].map((worker) => worker.stop(stopGraceMs)));
    })();
    return this.#closing;
  }

  #spawn(name: string): FunctionProcess {
    const { denoPath, configPath, functionsDir, env, limits, log } = this.#options;
    const command = new Deno.Command(
      denoPath,
      functionCommand({
        configPath,
        functionsDir,
        name,
        memoryLimitMb: limits.memoryLimitMb,
        env,
      }),
    );
    const worker = new FunctionProcess(command, {
      name,
      log,
      onExit: (exited) => this.#pools.get(name)?.exited(exited),
    });
    this.#running.add(worker);
    worker.done.then(() => this.#running.delete(worker));
    return worker;
  }
}
