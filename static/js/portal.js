// Small progressive enhancements. Pages work without this file.
"use strict";

// Forms marked data-confirm ask before submitting (e.g. deactivating a user).
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Keyboard focus survives htmx swaps. When the focused element was inside the content an
// htmx request replaced (a "Next page" link in the ticket list, say), the browser drops
// the focus to <body> and a keyboard or screen-reader user starts again from the top.
// Put it on the swapped region instead (htmx itself already restores focus to an element
// with the same id, and to [autofocus] in new content; this covers the rest).
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  const active = document.activeElement;
  if (target && active && active !== document.body && target.contains(active)) {
    target.dataset.hadFocus = "1";
  }
});
// htmx does not swap 4xx answers. A region marked data-swap-errors (the ticket list's
// results) takes them anyway: its 400 answer says what is wrong with the filters, shows it
// and announces it (out of band), and keeps its honest status code.
document.addEventListener("htmx:beforeSwap", (event) => {
  const { xhr, target } = event.detail;
  if (target && target.hasAttribute("data-swap-errors") && xhr && xhr.status >= 400 && xhr.status < 500) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
document.addEventListener("htmx:afterSettle", (event) => {
  const target = event.detail.target;
  if (!target || target.dataset.hadFocus !== "1") return;
  delete target.dataset.hadFocus;
  const active = document.activeElement;
  if (active && active !== document.body && document.contains(active)) return; // kept or moved on purpose
  if (!document.contains(target)) return; // an outerHTML swap: the new content has no handle here
  if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus();
});

// The skip link moves the focus to the main content without writing #main into the
// address, where it would follow the page through form posts and redirects (and start
// the next page's Tab order inside <main>, past its own skip link). Without this file
// the link still works as a plain fragment link.
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("a.skip-link");
  const target = link && document.querySelector(link.getAttribute("href"));
  if (!target) return;
  event.preventDefault();
  target.focus();
  target.scrollIntoView();
});

// One key press can ask twice: Enter in a text field fires `change` and then submits the
// form, and the ticket list refreshes on both. htmx queues the second request behind the
// first, and its swap would replace the results again just as Tab moves the keyboard user
// into them. A request for the same address as the last one from the same element, caused
// by an event of the same moment (the same key press), is not sent.
const lastAsked = new WeakMap();
document.addEventListener("htmx:beforeRequest", (event) => {
  const { elt, pathInfo, requestConfig } = event.detail;
  const trigger = requestConfig && requestConfig.triggeringEvent;
  if (!elt || !pathInfo || !trigger || requestConfig.verb !== "get") return;
  const previous = lastAsked.get(elt);
  lastAsked.set(elt, { path: pathInfo.finalRequestPath, at: trigger.timeStamp });
  if (previous && previous.path === pathInfo.finalRequestPath && Math.abs(trigger.timeStamp - previous.at) < 100) {
    event.preventDefault();
  }
});

// The header's "Administration" menu (a <details>) closes on Escape, giving the focus back
// to its summary, and on a click anywhere else, as people expect of a menu.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const open = document.querySelector("details.nav-menu[open]");
  if (!open) return;
  open.open = false;
  open.querySelector("summary").focus();
});
document.addEventListener("click", (event) => {
  for (const open of document.querySelectorAll("details.nav-menu[open]")) {
    if (!open.contains(event.target)) open.open = false;
  }
});

// The request-dedupe above skips a request whose twin was sent a moment earlier, unless
// that twin was aborted: an element with hx-sync="this:replace" (the new-ticket page's
// request form) aborts its request in flight just before asking again, and skipping the
// new one too left the page with no request form at all.
document.addEventListener("htmx:sendAbort", (event) => {
  if (event.detail && event.detail.elt) lastAsked.delete(event.detail.elt);
});
