// Moments web page: search, results with thumbnails, per-stream timelines, frame viewer, live
// alerts (Server-Sent Events) and "Alert me" (a standing query from the current search).
// The token comes from ?token= once and is kept in sessionStorage; API calls send it as a
// bearer header, <img> and EventSource URLs carry it as ?token= (they cannot send headers).
(function () {
  "use strict";
  const params = new URLSearchParams(location.search);
  if (params.has("token")) {
    sessionStorage.setItem("moments.token", params.get("token"));
  }
  const token = sessionStorage.getItem("moments.token");
  const $ = (id) => document.getElementById(id);
  let streams = [];

  async function api(path, options) {
    const headers = Object.assign({ "Accept": "application/json" }, (options && options.headers) || {});
    if (token) headers["Authorization"] = "Bearer " + token;
    const res = await fetch(path, Object.assign({}, options, { headers }));
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || ("HTTP " + res.status));
    return body;
  }

  function frameUrl(streamId, t) {
    let url = "/api/streams/" + encodeURIComponent(streamId) + "/frame?t=" + Math.round(t);
    if (token) url += "&token=" + encodeURIComponent(token);
    return url;
  }

  function fmt(ms) {
    return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  }

  function span(r) {
    return fmt(r.startMs) + " → " + new Date(r.endMs).toISOString().slice(11, 19) + " (" + ((r.endMs - r.startMs) / 1000).toFixed(1) + " s)";
  }

  function status(text, isError) {
    const s = $("status");
    s.textContent = text;
    s.className = isError ? "error" : "";
  }

  function show(r, t) {
    $("viewer").hidden = false;
    $("frame").src = frameUrl(r.streamId, t);
    $("frame-caption").textContent = r.streamId + " at " + fmt(t) + " — moment " + span(r);
    document.querySelectorAll(".active").forEach((e) => e.classList.remove("active"));
    document.querySelectorAll('[data-moment="' + CSS.escape(r.momentId) + '"]').forEach((e) => e.classList.add("active"));
  }

  function renderResults(results) {
    const list = $("results");
    list.replaceChildren();
    results.forEach((r, i) => {
      const li = document.createElement("li");
      li.className = "result";
      li.dataset.moment = r.momentId;
      const img = document.createElement("img");
      img.className = "thumb";
      img.loading = "eager";
      img.alt = r.streamId + " at " + r.start;
      img.src = r.thumbnailUrl;
      const meta = document.createElement("div");
      meta.className = "meta";
      meta.innerHTML = '<span class="score"></span><span class="stream"></span><br><span class="time"></span>';
      meta.querySelector(".score").textContent = "#" + (i + 1) + " · " + r.score.toFixed(3);
      meta.querySelector(".stream").textContent = r.streamId;
      meta.querySelector(".time").textContent = span(r);
      li.append(img, meta);
      li.addEventListener("click", () => show(r, (r.startMs + r.endMs) / 2));
      list.append(li);
    });
  }

  function renderTimelines(results) {
    const box = $("timelines");
    box.replaceChildren();
    const byStream = new Map();
    results.forEach((r) => {
      if (!byStream.has(r.streamId)) byStream.set(r.streamId, []);
      byStream.get(r.streamId).push(r);
    });
    for (const [id, moments] of byStream) {
      const info = streams.find((s) => s.id === id);
      let lo = Math.min(...moments.map((m) => m.startMs));
      let hi = Math.max(...moments.map((m) => m.endMs));
      if (info) { lo = Math.min(lo, info.firstMs); hi = Math.max(hi, info.lastMs); }
      const width = Math.max(1, hi - lo);
      const row = document.createElement("div");
      row.className = "stream";
      row.dataset.stream = id;
      const name = document.createElement("div");
      name.className = "name";
      name.textContent = id + (info ? " · " + info.moments + " moments, " + info.frames + " frames" : "");
      const axis = document.createElement("div");
      axis.className = "axis";
      moments.forEach((m) => {
        const bar = document.createElement("div");
        bar.className = "bar";
        bar.dataset.moment = m.momentId;
        bar.style.left = (100 * (m.startMs - lo) / width) + "%";
        bar.style.width = (100 * (m.endMs - m.startMs) / width) + "%";
        bar.title = span(m) + " · score " + m.score.toFixed(3);
        bar.addEventListener("click", (ev) => {
          // The frame at the clicked point of the bar.
          const rect = bar.getBoundingClientRect();
          const frac = rect.width > 0 ? (ev.clientX - rect.left) / rect.width : 0.5;
          show(m, m.startMs + Math.min(1, Math.max(0, frac)) * (m.endMs - m.startMs));
        });
        axis.append(bar);
      });
      const ticks = document.createElement("div");
      ticks.className = "ticks";
      ticks.innerHTML = "<span></span><span></span>";
      ticks.children[0].textContent = fmt(lo);
      ticks.children[1].textContent = fmt(hi);
      row.append(name, axis, ticks);
      box.append(row);
    }
  }

  async function loadStreams() {
    try {
      streams = (await api("/api/streams")).streams;
      const sel = $("stream");
      const keep = sel.value;
      sel.querySelectorAll("option:not([value=''])").forEach((o) => o.remove());
      streams.forEach((s) => {
        const o = document.createElement("option");
        o.value = s.id;
        o.textContent = s.id;
        sel.append(o);
      });
      sel.value = keep;
    } catch (e) {
      status(e.message, true);
    }
  }

  async function search(q) {
    const qs = new URLSearchParams({ q: q, k: $("k").value || "10" });
    if ($("stream").value) qs.set("streams", $("stream").value);
    status("Searching…");
    try {
      const res = await api("/api/search?" + qs.toString());
      renderResults(res.results);
      renderTimelines(res.results);
      status(res.results.length + " moments for “" + res.query + "” in " + res.tookMs.toFixed(1) + " ms");
      document.body.dataset.searched = "true";
    } catch (e) {
      status(e.message, true);
      document.body.dataset.searched = "error";
    }
  }

  // Live alerts: one EventSource (it reconnects by itself, sending Last-Event-ID).
  const shownAlerts = new Set();
  const MAX_ALERTS = 50;

  function renderAlert(a) {
    if (shownAlerts.has(a.alertId)) return;
    shownAlerts.add(a.alertId);
    const li = document.createElement("li");
    li.className = "alert";
    li.dataset.alert = a.alertId;
    const img = document.createElement("img");
    img.className = "thumb";
    img.alt = a.streamId + " at " + a.start;
    img.src = a.thumbnailUrl;
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.innerHTML = '<span class="score"></span><span class="q"></span><br><span class="stream"></span> · <span class="time"></span>';
    meta.querySelector(".score").textContent = a.score.toFixed(3);
    meta.querySelector(".q").textContent = "“" + a.q + "”";
    meta.querySelector(".stream").textContent = a.streamId;
    meta.querySelector(".time").textContent = span(a);
    li.append(img, meta);
    li.addEventListener("click", () => show(a, (a.startMs + a.endMs) / 2));
    const list = $("alert-list");
    list.prepend(li);
    while (list.children.length > MAX_ALERTS) list.lastElementChild.remove();
  }

  function startAlerts() {
    if (!window.EventSource) return;
    const es = new EventSource("/api/alerts/stream" + (token ? "?token=" + encodeURIComponent(token) : ""));
    es.addEventListener("open", () => {
      $("alerts-state").textContent = "· live";
      document.body.dataset.alerts = "live";
    });
    es.addEventListener("error", () => {
      $("alerts-state").textContent = "· reconnecting…";
      document.body.dataset.alerts = "reconnecting";
    });
    es.addEventListener("alert", (ev) => {
      try {
        renderAlert(JSON.parse(ev.data));
      } catch (e) {
        console.warn("bad alert event", e);
      }
    });
  }

  $("alert-me").addEventListener("click", async () => {
    const q = $("q").value.trim();
    if (!q) {
      status("Type what you want to be told about, then press Alert me", true);
      return;
    }
    const body = { q: q };
    if ($("stream").value) body.streams = [$("stream").value];
    const minScore = $("alert-min-score").value;
    if (minScore !== "") body.minScore = parseFloat(minScore);
    const webhook = $("alert-webhook").value.trim();
    if (webhook) body.webhook = webhook;
    try {
      const rule = await api("/api/alerts", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      status("Alert " + rule.id + " set for “" + rule.q + "”" + (rule.webhook ? " (webhook secret " + rule.secret + ")" : ""));
    } catch (e) {
      status("Alert not set: " + e.message, true);
    }
  });

  startAlerts();

  $("search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = $("q").value.trim();
    if (q) search(q);
  });

  loadStreams().then(() => {
    if (params.get("stream")) $("stream").value = params.get("stream");
    if (params.get("k")) $("k").value = params.get("k");
    if (params.get("q")) {
      $("q").value = params.get("q");
      search(params.get("q"));
    }
  });
})();
