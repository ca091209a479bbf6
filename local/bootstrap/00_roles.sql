-- Local stack bootstrap, step 0: Supabase's role model.
-- Run as the superuser supabase_admin before any migration, on every start (idempotent).
-- Hosted Supabase creates all of this itself; migrations must never depend on it being
-- created by them.
\set ON_ERROR_STOP on

do $$
begin
  if not exists (select from pg_roles where rolname = 'postgres') then
    create role postgres;
  end if;
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
end
$$;

-- postgres exactly as on hosted Supabase: not a superuser.
alter role postgres with login nosuperuser createrole createdb replication bypassrls password 'postgres';
alter role anon with nologin noinherit nobypassrls;
alter role authenticated with nologin noinherit nobypassrls;
alter role service_role with nologin noinherit bypassrls;
alter role authenticator with login noinherit password 'postgres';

grant anon, authenticated, service_role to authenticator;
-- As on hosted Supabase, postgres can `set role` to the API roles (database tests do).
grant anon, authenticated, service_role to postgres;

grant connect, create, temporary on database postgres to postgres;
grant connect on database postgres to anon, authenticated, service_role, authenticator;

-- public belongs to postgres; API roles may use it, but get no table by default (since 2026
-- hosted projects no longer auto-grant new tables: each migration grants explicitly).
alter schema public owner to postgres;
grant usage on schema public to anon, authenticated, service_role;

alter role postgres set search_path = "$user", public, extensions;
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
