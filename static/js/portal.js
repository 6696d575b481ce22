// Small progressive enhancements. Pages work without this file.
"use strict";

// Forms marked data-confirm ask before submitting (e.g. deactivating a user).
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
