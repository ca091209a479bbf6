/**
 * The functions' configuration, read from the environment and checked in one place.
 *
 * {@link loadConfig} reports every problem at once in a {@link ConfigError}, each naming the
 * variable and how to set it, and never quoting a secret's value. It is a pure function of
 * the `env` it is given; caching the result once per process is the job of the module that
 * builds the runtime dependencies (`runtime.ts`).
 *
 * @module
 */

import { z } from "zod";

/**
 * Default `EDGE_CPU_BUDGET_MS`: a run spends ~40 ms of CPU after its last claim, so runs end
 * under the 1,500 ms `npm run bench` holds them to, 600 ms under hosted's 2,000 ms limit.
 */
export const DEFAULT_CPU_BUDGET_MS = 1_400;

/** Where variables come from: `Deno.env` in production, a `Map` or object in tests. */
export interface EnvSource {
  /** The variable's value, or `undefined` when it is not set. */
  get(name: string): string | undefined;
}

/** The default TMDB API base URL. */
export const DEFAULT_TMDB_BASE_URL = "https://api.themoviedb.org/3";

/** Where TMDB publishes its daily id exports (discover-movies). */
export const DEFAULT_TMDB_EXPORTS_BASE_URL = "https://files.tmdb.org/p/exports";

/** Checked, typed configuration of an edge function. */
export interface Config {
  /** `SUPABASE_DB_URL`, a Postgres connection string (secret: it holds the password). */
  supabaseDbUrl: string;
  /** `SUPABASE_SERVICE_ROLE_KEY`, if set. */
  serviceRoleKey: string | undefined;
  /** `SUPABASE_SECRET_KEYS` parsed: name → `sb_secret_…` key (`{}` when unset). */
  secretKeys: Record<string, string>;
  /**
   * The secrets a signed cron call may be signed with: `EDGE_INVOKE_SECRET`, then
   * `EDGE_INVOKE_SECRET_PREVIOUS` while rotating (`[]` when unset).
   */
  invokeSecrets: string[];
  /**
   * `EDGE_CPU_BUDGET_MS` (10..1900, default 1400): the CPU a long run (refresh-worker) lets
   * its process use before it starts no more work. Hosted Supabase kills a function at
   * 2000 ms; a run spends ~40 ms after its last claim (the batch in hand, the answer, the
   * hand-over), so 1400 keeps every request under 1,500 ms. The local stack lowers this with
   * its host's limit (`EDGE_CPU_LIMIT_MS`).
   */
  cpuBudgetMs: number;
  /** TMDB client settings. */
  tmdb: {
    /** `TMDB_API_TOKEN`, the API Read Access Token (sent as `Authorization: Bearer`). */
    accessToken: string | undefined;
    /** `TMDB_API_KEY`, the v3 api key; only used when no access token is set. */
    apiKey: string | undefined;
    /** `TMDB_BASE_URL`, without trailing slash. */
    baseUrl: string;
    /** `TMDB_EXPORTS_BASE_URL`, the daily id exports' folder, without trailing slash. */
    exportsBaseUrl: string;
    /** `TMDB_REQUESTS_PER_SECOND` (1..50). */
    requestsPerSecond: number;
    /**
     * `TMDB_MAX_CONCURRENT` (1..20, default 10): connections of one process. TMDB allows about
     * 20 per IP: with `refresh_worker_settings.max_chains` 2 (the default), 10 each.
     */
    maxConcurrent: number;
    /** `TMDB_TIMEOUT_MS`, per HTTP attempt (100..150000). */
    timeoutMs: number;
    /** `TMDB_MAX_ATTEMPTS`, HTTP attempts per call (1..10). */
    maxAttempts: number;
  };
  /** Every secret value above (keys, tokens, DB URL and its password), for log redaction. */
  secrets: string[];
}

/** One problem with one variable. */
export interface ConfigProblem {
  /** The environment variable, e.g. `SUPABASE_DB_URL`. */
  variable: string;
  /** What is wrong and how to fix it; never contains a secret value. */
  message: string;
}

