/**
 * Bringing a local stack up and down: PostgreSQL with Supabase's role model, migrations
 * applied by the real Supabase CLI, Vault secrets, and the background services (pg_net
 * stand-in worker, TMDB stand-in, functions host).
 */
import postgres from "postgres";
import { edgeLimitFlags, edgeLimitsFromEnv } from "../functions_host/edge_limits.ts";
import { loadEnvFile } from "../functions_host/env_file.ts";
import { loadOrCreateKeys, type StackKeys } from "./keys.ts";
import {
  clusterExists,
  initCluster,
  psqlFile,
  serverRunning,
  startServer,
  stopServer,
} from "./pg_cluster.ts";
import { isAlive, portOpen, readPid, run, spawnDetached, stopDetached, waitFor } from "./procs.ts";
import { dbUrl, type StackConfig, type StackInfo, standinVariationArgs } from "./stack_config.ts";

/** Prints a progress line. */
export function step(msg: string): void {
  console.error(`[stack] ${msg}`);
}

const DENO = () => `${Deno.execPath()}`;

/** The background services of a stack, in start order. */
export const SERVICES = ["pg_net_worker", "tmdb_standin", "functions_host"] as const;
export type ServiceName = typeof SERVICES[number];

/** The user's secrets for the dev stack's functions (supabase/functions/.env; may be absent). */
export function userFunctionEnv(cfg: StackConfig): Promise<Record<string, string>> {
  return loadEnvFile(`${cfg.root}/supabase/functions/.env`);
}

/** Builds the stack's info (URLs, keys) from its config and keys. */
export async function stackInfo(cfg: StackConfig, keys: StackKeys): Promise<StackInfo> {
  const user = cfg.name === "dev" ? await userFunctionEnv(cfg) : {};
  // Either credential means "use the real TMDB" (the functions read both from the env file).
  const real = Boolean(user.TMDB_API_TOKEN || user.TMDB_API_KEY);
  return {
    name: cfg.name,
    dbUrl: dbUrl(cfg, "postgres"),
    adminDbUrl: dbUrl(cfg, "supabase_admin"),
    functionsUrl: `http://127.0.0.1:${cfg.functionsPort}/functions/v1`,
    projectUrl: `http://127.0.0.1:${cfg.functionsPort}`,
    tmdbUrl: real
      ? (user.TMDB_BASE_URL || "https://api.themoviedb.org/3")
      : `http://127.0.0.1:${cfg.tmdbPort}/3`,
    tmdbToken: real ? (user.TMDB_API_TOKEN || null) : keys.tmdbStandinToken,
    tmdbIsStandin: !real,
    serviceRoleKey: keys.serviceRoleKey,
    anonKey: keys.anonKey,
    secretKey: keys.secretKey,
    publishableKey: keys.publishableKey,
    edgeInvokeSecret: keys.edgeInvokeSecret,
  };
}

/** Starts PostgreSQL (creating the cluster on first use) and bootstraps the role model. */
export async function ensureDatabase(cfg: StackConfig): Promise<void> {
  await Deno.mkdir(cfg.logDir, { recursive: true });
  await Deno.mkdir(cfg.pidDir, { recursive: true });
  if (!(await clusterExists(cfg))) {
    step(`creating PostgreSQL 15 cluster in ${cfg.pgData}…`);
    await initCluster(cfg);
  }
  if (await serverRunning(cfg)) {
    step(`PostgreSQL already running on 127.0.0.1:${cfg.pgPort}`);
  } else {
    if (await portOpen(cfg.pgPort)) {
      throw new Error(
        `port ${cfg.pgPort} is in use by another program, so the ${cfg.name} stack's PostgreSQL ` +
          `cannot start. Find it with \`ss -ltnp | grep ${cfg.pgPort}\` and stop it.`,
      );
    }
    step(`starting PostgreSQL on 127.0.0.1:${cfg.pgPort}…`);
    await startServer(cfg);
  }
  step("bootstrapping Supabase roles, auth, extensions, Vault (local/bootstrap)…");
  const dir = `${cfg.root}/local/bootstrap`;
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".sql"))
    .sort();
  for (const f of files) await psqlFile(cfg, "supabase_admin", `${dir}/${f}`);
}

