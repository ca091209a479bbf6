import assert from "node:assert/strict";
import {
  ConfigError,
  DEFAULT_TMDB_BASE_URL,
  DEFAULT_TMDB_EXPORTS_BASE_URL,
  loadConfig,
} from "./config.ts";

const SERVICE_KEY = "service-role-jwt.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.sig";
const SECRET_KEY = "sb_secret_0123456789abcdefghij";
const TMDB_TOKEN = "tmdb-read-access-token-ABCDEFG123";
const DB_PASSWORD = "pw-s3cr3t-value";
const DB_URL = `postgresql://postgres:${DB_PASSWORD}@127.0.0.1:54322/postgres`;

function env(vars: Record<string, string>) {
  return { get: (name: string) => vars[name] };
}

const VALID = {
  SUPABASE_DB_URL: DB_URL,
  SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
  TMDB_API_TOKEN: TMDB_TOKEN,
};

function configError(vars: Record<string, string>): ConfigError {
  try {
    loadConfig(env(vars));
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error;
  }
  assert.fail("loadConfig() accepted an invalid environment");
}

function assertNoSecret(text: string) {
  for (const secret of [SERVICE_KEY, SECRET_KEY, TMDB_TOKEN, DB_PASSWORD, DB_URL]) {
    assert.ok(!text.includes(secret), `secret leaked into: ${text}`);
  }
}

Deno.test("loadConfig() names every missing variable and how to set it", () => {
  const error = configError({});
  assert.deepEqual(error.problems.map((p) => p.variable), [
    "SUPABASE_DB_URL",
    "SUPABASE_SERVICE_ROLE_KEY",
    "TMDB_API_TOKEN",
  ]);
  for (const problem of error.problems) {
    assert.ok(error.message.includes(problem.variable));
    assert.match(problem.message, /supabase secrets set|supabase\/functions\/\.env/);
  }
  const tmdb = error.problems.find((p) => p.variable === "TMDB_API_TOKEN")!;
  assert.match(tmdb.message, /supabase secrets set TMDB_API_TOKEN=/);
  assert.match(tmdb.message, /TMDB_API_KEY/);
  assert.match(error.message, /^Invalid function configuration \(3 problems\)/);
});

Deno.test("loadConfig() treats blank values as missing", () => {
  const error = configError({ ...VALID, SUPABASE_DB_URL: "   " });
  assert.deepEqual(error.problems.map((p) => p.variable), ["SUPABASE_DB_URL"]);
});

Deno.test("loadConfig() lists every malformed value at once, never quoting a secret", () => {
  const error = configError({
    ...VALID,
    SUPABASE_SERVICE_ROLE_KEY: "",
    SUPABASE_SECRET_KEYS: `{"default": "${SECRET_KEY}"`, // truncated JSON
    TMDB_BASE_URL: "ftp://example.com",
    TMDB_REQUESTS_PER_SECOND: "51",
    TMDB_MAX_CONCURRENT: "0",
    TMDB_TIMEOUT_MS: "ten",
    TMDB_MAX_ATTEMPTS: "2.5",
  });
  assert.deepEqual(error.problems.map((p) => p.variable), [
    "SUPABASE_SERVICE_ROLE_KEY",
    "SUPABASE_SECRET_KEYS",
    "TMDB_BASE_URL",
    "TMDB_REQUESTS_PER_SECOND",
    "TMDB_MAX_CONCURRENT",
    "TMDB_TIMEOUT_MS",
    "TMDB_MAX_ATTEMPTS",
  ]);
  assertNoSecret(error.message);
  assertNoSecret(JSON.stringify(error.problems));
  const byName = Object.fromEntries(error.problems.map((p) => [p.variable, p.message]));
  assert.match(byName.SUPABASE_SECRET_KEYS, /SUPABASE_SECRET_KEYS is not valid JSON/);
  assert.match(
    byName.TMDB_BASE_URL,
    /must be an http\(s\) URL: current value is "ftp:\/\/example.com"/,
  );
  assert.match(byName.TMDB_REQUESTS_PER_SECOND, /from 1 to 50 .*current value is "51"/);
  assert.match(byName.TMDB_MAX_CONCURRENT, /from 1 to 20/);
});

Deno.test("loadConfig() rejects SUPABASE_SECRET_KEYS that is JSON but not an object of strings", () => {
  const error = configError({ ...VALID, SUPABASE_SECRET_KEYS: `["${SECRET_KEY}"]` });
  assert.deepEqual(error.problems.map((p) => p.variable), ["SUPABASE_SECRET_KEYS"]);
  assertNoSecret(error.message);
});

Deno.test("loadConfig() applies defaults and prefers the TMDB token over the api key", () => {
  const config = loadConfig(env({ ...VALID, TMDB_API_KEY: "v3-api-key-value" }));
  assert.equal(config.supabaseDbUrl, DB_URL);
  assert.deepEqual(config.tmdb, {
    accessToken: TMDB_TOKEN,
    apiKey: undefined,
    baseUrl: DEFAULT_TMDB_BASE_URL,
    exportsBaseUrl: DEFAULT_TMDB_EXPORTS_BASE_URL,
    requestsPerSecond: 40,
    maxConcurrent: 10,
    timeoutMs: 10_000,
    maxAttempts: 4,
  });
  assert.deepEqual(config.secretKeys, {});
  assert.equal(config.cpuBudgetMs, 1_400, "EDGE_CPU_BUDGET_MS defaults to 1400");
  for (const s of [SERVICE_KEY, TMDB_TOKEN, DB_URL, DB_PASSWORD, "v3-api-key-value"]) {
    assert.ok(config.secrets.includes(s), `secrets should include ${s.slice(0, 4)}…`);
  }
});

