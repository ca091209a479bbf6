import assert from "node:assert/strict";
import { SALT } from "./salts.ts";

Deno.test("salts are distinct and below the variation layer's (0x5641 on)", () => {
  const values = Object.values(SALT);
  assert.equal(new Set(values).size, values.length, "two streams share a salt");
  for (const v of values) assert.ok(Number.isInteger(v) && v > 0 && v < 0x5641, `salt ${v}`);
});