/** The configuration is incomplete or invalid; `problems` lists every issue found. */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** Every problem found, in variable order. */
  readonly problems: ConfigProblem[];

  /** Builds the message from `problems` (one line each). */
  constructor(problems: ConfigProblem[]) {
    super(
      `Invalid function configuration (${problems.length} problem${
        problems.length === 1 ? "" : "s"
      }): ${problems.map((p) => p.message).join(" | ")}`,
    );
    this.problems = problems;
  }
}

/** Every variable {@link loadConfig} reads. */
export const CONFIG_VARIABLES = [
  "SUPABASE_DB_URL",
  "SUPABASE_SERVICE_ROLE_KEY",
  "SUPABASE_SECRET_KEYS",
  "EDGE_INVOKE_SECRET",
  "EDGE_INVOKE_SECRET_PREVIOUS",
  "EDGE_CPU_BUDGET_MS",
  "TMDB_API_TOKEN",
  "TMDB_API_KEY",
  "TMDB_BASE_URL",
  "TMDB_EXPORTS_BASE_URL",
  "TMDB_REQUESTS_PER_SECOND",
  "TMDB_MAX_CONCURRENT",
  "TMDB_TIMEOUT_MS",
  "TMDB_MAX_ATTEMPTS",
] as const;

type Variable = (typeof CONFIG_VARIABLES)[number];

/** Variables whose values must never be shown. */
const SECRET_VARIABLES: ReadonlySet<Variable> = new Set([
  "SUPABASE_DB_URL",
  "SUPABASE_SERVICE_ROLE_KEY",
  "SUPABASE_SECRET_KEYS",
  "EDGE_INVOKE_SECRET",
  "EDGE_INVOKE_SECRET_PREVIOUS",
  "TMDB_API_TOKEN",
  "TMDB_API_KEY",
]);

/** Shortest accepted invocation secret (`openssl rand -hex 32` gives 64 characters). */
export const MIN_INVOKE_SECRET_LENGTH = 32;

/**
 * How to set `name`. Hosted Supabase provides the `SUPABASE_*` variables itself (and
 * `supabase secrets set` refuses names starting with `SUPABASE_`); the others are secrets.
 */
export function howToSet(name: string): string {
  if (name.startsWith("EDGE_INVOKE_SECRET")) {
    return `it must hold the same secret as the Vault secret edge_invoke_secret: set it with ` +
      `\`supabase secrets set ${name}=…\` on hosted Supabase, or in supabase/functions/.env ` +
      `locally (\`npm start\` sets EDGE_INVOKE_SECRET for the local stack)`;
  }
  if (name.startsWith("SUPABASE_")) {
    return `hosted Supabase provides ${name} to every function; locally set it in ` +
      `supabase/functions/.env (\`npm start\` sets it for the local stack)`;
  }
  return `set it with \`supabase secrets set ${name}=…\` on hosted Supabase, or in ` +
    `supabase/functions/.env locally`;
}

/** A variable's value, with blank values treated as unset. */
function present(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function httpUrl(name: Variable, shown: boolean) {
  return z.string().superRefine((value, ctx) => {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      // reported below
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `${name} must be an http(s) URL` +
          (shown ? `: current value is ${JSON.stringify(value)}` : ""),
      });
    }
  });
}

function envInteger(name: Variable, min: number, max: number, fallback: number) {
  return z.string().optional().transform((value, ctx) => {
    if (value === undefined) return fallback;
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!(Number.isSafeInteger(n) && n >= min && n <= max)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `${name} must be an integer from ${min} to ${max} (default ${fallback}): ` +
          `current value is ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return n;
  });
}

/** Parses `SUPABASE_SECRET_KEYS`; issues never quote the value or the JSON parser's text. */
const secretKeysSchema = z.string().optional().transform((value, ctx) => {
  if (value === undefined) return {} as Record<string, string>;
  const shape = `a JSON object of name → key, e.g. {"default":"sb_secret_…"}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `SUPABASE_SECRET_KEYS is not valid JSON; it must be ${shape}`,
    });
    return z.NEVER;
  }
  const obj = z.record(z.string()).safeParse(parsed);
  if (!obj.success || Array.isArray(parsed)) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `SUPABASE_SECRET_KEYS is JSON but not ${shape} (every value a string)`,
    });
    return z.NEVER;
  }
  return Object.fromEntries(Object.entries(obj.data).filter(([, v]) => v.trim() !== ""));
});

