// The operations console: plain JavaScript over /graphql. Every value is put in the page with
// textContent, never parsed as HTML, so nothing a source sends can become markup or script.
"use strict";

const KEY = "clientgraph-ops-key";
const $ = (id) => document.getElementById(id);

const QUERIES = {
  sources: `query OpsSources { freshness { system objectType status lagSeconds lastSuccessAt
    recordsApplied recordsAppliedTotal lastError pausedUntil } }`,
  dead: `query OpsDeadCommands { commands(first: 50, filter: {status: [FAILED, DEAD_LETTERED]}) {
    totalCount nodes { id kind status targetSystem attempts correlationId traceId updatedAt
    lastError { code message retryable } } } }`,
  handoffs: `query OpsHandoffs { handoffs(first: 50) { id status readinessScore
    issues { field message owner } updatedAt opportunity { name } } }`,
  exceptions: `query OpsExceptions { integrationExceptions(first: 50, filter: {status: [OPEN]}) {
    totalCount nodes { id kind system objectType sourceId message lastSeenAt
    candidates { accountId sourceId name }
    decision { action accountName decidedBy decidedAt appliedAt } } } }`,
  recent: `query OpsRecentCommands { commands(first: 25) { nodes { id kind status targetSystem
    attempts correlationId traceId createdAt lastError { code message } } } }`,
};

const ACTIONS = {
  retryCommand: `mutation OpsRetryCommand($input: CommandActionInput!) {
    retryCommand(input: $input) { __typename ... on Command { id status }
    ... on CommandRejected { code message } } }`,
  cancelCommand: `mutation OpsCancelCommand($input: CommandActionInput!) {
    cancelCommand(input: $input) { __typename ... on Command { id status }
    ... on CommandRejected { code message } } }`,
  resumeHandoff: `mutation OpsResumeHandoff($input: ResumeHandoffInput!) {
    resumeHandoff(input: $input) { __typename ... on Command { id status }
    ... on CommandRejected { code message } } }`,
  linkIdentity: `mutation OpsLinkIdentity($input: LinkIdentityInput!) {
    linkIdentity(input: $input) { __typename ... on Command { id status }
    ... on CommandRejected { code message } } }`,
  createIdentityAccount: `mutation OpsCreateIdentityAccount($input: IdentityActionInput!) {
    createIdentityAccount(input: $input) { __typename ... on Command { id status }
    ... on CommandRejected { code message } } }`,
  ignoreIdentity: `mutation OpsIgnoreIdentity($input: IdentityActionInput!) {
    ignoreIdentity(input: $input) { __typename ... on Command { id status }
    ... on CommandRejected { code message } } }`,
};
const DECISIONS = new Set(["linkIdentity", "createIdentityAccount", "ignoreIdentity"]);

function key() { return sessionStorage.getItem(KEY); }

function idempotencyKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);  // crypto.randomUUID needs https; an intranet may not have it
  return "ops-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function gql(query, variables) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Authorization": "Bearer " + key() },
    body: JSON.stringify({ query, variables: variables || {} }),
  });
  let body;
  try { body = await response.json(); } catch (e) { throw new Error("HTTP " + response.status); }
  if (response.status === 401 || response.status === 403) {
    throw new Error((body.errors && body.errors[0].message) || "refused");
  }
  if (body.errors && body.errors.length) {
    throw new Error(body.errors.map((e) => e.message).join("; "));
  }
  return body.data;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "text") node.textContent = value;
    else if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function badge(value) { return el("span", { class: "badge " + value, text: value }); }
function when(iso) { return iso ? new Date(iso).toLocaleString() : "—"; }
function lag(seconds) {
  if (seconds === null || seconds === undefined) return "never";
  if (seconds < 120) return Math.round(seconds) + " s";
  if (seconds < 7200) return Math.round(seconds / 60) + " min";
  return Math.round(seconds / 3600) + " h";
}

function table(headers, rows, empty) {
  if (!rows.length) return el("p", { class: "note", text: empty });
  const head = el("tr", {}, ...headers.map((h) => el("th", { text: h })));
  return el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows));
}

function row(cells, attrs) {
  return el("tr", attrs || {}, ...cells.map((c) => el("td", {}, c)));
}

function errorText(error) {
  return error ? error.code + ": " + error.message : "";
}

function renderSources(data) {
  return table(
    ["System", "Object", "State", "Lag", "Last success", "Records (last / total)", "Last error"],
    data.freshness.map((s) => row([
      s.system, s.objectType, badge(s.status), lag(s.lagSeconds), when(s.lastSuccessAt),
      s.recordsApplied + " / " + s.recordsAppliedTotal,
      el("span", { class: "error", text: s.lastError || "" }),
    ])),
    "No source is configured.");
}

function commandActions(command) {
  const buttons = [];
  if (command.status === "FAILED" || command.status === "DEAD_LETTERED") {
    buttons.push(el("button", { type: "button", "data-action": "retry",
      onclick: () => act("retryCommand", { commandId: command.id }) }, "Retry"));
  }
  if (["ACCEPTED", "DISPATCHED", "FAILED", "DEAD_LETTERED"].includes(command.status)) {
    buttons.push(el("button", { type: "button", "data-action": "cancel",
      onclick: () => act("cancelCommand", { commandId: command.id }) }, "Cancel"));
  }
  return el("span", {}, ...buttons);
}

