// Check-in (签到): ask the phone for its position, then send the form; without one, send the time only.
(function () {
  document.querySelectorAll("form[data-check-in-form]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.located || !navigator.geolocation) { return; }
      event.preventDefault();
      var button = form.querySelector("button");
      if (button) { button.disabled = true; }
      var send = function () { form.dataset.located = "1"; form.submit(); };
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.elements.latitude.value = pos.coords.latitude.toFixed(6);
        form.elements.longitude.value = pos.coords.longitude.toFixed(6);
        form.elements.accuracy.value = Math.round(pos.coords.accuracy);
        send();
      }, send, {enableHighAccuracy: true, timeout: 8000, maximumAge: 60000});
    });
  });
})();
