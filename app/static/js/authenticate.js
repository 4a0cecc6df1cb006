// Confirm an invoice's payment with the customer's bank (3-D Secure): Stripe.js completes the
// PaymentIntent's next action, then the server reads from Stripe how the payment stands.
(function () {
  "use strict";
  const app = document.getElementById("auth-app");
  if (!app) return;
  const done = document.getElementById("auth-done-form");

  let stripe;
  try {
    const options = app.dataset.stripeAccount ? { stripeAccount: app.dataset.stripeAccount } : undefined;
    stripe = Stripe(app.dataset.publishableKey, options);  // a ReferenceError when it did not load
    if (typeof stripe.handleNextAction !== "function") throw new Error("no handleNextAction");
  } catch (err) {
    document.getElementById("auth-unavailable").hidden = false;
    return;
  }
  app.hidden = false;

  const button = document.getElementById("auth-start");
  button.addEventListener("click", async function () {
    button.disabled = true;
    button.textContent = "Waiting for your bank…";
    try {
      await stripe.handleNextAction({ clientSecret: app.dataset.clientSecret });
    } finally {
      // Confirmed, refused or abandoned: the server asks Stripe and says which.
      done.submit();
    }
  });
})();
