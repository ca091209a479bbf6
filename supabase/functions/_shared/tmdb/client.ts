/**
 * The TMDB v3 client: every call goes through one process-wide rate limiter, is retried on
 * 429 / 5xx / network errors / timeouts with capped exponential backoff (or `Retry-After`),
 * is read under the payload policy (`tmdb_schemas.ts`), and leaves one {@link ApiLogRow} per
 * HTTP attempt. Movie details come back as text: Postgres parses and checks them.
 *
 * Decisions:
 * - **Malformed 200 bodies are not retried.** A list or change-feed page that is not JSON
 *   fails at once with kind `invalid_response` (its fields never fail it: see the policy).
 *   Such a body comes from something between us and TMDB; retrying within one request does
 *   not fix it, and the job queue retries the work later anyway. (A body cut off
 *   mid-transfer fails while reading and counts as a retryable `network` error.)
 * - The per-attempt timeout runs on the injected {@link Clock} rather than
 *   `AbortSignal.timeout` (which only follows real time), combined with the caller's signal
 *   through `AbortSignal.any`. With the system clock the two behave the same.
 * - `Retry-After` (429 or 503) replaces the computed backoff, capped at `retryAfterCapMs`;
 *   after a 429 the shared limiter is paused for that long so concurrent calls wait too.
 * - A caller `deadline` (epoch ms on the client's clock) is never slept past: a retry whose
 *   wait would end after it is not made, and each attempt's timeout is cut to fit it.
 * - The secret (token or api key) goes only into the `Authorization` header or the URL
 *   handed to `fetch`. Log rows hold the endpoint template and the other query params;
 *   error text is built from the path and redacted, and the underlying error is not
 *   attached as `cause` (Deno's fetch errors quote the full URL).
 *
 * @module
 */

import type { z } from "zod";
import { type ApiLogRow, type ApiLogSink, nullApiLogSink } from "./api_log.ts";
import { backoffDelay, parseRetryAfter } from "../platform/backoff.ts";
import { type Clock, systemClock } from "../platform/clock.ts";
import { redactString } from "../platform/redact.ts";
import { MAX_CHANGES_DAYS, MAX_PAGE } from "./limits.ts";
import {
  createRateLimiter,
  DEFAULT_MAX_CONCURRENT,
  DEFAULT_REQUESTS_PER_SECOND,
  type RateLimiter,
  sharedRateLimiter,
} from "./rate_limiter.ts";
import {
  appendToResponse,
  CHANGES_PAGE_RULES,
  MOVIE_APPEND_PARTS,
  MOVIE_PAGE_RULES,
  readIdPage,
  tmdbErrorBodySchema,
  type TmdbIdPage,
} from "./schemas.ts";

/** What went wrong with a TMDB call. */
export type TmdbErrorKind =
  | "not_found"
  | "unauthorized"
  | "rate_limited"
  | "server_error"
  | "network"
  | "timeout"
  | "invalid_response"
  | "bad_request";

/** The fields of a {@link TmdbError}. */
export interface TmdbErrorFields {
  /** What went wrong. */
  kind: TmdbErrorKind;
  /** HTTP status of the last attempt, or `null` if no response arrived. */
  httpStatus: number | null;
  /** TMDB's `status_code` (e.g. 34 not found, 25 rate limited, 7 invalid key). */
  statusCode: number | null;
  /** TMDB's `status_message`. */
  statusMessage: string | null;
  /** Path template without query, e.g. `/movie/{id}` or `/movie/popular`. */
  endpoint: string;
  /** HTTP attempts made. */
  attempts: number;
  /** Whether trying again later may succeed (429, 5xx, network, timeout). */
  retryable: boolean;
  /** The movie the call was about, if any. */
  tmdbId: number | null;
}

