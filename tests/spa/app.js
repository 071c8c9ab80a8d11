// A tiny single-page app on oidc-client-ts: a public client using the authorization code
// flow with PKCE. The page's server provides config.json ({authority, client_id}).
"use strict";

async function userManager() {
  const config = await (await fetch("config.json")).json();
  return new oidc.UserManager({
    authority: config.authority,
    client_id: config.client_id,
    redirect_uri: new URL("callback.html", location.href).href,
    response_type: "code", // PKCE (S256) is on by default
    scope: "openid profile email",
    automaticSilentRenew: false,
  });
}

function show(state, value) {
  document.getElementById("result").textContent =
    typeof value === "string" ? value : JSON.stringify(value, null, 2);
  document.body.dataset.state = state;
}

async function signIn(mgr) {
  await mgr.signinRedirect();
}

async function callback(mgr) {
  // Cross-origin: the token endpoint (code + code_verifier), then UserInfo (Bearer).
  const user = await mgr.signinRedirectCallback();
  const endpoint = await mgr.metadataService.getUserInfoEndpoint();
  const response = await fetch(endpoint, {
    headers: { Authorization: "Bearer " + user.access_token },
  });
  const userinfo = await response.json();
  show("signed-in", { userinfo, id_token_claims: user.profile, scope: user.scope });
}

async function main() {
  const mgr = await userManager();
  if (document.body.dataset.page === "callback") {
    await callback(mgr);
    return;
  }
  const button = document.getElementById("signin");
  button.addEventListener("click", () => signIn(mgr).catch((err) => show("error", String(err))));
  button.disabled = false;
  document.body.dataset.state = "ready";
}

main().catch((err) => show("error", "error: " + (err && err.message ? err.message : err)));
