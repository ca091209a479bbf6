/**
 * The local PostgreSQL 15 cluster of a stack: created with initdb (superuser
 * `supabase_admin`, as on Supabase), configured for pg_cron, started and stopped with
 * pg_ctl. initdb and the server refuse to run as root, so when this runs as root they run
 * as the unprivileged `postgres` OS user (created by Debian's postgresql packages).
 */
import { run } from "./procs.ts";
import type { StackConfig } from "./stack_config.ts";

const PG_BIN = "/usr/lib/postgresql/15/bin";
const IS_ROOT = Deno.uid() === 0;
const OS_USER = "postgres";

/** The command that runs `cmd args` as the `postgres` OS user when we are root, else as is. */
export function asPgUser(cmd: string, args: string[], root = IS_ROOT): [string, string[]] {
  // `cd /` first: the postgres OS user may not be allowed into the caller's folder
  return root
    ? ["runuser", ["-u", OS_USER, "--", "sh", "-c", 'cd / && exec "$0" "$@"', cmd, ...args]]
    : [cmd, args];
}

async function chownToPgUser(path: string): Promise<void> {
  if (IS_ROOT) await run("chown", ["-R", `${OS_USER}:${OS_USER}`, path]);
}

/** Whether the data folder holds an initialised cluster. */
export async function clusterExists(cfg: StackConfig): Promise<boolean> {
  try {
    await Deno.stat(`${cfg.pgData}/PG_VERSION`);
    return true;
  } catch {
    return false;
  }
}

/** Creates the cluster (once) and writes the stack's settings into postgresql.conf. */
export async function initCluster(cfg: StackConfig): Promise<void> {
  if (cfg.externalPgHome) {
    // /var/tmp/tmdb-sync-<hash> must be traversable by the postgres OS user
    const parent = cfg.externalPgHome.slice(0, cfg.externalPgHome.lastIndexOf("/"));
    await Deno.mkdir(parent, { recursive: true });
    await Deno.chmod(parent, 0o755);
  }
  await Deno.mkdir(cfg.pgData, { recursive: true, mode: 0o700 });
  await Deno.mkdir(cfg.dir, { recursive: true });
  await chownToPgUser(cfg.externalPgHome ?? cfg.dir);
  const pwfile = `${cfg.externalPgHome ?? cfg.dir}/.pwfile`;
  await Deno.writeTextFile(pwfile, "postgres\n", { mode: 0o600 });
  await chownToPgUser(pwfile);
  const [cmd, args] = asPgUser(`${PG_BIN}/initdb`, [
    "-D",
    cfg.pgData,
    "-U",
    "supabase_admin",
    `--pwfile=${pwfile}`,
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
    "--encoding=UTF8",
    "--locale=C.UTF-8",
  ]);
  try {
    await run(cmd, args);
  } finally {
    await Deno.remove(pwfile).catch(() => {});
  }
  await Deno.writeTextFile(`${cfg.pgData}/postgresql.conf`, clusterSettings(cfg), {
    append: true,
  });
}

/**
 * What the stack appends to postgresql.conf: its port on 127.0.0.1 only, pg_cron, UTC, and
 * durability (fsync and friends) only for the dev stack; the throwaway stacks trade it for
 * speed.
 */
export function clusterSettings(cfg: Pick<StackConfig, "name" | "pgPort">): string {
  const durable = cfg.name === "dev" ? "on" : "off";
  return `
# ---- local stack settings (local/lib/pg_cluster.ts) ----
listen_addresses = '127.0.0.1'
port = ${cfg.pgPort}
unix_socket_directories = ''
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
cron.max_running_jobs = 8
max_worker_processes = 32
max_connections = 200
timezone = 'UTC'
log_timezone = 'UTC'
fsync = ${durable}
synchronous_commit = ${durable}
full_page_writes = ${durable}
shared_buffers = '256MB'
work_mem = '16MB'
maintenance_work_mem = '256MB'
logging_collector = off
log_min_messages = warning
`;
}

/** Whether the server of this cluster is running. */
export async function serverRunning(cfg: StackConfig): Promise<boolean> {
  if (!(await clusterExists(cfg))) return false;
  const [cmd, args] = asPgUser(`${PG_BIN}/pg_ctl`, ["status", "-D", cfg.pgData]);
  const res = await run(cmd, args, { allowFail: true });
  return res.code === 0;
}

/** Starts the server and waits until it accepts connections. */
export async function startServer(cfg: StackConfig): Promise<void> {
  const logFile = cfg.pgLog;
  await Deno.writeTextFile(logFile, "", { append: true });
  await chownToPgUser(logFile);
  // A postmaster.pid left by a killed server blocks the start; pg_ctl removes a stale one
  // itself only when no process has that pid, which is the common case.
  const [cmd, args] = asPgUser(`${PG_BIN}/pg_ctl`, [
    "start",
    "-D",
    cfg.pgData,
    "-l",
    logFile,
    "-w",
    "-t",
    "60",
  ]);
  const res = await run(cmd, args, { allowFail: true });
  if (res.code !== 0) {
    let tail = "";
    try {
      tail = (await Deno.readTextFile(logFile)).split("\n").slice(-15).join("\n");
    } catch { /* no log */ }
    throw new Error(
      startFailureMessage(cfg, { code: res.code, stderr: res.stderr, logFile, tail }),
    );
  }
}

/**
 * Why `pg_ctl start` failed and what to do: its output, the log's last lines, and a hint for
 * the stale lock file a killed server leaves behind.
 */
export function startFailureMessage(
  cfg: Pick<StackConfig, "pgData" | "pgPort">,
  failure: { code: number; stderr: string; logFile: string; tail: string },
): string {
  const { code, stderr, logFile, tail } = failure;
  const stale = /lock file .*postmaster\.pid.* already exists/i.test(stderr + tail)
    ? `A stale lock file blocks the start: if no PostgreSQL of this stack is running ` +
      `(\`ps aux | grep postgres\`), delete ${cfg.pgData}/postmaster.pid and retry.\n`
    : "";
  return `PostgreSQL did not start on port ${cfg.pgPort} (exit ${code}).\n${stderr}\n${stale}` +
    `Last lines of ${logFile}:\n${tail}\n` +
    `If the port is in use, stop what holds it (\`ss -ltnp | grep ${cfg.pgPort}\`); ` +
    `to start over, run \`npm run reset\`.`;
}

/** Stops the server (fast mode: open transactions are rolled back). */
export async function stopServer(
  cfg: StackConfig,
  mode: "fast" | "immediate" = "fast",
): Promise<void> {
  if (!(await serverRunning(cfg))) return;
  const [cmd, args] = asPgUser(`${PG_BIN}/pg_ctl`, ["stop", "-D", cfg.pgData, "-m", mode, "-w"]);
  await run(cmd, args);
}

/** Runs a SQL file through psql as `role` with ON_ERROR_STOP. */
export async function psqlFile(cfg: StackConfig, role: string, file: string): Promise<string> {
  const res = await run(`${PG_BIN}/psql`, [
    "-X",
    "-q",
    "-v",
    "ON_ERROR_STOP=1",
    "-h",
    "127.0.0.1",
    "-p",
    String(cfg.pgPort),
    "-U",
    role,
    "-d",
    "postgres",
    "-f",
    file,
  ], { env: { PGPASSWORD: "postgres", PGOPTIONS: "--client-min-messages=warning" } });
  return res.stdout;
}

/** Path of a PostgreSQL client binary. */
export function pgBin(name: string): string {
  return `${PG_BIN}/${name}`;
}
