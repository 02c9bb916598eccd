// "Links for your JupyterHub": nbgitpuller links for every chapter, made in the browser from the hub's address.
// The repository comes from _config.yml (window.KEXUE_REPOSITORY, written by book/_ext/kexue_book.py); the chapters
// are the book/NN-slug pages of the site's table of contents. No request is made.
(function () {
  var form = document.getElementById("hub-links-form");
  if (!form) return;
  var repo = window.KEXUE_REPOSITORY || {};

  // A hub address as typed ("hub.school.edu/", "https://hub.school.edu/hub/") becomes its base URL, or null.
  function hubBase(text) {
    text = text.trim();
    if (!/^[a-z]+:\/\//i.test(text)) text = "https://" + text;
    var url;
    try { url = new URL(text); } catch (e) { return null; }
    if (!/^https?:$/.test(url.protocol) || !url.hostname || url.search || url.hash) return null;
    return url.origin + url.pathname.replace(/\/+$/, "").replace(/\/hub$/, "");
  }

  function chapters() {
    var seen = {}, list = [];
    document.querySelectorAll(".bd-sidebar a.reference.internal").forEach(function (a) {
      var match = a.getAttribute("href").match(/(\d\d-[^/#?]+)\.html/);
      if (!match || seen[match[1]]) return;
      seen[match[1]] = true;
      list.push({ slug: match[1], title: a.textContent.trim() });
    });
    return list;
  }

  function link(base, slug) {
    var name = repo.url.replace(/\/+$/, "").split("/").pop();
    var path = [name, repo.path, "book", slug + ".ipynb"].filter(Boolean).join("/");
    return base + "/hub/user-redirect/git-pull?repo=" + encodeURIComponent(repo.url) +
      "&urlpath=" + encodeURIComponent("lab/tree/" + path) + "&branch=" + encodeURIComponent(repo.branch || "main");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var message = document.getElementById("hub-links-message");
    var table = document.getElementById("hub-links-table");
    var body = table.querySelector("tbody");
    body.textContent = "";
    var base = hubBase(form.elements.hub.value);
    if (!base || !repo.url) {
      table.hidden = true;
      message.textContent = repo.url ? "That is not a web address: type it as https://hub.your-school.edu."
        : "This site was built without a repository address (repository.url in _config.yml).";
      return;
    }
    chapters().forEach(function (chapter) {
      var row = body.insertRow(), cell = row.insertCell(), out = row.insertCell();
      cell.textContent = chapter.title;
      var a = document.createElement("a");
      a.href = a.textContent = link(base, chapter.slug);
      out.appendChild(a);
    });
    table.hidden = false;
    message.textContent = "Links for " + base + ": copy them into your course page or learning platform.";
  });
})();
