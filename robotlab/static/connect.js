// RobotLab Connect panel (anywidget ES module; no build step, no CDN).
//
// The robot is next to the pupil, the kernel on the server: this panel connects the two
// through the browser (docs/relay.md). A click on Forbind/Connect asks Chrome for the robot
// (Web Bluetooth needs the click), connects GATT, finds the robot's service (the Nordic UART
// Service of a RobotLab robot, or the LEGO Hub Service of a LEGO hub), opens the relay's
// WebSocket on the Jupyter server and pairs with the kernel. Then it relays: notifications go
// to the kernel as binary messages, binary messages from the kernel are written to the robot
// one at a time, in order. Stop writes the robot's stop straight to it: STOP_ALL for a RobotLab
// robot, StartPower(0) per motor for a LEGO hub (the frames the kernel sends).

const NUS = "6e400001-b5a3-f393-e0a9-e50e24dcca9e";
// LEGO Wireless Protocol 3.0: one service, one characteristic for both directions.
const LWP3 = "00001623-1212-efde-1623-785feabcd123";
const LWP3_CHARACTERISTIC = "00001624-1212-efde-1623-785feabcd123";
const LWP3_ATTACHED_IO = 0x04;      // Hub Attached I/O message type
const LWP3_DETACHED = 0x00;
const BATTERY_SERVICE = "battery_service";
const BATTERY_LEVEL = "battery_level";
const NAME_PREFIX = "RobotLab";
// MakeCode firmware advertises "BBC micro:bit [zatug]" and no service UUID (docs/protocol.md).
const MICROBIT_NAME_PREFIX = "BBC micro:bit [";
const RECONNECT_FOR_MS = 10000;     // docs/relay.md: GATT is tried again for 10 s after a drop
const RECONNECT_PAUSE_MS = 250;
const REFUSED_CLOSE_CODE = 4403;
const RESUME_KEY = "robotlab-relay-resume:";
// Every link of this page. anywidget loads this module once per panel, so module-level state
// is not shared between the panels of a page; this is.
const PAGE_LINKS = globalThis.__robotlabConnectLinks ||
  (globalThis.__robotlabConnectLinks = new Set());

// -- small helpers ---------------------------------------------------------------------------

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function pageConfig() {
  const el = document.getElementById("jupyter-config-data");
  if (!el) return {};
  try { return JSON.parse(el.textContent) || {}; } catch (e) { return {}; }
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? values[key] : whole));
}

function fromHex(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(2 * i, 2), 16);
  return bytes;
}

function asBytes(value) {
  if (value instanceof DataView) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return new Uint8Array(value);
}

// Chrome's chooser lists what matches any filter: the kinds of robot the kernel asked for.
export function deviceFilters(kinds) {
  const filters = [];
  if (kinds.includes("robotlab")) {
    filters.push({ namePrefix: NAME_PREFIX }, { namePrefix: MICROBIT_NAME_PREFIX }, { services: [NUS] });
  }
  if (kinds.includes("lego")) filters.push({ services: [LWP3] });
  return filters;
}

// A LEGO hub's Hub Attached I/O report: [port, event], else null (LWP3 3.1 and 3.8).
function attachedIo(bytes) {
  const header = bytes.length > 0 && bytes[0] & 0x80 ? 2 : 1;
  if (bytes.length < header + 4 || bytes[header + 1] !== LWP3_ATTACHED_IO) return null;
  return [bytes[header + 2], bytes[header + 3]];
}

function withTimeout(promise, ms) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new DOMException("timed out", "TimeoutError")), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The relay's address: this page's own server and the Jupyter base URL (as view.js finds it).
export function relayUrl(kernelId, config = pageConfig(), location = window.location) {
  const base = config.baseUrl || "/";
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  let url = scheme + "//" + location.host + base + "robotlab/relay/" + encodeURIComponent(kernelId);
  if (config.token) url += "?token=" + encodeURIComponent(config.token);
  return url;
}

