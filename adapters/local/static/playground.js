// cohortbot playground: chat with the bot as a person of the demo cohort.
// Plain DOM building only: message text is untrusted and never goes through innerHTML.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token");
const STORE_KEY = "cohortbot.playground";
const POLL_MS = 1000;
const DISABLE_MS = 1500;
const OFFLINE = "Could not load messages";

const state = {
  people: [], channels: [], person: null, channelId: null, seq: 0,
  entries: new Map(), // message id -> {m, node}, in first-seen order
  busy: new Map(), // message id -> time until which its controls stay disabled
  gen: 0, // bumped on person change so stale feed answers are dropped
  polling: false, pollAgain: false, timer: null, offline: false,
};

const $ = (sel) => document.querySelector(sel);

// ---------- small helpers ----------
// createElement with attributes/properties, "on*" listeners and text/element children.
function el(tag, attrs = {}, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k.includes("-") || k === "role" || !(k in node)) node.setAttribute(k, v === true ? "" : v);
    else node[k] = v;
  }
  node.append(...kids.filter((kid) => kid !== null && kid !== undefined));
  return node;
}

// Read and write the saved choices; storage may be unavailable (private mode).
function loadPrefs() {
  try { return JSON.parse(localStorage.getItem(STORE_KEY)) || {}; } catch { return {}; }
}
function savePrefs(patch) {
  try { localStorage.setItem(STORE_KEY, JSON.stringify({ ...loadPrefs(), ...patch })); } catch { /* ignore */ }
}

const personFromHash = () => new URLSearchParams(location.hash.slice(1)).get("person");

// ---------- API ----------
// GET (no body) or POST JSON to a page-relative path; throws Error(server's "error").
// Every call carries the page's secret (from its <meta>; its cookie goes along by itself).
async function api(path, body) {
  const secret = document.querySelector('meta[name="playground-secret"]')?.content || "";
  const headers = { "X-Playground-Secret": secret, ...(TOKEN ? { "X-Playground-Token": TOKEN } : {}) };
  const opts = body === undefined ? { headers, cache: "no-store" } : {
    method: "POST", headers: { ...headers, "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const res = await fetch(path, opts);
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error(data?.error || `Request failed: HTTP ${res.status}`);
  return data;
}

// POST, show any error in the banner, then poll at once; resolves to true on success.
async function post(path, body) {
  try { await api(path, { person: state.person, ...body }); return true; }
  catch (err) { showError(err.message); return false; }
  finally { poll(); }
}

function showError(text) {
  $("#error-text").textContent = text;
  $("#error-banner").hidden = false;
}
const hideError = () => { $("#error-banner").hidden = true; };

// ---------- the neutral markup: *bold*, _italic_, ~strike~, `code`, <url|label>, <@id>,
// "> " quoted lines; newlines via CSS pre-wrap. Same boundaries as the Teams renderer. ----------
const INLINE_RE = new RegExp([
  /<([^<>|\s]+)(?:\|([^<>]*))?>/.source,
  /(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])/.source,
  /(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])/.source,
  /(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])/.source,
  /`([^`\n]+)`/.source,
].join("|"), "g");
const QUOTE_RE = /^> ?/;

// Append text to parent: quoted lines as <blockquote>, the rest inline.
function appendRich(parent, text) {
  const lines = String(text ?? "").split("\n");
  let quote = null;
  lines.forEach((line, i) => {
    const last = i === lines.length - 1;
    if (QUOTE_RE.test(line)) {
      if (!quote) parent.append(quote = el("blockquote"));
      appendInline(quote, line.replace(QUOTE_RE, "") + (last ? "" : "\n"));
      return;
    }
    quote = null;
    appendInline(parent, line + (last ? "" : "\n"));
  });
  return parent;
}

// Append one stretch of text: emphasis, strike and code as elements, links made safe.
function appendInline(parent, source) {
  let last = 0;
  for (const match of source.matchAll(INLINE_RE)) {
    parent.append(source.slice(last, match.index));
    const [, url, label, bold, italic, strike, code] = match;
    if (bold !== undefined) parent.append(appendInline(el("strong"), bold));
    else if (italic !== undefined) parent.append(appendInline(el("em"), italic));
    else if (strike !== undefined) parent.append(appendInline(el("s"), strike));
    else if (code !== undefined) parent.append(el("code", {}, code));
    else parent.append(safeLink(url, label, match[0]));
    last = match.index + match[0].length;
  }
  parent.append(source.slice(last));
  return parent;
}

// A link for http(s) URLs only; anything else stays as written (`<cohort>` in usage lines).
function safeLink(url, label, written) {
  if (url.startsWith("@")) {
    const person = state.people.find((p) => p.id === url.slice(1));
    return el("span", { class: "mention" }, `@${label || person?.name || url.slice(1)}`);
  }
  const text = label || url;
  let parsed = null;
  try { parsed = new URL(url); } catch { /* not a URL: plain text */ }
  if (!parsed || !["http:", "https:"].includes(parsed.protocol)) return document.createTextNode(written);
  const shown = parsed.origin === location.origin && new URLSearchParams(parsed.hash.slice(1)).get("message");
  if (shown) {
    // A link to a message on this page (a moderator's ping): show it here, in place.
    const link = el("a", { href: `#message=${encodeURIComponent(shown)}`, class: "message-link" }, text);
    link.addEventListener("click", (event) => { event.preventDefault(); showMessage(shown); });
    return link;
  }
  return el("a", { href: parsed.href, target: "_blank", rel: "noopener noreferrer" }, text);
}

