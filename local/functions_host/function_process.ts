/**
 * One function's subprocess for the local functions host: spawned, waited for until it
 * listens, its output forwarded as JSON log entries, measured (CPU time and memory since it
 * listened), killed at a limit, stopped.
 *
 * @module
 */

import type { LimitName, UsageSample } from "./edge_limits.ts";
import { ENTRY_READY_EVENT } from "./function_entry.ts";
import { type LogEntry, logEntry, roundMb } from "./log.ts";
import { readProcessUsage } from "./process_usage.ts";

/** The process exited (or failed to start listening) before it was ready. */
export class BootError extends Error {}

// deno-lint-ignore no-control-regex
const ANSI_ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]/g;
/** What V8 prints on stderr when a heap limit (`--max-old-space-size`) is hit. */
const OUT_OF_MEMORY = /Fatal JavaScript out of memory|JavaScript heap out of memory/;

/** What a {@linkcode FunctionProcess} needs besides its command. */
export interface FunctionProcessOptions {
  /** Function name (folder name), for logs. */
  name: string;
  /** Receives every log entry. */
  log: (entry: LogEntry) => void;
  /** Called once, when the process has exited. */
  onExit?: (process: FunctionProcess) => void;
  /** Reads a process's usage; default {@linkcode readProcessUsage} (`/proc`). */
  readUsage?: typeof readProcessUsage;
}

/** One function's subprocess: spawned, waited for, its output forwarded, measured, stopped. */
export class FunctionProcess {
  /** Function name (folder name). */
  readonly name: string;
  /** OS process id. */
  readonly pid: number;
  /** Resolves with the port the function listens on; rejects with a {@linkcode BootError}. */
  readonly ready: Promise<number>;
  /** Resolves when the process has exited. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Resolves when the process has exited and its output has been forwarded. */
  readonly done: Promise<void>;
  /** The exit status, once exited. */
  exitStatus: Deno.CommandStatus | undefined;
  /** `performance.now()` when it started listening; undefined while booting. */
  readyAt: number | undefined;
  /** CPU time it used to boot (start until listening), in ms. */
  bootCpuMs = 0;
  /** The limit it was killed for, if the host killed it at one. */
  killedFor: LimitName | undefined;
  /** Whether V8 reported running out of memory (the heap limit) on stderr. */
  outOfMemory = false;
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #stdinClosed = false;
  readonly #log: (entry: LogEntry) => void;
  readonly #readUsage: typeof readProcessUsage;
  #cpuAtReadyMs = 0;
  #lastUsage: UsageSample = { cpuMs: 0, rssMb: 0, peakRssMb: 0 };

  constructor(command: Deno.Command, options: FunctionProcessOptions) {
    const { name, log } = options;
    this.name = name;
    this.#log = log;
    const readUsage = options.readUsage ?? readProcessUsage;
    this.#readUsage = readUsage;
    const spawnedAt = performance.now();
    const child = command.spawn();
    const pid = child.pid;
    this.#child = child;
    this.pid = pid;
    this.#stdin = child.stdin.getWriter();
    const ready = Promise.withResolvers<number>();
    ready.promise.catch(() => {}); // Observed by whoever awaits it; never unhandled.
    this.ready = ready.promise;

    const stdout = (async () => {
      for await (const line of readLines(child.stdout)) {
        if (this.readyAt === undefined) {
          const port = parseReadyLine(line);
          if (port !== undefined) {
            this.readyAt = performance.now();
            const atReady = readUsage(pid);
            this.#cpuAtReadyMs = atReady?.cpuMs ?? 0;
            this.bootCpuMs = this.#cpuAtReadyMs;
            ready.resolve(port);
            log(logEntry("info", "function_started", {
              function: name,
              pid,
              port,
              boot_ms: Math.round(this.readyAt - spawnedAt),
              boot_cpu_ms: Math.round(this.bootCpuMs),
              rss_mb: atReady ? roundMb(atReady.rssMb) : null,
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
      log(logEntry(status.success ? "info" : "warn", "function_exited", {
        function: name,
        pid,
        code: status.code,
        signal: status.signal,
        ...(this.killedFor ? { killed_for: this.killedFor } : {}),
      }));
      options.onExit?.(this);
      return status;
    });
    this.done = Promise.allSettled([stdout, stderr, this.status]).then(() => {});
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.exitStatus !== undefined;
  }

  /**
   * What the process used since it started listening (CPU) and its memory now and at peak;
   * the last reading once it is gone.
   */
  usage(): UsageSample {
    if (this.exited) return this.#lastUsage;
    const now = this.#readUsage(this.pid);
    if (now) {
      this.#lastUsage = {
        cpuMs: Math.max(0, now.cpuMs - this.#cpuAtReadyMs),
        rssMb: now.rssMb,
        peakRssMb: now.peakRssMb,
      };
    }
    return this.#lastUsage;
  }

  /** Kills the process at once (SIGKILL), recording the limit it ran into. */
  kill(limit: LimitName): void {
    this.killedFor ??= limit;
    this.#closeStdin();
    signal(this.#child, "SIGKILL");
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
    if (stream === "stderr" && OUT_OF_MEMORY.test(line)) this.outOfMemory = true;
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
    this.#log(logEntry(level, "function_log", { function: this.name, stream, line: parsed }));
  }
}

/** `exit code N` or `signal S`. */
export function describeExit(status: Deno.CommandStatus): string {
  return status.signal ? `signal ${status.signal}` : `exit code ${status.code}`;
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