Deno.test("loadConfig() accepts secret keys instead of the service-role key, and the v3 api key", () => {
  const config = loadConfig(env({
    SUPABASE_URL: "https://abc.supabase.co/",
    SUPABASE_DB_URL: DB_URL,
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }),
    TMDB_API_KEY: "v3key",
    TMDB_BASE_URL: "http://127.0.0.1:54329/3/",
    TMDB_REQUESTS_PER_SECOND: "10",
    TMDB_MAX_CONCURRENT: "5",
    TMDB_TIMEOUT_MS: "2500",
    TMDB_MAX_ATTEMPTS: "1",
  }));
  assert.equal(config.serviceRoleKey, undefined);
  assert.deepEqual(config.secretKeys, { default: SECRET_KEY });
  assert.equal(config.tmdb.accessToken, undefined);
  assert.equal(config.tmdb.apiKey, "v3key");
  assert.equal(config.tmdb.baseUrl, "http://127.0.0.1:54329/3");
  assert.equal(config.tmdb.requestsPerSecond, 10);
  assert.equal(config.tmdb.maxConcurrent, 5);
  assert.equal(config.tmdb.timeoutMs, 2500);
  assert.equal(config.tmdb.maxAttempts, 1);
  assert.ok(config.secrets.includes(SECRET_KEY));
});

Deno.test("loadConfig() still asks for a key when SUPABASE_SECRET_KEYS is an empty object", () => {
  const error = configError({
    ...VALID,
    SUPABASE_SERVICE_ROLE_KEY: "",
    SUPABASE_SECRET_KEYS: "{}",
  });
  assert.deepEqual(error.problems.map((p) => p.variable), ["SUPABASE_SERVICE_ROLE_KEY"]);
});

const INVOKE_SECRET = "a".repeat(64);
const PREVIOUS_SECRET = "b".repeat(64);

Deno.test("loadConfig() reads the invocation secrets, current first, and counts them as secrets", () => {
  assert.deepEqual(loadConfig(env(VALID)).invokeSecrets, [], "optional: none by default");
  const config = loadConfig(env({
    ...VALID,
    EDGE_INVOKE_SECRET: ` ${INVOKE_SECRET} `,
    EDGE_INVOKE_SECRET_PREVIOUS: PREVIOUS_SECRET,
  }));
  assert.deepEqual(config.invokeSecrets, [INVOKE_SECRET, PREVIOUS_SECRET]);
  assert.ok(config.secrets.includes(INVOKE_SECRET) && config.secrets.includes(PREVIOUS_SECRET));
});

Deno.test("loadConfig() refuses a short invocation secret and a previous one without a current one, naming both places", () => {
  const short = configError({ ...VALID, EDGE_INVOKE_SECRET: "short-secret-value" });
  assert.deepEqual(short.problems.map((p) => p.variable), ["EDGE_INVOKE_SECRET"]);
  assert.match(
    short.problems[0].message,
    /^EDGE_INVOKE_SECRET is too short \(18 characters, at least 32; generate one with `openssl rand -hex 32`\); it must hold the same secret as the Vault secret edge_invoke_secret: set it with `supabase secrets set EDGE_INVOKE_SECRET=…`/,
  );
  assert.ok(!short.message.includes("short-secret-value"), "the value is never shown");
  const orphan = configError({ ...VALID, EDGE_INVOKE_SECRET_PREVIOUS: PREVIOUS_SECRET });
  assert.deepEqual(orphan.problems.map((p) => p.variable), ["EDGE_INVOKE_SECRET"]);
  assert.match(
    orphan.problems[0].message,
    /EDGE_INVOKE_SECRET_PREVIOUS is set but EDGE_INVOKE_SECRET is not/,
  );
  assert.ok(!orphan.message.includes(PREVIOUS_SECRET));
});

Deno.test("loadConfig() does not need SUPABASE_URL: no function reads it", () => {
  const config = loadConfig(env({
    SUPABASE_DB_URL: DB_URL,
    SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
    TMDB_API_TOKEN: TMDB_TOKEN,
  }));
  assert.equal(config.supabaseDbUrl, DB_URL);
  assert.ok(!("supabaseUrl" in config));
});

Deno.test("loadConfig() reads TMDB_EXPORTS_BASE_URL without its trailing slash and refuses a non-http URL", () => {
  const config = loadConfig(
    env({ ...VALID, TMDB_EXPORTS_BASE_URL: "http://127.0.0.1:54329/p/exports/" }),
  );
  assert.equal(config.tmdb.exportsBaseUrl, "http://127.0.0.1:54329/p/exports");
  const error = configError({ ...VALID, TMDB_EXPORTS_BASE_URL: "files.tmdb.org" });
  assert.deepEqual(error.problems.map((p) => p.variable), ["TMDB_EXPORTS_BASE_URL"]);
  assert.match(error.message, /TMDB_EXPORTS_BASE_URL must be an http\(s\) URL/);
});