function showMessage(id) {
  const node = document.querySelector(`article.message[data-id="${CSS.escape(id)}"]`);
  if (!node) { showError("That message is not in this person's view."); return; }
  node.scrollIntoView({ block: "center" });
  node.classList.add("highlight");
  setTimeout(() => node.classList.remove("highlight"), 3000);
}

// ---------- blocks ----------
const BLOCKS = {
  section: (b) => appendRich(el("div", { class: "block section" }), b.text),
  context: (b) => appendRich(el("div", { class: "block context" }), b.text),
  divider: () => el("hr", { class: "block divider" }),
  fields: (b) =>
    el("dl", { class: "block fields" }, ...(b.items || []).map(([label, value]) =>
      el("div", { class: "field" }, appendRich(el("dt"), label), appendRich(el("dd"), value)))),
  buttons: (b, m) => el("div", { class: "block buttons" }, ...(b.buttons || []).map((btn) =>
    actionButton(m, btn.action_id, btn.label, btn.value ?? "", { class: `action btn btn-${btn.style || "default"}` }))),
  select: (b, m, ctx) => (b.multi ? renderMultiSelect(b, m, ctx) : renderSelect(b, m, ctx)),
  rating: renderRating,
  text_input: renderTextInput,
  result_bars: renderResultBars,
};

// A real <button class="action"> posting actionId with value (or value() at click time).
function actionButton(m, actionId, label, value, attrs = {}) {
  const lazy = typeof value === "function";
  return el("button", {
    type: "button", class: "action btn btn-default", "data-action-id": actionId,
    "data-value": lazy ? null : value, ...attrs,
    onclick: (e) => sendAction(e.currentTarget, m, actionId, lazy ? value() : value),
  }, label);
}

// Single select: choosing an option posts the action with its value.
function renderSelect(b, m, ctx) {
  const id = `${ctx.uid}-select`;
  const select = el("select", {
    id, class: "action-select", "data-action-id": b.action_id,
    onchange: (e) => e.target.value && sendAction(e.target, m, b.action_id, e.target.value),
  }, el("option", { value: "", disabled: true, selected: true }, "Choose…"),
  ...(b.options || []).map((o) => el("option", { value: o.value }, o.label)));
  return el("div", { class: "block select" }, el("label", { htmlFor: id }, b.label), select);
}

// Multi select: checkboxes plus a button that posts the chosen values comma-joined.
function renderMultiSelect(b, m, ctx) {
  const boxes = (b.options || []).map((o, i) =>
    el("input", { type: "checkbox", id: `${ctx.uid}-opt${i}`, value: o.value }));
  const send = actionButton(m, b.action_id, "Send choice",
    () => boxes.filter((box) => box.checked).map((box) => box.value).join(","));
  const options = (b.options || []).map((o, i) =>
    el("label", { class: "check", htmlFor: boxes[i].id }, boxes[i], o.label));
  return el("fieldset", { class: "block select multi" }, el("legend", {}, b.label), ...options, send);
}

