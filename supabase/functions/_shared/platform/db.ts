/**
 * The Postgres connection pool of a function (postgres.js).
 *
 * Supabase's transaction pooler (Supavisor, port 6543) hands each transaction to any server
 * connection, so named prepared statements would be missing on the next one: with that
 * port, `prepare: false`. The direct connection (`SUPABASE_DB_URL`, port 5432) keeps
 * prepared statements. Connections are opened lazily on the first query.
 *
 * @module
 */

import postgres from "postgres";
import type { z } from "zod";
import { describeIssues } from "./zod_issues.ts";

/** Port of Supabase's transaction pooler. */
export const TRANSACTION_POOLER_PORT = "6543";

/** Options for {@link createSql}. */
export interface CreateSqlOptions {
  /** Pool size. Default 4 (an edge function is one small isolate). */
  max?: number;
  /** `application_name` shown in `pg_stat_activity`: the function name. Default `"edge-function"`. */
  applicationName?: string;
  /** Seconds an idle connection is kept. Default 20. */
  idleTimeoutSeconds?: number;
  /** Seconds to wait for a connection. Default 10. */
  connectTimeoutSeconds?: number;
}

/** `true` when `url` points at Supabase's transaction pooler (port 6543). */
export function usesTransactionPooler(url: string): boolean {
  try {
    return new URL(url).port === TRANSACTION_POOLER_PORT;
  } catch {
    // A password with characters URL does not accept: look for ":6543/" after the host.
    return /@[^/@]*:6543(?:[/?]|$)/.test(url);
  }
}

/** The postgres.js options {@link createSql} uses for `url` (exported for tests). */
export function sqlOptions(url: string, options: CreateSqlOptions = {}) {
  const {
    max = 4,
    applicationName = "edge-function",
    idleTimeoutSeconds = 20,
    connectTimeoutSeconds = 10,
  } = options;
  if (!(Number.isInteger(max) && max >= 1)) {
    throw new RangeError(`\`max\` must be a positive integer: current value is ${max}`);
  }
  return {
    max,
    prepare: !usesTransactionPooler(url),
    idle_timeout: idleTimeoutSeconds,
    connect_timeout: connectTimeoutSeconds,
    onnotice: () => {},
    connection: { application_name: applicationName },
  } satisfies postgres.Options<Record<string, postgres.PostgresType>>;
}

/**
 * Creates a postgres.js pool for `url` (no connection is opened until the first query).
 *
 * @example
 * const sql = createSql(config.supabaseDbUrl, { applicationName: "ingest-movie" });
 */
export function createSql(url: string, options: CreateSqlOptions = {}): postgres.Sql {
  return postgres(url, sqlOptions(url, options));
}

/** Parses what a SQL function returned, naming the function when the value is unexpected. */
export function parseSqlResult<T>(
  fn: string,
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  value: unknown,
): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new Error(
      `${fn} returned an unexpected value: ${JSON.stringify(value)?.slice(0, 200)} (${
        describeIssues(parsed.error)
      })`,
    );
  }
  return parsed.data;
}
