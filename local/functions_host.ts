/**
 * Local stand-in for hosted Supabase Edge Functions (and `supabase functions serve`, which
 * needs Docker): one HTTP port serving `/functions/v1/<name>[/subpath]` for every folder
 * `<functionsDir>/<name>/index.ts` whose name does not start with `_` or `.`.
 *
 * Each function runs its real `index.ts` in its own `deno run` subprocess (see
 * `local/function_entry.ts`), started on its first request and kept warm, restarted on the next
 * request after it died. The subprocess gets only the env it is given (plus a few basics such
 * as PATH and HOME), like a hosted function gets only its project's env and secrets.
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
  ENTRY_HOSTNAME_ENV,
  ENTRY_NAME_ENV,
  ENTRY_PORT_ENV,
  ENTRY_READY_EVENT,
  REQUEST_ID_HEADER,
} from "./function_entry.ts";

/** Wall-clock limit per request, as on hosted Supabase's free plan (150 s). */
export const DEFAULT_WALL_CLOCK_MS = 150_000;
/** How long a cold start may take before the request fails with 503 `boot_error`. */
export const DEFAULT_BOOT_TIMEOUT_MS = 30_000;
/** How long `close()` waits after SIGTERM before it SIGKILLs a function process. */
export const DEFAULT_STOP_GRACE_MS = 2_000;
/** Default CLI port: the dev stack's functions host (docs/CONVENTIONS.md). */
export const DEFAULT_CLI_PORT = 54321;

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
const ENTRY_PATH = fileURLToPath(new URL("./function_entry.ts", import.meta.url));
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
// deno-lint-ignore no-control-regex
const ANSI_ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** One log line: a JSON object with at least `ts`, `level` and `event`. */
export type LogEntry = Record<string, unknown> & {
  ts: string;
  level: "debug" | "info" | "warn" | "error";
  event: string;
};

/** Options of {@linkcode startFunctionsHost}. */
export interface FunctionsHostOptions {
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
  /** Per-request wall-clock limit after the function started; over it → 504. Default 150 s. */
  wallClockMs?: number;
  /** Cold-start limit (process start until it listens); over it → 503. Default 30 s. */
  bootTimeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL when stopping a function. Default 2 s. */
  stopGraceMs?: number;
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

class BootError extends Error {}

/** One function's subprocess: spawned, waited for, its output forwarded, stopped. */
class FunctionProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the port the function listens on; rejects with a BootError. */
  readonly ready: Promise<number>;
  /** Resolves when the process has exited. */
  readonly status: Promise<Deno.CommandStatus>;
  exitStatus: Deno.CommandStatus | undefined;
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #stdinClosed = false;
  /** Resolves when the process has exited and its output has been forwarded. */
  readonly done: Promise<void>;
  readonly #log: (entry: LogEntry) => void;

  constructor(
    name: string,
    command: Deno.Command,
    log: (entry: LogEntry) => void,
    onExit: (worker: FunctionProcess) => void,
  ) {
    this.name = name;
    this.#log = log;
    const spawnedAt = performance.now();
    const child = command.spawn();
    const pid = child.pid;
    this.#child = child;
    this.pid = pid;
    this.#stdin = child.stdin.getWriter();
    const ready = Promise.withResolvers<number>();
    ready.promise.catch(() => {}); // Observed by whoever awaits it; never unhandled.
    this.ready = ready.promise;
    let isReady = false;

    const stdout = (async () => {
      for await (const line of readLines(child.stdout)) {
        if (!isReady) {
          const port = parseReadyLine(line);
          if (port !== undefined) {
            isReady = true;
            ready.resolve(port);
            log(entry("info", "function_started", {
              function: name,
              pid,
              port,
              boot_ms: Math.round(performance.now() - spawnedAt),
            }));
            continue;
          }
        }
        this.#forward(line, "stdout");
      }
    })();
    const stderr = (async () => {
      for await (const line of readLines(child.stderr)) this.#forward(line, "stderr");
    })();
    this.status = child.status.then((status) => {
      this.exitStatus = status;
      this.#closeStdin();
      ready.reject(
        new BootError(
          `Function '${name}' exited (${describeExit(status)}) before it started listening; ` +
            `see its function_log lines`,
        ),
      );
      log(entry(status.success ? "info" : "warn", "function_exited", {
        function: name,
        pid,
        code: status.code,
        signal: status.signal,
      }));
      onExit(this);
      return status;
    });
    this.done = Promise.allSettled([stdout, stderr, this.status]).then(() => {});
  }

  get exited(): boolean {
    return this.exitStatus !== undefined;
  }

