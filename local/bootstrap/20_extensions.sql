-- Local stack bootstrap, step 2: extensions that hosted Supabase pre-installs or lets
-- `postgres` enable, created here by the superuser with the grants hosted Supabase gives.
--   pg_cron       schema cron (scheduling); jobs run as the role that scheduled them
--   pg_net        the local stand-in (local/extensions/pg_net) unless the real one exists
--   pgtap         in `extensions`, for the database tests
--   plpgsql_check in `extensions`, used by `supabase db lint`
\set ON_ERROR_STOP on

create extension if not exists pg_cron with schema pg_catalog;
grant usage on schema cron to postgres with grant option;
grant all on all tables in schema cron to postgres with grant option;
grant all on all sequences in schema cron to postgres with grant option;
grant all on all functions in schema cron to postgres with grant option;

create extension if not exists pg_net with schema extensions;
grant usage on schema net to postgres, service_role;
grant all on all tables in schema net to postgres with grant option;
grant all on all sequences in schema net to postgres with grant option;
grant execute on function net.http_get(text, jsonb, jsonb, integer) to postgres, service_role;
grant execute on function net.http_post(text, jsonb, jsonb, jsonb, integer) to postgres, service_role;

create extension if not exists pgtap with schema extensions;
create extension if not exists plpgsql_check with schema extensions;
