// yizhan operator console: fleet board, station page, alerts, audit, map. Plain JS, no build step.
"use strict";

const I18N = {
  zh: {
    title: "驿站监测", nav_board: "站点总览", nav_alerts: "告警", nav_audit: "审计", nav_map: "地图",
    live_on: "实时", live_off: "未连接", open: "开放", closed: "关闭", dark: "失联", fault: "故障",
    all_districts: "全部区市", search: "搜索站点", id: "编号", name: "名称", district: "区市", status: "状态",
    devices: "设备在线", last_seen: "最近上报", device: "设备", type: "类型", online: "在线", faults: "故障",
    yes: "是", no: "否", usage_today: "今日使用", visits: "到访", water_l: "供水(升)", energy_kwh: "用电(千瓦时)",
    heating_sessions: "热饭", speaker_interactions: "音箱交互", timeline: "今日开放（灰：排班，蓝：报告开放，绿：核实开放）",
    alerts_open: "未关闭告警", your_name: "处理人", ack: "确认", resolve: "解决", rule: "规则", severity: "级别",
    state: "状态", fired_at: "触发时间", message: "内容", firing: "告警中", acknowledged: "已确认", resolved: "已解决",
    month: "月份", load: "查询", csv: "下载 CSV", html: "打印版", compliance: "合规率", scheduled_h: "排班(小时)",
    verified_h: "核实开放(小时)", compliant_days: "全天合规天数", chain_head: "哈希链头", none: "无",
    need_name: "请先填写处理人", back: "返回总览", token: "令牌", sign_in: "登录", sign_out: "退出",
    need_token: "此服务器需要访问令牌（由管理员用 yizhan users add 生成）。", forbidden: "您的角色无权查看此页。",
    // device types and the audit's day flags (docs/contract.md), in the words the unions use
    "type:door_sensor": "门磁", "type:water_dispenser": "饮水机", "type:power_strip": "多功能电源插座",
    "type:smart_speaker": "智能音箱", "type:gateway": "网关", "type:other": "其他设备",
    no_flags: "无异常", "flag:late_open": "迟开 {} 分钟", "flag:early_close": "早关 {} 分钟",
    "flag:not_opened": "未开放（排班 {} 分钟）", "flag:open_devices_offline": "开放但设备全部离线 {} 分钟",
    "flag:open_no_activity": "开放 {} 分钟无人到访", "flag:activity_while_closed": "关闭时有 {} 次到访",
    "flag:clock_skew": "{} 条消息时间被更正", "flag:data_gap": "数据中断 {} 分钟",
  },
  en: {
    title: "yizhan stations", nav_board: "Fleet", nav_alerts: "Alerts", nav_audit: "Audit", nav_map: "Map",
    live_on: "live", live_off: "offline", open: "open", closed: "closed", dark: "dark", fault: "fault",
    all_districts: "All districts", search: "Search stations", id: "ID", name: "Name", district: "District",
    status: "Status", devices: "Devices online", last_seen: "Last seen", device: "Device", type: "Type",
    online: "Online", faults: "Faults", yes: "yes", no: "no", usage_today: "Usage today", visits: "Visits",
    water_l: "Water (L)", energy_kwh: "Energy (kWh)", heating_sessions: "Heating", speaker_interactions: "Speaker",
    timeline: "Open today (grey: scheduled, blue: reported open, green: verified open)", alerts_open: "Open alerts",
    your_name: "Your name", ack: "Acknowledge", resolve: "Resolve", rule: "Rule", severity: "Severity",
    state: "State", fired_at: "Fired", message: "Message", firing: "firing", acknowledged: "acknowledged",
    resolved: "resolved", month: "Month", load: "Load", csv: "Download CSV", html: "Printable", compliance: "Compliance",
    scheduled_h: "Scheduled (h)", verified_h: "Verified (h)", compliant_days: "Fully compliant days",
    chain_head: "Chain head", none: "none", need_name: "Enter your name first", back: "Back to the fleet",
    token: "Token", sign_in: "Sign in", sign_out: "Sign out",
    need_token: "This server needs an access token (an admin makes one with yizhan users add).",
    forbidden: "Your role may not see this page.",
    "type:door_sensor": "door sensor", "type:water_dispenser": "water dispenser", "type:power_strip": "power strip",
    "type:smart_speaker": "smart speaker", "type:gateway": "gateway", "type:other": "other device",
    no_flags: "no flags", "flag:late_open": "opened {} min late", "flag:early_close": "closed {} min early",
    "flag:not_opened": "not opened ({} min scheduled)", "flag:open_devices_offline": "open with every device offline {} min",
    "flag:open_no_activity": "open {} min with no visit", "flag:activity_while_closed": "{} visits while closed",
    "flag:clock_skew": "{} messages re-timed", "flag:data_gap": "no data for {} min",
  },
};
let lang = localStorage.getItem("yz-lang") || "zh";
const t = (key) => I18N[lang][key] ?? key;
// a value the API returns (a device type, a flag): its words in this language, else the value itself
const word = (kind, value) => I18N[lang][`${kind}:${value}`] ?? value;
const flagWords = (flags) => Object.entries(flags || {}).map(([k, v]) => word("flag", k).replace("{}", v)).join(lang === "zh" ? "，" : ", ")
  || t("no_flags");
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const view = document.getElementById("view");