// Which pupil message a failed requestDevice() or getAvailability() means (Chrome's errors).
export function classifyError(error) {
  const name = (error && error.name) || "";
  const text = ((error && error.message) || "").toLowerCase();
  if (name === "SecurityError" || name === "NotAllowedError") return "blocked";
  if (name === "NotFoundError") {
    if (text.includes("cancel")) return "cancelled";
    if (text.includes("adapter not available") || text.includes("low energy not available")) {
      return "bluetooth_off";
    }
    // "Web Bluetooth API globally disabled.", "User or their enterprise policy has disabled
    // Web Bluetooth.", "User denied the browser permission to scan ..."
    if (text.includes("disabled") || text.includes("denied") || text.includes("policy")) {
      return "blocked";
    }
    return "cancelled";
  }
  return "failed";
}

// The NUS characteristics by their properties, not their UUIDs: a micro:bit has the two UUIDs
// the other way round (ble_bridge/gatt.py).
async function uartRoles(service) {
  const characteristics = await service.getCharacteristics();
  let rx = null, tx = null;
  for (const c of characteristics) {
    const p = c.properties;
    const canWrite = p.write || p.writeWithoutResponse;
    const canReceive = p.notify || p.indicate;
    if (canWrite && !canReceive) rx = c;
    else if (canReceive && !canWrite) tx = c;
  }
  if (!rx || !tx) throw new Error("the robot's UART service has no RX/TX pair");
  return { rx, tx };
}

// -- the link: one robot, one WebSocket, for one model -----------------------------------------

class Link {
  constructor(model) {
    this.model = model;
    this.views = new Set();
    this.state = "idle";            // idle | connecting | connected | reconnecting | lost
    this.kernelStatus = "";         // ready | moving | lost, from the kernel
    this.message = null;            // [key, values] of the message shown under the buttons
    this.device = null;
    this.service = null;            // NUS or LWP3: how the robot is held
    this.rx = null;
    this.tx = null;
    this.battery = null;
    this.hubStop = [];              // a LEGO hub's stop frames, from the kernel
    this.attached = new Map();      // a LEGO hub's attached-device reports: port -> bytes
    this.ws = null;
    this.paired = false;
    this.closing = false;           // we drop GATT on purpose: no reconnecting
    this.queue = [];                // bytes for RX, written one at a time
    this.draining = null;           // RX while GATT is let go: the queued stop still goes out
    this.writing = false;
    this.onValue = (event) => this.fromRobot(event.target.value);
    this.onBattery = (event) => { this.battery = event.target.value.getUint8(0); this.show(); };
    this.onGattLost = () => this.gattLost();
    PAGE_LINKS.add(this);
  }

  label(key) { return (this.model.get("labels") || {})[key] || key; }

  show() { for (const view of this.views) view.update(); }

  say(key, values = {}) { this.message = key ? [key, values] : null; this.show(); }

  setState(state) { this.state = state; this.show(); }

  // -- the click ---------------------------------------------------------------------------

  async connect() {
    if (this.state === "connecting" || this.state === "connected") return;
    const bluetooth = navigator.bluetooth;
    if (!bluetooth) { this.say("no_web_bluetooth"); return; }
    this.say(null);
    this.setState("connecting");
    let device;
    try {
      // Straight from the click: Chrome shows its chooser only during a user gesture.
      device = await bluetooth.requestDevice({
        filters: deviceFilters(this.model.get("kinds") || ["robotlab"]),
        optionalServices: [NUS, BATTERY_SERVICE, LWP3],
      });
    } catch (error) {
      this.setState("idle");
      const kind = classifyError(error);
      this.say(kind, { error: error.message || String(error) });
      return;
    }
    if (this.device && this.device !== device) this.forgetDevice();
    this.device = device;
    device.addEventListener("gattserverdisconnected", this.onGattLost);
    this.closing = false;
    try {
      await this.openGatt();
    } catch (error) {
      this.dropGatt();
      this.setState("idle");
      this.say("failed", { error: error.message || String(error) });
      return;
    }
    this.pair(this.tokens());
  }

  forgetDevice() {
    if (!this.device) return;
    this.device.removeEventListener("gattserverdisconnected", this.onGattLost);
    this.device = null;
  }

