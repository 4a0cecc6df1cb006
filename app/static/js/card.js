// Replace the card on file: Stripe.js Elements collects the card, a SetupIntent confirms it,
// and the server checks that SetupIntent before making the card the default.
(function () {
  "use strict";
  const app = document.getElementById("card-app");
  if (!app) return;

  // Stripe.js may be blocked or unreachable: say so, and offer a reload, rather than show an
  // empty box and a button that cannot work. The form stays hidden until the card field is in.
  function unavailable() {
    app.hidden = true;
    document.getElementById("card-unavailable").hidden = false;
    document.getElementById("card-reload").addEventListener("click", function () {
      window.location.reload();
    });
  }

  let stripe, card;
  try {
    const options = app.dataset.stripeAccount ? { stripeAccount: app.dataset.stripeAccount } : undefined;
    stripe = Stripe(app.dataset.publishableKey, options);  // a ReferenceError when it did not load
    card = stripe.elements().create("card");
    app.hidden = false;
    card.mount("#card-element");
  } catch (err) {
    unavailable();
    return;
  }

  const button = document.getElementById("card-submit");
  const errorBox = document.getElementById("card-error");
  const confirmForm = document.getElementById("card-confirm-form");

  function showError(message) {
    errorBox.textContent = message || "Something went wrong. Nothing was changed; please try again.";
    errorBox.hidden = false;
    button.disabled = false;
    button.textContent = "Save card";
  }

  async function setupIntentSecret() {
    const body = new URLSearchParams({
      customer: app.dataset.customer,
      action_key: app.dataset.actionKey,
      csrf_token: app.dataset.csrf,
    });
    const response = await fetch(app.dataset.setupUrl, {
      method: "POST",
      headers: { "X-CSRFToken": app.dataset.csrf },
      body: body,
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || "We could not start the card update.");
    return data.client_secret;
  }

  button.addEventListener("click", async function () {
    errorBox.hidden = true;
    button.disabled = true;
    button.textContent = "Saving…";
    try {
      const secret = await setupIntentSecret();
      const result = await stripe.confirmCardSetup(secret, { payment_method: { card: card } });
      if (result.error) {
        showError(result.error.message);
        return;
      }
      confirmForm.querySelector("[name=setup_intent]").value = result.setupIntent.id;
      confirmForm.submit();
    } catch (err) {
      showError(err.message);
    }
  });
})();
