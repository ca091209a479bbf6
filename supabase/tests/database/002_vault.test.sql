-- Vault: create, read back, update, unique names; the privileges hosted Supabase gives
-- (postgres and service_role: SELECT and DELETE, create_secret / update_secret, no INSERT or
-- UPDATE; anon and authenticated: nothing); update_secret on an unknown id does nothing.
-- (Locally this runs against the Vault stand-in, on hosted Supabase against the real Vault.)
begin;
select plan(21);

select lives_ok(
  $$ select vault.create_secret('first-value', 'pgtap_vault_secret', 'created by a test') $$,
  'vault.create_secret stores a secret');
select is((select decrypted_secret from vault.decrypted_secrets where name = 'pgtap_vault_secret'),
          'first-value', 'decrypted_secrets returns it');
select isnt((select secret from vault.decrypted_secrets where name = 'pgtap_vault_secret'),
            'first-value', 'the stored column is not the plain value');
select lives_ok(
  $$ select vault.update_secret((select id from vault.decrypted_secrets where name = 'pgtap_vault_secret'),
                                'second-value') $$,
  'vault.update_secret changes it');
select is((select decrypted_secret from vault.decrypted_secrets where name = 'pgtap_vault_secret'),
          'second-value', 'the update is read back');
select throws_ok(
  $$ select vault.create_secret('other', 'pgtap_vault_secret') $$,
  '23505', null, 'a second secret with the same name is refused');

-- update_secret with an id that does not exist: no error, nothing changes.
create temp table t_before on commit drop as
  select id, name, decrypted_secret, updated_at from vault.decrypted_secrets;
select lives_ok(
  $$ select vault.update_secret('00000000-0000-4000-8000-00000000dead', 'third-value') $$,
  'vault.update_secret with an unknown id does not raise');
select is(
  (select count(*)::int from vault.decrypted_secrets s
     full join t_before b using (id)
    where s.id is null or b.id is null or s.decrypted_secret is distinct from b.decrypted_secret
       or s.updated_at is distinct from b.updated_at),
  0, '...and changes no secret');

-- Privileges: secrets are written through the functions only.
select ok(has_table_privilege('postgres', 'vault.secrets', 'SELECT')
          and has_table_privilege('postgres', 'vault.secrets', 'DELETE')
          and has_table_privilege('postgres', 'vault.decrypted_secrets', 'SELECT')
          and has_table_privilege('postgres', 'vault.decrypted_secrets', 'DELETE'),
          'postgres may SELECT and DELETE vault.secrets and vault.decrypted_secrets');
select ok(not has_table_privilege('postgres', 'vault.secrets', 'INSERT')
          and not has_table_privilege('postgres', 'vault.secrets', 'UPDATE')
          and not has_table_privilege('postgres', 'vault.decrypted_secrets', 'INSERT')
          and not has_table_privilege('postgres', 'vault.decrypted_secrets', 'UPDATE'),
          'postgres may not INSERT or UPDATE them');
select throws_ok($$ insert into vault.secrets (name, secret) values ('pgtap_direct', 'x') $$,
                 '42501', null, 'a direct INSERT into vault.secrets is refused');
select throws_ok($$ update vault.secrets set description = 'x' where name = 'pgtap_vault_secret' $$,
                 '42501', null, 'a direct UPDATE of vault.secrets is refused');
select lives_ok($$ delete from vault.secrets where name = 'pgtap_vault_secret' $$,
                'postgres may delete a secret');
select is((select count(*)::int from vault.decrypted_secrets where name = 'pgtap_vault_secret'), 0,
          '...and it is gone');
select ok(has_function_privilege('postgres', 'vault.create_secret(text, text, text, uuid)', 'EXECUTE')
          and has_function_privilege('postgres', 'vault.update_secret(uuid, text, text, text, uuid)', 'EXECUTE'),
          'postgres may execute create_secret and update_secret');
select ok(has_schema_privilege('service_role', 'vault', 'USAGE')
          and has_table_privilege('service_role', 'vault.decrypted_secrets', 'SELECT')
          and has_table_privilege('service_role', 'vault.secrets', 'DELETE')
          and not has_table_privilege('service_role', 'vault.secrets', 'INSERT')
          and not has_table_privilege('service_role', 'vault.secrets', 'UPDATE')
          and has_function_privilege('service_role', 'vault.create_secret(text, text, text, uuid)', 'EXECUTE'),
          'service_role: the same as postgres (SELECT, DELETE, the functions; no INSERT or UPDATE)');
select is(
  (select count(*)::int from unnest(array['anon', 'authenticated']) r
    where has_schema_privilege(r, 'vault', 'USAGE')
       or has_function_privilege(r, 'vault.create_secret(text, text, text, uuid)', 'EXECUTE')
       or has_function_privilege(r, 'vault.update_secret(uuid, text, text, text, uuid)', 'EXECUTE')),
  0, 'anon and authenticated have no USAGE on vault and cannot execute its functions');

set local role anon;
select throws_ok($$ select * from vault.decrypted_secrets $$, '42501', null,
                 'anon cannot read vault.decrypted_secrets');
select throws_ok($$ select vault.create_secret('x', 'pgtap_anon') $$, '42501', null,
                 'anon cannot create a secret');
reset role;
set local role authenticated;
select throws_ok($$ select * from vault.decrypted_secrets $$, '42501', null,
                 'authenticated cannot read vault.decrypted_secrets');
select throws_ok($$ select vault.update_secret(null::uuid, 'x') $$, '42501', null,
                 'authenticated cannot update a secret');
reset role;

select * from finish();
rollback;
