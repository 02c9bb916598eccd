// Glue between the vendored ipywidgets HTML manager, require.js and MathJax 3, so widget outputs render offline.
(function () {
  // The manager's webpack bundle finds its icon fonts next to its own AMD module path: point that path at the
  // vendored copy, which sits beside this file.
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  window.require.config({ paths: { "@jupyter-widgets/html-manager/dist": here + "vendor/html-manager" } });

  // html-manager 1.x typesets with MathJax 2's MathJax.Hub.Queue; give MathJax 3 that one method. MathJax 3
  // replaces window.MathJax when it starts, so attach the adapter to whatever object is assigned there.
  function typeset(args) {
    var element = args && args[2];
    var mj = window.MathJax;
    if (!element || !mj) return;
    var ready = mj.startup && mj.startup.promise ? mj.startup.promise : Promise.resolve();
    ready.then(function () { return mj.typesetPromise ? mj.typesetPromise([element]) : null; }).catch(function () {});
  }
  var current = window.MathJax;
  function withHub(value) {
    if (value && typeof value === "object" && !value.Hub) {
      Object.defineProperty(value, "Hub", { value: { Queue: typeset }, enumerable: false, configurable: true });
    }
    return value;
  }
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    get: function () { return current; },
    set: function (value) { current = withHub(value); },
  });
  withHub(current);
})();

// Images drawn from a widget's saved state arrive without alt text; describe them for screen readers.
new MutationObserver(function () {
  document.querySelectorAll(".jupyter-widgets img:not([alt])").forEach(function (img) {
    img.alt = "Output of the interactive explorer in its saved state (the same as the static figure above it).";
  });
}).observe(document.documentElement, { childList: true, subtree: true });

// On the site an explorer is a snapshot: the widget manager draws its controls from the saved state, but no kernel
// answers them. Disable the controls, say how to run it, and hide the snapshot of its output, which repeats the
// static default figure printed just above it.
(function () {
  var NOTE = "Static copy: this explorer works when the chapter runs (Binder, Colab, JupyterLab or your own " +
    "machine; see ";
  function freeze(root) {
    if (root.dataset.kexueFrozen) return;
    root.dataset.kexueFrozen = "1";
    root.classList.add("kexue-inactive");
    root.setAttribute("aria-disabled", "true");
    root.setAttribute("inert", "");
    var note = document.createElement("p");
    note.className = "kexue-inactive-note";
    // Link the page on running the chapters where the sidebar has it (its address is relative to this page).
    var running = document.querySelector(".bd-sidebar a.reference.internal[href$='running.html']");
    var link = document.createElement(running ? "a" : "span");
    link.textContent = running ? running.textContent.trim() : "Running the chapters";
    if (running) link.href = running.getAttribute("href");
    note.append(NOTE, link, "). Its default figure is shown above.");
    root.parentNode.insertBefore(note, root);
  }
  function disable(root) {
    root.querySelectorAll("input, button, select, textarea").forEach(function (el) { el.disabled = true; });
    root.querySelectorAll(".noUi-handle, [tabindex]").forEach(function (el) { el.setAttribute("tabindex", "-1"); });
  }
  function update() {
    document.querySelectorAll(".jupyter-widgets").forEach(function (el) {
      var root = el.closest(".cell_output") || el;
      // A finished progress bar has no controls: it is a record of the run, not an explorer.
      if (!el.querySelector("input, button, select, textarea, .noUi-handle, .widget-slider")) return;
      freeze(root);
      disable(root);
    });
  }
  new MutationObserver(update).observe(document.documentElement, { childList: true, subtree: true });
})();
