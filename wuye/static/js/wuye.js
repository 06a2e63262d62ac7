/* Wuye's small page behaviours, in one static file: the Content-Security-Policy allows
   scripts and styles from our own files only (no inline <script>, no on…= handlers, no
   style="" attributes). Everything listens on the document, so it also works on parts
   that htmx swaps in. */
(function () {
  "use strict";

  // Bars and colour chips: data-width="42.5" (percent) and data-color="#0f766e" are set
  // through the CSSOM, which CSP allows, instead of a style attribute, which it blocks.
  function applyStyles(root) {
    if (!root || !root.querySelectorAll) return;
    var widths = Array.prototype.slice.call(root.querySelectorAll("[data-width]"));
    var colors = Array.prototype.slice.call(root.querySelectorAll("[data-color]"));
    if (root.matches && root.matches("[data-width]")) widths.push(root);
    if (root.matches && root.matches("[data-color]")) colors.push(root);
    widths.forEach(function (el) {
      var pct = parseFloat(String(el.dataset.width).replace(",", "."));
      if (!isNaN(pct)) el.style.width = Math.max(0, Math.min(100, pct)) + "%";
    });
    colors.forEach(function (el) {
      el.style.backgroundColor = el.dataset.color;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { applyStyles(document); });
  document.addEventListener("htmx:load", function (event) { applyStyles(event.target); });

  // <form data-confirm="Really?">: ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);

  document.addEventListener("change", function (event) {
    var target = event.target;
    // Filter forms: <form hx-trigger="filter, submit" data-filter-on="select,checkbox,date">
    // reload when one of those fields changes (htmx trigger filters like change[…] would
    // need eval, which the CSP forbids; htmx-config sets allowEval false).
    var filters = target.form && target.form.dataset.filterOn;
    if (filters && window.htmx) {
      var kinds = filters.split(",");
      var kind = target.tagName === "SELECT" ? "select" : target.type;
      if (kinds.indexOf(kind) >= 0) window.htmx.trigger(target.form, "filter");
    }
    // <input type="checkbox" data-tick-all="selector">: ticks or unticks the boxes it names.
    if (target.dataset && target.dataset.tickAll) {
      document.querySelectorAll(target.dataset.tickAll).forEach(function (box) {
        box.checked = target.checked;
      });
      return;
    }
    // Bills with data-balance: keep the total in step with the ticks (the server computes
    // the amount again). <… data-bills-total> shows it; a form with data-bills-amount fills
    // its amount field (the cashier may still type another amount).
    if (target.name === "bills" && target.form && target.dataset.balance !== undefined) {
      var fen = 0;
      target.form.querySelectorAll("input[name=bills]:checked").forEach(function (box) {
        fen += Math.round(parseFloat(box.dataset.balance) * 100);
      });
      var shown = target.form.querySelector("[data-bills-total]");
      if (shown) {
        shown.textContent = "¥" + (fen / 100).toLocaleString("en-US", {
          minimumFractionDigits: 2, maximumFractionDigits: 2
        });
      }
      var amount = target.form.hasAttribute("data-bills-amount")
        ? target.form.querySelector("input[name=amount]") : null;
      if (amount && fen > 0) amount.value = (fen / 100).toFixed(2);
      return;
    }
    // Photo pickers: previews of the chosen files in <div class="photo-previews" data-for="id">.
    if (target.type === "file" && target.id) {
      var box = document.querySelector('.photo-previews[data-for="' + target.id + '"]');
      if (!box) return;
      var max = parseInt(box.dataset.max, 10) || 9;
      box.textContent = "";
      var files = Array.prototype.slice.call(target.files || []);
      files.slice(0, max).forEach(function (file) {
        var img = document.createElement("img");
        img.alt = file.name;
        img.src = URL.createObjectURL(file);
        img.onload = function () { URL.revokeObjectURL(img.src); };
        box.appendChild(img);
      });
      if (files.length > max) {
        var warn = document.createElement("p");
        warn.className = "error";
        warn.textContent = box.dataset.tooMany || "";
        box.appendChild(warn);
      }
    }
  });

  // <button data-add-row="template-id" data-rows="container-id" data-total="TOTAL_FORMS id">:
  // adds one more form of a formset from its empty-form template.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-add-row]");
    if (!button) return;
    var total = document.getElementById(button.dataset.total);
    var html = document.getElementById(button.dataset.addRow).innerHTML.replace(/__prefix__/g, total.value);
    document.getElementById(button.dataset.rows).insertAdjacentHTML("beforeend", html);
    total.value = Number(total.value) + 1;
  });
})();
