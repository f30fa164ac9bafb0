// Small behaviours every page may use, declared with data- attributes instead of inline handlers
// (the Content-Security-Policy runs scripts from this site only, never inline code).
(function () {
  // <form data-confirm="Delete this?">: ask before sending.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!field.dataset) return;
    // <select data-autosubmit>: a choice sends its form.
    if ("autosubmit" in field.dataset && field.form) {
      field.form.requestSubmit();
    }
    // <select data-reload-param="language">: the page starts again with the chosen value.
    if (field.dataset.reloadParam) {
      window.location.search = "?" + encodeURIComponent(field.dataset.reloadParam) + "=" + encodeURIComponent(field.value);
    }
  });

  // <input data-select-on-focus>: a link to copy by hand is selected whole.
  document.addEventListener("focusin", function (event) {
    if (event.target.dataset && "selectOnFocus" in event.target.dataset) event.target.select();
  });

  // <button data-copy-from="#id" data-copied="Copied" hidden>: shown when the clipboard can be used;
  // without it (or without JavaScript) the text stays selectable in its field.
  function setUpCopyButtons() {
    if (!navigator.clipboard) return;
    document.querySelectorAll("[data-copy-from]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var source = button.dataset.copyFrom === "previous"
          ? button.parentElement.querySelector("input")
          : document.querySelector(button.dataset.copyFrom);
        navigator.clipboard.writeText(source.value).then(
          function () { button.textContent = button.dataset.copied; },
          function () { source.select(); }
        );
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpCopyButtons);
  } else {
    setUpCopyButtons();
  }
})();
