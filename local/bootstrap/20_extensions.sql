-- Local stack bootstrap, step 2: extensions that hosted Supabase pre-installs or lets
-- `postgres` enable, created here by the superuser with the grants hosted Supabase gives
-- (docs/hosted-standins.md names the source of each grant).
--   pg_cron       schema cron (scheduling); jobs run as the role that scheduled them
--   pg_net        the local stand-in (local/extensions/pg_net) unless the real one exists
--   pgtap         in `extensions`, for the database tests
--   plpgsql_check in `extensions`, used by `supabase db lint`
\set ON_ERROR_STOP on

-- pg_cron, granted as supabase/postgres's pg_cron after-create script and its later
-- migrations do: postgres may use every cron function and table, but only SELECT cron.job
-- (jobs change through cron.schedule / unschedule / alter_job, which write as the
-- extension's owner) and no TRIGGER on cron.job_run_details. The sequences keep pg_cron's
-- own SELECT for PUBLIC.
create extension if not exists pg_cron with schema pg_catalog;
grant usage on schema cron to postgres with grant option;
grant all on all functions in schema cron to postgres with grant option;
grant all privileges on all tables in schema cron to postgres with grant option;
revoke all on table cron.job from postgres;
grant select on table cron.job to postgres with grant option;
revoke trigger on cron.job_run_details from postgres;
revoke all on all sequences in schema cron from postgres;

-- pg_net: the stand-in's 0.20.4 is pg_net 0.20 as hosted (an older local cluster made with
-- the stand-in's 0.20.0 is updated in place). pg_net grants its schema, tables and sequence
-- to PUBLIC and keeps its functions SECURITY INVOKER with PUBLIC's default EXECUTE; hosted
-- Supabase's grant_pg_net_access() adds USAGE for its roles. Grants an earlier bootstrap gave
-- postgres and service_role on top of that are taken back.
do $$
begin
  if exists (select from pg_available_extension_versions
              where name = 'pg_net' and version = '0.20.4'
                and comment like '%local stand-in%') then
    create extension if not exists pg_net with schema extensions version '0.20.4';
    if (select extversion from pg_extension where extname = 'pg_net') <> '0.20.4' then
      alter extension pg_net update to '0.20.4';
    end if;
  else
    create extension if not exists pg_net with schema extensions;
  end if;
end
$$;
revoke all on all tables in schema net from postgres, service_role;
revoke all on all sequences in schema net from postgres, service_role;
revoke all on all functions in schema net from postgres, service_role;
grant usage on schema net to postgres, anon, authenticated, service_role;

create extension if not exists pgtap with schema extensions;
create extension if not exists plpgsql_check with schema extensions;