/** An invocation secret: unset, or at least {@link MIN_INVOKE_SECRET_LENGTH} characters. */
function invokeSecret(name: Variable) {
  return z.string().optional().superRefine((value, ctx) => {
    if (value !== undefined && value.length < MIN_INVOKE_SECRET_LENGTH) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `${name} is too short (${value.length} characters, at least ` +
          `${MIN_INVOKE_SECRET_LENGTH}; generate one with \`openssl rand -hex 32\`)`,
      });
    }
  });
}

const envSchema = z.object({
  SUPABASE_DB_URL: z.string().optional().superRefine((value, ctx) => {
    if (value !== undefined && !/^postgres(ql)?:\/\//i.test(value)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: "SUPABASE_DB_URL must be a postgres:// or postgresql:// connection string",
      });
    }
  }),
  SUPABASE_SERVICE_ROLE_KEY: z.string().optional(),
  SUPABASE_SECRET_KEYS: secretKeysSchema,
  EDGE_INVOKE_SECRET: invokeSecret("EDGE_INVOKE_SECRET"),
  EDGE_INVOKE_SECRET_PREVIOUS: invokeSecret("EDGE_INVOKE_SECRET_PREVIOUS"),
  TMDB_API_TOKEN: z.string().optional(),
  TMDB_API_KEY: z.string().optional(),
  TMDB_BASE_URL: httpUrl("TMDB_BASE_URL", true).optional(),
  TMDB_EXPORTS_BASE_URL: httpUrl("TMDB_EXPORTS_BASE_URL", true).optional(),
  TMDB_REQUESTS_PER_SECOND: envInteger("TMDB_REQUESTS_PER_SECOND", 1, 50, 40),
  TMDB_MAX_CONCURRENT: envInteger("TMDB_MAX_CONCURRENT", 1, 20, 10),
  TMDB_TIMEOUT_MS: envInteger("TMDB_TIMEOUT_MS", 100, 150_000, 10_000),
  TMDB_MAX_ATTEMPTS: envInteger("TMDB_MAX_ATTEMPTS", 1, 10, 4),
  EDGE_CPU_BUDGET_MS: envInteger("EDGE_CPU_BUDGET_MS", 10, 1_900, DEFAULT_CPU_BUDGET_MS),
});

/**
 * Reads and checks the configuration from `env`. Throws a {@link ConfigError} listing every
 * problem (missing `SUPABASE_DB_URL`, a usable API key, a TMDB credential,
 * malformed values), each with the variable name and how to set it.
 *
 * @example
 * const config = loadConfig(Deno.env);
 */
