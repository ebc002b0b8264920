// Passkeys (WebAuthn) on the sign-in, two-step and account pages.
//
// A page that offers passkeys has one hidden <form id="passkey-form"> with
// data-purpose (sign_in, second_factor or register) and data-options (where
// to ask for a challenge). This script shows the form when the browser has
// WebAuthn, asks the server for options, runs the browser's ceremony, and
// posts the answer in the form's `credential` field: the server's answer is
// an ordinary page or redirect. Without this script, or without WebAuthn,
// the form stays hidden and password and code sign-in work as before.
(() => {
  'use strict';

  const form = document.getElementById('passkey-form');
  if (!form || !window.PublicKeyCredential || !navigator.credentials) return;

  // base64url (RFC 4648 §5, unpadded) <-> ArrayBuffer.
  const decode = (text) => {
    const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4);
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer;
  };
  const encode = (buffer) => {
    if (!buffer) return null;
    let text = '';
    for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte);
    return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };

  // The server's JSON may carry nulls for absent members, which the
  // browser's dictionaries refuse: drop them.
  const withoutNulls = (value) => {
    if (Array.isArray(value)) return value.map(withoutNulls);
    if (value && typeof value === 'object') {
      const out = {};
      for (const [key, member] of Object.entries(value)) {
        if (member !== null && member !== undefined) out[key] = withoutNulls(member);
      }
      return out;
    }
    return value;
  };
  const withIds = (list) => (list || []).map((c) => ({ ...c, id: decode(c.id) }));

  const creationOptions = (json) => {
    const o = withoutNulls(json);
    return {
      ...o,
      challenge: decode(o.challenge),
      user: { ...o.user, id: decode(o.user.id) },
      excludeCredentials: withIds(o.excludeCredentials),
    };
  };
  const requestOptions = (json) => {
    const o = withoutNulls(json);
    return { ...o, challenge: decode(o.challenge), allowCredentials: withIds(o.allowCredentials) };
  };

  const registration = (credential) => ({
    id: credential.id,
    rawId: encode(credential.rawId),
    type: credential.type,
    response: {
      attestationObject: encode(credential.response.attestationObject),
      clientDataJSON: encode(credential.response.clientDataJSON),
      transports: credential.response.getTransports ? credential.response.getTransports() : undefined,
    },
    extensions: credential.getClientExtensionResults(),
  });
  const assertion = (credential) => ({
    id: credential.id,
    rawId: encode(credential.rawId),
    type: credential.type,
    response: {
      authenticatorData: encode(credential.response.authenticatorData),
      clientDataJSON: encode(credential.response.clientDataJSON),
      signature: encode(credential.response.signature),
      userHandle: encode(credential.response.userHandle),
    },
    extensions: credential.getClientExtensionResults(),
  });

  const status = form.querySelector('[data-passkey-status]');
  const say = (message) => {
    if (!status) return;
    status.textContent = message;
    status.hidden = !message;
  };
  // What the browser's refusals mean to the person.
  const explain = (error) => {
    if (error && error.name === 'NotAllowedError') {
      return 'The passkey request was cancelled or timed out. Please try again.';
    }
    if (error && error.name === 'InvalidStateError') {
      return 'This passkey is registered already.';
    }
    return (error && error.message) || 'The passkey request failed. Please try again.';
  };

  // Asks the server for a challenge (a POST with the page's CSRF token).
  const ask = async (fields) => {
    const body = new URLSearchParams({ csrf: form.elements.csrf.value, ...fields });
    const response = await fetch(form.dataset.options, {
      method: 'POST',
      body,
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
    const json = await response.json().catch(() => null);
    if (!response.ok) {
      throw new Error((json && json.error_description) || 'The passkey request failed. Please try again.');
    }
    return json;
  };

  const send = (answer) => {
    form.elements.credential.value = JSON.stringify(answer);
    form.submit();
  };

  const purpose = form.dataset.purpose;
  const button = form.querySelector('[data-passkey-start]');
  form.hidden = false;

  if (purpose === 'register') {
    button.addEventListener('click', async () => {
      const name = form.elements.name;
      // A name of spaces alone would be refused after the authenticator
      // made the key, leaving it behind: check first.
      name.value = name.value.trim();
      if (!name.reportValidity()) return;
      say('');
      button.disabled = true;
      try {
        const options = await ask({});
        const credential = await navigator.credentials.create({ publicKey: creationOptions(options.publicKey) });
        send(registration(credential));
      } catch (error) {
        say(explain(error));
        button.disabled = false;
      }
    });
    return;
  }

  // Sign-in and second step: one ceremony at a time per page. The
  // autofill one (conditional mediation) waits in the background; pressing the button cancels it,
  // and it starts again when the button's ceremony fails. Each await
  // checks that its ceremony is still the current one, so a late answer
  // to a cancelled ceremony is never sent.
  let pending = null;
  let autofill = false;
  let renewal = null;
  const get = async (conditional) => {
    if (pending) pending.abort();
    clearTimeout(renewal);
    const controller = new AbortController();
    pending = controller;
    const current = () => pending === controller && !controller.signal.aborted;
    const options = await ask({ purpose });
    if (!current()) return;
    const request = { publicKey: requestOptions(options.publicKey), signal: controller.signal };
    if (conditional) {
      request.mediation = 'conditional';
      // Browsers keep an autofill request open past the challenge's five
      // minutes: ask for a fresh one before it runs out.
      renewal = setTimeout(() => startAutofill(), 4 * 60 * 1000);
    }
    const credential = await navigator.credentials.get(request);
    if (credential && current()) {
      clearTimeout(renewal);
      send(assertion(credential));
    }
  };
  const startAutofill = () => {
    if (!autofill) return;
    // A failed autofill ceremony says nothing: the button is still there.
    get(true).catch(() => {});
  };

  button.addEventListener('click', () => {
    say('');
    get(false).catch((error) => {
      if (error && error.name === 'AbortError') return;
      say(explain(error));
      startAutofill();
    });
  });

  if (purpose === 'sign_in' && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then((available) => {
      // Not when the person pressed the button meanwhile: that ceremony
      // goes first.
      autofill = available;
      if (available && !pending) startAutofill();
    });
  }
})();
