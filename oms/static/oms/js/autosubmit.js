// A select with data-autosubmit sends its form as soon as another option is chosen (the tenant switcher, the
// fulfilment board's location); without scripts, the form's <noscript> button does it.
"use strict";

document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && "autosubmit" in field.dataset && field.form) {
    field.form.submit();
  }
});
