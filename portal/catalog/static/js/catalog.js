// Master data screens: small progressive enhancements; every page works without this file.
"use strict";

// Filter forms refresh as soon as a list filter is picked with the mouse. Not when the
// keyboard changed it: arrow keys and typing change a closed list one option at a time,
// and reloading the page at the first key would leave the keyboard user no way to reach
// the option they want (WCAG 3.2.2). They press the form's button instead.
let keyedSelect = null;
document.addEventListener("keydown", (event) => {
  keyedSelect = event.target instanceof HTMLSelectElement ? event.target : null;
}, true);
document.addEventListener("pointerdown", () => {
  keyedSelect = null;
}, true);
document.addEventListener("change", (event) => {
  const select = event.target;
  if (select instanceof HTMLSelectElement && select.form && select.form.classList.contains("filters")
      && select !== keyedSelect) {
    select.form.requestSubmit();
  }
});
