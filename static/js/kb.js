// Article edit page: put an image's Markdown into the body where the cursor is, after an
// upload (the server's `kb-image-added` htmx event) or from an image's "Insert" button.
// Without this file the Markdown is shown next to each image, to copy by hand.
"use strict";

(() => {
  if (window.portalKb) return;
  window.portalKb = true;

  function insertAtCursor(markdown) {
    const body = document.getElementById("id_body");
    if (!body || !markdown) return;
    const start = body.selectionStart ?? body.value.length;
    const end = body.selectionEnd ?? start;
    const before = body.value.slice(0, start);
    const after = body.value.slice(end);
    const lead = before && !before.endsWith("\n") ? "\n\n" : "";
    const text = `${lead}${markdown}\n`;
    body.value = before + text + after;
    const caret = before.length + text.length;
    body.focus();
    body.setSelectionRange(caret, caret);
    const status = document.getElementById("kb-image-status");
    if (status) status.textContent = "Image inserted into the article text.";
  }

  document.body.addEventListener("kb-image-added", (event) => {
    insertAtCursor(event.detail && event.detail.markdown);
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-insert-markdown]");
    if (button) insertAtCursor(button.dataset.insertMarkdown);
  });
})();
