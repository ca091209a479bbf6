-- Vault: create, read back, update, unique names, and no access for the API roles.
-- (Locally this runs against the Vault stand-in, on hosted Supabase against the real Vault.)
begin;
select plan(8);

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

set local role anon;
select throws_ok($$ select * from vault.decrypted_secrets $$, '42501', null,
                 'anon cannot read vault.decrypted_secrets');
reset role;
set local role authenticated;
select throws_ok($$ select * from vault.decrypted_secrets $$, '42501', null,
                 'authenticated cannot read vault.decrypted_secrets');
reset role;

select * from finish();
rollback;
