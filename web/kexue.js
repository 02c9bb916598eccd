// Site behaviour for the course (registered by book/_ext/kexue_book.py): figures shrunk to fit the column open at
// their full size on click.

// MathJax's speech-rule engine (switched on from MathJax's accessibility menu) fetches its rules from a CDN unless
// told where they are: point it at the copy served with the site (web/vendor, tools/vendor_web_assets.sh). This script
// runs before the deferred MathJax.
window.SREfeature = Object.assign(window.SREfeature || {}, {
  json: new URL("vendor/mathjax/sre/mathmaps", document.currentScript.src).href,
});
(function () {
  // The size a figure was drawn for: the width myst-nb sets on a 2x PNG (inline style), otherwise its natural size.
  function intendedWidth(img) {
    var set = parseFloat(img.style.width) || parseFloat(img.getAttribute("width"));
    return set > 0 ? set : img.naturalWidth;
  }
  function mark(img) {
    if (!img.complete || !img.naturalWidth) return;
    var shrunk = img.getBoundingClientRect().width < 0.9 * intendedWidth(img);
    img.classList.toggle("kexue-zoomable", shrunk);
    if (shrunk) img.title = img.title || "Click to enlarge";
  }
  function open(img) {
    var overlay = document.createElement("div");
    overlay.className = "kexue-zoom";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-label", "Enlarged figure (click or press Escape to close)");
    var big = document.createElement("img");
    big.src = img.currentSrc || img.src;
    big.alt = img.alt;
    big.style.width = intendedWidth(img) + "px";
    overlay.appendChild(big);
    function close() { overlay.remove(); document.removeEventListener("keydown", onKey); }
    function onKey(e) { if (e.key === "Escape") close(); }
    overlay.addEventListener("click", close);
    document.addEventListener("keydown", onKey);
    document.body.appendChild(overlay);
  }
  function images() { return document.querySelectorAll("article .cell_output img, article figure img"); }
  function markAll() { images().forEach(mark); }
  document.addEventListener("DOMContentLoaded", function () {
    images().forEach(function (img) { img.addEventListener("load", function () { mark(img); }); });
    markAll();
  });
  window.addEventListener("load", markAll);
  window.addEventListener("resize", markAll);
  document.addEventListener("click", function (e) {
    var img = e.target.closest && e.target.closest("img.kexue-zoomable");
    if (img) { e.preventDefault(); open(img); }
  });
})();

// Phone and tablet navigation. pydata-sphinx-theme 0.17 wires only the first ".primary-toggle" and the first
// ".secondary-toggle" of the page to its sidebar dialogs; sphinx-book-theme 1.3 shows its own buttons (☰ and
// "Contents") further down the page, which therefore did nothing. Let every other such button press the wired one.
document.addEventListener("DOMContentLoaded", function () {
  ["primary", "secondary"].forEach(function (side) {
    var buttons = document.querySelectorAll("." + side + "-toggle");
    Array.prototype.slice.call(buttons, 1).forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        event.stopPropagation();
        buttons[0].click();
      });
    });
  });
});
