-- Supabase's role model, as on hosted Supabase: the project's migrations and tests rely on
-- `postgres` not being a superuser, `service_role` bypassing RLS and `postgres` being able
-- to switch to the API roles.
begin;
select plan(12);

select ok(not (select rolsuper from pg_roles where rolname = 'postgres'), 'postgres is not a superuser');
select ok((select rolcreaterole and rolcreatedb and rolreplication and rolbypassrls and rolcanlogin
           from pg_roles where rolname = 'postgres'), 'postgres has LOGIN CREATEROLE CREATEDB REPLICATION BYPASSRLS');
select ok((select rolbypassrls and not rolcanlogin from pg_roles where rolname = 'service_role'),
          'service_role is NOLOGIN BYPASSRLS');
select ok((select not rolbypassrls and not rolcanlogin from pg_roles where rolname = 'anon'),
          'anon is NOLOGIN and subject to RLS');
select ok((select not rolbypassrls and not rolcanlogin from pg_roles where rolname = 'authenticated'),
          'authenticated is NOLOGIN and subject to RLS');
select ok((select rolcanlogin from pg_roles where rolname = 'authenticator'), 'authenticator can log in');
select ok(pg_has_role('postgres', 'anon', 'member')
          and pg_has_role('postgres', 'authenticated', 'member')
          and pg_has_role('postgres', 'service_role', 'member'),
          'postgres can set role to anon, authenticated and service_role');
select has_schema('extensions', 'schema extensions exists');
select has_schema('auth', 'schema auth exists');

set local request.jwt.claims = '{"sub": "5f1b6f5e-8d0f-4c53-9f7e-0a1b2c3d4e5f", "role": "authenticated"}';
select is(auth.uid(), '5f1b6f5e-8d0f-4c53-9f7e-0a1b2c3d4e5f'::uuid, 'auth.uid() reads sub from request.jwt.claims');
select is(auth.role(), 'authenticated', 'auth.role() reads role from request.jwt.claims');
select is(auth.jwt() ->> 'sub', '5f1b6f5e-8d0f-4c53-9f7e-0a1b2c3d4e5f', 'auth.jwt() returns the claims');

select * from finish();
rollback;
