// openid-client (panva) as a relying party, driven step by step by
// tests/e2e/test_openid_client_logout.py: each command prints one JSON object.
//   node rp.mjs start ISSUER CLIENT_ID REDIRECT_URI
//   node rp.mjs finish ISSUER CLIENT_ID REDIRECT_URI CALLBACK_URL VERIFIER STATE NONCE POST_LOGOUT
//   node rp.mjs exchange ISSUER CLIENT_ID CLIENT_SECRET SUBJECT_JWT AUDIENCE  (RFC 8693, by
//     tests/e2e/test_openid_client_exchange.py: delegation with its own client_credentials token)
//   node rp.mjs device ISSUER CLIENT_ID  (RFC 8628, by tests/e2e/test_openid_client_device.py:
//     prints the device authorization response, then polls and prints the tokens)
//   node rp.mjs dpop ISSUER CLIENT_ID REDIRECT_URI CALLBACK_URL VERIFIER STATE NONCE  (RFC 9449,
//     by tests/e2e/test_openid_client_dpop.py: code grant, UserInfo, refresh with one DPoP key)
import * as client from "openid-client";

const [command, issuer, clientId, redirectUri, ...rest] = process.argv.slice(2);

async function configuration() {
  // http on localhost only: keystead runs as a real process on a loopback port in the test
  return client.discovery(new URL(issuer), clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
}

async function start() {
  const config = await configuration();
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: rest[0] || "openid profile",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  return { url: url.href, verifier, state, nonce };
}

async function finish() {
  const [callbackUrl, verifier, state, nonce, postLogout] = rest;
  const config = await configuration();
  const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  const claims = tokens.claims();
  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: postLogout,
    state: "bye-state",
  });
  return { claims, end_session_url: endSession.href };
}

async function exchange() {
  // here the third argument is the client secret, not a redirect URI
  const [subjectJwt, audience] = rest;
  const config = await client.discovery(
    new URL(issuer), clientId, redirectUri, client.ClientSecretBasic(redirectUri),
    { execute: [client.allowInsecureRequests] },
  );
  const actor = await client.clientCredentialsGrant(config, { resource: audience });
  const tokens = await client.genericGrantRequest(
    config, "urn:ietf:params:oauth:grant-type:token-exchange", {
      subject_token: subjectJwt,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      actor_token: actor.access_token,
      actor_token_type: "urn:ietf:params:oauth:token-type:access_token",
      audience,
    },
  );
  return { ...tokens };
}

async function device() {
  const config = await configuration();
  const response = await client.initiateDeviceAuthorization(config, {
    scope: "openid profile offline_access",
  });
  // the first line: what the device shows its user; the test approves at verification_uri
  process.stdout.write(JSON.stringify(response) + "\n");
  const tokens = await client.pollDeviceAuthorizationGrant(config, response);
  return { ...tokens, claims: tokens.claims() };
}

async function dpop() {
  const [callbackUrl, verifier, state, nonce] = rest;
  const config = await configuration();
  const keyPair = await client.randomDPoPKeyPair("ES256");
  const DPoP = client.getDPoPHandle(config, keyPair);
  const tokens = await client.authorizationCodeGrant(
    config, new URL(callbackUrl),
    { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce },
    undefined, { DPoP },
  );
  const sub = tokens.claims().sub;
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, sub, { DPoP });
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, {
    DPoP,
  });
  const userinfo2 = await client.fetchUserInfo(config, refreshed.access_token, sub, { DPoP });
  const jwk = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
  return {
    token_type: tokens.token_type,
    access_token: tokens.access_token,
    refresh_token: refreshed.refresh_token,
    refreshed_token_type: refreshed.token_type,
    refreshed_access_token: refreshed.access_token,
    userinfo,
    userinfo2,
    jwk,
  };
}

const commands = { start, finish, exchange, device, dpop };
const result = await commands[command]();
process.stdout.write(JSON.stringify(result) + "\n");
