/**
 * The functions host's command line (`deno run -A local/functions_host.ts --help`): flags to
 * {@linkcode FunctionsHostOptions}, the base env from a JSON file, and a process that runs
 * until SIGTERM or SIGINT.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { EDGE_LIMIT_SPECS, edgeLimitFromFlag } from "./edge_limits.ts";
import {
  DEFAULT_BOOT_TIMEOUT_MS,
  type FunctionsHost,
  type FunctionsHostOptions,
  REPO_ROOT,
  startFunctionsHost,
} from "./host.ts";
import { logEntry } from "./log.ts";

/** Default CLI port: the dev stack's functions host (docs/CONVENTIONS.md). */
export const DEFAULT_CLI_PORT = 54321;

/** What `--help` prints. */
export const CLI_USAGE = `Usage: deno run --allow-all local/functions_host.ts [flags]

Serves supabase/functions/<name>/index.ts at http://HOST:PORT/functions/v1/<name>.
Needs --allow-all: it reads each function's CPU time and memory in /proc, which Deno grants
only to -A (the host can run subprocesses anyway).

  --port N             port to listen on, 0 = any free port (default ${DEFAULT_CLI_PORT})
  --hostname H         interface to listen on (default 127.0.0.1)
  --functions-dir DIR  folder of functions (default <repo>/supabase/functions)
  --env-file FILE      dotenv file of secrets, may be missing (default <functions-dir>/.env)
  --env-json FILE      JSON object of the base env (SUPABASE_URL, keys, …); kept in a file so
                       secrets never appear on a command line
  --boot-timeout-ms N  cold-start limit (default ${DEFAULT_BOOT_TIMEOUT_MS})
  --config FILE        deno.json for the functions (default <repo>/deno.json)
  --deno-path FILE     deno binary for the functions (default: this one)
  --help               show this text

Edge runtime limits, per function process (hosted values by default; may only be lowered):
${
  EDGE_LIMIT_SPECS.map((spec) =>
    `  --${spec.flag} N`.padEnd(23) + `${spec.min}..${spec.max} (default ${spec.default})`
  ).join("\n")
}

Prints one JSON log line per event on stdout, {"event":"listening",…} once ready.
Stops its function processes and exits on SIGTERM or SIGINT.`;

/** What the command line asks for: the usage text, or a host with these options. */
export type CliCommand =
  | { help: true }
  | {
    help: false;
    /** The host's options, but for `env`, which comes from the `--env-json` file. */
    options: Omit<FunctionsHostOptions, "env">;
    /** The `--env-json` file, if given. */
    envJson: string | undefined;
  };

function integerFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) {
    throw new Error(`--${flag} must be a non-negative integer: got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/**
 * Parses the flags of `--help`. Throws naming the flag and the value for an unknown flag, a
 * positional argument, a number that is not one, or a limit outside its range.
 */
export function parseCliArgs(args: string[]): CliCommand {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: "string" },
      hostname: { type: "string" },
      "functions-dir": { type: "string" },
      "env-file": { type: "string" },
      "env-json": { type: "string" },
      "boot-timeout-ms": { type: "string" },
      ...Object.fromEntries(
        EDGE_LIMIT_SPECS.map((spec) => [spec.flag, { type: "string" as const }]),
      ),
      config: { type: "string" },
      "deno-path": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return { help: true };
  const functionsDir = resolve(values["functions-dir"] ?? join(REPO_ROOT, "supabase/functions"));
  return {
    help: false,
    envJson: values["env-json"],
    options: {
      port: integerFlag("port", values.port) ?? DEFAULT_CLI_PORT,
      hostname: values.hostname,
      functionsDir,
      envFile: values["env-file"] ?? join(functionsDir, ".env"),
      ...Object.fromEntries(
        EDGE_LIMIT_SPECS.map((spec) => [
          spec.option,
          edgeLimitFromFlag(spec, (values as Record<string, string | undefined>)[spec.flag]),
        ]),
      ),
      bootTimeoutMs: integerFlag("boot-timeout-ms", values["boot-timeout-ms"]),
      configPath: values.config,
      denoPath: values["deno-path"],
    },
  };
}

const EnvJson = z.record(z.string(), z.string());

/** Reads the `--env-json` file: a JSON object of strings. Errors name the file and the problem. */
export async function readEnvJson(path: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`Cannot read --env-json ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`--env-json ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = EnvJson.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
      .join("; ");
    throw new Error(`--env-json ${path} must be a JSON object of strings: ${problems}`);
  }
  return parsed.data;
}

/**
 * CLI entry: parses `args` (see `--help`), starts the host and keeps it running until SIGTERM
 * or SIGINT. Resolves with the exit code for a usage or startup error, or 0 for `--help`;
 * otherwise the process exits from the signal handler.
 */
export async function main(args: string[]): Promise<number> {
  let host: FunctionsHost;
  try {
    const command = parseCliArgs(args);
    if (command.help) {
      console.log(CLI_USAGE);
      return 0;
    }
    const env = command.envJson ? await readEnvJson(command.envJson) : {};
    if (!command.envJson) {
      console.log(JSON.stringify(logEntry("warn", "no_env_json", {
        message: "No --env-json given: functions get no SUPABASE_* variables",
      })));
    }
    host = await startFunctionsHost({ ...command.options, env });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(JSON.stringify(logEntry("error", "startup_failed", { message })));
    return 1;
  }
  let stopping = false;
  const stop = async (signal: Deno.Signal) => {
    if (stopping) return;
    stopping = true;
    console.log(JSON.stringify(logEntry("info", "shutdown", { signal })));
    await host.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  return await new Promise<number>(() => {
    // Runs until a signal handler exits the process.
  });
}
