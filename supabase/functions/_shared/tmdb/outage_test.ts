import assert from "node:assert/strict";
import { RETRYABLE_KINDS, TmdbError, type TmdbErrorKind } from "./client.ts";
import { type BreakerTrip, TmdbBreaker, TmdbRunGuard, tmdbUnauthorizedMessage } from "./outage.ts";

/** Reads `tripped` afresh (assertions on the getter would otherwise narrow its type). */
const tripOf = (breaker: TmdbBreaker): BreakerTrip | null => breaker.tripped;

function tmdbError(
  kind: TmdbErrorKind,
  id = 1,
  status: number | null = null,
  attempts = 4,
): TmdbError {
  return new TmdbError(`TMDB GET /movie/${id} failed: ${kind}`, {
    kind,
    httpStatus: status,
    statusCode: kind === "unauthorized" && status === 401 ? 7 : null,
    statusMessage: null,
    endpoint: "/movie/{id}",
    attempts,
    retryable: RETRYABLE_KINDS.has(kind),
    tmdbId: id,
  });
}

Deno.test("tmdbUnauthorizedMessage() names TMDB's status_code, else the HTTP status", () => {
  assert.equal(
    tmdbUnauthorizedMessage(tmdbError("unauthorized", 1, 401)),
    "TMDB rejected the credentials (status_code 7): check TMDB_API_TOKEN",
  );
  assert.equal(
    tmdbUnauthorizedMessage(tmdbError("unauthorized", 1, 403)),
    "TMDB rejected the credentials (HTTP 403): check TMDB_API_TOKEN",
  );
});

Deno.test("TmdbBreaker trips on the threshold-th outage failure in a row, keeping the first one's kind and message", () => {
  const breaker = new TmdbBreaker(3);
  assert.equal(breaker.failure(tmdbError("timeout", 1)), false);
  assert.equal(breaker.failure(tmdbError("network", 2)), false);
  assert.equal(breaker.tripped, null);
  assert.equal(breaker.failure(tmdbError("server_error", 3)), true);
  assert.deepEqual(breaker.tripped, {
    failures: 3,
    kind: "timeout",
    message: "TMDB GET /movie/1 failed: timeout",
  });
  assert.equal(breaker.failure(tmdbError("rate_limited", 4)), false, "trips once");
  breaker.success();
  assert.equal(tripOf(breaker)?.failures, 3, "stays tripped");
});

Deno.test("TmdbBreaker: calls whose deadline passed before any request neither add nor reset", () => {
  // A run at the end of its wall budget fails the calls still waiting for a token with a
  // timeout of 0 attempts: TMDB was never asked.
  const breaker = new TmdbBreaker(3);
  breaker.failure(tmdbError("network", 1));
  for (let id = 2; id < 30; id++) {
    assert.equal(breaker.failure(tmdbError("timeout", id, null, 0)), false);
  }
  assert.equal(breaker.consecutive, 1);
  assert.equal(breaker.tripped, null);
});

Deno.test("TmdbBreaker: a TMDB answer (a movie or a 404) resets the count", () => {
  const breaker = new TmdbBreaker(3);
  for (let round = 0; round < 5; round++) {
    breaker.failure(tmdbError("network", 1));
    breaker.failure(tmdbError("network", 2));
    if (round % 2 === 0) breaker.success();
    else breaker.failure(tmdbError("not_found", 3));
    assert.equal(breaker.consecutive, 0);
  }
  assert.equal(breaker.tripped, null);
  breaker.failure(tmdbError("network", 4));
  breaker.failure(tmdbError("network", 5));
  breaker.failure(tmdbError("network", 6));
  assert.equal(tripOf(breaker)?.message, "TMDB GET /movie/4 failed: network", "first since reset");
});

Deno.test("TmdbBreaker: other failures neither count nor reset", () => {
  const breaker = new TmdbBreaker(2);
  breaker.failure(tmdbError("network"));
  for (const kind of ["invalid_response", "bad_request", "unauthorized"] as const) {
    assert.equal(breaker.failure(tmdbError(kind)), false);
  }
  assert.equal(breaker.failure(new DOMException("aborted", "AbortError")), false);
  assert.equal(breaker.failure(new Error("not a TMDB error")), false);
  assert.equal(breaker.consecutive, 1);
  assert.equal(breaker.failure(tmdbError("network")), true);
});

Deno.test("TmdbBreaker refuses a threshold that is not a positive integer", () => {
  for (const threshold of [0, -1, 2.5, NaN]) {
    assert.throws(() => new TmdbBreaker(threshold), {
      name: "RangeError",
      message: `\`threshold\` must be a positive integer: current value is ${threshold}`,
    });
  }
});

Deno.test("TmdbRunGuard: the first 401 aborts the run; later calls are refused without a request", async () => {
  const guard = new TmdbRunGuard();
  assert.equal(await guard.call(() => Promise.resolve("movie")), "movie");
  const rejected = tmdbError("unauthorized", 2, 401);
  await assert.rejects(guard.call(() => Promise.reject(rejected)), (e) => e === rejected);
  assert.equal(guard.unauthorized, rejected);
  assert.equal(guard.signal.aborted, true);
  let called = false;
  await assert.rejects(
    guard.call(() => {
      called = true;
      return Promise.resolve("late");
    }),
    /TMDB rejected the credentials/,
  );
  assert.equal(called, false);
});

Deno.test("TmdbRunGuard without a breaker threshold never stops for outages", async () => {
  const guard = new TmdbRunGuard();
  for (let i = 0; i < 30; i++) {
    await assert.rejects(guard.call(() => Promise.reject(tmdbError("timeout", i))));
  }
  assert.equal(guard.signal.aborted, false);
  assert.equal(guard.unavailable, null);
});

Deno.test("TmdbRunGuard with a breaker stops the run when it trips and says why", async () => {
  const guard = new TmdbRunGuard({ breakerThreshold: 2 });
  await assert.rejects(guard.call(() => Promise.reject(tmdbError("network", 1))));
  await guard.call(() => Promise.resolve("an answer resets the count"));
  await assert.rejects(guard.call(() => Promise.reject(tmdbError("network", 2))));
  assert.equal(guard.signal.aborted, false);
  await assert.rejects(guard.call(() => Promise.reject(tmdbError("timeout", 3))));
  assert.equal(guard.signal.aborted, true);
  assert.deepEqual(guard.unavailable, {
    failures: 2,
    kind: "network",
    message: "TMDB GET /movie/2 failed: network",
  });
  assert.equal(guard.unauthorized, null);
});
