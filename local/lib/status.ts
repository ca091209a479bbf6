/** `npm run status`: the health of a local stack at a glance. */
import postgres from "postgres";
import { serverRunning } from "./pg_cluster.ts";
import { portOpen, readPid } from "./procs.ts";
import { SERVICES } from "./stack.ts";
import { dbUrl, type StackConfig } from "./stack_config.ts";

/** One `name  value` line of the status, the values aligned. */
export function statusLine(name: string, value: string): string {
  return `${name.padEnd(22)} ${value}`;
}

/** A service's state: its pid when running, and whether its port (if it has one) is open. */
export function serviceState(pid: number | null, port?: { port: number; open: boolean }): string {
  const portState = port ? `, port ${port.port} ${port.open ? "open" : "closed"}` : "";
  return pid ? `running (pid ${pid}${portState})` : `stopped${portState}`;
}

/** How many migrations are applied, and the latest. */
export function migrationsState(applied: ReadonlyArray<{ version: string; name: string }>): string {
  const latest = applied.at(-1);
  return `${applied.length}${latest ? ` (latest ${latest.version}_${latest.name})` : ""}`;
}

/** A row of `cron.job` with its last run. */
export interface CronJob {
  /** Null for a job scheduled without a name. */
  jobname: string | null;
  schedule: string;
  active: boolean;
  last_run: Date | string | null;
  last_status: string | null;
}

/** One cron job: name, schedule, active or paused, and its last run. */
export function cronJobLine(job: CronJob): string {
  const lastRun = job.last_run
    ? `${new Date(job.last_run).toISOString()} (${job.last_status})`
    : "never";
  return `  ${String(job.jobname).padEnd(28)} ${job.schedule.padEnd(16)} ${
    job.active ? "active" : "PAUSED"
  }  last run: ${lastRun}`;
}

/** Counts by status (`pending=3 done=10`), or `empty`. */
export function countsByStatus(rows: ReadonlyArray<{ status: string; n: number }>): string {
  return rows.length ? rows.map((r) => `${r.status}=${r.n}`).join(" ") : "empty";
}

/** Prints processes, ports, migrations, cron jobs, pg_net backlog and queue counts. */
export async function printStatus(cfg: StackConfig): Promise<number> {
  const line = (k: string, v: string) => console.log(statusLine(k, v));
  console.log(`stack "${cfg.name}" (${cfg.dir})`);
  const pgUp = await serverRunning(cfg);
  line("postgres", pgUp ? `running on 127.0.0.1:${cfg.pgPort}` : "stopped");
  const ports: Record<string, number> = {
    functions_host: cfg.functionsPort,
    tmdb_standin: cfg.tmdbPort,
  };
  for (const s of SERVICES) {
    const pid = await readPid(`${cfg.pidDir}/${s}.pid`);
    const port = ports[s];
    line(s, serviceState(pid, port ? { port, open: await portOpen(port) } : undefined));
  }
  if (!pgUp) return 1;
  const sql = postgres(dbUrl(cfg, "postgres"), { max: 1, onnotice: () => {} });
  try {
    const migrations = await sql<{ version: string; name: string }[]>`
      select version, name from supabase_migrations.schema_migrations order by version`
      .catch(() => []);
    line("migrations applied", migrationsState(migrations));
    const jobs = await sql<CronJob[]>`
      select j.jobname, j.schedule, j.active,
             (select max(d.start_time) from cron.job_run_details d where d.jobid = j.jobid) as last_run,
             (select d.status from cron.job_run_details d where d.jobid = j.jobid order by d.start_time desc limit 1) as last_status
      from cron.job j order by j.jobname`.catch(() => []);
    console.log(`cron jobs (${jobs.length}):`);
    for (const job of jobs) console.log(cronJobLine(job));
    const [net] = await sql`select
        (select count(*) from net.http_request_queue)::int as pending,
        (select count(*) from net._http_response)::int as responses,
        (select count(*) from net._http_response where error_msg is not null or timed_out)::int as failed`
      .catch(() => [{ pending: "?", responses: "?", failed: "?" }]);
    line(
      "pg_net",
      `${net.pending} pending, ${net.responses} responses kept (${net.failed} errors/timeouts)`,
    );
    const queue = await sql<{ status: string; n: number }[]>`
      select status, count(*)::int as n from public.refresh_queue group by status order by status`
      .catch(() => null);
    if (queue) line("refresh_queue", countsByStatus(queue));
    const works = await sql`select count(*)::int as n from public.works`.catch(() => null);
    if (works) line("works", String(works[0].n));
  } finally {
    await sql.end();
  }
  return 0;
}
