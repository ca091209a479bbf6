import assert from "node:assert/strict";
import type { StackKeys } from "./keys.ts";
import {
  functionCpuBudget,
  functionsEnv,
  serviceLaunch,
  stackInfo,
  STANDIN_RATE_LIMIT_PER_SECOND,
} from "./stack.ts";
import { type StackConfig, stackConfig, type StackInfo } from "./stack_config.ts";

const KEYS: StackKeys = {
  jwtSecret: "jwt",
  anonKey: "anon-jwt",
  serviceRoleKey: "service-jwt",
  publishableKey: "sb_publishable_x",
  secretKey: "sb_secret_x",
  tmdbStandinToken: "standin_x",
  edgeInvokeSecret: "f".repeat(64),
};

/** A config with fixed ports, so tests do not depend on STACK_PORT_OFFSET. */
function config(name: "dev" | "test", root = "/repo"): StackConfig {
  return {
    ...stackConfig(name, root),
    pgPort: 55322,
    functionsPort: 55321,
    tmdbPort: 55329,
  };
}

function info(overrides: Partial<StackInfo> = {}): StackInfo {
  return {
    name: "test",
    dbUrl: "postgresql://postgres:postgres@127.0.0.1:55322/postgres",
    adminDbUrl: "postgresql://supabase_admin:postgres@127.0.0.1:55322/postgres",
    functionsUrl: "http://127.0.0.1:55321/functions/v1",
    projectUrl: "http://127.0.0.1:55321",
    tmdbUrl: "http://127.0.0.1:55329/3",
    tmdbToken: KEYS.tmdbStandinToken,
    tmdbIsStandin: true,
    serviceRoleKey: KEYS.serviceRoleKey,
    anonKey: KEYS.anonKey,
    secretKey: KEYS.secretKey,
    publishableKey: KEYS.publishableKey,
    edgeInvokeSecret: KEYS.edgeInvokeSecret,
    ...overrides,
  };
}

const HOST_ENV = new Map([["PATH", "/bin"], ["HOME", "/home/u"], ["SECRET", "never"]]);

Deno.test("functionCpuBudget() leaves hosted's limit to the functions' default, else keeps a margin under it", () => {
  assert.deepEqual(functionCpuBudget(2_000), {});
  assert.deepEqual(functionCpuBudget(1_000), { EDGE_CPU_BUDGET_MS: "750" });
  assert.deepEqual(functionCpuBudget(300), { EDGE_CPU_BUDGET_MS: "100" });
  assert.deepEqual(functionCpuBudget(200), { EDGE_CPU_BUDGET_MS: "10" });
});

Deno.test("functionsEnv() gives hosted's SUPABASE_* for the stack, and the stand-in's URL and token only with the stand-in", () => {
  const env = functionsEnv(info(), KEYS, { EDGE_CPU_BUDGET_MS: "100" });
  assert.deepEqual(env, {
    SUPABASE_URL: "http://127.0.0.1:55321",
    SUPABASE_DB_URL: "postgresql://postgres:postgres@127.0.0.1:55322/postgres",
    SUPABASE_SERVICE_ROLE_KEY: "service-jwt",
    SUPABASE_ANON_KEY: "anon-jwt",
    SUPABASE_SECRET_KEYS: '{"default":"sb_secret_x"}',
    SUPABASE_PUBLISHABLE_KEYS: '{"default":"sb_publishable_x"}',
    EDGE_INVOKE_SECRET: KEYS.edgeInvokeSecret,
    EDGE_CPU_BUDGET_MS: "100",
    TMDB_BASE_URL: "http://127.0.0.1:55329/3",
    TMDB_API_TOKEN: "standin_x",
    TMDB_EXPORTS_BASE_URL: "http://127.0.0.1:55329/p/exports",
  });
  const real = functionsEnv(info({ tmdbIsStandin: false }), KEYS);
  assert.equal("TMDB_BASE_URL" in real, false);
  assert.equal("TMDB_EXPORTS_BASE_URL" in real, false);
  assert.equal("TMDB_API_TOKEN" in real, false);
});