// API tokens (when the server has users): kept in this browser, sent as a bearer header
const token = () => localStorage.getItem("yz-token") || "";

function authorized(options = {}) {
  const headers = new Headers(options.headers || {});
  if (token()) headers.set("Authorization", `Bearer ${token()}`);
  return { ...options, headers };
}

class AuthError extends Error {}

async function api(path, options) {
  const resp = await fetch(path, authorized(options));
  if (resp.status === 401 || resp.status === 403) throw new AuthError(String(resp.status));
  if (!resp.ok) throw new Error(`${resp.status} ${await resp.text()}`);
  return resp.json();
}

function signIn(status) {
  view.innerHTML = `<form id="signin"><p>${t(status === "403" ? "forbidden" : "need_token")}</p>
    <label>${t("token")} <input id="token" type="password" autocomplete="off" size="50"></label>
    <button type="submit">${t("sign_in")}</button></form>`;
  document.getElementById("signin").onsubmit = (e) => {
    e.preventDefault();
    localStorage.setItem("yz-token", document.getElementById("token").value.trim());
    route();
    live();
  };
}

// report downloads carry the token too: fetched, then handed to the browser as a file
async function download(link) {
  const resp = await fetch(link.getAttribute("href"), authorized());
  if (!resp.ok) throw new Error(`${resp.status} ${await resp.text()}`);
  const url = URL.createObjectURL(await resp.blob());
  if (link.target === "_blank") window.open(url, "_blank");
  else Object.assign(document.createElement("a"), { href: url, download: link.dataset.file || "" }).click();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function statusOf(s) {
  if (s.faults > 0) return "fault";
  if (s.reported_open && !s.open) return "dark";
  return s.open ? "open" : "closed";
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB") : "—";
}

// --- fleet board -------------------------------------------------------------------------

const board = { district: "", search: "" };

async function renderBoard() {
  const stations = await api("/api/v1/stations");
  const districts = [...new Set(stations.map((s) => s.district))].sort();
  const shown = stations.filter((s) => (!board.district || s.district === board.district)
    && (!board.search || (s.id + s.name).includes(board.search)));
  const counts = { open: 0, closed: 0, dark: 0, fault: 0 };
  shown.forEach((s) => counts[statusOf(s)]++);
  view.innerHTML = `
    <div class="counts">${Object.entries(counts).map(([k, n]) =>
      `<div class="count" id="count-${k}"><b>${n}</b>${t(k)}</div>`).join("")}</div>
    <div class="filters">
      <select id="district"><option value="">${t("all_districts")}</option>${districts.map((d) =>
        `<option ${d === board.district ? "selected" : ""}>${esc(d)}</option>`).join("")}</select>
      <input id="search" placeholder="${t("search")}" value="${esc(board.search)}">
    </div>
    <table id="stations"><thead><tr><th>${t("id")}</th><th>${t("name")}</th><th>${t("district")}</th>
      <th>${t("status")}</th><th>${t("devices")}</th><th>${t("last_seen")}</th></tr></thead><tbody>
    ${shown.map((s) => `<tr class="link" data-id="${esc(s.id)}"><td>${esc(s.id)}</td><td>${esc(s.name)}</td>
      <td>${esc(s.district)}</td><td><span class="badge s-${statusOf(s)}">${t(statusOf(s))}</span></td>
      <td>${s.devices_online}/${s.devices_total}</td><td>${when(s.last_seen)}</td></tr>`).join("")}
    </tbody></table>`;
  document.getElementById("district").onchange = (e) => { board.district = e.target.value; renderBoard(); };
  document.getElementById("search").onchange = (e) => { board.search = e.target.value; renderBoard(); };
  view.querySelectorAll("tr.link").forEach((tr) => { tr.onclick = () => { location.hash = `#/station/${tr.dataset.id}`; }; });
}

// --- station page ----------------------------------------------------------------------------

async function renderStation(id) {
  const [s, usage, opening] = await Promise.all([
    api(`/api/v1/stations/${id}`),
    api(`/api/v1/stations/${id}/usage`).catch(() => null),
    api(`/api/v1/stations/${id}/opening`).catch(() => null),
  ]);
  const day = opening && opening.days[0];
  view.innerHTML = `
    <p><a href="#/">← ${t("back")}</a></p>
    <h2>${esc(s.name)} <span class="muted">${esc(s.id)} · ${esc(s.district)}</span>
      <span class="badge s-${statusOf(s)}">${t(statusOf(s))}</span></h2>
    <table id="devices"><thead><tr><th>${t("device")}</th><th>${t("type")}</th><th>${t("online")}</th>
      <th>${t("last_seen")}</th><th>${t("faults")}</th></tr></thead><tbody>
    ${s.devices.map((d) => `<tr><td>${esc(d.id)}</td><td>${esc(word("type", d.type))}</td><td>${d.online ? t("yes") : t("no")}</td>
      <td>${when(d.last_seen)}</td><td class="${d.faults.length ? "error" : ""}">${esc(d.faults.join(", ") || "—")}</td></tr>`).join("")}
    </tbody></table>
    <h3>${t("usage_today")}</h3>
    ${usage ? `<table id="usage"><tr>${["visits", "water_l", "energy_kwh", "heating_sessions", "speaker_interactions"]
      .map((k) => `<th>${t(k)}</th>`).join("")}</tr><tr>${["visits", "water_l", "energy_kwh", "heating_sessions",
      "speaker_interactions"].map((k) => `<td>${usage[k]}</td>`).join("")}</tr></table>` : `<p class="muted">—</p>`}
    <h3>${t("timeline")}</h3>
    ${day && day.timeline ? timeline(day) : `<p class="muted">—</p>`}`;
}

function timeline(day) {
  const [lo, hi] = day.timeline.day[0], width = hi - lo;  // the station's local day
  const x = (ms) => Math.max(0, Math.min(960, ((ms - lo) / width) * 960));
  const bars = ["scheduled", "reported", "verified"].map((kind, i) => day.timeline[kind].map(([a, b]) =>
    `<rect class="${kind}" x="${x(a)}" y="${i * 18}" width="${Math.max(1, x(b) - x(a))}" height="14"><title>${kind}</title></rect>`).join("")).join("");
  // the first label starts at 0:00, the last ends at 24:00, the others are centred on their hour
  const anchor = (h) => (h === 0 ? "start" : h === 24 ? "end" : "middle");
  const ticks = [0, 6, 12, 18, 24].map((h) =>
    `<text x="${h * 40}" y="68" font-size="10" text-anchor="${anchor(h)}">${h}:00</text>`).join("");
  return `<svg class="timeline" width="980" height="74" viewBox="0 0 980 74">${bars}${ticks}</svg>
    <p>${t("compliance")}: ${(day.compliance * 100).toFixed(1)}% · ${esc(flagWords(day.flags))}</p>`;
}

// --- alerts ------------------------------------------------------------------------------------

async function renderAlerts() {
  const alerts = await api("/api/v1/alerts?state=open");
  view.innerHTML = `
    <h2>${t("alerts_open")} (${alerts.length})</h2>
    <p><label>${t("your_name")}: <input id="who" value="${esc(localStorage.getItem("yz-who") || "")}"></label>
      <span id="alert-error" class="error"></span></p>
    <table id="alerts"><thead><tr><th>#</th><th>${t("state")}</th><th>${t("severity")}</th><th>${t("rule")}</th>
      <th>${t("message")}</th><th>${t("fired_at")}</th><th></th></tr></thead><tbody>
    ${alerts.map((a) => `<tr data-id="${a.id}" data-state="${a.state}"><td>${a.id}</td><td>${t(a.state)}</td>
      <td class="sev-${esc(a.severity)}">${esc(a.severity)}</td><td>${esc(a.rule)}</td>
      <td>${esc(a.message[lang === "zh" ? "zh" : "en"])}</td><td>${when(a.fired_at)}</td>
      <td>${a.state === "firing" ? `<button class="ack" data-id="${a.id}">${t("ack")}</button>` : ""}
        <button class="resolve" data-id="${a.id}">${t("resolve")}</button></td></tr>`).join("")}
    </tbody></table>`;
  document.getElementById("who").onchange = (e) => localStorage.setItem("yz-who", e.target.value);
  const act = async (id, action) => {
    const by = document.getElementById("who").value.trim();
    if (!by) { document.getElementById("alert-error").textContent = t("need_name"); return; }
    localStorage.setItem("yz-who", by);
    await api(`/api/v1/alerts/${id}/${action}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ by }),
    }).catch((e) => { document.getElementById("alert-error").textContent = e.message; });
    renderAlerts();
  };
  view.querySelectorAll("button.ack").forEach((b) => { b.onclick = () => act(b.dataset.id, "ack"); });
  view.querySelectorAll("button.resolve").forEach((b) => { b.onclick = () => act(b.dataset.id, "resolve"); });
}

// --- audit -------------------------------------------------------------------------------------

async function renderAudit() {
  const month = sessionStorage.getItem("yz-month") || new Date().toISOString().slice(0, 7);
  view.innerHTML = `
    <p><label>${t("month")} <input id="month" type="month" value="${month}"></label>
      <button id="load">${t("load")}</button>
      <a id="csv" class="file" data-file="audit-${month}.csv"
        href="/api/v1/reports/audit?month=${month}&format=csv">${t("csv")}</a> ·
      <a class="file" href="/api/v1/reports/audit?month=${month}&format=html" target="_blank">${t("html")}</a></p>
    <div id="report" class="muted">…</div>`;
  view.querySelectorAll("a.file").forEach((a) => {
    a.onclick = (e) => {
      if (!token()) return; // an open server: plain links
      e.preventDefault();
      download(a).catch((err) => alert(err.message));
    };
  });
  document.getElementById("load").onclick = () => {
    sessionStorage.setItem("yz-month", document.getElementById("month").value);
    renderAudit();
  };
  const r = await api(`/api/v1/reports/audit?month=${month}`);
  document.getElementById("report").outerHTML = `
    <table id="report"><thead><tr><th>${t("district")}</th><th>${t("id")}</th><th>${t("name")}</th>
      <th>${t("scheduled_h")}</th><th>${t("verified_h")}</th><th>${t("compliance")}</th><th>${t("compliant_days")}</th>
      <th>${t("visits")}</th><th>${t("water_l")}</th><th>${t("faults")}</th></tr></thead><tbody>
    ${r.stations.map((s) => `<tr><td>${esc(s.district)}</td><td>${esc(s.station)}</td><td>${esc(s.name)}</td>
      <td>${(s.scheduled_s / 3600).toFixed(1)}</td><td>${(s.verified_open_s / 3600).toFixed(1)}</td>
      <td>${(s.compliance * 100).toFixed(1)}%</td><td>${s.compliant_days}/${s.scheduled_days}</td><td>${s.visits}</td>
      <td>${s.water_l}</td><td>${s.faults}</td></tr>`).join("") || `<tr><td colspan="10">${t("none")}</td></tr>`}
    </tbody></table>
    <p class="muted">${t("chain_head")}: #${r.chain_head.seq} <code>${esc(r.chain_head.hash)}</code></p>`;
}

// --- map (drawn locally: no map tiles) -----------------------------------------------------------

async function renderMap() {
  const stations = (await api("/api/v1/stations")).filter((s) => s.lat != null && s.lon != null);
  const lats = stations.map((s) => s.lat), lons = stations.map((s) => s.lon);
  const [la0, la1, lo0, lo1] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  const W = 900, H = 600, pad = 20;
  const x = (lon) => pad + ((lon - lo0) / ((lo1 - lo0) || 1)) * (W - 2 * pad);
  const y = (lat) => H - pad - ((lat - la0) / ((la1 - la0) || 1)) * (H - 2 * pad);
  const colour = { open: "#2e7d32", closed: "#757575", dark: "#212121", fault: "#c62828" };
  view.innerHTML = `<svg class="map" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" style="background:#fff">
    ${stations.map((s) => `<circle cx="${x(s.lon)}" cy="${y(s.lat)}" r="6" fill="${colour[statusOf(s)]}">
      <title>${esc(s.name)} (${esc(s.id)}): ${t(statusOf(s))}</title></circle>`).join("")}</svg>
    <p>${Object.entries(colour).map(([k, c]) => `<span style="color:${c}">●</span> ${t(k)}`).join(" · ")}</p>`;
}

// --- routing, language, live updates ---------------------------------------------------------------

function route() {
  const hash = location.hash || "#/";
  document.querySelectorAll("header nav a").forEach((a) => a.classList.toggle("active", a.getAttribute("href") === hash));
  const station = hash.match(/^#\/station\/([a-z0-9_-]+)$/);
  const render = station ? () => renderStation(station[1])
    : hash === "#/alerts" ? renderAlerts : hash === "#/audit" ? renderAudit : hash === "#/map" ? renderMap : renderBoard;
  render().catch((e) => {
    if (e instanceof AuthError) signIn(e.message);
    else view.innerHTML = `<p class="error">${esc(e.message)}</p>`;
  });
}

function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  document.getElementById("lang").textContent = lang === "zh" ? "English" : "中文";
  const dot = document.getElementById("live");
  dot.textContent = t(dot.classList.contains("on") ? "live_on" : "live_off");
  document.title = `${t("title")} · yizhan`;
}

document.getElementById("lang").onclick = () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("yz-lang", lang);
  applyLanguage();
  route();
};

// the alert stream, read with fetch (EventSource cannot send a token); reconnects on its own
let streaming = null;

async function live() {
  if (streaming) streaming.abort();
  const abort = (streaming = new AbortController());
  const dot = document.getElementById("live");
  const state = (on) => { dot.classList.toggle("on", on); dot.textContent = t(on ? "live_on" : "live_off"); };
  while (!abort.signal.aborted) {
    try {
      const resp = await fetch("/api/v1/alerts/stream", authorized({ signal: abort.signal }));
      if (!resp.ok) { state(false); return; } // 401/403: signIn() restarts it
      state(true);
      const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        const events = buffer.split(/\r?\n\r?\n/);
        buffer = events.pop();
        // every alert transition (a fault, a device going dark, an acknowledgement) redraws the page
        if (events.some((e) => /^event: ?alert$/m.test(e)) && !location.hash.startsWith("#/audit")) route();
      }
    } catch (e) {
      if (abort.signal.aborted) return;
    }
    state(false);
    await new Promise((r) => setTimeout(r, 3000));
  }
}

window.addEventListener("hashchange", route);
applyLanguage();
route();
live();
setInterval(() => { if (!location.hash.startsWith("#/audit") && !location.hash.startsWith("#/alerts")) route(); }, 15000);
