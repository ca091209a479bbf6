/**
 * Entry point of `discover-movies`: wires the real dependencies (built lazily from the
 * environment on the first request) into the handler. See `handler.ts` for the API.
 *
 * @module
 */

import { bootstrapLogger, getRuntime } from "../_shared/runtime.ts";
import { createHandler, FUNCTION_NAME } from "./handler.ts";

Deno.serve(
  createHandler({
    getDeps: () => getRuntime(FUNCTION_NAME),
    logger: bootstrapLogger(FUNCTION_NAME),
  }),
);
