/**
 * `npm start` twice in a row succeeds (the second run reuses the running stack and its
 * data), `npm run status` reports it, and `npm stop` frees every port. Runs the same
 * script as `npm start` (local/bin/stack) on the `lifecycle` stack's own ports
 * (58321/58322/58329) so that it never touches a developer's `npm start` stack.
 */
import assert from "node:assert/strict";
import { portOpen } from "../local/lib/procs.ts";
import { stackConfig } from "../local/lib/stack_config.ts";
import { needsStack } from "./_stack.ts";

const cfg = stackConfig("lifecycle");

async function stackCmd(command: string): Promise<{ code: number; out: string }> {
  const res = await new Deno.Command("bash", {
    args: ["local/bin/stack", command],
    cwd: cfg.root,
    env: { STACK: "lifecycle" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(res.stdout) + new TextDecoder().decode(res.stderr);
  return { code: res.code, out };
}

Deno.test({
  name: "npm start run twice succeeds, status shows the stack, npm stop frees the ports",
  ...needsStack(),
  async fn() {
    await stackCmd("reset");
    try {
      const first = await stackCmd("start");
      assert.equal(first.code, 0, `first start failed:\n${first.out}`);
      const second = await stackCmd("start");
      assert.equal(second.code, 0, `second start failed:\n${second.out}`);
      assert.match(second.out, /PostgreSQL already running/);
      assert.match(second.out, /up to date/i, "no migration is applied twice");
      for (const port of [cfg.pgPort, cfg.functionsPort, cfg.tmdbPort]) {
        assert.ok(await portOpen(port), `port ${port} should be open while the stack runs`);
      }
      const status = await stackCmd("status");
      assert.equal(status.code, 0, status.out);
      assert.match(
        status.out,
        new RegExp(`postgres\\s+running on 127\\.0\\.0\\.1:${cfg.pgPort}\\b`),
      );
      assert.match(status.out, /functions_host\s+running/);
    } finally {
      const stop = await stackCmd("stop");
      assert.equal(stop.code, 0, `stop failed:\n${stop.out}`);
    }
    for (const port of [cfg.pgPort, cfg.functionsPort, cfg.tmdbPort]) {
      assert.equal(await portOpen(port), false, `port ${port} should be free after npm stop`);
    }
    await stackCmd("reset");
  },
});
