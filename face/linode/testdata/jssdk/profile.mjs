// Calls every /profile function of @linode/api-v4 (Cloud Manager's SDK)
// against profiled, with the X-Filter headers Cloud Manager and Terraform
// send, and checks what comes back (client.mjs sets the SDK up). It prints
// "ok <function>" for each call and exits 1 on the first failure.
import assert from 'node:assert/strict';
import { call, called, helperGet, refused, sdk, sshKey } from './client.mjs';

// Profile.
const profile = await call('getProfile');
assert.equal(profile.username, 'admin');
assert.equal(profile.authorized_keys, null, 'authorized_keys is null when none are set');
assert.equal(profile.user_type, 'default');
const updated = await call('updateProfile', { timezone: 'America/New_York', email_notifications: false, authorized_keys: [sshKey] });
assert.equal(updated.timezone, 'America/New_York');
assert.deepEqual(updated.authorized_keys, [sshKey]);
const cleared = await call('updateProfile', { authorized_keys: [] });
assert.equal(cleared.authorized_keys, null);

// Grants: an unrestricted user gets 204, no body.
await call('getMyGrants');
await call('listGrants');

// Preferences: Cloud Manager keeps its settings here.
await call('updateUserPreferences', { theme: 'dark', sortKeys: { 'token-table': { order: 'desc', orderBy: 'expiry' } } });
const prefs = await call('getUserPreferences');
assert.equal(prefs.theme, 'dark');

// Security questions: 19, each with a response, null while unanswered.
const questions = await call('getSecurityQuestions');
assert.equal(questions.security_questions.length, 19);
assert.ok(questions.security_questions.every((q) => q.response === null), 'every question starts unanswered (null)');
await call('updateSecurityQuestions', { security_questions: [
  { question_id: 1, response: 'rex the dog' }, { question_id: 5, response: 'paris' }, { question_id: 9, response: 'rome' },
] });
const answered = await call('getSecurityQuestions');
assert.equal(answered.security_questions.filter((q) => q.response !== null).length, 3);

// Two-factor: enable, confirm, reset (tfa-enable while on), confirm, disable.
const secret = await call('getTFAToken');
assert.ok(secret.secret && secret.expiry);
const scratch = await call('confirmTwoFactor', await helperGet('/totp?secret=' + secret.secret));
assert.ok(scratch.scratch);
const reset = await call('getTFAToken');
assert.notEqual(reset.secret, secret.secret);
await helperGet('/advance'); // the next code is of a later time step
await call('confirmTwoFactor', await helperGet('/totp?secret=' + reset.secret));
assert.equal((await call('getProfile')).two_factor_auth, true);
await call('disableTwoFactor');

// Phone verification by SMS, then opting out.
await call('sendCodeToPhoneNumber', { iso_code: 'US', phone_number: '2015550123' });
await call('verifyPhoneNumberCode', { otp_code: await helperGet('/sms') });
assert.equal((await call('getProfile')).verified_phone_number, '+12015550123');
await call('smsOptOut');

// SSH keys, with Terraform's and Ansible's filters; the same key twice.
const k1 = await call('createSSHKey', { label: 'laptop', ssh_key: sshKey });
const k2 = await call('createSSHKey', { label: 'laptop-again', ssh_key: sshKey });
assert.notEqual(k1.id, k2.id);
let keys = await call('getSSHKeys', {}, { '+and': [], '+order': 'desc' });
assert.equal(keys.results, 2);
assert.ok(keys.data[0].id > keys.data[1].id, '+order desc alone orders by id, descending');
keys = await call('getSSHKeys', { page: 1, page_size: 25 }, { label: 'laptop' });
assert.equal(keys.results, 1);
keys = await call('getSSHKeys', {}, { '+order': 'asc', '+order_by': 'label' });
assert.deepEqual(keys.data.map((k) => k.label), ['laptop', 'laptop-again']);
assert.equal((await call('getSSHKey', k1.id)).ssh_key, sshKey);
assert.equal((await call('updateSSHKey', k1.id, { label: 'desktop' })).label, 'desktop');
await call('deleteSSHKey', k2.id);
await refused('getSSHKey', 404, undefined, k2.id);

