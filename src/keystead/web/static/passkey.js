// keystead passkeys: navigator.credentials.create / .get from options the server put in the
// page, the result posted back in a plain form (no fetch). ES2020, no dependencies, no inline
// script: load it with the page's CSP nonce and wire it with data- attributes.
//
//   <form method="post" action="...">
//     <script type="application/json" id="passkey-options">{py_webauthn options_to_json}</script>
//     <input type="hidden" name="credential">          (data-passkey-field names another one)
//     <p role="alert" hidden></p>                         (or data-passkey-alert="element id")
//     <button type="button" data-passkey="register" data-passkey-options="passkey-options">
//     <button type="button" data-passkey="login" data-passkey-options="passkey-options">
//     <input name="username" autocomplete="username webauthn"
//            data-passkey-conditional="passkey-options">   (conditional UI: autofill)
//   </form>
//
// data-passkey-form="form id" on a button or input posts that form instead of its own (the
// login page's username input lives in the password form; its autofill posts the passkey form).
//
// On success the form is submitted with the credential's JSON (PublicKeyCredential.toJSON(),
// WebAuthn L3 §5.1, base64url fields) in the hidden input; on a failure a message goes to
// the form's role="alert" element and the page stays as it was.
(() => {
  "use strict";

  const MESSAGES = {
    NotAllowedError:
      "The passkey request was cancelled or timed out. You can try again, or use another way to sign in.",
    InvalidStateError: "This authenticator already holds a passkey for this account.",
    SecurityError: "Passkeys cannot be used on this address (a secure https origin is needed).",
    NotSupportedError: "This authenticator does not support what this site asks for.",
    unsupported: "This browser does not support passkeys.",
    options: "The passkey request on this page is broken; reload the page.",
  };

  // ---- base64url <-> ArrayBuffer -----------------------------------------------------------
  const toBuffer = (text) => {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  };
  const toB64u = (buffer) => {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  // ---- options (JSON in the page) -> the dictionaries the API takes -------------------------
  const descriptors = (list) => (list || []).map((d) => ({ ...d, id: toBuffer(d.id) }));

  const readOptions = (id) => {
    const element = id && document.getElementById(id);
    if (!element) throw new Error(MESSAGES.options);
    return JSON.parse(element.textContent);
  };

  const creationOptions = (json) => ({
    ...json,
    challenge: toBuffer(json.challenge),
    user: { ...json.user, id: toBuffer(json.user.id) },
    excludeCredentials: descriptors(json.excludeCredentials),
  });

  const requestOptions = (json) => {
    const options = { ...json, challenge: toBuffer(json.challenge) };
    if (json.allowCredentials) options.allowCredentials = descriptors(json.allowCredentials);
    return options;
  };

  // ---- the credential -> JSON (toJSON() where the browser has it) ---------------------------
  const credentialJSON = (credential) => {
    if (typeof credential.toJSON === "function") {
      try {
        return credential.toJSON();
      } catch (_) {
        // fall through: serialise by hand
      }
    }
    const r = credential.response;
    const json = {
      id: credential.id,
      rawId: toB64u(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: {},
      response: { clientDataJSON: toB64u(r.clientDataJSON) },
    };
    if (r.attestationObject) {
      json.response.attestationObject = toB64u(r.attestationObject);
      json.response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
    } else {
      json.response.authenticatorData = toB64u(r.authenticatorData);
      json.response.signature = toB64u(r.signature);
      json.response.userHandle = r.userHandle ? toB64u(r.userHandle) : null;
    }
    return json;
  };

  // ---- page plumbing -------------------------------------------------------------------------
  const formOf = (element) =>
    (element.dataset.passkeyForm && document.getElementById(element.dataset.passkeyForm)) ||
    element.form ||
    element.closest("form");

  const alertFor = (element) => {
    const form = formOf(element);
    const named = form && form.dataset.passkeyAlert;
    return (
      (named && document.getElementById(named)) ||
      (form && form.querySelector('[role="alert"]')) ||
      document.querySelector('[role="alert"]')
    );
  };

  const say = (element, message) => {
    const box = alertFor(element);
    if (!box) return;
    box.textContent = message;
    box.hidden = !message;
  };

  const submit = (element, credential) => {
    const form = formOf(element);
    const name = element.dataset.passkeyField || "credential";
    let field = form.querySelector(`input[name="${CSS.escape(name)}"]`);
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = name;
      form.appendChild(field);
    }
    field.value = JSON.stringify(credentialJSON(credential));
    form.submit(); // a plain POST; no submit handlers, no fetch
  };

  const messageOf = (error) =>
    MESSAGES[error && error.name] ||
    (error && error.message === MESSAGES.options ? MESSAGES.options : null) ||
    `The passkey request failed (${(error && error.name) || "error"}). You can try again.`;

  // Only one WebAuthn request runs at a time: a button click aborts the pending
  // conditional (autofill) request, and starts it again if the click's request fails.
  let conditional = null;

  const ceremony = async (button) => {
    if (button.dataset.passkeyBusy) return;
    say(button, "");
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(button, MESSAGES.unsupported);
      return;
    }
    button.dataset.passkeyBusy = "1";
    if (conditional) {
      conditional.controller.abort(); // and wait until the browser has let it go
      await conditional.done;
    }
    try {
      const json = readOptions(button.dataset.passkeyOptions);
      const credential =
        button.dataset.passkey === "register"
          ? await navigator.credentials.create({ publicKey: creationOptions(json) })
          : await navigator.credentials.get({ publicKey: requestOptions(json) });
      if (!credential) throw new DOMException("no credential", "NotAllowedError");
      submit(button, credential);
    } catch (error) {
      say(button, messageOf(error));
      startConditional();
    } finally {
      delete button.dataset.passkeyBusy;
    }
  };

  const runConditional = async (input, controller) => {
    try {
      const json = readOptions(input.dataset.passkeyConditional);
      const credential = await navigator.credentials.get({
        publicKey: requestOptions(json),
        mediation: "conditional",
        signal: controller.signal,
      });
      if (credential) submit(input, credential);
    } catch (error) {
      // AbortError: a button took over. Anything else: say it, keep the form usable.
      if (error && error.name !== "AbortError") say(input, messageOf(error));
    }
  };

  const startConditional = async () => {
    const input = document.querySelector("input[data-passkey-conditional]");
    if (!input || conditional || !window.PublicKeyCredential) return;
    const available =
      typeof PublicKeyCredential.isConditionalMediationAvailable === "function" &&
      (await PublicKeyCredential.isConditionalMediationAvailable());
    if (!available || conditional) return;
    const controller = new AbortController();
    const state = { controller, done: null };
    conditional = state;
    document.documentElement.dataset.passkeyConditional = "pending";
    state.done = runConditional(input, controller).finally(() => {
      if (conditional === state) {
        conditional = null;
        delete document.documentElement.dataset.passkeyConditional;
      }
    });
  };

  const wire = () => {
    for (const button of document.querySelectorAll("[data-passkey]")) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        ceremony(button);
      });
    }
    startConditional();
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