  /** Closes stdin and sends SIGTERM; SIGKILL after `graceMs`. Waits for exit and output. */
  async stop(graceMs: number): Promise<void> {
    if (!this.exited) {
      this.#closeStdin();
      signal(this.#child, "SIGTERM");
      const timer = setTimeout(() => signal(this.#child, "SIGKILL"), graceMs);
      try {
        await this.status;
      } finally {
        clearTimeout(timer);
      }
    }
    await this.done;
  }

  #closeStdin(): void {
    if (this.#stdinClosed) return;
    this.#stdinClosed = true;
    this.#stdin.close().catch(() => {
      // The child is gone already: nothing left to signal.
    });
  }

  #forward(rawLine: string, stream: "stdout" | "stderr"): void {
    const line = rawLine.replace(ANSI_ESCAPE, "").trimEnd();
    if (line === "") return;
    let parsed: unknown = line;
    if (line.startsWith("{")) {
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = line;
      }
    }
    const childLevel = typeof parsed === "object" && parsed !== null
      ? (parsed as Record<string, unknown>).level
      : undefined;
    const level = childLevel === "debug" || childLevel === "info" || childLevel === "warn" ||
        childLevel === "error"
      ? childLevel
      : stream === "stderr"
      ? "error"
      : "info";
    this.#log(entry(level, "function_log", { function: this.name, stream, line: parsed }));
  }
}

function signal(child: Deno.ChildProcess, name: Deno.Signal): void {
  try {
    child.kill(name);
  } catch {
    // Already exited.
  }
}

function parseReadyLine(line: string): number | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const message = JSON.parse(line) as { event?: unknown; port?: unknown };
    if (message.event === ENTRY_READY_EVENT && Number.isInteger(message.port)) {
      return message.port as number;
    }
  } catch {
    // Not the ready line.
  }
  return undefined;
}

function describeExit(status: Deno.CommandStatus): string {
  return status.signal ? `signal ${status.signal}` : `exit code ${status.code}`;
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      yield buffered.slice(0, newline).replace(/\r$/, "");
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf("\n");
    }
  }
  if (buffered !== "") yield buffered;
}

function entry(
  level: LogEntry["level"],
  event: string,
  fields: Record<string, unknown> = {},
): LogEntry {
  return { ts: new Date().toISOString(), level, event, ...fields };
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
 * Copies `body`, calling `onEnd` once when it completes, fails or is cancelled by the client.
 */
function trackBody(
  body: ReadableStream<Uint8Array>,
  onEnd: (outcome: "complete" | "error" | "cancelled", error?: unknown) => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  const end = (outcome: "complete" | "error" | "cancelled", error?: unknown) => {
    if (ended) return;
    ended = true;
    onEnd(outcome, error);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          end("complete");
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        end("error", error);
        controller.error(new ResponseBodyFailed(error));
      }
    },
    async cancel(reason) {
      end("cancelled");
      await reader.cancel(reason).catch(() => {});
    },
  });
}

/**
 * Starts the functions host. Resolves once it listens; rejects if the env file is unreadable or
 * sets a `SUPABASE_*` name, or if the options are invalid.
 *
 * @example
 * ```ts
 * const host = await startFunctionsHost({
 *   port: 54321,
 *   functionsDir: "supabase/functions",
 *   env: { SUPABASE_URL: "http://127.0.0.1:54321" },
 *   envFile: "supabase/functions/.env",
 * });
 * await fetch(`${host.url}/functions/v1/hello`);
 * await host.close();
 * ```
 */