// Rating: buttons 1..scale between the low and high labels; the number is the value.
function renderRating(b, m, ctx) {
  const labelId = `${ctx.uid}-rating`;
  const scale = Math.max(1, Math.min(Number(b.scale) || 5, 10));
  const buttons = Array.from({ length: scale }, (_, i) => actionButton(m, b.action_id, String(i + 1),
    String(i + 1), { class: "action", "aria-pressed": "false", "aria-label": `${i + 1} of ${scale}` }));
  const press = (e) => buttons.includes(e.target)
    && buttons.forEach((x) => x.setAttribute("aria-pressed", String(x === e.target)));
  return el("div", { class: "block rating", role: "group", "aria-labelledby": labelId, onclick: press },
    el("div", { class: "rating-label", id: labelId }, b.label),
    el("div", { class: "rating-scale" },
      el("span", { class: "rating-end" }, b.low_label ?? ""),
      el("span", { class: "rating-buttons" }, ...buttons),
      el("span", { class: "rating-end" }, b.high_label ?? "")));
}

// In a form: a labelled field. Outside a form: a hint that the answer is typed in chat.
function renderTextInput(b, m, ctx) {
  if (!ctx.form) {
    const hint = el("div", { class: "block input-hint" }, el("strong", {}, b.label));
    hint.append(` — type your answer in the message box below${b.optional ? " (optional)" : ""}.`);
    return hint;
  }
  const id = `${ctx.uid}-input`;
  const choices = b.choices || [];
  // Fields with choices are a select; the bot checks every field's rules, so the page
  // leaves `required` off and shows the bot's own reasons by each field.
  const input = choices.length
    ? el("select", { id, name: b.field_id },
      el("option", { value: "" }, b.placeholder || "Choose…"),
      ...choices.map((o) => el("option", { value: o.value }, o.label)))
    : el(b.multiline ? "textarea" : "input", {
      id, name: b.field_id, placeholder: b.placeholder || "",
      rows: b.multiline ? 3 : null, type: b.multiline ? null : "text",
    });
  return el("div", { class: "block text-input" },
    el("label", { htmlFor: id }, b.label, b.optional ? el("span", { class: "optional" }, " (optional)") : null),
    input,
    b.hint ? el("div", { class: "field-hint" }, b.hint) : null,
    el("div", { class: "field-error", role: "alert", "data-error-for": b.field_id }));
}

// Horizontal bars with count and share of the total.
function renderResultBars(b) {
  const bars = b.bars || [];
  const total = bars.reduce((sum, bar) => sum + (Number(bar.count) || 0), 0);
  const rows = bars.map((bar) => {
    const count = Number(bar.count) || 0;
    const pct = total ? Math.round((count / total) * 100) : 0;
    const fill = el("div", { class: "bar-fill" });
    fill.style.width = `${pct}%`;
    return el("div", { class: "result-bar", "data-count": count },
      el("div", { class: "bar-label" }, bar.label),
      el("div", { class: "bar-track", "aria-hidden": "true" }, fill),
      el("div", { class: "bar-count" }, `${count} · ${pct}%`));
  });
  return el("div", { class: "block result-bars" }, ...rows,
    el("div", { class: "bar-total" }, `${total} ${total === 1 ? "response" : "responses"}`));
}

// ---------- messages ----------
function renderMessage(m) {
  const who = m.from === "bot" ? "bot" : m.from === state.person ? "self" : "other";
  const node = el("article", { class: `message from-${who}`, "data-id": m.id, "data-seq": m.seq });
  if (m.ephemeral) node.classList.add("ephemeral");
  if (m.thread_ref) node.classList.add("in-thread");
  const name = who === "bot" ? "cohortbot" : who === "self" ? "You" : m.author_name || m.from;
  const meta = el("div", { class: "meta" }, el("span", { class: "author" }, name), timeEl(m.sent_at));
  if (m.thread_ref) meta.append(el("span", { class: "tag" }, "in thread"));
  if (m.ephemeral) meta.append(el("span", { class: "tag ephemeral-note" }, "Only visible to you"));
  if (who === "other" && m.where === "channel") meta.append(flagButton(m));
  node.append(meta, renderBody(m));
  holdControls(node, m.id);
  return node;
}

// "Flag for moderators" on someone else's channel message, with an optional note.
function flagButton(m) {
  const button = el("button", { type: "button", class: "flag-link", title: "Flag for moderators" }, "Flag");
  button.addEventListener("click", () => {
    const note = window.prompt("Flag for moderators. A note for them (optional; #content, #conduct, #tech):", "");
    if (note !== null) post("playground/api/flag", { message_id: m.id, note });
  });
  return button;
}

