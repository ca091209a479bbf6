import assert from "node:assert/strict";
import { FunctionPool, type FunctionPoolOptions, PoolClosedError } from "./function_pool.ts";

/** A process that does nothing: the pool only looks at `exited` and what `retireReason` says. */
class FakeProcess {
  exited = false;
  retire: string | null = null;
  constructor(readonly id: number) {}
}

function fakePool(options: Partial<FunctionPoolOptions<FakeProcess>> = {}) {
  let nextId = 1;
  let now = 0;
  const stopped: Array<[number, string]> = [];
  const pool = new FunctionPool<FakeProcess>({
    spawn: () => new FakeProcess(nextId++),
    stop: (process, reason) => {
      stopped.push([process.id, reason]);
      process.exited = true;
    },
    retireReason: (process) => process.retire,
    maxProcesses: 16,
    idleMs: 1_000,
    now: () => now,
    ...options,
  });
  return { pool, stopped, advance: (ms: number) => (now += ms) };
}

Deno.test("FunctionPool reuses an idle process, the most recently used first", async () => {
  const { pool } = fakePool();
  const a = await pool.acquire();
  const b = await pool.acquire();
  assert.deepEqual([a.id, b.id], [1, 2]);
  pool.release(a, { reusable: true });
  pool.release(b, { reusable: true });
  assert.equal((await pool.acquire()).id, 2);
  assert.equal((await pool.acquire()).id, 1);
  assert.equal((await pool.acquire()).id, 3);
});

Deno.test("FunctionPool never gives one process to two requests at once", async () => {
  const { pool } = fakePool();
  const taken = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
  assert.deepEqual(taken.map((p) => p.id), [1, 2, 3]);
  assert.equal(pool.busy, 3);
});

Deno.test("FunctionPool makes requests wait in order beyond maxProcesses and hands over freed processes", async () => {
  const { pool } = fakePool({ maxProcesses: 2 });
  const a = await pool.acquire();
  const b = await pool.acquire();
  const order: number[] = [];
  const third = pool.acquire().then((p) => (order.push(3), p));
  const fourth = pool.acquire().then((p) => (order.push(4), p));
  assert.equal(pool.waiting, 2);
  pool.release(b, { reusable: true });
  assert.equal((await third).id, b.id);
  // A process that must go is replaced by a new one for the next in line.
  pool.release(a, { reusable: false, reason: "cpu" });
  assert.equal((await fourth).id, 3);
  assert.deepEqual(order, [3, 4]);
  assert.equal(pool.busy, 2);
});

Deno.test("FunctionPool stops a released process that must retire instead of keeping it", async () => {
  const { pool, stopped } = fakePool();
  const a = await pool.acquire();
  a.retire = "cpu";
  pool.release(a, { reusable: true });
  assert.deepEqual(stopped, [[1, "cpu"]]);
  assert.equal((await pool.acquire()).id, 2);
});

Deno.test("FunctionPool skips idle processes that exited or must retire when handing one out", async () => {
  const { pool, stopped } = fakePool();
  const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
  pool.release(a, { reusable: true });
  pool.release(b, { reusable: true });
  b.retire = "wall_clock";
  a.exited = true;
  assert.equal((await pool.acquire()).id, 3);
  assert.deepEqual(stopped, [[2, "wall_clock"]]);
});

Deno.test("FunctionPool frees the place of a process that exited while busy", async () => {
  const { pool } = fakePool({ maxProcesses: 1 });
  const a = await pool.acquire();
  const waiting = pool.acquire();
  a.exited = true;
  pool.exited(a);
  assert.equal((await waiting).id, 2);
  pool.release(a, { reusable: true }); // Late release of the dead one: ignored.
  assert.equal(pool.busy, 1);
});

Deno.test("FunctionPool.sweep() keeps the most recently used idle process and stops others idle for idleMs", async () => {
  const { pool, stopped, advance } = fakePool({ idleMs: 1_000 });
  const [a, b, c] = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
  pool.release(a, { reusable: true });
  advance(500);
  pool.release(b, { reusable: true });
  pool.release(c, { reusable: true });
  advance(600); // a idle 1,100 ms, b and c 600 ms.
  pool.sweep();
  assert.deepEqual(stopped, [[1, "idle"]]);
  advance(5_000);
  pool.sweep();
  assert.deepEqual(stopped, [[1, "idle"], [2, "idle"]]);
  assert.equal(pool.idle, 1);
  c.retire = "wall_clock";
  pool.sweep();
  assert.deepEqual(stopped.at(-1), [3, "wall_clock"]);
  assert.equal(pool.idle, 0);
});

Deno.test("FunctionPool.close() rejects waiting and later requests", async () => {
  const { pool } = fakePool({ maxProcesses: 1 });
  await pool.acquire();
  const waiting = pool.acquire();
  pool.close();
  await assert.rejects(waiting, PoolClosedError);
  await assert.rejects(pool.acquire(), PoolClosedError);
});

Deno.test("FunctionPool refuses a maxProcesses below 1, showing the value", () => {
  assert.throws(
    () => fakePool({ maxProcesses: 0 }),
    /maxProcesses must be a positive integer: current value is 0/,
  );
});
