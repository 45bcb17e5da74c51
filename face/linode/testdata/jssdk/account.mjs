// Calls every /account function of @linode/api-v4 (Cloud Manager's SDK)
// that profiled serves, as Cloud Manager's pages do (the account loaded at
// every start, Users & Grants, OAuth Apps, My Profile's username), and
// checks what comes back (client.mjs sets the SDK up). It prints
// "ok <function>" for each call and exits 1 on the first failure.
import assert from 'node:assert/strict';
import { call, called, refused } from './client.mjs';

// What Cloud Manager waits for at every load.
const account = await call('getAccountInfo');
assert.ok(account.euuid && account.active_since && Array.isArray(account.capabilities), JSON.stringify(account));
const contact = await call('updateAccountInfo', { company: 'Wonder Ltd', first_name: 'Alice', country: 'GB' });
assert.equal(contact.company, 'Wonder Ltd');
// Its contact form sends the whole object back, read-only fields and all.
assert.equal((await call('updateAccountInfo', { ...contact, city: 'Oxford' })).city, 'Oxford');
await refused('updateAccountInfo', 400, 'email', { email: 'not an email' });
const settings = await call('getAccountSettings');
assert.equal(settings.managed, false);
assert.equal((await call('updateAccountSettings', { network_helper: true })).network_helper, true);
assert.equal((await call('getNotifications')).results, 0);

// Users & Grants: add a restricted user and set their grants.
const rita = await call('createUser', { username: 'rita', email: 'rita@example.com', restricted: true });
assert.equal(rita.restricted, true);
assert.equal(rita.last_login, null);
await refused('createUser', 400, 'username', { username: 'RITA', email: 'r2@example.com', restricted: false });
const users = await call('getUsers', { page: 1, page_size: 25 }, { '+order': 'asc', '+order_by': 'username' });
assert.deepEqual(users.data.map((u) => u.username), ['admin', 'rita']);
assert.equal((await call('getUser', 'rita')).email, 'rita@example.com');
const grants = await call('getGrants', 'rita');
assert.deepEqual(grants.linode, []);
// The page sends the global grants whole, and the entities it changed.
const granted = await call('updateGrants', 'rita', {
  global: { ...grants.global, add_linodes: true, account_access: 'read_only' },
  linode: [{ id: 7, label: 'web', permissions: 'read_write' }],
});
assert.equal(granted.global.add_linodes, true);
assert.deepEqual(granted.linode, [{ id: 7, label: 'web', permissions: 'read_write' }]);
assert.deepEqual((await call('getGrants', 'rita')).linode, granted.linode);
await refused('updateUser', 400, 'restricted', 'admin', { restricted: true });
await refused('deleteUser', 400, 'username', 'admin');
// My Profile changes a username through the same operation.
assert.equal((await call('updateUser', 'rita', { username: 'rita2' })).username, 'rita2');
await refused('getUser', 404, undefined, 'rita');
await call('deleteUser', 'rita2');
await refused('getGrants', 404, undefined, 'rita2');

// The account's logins, newest first.
const logins = await call('getAccountLogins', { page: 1, page_size: 25 }, { '+order': 'desc', '+order_by': 'datetime' });
assert.ok(logins.results >= 2, `account logins: ${logins.results}`);
assert.equal((await call('getAccountLogin', logins.data[0].id)).id, logins.data[0].id);

// OAuth Apps, ordered by status as the page orders them.
const client = await call('createOAuthClient', { label: 'Team app', redirect_uri: 'https://app.example/cb', public: false });
assert.equal(client.secret.length, 64);
const clients = await call('getOAuthClients', { page: 1, page_size: 25 }, { '+order': 'desc', '+order_by': 'status' });
assert.equal(clients.results, 1);
assert.equal(clients.data[0].secret, '<REDACTED>');
assert.equal((await call('getOAuthClient', client.id)).label, 'Team app');
const edited = await call('updateOAuthClient', client.id, { label: 'Team app 2', redirect_uri: 'https://app.example/cb2', public: false });
assert.equal(edited.label, 'Team app 2');
const reset = await call('resetOAuthClientSecret', client.id);
assert.notEqual(reset.secret, client.secret);
await refused('createOAuthClient', 400, 'redirect_uri', { label: 'Bad', redirect_uri: 'http://evil.example/cb', public: true });
await call('deleteOAuthClient', client.id);
await refused('getOAuthClient', 404, undefined, client.id);

const accountFunctions = [
  'getAccountInfo', 'updateAccountInfo', 'getAccountSettings', 'updateAccountSettings', 'getNotifications',
  'getUsers', 'getUser', 'createUser', 'updateUser', 'deleteUser', 'getGrants', 'updateGrants',
  'getAccountLogins', 'getAccountLogin', 'getOAuthClients', 'getOAuthClient', 'createOAuthClient',
  'updateOAuthClient', 'resetOAuthClientSecret', 'deleteOAuthClient',
];
const missing = accountFunctions.filter((f) => !called.has(f));
assert.deepEqual(missing, [], 'account functions never called');
console.log(`all ${accountFunctions.length} account functions of @linode/api-v4 passed`);
