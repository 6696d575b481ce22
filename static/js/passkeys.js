// Passkey ceremonies for forms marked data-passkey="register" or "sign-in".
// On submit: ask the server for the options (a POST, which keeps the challenge in the
// session), let the browser talk to the authenticator, put its answer in the form's hidden
// "credential" field and submit the form for real. The server's answer is a normal page.
"use strict";

(() => {
  const toBytes = (value) => {
    const base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
  };
  const toBase64url = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer)))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");

  // Browsers without the JSON helpers (older Safari and Firefox) get the same by hand.
  const creationOptions = (json) => {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return {
      ...json,
      challenge: toBytes(json.challenge),
      user: { ...json.user, id: toBytes(json.user.id) },
      excludeCredentials: (json.excludeCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })),
    };
  };
  const requestOptions = (json) => {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return {
      ...json,
      challenge: toBytes(json.challenge),
      allowCredentials: (json.allowCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })),
    };
  };
  const credentialJSON = (credential) => {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    const response = {};
    for (const key of ["clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle"]) {
      if (credential.response[key]) response[key] = toBase64url(credential.response[key]);
    }
    if (credential.response.getTransports) response.transports = credential.response.getTransports();
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response,
      authenticatorAttachment: credential.authenticatorAttachment,
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  };

  const show = (form, message) => {
    const status = form.querySelector("[data-passkey-status]");
    if (!status) return;
    status.textContent = message;
    status.hidden = false;
  };

  const ceremony = async (form) => {
    const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    const answer = await fetch(form.dataset.optionsUrl, {
      method: "POST",
      headers: { "X-CSRFToken": token },
      credentials: "same-origin",
    });
    const json = await answer.json();
    if (!answer.ok) throw new Error(json.error || "The server refused.");
    const credential =
      form.dataset.passkey === "register"
        ? await navigator.credentials.create({ publicKey: creationOptions(json) })
        : await navigator.credentials.get({ publicKey: requestOptions(json) });
    form.querySelector("input[name=credential]").value = JSON.stringify(credentialJSON(credential));
    form.submit();
  };

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.dataset || !form.dataset.passkey) return;
    event.preventDefault();
    if (!window.PublicKeyCredential) {
      show(form, "This browser does not support passkeys.");
      return;
    }
    if (form.dataset.passkey === "register" && !form.elements.name.value.trim()) {
      show(form, "Give the passkey a name you will recognise.");
      form.elements.name.focus();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    ceremony(form).catch((error) => {
      button.disabled = false;
      // NotAllowedError: the person cancelled or the time ran out.
      show(
        form,
        error && error.name === "NotAllowedError"
          ? "The passkey was not used (cancelled or timed out). Try again."
          : `The passkey did not work: ${error.message}`,
      );
    });
  });
})();
