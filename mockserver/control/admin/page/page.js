// The mock's page: a client of the control API under /__mock (admin.yaml), nothing more.
// Every action below is one request to that API (see api()); the same works with curl.
"use strict";

const API = "/__mock";
const POLL_MS = 1000; // state is polled; the journal comes as events (GET /__mock/journal/stream)
const JOURNAL_LIMIT = 200;

const page = {
  ns: decodeURIComponent(location.hash.slice(1)),
  apps: [],
  projects: {},
  expanded: new Set(),
  shown: {}, // what each table last rendered, to leave it alone when nothing changed
  busy: false,
  tick: 0,
  wantAll: false,
  stream: null, // the EventSource of the journal, while one is open
  streamKey: "", // what it follows: namespace, app, status
  streamFailed: false, // refused once (e.g. under --admin-token): poll from then on
  entries: [],
  drawPending: false,
};

const $ = (id) => document.getElementById(id);

function say(text, isError) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", Boolean(isError));
}

// Under --admin-token the admin API answers 401 until the page sends the token: asked for once
// (one question however many calls are waiting), kept for this tab only.
const TOKEN_KEY = "zitadel-mock-admin-token";
let asking = null;

function askToken() {
  if (!asking) {
    asking = Promise.resolve().then(() => {
      const given = window.prompt("This mock needs its admin token (--admin-token):");
      if (given) sessionStorage.setItem(TOKEN_KEY, given);
      asking = null;
      return Boolean(given);
    });
  }
  return asking;
}

async function api(method, path, body, opts) {
  const headers = { "X-Mock-Admin": "1" };
  const ns = opts && "ns" in opts ? opts.ns : page.ns;
  if (ns) headers["X-Mock-Namespace"] = ns;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  for (;;) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers["X-Mock-Admin-Token"] = token;
    response = await fetch(API + path, init);
    if (response.status !== 401 || !(await askToken())) break;
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const message = data && data.message ? data.message : response.statusText;
    throw new Error(`${method} ${API}${path}: ${response.status} ${message}`);
  }
  return data;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function button(label, onClick, className) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (className) b.className = className;
  b.addEventListener("click", onClick);
  return b;
}

// Replace a table's body when what it shows changed; rows() fills the new body.
function fill(tableId, key, rows, emptyText, columns) {
  if (page.shown[tableId] === key) return;
  page.shown[tableId] = key;
  const tbody = $(tableId).tBodies[0];
  const fresh = document.createElement("tbody");
  rows(fresh);
  if (!fresh.rows.length) {
    const tr = fresh.insertRow();
    const td = cell(tr, emptyText, "empty");
    td.colSpan = columns;
  }
  tbody.replaceWith(fresh);
}

function setOptions(select, options, keep) {
  const current = select.value;
  const key = JSON.stringify(options);
  if (select.dataset.key === key) return;
  select.dataset.key = key;
  for (const o of [...select.options]) if (!keep.includes(o.value)) o.remove();
  for (const [value, label] of options) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = label;
    select.appendChild(option);
  }
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

// -- state: apps, tokens, queue ------------------------------------------------------------

function renderState(state) {
  page.apps = state.apps;
  page.projects = Object.fromEntries(state.projects.map((p) => [p.id, p]));
  fill("apps", JSON.stringify([state.apps, state.projects]), (tbody) => {
    for (const app of state.apps) {
      const tr = tbody.insertRow();
      tr.dataset.app = app.id;
      cell(tr, app.id, "mono");
      cell(tr, app.name);
      cell(tr, app.type);
      cell(tr, app.authMethod || "—");
      cell(tr, app.clientId || "—", "mono");
      cell(tr, app.secretFingerprint || "no secret yet", "mono fingerprint");
      const project = page.projects[app.project];
      cell(tr, project && project.sequence !== undefined ? project.sequence : "—");
    }
  }, "no apps", 7);
  fill("tokens", JSON.stringify(state.tokens), (tbody) => {
    for (const token of state.tokens) {
      const tr = tbody.insertRow();
      cell(tr, token.name);
      cell(tr, token.fingerprint, "mono");
      cell(tr, token.user, "mono");
      cell(tr, mayRotate(token.appWrite));
      cell(tr, token.memberships.map((m) => `${m.scope}${m.id ? " " + m.id : ""}: ${m.roles.join(", ")}`).join("; ") || "none");
      cell(tr, token.expiresAt || "never");
    }
  }, "no tokens", 6);
  fill("queue", JSON.stringify(state.outcomes), (tbody) => {
    for (const q of state.outcomes) {
      const tr = tbody.insertRow();
      cell(tr, q.id);
      cell(tr, q.app || "any app", "mono");
      cell(tr, q.remaining);
      cell(tr, q.prefer, "mono");
    }
  }, "nothing queued: calls answer as usual", 4);
  const apps = state.apps.map((a) => [a.id, `${a.name} (${a.type}, ${a.id})`]);
  setOptions($("force-app"), apps, [""]);
  setOptions($("journal-app"), apps, [""]);
  if (document.activeElement !== $("seed")) $("seed").value = state.seed === null ? "" : state.seed;
}

