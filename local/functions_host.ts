/**
 * Local stand-in for hosted Supabase Edge Functions (and `supabase functions serve`, which
 * needs Docker): one HTTP port serving `/functions/v1/<name>[/subpath]` for every folder
 * `<functionsDir>/<name>/index.ts` whose name does not start with `_` or `.`.
 *
 * Each function runs its real `index.ts` in `deno run` subprocesses (see
 * `local/function_entry.ts`), one request at a time per process, like hosted isolates: a
 * request takes an idle warm process or starts a new one (`local/function_pool.ts`). The host
 * enforces the edge runtime's limits on every process (CPU time, memory, request idle timeout,
 * wall clock; `local/edge_limits.ts`) and answers as hosted does when one is hit. The
 * subprocess gets only the env it is given (plus a few basics such as PATH and HOME), like a
 * hosted function gets only its project's env and secrets.
 *
 * Run it as a CLI (see {@linkcode main} / `--help`) or in-process with
 * {@linkcode startFunctionsHost}. See docs/functions-host.md.
 *
 * @module
 */

import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import {
  EDGE_LIMIT_SPECS,
  edgeLimitFromFlag,
  type EdgeLimits,
  type LimitName,
  resolveEdgeLimits,
  retireReason,
  WORKER_LIMIT_BODY,
  WORKER_LIMIT_STATUS,
} from "./functions_host/edge_limits.ts";
import {
  ENTRY_HOSTNAME_ENV,
  ENTRY_NAME_ENV,
  ENTRY_PORT_ENV,
  REQUEST_ID_HEADER,
} from "./functions_host/function_entry.ts";
import { FunctionPool, PoolClosedError } from "./functions_host/function_pool.ts";
import {
  describeExit,
  FunctionProcess,
  type LogEntry,
  logEntry as entry,
  roundMb,
} from "./functions_host/function_process.ts";
import { LimitWatch } from "./functions_host/limit_watch.ts";
import { assertProcessUsageAvailable } from "./functions_host/process_usage.ts";

export type { LogEntry } from "./functions_host/function_process.ts";

/** How long a cold start may take before the request fails with 503 `boot_error`. */
export const DEFAULT_BOOT_TIMEOUT_MS = 30_000;
/** How long `close()` waits after SIGTERM before it SIGKILLs a function process. */
export const DEFAULT_STOP_GRACE_MS = 2_000;
/** Default CLI port: the dev stack's functions host (docs/CONVENTIONS.md). */
export const DEFAULT_CLI_PORT = 54321;
/** Most processes one function may have at once; further requests wait for a free one. */
export const DEFAULT_MAX_PROCESSES_PER_FUNCTION = 16;
/** An idle process beyond the one kept warm is stopped after this long without a request. */
export const DEFAULT_IDLE_PROCESS_MS = 30_000;
/** How often a busy process's CPU time and memory are sampled. */
export const DEFAULT_USAGE_POLL_MS = 20;

/**
 * The only variables of the host's own environment a function process inherits: what `deno`
 * needs to run and to fetch npm packages (cache dirs, certificates, proxies). Everything else
 * the function sees comes from `env` and the env file.
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

/** Secret names reserved for the platform: `supabase secrets set` refuses them too. */
export const RESERVED_ENV_PREFIX = "SUPABASE_";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ENTRY_PATH = fileURLToPath(new URL("./functions_host/function_entry.ts", import.meta.url));
/** Function folder names that are served (hosted slugs are similar). */
const FUNCTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const ROUTE = /^\/functions\/v1\/([^/]+)(\/.*)?$/;
/** Hop-by-hop headers (RFC 9110 §7.6.1) a proxy must not forward. */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];
/** Encodings Deno's fetch decodes by itself (the body arrives decoded, the header stays). */
const DECODED_BY_FETCH = new Set(["gzip", "x-gzip", "br"]);

