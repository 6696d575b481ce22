// Ticket pages: small enhancements. Everything works without this file.
"use strict";

(() => {
  // A form marked data-once cannot be sent twice by a double click (the server also
  // refuses duplicates: the new-ticket form carries an idempotency key).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches || !form.matches("form[data-once]")) return;
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    form.querySelectorAll("button[type=submit]").forEach((button) => {
      button.setAttribute("aria-disabled", "true");
    });
  });
})();