export async function startFunctionsHost(options: FunctionsHostOptions): Promise<FunctionsHost> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = checkInteger("port", options.port, 0, 65535);
  const wallClockMs = checkInteger(
    "wallClockMs",
    options.wallClockMs ?? DEFAULT_WALL_CLOCK_MS,
    1,
    2 ** 31 - 1,
  );
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

  const processes = new Map<string, FunctionProcess>();
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
    const worker = new FunctionProcess(name, command, log, (exited) => {
      if (processes.get(name) === exited) processes.delete(name);
    });
    running.add(worker);
    worker.done.then(() => running.delete(worker));
    return worker;
  };

  const functionProcess = (name: string): FunctionProcess => {
    const existing = processes.get(name);
    if (existing && !existing.exited) return existing;
    const worker = spawnFunction(name);
    processes.set(name, worker);
    return worker;
  };

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
    const fail = (status: number, error: string, message: string): Response => {
      logRequest(status, { error });
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

    let worker: FunctionProcess;
    try {
      worker = functionProcess(name);
    } catch (error) {
      return fail(
        503,
        "boot_error",
        `Function '${name}' could not be started with ${denoPath}: ${(error as Error).message}`,
      );
    }
    const boot = await settle(worker.ready, bootTimeoutMs);
    if (boot.kind === "timeout") {
      await worker.stop(stopGraceMs);
      return fail(
        503,
        "boot_error",
        `Function '${name}' did not start listening within ${bootTimeoutMs} ms (bootTimeoutMs)`,
      );
    }
    if (boot.kind === "error") return fail(503, "boot_error", (boot.error as Error).message);
    const childPort = boot.value;

    // The upstream request is bounded by the wall clock only. A client that disconnects does not
    // cancel it before the response starts (hosted functions also keep running): watching
    // `request.signal` would make Deno warn about its legacy abort-on-success behaviour. Once
    // the response streams, a client disconnect cancels the body and so the upstream request.
    const wallClock = new AbortController();
    const timer = setTimeout(() => wallClock.abort(), wallClockMs);
    const wallClockError = () =>
      fail(
        504,
        "wall_clock_exceeded",
        `Function '${name}' did not finish within ${wallClockMs} ms (wallClockMs)`,
      );
    const headers = new Headers(request.headers);
    for (const header of [...HOP_BY_HOP, "host", "content-length"]) headers.delete(header);
    headers.set(REQUEST_ID_HEADER, requestId);

    let upstream: Response;
    try {
      upstream = await fetch(`http://127.0.0.1:${childPort}/${name}${subpath}${url.search}`, {
        method: request.method,
        headers,
        body: request.body,
        redirect: "manual",
        signal: wallClock.signal,
      });
    } catch (error) {
      clearTimeout(timer);
      if (wallClock.signal.aborted) return wallClockError();
      // A crash shows first as a reset connection; give the exit status a moment to arrive.
      await settle(worker.status, 1_000);
      return fail(
        502,
        "function_crashed",
        worker.exitStatus
          ? `Function '${name}' crashed while handling the request (${
            describeExit(worker.exitStatus)
          }); it restarts on the next request`
          : `Function '${name}' failed to answer (connection dropped or request body failed): ${
            withoutQuery((error as Error).message, url.search)
          }`,
      );
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
    if (upstream.body === null) {
      clearTimeout(timer);
      logRequest(upstream.status);
      return new Response(null, init);
    }
    const body = trackBody(upstream.body, (outcome) => {
      clearTimeout(timer);
      if (outcome === "complete") logRequest(upstream.status);
      else if (wallClock.signal.aborted) {
        logRequest(upstream.status, { error: "wall_clock_exceeded" }, "error");
      } else if (outcome === "cancelled") {
        logRequest(upstream.status, { error: "client_cancelled_response" }, "warn");
      } else logRequest(upstream.status, { error: "response_body_failed" }, "error");
    });
    return new Response(body, init);
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
    wall_clock_ms: wallClockMs,
  }));

  return {
    url,
    port: boundPort,
    close() {
      closing ??= (async () => {
        await Promise.all([...running].map((worker) => worker.stop(stopGraceMs)));
        await server.shutdown();
        log(entry("info", "stopped", { url }));
      })();
      return closing;
    },
  };
}

const CLI_USAGE = `Usage: deno run --allow-net --allow-read --allow-env --allow-run --allow-sys \\
  local/functions_host.ts [flags]

Serves supabase/functions/<name>/index.ts at http://HOST:PORT/functions/v1/<name>.

  --port N             port to listen on, 0 = any free port (default ${DEFAULT_CLI_PORT})
  --hostname H         interface to listen on (default 127.0.0.1)
  --functions-dir DIR  folder of functions (default <repo>/supabase/functions)
  --env-file FILE      dotenv file of secrets, may be missing (default <functions-dir>/.env)
  --env-json FILE      JSON object of the base env (SUPABASE_URL, keys, …); kept in a file so
                       secrets never appear on a command line
  --wall-clock-ms N    per-request wall clock (default ${DEFAULT_WALL_CLOCK_MS})
  --boot-timeout-ms N  cold-start limit (default ${DEFAULT_BOOT_TIMEOUT_MS})
  --config FILE        deno.json for the functions (default <repo>/deno.json)
  --deno-path FILE     deno binary for the functions (default: this one)
  --help               show this text

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
        "wall-clock-ms": { type: "string" },
        "boot-timeout-ms": { type: "string" },
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
      wallClockMs: integerFlag("wall-clock-ms", values["wall-clock-ms"]),
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
