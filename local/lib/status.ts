/** `npm run status`: the health of a local stack at a glance. */
import postgres from "postgres";
import { serverRunning } from "./pg_cluster.ts";
import { portOpen, readPid } from "./procs.ts";
import { SERVICES } from "./stack.ts";
import { dbUrl, type StackConfig } from "./stack_config.ts";

/** Prints processes, ports, migrations, cron jobs, pg_net backlog and queue counts. */
export async function printStatus(cfg: StackConfig): Promise<number> {
  const line = (k: string, v: string) => console.log(`${k.padEnd(22)} ${v}`);
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
    const portState = port
      ? (await portOpen(port) ? `, port ${port} open` : `, port ${port} closed`)
      : "";
    line(s, pid ? `running (pid ${pid}${portState})` : `stopped${portState}`);
  }
  if (!pgUp) return 1;
  const sql = postgres(dbUrl(cfg, "postgres"), { max: 1, onnotice: () => {} });
  try {
    const migrations =
      await sql`select version, name from supabase_migrations.schema_migrations order by version`
        .catch(() => []);
    line(
      "migrations applied",
      `${migrations.length}${
        migrations.length
          ? ` (latest ${migrations.at(-1)!.version}_${migrations.at(-1)!.name})`
          : ""
      }`,
    );
    const jobs = await sql`
      select j.jobname, j.schedule, j.active,
             (select max(d.start_time) from cron.job_run_details d where d.jobid = j.jobid) as last_run,
             (select d.status from cron.job_run_details d where d.jobid = j.jobid order by d.start_time desc limit 1) as last_status
      from cron.job j order by j.jobname`.catch(() => []);
    console.log(`cron jobs (${jobs.length}):`);
    for (const j of jobs) {
      console.log(
        `  ${String(j.jobname).padEnd(28)} ${String(j.schedule).padEnd(16)} ${
          j.active ? "active" : "PAUSED"
        }  last run: ${
          j.last_run ? `${new Date(j.last_run).toISOString()} (${j.last_status})` : "never"
        }`,
      );
    }
    const [net] = await sql`select
        (select count(*) from net.http_request_queue)::int as pending,
        (select count(*) from net._http_response)::int as responses,
        (select count(*) from net._http_response where error_msg is not null or timed_out)::int as failed`
      .catch(() => [{ pending: "?", responses: "?", failed: "?" }]);
    line(
      "pg_net",
      `${net.pending} pending, ${net.responses} responses kept (${net.failed} errors/timeouts)`,
    );
    const queue =
      await sql`select status, count(*)::int as n from public.refresh_queue group by status order by status`
        .catch(() => null);
    if (queue) {
      line(
        "refresh_queue",
        queue.length ? queue.map((r) => `${r.status}=${r.n}`).join(" ") : "empty",
      );
    }
    const works = await sql`select count(*)::int as n from public.works`.catch(() => null);
    if (works) line("works", String(works[0].n));
  } finally {
    await sql.end();
  }
  return 0;
}