  async openGatt() {
    const server = await this.device.gatt.connect();
    let service = NUS, rx, tx;
    try {
      ({ rx, tx } = await uartRoles(await server.getPrimaryService(NUS)));
    } catch (error) {
      // No UART: a LEGO hub has one characteristic, written and notifying.
      let hub;
      try { hub = await server.getPrimaryService(LWP3); } catch (e) { throw error; }
      service = LWP3;
      rx = tx = await hub.getCharacteristic(LWP3_CHARACTERISTIC);
    }
    if (this.tx) this.tx.removeEventListener("characteristicvaluechanged", this.onValue);
    this.service = service;
    this.rx = rx;
    this.tx = tx;
    this.attached = new Map();
    tx.addEventListener("characteristicvaluechanged", this.onValue);
    await tx.startNotifications();
    this.queue = [];
    this.writing = false;
    // A LEGO hub's battery comes from the hub's own property, which the kernel reads.
    if (service === NUS) await this.readBattery(server);
    else this.show();
  }

  // What Stop writes: STOP_ALL for a RobotLab robot, StartPower(0) per motor for a LEGO hub.
  stopFrames() {
    if (this.service === LWP3) return this.hubStop.slice();
    return [fromHex(this.model.get("stop_frame"))];
  }

  robotName() {
    return this.device.name || (this.service === LWP3 ? "LEGO Hub" : "");
  }

  async readBattery(server) {
    try {
      const service = await server.getPrimaryService(BATTERY_SERVICE);
      const level = await service.getCharacteristic(BATTERY_LEVEL);
      this.battery = (await level.readValue()).getUint8(0);
      if (level.properties.notify) {
        level.addEventListener("characteristicvaluechanged", this.onBattery);
        await level.startNotifications();
      }
    } catch (error) {
      this.battery = null;          // no Battery Service: shown as "–"
    }
    this.show();
  }

  // -- pairing -------------------------------------------------------------------------------

  resumeKey() { return RESUME_KEY + this.model.get("kernel_id"); }

  // The resume token of an earlier pairing in this tab first (a reloaded tab, a re-rendered
  // panel), then this panel's own one-time token.
  tokens() {
    const tokens = [];
    let resume = null;
    try { resume = sessionStorage.getItem(this.resumeKey()); } catch (e) { /* no storage */ }
    if (resume) tokens.push(resume);
    const own = this.model.get("token");
    if (own && own !== resume) tokens.push(own);
    return tokens;
  }

