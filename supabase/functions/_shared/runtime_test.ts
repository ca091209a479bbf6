import assert from "node:assert/strict";
import { ConfigError } from "./platform/config.ts";
import { bootstrapLogger, buildRuntime, getRuntime } from "./runtime.ts";

const SERVICE_KEY = "service-role-key-runtime-test-0123";
const SECRET_KEY = "sb_secret_runtime-test-abcdef";
const TOKEN = "tmdb-token-runtime-test-XYZ";

function env(vars: Record<string, string>) {
  return { get: (name: string) => vars[name] };
}

const VALID = {
  SUPABASE_URL: "http://127.0.0.1:54321",
  SUPABASE_DB_URL: "postgresql://postgres:runtime-pw@127.0.0.1:1/postgres",
  SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
  SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }),
  SUPABASE_ANON_KEY: "anon-key-not-allowed",
  TMDB_API_TOKEN: TOKEN,
};

Deno.test("getRuntime() throws a ConfigError per call while the config is invalid, then builds once fixed", async () => {
  const vars: Record<string, string> = { ...VALID, TMDB_API_TOKEN: "" };
  assert.throws(() => getRuntime("runtime-test-a", { env: env(vars) }), ConfigError);
  assert.throws(
    () => getRuntime("runtime-test-a", { env: env(vars) }),
    /TMDB_API_TOKEN is missing/,
  );
  vars.TMDB_API_TOKEN = TOKEN;
  const runtime = getRuntime("runtime-test-a", { env: env(vars) });
  assert.equal(getRuntime("runtime-test-a", { env: env({}) }), runtime, "cached per process");
  await runtime.sql.end();
});

Deno.test("buildRuntime() wires keys, secrets and a TMDB client per run without connecting", async () => {
  const runtime = buildRuntime("runtime-test-b", env(VALID));
  assert.deepEqual(runtime.allowedKeys, [SERVICE_KEY, SECRET_KEY]);
  for (const s of [SERVICE_KEY, SECRET_KEY, TOKEN, "runtime-pw"]) {
    assert.ok(runtime.secrets.includes(s));
  }
  assert.equal(runtime.config.tmdb.accessToken, TOKEN);
  const client = runtime.tmdbFor("run-1");
  assert.equal(typeof client.movieDetailsText, "function");
  await client.flushLogs(); // no rows: no database round trip
  await runtime.sql.end();
});

Deno.test("bootstrapLogger() redacts the secret variables that are set", () => {
  const lines: string[] = [];
  const logger = bootstrapLogger("runtime-test-c", {
    env: env(VALID),
    write: (l) => lines.push(l),
  });
  logger.error("boom", { detail: `key ${SERVICE_KEY} token ${TOKEN} pw runtime-pw` });
  assert.equal(lines.length, 1);
  for (const s of [SERVICE_KEY, TOKEN, "runtime-pw"]) assert.ok(!lines[0].includes(s), lines[0]);
});