/**
 * Options of {@linkcode startFunctionsHost}. The limits (`cpuLimitMs`, `memoryLimitMb`,
 * `idleTimeoutMs`, `wallClockMs`) default to hosted's and may only be lowered (ranges in
 * `EDGE_LIMIT_SPECS`, local/edge_limits.ts).
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

/**
 * Parses a dotenv file: `KEY=value`, `export KEY=value`, `#` comments, blank lines, values in
 * double quotes (with `\n`, `\t`, `\"`, `\\` escapes, may span lines) or single quotes
 * (literal), and `value # comment` for unquoted values. Errors name the line but never show a
 * value (it may be a secret).
 */
export function parseEnvFile(text: string, source = "env file"): Record<string, string> {
  const vars: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    let line = lines[index].trim();
    if (line === "" || line.startsWith("#")) continue;
    if (/^export\s/.test(line)) line = line.replace(/^export\s+/, "");
    const equals = line.indexOf("=");
    if (equals <= 0) {
      throw new Error(
        `${source} line ${lineNumber} is not KEY=VALUE (its content is not shown: it may hold ` +
          `a secret)`,
      );
    }
    const key = line.slice(0, equals).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new Error(
        `${source} line ${lineNumber}: ${JSON.stringify(key)} is not a valid variable name ` +
          `(letters, digits and _, not starting with a digit)`,
      );
    }
    let value = line.slice(equals + 1).trim();
    const quote = value[0];
    if (quote === '"' || quote === "'") {
      let body = value.slice(1);
      let close = findClosingQuote(body, quote);
      while (close < 0 && index + 1 < lines.length) {
        index++;
        body += "\n" + lines[index];
        close = findClosingQuote(body, quote);
      }
      if (close < 0) {
        throw new Error(`${source} line ${lineNumber}: ${key} has an unterminated ${quote} quote`);
      }
      const rest = body.slice(close + 1).trim();
      if (rest !== "" && !rest.startsWith("#")) {
        throw new Error(
          `${source} line ${lineNumber}: ${key} has text after its closing ${quote} quote`,
        );
      }
      value = body.slice(0, close);
      if (quote === '"') {
        value = value.replace(/\\([nrt"\\])/g, (_match, char: string) => {
          const escapes: Record<string, string> = { n: "\n", r: "\r", t: "\t" };
          return escapes[char] ?? char;
        });
      }
    } else {
      value = value.replace(/\s+#.*$/, "").trim();
    }
    vars[key] = value;
  }
  return vars;
}

function findClosingQuote(text: string, quote: string): number {
  for (let i = 0; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") {
      i++;
      continue;
    }
    if (text[i] === quote) return i;
  }
  return -1;
}

/**
 * Reads and parses the env file at `path` ({@linkcode parseEnvFile}); a missing file gives `{}`.
 * Throws if a name starts with `SUPABASE_`: those are the platform's, set by the host itself.
 */
export async function loadEnvFile(path: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw new Error(`Cannot read env file ${path}: ${(error as Error).message}`);
  }
  const vars = parseEnvFile(text, `Env file ${path}`);
  const reserved = Object.keys(vars).filter((name) => name.startsWith(RESERVED_ENV_PREFIX));
  if (reserved.length > 0) {
    throw new Error(
      `Env file ${path} sets ${reserved.join(", ")}: names starting with ` +
        `${RESERVED_ENV_PREFIX} are reserved (\`supabase secrets set\` refuses them too); the ` +
        `host provides SUPABASE_* itself. Remove ${
          reserved.length === 1 ? "that line" : "those lines"
        }.`,
    );
  }
  return vars;
}