/** Applies pending migrations with the real Supabase CLI, as the `postgres` role. */
export async function pushMigrations(cfg: StackConfig): Promise<string> {
  step("applying migrations: supabase db push --db-url … (as postgres)…");
  const res = await run(`${cfg.root}/node_modules/.bin/supabase`, [
    "db",
    "push",
    "--db-url",
    // The CLI insists on TLS except for the port in config.toml; the local server has none.
    `${dbUrl(cfg, "postgres")}?sslmode=disable`,
    "--yes",
    "--include-all",
  ], {
    cwd: cfg.root,
    env: { SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
    allowFail: true,
  });
  const out = (res.stdout + res.stderr).trim();
  if (res.code !== 0) throw new Error(`supabase db push failed (exit ${res.code}):\n${out}`);
  for (const line of out.split("\n")) {
    if (/Applying migration|up to date/i.test(line)) step(`  ${line.trim()}`);
  }
  return out;
}

/**
 * Stores `project_url` and `edge_invoke_secret` in Vault (create or update), as `postgres`.
 * Cron calls are signed with the invocation secret and carry no key, so no key is stored: a
 * `service_role_key` secret that an older checkout's stack stored (described as this stack's)
 * is deleted.
 */
export async function storeVaultSecrets(cfg: StackConfig, info: StackInfo): Promise<void> {
  const sql = postgres(info.dbUrl, { max: 1, onnotice: () => {} });
  const description = `local stack (${cfg.name})`;
  try {
    for (
      const [name, value] of [
        ["project_url", info.projectUrl],
        ["edge_invoke_secret", info.edgeInvokeSecret],
      ]
    ) {
      const [row] = await sql`select id from vault.decrypted_secrets where name = ${name}`;
      if (row) {
        await sql`select vault.update_secret(${row.id}::uuid, ${value}::text)`;
      } else {
        await sql`select vault.create_secret(${value}::text, ${name}::text, ${description}::text)`;
      }
    }
    await sql`delete from vault.secrets
               where name = 'service_role_key' and description = ${description}`;
  } finally {
    await sql.end();
  }
}

function pidFile(cfg: StackConfig, s: ServiceName) {
  return `${cfg.pidDir}/${s}.pid`;
}

/** The TMDB stand-in's default rate limit in the stack (requests a second, burst as many). */
export const STANDIN_RATE_LIMIT_PER_SECOND = 50;

/**
 * What the functions host gives every function: hosted's `SUPABASE_*` variables for this
 * stack, the invocation secret, `extra` (e.g. a CPU budget), and the stand-in's URL, token and
 * export files' URL when the stack uses the TMDB stand-in.
 */
export function functionsEnv(
  info: StackInfo,
  keys: StackKeys,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    SUPABASE_URL: info.projectUrl,
    SUPABASE_DB_URL: info.dbUrl,
    SUPABASE_SERVICE_ROLE_KEY: keys.serviceRoleKey,
    SUPABASE_ANON_KEY: keys.anonKey,
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: keys.secretKey }),
    SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: keys.publishableKey }),
    EDGE_INVOKE_SECRET: keys.edgeInvokeSecret,
    ...extra,
  };
  if (info.tmdbIsStandin) {
    env.TMDB_BASE_URL = info.tmdbUrl;
    env.TMDB_API_TOKEN = keys.tmdbStandinToken;
    // The stand-in serves its exports as files.tmdb.org does: same origin, no `/3`.
    env.TMDB_EXPORTS_BASE_URL = `${new URL(info.tmdbUrl).origin}/p/exports`;
  }
  return env;
}

/** What {@linkcode serviceLaunch} needs besides the stack. */
export interface ServiceLaunchOptions {
  /** The `deno` binary. */
  deno: string;
  /** The environment `npm start` runs in (only PATH, HOME, DENO_DIR and TMDB_STANDIN_VARIATION are read). */
  hostEnv: { get(name: string): string | undefined };
  /** The stand-in's anchor day (`tmdb_standin` only). */
  anchor?: string;
  /** The file holding {@linkcode functionsEnv} (`functions_host` only). */
  envJson?: string;
  /** Arguments added last (the last of a repeated flag wins). */
  extraArgs?: string[];
}