function renderCommands(nodes, empty) {
  return table(
    ["Kind", "Target", "Status", "Attempts", "Last error", "Correlation id", "Trace id", "", ""],
    nodes.map((c) => row([
      c.kind, c.targetSystem, badge(c.status), c.attempts,
      el("span", { class: "error", text: errorText(c.lastError) }), c.correlationId,
      el("code", { class: "trace", text: c.traceId || "—" }),
      when(c.updatedAt || c.createdAt), commandActions(c),
    ], { "data-command": c.id })),
    empty);
}

function resumeForm(handoff) {
  const input = (name, placeholder) => el("input", { name, placeholder });
  const billing = el("select", { name: "billingMethod" }, el("option", { value: "" }, "billing…"),
    ...["TIME_AND_MATERIALS", "FIXED_FEE", "MILESTONE", "RETAINER", "NON_BILLABLE"].map(
      (m) => el("option", { value: m }, m)));
  const form = el("form", { class: "resume" }, billing, input("startDate", "start YYYY-MM-DD"),
    input("managerName", "project manager"), input("serviceLine", "service line"),
    el("button", { type: "submit" }, "Resume"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = {};
    for (const field of form.elements) {
      if (field.name && field.value) data[field.name] = field.value;
    }
    act("resumeHandoff", { handoffId: handoff.id, data: Object.keys(data).length ? data : null });
  });
  return form;
}

function renderHandoffs(data) {
  return table(
    ["Deal", "Status", "Ready", "Missing", "Updated", "Fill in and resume"],
    data.handoffs.map((h) => row([
      h.opportunity ? h.opportunity.name : h.id, badge(h.status), h.readinessScore + "%",
      el("ul", {}, ...h.issues.map((i) => el("li", {}, i.field + ": " + i.message +
        " (" + i.owner + ")"))),
      when(h.updatedAt), resumeForm(h),
    ])),
    "No handoff is waiting.");
}

function decisionText(d) {
  const what = d.action === "LINK" ? "link to " + d.accountName : d.action.toLowerCase();
  const state = d.appliedAt ? "applied " + when(d.appliedAt) : "waiting for the next sync";
  return what + " — " + d.decidedBy + ", " + when(d.decidedAt) + " (" + state + ")";
}

// Link to a candidate (or to any account id pasted), create an account, or ignore the record.
function identityForm(x) {
  const choose = el("select", { name: "candidate" }, el("option", { value: "" }, "candidate…"),
    ...x.candidates.map((c) => el("option", { value: c.accountId }, c.name + " (" + c.sourceId + ")")));
  const pasted = el("input", { name: "accountId", placeholder: "or an Account id" });
  const button = (action, label, input) => el("button", { type: "button", "data-action": action,
    onclick: () => act(action, { integrationExceptionId: x.id, ...input() }) }, label);
  return el("form", { class: "resume identity" }, choose, pasted,
    button("linkIdentity", "Link", () => ({ accountId: pasted.value.trim() || choose.value })),
    button("createIdentityAccount", "Create account", () => ({})),
    button("ignoreIdentity", "Ignore", () => ({})));
}

function renderExceptions(data) {
  return table(
    ["Kind", "Source", "Record", "Message", "Last seen", "Decision"],
    data.integrationExceptions.nodes.map((x) => row([
      x.kind, x.system, x.objectType + " " + x.sourceId, x.message, when(x.lastSeenAt),
      !x.kind.startsWith("identity_") ? "fix it at the source"
        : x.decision ? el("div", {}, el("span", { class: "decision", text: decisionText(x.decision) }),
          identityForm(x))  // a new decision replaces this one
        : identityForm(x),
    ], { "data-exception": x.id })),
    "No open exception.");
}

const RENDER = {
  sources: renderSources,
  dead: (d) => renderCommands(d.commands.nodes, "No failed or dead-lettered command."),
  handoffs: renderHandoffs,
  exceptions: renderExceptions,
  recent: (d) => renderCommands(d.commands.nodes, "No command yet."),
};

async function load() {
  $("status").textContent = "";
  await Promise.all(Object.keys(QUERIES).map(async (name) => {
    const body = $(name).querySelector(".body");
    try {
      body.replaceChildren(RENDER[name](await gql(QUERIES[name])));
    } catch (error) {
      body.replaceChildren(el("p", { class: "error", text: error.message }));
    }
  }));
  document.body.dataset.loaded = String(Date.now());
}

async function act(mutation, input) {
  try {
    const data = await gql(ACTIONS[mutation], { input: { ...input, idempotencyKey: idempotencyKey() } });
    const result = data[mutation];
    $("status").textContent = result.__typename === "CommandRejected"
      ? mutation + " refused: " + result.code + " — " + result.message
      : DECISIONS.has(mutation) ? mutation + ": recorded; the record's next sync applies it"
      : mutation + ": command " + result.id + " is " + result.status;
  } catch (error) {
    $("status").textContent = mutation + " failed: " + error.message;
  }
  const message = $("status").textContent;
  await load();
  $("status").textContent = message;
}

function show() {
  const signedIn = Boolean(key());
  $("login").hidden = signedIn;
  $("console").hidden = !signedIn;
  $("forget").hidden = !signedIn;
  $("refresh").hidden = !signedIn;
  if (signedIn) load();
}

document.addEventListener("DOMContentLoaded", () => {
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("key").value.trim());
    $("key").value = "";
    show();
  });
  $("forget").addEventListener("click", () => { sessionStorage.removeItem(KEY); show(); });
  $("refresh").addEventListener("click", load);
  show();
});
