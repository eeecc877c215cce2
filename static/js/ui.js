// Damane: small progressive enhancements shared by every page. Everything works
// without this file; with it, the error summary takes focus, password fields get
// a show/hide button, long actions show progress, waits count down, codes get a
// copy button (and a share button where the browser has a share sheet), and the
// installed web app gets its offline page.
"use strict";

(function () {
  const body = document.body;

  // Error summary (GOV.UK Design System): focused on load, links move to the field.
  const summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
    summary.addEventListener("click", (event) => {
      const link = event.target.closest("a[href^='#']");
      if (!link) return;
      const input = document.getElementById(link.getAttribute("href").slice(1));
      if (!input || input === summary) return;
      event.preventDefault();
      const label = document.querySelector(`label[for='${input.id}']`);
      (label || input).scrollIntoView();
      input.focus({ preventScroll: true });
    });
  }

  // Show / hide password.
  for (const wrapper of document.querySelectorAll("[data-password-toggle]")) {
    const input = wrapper.querySelector("input");
    if (!input) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "password-toggle";
    button.setAttribute("aria-controls", input.id);
    const update = () => {
      const shown = input.type === "text";
      button.textContent = shown ? body.dataset.hidePassword : body.dataset.showPassword;
      button.setAttribute("aria-label", shown ? body.dataset.hidePasswordLabel : body.dataset.showPasswordLabel);
      button.setAttribute("aria-pressed", String(shown));
    };
    button.addEventListener("click", () => {
      input.type = input.type === "password" ? "text" : "password";
      update();
    });
    update();
    wrapper.append(button);
    // Never submit with the password shown: browsers would keep it in form history.
    if (input.form) input.form.addEventListener("submit", () => {
      input.type = "password";
      update();
    });
  }

  // Long actions: one submission, a visible and announced progress state.
  for (const form of document.querySelectorAll("form[data-busy-label]")) {
    let sent = false;
    form.addEventListener("submit", (event) => {
      if (sent) {
        event.preventDefault();
        return;
      }
      sent = true;
      const button = event.submitter || form.querySelector("button[type=submit]");
      form.setAttribute("aria-busy", "true");
      const status = form.querySelector("[data-busy-status]");
      if (status) status.textContent = form.dataset.busyLabel;
      if (button) {
        button.classList.add("is-busy");
        button.textContent = form.dataset.busyLabel;
        // After the form data is built, or the button's own value would be lost.
        setTimeout(() => { button.disabled = true; }, 0);
      }
    });
  }

  // A certificate just created: start its download once (the link stays for a second try).
  const download = document.querySelector("a[data-auto-download]");
  if (download) {
    download.click();
    history.replaceState(null, "", location.pathname);
  }

  // Countdowns: "You can ask for a new code in 42 seconds", then the button works.
  for (const counter of document.querySelectorAll("[data-countdown]")) {
    const button = document.getElementById(counter.dataset.countdownFor);
    const template = counter.dataset.countdownTemplate || "";
    let seconds = parseInt(counter.dataset.countdown, 10) || 0;
    const tick = () => {
      if (seconds <= 0) {
        counter.textContent = counter.dataset.countdownDone || "";
        if (button) button.disabled = false;
        return;
      }
      counter.textContent = template.replace("__SECONDS__", String(seconds));
      seconds -= 1;
      setTimeout(tick, 1000);
    };
    if (button) button.disabled = seconds > 0;
    tick();
  }
  // Copy a code shown once: the button appears only where the clipboard can be written
  // (the code stays selectable text without it), and says when it has copied.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    const status = button.parentElement.querySelector("[data-copy-status]");
    if (!source || !navigator.clipboard || !window.isSecureContext) continue;
    const label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", () => {
      navigator.clipboard.writeText(source.textContent.trim()).then(() => {
        button.textContent = button.dataset.copied;
        if (status) status.textContent = button.dataset.copied;
        setTimeout(() => { button.textContent = label; }, 4000);
      }, () => {
        // Refused (no permission): select the code so that the phone's own menu copies it.
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      });
    });
  }

  // The phone's share sheet (navigator.share), where the browser has one.
  // The code is written once in the page; the text to send names it in place of __CODE__.
  for (const button of document.querySelectorAll("button[data-share-url]")) {
    const code = document.getElementById(button.dataset.shareCode);
    const text = (button.dataset.shareText || "").replace("__CODE__", code ? code.textContent.trim() : "");
    const data = { title: button.dataset.shareTitle, text, url: button.dataset.shareUrl };
    if (!navigator.share || (navigator.canShare && !navigator.canShare(data))) continue;
    button.hidden = false;
    button.addEventListener("click", () => {
      navigator.share(data).catch(() => {});  // Closed by the person: nothing to say.
    });
  }

  // The installed web app: a service worker that shows the offline page when there is no network.
  // It never caches a personal page (see templates/service-worker.js). The offline
  // verifier registers its own worker (a narrower scope) and is left to it.
  const ownWorker = document.querySelector("main [data-service-worker]");
  if ("serviceWorker" in navigator && body.dataset.serviceWorker && window.isSecureContext && !ownWorker) {
    navigator.serviceWorker.register(body.dataset.serviceWorker, { scope: "/" }).catch(() => {});
  }
})();
