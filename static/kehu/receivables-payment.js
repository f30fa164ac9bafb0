// The "record a payment" page: picking a customer from the search results fills the hidden field
// and reloads the allocation preview for the amount typed so far.
document.addEventListener("DOMContentLoaded", function () {
  var choices = document.getElementById("customer-choices");
  if (!choices) return;
  choices.addEventListener("click", function (e) {
    var button = e.target.closest("[data-customer]");
    if (!button) return;
    document.getElementById("id_customer").value = button.dataset.customer;
    document.getElementById("customer-q").value = button.dataset.name;
    choices.innerHTML = "";
    var amount = document.getElementById("id_amount").value;
    var url = choices.dataset.previewUrl + "?customer=" + button.dataset.customer + "&amount=" + encodeURIComponent(amount);
    window.htmx.ajax("GET", url, "#preview");
  });
});