/** The one error type the client throws for a failed TMDB call. Its text never holds a secret. */
export class TmdbError extends Error implements TmdbErrorFields {
  override name = "TmdbError";
  /** What went wrong. */
  readonly kind: TmdbErrorKind;
  /** HTTP status of the last attempt, or `null` if no response arrived. */
  readonly httpStatus: number | null;
  /** TMDB's `status_code`. */
  readonly statusCode: number | null;
  /** TMDB's `status_message`. */
  readonly statusMessage: string | null;
  /** Path template without query, e.g. `/movie/{id}`. */
  readonly endpoint: string;
  /** HTTP attempts made. */
  readonly attempts: number;
  /** Whether trying again later may succeed. */
  readonly retryable: boolean;
  /** The movie the call was about, if any. */
  readonly tmdbId: number | null;

  /** Creates an error; `message` must already be free of secrets. */
  constructor(message: string, fields: TmdbErrorFields) {
    super(message);
    this.kind = fields.kind;
    this.httpStatus = fields.httpStatus;
    this.statusCode = fields.statusCode;
    this.statusMessage = fields.statusMessage;
    this.endpoint = fields.endpoint;
    this.attempts = fields.attempts;
    this.retryable = fields.retryable;
    this.tmdbId = fields.tmdbId;
  }
}

/** Per-call options. */
export interface TmdbRequestOptions {
  /** Aborts the call (waiting, the request, or a backoff); it rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Epoch ms (client clock) after which no retry starts and no attempt runs on. */
  deadline?: number;
}

/** The lists {@link TmdbClient.movieList} reads. */
export type TmdbMovieList = "now_playing" | "popular" | "trending_day" | "trending_week";

/** Access to the TMDB endpoints this project uses. */
export interface TmdbClient {
  /**
   * One request: `/movie/{id}?append_to_response=credits,videos,release_dates,external_ids,keywords`.
   * Resolves with the 200 response's TEXT, unparsed: Postgres parses and checks it
   * (`public.ingest_tmdb_responses`), which keeps that work off the function's CPU budget.
   * Throws {@link TmdbError} (kind `not_found` for a deleted or unknown id).
   */
  movieDetailsText(tmdbId: number, opts?: TmdbRequestOptions): Promise<string>;
  /** A page (1–500) of `/movie/now_playing`, `/movie/popular` or `/trending/movie/{day|week}`. */
  movieList(list: TmdbMovieList, page: number, opts?: TmdbRequestOptions): Promise<TmdbIdPage>;
  /** A page of `/movie/changes` for `startDate`..`endDate` (`YYYY-MM-DD`, at most 14 days). */
  movieChanges(
    q: { startDate: string; endDate: string; page: number },
    opts?: TmdbRequestOptions,
  ): Promise<TmdbIdPage>;
  /** Writes pending API-log rows. Never rejects. */
  flushLogs(): Promise<void>;
}

/** Options for {@link createTmdbClient}. Exactly one of `accessToken` / `apiKey`. */
export interface TmdbClientOptions {
  /** e.g. `"https://api.themoviedb.org/3"` (a trailing slash is ignored). */
  baseUrl: string;
  /** v4 API Read Access Token, sent as `Authorization: Bearer …` (preferred). */
  accessToken?: string;
  /** v3 api key, sent as `?api_key=`; never logged, never in an error. */
  apiKey?: string;
  /** Default 40. Only used when the client creates its limiter. */
  requestsPerSecond?: number;
  /** Default 20. Only used when the client creates its limiter. */
  maxConcurrent?: number;
  /** HTTP attempts per call, default 4 (1 + 3 retries). */
  maxAttempts?: number;
  /** Per-attempt timeout (headers and body), default 10 000 ms. */
  timeoutMs?: number;
  /** Backoff before retry n: equal jitter over `min(capMs, baseMs·2^(n-1))`. Default 500 / 8 000. */
  backoff?: { baseMs: number; capMs: number };
  /** Longest `Retry-After` honoured, default 60 000 ms. */
  retryAfterCapMs?: number;
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Default {@link systemClock}. */
  clock?: Clock;
  /** Jitter source, default `Math.random`. */
  random?: () => number;
  /**
   * Shared gate for all requests. Default: with the system clock, the process-wide
   * limiter for `baseUrl` (see {@link sharedRateLimiter}); with an injected clock, a new
   * limiter on that clock.
   */
  limiter?: RateLimiter;
  /** Receives one row per HTTP attempt. Default: discarded. */
  logSink?: ApiLogSink;
  /** Name of the calling function, for the log rows. */
  callerName: string;
  /** Id of the current run, for the log rows. */
  runId: string;
}