function mayRotate(write) {
  if (write.instance) return "every project (instance)";
  const where = [
    ...write.orgs.map((o) => `org ${o}`),
    ...write.projects.map((p) => `project ${p}`),
  ];
  return where.length ? where.join(", ") : "nothing (no project.app.write)";
}

// -- journal ---------------------------------------------------------------------------------

function shellQuote(text) {
  return "'" + String(text).replace(/'/g, "'\\''") + "'";
}

const SKIPPED_HEADERS = new Set(["host", "content-length", "connection", "accept-encoding", "user-agent", "accept", "te"]);

// The request as a curl line, from what the journal keeps (headers already redacted).
function curlLine(entry) {
  const parts = ["curl", "-X", entry.method];
  if (entry.transport !== "rest") parts.push("--http2-prior-knowledge");
  parts.push(shellQuote(location.origin + entry.path));
  for (const [name, value] of Object.entries(entry.headers)) {
    if (!SKIPPED_HEADERS.has(name)) parts.push("-H", shellQuote(`${name}: ${value}`));
  }
  if (entry.method !== "GET" && entry.method !== "HEAD") parts.push("--data", shellQuote("<body not recorded>"));
  return parts.join(" ");
}

function renderJournal(entries) {
  fill("journal", JSON.stringify([entries.map((e) => e.id), [...page.expanded]]), (tbody) => {
    for (const entry of [...entries].reverse()) {
      const tr = tbody.insertRow();
      tr.className = "entry " + (entry.status !== null && entry.status < 400 ? "status-ok" : "status-bad");
      tr.dataset.id = entry.id;
      tr.dataset.status = entry.status === null ? "" : entry.status;
      tr.title = "click for the request as curl";
      cell(tr, entry.time.replace("T", " ").replace(/\.\d+Z$/, "Z"));
      cell(tr, entry.transport);
      cell(tr, `${entry.method} ${entry.path}`, "mono");
      cell(tr, entry.status === null ? "none" : entry.status, "status");
      cell(tr, entry.outcome + (entry.forced ? ` (${entry.forced.source}: ${entry.forced.prefer})` : ""));
      cell(tr, entry.message || "");
      cell(tr, entry.durationMs.toFixed(1));
      tr.addEventListener("click", () => {
        if (page.expanded.has(entry.id)) page.expanded.delete(entry.id);
        else page.expanded.add(entry.id);
        renderJournal(entries);
      });
      if (page.expanded.has(entry.id)) {
        const curl = tbody.insertRow();
        curl.className = "curl";
        const td = cell(curl, "");
        td.colSpan = 7;
        const pre = document.createElement("pre");
        pre.textContent = curlLine(entry);
        td.appendChild(pre);
      }
    }
  }, "no requests yet in this namespace", 7);
}

function journalParams() {
  const params = new URLSearchParams({ limit: JOURNAL_LIMIT });
  if ($("journal-app").value) params.set("app", $("journal-app").value);
  const status = $("journal-status").value;
  if (status) params.set("status", status);
  return params;
}

async function pollJournal() {
  const body = await api("GET", `/journal?${journalParams()}`);
  showVia("polling");
  renderJournal(body.entries);
}

function showVia(via) {
  $("journal-live").dataset.via = via;
  if (!$("journal-pause").checked) $("journal-live").textContent = `live (${via})`;
}

// An EventSource sends no headers: the namespace goes in the query, and under --admin-token
// (the token is never put in a URL) the page polls instead.
function canStream() {
  return typeof EventSource === "function" && !page.streamFailed && !sessionStorage.getItem(TOKEN_KEY);
}

function closeStream() {
  if (page.stream) page.stream.close();
  page.stream = null;
  page.streamKey = "";
}

function followJournal() {
  const params = journalParams();
  if (page.ns) params.set("namespace", page.ns);
  const key = params.toString();
  if (page.stream && page.streamKey === key) return;
  closeStream();
  page.entries = [];
  page.shown.journal = undefined;
  const source = new EventSource(`${API}/journal/stream?${key}`);
  page.stream = source;
  page.streamKey = key;
  source.onopen = () => showVia("stream");
  source.onmessage = (event) => {
    if (page.stream !== source) return;
    page.entries.push(JSON.parse(event.data));
    if (page.entries.length > JOURNAL_LIMIT) page.entries.splice(0, page.entries.length - JOURNAL_LIMIT);
    if (!page.drawPending) {
      page.drawPending = true;
      setTimeout(() => {
        page.drawPending = false;
        if (page.stream === source) renderJournal(page.entries);
      }, 0);
    }
  };
  source.onerror = () => {
    // CONNECTING: EventSource reconnects by itself, with Last-Event-ID. CLOSED: refused.
    if (source.readyState === EventSource.CLOSED && page.stream === source) {
      page.streamFailed = true;
      closeStream();
      refresh();
    }
  };
  if (!page.entries.length) renderJournal(page.entries);
}

async function showJournal() {
  if ($("journal-pause").checked) {
    closeStream();
    return;
  }
  if (canStream()) followJournal();
  else {
    closeStream();
    await pollJournal();
  }
}

// -- namespaces ------------------------------------------------------------------------------

function renderNamespaces(list) {
  const names = list.namespaces.map((n) => n.name);
  if (!names.includes(page.ns)) names.push(page.ns);
  setOptions($("ns-select"), names.map((n) => [n, n || "(default)"]), []);
  $("ns-select").value = page.ns;
  fill("namespaces", JSON.stringify([list, page.ns]), (tbody) => {
    for (const ns of list.namespaces) {
      const tr = tbody.insertRow();
      if (ns.name === page.ns) tr.className = "current";
      cell(tr, ns.name || "(default)", "mono");
      cell(tr, ns.lastUsed || "—");
      cell(tr, ns.expiresAt || "never");
      const actions = cell(tr, "");
      actions.appendChild(button("open", () => openNamespace(ns.name), "small"));
      actions.appendChild(button("reset", () => act(`reset ${ns.name || "(default)"}`, () => api("POST", "/reset", undefined, { ns: ns.name })), "small"));
      if (ns.name) {
        actions.appendChild(button("delete", () => act(`deleted ${ns.name}`, async () => {
          await api("DELETE", `/namespaces/${encodeURIComponent(ns.name)}`, undefined, { ns: "" });
          if (ns.name === page.ns) openNamespace("", true);
        }), "small danger"));
      }
    }
  }, "", 4);
}

function openNamespace(name, quiet) {
  page.ns = name;
  page.shown = {};
  page.expanded.clear();
  history.replaceState(null, "", name ? `#${encodeURIComponent(name)}` : location.pathname);
  if (!quiet) say(`namespace ${name || "(default)"}`);
  refresh(true);
}

// -- actions ---------------------------------------------------------------------------------

async function act(done, call) {
  try {
    const result = await call();
    say(typeof done === "function" ? done(result) : done);
  } catch (error) {
    say(error.message, true);
  }
  closeStream(); // a reset or a cleared journal: start again from what is there now
  await refresh(true);
}

function outcomeBody() {
  const body = { times: Number($("force-times").value || 1) };
  if ($("force-app").value) body.app = $("force-app").value;
  const kind = document.querySelector('input[name="kind"]:checked').value;
  if (kind === "error") body.error = $("force-error").value;
  else if (kind === "delay") body.delay = $("force-delay").value.trim();
  else body.fault = $("force-fault").value;
  return body;
}

async function loadCatalogue() {
  const catalogue = await api("GET", "/errors", undefined, { ns: "" });
  setOptions($("force-error"), catalogue.errors.map((row) => [
    row.name,
    `${row.status} ${row.name}${row.zitadelId ? " (" + row.zitadelId + ")" : ""}`,
  ]), []);
  const notFound = catalogue.errors.find((row) => row.status === 404 && row.defaultFor);
  if (notFound) $("force-error").value = notFound.name;
  setOptions($("force-fault"), catalogue.faults.map((f) => [f, f]), []);
}

// GET /__mock/namespaces also sweeps expired namespaces (a write): asked every 5th tick only,
// and after every action.
const NAMESPACES_EVERY = 5;

async function refresh(all) {
  if (page.busy) {
    if (all) page.wantAll = true; // after the poll in flight
    return;
  }
  page.busy = true;
  const withNamespaces = all || page.tick % NAMESPACES_EVERY === 0;
  page.tick += 1;
  try {
    const [state, namespaces] = await Promise.all([
      api("GET", "/state"),
      withNamespaces ? api("GET", "/namespaces", undefined, { ns: "" }) : null,
    ]);
    renderState(state);
    if (namespaces) renderNamespaces(namespaces);
    await showJournal();
    if ($("status").classList.contains("error") && $("status").dataset.poll) say("");
  } catch (error) {
    say(error.message, true);
    $("status").dataset.poll = "1";
  } finally {
    page.busy = false;
    if (page.wantAll) {
      page.wantAll = false;
      refresh(true);
    }
  }
}

function wire() {
  // A page left (or kept in the back-forward cache) gives its connection back: a browser opens
  // at most 6 HTTP/1.1 connections to one host, and an open stream holds one.
  window.addEventListener("pagehide", closeStream);
  window.addEventListener("pageshow", (e) => {
    if (e.persisted) refresh(true);
  });
  window.addEventListener("hashchange", () => {
    const name = decodeURIComponent(location.hash.slice(1));
    if (name !== page.ns) openNamespace(name);
  });
  $("ns-select").addEventListener("change", (e) => openNamespace(e.target.value));
  $("ns-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const name = $("ns-new").value.trim();
    if (name) openNamespace(name);
    $("ns-new").value = "";
  });
  $("force-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const body = outcomeBody();
    act((q) => `queued #${q.id}: the next ${q.remaining} call(s) to ${q.app || "any app"} answer ${q.prefer}`,
      () => api("POST", "/outcomes", body));
  });
  $("queue-clear").addEventListener("click", () => act("queue cleared", () => api("DELETE", "/outcomes")));
  $("journal-clear").addEventListener("click", () => act("journal cleared", () => api("DELETE", "/journal")));
  $("journal-pause").addEventListener("change", (e) => {
    $("journal-live").textContent = e.target.checked ? "paused" : `live (${$("journal-live").dataset.via || "polling"})`;
    $("journal-live").classList.toggle("paused", e.target.checked);
    refresh();
  });
  for (const id of ["journal-app", "journal-status"]) $(id).addEventListener("change", () => refresh());
  $("reset").addEventListener("click", () => act("namespace reset", () => api("POST", "/reset")));
  $("reset-all").addEventListener("click", () => act((r) => `reset ${r.reset.length} namespace(s)`, () => api("POST", "/reset?all=true", undefined, { ns: "" })));
  $("seed-set").addEventListener("click", () => {
    const text = $("seed").value.trim();
    act((r) => `seed ${r.seed === null ? "random" : r.seed}`, () => api("PUT", "/seed", { seed: text === "" ? null : Number(text) }));
  });
}

window.addEventListener("DOMContentLoaded", async () => {
  wire();
  try {
    await loadCatalogue();
  } catch (error) {
    say(error.message, true);
  }
  await refresh(true);
  setInterval(refresh, POLL_MS);
});
