/**
 * The stand-in's request pipeline: puts the parts together — the catalog (`catalog.ts`), the
 * API routes (`api.ts`), auth (`auth.ts`), the rate limit (`rate_limit.ts`), the simulated
 * clock (`time.ts`), fault injection (`faults.ts`), request stats (`stats.ts`) and the control
 * API (`control.ts`) — behind one `Deno.serve`. Import it through `server.ts`.
 *
 * Per API request: real rate limit → auth → two fault draws → latency → hang → 5xx → 429 →
 * route → malformed JSON. Export files (`files_host.ts`, `/p/exports/…`) skip all of that, as
 * TMDB's files host does.
 *
 * @module
 */

import { createApi, endpointOf } from "./api.ts";
import { createAuthorizer } from "./auth.ts";
import { type Catalog, createCatalog, DEFAULT_SEED, DEFAULT_SIZE } from "./catalog.ts";
import { createControl } from "./control.ts";
import { ExportFiles, EXPORTS_PREFIX } from "./files_host.ts";
import { type FaultConfig, Faults } from "./faults.ts";
import { pause, TMDB_ERRORS, tmdbError, toResponse } from "./http.ts";
import type { Answer } from "./http.ts";
import { rateLimitError, TokenBucket } from "./rate_limit.ts";
import { type RequestLogEntry, type StandinStats, StatsRecorder } from "./stats.ts";
import { SimClock } from "./time.ts";

/** Options of {@link startTmdbStandin}. */
export interface TmdbStandinOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind (default `127.0.0.1`). */
  hostname?: string;
  /** Catalog size (default 5000). */
  size?: number;
  /** Catalog seed (default 1). */
  seed?: number;
  /** Catalog anchor (release dates are laid out around it); default: the initial simulated now. */
  anchor?: Date | string;
  /** Mean movies added a day, as a share of `size` (default 0.0004; 0 = none). */
  additionsRate?: number;
  /** Daily deletion hazard of each movie (default 0.00008; 0 = none). */
  deletionsRate?: number;
  /** A prebuilt catalog (then `size`, `seed`, `anchor` and the rates are ignored). */
  catalog?: Catalog;
  /** Accepted `Authorization: Bearer …` token. With neither `token` nor `apiKey`, no auth. */
  token?: string;
  /** Accepted `?api_key=` value. */
  apiKey?: string;
  /** Token-bucket limit (requests/second, burst = one second's worth); null/absent = none. */
  rateLimitPerSecond?: number | null;
  /** Latency added to every API answer, ms (default 0). */
  latencyMs?: number;
  /** Base clock (default real time); the simulated now is this plus the clock offset. */
  now?: () => Date;
  /** Initial fault configuration. */
  faults?: FaultConfig;
  /**
   * Vary payloads like real TMDB (default true): see `variation.ts` for the kinds and rates,
   * seeded with the catalog's seed. False serves the catalog's payloads as built.
   */
  variation?: boolean;
  /**
   * UTC hour the day's export files are published (default 8: TMDB publishes between 07:00
   * and 08:00; before it, today's file answers 404).
   */
  exportPublishHour?: number;
  /** Called once per API or export request after it is answered (e.g. a JSON log line). */
  onRequest?: (entry: RequestLogEntry) => void;
}

/** A running stand-in. */
export interface TmdbStandin {
  /** Base URL including `/3`, e.g. `http://127.0.0.1:54329/3` (use as TMDB_BASE_URL). */
  readonly url: string;
  /** Origin without `/3` (the control API lives at `${origin}/__control/...`). */
  readonly origin: string;
  /** Bound port. */
  readonly port: number;
  /** The catalog being served. */
  readonly catalog: Catalog;
  /** Whether payloads are varied (`variation.ts`). */
  readonly variation: boolean;
  /** The daily export files (`/p/exports/…`) and their publication settings. */
  readonly exports: ExportFiles;
  /** Stops the server: pending hangs and latencies end, then connections close. Idempotent. */
  close(): Promise<void>;
  /** A snapshot of the request statistics. */
  stats(): StandinStats;
  /** Zeroes the statistics. */
  resetStats(): void;
  /** Replaces the fault configuration (validated; throws on bad values) and reseeds it. */
  setFaults(faults: FaultConfig): void;
  /** The current fault configuration. */
  faults(): FaultConfig;
  /** Changes the rate limit (null = none). */
  setRateLimit(perSecond: number | null): void;
  /** The simulated now. */
  now(): Date;
  /** Sets the simulated now (time keeps flowing from there with the base clock). */
  setNow(date: Date | string): void;
  /** Moves the simulated clock by `ms` (may be negative). */
  advance(ms: number): void;
}

/** `answer: null` = the client went away (nothing to send). */
type ApiResult = { answer: Answer | null; fault?: string; malformed?: boolean };