const DEFAULT_MAX_ATTEMPTS = 4;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_BACKOFF = { baseMs: 500, capMs: 8_000 };
const DEFAULT_RETRY_AFTER_CAP_MS = 60_000;

const LIST_PATHS: Record<TmdbMovieList, string> = {
  now_playing: "/movie/now_playing",
  popular: "/movie/popular",
  trending_day: "/trending/movie/day",
  trending_week: "/trending/movie/week",
};

function checkInteger(name: string, value: number, min: number, max = Infinity): number {
  if (!(Number.isInteger(value) && value >= min && value <= max)) {
    const range = max === Infinity ? `>= ${min}` : `between ${min} and ${max}`;
    throw new RangeError(`\`${name}\` must be an integer ${range}: current value is ${value}`);
  }
  return value;
}

function checkPositive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new RangeError(`\`${name}\` must be a positive number: current value is ${value}`);
  }
  return value;
}

function checkDate(name: string, value: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) {
    throw new RangeError(
      `\`${name}\` must be a date YYYY-MM-DD: current value is ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

interface RequestSpec<T> {
  /** Concrete path, e.g. `/movie/550`. */
  path: string;
  /** Template for logs and errors, e.g. `/movie/{id}`. */
  endpoint: string;
  /** Non-secret query params. */
  params: Record<string, string>;
  /** Turns a 200 body into the value; throwing makes the answer an `invalid_response`. */
  read: (text: string) => T;
  tmdbId: number | null;
}

/** Outcome of one attempt that did not succeed. */
interface Failure {
  kind: TmdbErrorKind;
  httpStatus: number | null;
  statusCode: number | null;
  statusMessage: string | null;
  retryable: boolean;
  /** Human-readable detail, secrets not yet redacted. */
  detail: string;
  /** From `Retry-After`, in ms. */
  retryAfterMs: number | null;
}

/** A 200 whose body cannot be used: not retried (see the module docs). */
function invalidResponse(httpStatus: number | null, detail: string): Failure {
  return {
    kind: "invalid_response",
    httpStatus,
    statusCode: null,
    statusMessage: null,
    retryable: false,
    detail,
    retryAfterMs: null,
  };
}

function kindForStatus(status: number, statusCode: number | null): TmdbErrorKind {
  if (status === 404 || statusCode === 34) return "not_found";
  if (status === 429 || statusCode === 25) return "rate_limited";
  if (status === 401 || status === 403 || statusCode === 7) return "unauthorized";
  if (status >= 500) return "server_error";
  return "bad_request";
}

/**
 * What a failed fetch says, with its causes (Deno's `TypeError: fetch failed` alone does not
 * say why; the cause does, e.g. `Connection refused (os error 111)`), followed by the TMDB
 * origin that was tried, so a wrong `TMDB_BASE_URL` is recognisable. Deno's messages quote
 * the full URL, query string included: every URL is cut out.
 */
function networkDetail(error: unknown, origin: string): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    parts.push(
      current instanceof Error
        ? depth === 0 ? `${current.name}: ${current.message}` : current.message
        : String(current),
    );
    current = current instanceof Error ? current.cause : undefined;
  }
  const text = parts.join(": ")
    .replace(/ for url \([^)]*\)/g, "")
    .replace(/https?:\/\/[^\s)]+/g, "<url>");
  return `${text} (TMDB at ${origin})`;
}

/** The reason the per-attempt timer is cancelled with (a constant: no error object per call). */
const ATTEMPT_DONE = Symbol("attempt done");

/**
 * Failure kinds that say TMDB (or the way to it) is down or overloaded, not that the request
 * is wrong: the client retries them, and a run counts them as an outage once the retries
 * are spent (`outage.ts`).
 */
export const RETRYABLE_KINDS: ReadonlySet<TmdbErrorKind> = new Set([
  "rate_limited",
  "server_error",
  "network",
  "timeout",
]);

/**
 * Creates a {@link TmdbClient}. Throws if the options are invalid, e.g. when neither (or
 * both) of `accessToken` / `apiKey` is set.
 */
export function createTmdbClient(options: TmdbClientOptions): TmdbClient {
  const accessToken = options.accessToken || undefined;
  const apiKey = options.apiKey || undefined;
  if (accessToken === undefined && apiKey === undefined) {
    throw new Error(
      "TMDB credentials are missing: set TMDB_API_TOKEN to the TMDB API Read Access Token " +
        "(themoviedb.org → Settings → API), e.g. `supabase secrets set TMDB_API_TOKEN=…`, " +
        "and pass it as `accessToken`",
    );
  }
  if (accessToken !== undefined && apiKey !== undefined) {
    throw new Error(
      "TMDB credentials are ambiguous: pass exactly one of `accessToken` (TMDB_API_TOKEN) " +
        "and `apiKey`, not both",
    );
  }
  let baseUrl: URL;
  try {
    baseUrl = new URL(options.baseUrl.replace(/\/+$/, ""));
  } catch {
    throw new TypeError(`\`baseUrl\` must be an absolute URL: current value is ${options.baseUrl}`);
  }
  const base = baseUrl.href.replace(/\/+$/, "");
  /** Where TMDB is expected (scheme, host, port; never a path, query or credentials). */
  const origin = `${baseUrl.protocol}//${baseUrl.host}`;
  if (!options.callerName) throw new TypeError("`callerName` must be a non-empty string");
  if (!options.runId) throw new TypeError("`runId` must be a non-empty string");

  const maxAttempts = checkInteger("maxAttempts", options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, 1);
  const timeoutMs = checkPositive("timeoutMs", options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const retryAfterCapMs = checkPositive(
    "retryAfterCapMs",
    options.retryAfterCapMs ?? DEFAULT_RETRY_AFTER_CAP_MS,
  );
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  backoffDelay(1, backoff); // validates baseMs / capMs up front
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const limiterOptions = {
    requestsPerSecond: options.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND,
    maxConcurrent: options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT,
  };
  const limiter = options.limiter ??
    (clock === systemClock
      ? sharedRateLimiter(base, limiterOptions)
      : createRateLimiter({ ...limiterOptions, clock }));
  const logSink = options.logSink ?? nullApiLogSink;
  const secrets = [accessToken, apiKey].filter((s): s is string => s !== undefined);

  /** Text meant for errors or logs, without the credentials (platform/redact.ts). */
  const redact = (text: string): string => redactString(text, secrets);

  const headers: Record<string, string> = { accept: "application/json" };
  if (accessToken !== undefined) headers.authorization = `Bearer ${accessToken}`;

  const urlFor = (spec: RequestSpec<unknown>): string => {
    const url = new URL(base + spec.path);
    for (const [k, v] of Object.entries(spec.params)) url.searchParams.set(k, v);
    if (apiKey !== undefined) url.searchParams.set("api_key", apiKey);
    return url.href;
  };

  /** `TMDB GET /movie/changes?start_date=…&page=2` (append_to_response left out: it is long). */
  const describeCall = (spec: RequestSpec<unknown>) => {
    const query = new URLSearchParams(
      Object.entries(spec.params).filter(([k]) => k !== "append_to_response"),
    ).toString();
    return `TMDB GET ${spec.path}${query === "" ? "" : `?${query}`}`;
  };

  const log = (
    spec: RequestSpec<unknown>,
    attempt: number,
    startedAt: number,
    httpStatus: number | null,
    tmdbStatusCode: number | null,
    error: string | null,
  ) => {
    const row: ApiLogRow = {
      created_at: new Date(startedAt).toISOString(),
      function_name: options.callerName,
      run_id: options.runId,
      method: "GET",
      endpoint: spec.endpoint,
      params: { ...spec.params },
      http_status: httpStatus,
      tmdb_status_code: tmdbStatusCode,
      duration_ms: Math.max(0, Math.round(clock.now() - startedAt)),
      attempt,
      error: error === null ? null : redact(error),
      tmdb_id: spec.tmdbId,
    };
    try {
      logSink.add(row);
    } catch {
      // Logging must never fail a request.
    }
  };

  /** One HTTP attempt. Returns the parsed value or a failure; rethrows a caller abort. */
  const attemptOnce = async <T>(
    spec: RequestSpec<T>,
    attempt: number,
    attemptTimeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ ok: true; value: T } | { ok: false; failure: Failure }> => {
    const release = await limiter.acquire(signal);
    const startedAt = clock.now();
    const timer = new AbortController();
    // One controller aborts the request, on the attempt's timeout or the caller's signal
    // (linked by hand: AbortSignal.any costs more, and this runs once per movie).
    const timeout = new AbortController();
    clock.sleep(attemptTimeoutMs, timer.signal).then(
      () => timeout.abort(new DOMException("attempt timed out", "TimeoutError")),
      () => {}, // attempt finished first
    );
    const onCallerAbort = () => timeout.abort(signal!.reason);
    signal?.addEventListener("abort", onCallerAbort, { once: true });
    const combined = timeout.signal;
    let status: number | null = null;
    let failure: Failure | null = null;
    let abortedByCaller = false;
    try {
      let response: Response;
      let text: string;
      try {
        response = await doFetch(urlFor(spec), { method: "GET", headers, signal: combined });
        status = response.status;
        text = await response.text();
      } catch (error) {
        if (signal?.aborted) {
          abortedByCaller = true;
          throw signal.reason;
        }
        failure = timeout.signal.aborted
          ? {
            kind: "timeout",
            httpStatus: status,
            statusCode: null,
            statusMessage: null,
            retryable: true,
            detail: `no complete response within ${attemptTimeoutMs} ms`,
            retryAfterMs: null,
          }
          : {
            kind: "network",
            httpStatus: status,
            statusCode: null,
            statusMessage: null,
            retryable: true,
            detail: networkDetail(error, origin),
            retryAfterMs: null,
          };
        return { ok: false, failure };
      }

      if (response.ok) {
        try {
          return { ok: true, value: spec.read(text) };
        } catch (error) {
          const snippet = JSON.stringify(text.slice(0, 120));
          failure = invalidResponse(
            status,
            `HTTP ${status} body is not JSON (${
              error instanceof Error ? error.message : String(error)
            }); body starts ${snippet}`,
          );
          return { ok: false, failure };
        }
      }

      let body: z.infer<typeof tmdbErrorBodySchema> | null = null;
      try {
        const parsed = tmdbErrorBodySchema.safeParse(JSON.parse(text));
        if (parsed.success) body = parsed.data;
      } catch {
        // Not JSON (e.g. an HTML 502 page from a proxy): keep the status only.
      }
      const statusCode = body?.status_code ?? null;
      const kind = kindForStatus(response.status, statusCode);
      const retryAfterMs = kind === "rate_limited" || response.status === 503
        ? parseRetryAfter(response.headers.get("retry-after"), clock.now())
        : null;
      failure = {
        kind,
        httpStatus: status,
        statusCode,
        statusMessage: body?.status_message ?? null,
        retryable: RETRYABLE_KINDS.has(kind),
        detail: `HTTP ${response.status}` +
          (statusCode !== null
            ? ` status_code ${statusCode} ${JSON.stringify(body?.status_message ?? null)}`
            : ""),
        retryAfterMs,
      };
      return { ok: false, failure };
    } finally {
      signal?.removeEventListener("abort", onCallerAbort);
      timer.abort(ATTEMPT_DONE);
      release();
      log(
        spec,
        attempt,
        startedAt,
        status,
        failure?.statusCode ?? null,
        abortedByCaller
          ? "aborted: the caller's signal aborted the request"
          : failure
          ? `${failure.kind}: ${failure.detail}`
          : null,
      );
    }
  };

  const request = async <T>(spec: RequestSpec<T>, opts: TmdbRequestOptions = {}): Promise<T> => {
    const { signal, deadline } = opts;
    const toError = (failure: Failure, attempts: number, note = "") =>
      new TmdbError(
        redact(
          `${describeCall(spec)} failed: ${failure.kind}: ${failure.detail} ` +
            `(after ${attempts} of at most ${maxAttempts} attempts${note})`,
        ),
        {
          kind: failure.kind,
          httpStatus: failure.httpStatus,
          statusCode: failure.statusCode,
          statusMessage: failure.statusMessage === null ? null : redact(failure.statusMessage),
          endpoint: spec.endpoint,
          attempts,
          retryable: failure.retryable,
          tmdbId: spec.tmdbId,
        },
      );

    let last: Failure | null = null;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (signal?.aborted) throw signal.reason;
      let attemptTimeoutMs = timeoutMs;
      if (deadline !== undefined) {
        const left = deadline - clock.now();
        if (left <= 0) {
          const failure: Failure = last ?? {
            kind: "timeout",
            httpStatus: null,
            statusCode: null,
            statusMessage: null,
            retryable: true,
            detail: "the caller's deadline passed before the request started",
            retryAfterMs: null,
          };
          throw toError(failure, attempt - 1, "; deadline reached");
        }
        attemptTimeoutMs = Math.min(timeoutMs, left);
      }

      const outcome = await attemptOnce(spec, attempt, attemptTimeoutMs, signal);
      if (outcome.ok) return outcome.value;
      last = outcome.failure;
      if (!last.retryable || attempt === maxAttempts) throw toError(last, attempt);

      const delay = last.retryAfterMs !== null
        ? Math.min(last.retryAfterMs, retryAfterCapMs)
        : backoffDelay(attempt, { ...backoff, jitter: "equal", random });
      if (last.kind === "rate_limited") limiter.pauseUntil(clock.now() + delay);
      if (deadline !== undefined && clock.now() + delay >= deadline) {
        throw toError(last, attempt, `; not retried: a ${delay} ms wait would pass the deadline`);
      }
      await clock.sleep(delay, signal);
    }
    // Unreachable: the loop returns or throws on its last attempt.
    throw toError(last!, maxAttempts);
  };

  const appendParts = appendToResponse(MOVIE_APPEND_PARTS);
  const readText = (text: string) => text;
  const readMoviePage = (text: string) => readIdPage(JSON.parse(text), MOVIE_PAGE_RULES);
  const readChangesPage = (text: string) => readIdPage(JSON.parse(text), CHANGES_PAGE_RULES);

  return {
    async movieDetailsText(tmdbId, opts) {
      checkInteger("tmdbId", tmdbId, 1);
      return await request({
        path: `/movie/${tmdbId}`,
        endpoint: "/movie/{id}",
        params: { append_to_response: appendParts },
        read: readText,
        tmdbId,
      }, opts);
    },
    async movieList(list, page, opts) {
      const path = LIST_PATHS[list];
      if (path === undefined) {
        throw new RangeError(
          `\`list\` must be one of ${Object.keys(LIST_PATHS).join(", ")}: current value is ${
            JSON.stringify(list)
          }`,
        );
      }
      checkInteger("page", page, 1, MAX_PAGE);
      return await request({
        path,
        endpoint: path,
        params: { page: String(page) },
        read: readMoviePage,
        tmdbId: null,
      }, opts);
    },
    async movieChanges(q, opts) {
      const start = checkDate("startDate", q.startDate);
      const end = checkDate("endDate", q.endDate);
      const days = (end - start) / 86_400_000;
      if (days < 0 || days > MAX_CHANGES_DAYS) {
        throw new RangeError(
          `\`startDate\`..\`endDate\` must span 0 to ${MAX_CHANGES_DAYS} days: current value is ` +
            `${q.startDate}..${q.endDate} (${days} days)`,
        );
      }
      checkInteger("page", q.page, 1, MAX_PAGE);
      return await request({
        path: "/movie/changes",
        endpoint: "/movie/changes",
        params: { start_date: q.startDate, end_date: q.endDate, page: String(q.page) },
        read: readChangesPage,
        tmdbId: null,
      }, opts);
    },
    async flushLogs() {
      try {
        await logSink.flush();
      } catch {
        // ApiLogSink.flush() must not reject; a custom sink that does is ignored here.
      }
    },
  };
}
