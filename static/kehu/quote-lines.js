// The quote's line editor: keyboard entry with a typeahead over specifications (code → Tab →
// quantity → Enter adds the line and brings the cursor back to the code), and messages from the
// row edits. Works on one row or one field at a time: nothing here walks the table's rows.
(function () {
  "use strict";
  var form = document.getElementById("line-add");
  if (!form) { return; }
  var code = form.querySelector("[name=code]");
  var quantity = form.querySelector("[name=quantity]");
  var list = document.getElementById("line-suggestions");
  var error = document.getElementById("line-add-error");
  var searchUrl = form.dataset.searchUrl;
  var items = [];
  var active = -1;
  var timer = null;
  var asked = "";

  function close() {
    items = [];
    active = -1;
    list.hidden = true;
    list.textContent = "";
    code.setAttribute("aria-expanded", "false");
    code.removeAttribute("aria-activedescendant");
  }

  function mark(index) {
    var options = list.children;
    if (active >= 0 && options[active]) { options[active].classList.remove("active"); options[active].setAttribute("aria-selected", "false"); }
    active = index;
    if (active >= 0 && options[active]) {
      options[active].classList.add("active");
      options[active].setAttribute("aria-selected", "true");
      code.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({block: "nearest"});
    }
  }

  function choose(index) {
    var item = items[index];
    if (!item) { return false; }
    code.value = item.code;
    close();
    quantity.focus();
    quantity.select();
    return true;
  }

  function show(results) {
    close();
    items = results.slice(0, 20);
    if (!items.length) { return; }
    items.forEach(function (item, i) {
      var li = document.createElement("li");
      li.id = "line-suggestion-" + i;
      li.setAttribute("role", "option");
      li.className = "list-group-item list-group-item-action py-1 px-2";
      var strong = document.createElement("strong");
      strong.textContent = item.code;
      li.appendChild(strong);
      var text = " " + (item.name || "") + (item.specification ? " · " + item.specification : "");
      li.appendChild(document.createTextNode(text));
      var small = document.createElement("span");
      small.className = "text-secondary small ms-1";
      small.textContent = (item.unit || "") + (item.list_price ? " · ¥" + item.list_price : "");
      li.appendChild(small);
      li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(i); });
      list.appendChild(li);
    });
    list.hidden = false;
    code.setAttribute("aria-expanded", "true");
    mark(0);
  }

  function search() {
    var q = code.value.trim();
    if (q === asked) { return; }
    asked = q;
    if (!q) { close(); return; }
    fetch(searchUrl + "?q=" + encodeURIComponent(q), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (data) {
        if (code.value.trim() !== q) { return; }  // an older answer
        show(Array.isArray(data) ? data : (data.items || data.results || []));
      })
      .catch(function () { close(); });
  }

  code.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 150);
  });
  code.addEventListener("blur", function () { setTimeout(close, 100); });
  code.addEventListener("keydown", function (event) {
    var open = !list.hidden && items.length;
    if (event.key === "ArrowDown" && open) { event.preventDefault(); mark((active + 1) % items.length); }
    else if (event.key === "ArrowUp" && open) { event.preventDefault(); mark((active - 1 + items.length) % items.length); }
    else if (event.key === "Escape" && open) { event.preventDefault(); close(); }
    else if (event.key === "Enter") {
      event.preventDefault();
      if (open && active >= 0) { choose(active); } else if (code.value.trim()) { quantity.focus(); quantity.select(); }
    } else if (event.key === "Tab" && !event.shiftKey && open && active >= 0) {
      // Tab takes the highlighted suggestion only when what was typed is not already a whole code.
      var typed = code.value.trim().toLowerCase();
      var exact = items.some(function (item) { return String(item.code).toLowerCase() === typed; });
      if (!exact) { event.preventDefault(); choose(active); } else { close(); }
    }
  });

  function say(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  form.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt !== form) { return; }
    if (event.detail.successful) {
      say("");
      form.reset();
      asked = "";
      close();
      code.focus();
    } else {
      say(event.detail.xhr && event.detail.xhr.status ? event.detail.xhr.responseText : form.dataset.offline);
      code.focus();
    }
  });

  // A row edit that is refused (a quantity of 0, a discount above 100 %) says why next to the table.
  var table = document.getElementById("quote-lines");
  var rowError = document.getElementById("line-edit-error");
  if (table && rowError) {
    table.addEventListener("htmx:responseError", function (event) {
      rowError.textContent = event.detail.xhr.responseText;
      rowError.hidden = false;
    });
    table.addEventListener("htmx:afterSwap", function () { rowError.hidden = true; });
  }
})();