function defaultLog(logEntry: LogEntry): void {
  console.log(JSON.stringify(logEntry));
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}: got ${value}`);
  }
  return value;
}

/** How a relayed response body ended. */
type BodyOutcome = "complete" | "error" | "cancelled";

/** A response body being copied from a function to the client. */
interface RelayedBody {
  /** The copy to answer with. */
  stream: ReadableStream<Uint8Array>;
  /** Ends the copy with an error (the client sees a broken body) and cancels the source. */
  fail(error: Error): void;
}

/**
 * Copies `body`: `onChunk` runs for every chunk, `beforeClose` may turn a complete body into a
 * failed one (returning the error), and `onEnd` runs once when it completes, fails or is
 * cancelled by the client.
 */
function relayBody(
  body: ReadableStream<Uint8Array>,
  hooks: {
    onChunk(): void;
    beforeClose(): Error | null;
    onEnd(outcome: BodyOutcome): void;
  },
): RelayedBody {
  const reader = body.getReader();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let ended = false;
  const end = (outcome: BodyOutcome): boolean => {
    if (ended) return false;
    ended = true;
    hooks.onEnd(outcome);
    return true;
  };
  const fail = (error: Error) => {
    if (!end("error")) return;
    controller.error(error);
    reader.cancel(error).catch(() => {});
  };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    async pull() {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        fail(new ResponseBodyFailed(error));
        return;
      }
      if (ended) return;
      if (chunk.done) {
        const error = hooks.beforeClose();
        if (error) fail(error);
        else if (end("complete")) controller.close();
      } else {
        hooks.onChunk();
        controller.enqueue(chunk.value);
      }
    },
    async cancel(reason) {
      end("cancelled");
      await reader.cancel(reason).catch(() => {});
    },
  });
  return { stream, fail };
}

/** Fetch errors quote the URL; the query string may carry a key, so it is masked. */
function withoutQuery(message: string, search: string): string {
  return search === "" ? message : message.replaceAll(search, "?<query>");
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

type Outcome<T> =
  | { kind: "value"; value: T }
  | { kind: "error"; error: unknown }
  | { kind: "timeout" };

/** Waits for `promise`, at most `ms`. Leaves no timer behind. */
async function settle<T>(promise: Promise<T>, ms: number): Promise<Outcome<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<Outcome<T>>((resolveLimit) => {
    timer = setTimeout(() => resolveLimit({ kind: "timeout" }), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value): Outcome<T> => ({ kind: "value", value }),
        (error): Outcome<T> => ({ kind: "error", error }),
      ),
      limit,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The function's response body failed mid-way; already logged with its request. */
class ResponseBodyFailed extends Error {
  constructor(cause: unknown) {
    super(`response body from the function failed: ${(cause as Error)?.message ?? cause}`, {
      cause,
    });
  }
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
  const log = options.log ?? defaultLog;
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
    log(entry("warn", "env_file_overridden", {
      names: overridden,
      message: `The host's env wins over ${options.envFile} for ${overridden.join(", ")}`,
    }));
  }
  const baseEnv: Record<string, string> = {};
  for (const name of PASSTHROUGH_ENV_NAMES) {
    const value = Deno.env.get(name);
    if (value !== undefined) baseEnv[name] = value;
  }

  const pools = new Map<string, FunctionPool<FunctionProcess>>();
  const running = new Set<FunctionProcess>();
  let closing: Promise<void> | undefined;

  const spawnFunction = (name: string): FunctionProcess => {
    const command = new Deno.Command(denoPath, {
      args: [
        "run",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--allow-sys",
        // A sudden allocation past the memory limit then ends in V8's out-of-memory abort
        // at once, instead of growing until the next sample (external memory such as
        // ArrayBuffers is caught by the resident-set samples).
        `--v8-flags=--max-old-space-size=${limits.memoryLimitMb}`,
        "--config",
        configPath,
        ENTRY_PATH,
        join(functionsDir, name, "index.ts"),
      ],
      cwd: dirname(configPath),
      clearEnv: true,
      env: {
        ...baseEnv,
        ...fileEnv,
        ...options.env,
        [ENTRY_NAME_ENV]: name,
        [ENTRY_HOSTNAME_ENV]: "127.0.0.1",
        [ENTRY_PORT_ENV]: "0",
      },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    });
    const worker = new FunctionProcess(command, {
      name,
      log,
      onExit: (exited) => pools.get(name)?.exited(exited),
    });
    running.add(worker);
    worker.done.then(() => running.delete(worker));
    return worker;
  };

  const poolFor = (name: string): FunctionPool<FunctionProcess> => {
    let pool = pools.get(name);
    if (!pool) {
      pool = new FunctionPool<FunctionProcess>({
        spawn: () => spawnFunction(name),
        stop: (worker, reason) => {
          if (worker.exited) return;
          if (worker.killedFor === undefined) {
            log(entry("info", "function_retired", {
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
        maxProcesses,
        idleMs: idleProcessMs,
      });
      pools.set(name, pool);
    }
    return pool;
  };
  const sweeper = setInterval(
    () => pools.forEach((pool) => pool.sweep()),
    Math.min(1_000, Math.max(10, Math.floor(idleProcessMs / 2))),
  );
  Deno.unrefTimer(sweeper);

  const handle = async (request: Request): Promise<Response> => {
    const startedAt = performance.now();
    const requestId = crypto.randomUUID();
    const url = new URL(request.url);
    let functionName: string | null = null;
    const logRequest = (
      status: number,
      fields: Record<string, unknown> = {},
      level: LogEntry["level"] = status >= 500 ? "error" : "info",
    ) => {
      log(entry(level, "request", {
        function: functionName,
        method: request.method,
        path: url.pathname,
        status,
        duration_ms: Math.round(performance.now() - startedAt),
        request_id: requestId,
        ...fields,
      }));
    };
    const fail = (
      status: number,
      error: string,
      message: string,
      fields: Record<string, unknown> = {},
    ): Response => {
      logRequest(status, { ...fields, error });
      return Response.json({ error, message, request_id: requestId }, {
        status,
        headers: { [REQUEST_ID_HEADER]: requestId },
      });
    };

    const route = ROUTE.exec(url.pathname);
    if (!route) {
      return fail(
        404,
        "not_found",
        `No route for ${request.method} ${url.pathname}: functions are served at ` +
          `/functions/v1/<name>`,
      );
    }
    const name = route[1];
    const subpath = route[2] ?? "";
    if (!FUNCTION_NAME.test(name) || !(await isFile(join(functionsDir, name, "index.ts")))) {
      return fail(
        404,
        "not_found",
        `Function '${name}' not found: no ${shownDir}/${name}/index.ts`,
      );
    }
    functionName = name;
    if (closing) {
      return fail(503, "shutting_down", `The functions host is shutting down`);
    }

    // A process serves one request at a time: waiting for a free one (when the function
    // already has `maxProcesses`) counts against no limit, as hosted queues for an isolate.
    const pool = poolFor(name);
    let worker: FunctionProcess;
    try {
      worker = await pool.acquire();
    } catch (error) {
      if (error instanceof PoolClosedError) {
        return fail(503, "shutting_down", `The functions host is shutting down`);
      }
      return fail(
        503,
        "boot_error",
        `Function '${name}' could not be started with ${denoPath}: ${(error as Error).message}`,
      );
    }
    const boot = await settle(worker.ready, bootTimeoutMs);
    if (boot.kind !== "value") {
      if (boot.kind === "timeout") await worker.stop(stopGraceMs);
      pool.release(worker, { reusable: false, reason: "boot_error" });
      return fail(
        503,
        "boot_error",
        boot.kind === "timeout"
          ? `Function '${name}' did not start listening within ${bootTimeoutMs} ms (bootTimeoutMs)`
          : (boot.error as Error).message,
      );
    }
    const childPort = boot.value;

    // From here on the request runs under the limits. A breach of CPU, memory or the wall
    // clock kills the process and ends the request; an idle timeout ends the request and
    // leaves the process running (as hosted), never to be given another request.
    let ended: LimitName | undefined;
    let relayed: RelayedBody | undefined = undefined; // Set once the response streams.
    let upstreamStatus = 0;
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const limitReached = Promise.withResolvers<LimitName>();
    const upstreamAbort = new AbortController();
    const usageFields = (limit?: LimitName): Record<string, unknown> => ({
      pid: worker.pid,
      cpu_ms: Math.round(watch.cpuMs),
      max_rss_mb: roundMb(watch.maxRssMb),
      ...(limit ? { limit, process_cpu_ms: Math.round(watch.processUsage.cpuMs) } : {}),
    });
    const endAtLimit = (limit: LimitName) => {
      if (ended) return;
      ended = limit;
      clearTimeout(idleTimer);
      if (limit !== "idle_timeout") pool.release(worker, { reusable: false, reason: limit });
      if (relayed) {
        // The response has started: hosted cuts it off; the client sees a broken body.
        logRequest(upstreamStatus, { ...usageFields(limit), error: limitError(limit) }, "error");
        relayed.fail(new ResponseBodyFailed(new Error(`${limit} limit reached`)));
      } else limitReached.resolve(limit);
      upstreamAbort.abort();
    };
    const watch = new LimitWatch(worker, {
      limits,
      onBreach: (limit) => {
        worker.kill(limit);
        log(entry("error", "function_limit", {
          function: name,
          pid: worker.pid,
          limit,
          request_id: ended === "idle_timeout" ? null : requestId,
          cpu_ms: Math.round(watch.processUsage.cpuMs),
          peak_rss_mb: roundMb(watch.processUsage.peakRssMb),
          message: limitMessage(limit, limits),
        }));
        endAtLimit(limit);
      },
    });
    watch.start(usagePollMs);
    idleTimer = setTimeout(() => endAtLimit("idle_timeout"), limits.idleTimeoutMs);
    const limitResponse = (limit: LimitName): Response => {
      if (limit === "idle_timeout") {
        return fail(
          504,
          "idle_timeout",
          `Function '${name}' sent no response within ${limits.idleTimeoutMs} ms ` +
            `(request idle timeout)`,
          usageFields(limit),
        );
      }
      logRequest(WORKER_LIMIT_STATUS, { ...usageFields(limit), error: limitError(limit) });
      return Response.json(WORKER_LIMIT_BODY, {
        status: WORKER_LIMIT_STATUS,
        headers: { [REQUEST_ID_HEADER]: requestId },
      });
    };

    const headers = new Headers(request.headers);
    for (const header of [...HOP_BY_HOP, "host", "content-length"]) headers.delete(header);
    headers.set(REQUEST_ID_HEADER, requestId);

    // A client that disconnects does not cancel the upstream request before the response
    // starts (hosted functions also keep running): watching `request.signal` would make Deno
    // warn about its legacy abort-on-success behaviour. Once the response streams, a client
    // disconnect cancels the body and so the upstream request.
    const answered = await Promise.race([
      fetch(`http://127.0.0.1:${childPort}/${name}${subpath}${url.search}`, {
        method: request.method,
        headers,
        body: request.body,
        redirect: "manual",
        signal: upstreamAbort.signal,
      }).then(
        (response) => ({ response }),
        (error: unknown) => ({ error }),
      ),
      limitReached.promise.then((limit) => ({ limit })),
    ]);
    if ("limit" in answered) return limitResponse(answered.limit);
    if (ended) {
      if ("response" in answered) await answered.response.body?.cancel().catch(() => {});
      return limitResponse(ended);
    }
    if ("error" in answered) {
      // A crash shows first as a reset connection; give the exit status and the last output
      // lines (V8's out-of-memory report) a moment to arrive.
      await settle(worker.done, 1_000);
      watch.check();
      if (ended) return limitResponse(ended);
      if (worker.exited && worker.outOfMemory) {
        watch.stop();
        ended = "memory";
        pool.release(worker, { reusable: false, reason: "memory" });
        log(entry("error", "function_limit", {
          function: name,
          pid: worker.pid,
          limit: "memory",
          request_id: requestId,
          message: limitMessage("memory", limits),
        }));
        return limitResponse("memory");
      }
      watch.stop();
      clearTimeout(idleTimer);
      pool.release(worker, { reusable: false, reason: "failed" });
      return fail(
        502,
        "function_crashed",
        worker.exitStatus
          ? `Function '${name}' crashed while handling the request (${
            describeExit(worker.exitStatus)
          }); it restarts on the next request`
          : `Function '${name}' failed to answer (connection dropped or request body failed): ${
            withoutQuery((answered.error as Error).message, url.search)
          }`,
        usageFields(),
      );
    }

    const upstream = answered.response;
    upstreamStatus = upstream.status;
    clearTimeout(idleTimer);
    // The function would have been stopped before it answered if it is past a limit now.
    if (watch.check() && ended) {
      await upstream.body?.cancel().catch(() => {});
      return limitResponse(ended);
    }

    const responseHeaders = new Headers(upstream.headers);
    for (const header of HOP_BY_HOP) responseHeaders.delete(header);
    const encoding = responseHeaders.get("content-encoding")?.trim().toLowerCase();
    if (encoding && DECODED_BY_FETCH.has(encoding)) {
      responseHeaders.delete("content-encoding");
      responseHeaders.delete("content-length");
    }
    responseHeaders.set(REQUEST_ID_HEADER, requestId);
    const init = {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: responseHeaders,
    };
    const finish = (fields: Record<string, unknown> = {}, level?: LogEntry["level"]) => {
      watch.stop();
      logRequest(upstream.status, { ...usageFields(), ...fields }, level);
      pool.release(worker, { reusable: true });
    };
    if (upstream.body === null) {
      finish();
      return new Response(null, init);
    }
    // Like hosted, the idle timeout also applies between two chunks of a streamed body.
    idleTimer = setTimeout(() => endAtLimit("idle_timeout"), limits.idleTimeoutMs);
    relayed = relayBody(upstream.body, {
      onChunk() {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(() => endAtLimit("idle_timeout"), limits.idleTimeoutMs);
      },
      beforeClose() {
        clearTimeout(idleTimer);
        // The last check: past a limit, hosted would have stopped the function mid-body.
        watch.check();
        return ended ? new ResponseBodyFailed(new Error(`${ended} limit reached`)) : null;
      },
      onEnd(outcome) {
        if (ended) return; // Logged by endAtLimit.
        clearTimeout(idleTimer);
        if (outcome === "complete") finish();
        else if (outcome === "cancelled") {
          finish({ error: "client_cancelled_response" }, "warn");
        } else {
          watch.stop();
          logRequest(upstream.status, { ...usageFields(), error: "response_body_failed" }, "error");
          pool.release(worker, { reusable: false, reason: "failed" });
        }
      },
    });
    return new Response(relayed.stream, init);
  };

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port,
      onListen: () => {},
      // Only reached for a bug in `handle` or a failed response stream: keep logs JSON.
      onError: (error) => {
        if (!(error instanceof ResponseBodyFailed)) {
          log(entry("error", "host_error", {
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
    clearInterval(sweeper);
    throw new Error(
      `Functions host cannot listen on ${hostname}:${port}: ${(error as Error).message}`,
    );
  }
  const boundPort = server.addr.port;
  const url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${boundPort}`;
  log(entry("info", "listening", {
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
        clearInterval(sweeper);
        for (const pool of pools.values()) pool.close();
        await Promise.all([...running].map((worker) => worker.stop(stopGraceMs)));
        await server.shutdown();
        log(entry("info", "stopped", { url }));
      })();
      return closing;
    },
  };
}

/** The `error` a request line gets for a limit. */
function limitError(limit: LimitName): string {
  return limit === "idle_timeout" ? "idle_timeout" : "worker_limit";
}

/** What the log says about a limit, in hosted's words where it has them. */
function limitMessage(limit: LimitName, limits: EdgeLimits): string {
  switch (limit) {
    case "cpu":
      return `CPU Time exceeded: the process used more than ${limits.cpuLimitMs} ms of CPU`;
    case "memory":
      return `Memory limit exceeded: the process used more than ${limits.memoryLimitMb} MB`;
    case "wall_clock":
      return `wall clock time limit reached: the process lived ${limits.wallClockMs} ms`;
    case "idle_timeout":
      return `no response within ${limits.idleTimeoutMs} ms`;
  }
}

const CLI_USAGE = `Usage: deno run --allow-all local/functions_host.ts [flags]

Serves supabase/functions/<name>/index.ts at http://HOST:PORT/functions/v1/<name>.
Needs --allow-all: it reads each function's CPU time and memory in /proc, which Deno grants
only to -A (the host can run subprocesses anyway).

  --port N             port to listen on, 0 = any free port (default ${DEFAULT_CLI_PORT})
  --hostname H         interface to listen on (default 127.0.0.1)
  --functions-dir DIR  folder of functions (default <repo>/supabase/functions)
  --env-file FILE      dotenv file of secrets, may be missing (default <functions-dir>/.env)
  --env-json FILE      JSON object of the base env (SUPABASE_URL, keys, …); kept in a file so
                       secrets never appear on a command line
  --boot-timeout-ms N  cold-start limit (default ${DEFAULT_BOOT_TIMEOUT_MS})
  --config FILE        deno.json for the functions (default <repo>/deno.json)
  --deno-path FILE     deno binary for the functions (default: this one)
  --help               show this text

Edge runtime limits, per function process (hosted values by default; may only be lowered):
${
  EDGE_LIMIT_SPECS.map((spec) =>
    `  --${spec.flag} N`.padEnd(23) + `${spec.min}..${spec.max} (default ${spec.default})`
  ).join("\n")
}

Prints one JSON log line per event on stdout, {"event":"listening",…} once ready.
Stops its function processes and exits on SIGTERM or SIGINT.`;

const EnvJson = z.record(z.string(), z.string());

function integerFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) {
    throw new Error(`--${flag} must be a non-negative integer: got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

async function readEnvJson(path: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`Cannot read --env-json ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`--env-json ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = EnvJson.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
      .join("; ");
    throw new Error(`--env-json ${path} must be a JSON object of strings: ${problems}`);
  }
  return parsed.data;
}

/**
 * CLI entry: parses `args` (see `--help`), starts the host and keeps it running until SIGTERM
 * or SIGINT. Resolves with the exit code for a usage or startup error, or 0 for `--help`;
 * otherwise the process exits from the signal handler.
 */
export async function main(args: string[]): Promise<number> {
  const fail = (message: string): number => {
    console.error(JSON.stringify(entry("error", "startup_failed", { message })));
    return 1;
  };
  let host: FunctionsHost;
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        hostname: { type: "string" },
        "functions-dir": { type: "string" },
        "env-file": { type: "string" },
        "env-json": { type: "string" },
        "boot-timeout-ms": { type: "string" },
        ...Object.fromEntries(
          EDGE_LIMIT_SPECS.map((spec) => [spec.flag, { type: "string" as const }]),
        ),
        config: { type: "string" },
        "deno-path": { type: "string" },
        help: { type: "boolean" },
      },
    });
    if (values.help) {
      console.log(CLI_USAGE);
      return 0;
    }
    const functionsDir = resolve(values["functions-dir"] ?? join(REPO_ROOT, "supabase/functions"));
    const env = values["env-json"] ? await readEnvJson(values["env-json"]) : {};
    if (!values["env-json"]) {
      console.log(JSON.stringify(entry("warn", "no_env_json", {
        message: "No --env-json given: functions get no SUPABASE_* variables",
      })));
    }
    host = await startFunctionsHost({
      port: integerFlag("port", values.port) ?? DEFAULT_CLI_PORT,
      hostname: values.hostname,
      functionsDir,
      env,
      envFile: values["env-file"] ?? join(functionsDir, ".env"),
      ...Object.fromEntries(
        EDGE_LIMIT_SPECS.map((spec) => [
          spec.option,
          edgeLimitFromFlag(spec, (values as Record<string, string | undefined>)[spec.flag]),
        ]),
      ),
      bootTimeoutMs: integerFlag("boot-timeout-ms", values["boot-timeout-ms"]),
      configPath: values.config,
      denoPath: values["deno-path"],
    });
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  let stopping = false;
  const stop = async (signal: Deno.Signal) => {
    if (stopping) return;
    stopping = true;
    console.log(JSON.stringify(entry("info", "shutdown", { signal })));
    await host.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  return await new Promise<number>(() => {
    // Runs until a signal handler exits the process.
  });
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