/** The command line and environment of one background service of the stack. */
export function serviceLaunch(
  cfg: StackConfig,
  info: StackInfo,
  keys: StackKeys,
  service: ServiceName,
  options: ServiceLaunchOptions,
): { cmd: string[]; env: Record<string, string> } {
  const { hostEnv, extraArgs = [] } = options;
  const base: Record<string, string> = {
    PATH: hostEnv.get("PATH") ?? "/usr/bin:/bin",
    HOME: hostEnv.get("HOME") ?? "/root",
  };
  const denoDir = hostEnv.get("DENO_DIR");
  if (denoDir) base.DENO_DIR = denoDir;
  const denoRun = [
    options.deno,
    "run",
    "--allow-all",
    "--quiet",
    "--config",
    `${cfg.root}/deno.json`,
  ];
  if (service === "pg_net_worker") {
    return {
      cmd: [...denoRun, `${cfg.root}/local/pg_net_worker.ts`],
      env: { ...base, PGNET_DB_URL: info.adminDbUrl },
    };
  }
  if (service === "tmdb_standin") {
    return {
      cmd: [
        ...denoRun,
        `${cfg.root}/local/tmdb_standin/server.ts`,
        "--port",
        String(cfg.tmdbPort),
        "--anchor",
        required(options.anchor, "anchor", service),
        ...(cfg.name === "dev" ? [] : ["--quiet"]),
        // Varied like real TMDB unless TMDB_STANDIN_VARIATION=off.
        ...standinVariationArgs(hostEnv),
        // TMDB's limit is "in the 50 requests per second range" per IP: the stand-in answers
        // 429 beyond 50 a second unless the caller sets its own --rate-limit (the last wins).
        "--rate-limit",
        String(STANDIN_RATE_LIMIT_PER_SECOND),
        ...extraArgs,
      ],
      env: { ...base, TMDB_STANDIN_TOKEN: keys.tmdbStandinToken },
    };
  }
  return {
    cmd: [
      ...denoRun,
      `${cfg.root}/local/functions_host.ts`,
      "--port",
      String(cfg.functionsPort),
      "--functions-dir",
      `${cfg.root}/supabase/functions`,
      "--env-json",
      required(options.envJson, "envJson", service),
      // Only the dev stack reads the user's secrets file; throwaway stacks get none (a
      // missing file is an empty one), so tests never pick up a real TMDB token.
      "--env-file",
      cfg.name === "dev" ? `${cfg.root}/supabase/functions/.env` : `${cfg.dir}/no-user-secrets.env`,
      ...extraArgs,
    ],
    env: base,
  };
}

function required(value: string | undefined, name: string, service: ServiceName): string {
  if (value === undefined) throw new TypeError(`serviceLaunch(${service}) needs ${name}`);
  return value;
}

/** Starts one background service unless it is already running. */
export async function startService(
  cfg: StackConfig,
  info: StackInfo,
  keys: StackKeys,
  service: ServiceName,
  extraArgs: string[] = [],
  functionEnv: Record<string, string> = {},
): Promise<void> {
  const pf = pidFile(cfg, service);
  if (await readPid(pf)) return;
  if (service === "tmdb_standin" && !info.tmdbIsStandin) return;
  const logFile = `${cfg.logDir}/${service}.log`;
  const launch = { deno: DENO(), hostEnv: Deno.env, extraArgs };
  let cmd: string[];
  let env: Record<string, string>;
  let ready: () => Promise<boolean>;
  if (service === "pg_net_worker") {
    ({ cmd, env } = serviceLaunch(cfg, info, keys, service, launch));
    ready = async () =>
      (await Deno.readTextFile(logFile).catch(() => "")).includes("pg_net_worker_started");
  } else if (service === "tmdb_standin") {
    // The stand-in lays its synthetic release dates out around an anchor day: keep the
    // stack's first start day so the catalog stays the same across restarts.
    const anchorFile = `${cfg.dir}/tmdb_standin_anchor`;
    let anchor = (await Deno.readTextFile(anchorFile).catch(() => "")).trim();
    if (!anchor) {
      anchor = new Date().toISOString().slice(0, 10);
      await Deno.writeTextFile(anchorFile, anchor + "\n");
    }
    ({ cmd, env } = serviceLaunch(cfg, info, keys, service, { ...launch, anchor }));
    ready = () => portOpen(cfg.tmdbPort);
  } else {
    const envJson = `${cfg.dir}/functions_env.json`;
    await Deno.writeTextFile(envJson, JSON.stringify(functionsEnv(info, keys, functionEnv)), {
      mode: 0o600,
    });
    ({ cmd, env } = serviceLaunch(cfg, info, keys, service, { ...launch, envJson }));
    ready = () => portOpen(cfg.functionsPort);
  }
  if (service !== "pg_net_worker") {
    const port = service === "tmdb_standin" ? cfg.tmdbPort : cfg.functionsPort;
    if (await portOpen(port)) {
      throw new Error(
        `port ${port} is in use by another program, so ${service} cannot start. ` +
          `Find it with \`ss -ltnp | grep ${port}\` and stop it (or \`npm stop\`).`,
      );
    }
  }
  step(`starting ${service}…`);
  const pid = await spawnDetached(cmd, { pidFile: pf, logFile, env, cwd: cfg.root });
  await waitFor(
    async () => {
      if (!isAlive(pid)) {
        const tail = (await Deno.readTextFile(logFile).catch(() => "")).split("\n").slice(-20).join(
          "\n",
        );
        throw new Error(`${service} exited during start. Last lines of ${logFile}:\n${tail}`);
      }
      return await ready();
    },
    `${service} did not become ready within 60 s; see ${logFile}`,
    60_000,
  );
}