  pair(tokens) {
    if (!tokens.length) { this.refused("token"); return; }
    const [token, ...rest] = tokens;
    let ws;
    try {
      ws = new WebSocket(relayUrl(this.model.get("kernel_id")));
    } catch (error) {
      this.noRelay();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.paired = false;
    let refusal = null;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      ws.send(JSON.stringify({ type: "pair", token,
                               device: { name: this.robotName(), service: this.service } }));
    };
    ws.onmessage = (event) => {
      if (this.ws !== ws) return;
      if (typeof event.data !== "string") { this.toRobot(asBytes(event.data)); return; }
      let message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "paired") {
        this.paired = true;
        try { sessionStorage.setItem(this.resumeKey(), message.resume); } catch (e) { /* no storage */ }
        this.pairedName = message.robot || this.robotName();
        this.say(null);
        this.setState("connected");
      } else if (message.type === "refused") {
        refusal = message.reason || "token";
        if (refusal === "token" && token === this.storedResume()) {
          try { sessionStorage.removeItem(this.resumeKey()); } catch (e) { /* no storage */ }
        }
      } else if (message.type === "status") {
        this.kernelStatus = message.state;
        this.show();
      } else if (message.type === "disconnect") {
        this.closedByCode();
      } else if (message.type === "battery") {
        this.battery = message.percent;
        this.show();
      } else if (message.type === "stop" && Array.isArray(message.frames)) {
        this.hubStop = message.frames.map(fromHex);
      } else if (message.type === "resend_attached") {
        // The hub reported its devices when the panel switched notifications on, before the
        // kernel listened; it does not report them again.
        for (const bytes of this.attached.values()) this.send(bytes.slice().buffer);
        this.send(JSON.stringify({ type: "resent" }));
      }
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const wasPaired = this.paired;
      this.paired = false;
      if (refusal || event.code === REFUSED_CLOSE_CODE) {
        if ((refusal || "token") === "token" && rest.length) { this.pair(rest); return; }
        this.refused(refusal || "token");
      } else if (!opened) {
        this.noRelay();
      } else if (wasPaired || this.state === "connecting") {
        this.kernelGone();
      }
    };
  }

  storedResume() {
    try { return sessionStorage.getItem(this.resumeKey()); } catch (e) { return null; }
  }

  refused(reason) {
    this.dropGatt();
    this.setState("idle");
    this.say(reason === "busy" ? "busy" : "refused");
  }

  noRelay() {
    this.dropGatt();
    this.setState("idle");
    this.say("no_relay");
  }

  // The kernel died (or the server went away): nobody drives the robot any more.
  kernelGone() {
    this.writeNow(...this.stopFrames());
    this.dropGatt();
    this.setState("idle");
    this.say("kernel_gone");
  }

  closedByCode() {
    this.dropGatt();
    this.closeSocket();
    this.setState("idle");
    this.say("closed");
  }

  closeSocket() {
    const ws = this.ws;
    this.ws = null;
    this.paired = false;
    if (ws) ws.close(1000);
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(message);
    }
  }

  // -- bytes both ways -------------------------------------------------------------------------

  fromRobot(value) {
    const bytes = asBytes(value);
    if (this.service === LWP3) {
      const report = attachedIo(bytes);
      if (report && report[1] === LWP3_DETACHED) this.attached.delete(report[0]);
      else if (report) this.attached.set(report[0], bytes.slice());
    }
    if (!this.paired) return;
    this.send(bytes.slice().buffer);
  }

  toRobot(bytes) {
    this.queue.push(bytes);
    this.pump();
  }

  // One write at a time, in order: Chrome refuses a GATT operation while one is in progress.
  async pump() {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length) {
        const bytes = this.queue.shift();
        // While GATT is let go, what was queued (the stop) still goes to the robot.
        const rx = this.rx || this.draining;
        if (!rx || !this.device || !this.device.gatt.connected) { this.queue = []; break; }
        try {
          if (rx.properties.writeWithoutResponse) await rx.writeValueWithoutResponse(bytes);
          else await rx.writeValueWithResponse(bytes);
        } catch (error) {
          // The link went down: the kernel sends again what it still needs once it is back.
          this.queue = [];
        }
      }
    } finally {
      this.writing = false;
    }
  }

  // The stop ahead of anything queued; queued moves must not run after it.
  writeNow(...frames) {
    this.queue = frames;
    this.pump();
  }

  stop() {
    this.writeNow(...this.stopFrames());
    this.send(JSON.stringify({ type: "stopped" }));
    this.say("stopped");
  }

  // -- a dropped link ----------------------------------------------------------------------------

  async gattLost() {
    if (this.closing || this.state === "reconnecting") return;
    if (this.state !== "connected") return;
    this.send(JSON.stringify({ type: "gatt", state: "disconnected" }));
    this.setState("reconnecting");
    const deadline = performance.now() + RECONNECT_FOR_MS;
    while (!this.closing && this.device && performance.now() < deadline) {
      try {
        await withTimeout(this.openGatt(), Math.max(1, deadline - performance.now()));
        if (this.closing) return;
        // A LEGO hub has no watchdog: a move it was given runs on while the link is down. The
        // kernel has been told the link broke and ended the pupil's call: stop the motors.
        if (this.service === LWP3) this.writeNow(...this.stopFrames());
        this.send(JSON.stringify({ type: "gatt", state: "connected" }));
        this.setState(this.ws ? "connected" : "idle");
        return;
      } catch (error) {
        if (this.device && this.device.gatt.connected) this.device.gatt.disconnect();
        await pause(RECONNECT_PAUSE_MS);
      }
    }
    if (this.closing) return;
    this.closeSocket();
    this.setState("lost");
    this.say("gatt_gone");
  }

  // Another panel of this page that holds the same robot (Chrome gives both the same device
  // object and one GATT link): a refused second panel must not cut the first one's link.
  deviceShared() {
    for (const other of PAGE_LINKS) {
      if (other !== this && other.device === this.device && !other.closing && other.rx) return true;
    }
    return false;
  }

  dropGatt() {
    this.closing = true;
    if (this.tx) this.tx.removeEventListener("characteristicvaluechanged", this.onValue);
    if (this.device && this.device.gatt.connected && !this.deviceShared()) {
      // Let the stop that may be queued (every frame of it) reach the robot first.
      const device = this.device;
      this.draining = this.draining || this.rx;
      const flush = this.writing ? this.pumpDone() : Promise.resolve();
      flush.finally(() => {
        this.draining = null;
        if (device.gatt.connected) device.gatt.disconnect();
      });
    }
    // The service stays known (until the next openGatt): a Stop pressed while the stop
    // drains queues the same robot's frames again.
    this.rx = this.tx = null;
    this.battery = null;
  }

  pumpDone() {
    return new Promise((resolve) => {
      const check = () => (this.writing ? setTimeout(check, 5) : resolve());
      check();
    });
  }
}

