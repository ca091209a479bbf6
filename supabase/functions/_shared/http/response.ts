/**
 * The answers of every function: one error type ({@link HttpError}, and {@link RunError} for
 * a run that fails after doing work), and one responder ({@link errorResponse}) that turns
 * any thrown value into a JSON error body.
 *
 * Every error body is `{ error, message, request_id, details? }` where `error` is a
 * snake_case code (`invalid_body`, `missing_api_key`, …). An error that is not an
 * {@link HttpError} (a bug, a database outage) becomes a 500 `internal_error` whose message
 * only points at the logs by request id; the exception itself is logged with secrets
 * redacted and never echoed to the caller.
 *
 * @module
 */

import { ConfigError } from "../platform/config.ts";
import { type Logger } from "../platform/logger.ts";
import { redact, redactString } from "../platform/redact.ts";

/** An error that maps to an HTTP status and a JSON error body. */
export class HttpError extends Error {
  override name = "HttpError";
  /** HTTP status, e.g. 400. */
  readonly status: number;
  /** snake_case machine-readable code, e.g. `invalid_body`. */
  readonly code: string;
  /** Optional structured details for the body (must hold no secret). */
  readonly details?: unknown;
  /** Extra response headers, e.g. `Allow` on a 405. */
  readonly headers?: Record<string, string>;

  /** Creates an error answered as `status` with body `{ error: code, message, … }`. */
  constructor(
    status: number,
    code: string,
    message: string,
    options: { details?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
    if (options.headers !== undefined) this.headers = options.headers;
  }
}

/**
 * A run that failed after doing work: answered like any {@link HttpError}, with the run's
 * summary beside `error`, `message` and `request_id` (the summary's own fields never
 * replace those three). The handler has logged the run's line already, so
 * {@link errorResponse} does not log it again.
 */
export class RunError extends HttpError {
  override name = "RunError";
  /** The run's summary (must hold no secret; it is redacted anyway). */
  readonly summary: Record<string, unknown>;

  /** Creates the error of a run that answers `status` with `summary` in its body. */
  constructor(status: number, code: string, message: string, summary: object) {
    super(status, code, message);
    this.summary = summary as Record<string, unknown>;
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  /** snake_case code. */
  error: string;
  /** What went wrong, for a human. */
  message: string;
  /** The request id, to find the request's log lines. */
  request_id: string;
  /** Structured details, when there are any. */
  details?: unknown;
}

/** A JSON response (`content-type: application/json; charset=utf-8`, default status 200). */
export function jsonResponse(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body), { ...init, headers });
}

/** Options for {@link errorResponse}. */
export interface ErrorResponseOptions {
  /** The request id to put in the body and the log line. */
  requestId: string;
  /** Where unexpected errors (and 5xx `HttpError`s) are logged. */
  logger?: Logger;
  /** Secret values to remove from every message and logged field. */
  secrets?: readonly string[];
}

/**
 * Turns `error` into a JSON error response:
 * - {@link HttpError} → its status, code, message (secret values redacted) and details, and
 *   a {@link RunError}'s summary;
 * - {@link ConfigError} → 500 `misconfigured`, naming each bad variable and how to set it;
 * - anything else → 500 `internal_error` pointing at the logs by request id. The error is
 *   logged (event `unhandled_error`) with secrets redacted; its text is never in the body.
 */
export function errorResponse(error: unknown, options: ErrorResponseOptions): Response {
  const { requestId, logger, secrets = [] } = options;
  if (error instanceof HttpError) {
    if (error.status >= 500 && !(error instanceof RunError)) {
      logger?.error("http_error", {
        request_id: requestId,
        status: error.status,
        error: error.code,
        message: error.message,
      });
    }
    const body: ErrorBody = {
      error: error.code,
      message: redactString(error.message, secrets),
      request_id: requestId,
    };
    if (error.details !== undefined) body.details = redact(error.details, secrets);
    const summary = error instanceof RunError
      ? redact(error.summary, secrets) as Record<string, unknown>
      : {};
    return jsonResponse({ ...summary, ...body }, { status: error.status, headers: error.headers });
  }
  if (error instanceof ConfigError) {
    logger?.error("misconfigured", {
      request_id: requestId,
      message: error.message,
      variables: error.problems.map((p) => p.variable),
    });
    const body: ErrorBody = {
      error: "misconfigured",
      message: redactString(error.message, secrets),
      request_id: requestId,
    };
    return jsonResponse(body, { status: 500 });
  }
  logger?.error("unhandled_error", {
    request_id: requestId,
    error: redact(error instanceof Error ? error : { value: String(error) }, secrets),
  });
  const body: ErrorBody = {
    error: "internal_error",
    message: `Internal error while handling the request; see the function logs for ` +
      `request_id ${requestId}`,
    request_id: requestId,
  };
  return jsonResponse(body, { status: 500 });
}