/** Stops one background service. */
export function stopService(cfg: StackConfig, service: ServiceName): Promise<boolean> {
  return stopDetached(pidFile(cfg, service));
}

/**
 * The functions' `EDGE_CPU_BUDGET_MS` for a host CPU limit: nothing at hosted's 2000 ms (the
 * functions' default, 1400, applies), else the lowered limit minus the same margin for what a
 * run spends outside its own count (a fresh process's first request: config, connections,
 * compiling) and after its last check (the batch in hand, its answer): a quarter of the limit,
 * at least 200 ms.
 */
export function functionCpuBudget(cpuLimitMs: number): Record<string, string> {
  if (cpuLimitMs >= 2_000) return {};
  const margin = Math.max(200, cpuLimitMs / 4);
  return { EDGE_CPU_BUDGET_MS: String(Math.max(10, Math.floor(cpuLimitMs - margin))) };
}

/**
 * Brings the whole stack up (idempotent) and returns its info. The functions host enforces the
 * edge runtime's limits: hosted's, or lower ones from `EDGE_CPU_LIMIT_MS`,
 * `EDGE_MEMORY_LIMIT_MB`, `EDGE_IDLE_TIMEOUT_MS`, `EDGE_WALL_CLOCK_MS` (a host that is already
 * running keeps the limits it started with).
 */
export async function up(
  cfg: StackConfig,
  opts: { tmdbArgs?: string[]; functionsArgs?: string[] } = {},
): Promise<StackInfo> {
  // Read first, so a bad value stops `npm start|test|bench` before anything starts.
  const limits = edgeLimitsFromEnv(Deno.env);
  await ensureDatabase(cfg);
  const keys = await loadOrCreateKeys(cfg.keysFile);
  const info = await stackInfo(cfg, keys);
  await pushMigrations(cfg);
  await storeVaultSecrets(cfg, info);
  await Deno.writeTextFile(cfg.infoFile, JSON.stringify(info, null, 2) + "\n", { mode: 0o600 });
  await startService(cfg, info, keys, "pg_net_worker");
  await startService(cfg, info, keys, "tmdb_standin", opts.tmdbArgs);
  step(
    `functions host limits: CPU ${limits.cpuLimitMs} ms, memory ${limits.memoryLimitMb} MB, ` +
      `idle timeout ${limits.idleTimeoutMs} ms, wall clock ${limits.wallClockMs} ms`,
  );
  await startService(cfg, info, keys, "functions_host", [
    ...edgeLimitFlags(limits),
    ...(opts.functionsArgs ?? []),
  ], functionCpuBudget(limits.cpuLimitMs));
  return info;
}

/** Stops every process of the stack and checks the ports are free. */
export async function down(cfg: StackConfig): Promise<void> {
  for (const s of [...SERVICES].reverse()) {
    if (await stopService(cfg, s)) step(`stopped ${s}`);
  }
  if (await serverRunning(cfg)) {
    await stopServer(cfg);
    step("stopped PostgreSQL");
  }
  for (const port of [cfg.pgPort, cfg.functionsPort, cfg.tmdbPort]) {
    await waitFor(
      async () => !(await portOpen(port)),
      `port ${port} is still in use after stopping`,
      10_000,
    );
  }
}

/** Stops the stack and deletes its data folder. */
export async function reset(cfg: StackConfig): Promise<void> {
  await down(cfg);
  await Deno.remove(cfg.dir, { recursive: true }).catch(() => {});
  if (cfg.externalPgHome) {
    await Deno.remove(cfg.externalPgHome, { recursive: true }).catch(() => {});
  }
  step(`removed ${cfg.dir}${cfg.externalPgHome ? ` and ${cfg.externalPgHome}` : ""}`);
}
