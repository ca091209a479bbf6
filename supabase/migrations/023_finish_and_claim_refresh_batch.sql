-- 023_finish_and_claim_refresh_batch.sql
--
-- What this adds, and why: public.finish_and_claim_refresh_batch(), which finishes a
-- worker's previous batch and claims its next one in a single call. A worker that drains
-- the queue used to make two round trips and two commits per batch (claim_refresh_batch,
-- then finish_refresh_batch); with this it makes one per batch (plus the first claim).
-- That halves the per-batch cost that dominates a fast handler (the queue benchmark,
-- docs/benchmarks.md scenario 2) and is what refresh-worker's loops call.
--
-- It is composed from the two functions of 018, not a copy of them: finish_refresh_batch()
-- and claim_refresh_batch() stay the one implementation of finishing and claiming, so the
-- lease rules (only the holder of the current attempt with a live lease may finish; expired
-- leases are reaped; SKIP LOCKED claims) are exactly theirs.

-- ============================================================================
-- finish_and_claim_refresh_batch
-- ============================================================================

-- p_results: as finish_refresh_batch() takes it; an empty array finishes nothing.
-- p_batch_size: 0 finishes only (claims nothing; p_lease_seconds is then unused), else
--   1..1000 as claim_refresh_batch() takes it. p_lease_seconds is checked by that claim.
-- Returns {"finished": {completed, retried, failed, lost_lease, items}, (what
--          finish_refresh_batch returns; zero counts and items [] for an empty array)
--          "claimed": [{"queue_id", "work_id", "tmdb_id", "attempt"}, …]} (claim order).
--
-- Order and concurrency: the finish runs first, then the claim, in the caller's one
-- transaction. Rows just finished are not claimable again in the same call: a completed or
-- failed row is not pending, and a retried one waits out its backoff (≥ 24 s). The claim's
-- FOR UPDATE SKIP LOCKED reasoning (see claim_refresh_batch) is unchanged, so concurrent
-- callers still take disjoint rows; the row locks of both steps are held until the one
-- commit, as they were held until each of the two commits before.
create or replace function public.finish_and_claim_refresh_batch(
  p_worker text,
  p_results jsonb,
  p_batch_size integer default 10,
  p_lease_seconds integer default 120
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_finished jsonb;
  v_claimed jsonb := '[]'::jsonb;
begin
  -- claim_refresh_batch() checks 1..1000; 0 is this function's "finish only".
  if p_batch_size is null or p_batch_size not between 0 and 1000 then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('p_batch_size must be between 0 (finish only) and 1000: current value is %s',
                       coalesce(p_batch_size::text, 'NULL'));
  end if;

  -- Step 1: finish. finish_refresh_batch() validates p_worker and p_results (before
  -- changing anything) and returns zero counts with items [] for an empty array.
  v_finished := public.finish_refresh_batch(p_worker, p_results);

  -- Step 2: claim the next batch, unless the caller asked to finish only.
  if p_batch_size > 0 then
    select coalesce(jsonb_agg(jsonb_build_object(
                                'queue_id', c.queue_id, 'work_id', c.work_id,
                                'tmdb_id', c.tmdb_id, 'attempt', c.attempt)
                              order by c.ord), '[]'::jsonb)
      into v_claimed
      from public.claim_refresh_batch(p_worker, p_batch_size, p_lease_seconds)
           with ordinality as c(queue_id, work_id, tmdb_id, attempt, ord);
  end if;

  return jsonb_build_object('finished', v_finished, 'claimed', v_claimed);
end;
$$;

comment on function public.finish_and_claim_refresh_batch(text, jsonb, integer, integer) is
  'Finishes p_worker''s previous batch (as finish_refresh_batch) and claims up to p_batch_size more (as claim_refresh_batch; 0 = finish only) in one call: {finished: {completed, retried, failed, lost_lease, items}, claimed: [{queue_id, work_id, tmdb_id, attempt}]}.';

revoke execute on function public.finish_and_claim_refresh_batch(text, jsonb, integer, integer)
  from public, anon, authenticated;
grant execute on function public.finish_and_claim_refresh_batch(text, jsonb, integer, integer)
  to service_role;
