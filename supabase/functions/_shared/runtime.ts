/**
 * The real dependencies of a function, built from `Deno.env` once per process (one
 * isolate): config, Postgres pool, logger, clock, allowed API keys, TMDB clients and the
 * catalog store. Handlers never import this module; `index.ts` hands its {@link getRuntime}
 * to the handler.
 *
 * Importing this module has no side effects. A configuration problem is thrown as a
 * `ConfigError` from {@link getRuntime} on each request (the handler answers 500
 * `misconfigured` naming the variable), so a missing secret never causes a crash loop.
 * Only a successful build is cached: fixing a secret takes effect on the next process
 * without any other change, and a retry in the same process re-reads the environment.
 *
 * @module
 */

import { createBatchedApiLogSink, createPostgresApiLogWriter } from "./tmdb/api_log.ts";
import { allowedKeysFromConfig } from "./http/auth.ts";
import { type CatalogStore, createPostgresCatalogStore } from "./store/catalog.ts";
import { type Clock, systemClock } from "./platform/clock.ts";
import { type Config, type EnvSource, loadConfig, secretValuesFromEnv } from "./platform/config.ts";
import { createSql } from "./platform/db.ts";
import { createPostgresExportImportStore, type ExportImportStore } from "./store/export_imports.ts";
import {
  createBucketRateLimiter,
  createPostgresTokenBucket,
  tokenBatchFor,
} from "./tmdb/shared_rate_limiter.ts";
import { createPostgresIngestionRunStore, type IngestionRunStore } from "./store/ingestion_runs.ts";
import { createLogger, type Logger, type LoggerOptions } from "./platform/logger.ts";
import {
  createPostgresRefreshQueue,
  type RefreshQueue,
  type WorkerQueue,
} from "./store/refresh_queue.ts";
import { createTmdbClient, type TmdbClient } from "./tmdb/client.ts";
import type postgres from "postgres";

/** Everything a function needs at run time. */
export interface Runtime {
  /** The checked configuration. */
  config: Config;
  /** The function's Postgres pool (lazy: connects on first query). */
  sql: postgres.Sql;
  /** JSON-lines logger that redacts every configured secret. */
  logger: Logger;
  /** The system clock. */
  clock: Clock;
  /** Keys a caller may present (service-role + secret keys). */
  allowedKeys: string[];
  /** Secrets a signed cron call may be signed with (`config.invokeSecrets`). */
  invokeSecrets: string[];
  /** CPU a long run lets its process use before it starts no more work (`config.cpuBudgetMs`). */
  cpuBudgetMs: number;
  /** Secret values, for redaction in error responses. */
  secrets: string[];
  /**
   * A TMDB client for one run: API log rows go to `public.tmdb_api_logs` in batches
   * (call `flushLogs()` before answering). All clients share the process-wide rate limiter.
   */
  tmdbFor(runId: string): TmdbClient;
  /** The catalog store over `sql`. */
  store: CatalogStore;
  /** The ingestion-run log and freshness check over `sql` (scheduled-ingest). */
  runs: IngestionRunStore;
  /** The refresh queue and changes-feed state over `sql` (daily-refresh, refresh-worker). */
  queue: RefreshQueue & WorkerQueue;
  /** The export imports and their staging over `sql` (discover-movies). */
  imports: ExportImportStore;
  /** Where TMDB's daily id exports are (`config.tmdb.exportsBaseUrl`). */
  exportsBaseUrl: string;
}

/** Options for {@link getRuntime} (tests only; production uses the defaults). */
export interface GetRuntimeOptions {
  /** Environment. Default `Deno.env`. */
  env?: EnvSource;
}

const cache = new Map<string, Runtime>();

/** Builds a {@link Runtime} from `env` without caching. Throws `ConfigError`. */
export function buildRuntime(fnName: string, env: EnvSource): Runtime {
  const config = loadConfig(env);
  const logger = createLogger({ fn: fnName, secrets: config.secrets });
  const sql = createSql(config.supabaseDbUrl, { max: 4, applicationName: fnName });
  const writeLogs = createPostgresApiLogWriter(sql);
  // One limiter per process over the TMDB token bucket every process shares (migration 027).
  const tmdbLimiter = createBucketRateLimiter(createPostgresTokenBucket(sql), {
    batch: tokenBatchFor(config.tmdb.requestsPerSecond),
    maxConcurrent: config.tmdb.maxConcurrent,
    onError: (error) =>
      logger.error("tmdb_rate_limit_unavailable", {
        error: error instanceof Error ? error.message : String(error),
      }),
  });
  const tmdbCredentials = config.tmdb.accessToken !== undefined
    ? { accessToken: config.tmdb.accessToken }
    : { apiKey: config.tmdb.apiKey };
  return {
    config,
    sql,
    logger,
    clock: systemClock,
    allowedKeys: allowedKeysFromConfig(config),
    invokeSecrets: config.invokeSecrets,
    cpuBudgetMs: config.cpuBudgetMs,
    secrets: config.secrets,
    store: createPostgresCatalogStore(sql),
    runs: createPostgresIngestionRunStore(sql),
    queue: createPostgresRefreshQueue(sql),
    imports: createPostgresExportImportStore(sql),
    exportsBaseUrl: config.tmdb.exportsBaseUrl,
    tmdbFor(runId: string): TmdbClient {
      return createTmdbClient({
        baseUrl: config.tmdb.baseUrl,
        ...tmdbCredentials,
        limiter: tmdbLimiter,
        maxAttempts: config.tmdb.maxAttempts,
        timeoutMs: config.tmdb.timeoutMs,
        clock: systemClock,
        callerName: fnName,
        runId,
        logSink: createBatchedApiLogSink({
          write: writeLogs,
          batchSize: 100,
          logger: {
            error: (entry) => logger.error("tmdb_api_logs_write_failed", entry),
          },
        }),
      });
    },
  };
}

/**
 * The process-wide {@link Runtime} of function `fnName`, built on first success and cached.
 * Throws `ConfigError` (never at import time) while the configuration is invalid.
 */
export function getRuntime(fnName: string, options: GetRuntimeOptions = {}): Runtime {
  const cached = cache.get(fnName);
  if (cached) return cached;
  const runtime = buildRuntime(fnName, options.env ?? Deno.env);
  cache.set(fnName, runtime);
  return runtime;
}

/**
 * A logger for errors that happen before (or instead of) {@link getRuntime} succeeding,
 * e.g. a misconfiguration. It redacts whatever secret variables are set. Never throws.
 */
export function bootstrapLogger(
  fnName: string,
  options: GetRuntimeOptions & Pick<LoggerOptions, "write"> = {},
): Logger {
  let env: EnvSource;
  try {
    env = options.env ?? Deno.env;
  } catch {
    env = { get: () => undefined };
  }
  return createLogger({ fn: fnName, secrets: secretValuesFromEnv(env), write: options.write });
}
