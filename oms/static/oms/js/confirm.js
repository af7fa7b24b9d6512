// A form (or a submit button) with data-confirm="question" asks before it is sent; Cancel sends nothing.
// Listening on the document, in the capture phase, covers forms that htmx swaps in later and runs before any
// handler of the form itself.
"use strict";

document.addEventListener(
  "submit",
  (event) => {
    const form = event.target;
    const button = event.submitter;
    const question =
      (button && button.dataset.confirm) || (form instanceof HTMLFormElement && form.dataset.confirm);
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  },
  true,
);
