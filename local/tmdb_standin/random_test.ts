import assert from "node:assert/strict";
import { hash4, mulberry32, Rng, unit4 } from "./random.ts";

Deno.test("mulberry32 and Rng are deterministic per seed; hash4 is stateless", () => {
  const a = mulberry32(7);
  const b = mulberry32(7);
  for (let i = 0; i < 100; i++) assert.equal(a(), b());
  assert.notEqual(mulberry32(8)(), mulberry32(7)());
  assert.equal(hash4(1, 2, 3, 4), hash4(1, 2, 3, 4));
  assert.notEqual(hash4(1, 2, 3, 4), hash4(1, 2, 3, 5));
  assert.equal(hash4(1, -2), hash4(1, -2), "negative values are fine");
  const u = unit4(9, 9, 9, 9);
  assert.ok(u >= 0 && u < 1);
});

Deno.test("Rng helpers stay in range and chars draws from the alphabet", () => {
  const rng = new Rng(hash4(1, 2));
  for (let i = 0; i < 1000; i++) {
    const n = rng.int(7);
    assert.ok(Number.isInteger(n) && n >= 0 && n < 7);
    const r = rng.range(3, 5);
    assert.ok(r >= 3 && r <= 5);
  }
  const s = rng.chars("ab-", 500);
  assert.equal(s.length, 500);
  assert.match(s, /^[ab-]+$/);
  assert.ok(s.includes("a") && s.includes("b") && s.includes("-"));
  // chars consumes exactly one draw per character
  const x = new Rng(5);
  const y = new Rng(5);
  x.chars("abc", 11);
  for (let i = 0; i < 11; i++) y.next();
  assert.equal(x.next(), y.next());
});

Deno.test("Rng draws mulberry32's sequence; skip(n) equals n draws", () => {
  const m = mulberry32(12345);
  const r = new Rng(12345);
  for (let i = 0; i < 1000; i++) assert.equal(r.next(), m());
  for (const n of [0, 1, 27, 1000, 123_456]) {
    const a = new Rng(99);
    const b = new Rng(99);
    a.skip(n);
    for (let i = 0; i < n; i++) b.next();
    assert.equal(a.next(), b.next(), `skip(${n})`);
  }
});