// Personal access tokens, sorted as Cloud Manager's table sorts them.
const expiry = new Date(Date.now() + 90 * 86400e3).toISOString().slice(0, 19);
const tok = await call('createPersonalAccessToken', { label: 'ci', scopes: 'account:read_only', expiry });
assert.equal(tok.token.length, 64);
assert.equal(tok.expiry, expiry);
await call('createPersonalAccessToken', { label: 'forever', scopes: '*' });
for (const orderBy of ['label', 'created', 'expiry']) {
  for (const order of ['asc', 'desc']) {
    const page = await call('getPersonalAccessTokens', { page: 1, page_size: 25 }, { '+order': order, '+order_by': orderBy });
    assert.ok(page.results >= 3, `tokens by ${orderBy} ${order}: ${page.results}`);
  }
}
const byExpiry = await call('getPersonalAccessTokens', {}, { '+order': 'asc', '+order_by': 'expiry' });
assert.equal(byExpiry.data.at(-1).expiry.slice(0, 4), '2999', 'a token that never expires sorts last');
assert.equal((await call('getPersonalAccessToken', tok.id)).token, tok.token.slice(0, 16));
assert.equal((await call('updatePersonalAccessToken', tok.id, { label: 'ci-renamed' })).label, 'ci-renamed');
await call('deletePersonalAccessToken', tok.id);
await refused('getPersonalAccessToken', 404, undefined, tok.id);
await refused('getPersonalAccessTokens', 400, 'X-Filter', {}, { user_agent: 'x' });

// Authorized apps (the test made one), sorted by their columns.
for (const orderBy of ['label', 'created', 'expiry']) {
  const apps = await call('getAppTokens', { page: 1, page_size: 25 }, { '+order': 'desc', '+order_by': orderBy });
  assert.equal(apps.results, 1);
}
const apps = await call('getAppTokens');
assert.equal((await call('getAppToken', apps.data[0].id)).label, apps.data[0].label);
await call('deleteAppToken', apps.data[0].id);
assert.equal((await call('getAppTokens')).results, 0);

// Trusted devices (the test made one), as the Login & Authentication page lists them.
const devices = await call('getTrustedDevices', {}, { '+order': 'asc', '+order_by': 'expiry' });
assert.equal(devices.results, 1);
await call('deleteTrustedDevice', devices.data[0].id);
assert.equal((await call('getTrustedDevices')).results, 0);

// Logins, newest first.
const logins = await call('getLogins', { page: 1, page_size: 25 }, { '+order': 'desc', '+order_by': 'datetime' });
assert.ok(logins.results >= 2);
assert.ok(logins.data[0].datetime >= logins.data[1].datetime);
await call('getLogins', {}, { status: 'successful', '+order': 'desc', '+order_by': 'datetime' });

// Every /profile function of the SDK was called.
const profileFunctions = [
  'getProfile', 'updateProfile', 'listGrants', 'getMyGrants', 'getTrustedDevices', 'deleteTrustedDevice',
  'getUserPreferences', 'updateUserPreferences', 'getLogins', 'getSecurityQuestions', 'updateSecurityQuestions',
  'smsOptOut', 'sendCodeToPhoneNumber', 'verifyPhoneNumberCode', 'getPersonalAccessTokens', 'getPersonalAccessToken',
  'createPersonalAccessToken', 'updatePersonalAccessToken', 'deletePersonalAccessToken', 'getAppTokens', 'getAppToken',
  'deleteAppToken', 'getSSHKeys', 'getSSHKey', 'createSSHKey', 'updateSSHKey', 'deleteSSHKey', 'getTFAToken',
  'disableTwoFactor', 'confirmTwoFactor',
];
const missing = profileFunctions.filter((f) => !called.has(f));
assert.deepEqual(missing, [], 'profile functions never called');
console.log(`all ${profileFunctions.length} profile functions of @linode/api-v4 passed`);
