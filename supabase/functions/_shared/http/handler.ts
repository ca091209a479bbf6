/**
 * The request scaffolding every function shares, in one place: {@link createJsonHandler}
 * turns a function's `handle` (its actual work) into a `(req) => Promise<Response>` that
 *
 * 1. takes the request id (`sb-request-id` / `x-request-id`, else a fresh UUID);
 * 2. refuses any method but `POST` (405 with `Allow: POST`);
 * 3. resolves the dependencies: given directly (tests), or as `{ getDeps }` called on every
 *    request (production), so a `ConfigError` becomes a 500 `misconfigured` answer instead
 *    of a crash at start-up;
 * 4. checks the caller: a request without an `x-tmdb-sync-signature` header must carry an
 *    allowed key (401 `missing_api_key` / `invalid_api_key`) and is checked before its body
 *    is read; a signed request (a cron call) has its body read first (413 / 415), then is
 *    accepted on an allowed key or a valid signature over those exact bytes (401
 *    `invalid_signature` / `stale_signature`, 500 `misconfigured` without a secret);
 * 5. parses the JSON body with the function's zod schema (400);
 * 6. calls `handle`, and turns anything thrown on the way into the one error body
 *    (`errorResponse`: `{ error, message, request_id, details? }`, secrets redacted; an
 *    unknown error is a 500 `internal_error` pointing at the logs). A refused request
 *    (an `HttpError` below 500) also logs one `request_failed` warning, with the run id once
 *    the run has one.
 *
 * @module
 */

import type { z } from "zod";
import { authorize, hasAllowedKey } from "./auth.ts";
import { type Clock, systemClock } from "../platform/clock.ts";
import { type CpuMeter, createCpuMeter } from "../platform/cpu_meter.ts";
import { errorResponse, HttpError } from "./response.ts";
import { SIGNATURE_HEADER, verifyInvocationSignature } from "./invocation_signature.ts";
import { createLogger, type Logger } from "../platform/logger.ts";
import {
  parseJsonBody,
  readBodyBytes,
  readJsonBody,
  requestIdOf,
  requireMethod,
} from "./request.ts";

/** The dependencies every function's handler takes (each adds its own). */
export interface BaseHandlerDeps {
  /** Keys a caller may present. */
  allowedKeys: readonly string[];
  /** Secrets a signed (cron) call may be signed with, current first. Default none. */
  invokeSecrets?: readonly string[];
  /** Request and failure logs. */
  logger: Logger;
  /** Default system clock. */
  clock?: Clock;
  /** Run ids when the body has none. Default `crypto.randomUUID()`. */
  newRunId?: () => string;
  /** Secret values to redact from response bodies (the logger redacts its own). */
  secrets?: readonly string[];
  /** Makes the request's CPU meter. Default {@link createCpuMeter}. */
  cpuMeter?: () => CpuMeter;
  /**
   * CPU (ms) a function lets its process use before it starts no more work
   * (`EDGE_CPU_BUDGET_MS`). Default {@link DEFAULT_CPU_BUDGET_MS}.
   */
  cpuBudgetMs?: number;
}

/** The CPU budget when none is configured: hosted Supabase kills a function at 2000 ms. */
export const DEFAULT_CPU_BUDGET_MS = 1_500;

/** Dependencies resolved per request, e.g. `{ getDeps: () => getRuntime(FUNCTION_NAME) }`. */
export interface LazyHandlerDeps<D> {
  /** Returns (or throws `ConfigError`) the dependencies; called on every request. */
  getDeps(): D | Promise<D>;
  /** Logs requests that fail before `getDeps` succeeds. Default: a plain JSON logger. */
  logger?: Logger;
}

/** What `handle` gets: the checked request and everything resolved for it. */
export interface HandleContext<D extends BaseHandlerDeps, B> {
  /** The request (its body already read). */
  req: Request;
  /** The parsed body. */
  body: B;
  /** The resolved dependencies. */
  deps: D;
  /** The request id, in every log line and error body. */
  requestId: string;
  /** `deps.clock`, or the system clock. */
  clock: Clock;
  /** `deps.secrets`, or none. */
  secrets: readonly string[];
  /** The CPU the function's process has used (see `cpu_meter.ts`). */
  cpu: CpuMeter;
  /** `deps.cpuBudgetMs`, or {@link DEFAULT_CPU_BUDGET_MS}. */
  cpuBudgetMs: number;
  /**
   * Starts the run: its id is `runId` (the body's `run_id`) when given, else
   * `deps.newRunId()`, else a random UUID. Returns that id and `deps.logger` with
   * `request_id` and `run_id` on every line; a later `request_failed` line names the run.
   */
  startRun(runId?: string): { runId: string; logger: Logger };
}

