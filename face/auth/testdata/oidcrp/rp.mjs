// A relying party signing a user in to profiled with openid-client, run
// in two steps by face/auth/openid_test.go (TestOpenIDConnectStrictRP),
// which plays the browser in between:
//
//   node rp.mjs start  ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI
//     prints {"url", "verifier", "nonce", "state"}: the authorization URL
//     (par-start: the same, its request pushed first, RFC 9126;
//     par-login-start: pushed, with prompt=login)
//   node rp.mjs finish ISSUER CLIENT_ID CLIENT_SECRET CALLBACK_URL VERIFIER NONCE STATE
//     redeems the code (the ID token's signature checked against the key
//     set), reads userinfo, refreshes, and prints what it learned.
//   node rp.mjs device-start  ISSUER CLIENT_ID CLIENT_SECRET
//     asks for a device code (RFC 8628) and prints the response
//   node rp.mjs device-finish ISSUER CLIENT_ID CLIENT_SECRET RESPONSE
//     polls until the user decided, checks the ID token, reads userinfo
//   node rp.mjs register ISSUER - - REDIRECT_URI
//     registers a client (RFC 7591, dynamicClientRegistration) at the
//     registration_endpoint of the metadata, and prints its client_id and
//     client_secret, for the steps above
//
// The request sends max_age, so openid-client also checks auth_time.
// Any check openid-client makes that fails is an exception: the process
// exits non-zero with it on stderr.
import * as client from 'openid-client'

const [step, issuer, clientId, clientSecret, ...rest] = process.argv.slice(2)

// A CLIENT_SECRET that is a JSON object is the client's private JWK: it
// then authenticates with private_key_jwt, signing an assertion for each
// request (RFC 7523), instead of sending a secret.
let metadata = clientSecret
let auth
if (clientSecret.startsWith('{')) {
  const jwk = JSON.parse(clientSecret)
  const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
  metadata = undefined
  auth = client.PrivateKeyJwt({ key, kid: jwk.kid })
}
const insecure = { execute: [client.allowInsecureRequests] } // the test server is plain http on loopback
let config
if (step !== 'register') {
  config = await client.discovery(new URL(issuer), clientId, metadata, auth, insecure)
  // Check the ID tokens' signatures with the published keys, not only
  // their claims.
  client.enableNonRepudiationChecks(config)
}

if (step === 'start' || step === 'par-start' || step === 'par-login-start') {
  const [redirectUri] = rest
  const verifier = client.randomPKCECodeVerifier()
  const nonce = client.randomNonce()
  const state = client.randomState()
  // par-start pushes the request (RFC 9126) and sends the browser only
  // its request_uri.
  const build = step === 'start' ? client.buildAuthorizationUrl : client.buildAuthorizationUrlWithPAR
  const url = await build(config, {
    ...(step === 'par-login-start' ? { prompt: 'login' } : {}),
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    max_age: '3600',
  })
  console.log(JSON.stringify({ url: url.href, verifier, nonce, state }))
} else if (step === 'finish') {
  const [callback, verifier, nonce, state] = rest
  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
    expectedState: state,
    maxAge: 3600, // auth_time must be there, and within it
    idTokenExpected: true,
  })
  const claims = tokens.claims()
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
  console.log(JSON.stringify({
    claims,
    userinfo,
    refreshed: refreshed.claims(),
    scope: tokens.scope,
    metadata: config.serverMetadata(),
  }))
} else if (step === 'device-start') {
  const response = await client.initiateDeviceAuthorization(config, { scope: 'openid profile' })
  console.log(JSON.stringify(response))
} else if (step === 'device-finish') {
  // The response of device-start, with the interval the test allows.
  const [responseJSON] = rest
  const tokens = await client.pollDeviceAuthorizationGrant(config, JSON.parse(responseJSON))
  const claims = tokens.claims()
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  console.log(JSON.stringify({ claims, userinfo, scope: tokens.scope }))
} else if (step === 'register') {
  const [redirectUri] = rest
  const registered = await client.dynamicClientRegistration(new URL(issuer), {
    redirect_uris: [redirectUri],
    client_name: 'Strict RP',
    token_endpoint_auth_method: 'client_secret_basic',
    an_unknown_member: 'ignored',
  }, undefined, insecure)
  const md = registered.clientMetadata()
  console.log(JSON.stringify({ client_id: md.client_id, client_secret: md.client_secret }))
} else {
  throw new Error(`unknown step ${step}`)
}
