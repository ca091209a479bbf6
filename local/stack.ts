/**
 * The local stack's command line: `deno run -A local/stack.ts <command>`, normally reached
 * through `npm start|stop|status|reset|test|bench` (local/bin/stack installs prerequisites
 * first).
 *
 *   start   bring the dev stack up (reusing a running one and its data), apply pending
 *           migrations, run the main job once and print what it did; leaves it running
 *   stop    stop every process of the dev stack; ports 54321/54322/54329 are freed
 *   status  processes, ports, migrations, cron jobs, pending pg_net requests, queue,
 *           refresh-worker chains, payload drift of the last 24 h
 *   reset   stop the dev stack and delete its data (.stack/dev)
 *   test    the whole test suite on a throwaway stack (see local/test_runner.ts)
 *   bench   the benchmarks on a throwaway stack (see local/bench/)
 */
import { down, reset, step, up } from "./lib/stack.ts";
import { stackConfig, type StackName } from "./lib/stack_config.ts";
import { printStatus } from "./lib/status.ts";

const [command = "start", ...rest] = Deno.args;
const stackName = (Deno.env.get("STACK") ?? "dev") as StackName;

async function main(): Promise<number> {
  const cfg = stackConfig(stackName);
  switch (command) {
    case "start": {
      const info = await up(cfg);
      step(
        `stack "${cfg.name}" is up: Postgres ${
          info.dbUrl.replace(/:postgres@/, ":***@")
        }, functions ${info.functionsUrl}` +
          (info.tmdbIsStandin ? `, TMDB stand-in ${info.tmdbUrl}` : `, real TMDB ${info.tmdbUrl}`),
      );
      if (!rest.includes("--no-job")) {
        const { runMainJob } = await import("./main_job.ts");
        return await runMainJob(cfg, info);
      }
      return 0;
    }
    case "stop":
      await down(cfg);
      step(`stack "${cfg.name}" stopped`);
      return 0;
    case "status":
      return await printStatus(cfg);
    case "reset":
      await reset(cfg);
      return 0;
    case "test": {
      const { runAllTests } = await import("./test_runner.ts");
      return await runAllTests(rest);
    }
    case "bench": {
      const { runBench } = await import("./bench/bench.ts");
      return await runBench(rest);
    }
    default:
      console.error(
        `unknown command "${command}". Commands: start, stop, status, reset, test, bench`,
      );
      return 2;
  }
}

try {
  Deno.exit(await main());
} catch (e) {
  console.error(`[stack] error: ${(e as Error).message}`);
  Deno.exit(1);
}
