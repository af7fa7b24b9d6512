// The pick screen's scan field. A barcode scanner types the code and Enter, often faster than an answer comes
// back: each Enter takes the field's text at once, clears the field for the next scan and sends the scans one
// after the other; the lines' panel the server answers replaces the one shown. Without scripts the form is sent as
// usual and the page comes back.
"use strict";

(() => {
  const pending = [];
  let sending = false;

  async function sendNext(form) {
    if (sending || pending.length === 0) return;
    sending = true;
    const code = pending.shift();
    const body = new FormData();
    body.append("code", code);
    body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    try {
      const answer = await fetch(form.action, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "HX-Request": "true" },
      });
      const target = document.querySelector(form.dataset.scanTarget);
      const holder = document.createElement("template");
      holder.innerHTML = answer.ok && !answer.redirected ? (await answer.text()).trim() : "";
      const panel = holder.content.firstElementChild;
      if (target && panel && panel.id === target.id) {
        target.replaceWith(panel);
      } else {
        // Not the panel (signed out, refused): send the scan the plain way and show the page that answers.
        form.querySelector("[data-scan-input]").value = code;
        form.submit();
        return;
      }
    } catch (_error) {
      pending.unshift(code);
      sending = false;
      return;
    }
    sending = false;
    sendNext(form);
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.scanTarget) return;
    const input = form.querySelector("[data-scan-input]");
    const code = input ? input.value.trim() : "";
    event.preventDefault();
    if (!code) return;
    input.value = "";
    input.focus();
    pending.push(code);
    sendNext(form);
  });

  // Keep the scan field ready: a tap elsewhere on the page (not on a link or another field) gives it back focus.
  document.addEventListener("click", (event) => {
    const input = document.querySelector("[data-scan-input]");
    if (input && event.target instanceof Element && !event.target.closest("a, button, input, select, textarea")) {
      input.focus();
    }
  });
})();
