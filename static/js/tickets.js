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

  // Dependent selects without a round trip: each category <optgroup> is labelled with its
  // group's name, each subcategory <optgroup> with its category's. Show only the matching
  // group; the server still checks that the choices nest.
  function narrow(parent, child) {
    if (!parent || !child) return;
    const label = parent.selectedIndex > 0 ? parent.options[parent.selectedIndex].text : "";
    let keep = false;
    child.querySelectorAll("optgroup").forEach((group) => {
      const match = !label || group.label === label;
      group.hidden = !match;
      group.disabled = !match;
      if (match && child.value && group.querySelector(`option[value="${CSS.escape(child.value)}"]`)) {
        keep = true;
      }
    });
    if (child.value && !keep) child.value = "";
  }

  function wire(container) {
    const group = container.querySelector("select[name=group]");
    const category = container.querySelector("select[name=category]");
    const subcategory = container.querySelector("select[name=subcategory]");
    // The catalog's htmx partials replace the options themselves when they are wired in.
    if (group && group.hasAttribute("hx-get")) return;
    const update = () => {
      narrow(group, category);
      narrow(category, subcategory);
    };
    group && group.addEventListener("change", update);
    category && category.addEventListener("change", () => narrow(category, subcategory));
    update();
  }

  document.querySelectorAll("[data-classification]").forEach(wire);
})();
