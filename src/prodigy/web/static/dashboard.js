// prodigy dashboard: live updates and buttons, in plain JavaScript (no framework, no CDN).
// The server renders every page; on each new event (server-sent events) or every few seconds
// this script fetches the same page again and swaps its #live part in place.
(function () {
  "use strict";
  const body = document.body;
  const dot = document.getElementById("live-dot");
  let pending = null;

  function refresh() {
    if (pending) return;
    pending = setTimeout(async function () {
      try {
        const response = await fetch(location.href, { credentials: "same-origin" });
        if (!response.ok) return;
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = doc.getElementById("live");
        const current = document.getElementById("live");
        if (fresh && current) current.replaceWith(fresh);
      } finally {
        pending = null;
      }
    }, 200);
  }

  function connect() {
    const url = body.dataset.stream;
    if (!url || !window.EventSource) return;
    const source = new EventSource(url);  // resumes with Last-Event-ID after a reconnect
    source.onopen = function () { dot.className = "dot on"; dot.title = "live updates: connected"; };
    source.onerror = function () { dot.className = "dot off"; dot.title = "live updates: reconnecting"; };
    source.onmessage = function () { refresh(); };
  }

  function ago(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + String(s % 60).padStart(2, "0") + "s";
    if (s < 86400) return Math.floor(s / 3600) + "h " + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + "m";
    return Math.floor(s / 86400) + "d " + Math.floor(s % 86400 / 3600) + "h";
  }

  let loaded = Date.now();
  new MutationObserver(function () { loaded = Date.now(); }).observe(document.body, { childList: true });
  setInterval(function () {
    const passed = (Date.now() - loaded) / 1000;
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      el.textContent = ago(Number(el.dataset.countdown) - passed);
    });
  }, 1000);

  function notice(text, ok) {
    const box = document.getElementById("notice");
    box.textContent = text;
    box.className = ok ? "" : "bad";
    box.hidden = false;
  }

  document.addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    event.preventDefault();
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    button.disabled = true;
    const form = new URLSearchParams();
    if (button.dataset.item) form.append("item", button.dataset.item);
    try {
      const response = await fetch(button.dataset.action, { method: "POST", credentials: "same-origin", body: form });
      const data = await response.json().catch(function () { return {}; });
      if (response.ok) {
        notice(data.command ? "Started `" + data.command + "` (pid " + data.pid + "); its output: " + data.log
                            : "Sent " + data.signal + " to pid " + data.pid + " running " + data.job_id, true);
      } else {
        notice("Refused (" + response.status + "): " + (data.error || response.statusText), false);
        button.disabled = false;
      }
    } catch (err) {
      notice("Request failed: " + err, false);
      button.disabled = false;
    }
    refresh();
  });

  connect();
  const every = Number(body.dataset.refresh || 0);
  if (every > 0) setInterval(refresh, every);
})();
