/**
 * The functions host's command line, the process the local stack starts
 * (`deno run -A local/functions_host.ts --help`). The host is in local/functions_host/; see
 * docs/functions-host.md.
 *
 * @module
 */

import { main } from "./functions_host/cli.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