/** Options for {@link createJsonHandler}. */
export interface JsonHandlerOptions<D extends BaseHandlerDeps, B> {
  /** The function's name, the `fn` of the fallback logger. */
  fn: string;
  /** The request body's schema (see `_shared/http/body_fields.ts`). */
  schema: z.ZodType<B, z.ZodTypeDef, unknown>;
  /** The dependencies, or `{ getDeps }` to resolve them per request. */
  source: D | LazyHandlerDeps<D>;
  /** The function's work, once the request passed every check. */
  handle(context: HandleContext<D, B>): Promise<Response>;
}

/**
 * Creates a `POST`-only JSON request handler around `options.handle` (see the module docs
 * for the checks it makes and how it answers errors).
 *
 * @example
 * export function createHandler(source: HandlerDeps | LazyHandlerDeps<HandlerDeps>) {
 *   return createJsonHandler({
 *     fn: "daily-refresh",
 *     schema: dailyRefreshBodySchema,
 *     source,
 *     handle: async ({ body, startRun }) => {
 *       const { runId, logger } = startRun(body.run_id);
 *       logger.info("daily_refresh_run", { limit: body.limit });
 *       return jsonResponse({ run_id: runId });
 *     },
 *   });
 * }
 */
export function createJsonHandler<D extends BaseHandlerDeps, B>(
  options: JsonHandlerOptions<D, B>,
): (req: Request) => Promise<Response> {
  const { fn, schema, source, handle } = options;
  const fallbackLogger = source.logger ?? createLogger({ fn });

  return async (req: Request): Promise<Response> => {
    const requestId = requestIdOf(req);
    let deps: D | undefined;
    let runId: string | undefined;
    try {
      requireMethod(req, ["POST"]);
      deps = "getDeps" in source ? await source.getDeps() : source;
      const resolved = deps;
      const signature = req.headers.get(SIGNATURE_HEADER);
      let body: B;
      if (signature === null) {
        authorize(req, resolved.allowedKeys);
        body = await readJsonBody(req, schema);
      } else {
        const bytes = await readBodyBytes(req);
        if (!hasAllowedKey(req, resolved.allowedKeys)) {
          verifyInvocationSignature(signature, {
            functionName: fn,
            body: bytes,
            secrets: resolved.invokeSecrets ?? [],
            nowMs: (resolved.clock ?? systemClock).now(),
          });
        }
        body = parseJsonBody(bytes, schema);
      }
      return await handle({
        req,
        body,
        deps: resolved,
        requestId,
        clock: resolved.clock ?? systemClock,
        secrets: resolved.secrets ?? [],
        cpu: (resolved.cpuMeter ?? createCpuMeter)(),
        cpuBudgetMs: resolved.cpuBudgetMs ?? DEFAULT_CPU_BUDGET_MS,
        startRun(bodyRunId) {
          runId = bodyRunId ?? resolved.newRunId?.() ?? crypto.randomUUID();
          return {
            runId,
            logger: resolved.logger.child({ request_id: requestId, run_id: runId }),
          };
        },
      });
    } catch (error) {
      const logger = deps?.logger ?? fallbackLogger;
      const res = errorResponse(error, { requestId, logger, secrets: deps?.secrets ?? [] });
      if (error instanceof HttpError && error.status < 500) {
        logger.warn("request_failed", {
          request_id: requestId,
          ...(runId ? { run_id: runId } : {}),
          method: req.method,
          status: res.status,
          error: error.code,
          message: error.message,
        });
      }
      return res;
    }
  };
}

/**
 * A function's `createHandler`: its name, body schema and work, behind the checks of
 * {@link createJsonHandler}. The handler takes its dependencies directly (tests) or as
 * `{ getDeps }` (production: a configuration error is then a 500 `misconfigured` answer,
 * not a crash at start-up).
 *
 * @example
 * export const createHandler = defineHandler({ fn: "daily-refresh", schema, handle: refresh });
 */
export function defineHandler<D extends BaseHandlerDeps, B>(
  spec: Omit<JsonHandlerOptions<D, B>, "source">,
): (source: D | LazyHandlerDeps<D>) => (req: Request) => Promise<Response> {
  return (source) => createJsonHandler({ ...spec, source });
}