export function loadConfig(env: EnvSource): Config {
  const raw: Partial<Record<Variable, string>> = {};
  for (const name of CONFIG_VARIABLES) raw[name] = present(env.get(name));

  const problems: ConfigProblem[] = [];
  const add = (variable: string, message: string) =>
    problems.push({ variable, message: `${message}; ${howToSet(variable)}` });

  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0] ?? "environment");
      const message = issue.code === z.ZodIssueCode.custom
        ? issue.message
        : SECRET_VARIABLES.has(variable as Variable)
        ? `${variable} is invalid (${issue.code})`
        : `${variable} is invalid: ${issue.message}`;
      add(variable, message);
    }
  }
  const data = parsed.success ? parsed.data : undefined;

  if (raw.SUPABASE_DB_URL === undefined) {
    add("SUPABASE_DB_URL", "SUPABASE_DB_URL is missing (the Postgres connection string)");
  }
  const secretKeys = secretKeysSchema.safeParse(raw.SUPABASE_SECRET_KEYS);
  const hasSecretKey = secretKeys.success && Object.keys(secretKeys.data).length > 0;
  if (raw.SUPABASE_SERVICE_ROLE_KEY === undefined && !hasSecretKey) {
    add(
      "SUPABASE_SERVICE_ROLE_KEY",
      "SUPABASE_SERVICE_ROLE_KEY is missing and SUPABASE_SECRET_KEYS holds no usable key, so " +
        "no caller could authenticate (set at least one of them)",
    );
  }
  if (raw.EDGE_INVOKE_SECRET_PREVIOUS !== undefined && raw.EDGE_INVOKE_SECRET === undefined) {
    add(
      "EDGE_INVOKE_SECRET",
      "EDGE_INVOKE_SECRET_PREVIOUS is set but EDGE_INVOKE_SECRET is not (while rotating, " +
        "EDGE_INVOKE_SECRET holds the new secret and EDGE_INVOKE_SECRET_PREVIOUS the old one)",
    );
  }
  if (raw.TMDB_API_TOKEN === undefined && raw.TMDB_API_KEY === undefined) {
    add(
      "TMDB_API_TOKEN",
      "TMDB_API_TOKEN is missing (the TMDB API Read Access Token from themoviedb.org → " +
        "Settings → API; alternatively set TMDB_API_KEY to the v3 api key)",
    );
  }

  if (problems.length > 0 || data === undefined) {
    const order = (v: string) => {
      const i = (CONFIG_VARIABLES as readonly string[]).indexOf(v);
      return i === -1 ? CONFIG_VARIABLES.length : i;
    };
    throw new ConfigError(problems.sort((a, b) => order(a.variable) - order(b.variable)));
  }

  const config: Config = {
    supabaseDbUrl: raw.SUPABASE_DB_URL!,
    serviceRoleKey: raw.SUPABASE_SERVICE_ROLE_KEY,
    secretKeys: data.SUPABASE_SECRET_KEYS,
    invokeSecrets: [raw.EDGE_INVOKE_SECRET, raw.EDGE_INVOKE_SECRET_PREVIOUS].filter(
      (v): v is string => v !== undefined,
    ),
    cpuBudgetMs: data.EDGE_CPU_BUDGET_MS,
    tmdb: {
      accessToken: raw.TMDB_API_TOKEN,
      apiKey: raw.TMDB_API_TOKEN === undefined ? raw.TMDB_API_KEY : undefined,
      baseUrl: (raw.TMDB_BASE_URL ?? DEFAULT_TMDB_BASE_URL).replace(/\/+$/, ""),
      exportsBaseUrl: (raw.TMDB_EXPORTS_BASE_URL ?? DEFAULT_TMDB_EXPORTS_BASE_URL).replace(
        /\/+$/,
        "",
      ),
      requestsPerSecond: data.TMDB_REQUESTS_PER_SECOND,
      maxConcurrent: data.TMDB_MAX_CONCURRENT,
      timeoutMs: data.TMDB_TIMEOUT_MS,
      maxAttempts: data.TMDB_MAX_ATTEMPTS,
    },
    secrets: [],
  };
  config.secrets = secretValuesFromEnv(env);
  return config;
}

/**
 * The values of every secret variable that is set in `env` (service-role key, each secret
 * key and the raw `SUPABASE_SECRET_KEYS` text, TMDB token and api key, the DB URL and its
 * password). The anon and publishable keys are public and left out. Never
 * throws, so it can feed a logger even when {@link loadConfig} fails.
 */
export function secretValuesFromEnv(env: EnvSource): string[] {
  const out = new Set<string>();
  const get = (name: string) => {
    try {
      return present(env.get(name));
    } catch {
      return undefined; // e.g. no --allow-env
    }
  };
  for (const name of SECRET_VARIABLES) {
    const value = get(name);
    if (value !== undefined) out.add(value);
  }
  const keys = get("SUPABASE_SECRET_KEYS");
  if (keys !== undefined) {
    try {
      const parsed: unknown = JSON.parse(keys);
      if (parsed && typeof parsed === "object") {
        for (const v of Object.values(parsed)) if (typeof v === "string" && v !== "") out.add(v);
      }
    } catch {
      // the raw text is already in the set
    }
  }
  const dbUrl = get("SUPABASE_DB_URL");
  if (dbUrl !== undefined) {
    const match = /^[a-z]+:\/\/[^:/@]*:([^@]+)@/i.exec(dbUrl);
    if (match) {
      out.add(match[1]);
      try {
        const decoded = decodeURIComponent(match[1]);
        if (decoded !== "") out.add(decoded);
      } catch {
        // not percent-encoded
      }
    }
  }
  return [...out];
}
