// File uploads on the new-ticket and comment forms: drop zone, list of chosen files and a
// progress bar while a large upload is sent. Without this file the forms post normally.
// Forms opt in with data-upload; the file input carries data-attachments.
"use strict";

(() => {
  if (window.portalAttachments) return; // included by more than one form on a page
  window.portalAttachments = true;

  const fileInput = (form) => form.querySelector("input[type=file][data-attachments]");

  function sizeText(bytes) {
    if (bytes < 1024) return `${bytes} bytes`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  function showPicked(input) {
    const list = input.form && input.form.querySelector("[data-picked-files]");
    if (!list) return;
    list.replaceChildren(
      ...Array.from(input.files).map((file) => {
        const item = document.createElement("li");
        item.textContent = `${file.name} (${sizeText(file.size)})`;
        return item;
      }),
    );
  }

  document.addEventListener("change", (event) => {
    if (event.target.matches && event.target.matches("input[data-attachments]")) {
      showPicked(event.target);
    }
  });

  // Drag and drop: dropped files join those already chosen.
  document.addEventListener("dragover", (event) => {
    const zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (!zone) return;
    event.preventDefault();
    zone.classList.add("dropzone-over");
  });
  document.addEventListener("dragleave", (event) => {
    const zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (zone) zone.classList.remove("dropzone-over");
  });
  document.addEventListener("drop", (event) => {
    const zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (!zone || !event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    zone.classList.remove("dropzone-over");
    const input = zone.querySelector("input[data-attachments]");
    const merged = new DataTransfer();
    for (const file of [...input.files, ...event.dataTransfer.files]) merged.items.add(file);
    input.files = merged.files;
    showPicked(input);
  });

  function release(form) {
    delete form.dataset.sent; // tickets.js's double-submit guard
    form.querySelectorAll("button[type=submit]").forEach((button) => {
      button.removeAttribute("aria-disabled");
    });
  }

  // A refused submission comes back as the page with the form and its messages: put that
  // form in place of this one, keeping the chosen files (a re-rendered page cannot).
  function showRefusal(form, xhr) {
    const status = form.querySelector("[data-upload-status]");
    const type = xhr.getResponseHeader("Content-Type") || "";
    const action = form.getAttribute("action");
    if (type.startsWith("text/html")) {
      const page = new DOMParser().parseFromString(xhr.responseText, "text/html");
      const returned = Array.from(page.querySelectorAll("form[data-upload]")).find(
        (candidate) => candidate.getAttribute("action") === action,
      );
      if (returned) {
        const fresh = document.importNode(returned, true);
        const oldInput = fileInput(form);
        const newInput = fileInput(fresh);
        if (oldInput && newInput) {
          oldInput.id = newInput.id;
          for (const name of ["aria-describedby", "aria-invalid"]) {
            if (newInput.hasAttribute(name)) oldInput.setAttribute(name, newInput.getAttribute(name));
          }
          newInput.replaceWith(oldInput);
        }
        form.replaceWith(fresh);
        if (window.htmx) window.htmx.process(fresh);
        showPicked(oldInput || fileInput(fresh));
        // The focused button went with the old form: put the focus on the first field
        // in error (or the message), so keyboard and screen-reader users land on it.
        const alert = fresh.querySelector(".form-errors, .error");
        const invalid = fresh.querySelector("[aria-invalid=true]");
        const focusTarget = invalid || alert;
        if (focusTarget) {
          if (!invalid) focusTarget.setAttribute("tabindex", "-1");
          focusTarget.focus({ preventScroll: true });
          focusTarget.scrollIntoView({ block: "center" });
        }
        return;
      }
    }
    // The size limit's 413 (and other refusals before the view) are one line of text.
    const plain = type.startsWith("text/plain") && xhr.responseText.length < 500;
    status.textContent = plain ? xhr.responseText : `The upload failed (${xhr.status}). Nothing was saved.`;
    release(form);
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.defaultPrevented || !form.matches || !form.matches("form[data-upload]")) return;
    const input = fileInput(form);
    if (!input || !input.files.length) return; // nothing to upload: a normal post
    event.preventDefault();
    const progress = form.querySelector("[data-upload-progress]");
    const status = form.querySelector("[data-upload-status]");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    // Lets the server answer a success with 204 and X-Redirect instead of a redirect
    // (which XMLHttpRequest would follow, using up the "saved" message on the way).
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.addEventListener("progress", (progressEvent) => {
      if (!progressEvent.lengthComputable) return;
      progress.hidden = false;
      progress.value = Math.round((progressEvent.loaded / progressEvent.total) * 100);
      status.textContent = `Sending ${sizeText(progressEvent.loaded)} of ${sizeText(progressEvent.total)}…`;
    });
    xhr.addEventListener("load", () => {
      progress.hidden = true;
      const next = xhr.getResponseHeader("X-Redirect");
      if (xhr.status === 204 && next) {
        window.location.assign(next);
        return;
      }
      showRefusal(form, xhr);
    });
    xhr.addEventListener("error", () => {
      progress.hidden = true;
      status.textContent = "The connection failed before the upload finished. Nothing was saved; try again.";
      release(form);
    });
    xhr.send(new FormData(form));
  });
})();
