// The engineer's visit form on a phone (SRV-1). Everything typed, the parts, the photos (resized,
// as JPEG data) and the signature strokes are kept in localStorage under the visit's client token
// on every change; "Finish" puts the report in an outbox (localStorage too) and sends it; offline
// (or when the request fails on the way) it stays there and is sent on the 'online' event or by a
// retry every 20 s, on this page or the visits list. The server takes a report once per token.
(function () {
  "use strict";
  var DRAFT = "kehu-visit-draft-";
  var OUTBOX = "kehu-visit-outbox-";
  var MAX_SIDE = 1600;
  var MAX_PHOTOS = 6;

  function read(key) {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function write(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); return true; } catch (e) { return false; }
  }
  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) { return input.value; }
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  // The outbox: reports waiting to be sent, on any page that loads this script. -----------------
  var sending = false;
  function outboxKeys() {
    var keys = [];
    for (var i = 0; i < localStorage.length; i++) {
      var k = localStorage.key(i);
      if (k && k.indexOf(OUTBOX) === 0) { keys.push(k); }
    }
    return keys;
  }
  function flush(onResult) {
    if (sending || !navigator.onLine) { return; }
    var keys = outboxKeys();
    if (!keys.length) { return; }
    sending = true;
    var key = keys[0];
    var item = read(key);
    if (!item || !item.url) { localStorage.removeItem(key); sending = false; return; }
    fetch(item.url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json"},
      body: JSON.stringify(item.report)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        sending = false;
        if (response.ok) {
          localStorage.removeItem(key);
          localStorage.removeItem(DRAFT + item.report.client_token);
        } else if (response.status === 400 || response.status === 403 || response.status === 404) {
          localStorage.removeItem(key);  // the report itself is refused: back to the form to correct it
        }  // else (5xx, a proxy's page): kept and retried
        if (onResult) { onResult(item, response.status, body); }
        if (response.ok) { flush(onResult); }
      });
    }).catch(function () {
      sending = false;  // offline on the way: kept and retried
      if (onResult) { onResult(item, 0, {}); }
    });
  }

  var form = document.querySelector("form[data-visit-form]");
  if (!form) {
    var note = document.querySelector("[data-visit-outbox]");
    var done = function (item, status) {
      if (status >= 200 && status < 300 && note) { note.textContent = note.dataset.msgSent; note.classList.remove("d-none"); }
    };
    window.addEventListener("online", function () { flush(done); });
    flush(done);
    setInterval(function () { flush(done); }, 20000);
    return;
  }

  // The visit form. ----------------------------------------------------------------------------
  var msg = form.dataset;
  var token = msg.token;
  var draftKey = DRAFT + token;
  var outboxKey = OUTBOX + token;
  var status = document.getElementById("visit-status");
  var canvas = form.querySelector("canvas[data-signature]");
  var ctx = canvas.getContext("2d");
  var draft = read(draftKey) || {fields: {}, parts: [], photos: [], strokes: [], checkin: null};

  function show(text, kind) {
    status.textContent = text;
    status.className = "alert alert-" + kind;
  }
  function save() {
    if (!write(draftKey, draft)) { show(msg.msgPhotoSpace, "warning"); }
  }

  // Plain fields.
  var names = ["work_done", "minutes_spent", "travel_km", "travel_cost", "confirmed_by", "satisfaction"];
  names.forEach(function (name) {
    var el = form.elements[name];
    if (draft.fields[name] !== undefined) { el.value = draft.fields[name]; }
    el.addEventListener("input", function () { draft.fields[name] = el.value; save(); });
    el.addEventListener("change", function () { draft.fields[name] = el.value; save(); });
  });
  if (draft.fields.fixed) {
    form.querySelector("input[name=fixed][value=" + (draft.fields.fixed === "yes" ? "yes" : "no") + "]").checked = true;
  }
  if (draft.fields.resolve !== undefined) { form.elements.resolve.checked = !!draft.fields.resolve; }
  form.querySelectorAll("input[name=fixed]").forEach(function (el) {
    el.addEventListener("change", function () { draft.fields.fixed = el.value; save(); });
  });
  form.elements.resolve.addEventListener("change", function () { draft.fields.resolve = form.elements.resolve.checked; save(); });

  // Parts: a typeahead over the catalog's specifications, chosen rows with a quantity.
  var search = form.querySelector("[data-part-search]");
  var results = document.getElementById("part-results");
  var tbody = document.querySelector("#parts-table tbody");
  function renderParts() {
    tbody.textContent = "";
    draft.parts.forEach(function (part, index) {
      var tr = document.createElement("tr");
      var name = document.createElement("td");
      name.textContent = part.code + " " + part.name;
      var qty = document.createElement("td");
      var input = document.createElement("input");
      input.type = "number"; input.min = "0"; input.step = "any"; input.inputMode = "decimal";
      input.className = "form-control form-control-sm"; input.value = part.quantity;
      input.setAttribute("aria-label", part.code);
      input.addEventListener("input", function () { part.quantity = input.value; save(); });
      qty.appendChild(input);
      var charged = document.createElement("td");
      var label = document.createElement("label");
      label.className = "form-check mb-0 small";
      var box = document.createElement("input");
      box.type = "checkbox"; box.className = "form-check-input"; box.checked = !!part.charged;
      box.addEventListener("change", function () { part.charged = box.checked; save(); });
      label.appendChild(box); label.appendChild(document.createTextNode(" " + msg.msgCharged));
      charged.appendChild(label);
      var remove = document.createElement("td");
      var button = document.createElement("button");
      button.type = "button"; button.className = "btn btn-sm btn-outline-danger"; button.textContent = msg.msgRemove;
      button.addEventListener("click", function () { draft.parts.splice(index, 1); save(); renderParts(); });
      remove.appendChild(button);
      tr.appendChild(name); tr.appendChild(qty); tr.appendChild(charged); tr.appendChild(remove);
      tbody.appendChild(tr);
    });
  }
  var timer = null;
  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = search.value.trim();
      results.textContent = "";
      if (!q) { return; }
      if (!navigator.onLine) { results.textContent = msg.msgPartsOffline; return; }
      fetch(msg.partsUrl + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (body) {
          results.textContent = "";
          if (!body.parts.length) { results.textContent = msg.msgNoParts; }
          body.parts.forEach(function (p) {
            var b = document.createElement("button");
            b.type = "button"; b.className = "list-group-item list-group-item-action";
            b.textContent = p.code + " " + p.name;
            b.addEventListener("click", function () {
              draft.parts.push({specification_id: p.id, code: p.code, name: p.name, quantity: "1", charged: false});
              save(); renderParts(); results.textContent = ""; search.value = "";
            });
            results.appendChild(b);
          });
        })
        .catch(function () { results.textContent = msg.msgPartsOffline; });
    }, 250);
  });
  renderParts();

  // Photos: scaled to at most 1600 px and kept as JPEG data.
  var photoInput = form.querySelector("[data-photos]");
  var photoCount = document.getElementById("photo-count");
  function renderPhotos() { photoCount.textContent = draft.photos.length ? draft.photos.length + " " + msg.msgPhotos : ""; }
  function scaled(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        var ratio = Math.min(1, MAX_SIDE / Math.max(img.naturalWidth, img.naturalHeight));
        var c = document.createElement("canvas");
        c.width = Math.round(img.naturalWidth * ratio); c.height = Math.round(img.naturalHeight * ratio);
        c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
        URL.revokeObjectURL(url);
        resolve(c.toDataURL("image/jpeg", 0.8));
      };
      img.onerror = function () { URL.revokeObjectURL(url); reject(); };
      img.src = url;
    });
  }
  photoInput.addEventListener("change", function () {
    var files = Array.prototype.slice.call(photoInput.files || []).filter(function (f) {
      return /^image\/(jpeg|png|webp)$/.test(f.type);
    });
    files.reduce(function (chain, file) {
      return chain.then(function () {
        if (draft.photos.length >= MAX_PHOTOS) { return; }
        return scaled(file).then(function (data) {
          draft.photos.push(data);
          if (!write(draftKey, draft)) { draft.photos.pop(); show(msg.msgPhotoSpace, "warning"); }
        }, function () {});
      });
    }, Promise.resolve()).then(function () { photoInput.value = ""; renderPhotos(); });
  });
  renderPhotos();

  // The signature: strokes of points (0..1 of the canvas) drawn with a pointer, kept as points.
  canvas.style.touchAction = "none";
  var drawing = null;
  function point(event) {
    var rect = canvas.getBoundingClientRect();
    return [(event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height];
  }
  function redraw() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.lineWidth = 3; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#182433";
    draft.strokes.forEach(function (stroke) {
      ctx.beginPath();
      stroke.forEach(function (p, i) {
        var x = p[0] * canvas.width, y = p[1] * canvas.height;
        if (i === 0) { ctx.moveTo(x, y); ctx.lineTo(x + 0.1, y + 0.1); } else { ctx.lineTo(x, y); }
      });
      ctx.stroke();
    });
  }
  canvas.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    if (canvas.setPointerCapture) { try { canvas.setPointerCapture(event.pointerId); } catch (e) { /* synthetic */ } }
    drawing = [point(event)];
    draft.strokes.push(drawing);
    redraw();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) { return; }
    drawing.push(point(event));
    redraw();
  });
  function stop() { if (drawing) { drawing = null; save(); } }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  canvas.addEventListener("pointerleave", stop);
  document.getElementById("signature-clear").addEventListener("click", function () { draft.strokes = []; save(); redraw(); });
  redraw();

  // Check-in: the phone's position (refused or unavailable: without one); offline, kept for the report.
  var checkButton = document.getElementById("check-in-button");
  var checkState = document.getElementById("check-in-state");
  function checkedInText(c) {
    var time = new Date(c.at).toTimeString().slice(0, 5);
    return msg.msgCheckedIn + " " + time + (c.latitude != null ? " · ±" + c.accuracy + " m" : " · " + msg.msgNoPosition);
  }
  if (draft.checkin && checkButton) {
    checkState.textContent = msg.msgCheckedInOffline + " " + checkedInText(draft.checkin);
    checkButton.remove(); checkButton = null;
  }
  if (checkButton) {
    checkButton.addEventListener("click", function () {
      checkButton.disabled = true;
      var send = function (coords) {
        var c = {at: new Date().toISOString(), latitude: null, longitude: null, accuracy: null};
        if (coords) {
          c.latitude = Number(coords.latitude.toFixed(6)); c.longitude = Number(coords.longitude.toFixed(6));
          c.accuracy = Math.round(coords.accuracy);
        }
        var body = new URLSearchParams();
        if (coords) { body.set("latitude", c.latitude); body.set("longitude", c.longitude); body.set("accuracy", c.accuracy); }
        var offline = function () {
          draft.checkin = c; save();
          checkState.textContent = msg.msgCheckedInOffline + " " + checkedInText(c);
          checkButton.remove();
        };
        if (!navigator.onLine) { offline(); return; }
        fetch(checkButton.dataset.url, {
          method: "POST", credentials: "same-origin", body: body,
          headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"}
        }).then(function (r) {
          if (r.ok) { form.dataset.checkedIn = "1"; checkState.textContent = checkedInText(c); checkButton.remove(); }
          else { checkButton.disabled = false; }
        }).catch(offline);
      };
      if (!navigator.geolocation) { send(null); return; }
      navigator.geolocation.getCurrentPosition(function (pos) { send(pos.coords); }, function () { send(null); },
        {enableHighAccuracy: true, timeout: 8000, maximumAge: 60000});
    });
  }

  // Finish: the report into the outbox, then sent (now, or when back online).
  function clearErrors() {
    form.querySelectorAll("[data-error-for]").forEach(function (el) { el.textContent = ""; el.classList.remove("d-block"); });
  }
  function showErrors(errors) {
    Object.keys(errors || {}).forEach(function (name) {
      var el = form.querySelector("[data-error-for='" + name + "']") || form.querySelector("[data-error-for='__all__']");
      el.textContent = errors[name].join(" ");
      el.classList.add("d-block");
    });
  }
  function signaturePng() {
    if (!draft.strokes.length) { return ""; }
    redraw();
    return canvas.toDataURL("image/png");
  }
  function report() {
    var r = {
      client_token: token,
      work_done: form.elements.work_done.value,
      fixed: (form.querySelector("input[name=fixed]:checked") || {}).value === "yes",
      resolve: form.elements.resolve.checked,
      minutes_spent: form.elements.minutes_spent.value || 0,
      travel_km: form.elements.travel_km.value || 0,
      travel_cost: form.elements.travel_cost.value || 0,
      parts: draft.parts.map(function (p) { return {specification_id: p.specification_id, quantity: p.quantity, charged: p.charged}; }),
      photos: draft.photos,
      signature: signaturePng(),
      confirmed_by: form.elements.confirmed_by.value,
      satisfaction: form.elements.satisfaction.value || null
    };
    if (draft.checkin) {
      r.checked_in_at = draft.checkin.at; r.latitude = draft.checkin.latitude;
      r.longitude = draft.checkin.longitude; r.accuracy = draft.checkin.accuracy;
    }
    return r;
  }
  function result(item, code, body) {
    if (item.report.client_token !== token) { return; }
    var button = document.getElementById("visit-submit");
    if (code >= 200 && code < 300) {
      show(msg.msgSent, "success");
      form.dataset.sent = "1";
      window.location.replace(body.url || window.location.pathname);
    } else if (code === 400) {
      button.disabled = false; show(msg.msgError, "danger"); showErrors(body.errors);
    } else if (code === 403 || code === 404) {
      button.disabled = false; show(msg.msgDenied, "danger");
    } else {
      show(msg.msgOffline, "warning");
    }
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    if (!write(outboxKey, {url: msg.submitUrl, report: report()})) { show(msg.msgPhotoSpace, "warning"); return; }
    document.getElementById("visit-submit").disabled = true;
    if (!navigator.onLine) { show(msg.msgOffline, "warning"); return; }
    show(msg.msgSending, "info");
    flush(result);
  });
  if (read(outboxKey)) { document.getElementById("visit-submit").disabled = true; show(msg.msgOffline, "warning"); }
  window.addEventListener("online", function () { flush(result); });
  window.addEventListener("offline", function () { if (read(outboxKey)) { show(msg.msgOffline, "warning"); } });
  setInterval(function () { flush(result); }, 20000);
  flush(result);
})();
