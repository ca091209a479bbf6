/**
 * Where a local stack lives and which ports it uses. Three stacks can coexist on one
 * machine: `dev` (npm start), `test` (npm test, throwaway) and `bench` (npm run bench,
 * throwaway). Each has its own data folder under `.stack/<name>/` (gitignored).
 */

/** Names of the local stacks. */
export type StackName = "dev" | "test" | "bench" | "scratch" | "lifecycle" | "work" | "faults";

/** Everything a component needs to know about one local stack. */
export interface StackConfig {
  name: StackName;
  /** Repository root (absolute). */
  root: string;
  /** `.stack/<name>` (absolute). */
  dir: string;
  pgData: string;
  /** PostgreSQL's own log file (beside the data folder). */
  pgLog: string;
  /**
   * Folder holding pgdata when it cannot live in `dir`: when run as root, the server runs as
   * the `postgres` OS user, which must be able to reach the data folder. A checkout under a
   * private folder (e.g. /root) is not reachable, so the cluster then lives in
   * /var/tmp/tmdb-sync-<hash of the repo path>/<name>. Null when pgdata is in `dir`.
   */
  externalPgHome: string | null;
  logDir: string;
  pidDir: string;
  pgPort: number;
  functionsPort: number;
  tmdbPort: number;
  /** File with the generated keys (mode 0600). */
  keysFile: string;
  /** Machine-readable description of the running stack, read by tests and tools. */
  infoFile: string;
}

const PORTS: Record<StackName, { pg: number; functions: number; tmdb: number }> = {
  dev: { pg: 54322, functions: 54321, tmdb: 54329 },
  test: { pg: 55322, functions: 55321, tmdb: 55329 },
  bench: { pg: 56322, functions: 56321, tmdb: 56329 },
  scratch: { pg: 57322, functions: 57321, tmdb: 57329 },
  lifecycle: { pg: 58322, functions: 58321, tmdb: 58329 },
  work: { pg: 59322, functions: 59321, tmdb: 59329 },
  faults: { pg: 60322, functions: 60321, tmdb: 60329 },
};

/**
 * `STACK_PORT_OFFSET`: an integer added to every port above (default 0), so that two
 * checkouts on one machine (e.g. two git worktrees) can run their stacks side by side.
 * Every resulting port must stay within 1024..65535.
 */
export function portOffset(env: { get(name: string): string | undefined } = Deno.env): number {
  const text = env.get("STACK_PORT_OFFSET")?.trim();
  if (text === undefined || text === "") return 0;
  const offset = /^-?\d+$/.test(text) ? Number(text) : NaN;
  const lowest = Math.min(...Object.values(PORTS).flatMap((p) => [p.pg, p.functions, p.tmdb]));
  const highest = Math.max(...Object.values(PORTS).flatMap((p) => [p.pg, p.functions, p.tmdb]));
  if (!Number.isSafeInteger(offset) || lowest + offset < 1024 || highest + offset > 65535) {
    throw new Error(
      `STACK_PORT_OFFSET must be an integer from ${1024 - lowest} to ${65535 - highest}: ` +
        `current value is ${JSON.stringify(text)}`,
    );
  }
  return offset;
}

/**
 * The TMDB stand-in's variation flag from `TMDB_STANDIN_VARIATION`: `["--variation", "off"]`
 * for `off`, nothing when it is unset, blank or `on` (the stand-in varies its payloads like
 * real TMDB unless told otherwise; see docs/tmdb-standin.md).
 */
export function standinVariationArgs(
  env: { get(name: string): string | undefined } = Deno.env,
): string[] {
  const text = env.get("TMDB_STANDIN_VARIATION")?.trim().toLowerCase() ?? "";
  if (text === "" || text === "on") return [];
  if (text === "off") return ["--variation", "off"];
  throw new Error(
    `TMDB_STANDIN_VARIATION must be on or off: current value is ${
      JSON.stringify(env.get("TMDB_STANDIN_VARIATION"))
    }`,
  );
}

/** Repository root, derived from this file's location (local/lib/). */
export const REPO_ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Builds the configuration of the named stack. */
export function stackConfig(name: StackName, root = REPO_ROOT): StackConfig {
  const base = PORTS[name];
  if (!base) {
    throw new Error(
      `unknown stack "${name}": expected one of dev, test, bench, scratch, lifecycle, work, faults`,
    );
  }
  const offset = portOffset();
  const ports = {
    pg: base.pg + offset,
    functions: base.functions + offset,
    tmdb: base.tmdb + offset,
  };
  const dir = `${root}/.stack/${name}`;
  const externalPgHome = postgresUserCanReach(root)
    ? null
    : `/var/tmp/tmdb-sync-${pathHash(root)}/${name}`;
  const pgHome = externalPgHome ?? dir;
  return {
    name,
    root,
    dir,
    pgData: `${pgHome}/pgdata`,
    pgLog: `${pgHome}/postgres.log`,
    externalPgHome,
    logDir: `${dir}/logs`,
    pidDir: `${dir}/run`,
    pgPort: ports.pg,
    functionsPort: ports.functions,
    tmdbPort: ports.tmdb,
    keysFile: `${dir}/keys.json`,
    infoFile: `${dir}/stack.json`,
  };
}

/**
 * Whether the unprivileged `postgres` OS user (who runs the server when we are root) can
 * traverse every folder down to `path`. Not root → the server runs as us: always true.
 */
function postgresUserCanReach(path: string): boolean {
  if (Deno.uid() !== 0) return true;
  let current = path;
  while (current && current !== "/") {
    try {
      const st = Deno.statSync(current);
      // root-owned folders are reachable by others only through the "other" execute bit
      if (st.mode !== null && (st.mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    current = current.slice(0, current.lastIndexOf("/"));
  }
  return true;
}

function pathHash(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/** Connection URL for a role of the stack's database (local passwords are Supabase's defaults). */
export function dbUrl(cfg: StackConfig, role: "postgres" | "supabase_admin" = "postgres"): string {
  return `postgresql://${role}:postgres@127.0.0.1:${cfg.pgPort}/postgres`;
}

/** What `stack.json` holds: everything a test needs to reach a running stack. */
export interface StackInfo {
  name: StackName;
  dbUrl: string;
  adminDbUrl: string;
  functionsUrl: string;
  projectUrl: string;
  tmdbUrl: string;
  tmdbToken: string | null;
  tmdbIsStandin: boolean;
  serviceRoleKey: string;
  anonKey: string;
  secretKey: string;
  publishableKey: string;
  /** The invocation secret cron calls are signed with (Vault `edge_invoke_secret`). */
  edgeInvokeSecret: string;
}

/** Reads the info file of a running stack (written by `stack.ts start`). */
export async function readStackInfo(path: string): Promise<StackInfo> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as StackInfo;
  } catch (e) {
    throw new Error(
      `cannot read stack info ${path}: ${(e as Error).message}. Start the stack first (npm start).`,
    );
  }
}