const links = new Map();            // model id -> Link (every copy of one panel shares it)

function linkFor(model) {
  const key = model.model_id || model.get("token");
  let link = links.get(key);
  if (!link) {
    link = new Link(model);
    links.set(key, link);
  }
  return link;
}

// -- the panel on screen -------------------------------------------------------------------

class Panel {
  constructor(link, el) {
    this.link = link;
    this.root = element("div", "robotlab-connect");
    this.title = element("div", "robotlab-connect-title");
    const bar = element("div", "robotlab-connect-bar");
    this.button = element("button", "robotlab-connect-button");
    this.button.addEventListener("click", () => link.connect());
    this.stopButton = element("button", "robotlab-connect-stop");
    this.stopButton.addEventListener("click", () => link.stop());
    this.robot = element("span", "robotlab-connect-robot");
    this.battery = element("span", "robotlab-connect-battery");
    this.state = element("span", "robotlab-connect-state");
    bar.append(this.button, this.stopButton, this.robot, this.battery, this.state);
    this.message = element("div", "robotlab-connect-message");
    this.message.setAttribute("role", "status");
    this.root.append(this.title, bar, this.message);
    el.appendChild(this.root);
    this.update();
  }

  update() {
    const link = this.link;
    const label = (key) => link.label(key);
    const wanted = link.model.get("wanted");
    const state = link.state;
    this.root.dataset.state = state;
    this.root.dataset.kernel = link.kernelStatus;
    this.title.textContent = label("title");
    this.button.textContent = label("button");
    this.button.disabled = !navigator.bluetooth || state === "connecting" ||
      state === "connected" || state === "reconnecting";
    this.stopButton.textContent = "■ " + label("stop");
    // Once a robot is connected, Stop stays on screen, whatever happens to the link.
    this.stopButton.hidden = !link.device;
    const name = link.pairedName || (link.device && link.device.name) || "";
    this.robot.textContent = name ? label("robot") + ": " + name : "";
    this.robot.hidden = !name;
    const level = link.battery;
    this.battery.textContent = label("battery") + ": " + (level === null ? "–" : level + " %");
    this.battery.hidden = !link.device;
    let stateText = label("state_" + state);
    if (state === "connected" && link.kernelStatus === "moving") stateText += " · " + label("moving");
    this.state.textContent = stateText;
    let shown = link.message;
    if (!shown && state === "idle") shown = wanted ? ["hint_named", { name: wanted }] : ["hint", {}];
    if (!navigator.bluetooth) shown = ["no_web_bluetooth", {}];
    this.message.textContent = shown ? fill(label(shown[0]), shown[1]) : "";
    this.message.dataset.key = shown ? shown[0] : "";
    this.message.classList.toggle("robotlab-connect-problem", !!shown &&
      !["hint", "hint_named", "stopped"].includes(shown[0]));
  }
}

export default {
  render({ model, el }) {
    const link = linkFor(model);
    const panel = new Panel(link, el);
    link.views.add(panel);
    const update = () => panel.update();
    const names = ["change:labels", "change:wanted", "change:token", "change:kinds"];
    for (const name of names) model.on(name, update);
    // A policy that blocks Web Bluetooth shows before the click, where Chrome tells.
    if (navigator.bluetooth && navigator.bluetooth.getAvailability && link.state === "idle") {
      navigator.bluetooth.getAvailability().then(
        (available) => { if (!available && !link.message) link.say("bluetooth_off"); },
        (error) => link.say(classifyError(error) === "blocked" ? "blocked" : "bluetooth_off"));
    }
    return () => {
      for (const name of names) model.off(name, update);
      link.views.delete(panel);
    };
  },
};