Deno.test("serviceLaunch(functions_host) starts local/functions_host.ts; only the dev stack reads the user's .env", () => {
  const launch = (name: "dev" | "test") =>
    serviceLaunch(config(name), info(), KEYS, "functions_host", {
      deno: "/bin/deno",
      hostEnv: HOST_ENV,
      envJson: "/repo/.stack/x/functions_env.json",
      extraArgs: ["--cpu-limit-ms", "300"],
    });
  const test = launch("test");
  assert.deepEqual(test.cmd, [
    "/bin/deno",
    "run",
    "--allow-all",
    "--quiet",
    "--config",
    "/repo/deno.json",
    "/repo/local/functions_host.ts",
    "--port",
    "55321",
    "--functions-dir",
    "/repo/supabase/functions",
    "--env-json",
    "/repo/.stack/x/functions_env.json",
    "--env-file",
    "/repo/.stack/test/no-user-secrets.env",
    "--cpu-limit-ms",
    "300",
  ]);
  assert.deepEqual(test.env, { PATH: "/bin", HOME: "/home/u" });
  const dev = launch("dev").cmd;
  assert.equal(dev[dev.indexOf("--env-file") + 1], "/repo/supabase/functions/.env");
});

Deno.test("serviceLaunch(tmdb_standin): its port and anchor, quiet except on dev, TMDB's rate limit unless the caller sets one", () => {
  const launch = (name: "dev" | "test", hostEnv = HOST_ENV) =>
    serviceLaunch(config(name), info(), KEYS, "tmdb_standin", {
      deno: "/bin/deno",
      hostEnv,
      anchor: "2026-01-02",
      extraArgs: ["--rate-limit", "5"],
    });
  const test = launch("test");
  assert.deepEqual(test.cmd.slice(6), [
    "/repo/local/tmdb_standin/server.ts",
    "--port",
    "55329",
    "--anchor",
    "2026-01-02",
    "--quiet",
    "--rate-limit",
    String(STANDIN_RATE_LIMIT_PER_SECOND),
    "--rate-limit",
    "5",
  ]);
  assert.deepEqual(test.env, { PATH: "/bin", HOME: "/home/u", TMDB_STANDIN_TOKEN: "standin_x" });
  assert.ok(!launch("dev").cmd.slice(6).includes("--quiet"));
  const off = launch("test", new Map([...HOST_ENV, ["TMDB_STANDIN_VARIATION", "off"]])).cmd;
  assert.deepEqual(off.slice(off.indexOf("--variation"), off.indexOf("--variation") + 2), [
    "--variation",
    "off",
  ]);
  assert.ok(!test.cmd.includes("--variation"));
  assert.throws(
    () =>
      serviceLaunch(config("test"), info(), KEYS, "tmdb_standin", { deno: "d", hostEnv: HOST_ENV }),
    /serviceLaunch\(tmdb_standin\) needs anchor/,
  );
});

Deno.test("serviceLaunch(pg_net_worker) gives the worker the admin connection and DENO_DIR when set", () => {
  const { cmd, env } = serviceLaunch(config("test"), info(), KEYS, "pg_net_worker", {
    deno: "/bin/deno",
    hostEnv: new Map([["DENO_DIR", "/cache/deno"]]),
    extraArgs: ["--ignored"],
  });
  assert.deepEqual(cmd.slice(6), ["/repo/local/pg_net_worker.ts"]);
  assert.deepEqual(env, {
    PATH: "/usr/bin:/bin",
    HOME: "/root",
    DENO_DIR: "/cache/deno",
    PGNET_DB_URL: "postgresql://supabase_admin:postgres@127.0.0.1:55322/postgres",
  });
});

Deno.test("stackInfo(): the dev stack uses the real TMDB when the user's .env has a token, any other stack never", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/supabase/functions`, { recursive: true });
    const dev = config("dev", root);
    const standin = await stackInfo(dev, KEYS);
    assert.equal(standin.tmdbIsStandin, true);
    assert.equal(standin.tmdbUrl, "http://127.0.0.1:55329/3");
    assert.equal(standin.tmdbToken, "standin_x");
    assert.equal(standin.functionsUrl, "http://127.0.0.1:55321/functions/v1");
    assert.equal(standin.dbUrl, "postgresql://postgres:postgres@127.0.0.1:55322/postgres");

    await Deno.writeTextFile(`${root}/supabase/functions/.env`, "TMDB_API_TOKEN=real-token\n");
    const real = await stackInfo(dev, KEYS);
    assert.equal(real.tmdbIsStandin, false);
    assert.equal(real.tmdbUrl, "https://api.themoviedb.org/3");
    assert.equal(real.tmdbToken, "real-token");
    assert.equal((await stackInfo(config("test", root), KEYS)).tmdbIsStandin, true);

    await Deno.writeTextFile(`${root}/supabase/functions/.env`, "TMDB_API_KEY=v3-key\n");
    const keyOnly = await stackInfo(dev, KEYS);
    assert.equal(keyOnly.tmdbIsStandin, false);
    assert.equal(keyOnly.tmdbToken, null);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
