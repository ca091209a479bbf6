-- 077_tmdb_tokens_after_the_lock.test.sql
-- Migration 033: take_tmdb_tokens() counts the refill from a time read once the bucket's
-- lock is held. A caller that waited behind another sees a refilled_at later than the time
-- it started at; that is simulated here by a refilled_at in the future.
begin;
select plan(5);

update public.tmdb_rate_limit
   set requests_per_second = 40, burst = 8, tokens = 0,
       refilled_at = clock_timestamp() + interval '5 seconds', paused_until = null;

create temporary table t (r jsonb);
insert into t select public.take_tmdb_tokens(1);
select is((select (r ->> 'granted')::int from t), 0,
  'a refilled_at ahead of the caller''s clock grants nothing (027 answered -1: a negative refill)');
select ok((select (r ->> 'wait_ms')::int between 1 and 25 from t),
  '… and says when the next token comes (1/40 s)');
select ok((select tokens >= 0 and tokens < 1 from public.tmdb_rate_limit),
  'no token is made from nothing');
select ok((select refilled_at >= clock_timestamp() + interval '4 seconds'
             from public.tmdb_rate_limit),
  'refilled_at never moves backwards');

update public.tmdb_rate_limit set tokens = 8, refilled_at = clock_timestamp();
select is(public.take_tmdb_tokens(3), '{"granted": 3, "wait_ms": 0}'::jsonb,
  'a full bucket still grants what is asked');

select * from finish();
rollback;
