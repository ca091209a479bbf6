import assert from "node:assert/strict";
import { FakeClock } from "./clock.ts";
import { CHANGES_SYNC_KEY, createMemoryRefreshQueue } from "./refresh_queue.ts";

const NOW = Date.parse("2026-11-02T10:00:00Z");
const HOUR = 3_600_000;

function queueWith(ids: number[], clock = new FakeClock({ start: NOW })) {
  const queue = createMemoryRefreshQueue({ clock });
  for (const tmdb_id of ids) {
    queue.addWork({ tmdb_id, last_refreshed_at: NOW - 48 * HOUR, next_refresh_at: NOW - HOUR });
    queue.enqueue(tmdb_id);
  }
  return { queue, clock };
}

Deno.test("memory refresh queue: two workers never get the same item", async () => {
  const { queue } = queueWith([1, 2, 3, 4, 5]);
  const [a, b] = await Promise.all([
    queue.claimBatch("a", { batchSize: 3, leaseSeconds: 60 }),
    queue.claimBatch("b", { batchSize: 3, leaseSeconds: 60 }),
  ]);
  assert.deepEqual(a.map((i) => i.tmdb_id), [1, 2, 3]);
  assert.deepEqual(b.map((i) => i.tmdb_id), [4, 5]);
  assert.deepEqual(await queue.claimBatch("c", { batchSize: 3, leaseSeconds: 60 }), []);
});

Deno.test("memory refresh queue: a finish after the lease expired is a lost lease", async () => {
  const { queue, clock } = queueWith([1]);
  const [item] = await queue.claimBatch("a", { batchSize: 1, leaseSeconds: 10 });
  await clock.advance(11_000);
  const [again] = await queue.claimBatch("b", { batchSize: 1, leaseSeconds: 10 });
  assert.equal(again.attempt, 2);
  const late = await queue.finishBatch("a", [{ ...item, ok: true, result: "refreshed" }]);
  assert.deepEqual(late, { completed: 0, retried: 0, failed: 0, lost_lease: 1 });
  const ok = await queue.finishBatch("b", [{ ...again, ok: true, result: "unchanged" }]);
  assert.deepEqual(ok, { completed: 1, retried: 0, failed: 0, lost_lease: 0 });
  assert.equal(queue.items.get(item.queue_id)!.completions, 1);
});

Deno.test("memory refresh queue: failures retry until 3 attempts, non-retryable fail at once", async () => {
  const { queue } = queueWith([1, 2]);
  for (let attempt = 1; attempt <= 3; attempt++) {
    const claimed = await queue.claimBatch("w", { batchSize: 2, leaseSeconds: 60 });
    const item = claimed.find((i) => i.tmdb_id === 1)!;
    assert.equal(item.attempt, attempt);
    const results = claimed.map((i) => ({
      queue_id: i.queue_id,
      attempt: i.attempt,
      ok: false,
      error: "boom",
      retryable: i.tmdb_id === 1,
    }));
    const counts = await queue.finishBatch("w", results);
    if (attempt === 1) {
      assert.deepEqual(counts, { completed: 0, retried: 1, failed: 1, lost_lease: 0 });
    }
    if (attempt === 3) {
      assert.deepEqual(counts, { completed: 0, retried: 0, failed: 1, lost_lease: 0 });
    }
  }
  assert.deepEqual(
    [...queue.items.values()].map((i) => [i.tmdb_id, i.status, i.last_error]),
    [[1, "failed", "boom"], [2, "failed", "boom"]],
  );
});

Deno.test("memory refresh queue: changed works honour the 12 h floor and go before stale ones", async () => {
  const clock = new FakeClock({ start: NOW });
  const queue = createMemoryRefreshQueue({ clock });
  queue.addWork({ tmdb_id: 1, last_refreshed_at: NOW - 13 * HOUR, next_refresh_at: NOW + HOUR });
  queue.addWork({ tmdb_id: 2, last_refreshed_at: NOW - 11 * HOUR, next_refresh_at: NOW + HOUR });
  queue.addWork({ tmdb_id: 3, last_refreshed_at: NOW - 99 * HOUR, next_refresh_at: NOW - HOUR });
  assert.equal(await queue.enqueueChanged([1, 2, 404], 10), 1);
  assert.equal(await queue.enqueueStale(10), 1);
  assert.equal(await queue.enqueueStale(10), 0, "already queued");
  const claimed = await queue.claimBatch("w", { batchSize: 10, leaseSeconds: 60 });
  assert.deepEqual(claimed.map((i) => i.tmdb_id), [1, 3]);
});

