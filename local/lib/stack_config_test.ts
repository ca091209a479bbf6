import assert from "node:assert/strict";
import { portOffset, stackConfig, standinVariationArgs } from "./stack_config.ts";

const env = (value?: string) => ({
  get: (name: string) => name === "STACK_PORT_OFFSET" ? value : undefined,
});

Deno.test("portOffset() is 0 when STACK_PORT_OFFSET is unset or blank", () => {
  assert.equal(portOffset(env()), 0);
  assert.equal(portOffset(env("  ")), 0);
});

Deno.test("portOffset() accepts negative and positive integers that keep every port valid", () => {
  assert.equal(portOffset(env("-20000")), -20000);
  assert.equal(portOffset(env("1000")), 1000);
});

Deno.test("portOffset() names the allowed range for a bad value", () => {
  assert.throws(
    () => portOffset(env("abc")),
    /STACK_PORT_OFFSET must be an integer from -53297 to 5206: current value is "abc"/,
  );
  assert.throws(() => portOffset(env("6000")), /current value is "6000"/);
  assert.throws(() => portOffset(env("-54000")), /current value is "-54000"/);
});

Deno.test("stackConfig() applies the offset of the environment to every port", () => {
  const before = Deno.env.get("STACK_PORT_OFFSET");
  try {
    Deno.env.set("STACK_PORT_OFFSET", "-20000");
    const cfg = stackConfig("test");
    assert.deepEqual([cfg.functionsPort, cfg.pgPort, cfg.tmdbPort], [35321, 35322, 35329]);
  } finally {
    if (before === undefined) Deno.env.delete("STACK_PORT_OFFSET");
    else Deno.env.set("STACK_PORT_OFFSET", before);
  }
});

Deno.test("standinVariationArgs() turns the stand-in's variation off only for TMDB_STANDIN_VARIATION=off", () => {
  const variation = (value?: string) => ({
    get: (name: string) => name === "TMDB_STANDIN_VARIATION" ? value : undefined,
  });
  assert.deepEqual(standinVariationArgs(variation()), []);
  assert.deepEqual(standinVariationArgs(variation(" ")), []);
  assert.deepEqual(standinVariationArgs(variation("on")), []);
  assert.deepEqual(standinVariationArgs(variation("off")), ["--variation", "off"]);
  assert.deepEqual(standinVariationArgs(variation(" OFF ")), ["--variation", "off"]);
  assert.throws(
    () => standinVariationArgs(variation("no")),
    /TMDB_STANDIN_VARIATION must be on or off: current value is "no"/,
  );
});
