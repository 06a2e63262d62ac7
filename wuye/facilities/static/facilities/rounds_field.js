/* Rounds on phones: the position for a check-in (only if the worker allows it) and
   previews of checklist photos. */
(function () {
  "use strict";

  function locate(form) {
    var status = form.querySelector("[data-geo-status]");
    var say = function (text) { if (status) { status.textContent = text; } };
    if (!navigator.geolocation) { return; }
    say(form.dataset.geoWaiting);
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements.latitude.value = position.coords.latitude.toFixed(6);
      form.elements.longitude.value = position.coords.longitude.toFixed(6);
      say(form.dataset.geoDone);
    }, function () {
      say(form.dataset.geoNone);
    }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  }

  document.querySelectorAll("form[data-geo]").forEach(function (form) {
    if (form.dataset.geo === "load") {
      locate(form);
    } else {
      form.addEventListener("focusin", function once() {
        form.removeEventListener("focusin", once);
        locate(form);
      });
    }
  });

  document.querySelectorAll("input[type=file][data-previews]").forEach(function (input) {
    var box = document.getElementById(input.dataset.previews);
    input.addEventListener("change", function () {
      box.textContent = "";
      Array.prototype.forEach.call(input.files || [], function (file) {
        var img = document.createElement("img");
        img.alt = file.name;
        img.src = URL.createObjectURL(file);
        img.onload = function () { URL.revokeObjectURL(img.src); };
        box.appendChild(img);
      });
    });
  });
})();