Deno.test("memory refresh queue: the watermark only moves forward; last_sync_at always", async () => {
  const clock = new FakeClock({ start: NOW });
  const queue = createMemoryRefreshQueue({ clock });
  assert.equal(await queue.readSyncState(), null);
  await queue.recordChangesSync({ watermark: new Date(NOW), runId: "r1", error: null });
  await clock.advance(1000);
  await queue.recordChangesSync({ watermark: new Date(NOW - HOUR), runId: "r2", error: null });
  await clock.advance(1000);
  await queue.recordChangesSync({ watermark: null, runId: "r3", error: "page 2 failed" });
  const state = (await queue.readSyncState(CHANGES_SYNC_KEY))!;
  assert.equal(state.changes_watermark!.getTime(), NOW);
  assert.equal(state.last_sync_at!.getTime(), NOW + 2000);
  assert.equal(state.last_run_id, "r3");
  assert.equal(state.last_error, "page 2 failed");
});

Deno.test("memory refresh queue: finishAndClaim finishes a batch and claims the next in one call", async () => {
  const { queue } = queueWith([1, 2, 3, 4, 5]);
  const first = await queue.claimBatch("w", { batchSize: 2, leaseSeconds: 60 });
  const { finished, claimed } = await queue.finishAndClaim(
    "w",
    [
      { ...first[0], ok: true, result: "refreshed" },
      { ...first[1], ok: false, error: "401", retryable: false },
    ],
    { batchSize: 2, leaseSeconds: 60 },
  );
  assert.deepEqual(finished, { completed: 1, retried: 0, failed: 1, lost_lease: 0 });
  assert.deepEqual(claimed.map((i) => [i.tmdb_id, i.attempt]), [[3, 1], [4, 1]]);
  assert.deepEqual(
    [...queue.items.values()].map((i) => i.status),
    ["completed", "failed", "processing", "processing", "pending"],
  );
  assert.deepEqual(
    queue.finishAndClaimCalls.map((c) => [c.results.length, c.batchSize, c.got]),
    [[2, 2, 2]],
  );
  assert.deepEqual(queue.claimCalls.map((c) => c.combined), [false, true]);
  assert.deepEqual(queue.finishCalls.map((c) => c.combined), [true]);
});

Deno.test("memory refresh queue: finishAndClaim with no results just claims; batchSize 0 just finishes", async () => {
  const { queue } = queueWith([1, 2, 3]);
  const a = await queue.finishAndClaim("w", [], { batchSize: 2, leaseSeconds: 60 });
  assert.deepEqual(a.finished, { completed: 0, retried: 0, failed: 0, lost_lease: 0 });
  assert.deepEqual(a.claimed.map((i) => i.tmdb_id), [1, 2]);
  assert.equal(queue.finishCalls.length, 0, "nothing to finish");
  const b = await queue.finishAndClaim(
    "w",
    a.claimed.map((i) => ({ ...i, ok: true, result: "unchanged" as const })),
    { batchSize: 0, leaseSeconds: 60 },
  );
  assert.deepEqual(b, {
    finished: { completed: 2, retried: 0, failed: 0, lost_lease: 0 },
    claimed: [],
  });
  assert.equal(queue.claimCalls.length, 1, "batchSize 0 claims nothing");
  assert.equal(queue.items.get(3)!.status, "pending");
});

Deno.test("memory refresh queue: finishAndClaim keeps the lease rules (a late holder's result is lost_lease)", async () => {
  const { queue, clock } = queueWith([1]);
  const [item] = await queue.claimBatch("a", { batchSize: 1, leaseSeconds: 10 });
  await clock.advance(11_000);
  const b = await queue.finishAndClaim("b", [], { batchSize: 1, leaseSeconds: 10 });
  assert.deepEqual(b.claimed.map((i) => [i.queue_id, i.attempt]), [[item.queue_id, 2]]);
  const late = await queue.finishAndClaim("a", [{ ...item, ok: true, result: "refreshed" }], {
    batchSize: 1,
    leaseSeconds: 10,
  });
  assert.deepEqual(late, {
    finished: { completed: 0, retried: 0, failed: 0, lost_lease: 1 },
    claimed: [],
  });
  assert.equal(queue.items.get(item.queue_id)!.locked_by, "b");
});

Deno.test("memory refresh queue: finishAndClaim fails as a whole when its finish part fails", async () => {
  const queue = createMemoryRefreshQueue({ failOn: ["finishBatch"] });
  await assert.rejects(
    queue.finishAndClaim("w", [], { batchSize: 1, leaseSeconds: 60 }),
    /finishBatch: simulated database failure/,
  );
  assert.equal(queue.claimCalls.length, 0);
});