/** Starts the stand-in. Resolves once it is listening. */
export function startTmdbStandin(options: TmdbStandinOptions = {}): Promise<TmdbStandin> {
  const clock = new SimClock(options.now);
  const catalog = options.catalog ??
    createCatalog({
      size: options.size ?? DEFAULT_SIZE,
      seed: options.seed ?? DEFAULT_SEED,
      anchor: options.anchor ?? clock.now(),
      additionsRate: options.additionsRate,
      deletionsRate: options.deletionsRate,
    });
  const authorized = createAuthorizer({ token: options.token, apiKey: options.apiKey });
  const variation = options.variation ?? true;
  const baseLatency = options.latencyMs ?? 0;
  if (!(baseLatency >= 0)) throw new Error(`latencyMs must be ≥ 0, got ${baseLatency}`);
  const bucket = new TokenBucket(options.rateLimitPerSecond ?? null);
  const faults = new Faults(options.faults ?? {});
  const stats = new StatsRecorder();
  const route = createApi({
    catalog,
    variation,
    notFoundFault: (id) => {
      if (!faults.notFound(id)) return false;
      stats.injected("notFound");
      return true;
    },
  });
  const exports = new ExportFiles(catalog, clock, options.exportPublishHour);
  const control = createControl({ catalog, variation, clock, stats, faults, bucket, exports });
  const closing = new AbortController();

  const api = async (req: Request, url: URL, path: string): Promise<ApiResult> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return { answer: tmdbError(TMDB_ERRORS.notFound) };
    }
    const wait = bucket.take();
    if (wait > 0) {
      stats.rateLimited();
      const headers: Record<string, string> = {};
      if (faults.config.retryAfterSeconds !== null) {
        headers["retry-after"] = String(Math.max(1, Math.ceil(wait)));
      }
      return {
        answer: tmdbError(rateLimitError(bucket.perSecond), headers),
        fault: "rate-limit",
      };
    }
    if (!authorized(req, url)) return { answer: tmdbError(TMDB_ERRORS.invalidKey) };

    // Two draws per authorised request, always, so counts depend only on the request count.
    const [u, v] = faults.draw();
    // Only touch req.signal when waiting (Deno warns about its legacy abort-on-success).
    let waitSignal: AbortSignal | undefined;
    const signal = () => (waitSignal ??= AbortSignal.any([req.signal, closing.signal]));
    const gone = () => (closing.signal.aborted ? tmdbError(TMDB_ERRORS.offline) : null);
    const latency = faults.config.latencyMs ?? baseLatency;
    if (latency > 0 && !(await pause(latency, signal()))) return { answer: gone() };
    const plan = faults.plan(u, v, bucket.perSecond);
    switch (plan.kind) {
      case "hang": {
        stats.injected("hang");
        if (!(await pause(plan.ms, signal()))) return { answer: gone(), fault: "hang" };
        break;
      }
      case "5xx":
        stats.injected("error5xx");
        return { answer: plan.answer, fault: "5xx" };
      case "429":
        stats.injected("rate429");
        return { answer: plan.answer, fault: "429" };
    }
    const answer = route(path, url.searchParams, clock.nowMs());
    if (plan.kind === "malformed" && answer.status === 200) {
      stats.injected("malformedJson");
      return { answer, fault: "malformed-json", malformed: true };
    }
    return { answer };
  };

  const handler = async (req: Request): Promise<Response> => {
    const started = performance.now();
    const url = new URL(req.url);
    const rawPath = url.pathname;
    if (rawPath.startsWith("/__control/")) return await control(req, rawPath);
    if (rawPath.startsWith(EXPORTS_PREFIX)) {
      const res = exports.handle(req, rawPath);
      stats.exportRequest(res.status);
      options.onRequest?.({
        event: "request",
        method: req.method,
        path: rawPath,
        status: res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      });
      return res;
    }
    let path = rawPath === "/3" || rawPath.startsWith("/3/") ? rawPath.slice(2) : rawPath;
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
    const { endpoint, movieId } = endpointOf(path);
    stats.request(endpoint, movieId, started);
    let result: ApiResult;
    try {
      result = await api(req, url, path);
    } catch (error) {
      console.error(JSON.stringify({
        event: "error",
        path,
        message: (error as Error).message,
      }));
      result = { answer: tmdbError(TMDB_ERRORS.internal) };
    }
    const status = result.answer?.status ?? 499;
    if (result.answer) stats.answered(status);
    options.onRequest?.({
      event: "request",
      method: req.method,
      path: rawPath,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      ...(result.fault ? { fault: result.fault } : {}),
    });
    if (!result.answer) return new Response(null, { status: 499 });
    return toResponse(result.answer, result.malformed === true);
  };

  return new Promise((resolve, reject) => {
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({
        port: options.port ?? 0,
        hostname: options.hostname ?? "127.0.0.1",
        onListen: (addr) => {
          const host = addr.hostname === "0.0.0.0" || addr.hostname === "::"
            ? "127.0.0.1"
            : addr.hostname.includes(":")
            ? `[${addr.hostname}]`
            : addr.hostname;
          const origin = `http://${host}:${addr.port}`;
          let closed: Promise<void> | null = null;
          resolve({
            url: `${origin}/3`,
            origin,
            port: addr.port,
            catalog,
            variation,
            exports,
            close: () => {
              closed ??= (async () => {
                closing.abort();
                await server.shutdown();
                await server.finished;
              })();
              return closed;
            },
            stats: () => stats.snapshot(clock.now()),
            resetStats: () => stats.reset(),
            setFaults: (f) => faults.set(f),
            faults: () => structuredClone(faults.config),
            setRateLimit: (perSecond) => bucket.set(perSecond),
            now: () => clock.now(),
            setNow: (date) => clock.setNow(date),
            advance: (ms) => clock.advance(ms),
          });
        },
      }, handler);
    } catch (error) {
      reject(error);
    }
  });
}
