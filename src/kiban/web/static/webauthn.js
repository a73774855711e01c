// Security keys and passkeys for officials (WebAuthn), as a progressive enhancement: the forms
// marked data-webauthn are hidden until this script finds WebAuthn in the browser; without it,
// the page's notice (data-webauthn-unavailable) stays and points to the authenticator app.
// The server makes and checks every challenge; this script only carries them to the
// authenticator (navigator.credentials) and back, as JSON.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-webauthn]");
  if (!forms.length) { return; }
  if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) { return; }

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: toBytes(item.id), transports: item.transports };
    });
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toText(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      out.response.attestationObject = toText(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = toText(response.authenticatorData);
      out.response.signature = toText(response.signature);
      out.response.userHandle = response.userHandle ? toText(response.userHandle) : null;
    }
    return out;
  }

  function post(url, body, csrf) {
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    if (csrf) { headers["X-CSRF-Token"] = csrf; }
    return fetch(url, { method: "POST", headers: headers, body: JSON.stringify(body), credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) {
            // Only the server's own message (in the page's language) is shown; the browser's
            // DOMException messages are in the browser's language, so they are not.
            throw { server: data && data.error && data.error.message };
          }
          return data;
        });
      });
  }

  function create(options) {
    var publicKey = options;
    publicKey.challenge = toBytes(options.challenge);
    publicKey.user.id = toBytes(options.user.id);
    publicKey.excludeCredentials = descriptors(options.excludeCredentials);
    return navigator.credentials.create({ publicKey: publicKey });
  }

  function get(options) {
    var publicKey = options;
    publicKey.challenge = toBytes(options.challenge);
    publicKey.allowCredentials = descriptors(options.allowCredentials);
    return navigator.credentials.get({ publicKey: publicKey });
  }

  function enhance(form) {
    var kind = form.getAttribute("data-webauthn");
    var csrf = form.getAttribute("data-csrf");
    var error = form.querySelector("[role='alert']");
    var button = form.querySelector("button[type='submit']");
    form.hidden = false;
    document.querySelectorAll("[data-webauthn-unavailable]").forEach(function (notice) { notice.hidden = true; });

    function fail(message) {
      button.disabled = false;
      error.textContent = message || form.getAttribute("data-error");
      error.hidden = false;
      button.focus();
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.hidden = true;
      button.disabled = true;
      var field = form.querySelector("input[name]");
      var value = field ? field.value.trim() : "";
      if (kind === "register") {
        if (!value) { fail(form.getAttribute("data-error-name")); field.focus(); return; }
        post(form.getAttribute("data-options"), {}, csrf)
          .then(create)
          .then(function (credential) {
            return post(form.getAttribute("data-verify"), { name: value, credential: credentialJSON(credential) }, csrf);
          })
          .then(function (result) { window.location.assign(result.redirect); })
          .catch(function (problem) { fail(problem && problem.server); });
      } else {
        var body = kind === "sign-in" ? { account: value } : {};
        post(form.getAttribute("data-options"), body, csrf)
          .then(get)
          .then(function (credential) {
            return post(form.getAttribute("data-verify"), credentialJSON(credential), csrf);
          })
          .then(function (result) { window.location.assign(result.redirect); })
          .catch(function (problem) { fail(problem && problem.server); });
      }
    });
  }

  forms.forEach(enhance);
})();
