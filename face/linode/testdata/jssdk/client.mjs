// The shared set-up of profile.mjs and account.mjs: @linode/api-v4 (Cloud
// Manager's SDK) pointed at profiled, and call and refused, which check
// each call. face/linode/jssdk_test.go runs the scripts with PROFILED_URL
// (the server), PROFILED_TOKEN (an admin token with every scope),
// PROFILED_SSH_KEY (a public key) and PROFILED_HELPER (a test-only URL
// that answers the current TOTP code of a secret and the last SMS code).
import assert from 'node:assert/strict';
import * as sdk from '@linode/api-v4';

export { sdk };

const base = process.env.PROFILED_URL;
const helper = process.env.PROFILED_HELPER;
export const sshKey = process.env.PROFILED_SSH_KEY;
assert.ok(base && helper && sshKey && process.env.PROFILED_TOKEN, 'PROFILED_URL, PROFILED_HELPER, PROFILED_SSH_KEY and PROFILED_TOKEN must be set');

// The SDK builds URLs on https://api.linode.com/v4; a client points it
// elsewhere with a request interceptor, as Cloud Manager does with its
// REACT_APP_API_ROOT.
// Nothing may leave for another host: a URL the rewrite missed fails the
// request before it is sent.
const apiRoot = 'https://api.linode.com/v4';
sdk.baseRequest.interceptors.request.use((config) => {
  config.url = config.url.replace(apiRoot, base + '/v4');
  config.baseURL = base + '/v4';
  if (!config.url.startsWith(base + '/')) {
    throw new Error(`refusing to send a request to ${config.url}: not profiled at ${base}`);
  }
  return config;
});
sdk.setToken(process.env.PROFILED_TOKEN);

export const called = new Set();
export async function call(name, ...args) {
  try {
    const out = await sdk[name](...args);
    called.add(name);
    console.log('ok', name);
    return out;
  } catch (err) {
    console.error(`FAIL ${name}(${JSON.stringify(args)}):`, JSON.stringify(err, null, 1));
    process.exit(1);
  }
}

// refused expects the call to fail with status and a reason (and field).
export async function refused(name, status, field, ...args) {
  try {
    await sdk[name](...args);
  } catch (err) {
    // The SDK rejects with axios's error; Cloud Manager's own response
    // interceptor reads the API's errors array from its body, as here.
    assert.equal(err.response?.status, status, `${name}: status ${err.response?.status}, want ${status}`);
    assert.equal(err.response.headers['content-type'], 'application/json');
    const errs = err.response.data?.errors ?? [];
    assert.ok(errs.length > 0 && errs[0].reason, `${name}: a refusal without a reason: ${JSON.stringify(err.response.data)}`);
    if (field) assert.equal(errs[0].field, field, `${name}: the refusal names ${errs[0].field}`);
    console.log('ok', name, 'refused:', errs[0].reason);
    return;
  }
  console.error(`FAIL ${name}: accepted, want ${status}`);
  process.exit(1);
}

export async function helperGet(path) {
  const res = await fetch(helper + path);
  assert.equal(res.status, 200, `helper ${path}: ${res.status}`);
  return (await res.text()).trim();
}

