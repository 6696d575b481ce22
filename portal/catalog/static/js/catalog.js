// Master data screens: small progressive enhancements; every page works without this file.
"use strict";

// Filter forms refresh as soon as a list filter changes (the Filter button stays for
// keyboard and no-JS users).
document.addEventListener("change", (event) => {
  const select = event.target;
  if (select instanceof HTMLSelectElement && select.form && select.form.classList.contains("filters")) {
    select.form.requestSubmit();
  }
});
