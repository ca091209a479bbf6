/**
 * One request to the functions host: routed to its function, given a process of that
 * function, forwarded to it under the edge runtime's limits, answered as hosted answers (546 at
 * a CPU, memory or wall-clock limit, 504 at the idle timeout), and logged in one `request` line.
 *
 * @module
 */

import { join } from "node:path";
import {
  type EdgeLimits,
  type LimitName,
  WORKER_LIMIT_BODY,
  WORKER_LIMIT_STATUS,
} from "./edge_limits.ts";
import { REQUEST_ID_HEADER } from "./function_entry.ts";
import { PoolClosedError } from "./function_pool.ts";
import { describeExit } from "./function_process.ts";
import { LimitWatch, type WatchedProcess } from "./limit_watch.ts";
import { type LogEntry, logEntry, roundMb } from "./log.ts";
import {
  headersToClient,
  headersToFunction,
  relayBody,
  type RelayedBody,
  ResponseBodyFailed,
  settle,
  withoutQuery,
} from "./relay.ts";

/** Function folder names that are served (hosted slugs are similar). */
const FUNCTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const ROUTE = /^\/functions\/v1\/([^/]+)(\/.*)?$/;

/**
 * The function a path names and the rest of it: `/functions/v1/echo/a/b` → `echo` and `/a/b`.
 * Null for a path outside `/functions/v1/<name>`; `name` may still not be a servable name.
 */
export function parseRoute(pathname: string): { name: string; subpath: string } | null {
  const route = ROUTE.exec(pathname);
  return route ? { name: route[1], subpath: route[2] ?? "" } : null;
}

/** Whether `name` can be a function: no leading `_` or `.`, letters, digits, `-` and `_`. */
export function isFunctionName(name: string): boolean {
  return FUNCTION_NAME.test(name);
}

/** What the host needs of a function process (`FunctionProcess` is one). */
export interface HostedProcess extends WatchedProcess {
  /** OS process id. */
  readonly pid: number;
  /** Resolves with the port it listens on; rejects when it fails to start. */
  readonly ready: Promise<number>;
  /** Resolves when it has exited and its output has been forwarded. */
  readonly done: Promise<void>;
  /** The exit status, once exited. */
  readonly exitStatus: Deno.CommandStatus | undefined;
  /** Whether V8 reported running out of memory. */
  readonly outOfMemory: boolean;
  /** Kills it at once, recording the limit. */
  kill(limit: LimitName): void;
  /** Stops it (SIGTERM, SIGKILL after `graceMs`) and waits for its exit. */
  stop(graceMs: number): Promise<void>;
}

/** What the host needs of a function's processes (`FunctionPool` is one). */
export interface ProcessSource<P> {
  /** A process for one request; rejects with `PoolClosedError` once the host closes. */
  acquire(): Promise<P>;
  /** Gives a process back (see `FunctionPool.release`). */
  release(process: P, options: { reusable: boolean; reason?: string }): void;
}

/** What {@linkcode createRequestHandler} needs. */
export interface RequestHandlerOptions<P extends HostedProcess> {
  /** Folder holding one folder per function (absolute). */
  functionsDir: string;
  /** `functionsDir` as a 404 message shows it. */
  shownDir: string;
  /** The processes of function `name`. */
  processes: (name: string) => ProcessSource<P>;
  /** Whether the host is shutting down (requests get 503). */
  closing: () => boolean;
  /** The limits every request runs under. */
  limits: EdgeLimits;
  /** Cold-start limit: from taking a process until it listens. */
  bootTimeoutMs: number;
  /** Grace period between SIGTERM and SIGKILL for a process that did not boot in time. */
  stopGraceMs: number;
  /** How often a busy process's CPU time and memory are sampled. */
  usagePollMs: number;
  /** The `deno` binary, named when a process cannot be started. */
  denoPath: string;
  /** Receives every log entry. */
  log: (entry: LogEntry) => void;
}

/** The host's request handler (see the module doc and docs/functions-host.md). */
export function createRequestHandler<P extends HostedProcess>(
  options: RequestHandlerOptions<P>,
): (request: Request) => Promise<Response> {
  const { functionsDir, shownDir, limits, bootTimeoutMs, stopGraceMs, usagePollMs, log } = options;

  return async (request: Request): Promise<Response> => {
    const startedAt = performance.now();
    const requestId = crypto.randomUUID();
    const url = new URL(request.url);
    let functionName: string | null = null;
    const logRequest = (
      status: number,
      fields: Record<string, unknown> = {},
      level: LogEntry["level"] = status >= 500 ? "error" : "info",
    ) => {
      log(logEntry(level, "request", {
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

    const route = parseRoute(url.pathname);
    if (!route) {
      return fail(
        404,
        "not_found",
        `No route for ${request.method} ${url.pathname}: functions are served at ` +
          `/functions/v1/<name>`,
      );
    }
    const { name, subpath } = route;
    if (!isFunctionName(name) || !(await isFile(join(functionsDir, name, "index.ts")))) {
      return fail(
        404,
        "not_found",
        `Function '${name}' not found: no ${shownDir}/${name}/index.ts`,
      );
    }
    functionName = name;
    if (options.closing()) {
      return fail(503, "shutting_down", `The functions host is shutting down`);
    }

    // A process serves one request at a time: waiting for a free one (when the function
    // has as many as it may) counts against no limit, as hosted queues for an isolate.
    const pool = options.processes(name);
    let worker: P;
    try {
      worker = await pool.acquire();
    } catch (error) {
      if (error instanceof PoolClosedError) {
        return fail(503, "shutting_down", `The functions host is shutting down`);
      }
      return fail(
        503,
        "boot_error",
        `Function '${name}' could not be started with ${options.denoPath}: ${
          (error as Error).message
        }`,
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
        log(logEntry("error", "function_limit", {
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

    // A client that disconnects does not cancel the upstream request before the response
    // starts (hosted functions also keep running): watching `request.signal` would make Deno
    // warn about its legacy abort-on-success behaviour. Once the response streams, a client
    // disconnect cancels the body and so the upstream request.
    const answered = await Promise.race([
      fetch(`http://127.0.0.1:${childPort}/${name}${subpath}${url.search}`, {
        method: request.method,
        headers: headersToFunction(request.headers, requestId),
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
        log(logEntry("error", "function_limit", {
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

    const init = {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: headersToClient(upstream.headers, requestId),
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
}

/** The `error` a request line gets for a limit. */
function limitError(limit: LimitName): string {
  return limit === "idle_timeout" ? "idle_timeout" : "worker_limit";
}

/** What the log says about a limit, in hosted's words where it has them. */
export function limitMessage(limit: LimitName, limits: EdgeLimits): string {
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

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
