/* Mes documents (DMP-2, DMP-5): the upload sent with a progress bar, and
 * confirmations before deletions. Progressive enhancement: without this
 * file every form still works with a plain POST. */
(function () {
  "use strict";

  function confirmations(root) {
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) {
          event.preventDefault();
        }
      });
    });
  }

  function showError(form, text) {
    var alert = form.querySelector("[data-upload-alert]");
    if (!alert) {
      alert = document.createElement("div");
      alert.className = "fr-alert fr-alert--error fr-alert--sm fr-mb-3w";
      alert.setAttribute("role", "alert");
      alert.setAttribute("data-upload-alert", "");
      alert.appendChild(document.createElement("p"));
      form.insertBefore(alert, form.firstChild);
    }
    alert.firstChild.textContent = text;
  }

  /* A refused upload: the server's page (its French messages) replaces
   * the current content, as a plain POST would have shown it. */
  function replaceContent(html) {
    var fresh = new DOMParser()
      .parseFromString(html, "text/html")
      .getElementById("content");
    var current = document.getElementById("content");
    if (!fresh || !current) {
      return false;
    }
    current.replaceWith(fresh);
    init(fresh);
    var alert = fresh.querySelector("[role=alert]");
    if (alert) {
      alert.setAttribute("tabindex", "-1");
      alert.focus();
    }
    return true;
  }

  function upload(form) {
    var progress = form.querySelector("[data-upload-progress]");
    if (!progress || !window.FormData || !window.XMLHttpRequest) {
      return;
    }
    var bar = progress.querySelector("progress");
    var status = progress.querySelector("[data-upload-status]");
    var button = form.querySelector("button[type=submit]");
    var announced = -1;

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = form.querySelector("input[type=file]");
      var file = input && input.files && input.files[0];
      var max = parseInt(form.dataset.maxBytes, 10);
      if (file && max && file.size > max) {
        showError(form, form.dataset.tooLarge);
        input.focus();
        return;
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) {
          return;
        }
        var percent = Math.round((e.loaded / e.total) * 100);
        bar.value = percent;
        // Screen readers hear every tenth, not every percent.
        if (Math.floor(percent / 10) !== announced) {
          announced = Math.floor(percent / 10);
          status.textContent = form.dataset.progressText.replace("%s", percent);
        }
      });
      xhr.addEventListener("load", function () {
        var type = xhr.getResponseHeader("Content-Type") || "";
        if (xhr.status === 200 && type.indexOf("application/json") === 0) {
          status.textContent = form.dataset.doneText;
          window.location.assign(JSON.parse(xhr.responseText).redirect);
          return;
        }
        if (xhr.responseURL && xhr.responseURL !== form.action) {
          window.location.assign(xhr.responseURL); // logged out meanwhile
          return;
        }
        if (!replaceContent(xhr.responseText)) {
          failed();
        }
      });
      xhr.addEventListener("error", failed);
      xhr.addEventListener("abort", failed);

      function failed() {
        progress.hidden = true;
        button.disabled = false;
        showError(form, form.dataset.networkError);
      }

      bar.value = 0;
      announced = -1;
      progress.hidden = false;
      button.disabled = true;
      xhr.send(new FormData(form));
    });
  }

  function init(root) {
    confirmations(root);
    root.querySelectorAll("form[data-upload]").forEach(upload);
  }

  init(document);
})();
