-- 079_overdue_sweep.test.sql
-- Migration 034: a cron firing of refresh_worker first queues up to overdue_per_firing
-- overdue movies (most overdue first), then starts chains as before; a manual call does not
-- sweep; paused sweeps nothing; 0 turns it off. Everything is rolled back: pg_net never
-- sends what is queued here.
begin;
select plan(11);
set local client_min_messages = warning;

create function pg_temp.set_secret(p_name text, p_value text) returns void
language plpgsql as $fn$
begin
  if exists (select 1 from vault.decrypted_secrets where name = p_name) then
    perform vault.update_secret((select id from vault.decrypted_secrets where name = p_name), p_value);
  else
    perform vault.create_secret(p_value, p_name);
  end if;
end;
$fn$;
select pg_temp.set_secret('project_url', 'http://functions.test');
select pg_temp.set_secret('edge_invoke_secret', repeat('s', 40));

delete from public.refresh_queue;
update public.edge_function_invocations set invoked_at = now() - interval '1 day';
update public.works set last_refreshed_at = now();

-- Four overdue movies (refreshed 400, 300, 200 and 100 days ago) and one fresh one.
insert into public.works (tmdb_id, title, payload_hash, last_refreshed_at) values
  (790001, 'Overdue 400', repeat('0', 64), now() - interval '400 days'),
  (790002, 'Overdue 300', repeat('0', 64), now() - interval '300 days'),
  (790003, 'Overdue 200', repeat('0', 64), now() - interval '200 days'),
  (790004, 'Overdue 100', repeat('0', 64), now() - interval '100 days'),
  (790005, 'Fresh', repeat('0', 64), now());
select is((select count(*)::int from public.works where next_refresh_at <= now()), 4,
  'four works are overdue');

select is((select overdue_per_firing from public.refresh_worker_settings), 2000,
  'overdue_per_firing defaults to 2,000');
select throws_ok($$ update public.refresh_worker_settings set overdue_per_firing = 50001 $$,
  '23514', null, 'overdue_per_firing is bounded (0..50000)');

-- A manual call starts a run and sweeps nothing.
select isnt(public.call_refresh_worker(), null, 'a manual call starts a run');
select is((select count(*)::int from public.refresh_queue), 0, '… and queues no overdue movie');
update public.edge_function_invocations set invoked_at = now() - interval '1 day';

-- A cron firing queues the most overdue first, up to overdue_per_firing.
update public.refresh_worker_settings set overdue_per_firing = 2;
select isnt(public.call_refresh_worker('cron'), null, 'a cron firing starts a run');
select results_eq(
  $$ select tmdb_id, reason, priority::int from public.refresh_queue order by tmdb_id $$,
  $$ values (790001, 'stale', 100), (790002, 'stale', 100) $$,
  '… after queuing the two most overdue movies as stale, priority 100');

-- With the run in flight (max_chains 1) the firing starts nothing but still sweeps.
update public.refresh_worker_settings set max_chains = 1;
select is(public.call_refresh_worker('cron'), null, 'no run while max_chains runs are in flight');
select is((select array_agg(tmdb_id order by tmdb_id) from public.refresh_queue),
  array[790001, 790002, 790003, 790004],
  '… but the overdue movies not yet queued are (the fresh one is not)');

-- Off, and paused: nothing is queued.
delete from public.refresh_queue;
update public.refresh_worker_settings set overdue_per_firing = 0;
select public.call_refresh_worker('cron');
select is((select count(*)::int from public.refresh_queue), 0, 'overdue_per_firing 0: no sweep');
update public.refresh_worker_settings set overdue_per_firing = 2000, paused = true;
select public.call_refresh_worker('cron');
select is((select count(*)::int from public.refresh_queue), 0, 'paused: no sweep');

select * from finish();
rollback;