function timeEl(iso) {
  const date = iso ? new Date(iso) : null;
  if (!date || Number.isNaN(date.getTime())) return null;
  return el("time", { dateTime: iso, title: date.toLocaleString() },
    date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
}

// The blocks (or the plain text when there are none); a <form> when form_id has inputs.
function renderBody(m) {
  const msg = m.message || { text: "" };
  const blocks = msg.blocks || [];
  const form = Boolean(msg.form_id) && blocks.some((b) => b.type === "text_input");
  const body = el(form ? "form" : "div", { class: "body", noValidate: form || null });
  if (!blocks.length) body.append(BLOCKS.section({ text: msg.text }));
  blocks.forEach((b, i) => {
    const ctx = { form, uid: `m-${m.id}-${i}`.replace(/[^\w-]/g, "_") };
    const render = BLOCKS[b.type];
    body.append(render ? render(b, m, ctx) : el("div", { class: "block context" }, `[${b.type} block]`));
  });
  if (form) {
    const status = el("span", { class: "form-status", role: "status" });
    body.append(el("div", { class: "form-actions" },
      el("button", { type: "submit", class: "btn btn-primary" }, "Submit"), status));
    body.addEventListener("submit", (e) => submitForm(e, m, body, status));
  }
  return body;
}

// Disable a message's controls while it is busy (also when it is re-rendered meanwhile).
function holdControls(node, id) {
  const left = (state.busy.get(id) || 0) - Date.now();
  if (left <= 0) return;
  const controls = [...node.querySelectorAll("button, select, input, textarea")].filter((c) => !c.disabled);
  controls.forEach((c) => { c.disabled = true; });
  setTimeout(() => controls.forEach((c) => { c.disabled = false; }), left);
}

// Mark a message busy for a moment so a double click does not post twice.
function markBusy(control, id) {
  state.busy.set(id, Date.now() + DISABLE_MS);
  const node = control.closest(".message");
  if (node) holdControls(node, id);
}

function sendAction(control, m, actionId, value) {
  markBusy(control, m.id);
  post("playground/api/action", { message_id: m.id, action_id: actionId, value: String(value) });
}

async function submitForm(event, m, form, status) {
  event.preventDefault();
  const values = {};
  form.querySelectorAll("[name]").forEach((field) => { values[field.name] = field.value; });
  status.textContent = "Sending…";
  markBusy(form, m.id);
  form.querySelectorAll("[data-error-for]").forEach((slot) => { slot.textContent = ""; });
  let answer = null;
  try {
    answer = await api("playground/api/form", { person: state.person, message_id: m.id, form_id: m.message.form_id, values });
  } catch (err) {
    showError(err.message);
  } finally {
    poll();
  }
  const errors = answer?.errors || {};
  Object.entries(errors).forEach(([field, text]) => {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    if (slot) slot.textContent = text;
  });
  // Sent is all the page knows: the bot's reply says whether it was saved.
  if (!answer) status.textContent = "Not sent";
  else if (answer.ok) status.textContent = "Sent";
  else status.textContent = `Not sent: fix the ${Object.keys(errors).length === 1 ? "marked field" : "marked fields"}`;
}

// ---------- transcripts ----------
// Which transcript shows a message, or null (a channel other than the chosen one).
function transcriptFor(m) {
  if (m.where === "dm") return $("#dm-transcript");
  if (!m.channel_id || m.channel_id === state.channelId) return $("#channel-transcript");
  return null;
}

const nearBottom = (box) => box.scrollHeight - box.scrollTop - box.clientHeight < 80;

// Add new messages in order and replace updated ones (same id) in place.
function ingest(messages) {
  const stick = new Map(); // transcript -> scroll to the bottom afterwards?
  for (const m of messages) {
    const box = transcriptFor(m);
    const old = state.entries.get(m.id);
    const node = box ? renderMessage(m) : null;
    if (old?.node?.isConnected && node) old.node.replaceWith(node);
    else if (!old && node) {
      if (!stick.has(box)) stick.set(box, nearBottom(box));
      if (m.from === state.person) stick.set(box, true);
      box.append(node);
    }
    state.entries.set(m.id, { m, node }); // an existing key keeps its place in the Map
  }
  stick.forEach((yes, box) => { if (yes) box.scrollTop = box.scrollHeight; });
}

// Rebuild the channel transcript from what has been received (after a channel switch).
function renderChannel() {
  const box = $("#channel-transcript");
  box.replaceChildren();
  for (const entry of state.entries.values()) {
    if (entry.m.where !== "dm") entry.node = transcriptFor(entry.m) ? box.appendChild(renderMessage(entry.m)) : null;
  }
  box.scrollTop = box.scrollHeight;
}

// ---------- feed polling ----------
// Fetch new messages now; overlapping calls coalesce into one follow-up poll.
async function poll() {
  if (!state.person) return;
  if (state.polling) { state.pollAgain = true; return; }
  clearTimeout(state.timer);
  state.polling = true;
  const gen = state.gen;
  const query = `person=${encodeURIComponent(state.person)}&after=${state.seq}`;
  try {
    const data = await api(`playground/api/feed?${query}`);
    if (gen === state.gen) {
      ingest(data.messages || []);
      state.seq = Math.max(state.seq, Number(data.seq) || 0);
      if (state.offline && $("#error-text").textContent.startsWith(OFFLINE)) hideError();
      state.offline = false;
    }
  } catch (err) {
    if (!state.offline) showError(`${OFFLINE}: ${err.message}`);
    state.offline = true;
  } finally {
    state.polling = false;
    if (state.pollAgain) { state.pollAgain = false; poll(); }
    else state.timer = setTimeout(poll, document.hidden ? POLL_MS * 5 : POLL_MS);
  }
}

// ---------- pickers and composers ----------
function choosePerson(id) {
  if (!state.people.some((p) => p.id === id) || id === state.person) return;
  Object.assign(state, { person: id, gen: state.gen + 1, seq: 0 });
  state.entries.clear();
  $("#dm-transcript").replaceChildren();
  $("#channel-transcript").replaceChildren();
  $("#person-picker").value = id;
  savePrefs({ person: id });
  history.replaceState(null, "", `#person=${encodeURIComponent(id)}`);
  poll();
}

function chooseChannel(id) {
  const channel = state.channels.find((c) => c.id === id) || state.channels[0];
  state.channelId = channel ? channel.id : null;
  const title = state.channels.length > 1 ? "Cohort channel" : channel && `# ${channel.name || channel.id}`;
  $("#channel-title").textContent = title || "No cohort channel";
  $("#channel-picker").value = state.channelId || "";
  $("#channel-input").disabled = !channel;
  $("#channel-composer .send").disabled = !channel;
  if (channel) savePrefs({ channel: channel.id });
  renderChannel();
}

function fillPickers() {
  const people = $("#person-picker");
  people.replaceChildren(...state.people.map((p) => el("option", { value: p.id, title: p.time_zone || "" },
    p.roles && p.roles.length ? `${p.name} — ${p.roles.join(", ")}` : p.name)));
  people.disabled = !state.people.length;
  const channels = $("#channel-picker");
  channels.replaceChildren(...state.channels.map((c) => el("option", { value: c.id }, c.name || c.id)));
  channels.hidden = state.channels.length < 2;
}

// Send the composer's text as the chosen person; keep the text if the server refuses.
async function sendComposer(form) {
  const input = form.querySelector("textarea");
  const text = input.value.trim();
  if (!text || !state.person) return;
  const where = form.dataset.where;
  if (where === "channel" && !state.channelId) return;
  input.value = "";
  autosize(input);
  const ok = await post("playground/api/say", {
    where, channel_id: where === "channel" ? state.channelId : null, text,
  });
  if (!ok && !input.value) { input.value = text; autosize(input); }
  input.focus();
}

// Grow the composer with its text, up to a limit.
function autosize(textarea) {
  textarea.style.height = "auto";
  textarea.style.height = `${Math.min(textarea.scrollHeight, 160)}px`;
}

function wireComposer(form) {
  const input = form.querySelector("textarea");
  form.addEventListener("submit", (e) => { e.preventDefault(); sendComposer(form); });
  input.addEventListener("input", () => autosize(input));
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendComposer(form); }
  });
}

// ---------- start ----------
async function start() {
  try {
    const data = await api("playground/api/state");
    state.people = data.people || [];
    state.channels = data.channels || [];
  } catch (err) {
    showError(`Could not load the playground: ${err.message} (retrying)`);
    setTimeout(start, 3000);
    return;
  }
  hideError();
  fillPickers();
  const prefs = loadPrefs();
  chooseChannel(prefs.channel);
  const wanted = [personFromHash(), prefs.person, state.people[0] && state.people[0].id];
  choosePerson(wanted.find((id) => state.people.some((p) => p.id === id)));
}

document.addEventListener("DOMContentLoaded", () => {
  $("#error-dismiss").addEventListener("click", hideError);
  $("#person-picker").addEventListener("change", (e) => choosePerson(e.target.value));
  $("#channel-picker").addEventListener("change", (e) => chooseChannel(e.target.value));
  window.addEventListener("hashchange", () => choosePerson(personFromHash()));
  document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
  wireComposer($("#dm-composer"));
  wireComposer($("#channel-composer"));
  start();
});
