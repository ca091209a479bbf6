-- 076_tmdb_rate_limit.test.sql
-- Migration 027: the one TMDB token bucket every function shares. The bucket's refill is
-- slowed to one token per 1,000 s here, so what a call gets does not depend on how fast the
-- test runs.
begin;
select plan(12);

update public.tmdb_rate_limit
   set requests_per_second = 0.001, burst = 8, tokens = 8, refilled_at = clock_timestamp(),
       paused_until = null;

select is(public.take_tmdb_tokens(5), '{"granted": 5, "wait_ms": 0}'::jsonb,
  'a caller gets the tokens it asks for, with no wait');
select is((public.take_tmdb_tokens(1) ->> 'granted')::int, 1, 'one more token');
select is(
  (select (r ->> 'granted')::int from (select public.take_tmdb_tokens(10) as r) x), 2,
  'asking for more than is left gets what is left (8 = 5 + 1 + 2)'
);
create temporary table t (r jsonb);
insert into t select public.take_tmdb_tokens(3);
select is((select (r ->> 'granted')::int from t), 0, 'an empty bucket grants nothing');
select ok(
  (select (r ->> 'wait_ms')::int between 900000 and 1000000 from t),
  '… and says how long until the next token (about 1,000 s at this rate)'
);
select is((select tokens < 1 from public.tmdb_rate_limit), true, 'no token was spent twice');

-- A 429: every caller waits until the pause ends; a pause is only ever lengthened.
update public.tmdb_rate_limit set tokens = 8, refilled_at = clock_timestamp();
select isnt(public.pause_tmdb_requests(clock_timestamp() + interval '20 seconds'), null,
  'a pause is recorded');
select is(public.pause_tmdb_requests(clock_timestamp() + interval '1 second') >
          clock_timestamp() + interval '10 seconds', true,
  'a shorter pause does not shorten it');
delete from t;
insert into t select public.take_tmdb_tokens(1);
select is((select (r ->> 'granted')::int from t), 0, 'no token during a pause');
select ok((select (r ->> 'wait_ms')::int between 15000 and 20000 from t),
  '… the wait is the rest of the pause');

select throws_ok($$ select public.take_tmdb_tokens(0) $$, '22023',
  'p_wanted must be between 1 and 50: current value is 0', 'at least one token is asked for');
select throws_ok($$ update public.tmdb_rate_limit set requests_per_second = 60 $$, '23514', null,
  'the rate cannot be set above TMDB''s 50 a second');

select * from finish();
rollback;
