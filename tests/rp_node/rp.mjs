// openid-client (panva) as a relying party, driven step by step by
// tests/e2e/test_openid_client_logout.py: each command prints one JSON object.
//   node rp.mjs start ISSUER CLIENT_ID REDIRECT_URI
//   node rp.mjs finish ISSUER CLIENT_ID REDIRECT_URI CALLBACK_URL VERIFIER STATE NONCE POST_LOGOUT
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
    scope: "openid profile",
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

const result = command === "start" ? await start() : await finish();
process.stdout.write(JSON.stringify(result) + "\n");
