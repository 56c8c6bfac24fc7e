// RobotLab live simulator view (anywidget ES module; no build step, no CDN).
//
// The kernel sends the arena once (model traits) and then binary batches of
// frames (custom messages, one Float32Array buffer; layout in robotlab/view.py).
// Frames are played back at the times the kernel took them, DELAY_MS late, so a
// batch of three frames sent every 100 ms still draws as 30 smooth frames/s.
// State lives per model, so a re-rendered output (or a second view made with
// robot.show()) draws the same robots and trails at once.

const FORMAT = 2;
const DELAY_MS = 350;           // the kernel sends a batch every 250 ms
const MAX_QUEUE = 240;          // frames; beyond this, catch up at once
const FLAG_BUMPED = 1;
const FLAG_MOVING = 2;
const FLAG_TRAIL_REPLACE = 4;
const FLAG_TRAIL_HERE = 8;
const SPEEDS = ["1", "2", "5", "max"];

const states = new Map();       // view_id -> shared state of one world

function stateFor(model) {
  const id = model.get("view_id");
  let s = states.get(id);
  if (!s) {
    s = { queue: [], robots: [], trails: [], t: 0, framesDrawn: 0, views: new Set(), beeps: 0,
          muted: false,
          minLatency: Infinity, running: false, floor: null, floorReady: false };
    states.set(id, s);
  }
  return s;
}

function toDataView(buffer) {
  // Buffers arrive as DataView (ipywidgets) or ArrayBuffer.
  if (buffer instanceof DataView) return buffer;
  if (ArrayBuffer.isView(buffer)) return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  return new DataView(buffer);
}

// Layout (little-endian) as written by robotlab/view.py; see docs/architecture.md.
export function parseBatch(view) {
  let o = 0;
  const u8 = () => view.getUint8(o++);
  const i8 = () => view.getInt8(o++);
  const i16 = () => { const v = view.getInt16(o, true); o += 2; return v; };
  const u16 = () => { const v = view.getUint16(o, true); o += 2; return v; };
  const u32 = () => { const v = view.getUint32(o, true); o += 4; return v; };
  const f32 = () => { const v = view.getFloat32(o, true); o += 4; return v; };
  if (u8() !== FORMAT) return [];
  const count = u8();
  const frames = [];
  for (let k = 0; k < count; k++) {
    const frame = { wall: u32(), t: f32(), robots: [] };
    const robots = u8();
    for (let r = 0; r < robots; r++) {
      const robot = {
        x: i16() / 10, y: i16() / 10, theta: i16() / 10000, distance: u16() / 10,
        reflLeft: u8(), reflRight: u8(), odometer: f32(), heading: f32(),
        led: [u8(), u8(), u8()], colour: i8(), flags: u8(),
      };
      const points = u16();
      robot.trail = [];
      for (let p = 0; p < points; p++) robot.trail.push(i16() / 10, i16() / 10);
      if (robot.flags & FLAG_TRAIL_HERE) robot.trail.push(robot.x, robot.y);
      const beeps = u8();
      robot.beeps = [];
      for (let b = 0; b < beeps; b++) robot.beeps.push([u16(), u16() / 1000]);
      frame.robots.push(robot);
    }
    frames.push(frame);
  }
  return frames;
}

// Beeps play in the page (Web Audio), as a real robot's buzzer would, unless muted.
function beep(s, hz, seconds) {
  if (s.muted || !(window.AudioContext || window.webkitAudioContext)) return;
  try {
    s.audio = s.audio || new (window.AudioContext || window.webkitAudioContext)();
    if (s.audio.state === "suspended") s.audio.resume();
    const oscillator = s.audio.createOscillator();
    const gain = s.audio.createGain();
    oscillator.type = "square";
    oscillator.frequency.value = hz;
    gain.gain.value = 0.05;
    oscillator.connect(gain).connect(s.audio.destination);
    const now = s.audio.currentTime;
    oscillator.start(now);
    oscillator.stop(now + Math.min(seconds, 10));
  } catch (e) { /* no sound here */ }
  s.beeps += 1;
}

function apply(s, frame, live) {
  s.t = frame.t;
  frame.robots.forEach((robot, index) => {
    if (live) for (const [hz, seconds] of robot.beeps) beep(s, hz, seconds);
    if ((robot.flags & FLAG_TRAIL_REPLACE) || !s.trails[index]) s.trails[index] = Array.from(robot.trail);
    else for (const v of robot.trail) s.trails[index].push(v);
    s.robots[index] = robot;
  });
  s.robots.length = frame.robots.length;
  s.trails.length = frame.robots.length;
}

function receive(s, frames) {
  const now = performance.now();
  for (const frame of frames) {
    s.minLatency = Math.min(s.minLatency, now - frame.wall);
    frame.due = frame.wall + s.minLatency + DELAY_MS;
    s.queue.push(frame);
  }
  if (s.views.size === 0 || s.queue.length > MAX_QUEUE) {
    // Nobody is drawing (output hidden): keep the state current.
    while (s.queue.length) apply(s, s.queue.shift(), false);
  } else {
    start(s);
  }
}

function start(s) {
  if (s.running) return;
  s.running = true;
  const tick = () => {
    const now = performance.now();
    let applied = false;
    while (s.queue.length && s.queue[0].due <= now) {
      apply(s, s.queue.shift(), true);
      applied = true;
    }
    if (applied) {
      s.framesDrawn += 1;
      // Every cell that moved the robot has a copy; draw those on screen.
      for (const view of s.views) if (view.visible) view.draw();
    }
    if (s.views.size && s.queue.length) requestAnimationFrame(tick);
    else s.running = false;
  };
  requestAnimationFrame(tick);
}

// -- talking to the kernel --------------------------------------------------------

function pageConfig() {
  const el = document.getElementById("jupyter-config-data");
  if (!el) return null;
  try { return JSON.parse(el.textContent); } catch (e) { return null; }
}

function cookie(name) {
  const match = document.cookie.match("(?:^|;\\s*)" + name + "=([^;]*)");
  return match ? decodeURIComponent(match[1]) : "";
}

async function post(url, body, config) {
  const headers = { "Content-Type": "application/json" };
  const xsrf = cookie("_xsrf");
  if (xsrf) headers["X-XSRFToken"] = xsrf;
  if (config.token) headers["Authorization"] = "token " + config.token;
  return fetch(url, { method: "POST", body, headers, credentials: "same-origin" });
}

// Buttons reach the kernel through the server extension, which works while a
// cell runs. Without it: a widget message (acted on when the cell ends), and for
// Stop also the server's own kernel interrupt.
async function control(model, action, value) {
  const config = pageConfig();
  const kernel = model.get("kernel_id");
  const message = { action, view: model.get("view_id") };
  if (value !== undefined) message.value = value;
  if (config && kernel) {
    const base = config.baseUrl || "/";
    try {
      const reply = await post(base + "robotlab/api/control/" + encodeURIComponent(kernel),
                               JSON.stringify(message), config);
      if (reply.ok) return true;
    } catch (e) { /* fall through */ }
    if (action === "stop") {
      try { await post(base + "api/kernels/" + encodeURIComponent(kernel) + "/interrupt", "", config); }
      catch (e) { /* nothing more we can do */ }
    }
  }
  model.send(message);
  return false;
}

// -- drawing ------------------------------------------------------------------------

function ledColour([r, g, b]) {
  return r || g || b ? "rgb(" + r + "," + g + "," + b + ")" : "#464646";
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

class View {
  constructor(model, el, s) {
    this.model = model;
    this.s = s;
    this.trailOn = true;
    this.root = element("div", "robotlab-view");
    el.appendChild(this.root);
    this.buildToolbar();
    const body = element("div", "robotlab-body");
    this.canvas = element("canvas", "robotlab-arena");
    body.appendChild(this.canvas);
    this.panel = element("div", "robotlab-panel");
    body.appendChild(this.panel);
    this.root.appendChild(body);
    this.staticLayer = null;
    this.resize = new ResizeObserver(() => { this.staticLayer = null; this.draw(); });
    this.resize.observe(this.canvas);
    this.visible = true;
    this.seen = new IntersectionObserver((entries) => {
      this.visible = entries.some((entry) => entry.isIntersecting);
      if (this.visible) this.draw();
    });
    this.seen.observe(this.root);
    this.update();
  }

  label(key) { return (this.model.get("labels") || {})[key] || key; }

  buildToolbar() {
    const bar = element("div", "robotlab-toolbar");
    this.stopButton = element("button", "robotlab-stop");
    this.stopButton.addEventListener("click", () => {
      this.root.dataset.state = "stopped";
      this.updateStatus();
      control(this.model, "stop");
    });
    this.pauseButton = element("button", "robotlab-pause");
    this.pauseButton.addEventListener("click", () => {
      const paused = !this.model.get("paused");
      this.root.dataset.state = paused ? "paused" : "running";
      this.pauseButton.textContent = paused ? this.label("resume") : this.label("pause");
      control(this.model, paused ? "pause" : "resume");
    });
    this.speedGroup = element("span", "robotlab-speed");
    this.speedLabel = element("span", "robotlab-speed-label");
    this.speedGroup.appendChild(this.speedLabel);
    this.speedButtons = {};
    for (const speed of SPEEDS) {
      const button = element("button", "robotlab-speed-" + speed);
      button.dataset.speed = speed;
      button.addEventListener("click", () => control(this.model, "speed", speed));
      this.speedButtons[speed] = button;
      this.speedGroup.appendChild(button);
    }
    this.resetButton = element("button", "robotlab-reset");
    this.resetButton.addEventListener("click", () => control(this.model, "reset"));
    const trail = element("label", "robotlab-trail");
    this.trailBox = element("input");
    this.trailBox.type = "checkbox";
    this.trailBox.checked = true;
    this.trailBox.addEventListener("change", () => { this.trailOn = this.trailBox.checked; this.draw(); });
    this.trailText = element("span");
    trail.append(this.trailBox, this.trailText);
    const sound = element("label", "robotlab-sound");
    this.soundBox = element("input");
    this.soundBox.type = "checkbox";
    this.soundBox.checked = !this.s.muted;
    this.soundBox.addEventListener("change", () => { this.s.muted = !this.soundBox.checked; });
    this.soundText = element("span");
    sound.append(this.soundBox, this.soundText);
    this.status = element("span", "robotlab-status");
    bar.append(this.stopButton, this.pauseButton, this.speedGroup, this.resetButton, trail, sound,
               this.status);
    this.root.appendChild(bar);
  }

  update() {
    const m = this.model;
    this.stopButton.textContent = "■ " + this.label("stop");
    this.pauseButton.textContent = m.get("paused") ? this.label("resume") : this.label("pause");
    this.speedLabel.textContent = this.label("speed") + ":";
    for (const speed of SPEEDS) {
      const button = this.speedButtons[speed];
      button.textContent = speed === "max" ? this.label("fastest") : speed + "×";
      button.classList.toggle("robotlab-active", m.get("speed") === speed);
    }
    this.resetButton.textContent = "↺ " + this.label("reset");
    this.trailText.textContent = this.label("trail");
    this.soundText.textContent = this.label("sound");
    this.root.dataset.state = m.get("stopped") ? "stopped" : m.get("paused") ? "paused" : "running";
    this.root.setAttribute("aria-label", this.label("title"));
    this.loadFloor();
    this.buildPanel();
    this.draw();
  }

  loadFloor() {
    const arena = this.model.get("arena");
    const s = this.s;
    if (!arena || !arena.floor || (s.floor && s.floor.src === arena.floor)) return;
    s.floor = new Image();
    s.floorReady = false;
    s.floor.onload = () => { s.floorReady = true; for (const v of s.views) { v.staticLayer = null; v.draw(); } };
    s.floor.src = arena.floor;
  }

  buildPanel() {
    // Sensors down, robots across: narrow enough to sit beside the arena.
    const robots = this.model.get("robots") || [];
    this.panel.textContent = "";
    const table = element("table");
    const head = element("tr");
    head.appendChild(element("th", "", ""));
    for (const info of robots) {
      const name = element("th", "robotlab-name");
      const swatch = element("span", "robotlab-swatch");
      swatch.style.background = info.colour;
      name.append(swatch, document.createTextNode(info.name));
      head.appendChild(name);
    }
    table.appendChild(head);
    this.cells = robots.map(() => ({}));
    for (const key of ["distance", "line", "colour", "heading", "odometer"]) {
      const row = element("tr");
      row.appendChild(element("th", "", this.label(key)));
      robots.forEach((info, i) => {
        const cell = element("td");
        cell.dataset.sensor = key;
        cell.dataset.robot = String(i);
        this.cells[i][key] = cell;
        row.appendChild(cell);
      });
      table.appendChild(row);
    }
    this.panel.appendChild(table);
  }

  updatePanel() {
    const robots = this.model.get("robots") || [];
    const names = (this.model.get("labels") || {}).colours || {};
    const ids = (this.model.get("arena") || {}).colour_ids || [];
    this.s.robots.forEach((r, i) => {
      const cells = this.cells && this.cells[i];
      const info = robots[i];
      if (!cells || !info) return;
      cells.distance.textContent = r.distance.toFixed(1) + " cm";
      const threshold = info.line_threshold;
      const mark = (v) => (v < threshold ? "●" : "○");
      cells.line.textContent = mark(r.reflLeft) + " " + mark(r.reflRight) + "  " +
        Math.round(r.reflLeft) + " / " + Math.round(r.reflRight) + " %";
      cells.line.title = this.label("line_sides");
      const id = ids[Math.round(r.colour)];
      cells.colour.textContent = id ? (names[id] || id) : "–";
      cells.heading.textContent = Math.round(r.heading) + "°";
      cells.odometer.textContent = r.odometer.toFixed(1) + " cm";
    });
  }

  updateStatus() {
    const state = this.root.dataset.state;
    const moving = this.s.robots.some((r) => r.flags & FLAG_MOVING);
    const shown = state === "running" && !moving ? "still" : state;
    this.status.textContent = this.label("time") + " " + this.s.t.toFixed(1) + " s · " + this.label(shown);
    this.root.dataset.frames = String(this.s.framesDrawn);
    this.root.dataset.beeps = String(this.s.beeps);
    this.root.dataset.time = this.s.t.toFixed(3);
  }

  geometry() {
    const arena = this.model.get("arena");
    if (!arena || !arena.width_cm) return null;
    const ratio = window.devicePixelRatio || 1;
    const cssWidth = this.canvas.clientWidth || 560;
    const width = Math.max(1, Math.round(cssWidth * ratio));
    const height = Math.max(1, Math.round(width * arena.height_cm / arena.width_cm));
    return { arena, width, height, scale: width / arena.width_cm };
  }

  drawStatic(g) {
    const layer = document.createElement("canvas");
    layer.width = g.width;
    layer.height = g.height;
    const ctx = layer.getContext("2d");
    const { arena, scale } = g;
    if (this.s.floorReady) ctx.drawImage(this.s.floor, 0, 0, g.width, g.height);
    else { ctx.fillStyle = "#f5f5f0"; ctx.fillRect(0, 0, g.width, g.height); }
    for (const [x, y, w, h] of arena.goals || []) {
      ctx.fillStyle = "rgba(60,190,90,0.27)";
      ctx.strokeStyle = "rgb(60,190,90)";
      ctx.lineWidth = 2;
      ctx.fillRect(x * scale, (arena.height_cm - y - h) * scale, w * scale, h * scale);
      ctx.strokeRect(x * scale, (arena.height_cm - y - h) * scale, w * scale, h * scale);
    }
    ctx.strokeStyle = "rgb(60,60,70)";
    ctx.lineCap = "round";
    ctx.lineWidth = Math.max(2, scale);
    for (const [x1, y1, x2, y2] of arena.walls || []) {
      ctx.beginPath();
      ctx.moveTo(x1 * scale, (arena.height_cm - y1) * scale);
      ctx.lineTo(x2 * scale, (arena.height_cm - y2) * scale);
      ctx.stroke();
    }
    return layer;
  }

  draw() {
    this.updateStatus();
    const g = this.geometry();
    if (!g) return;
    if (this.canvas.width !== g.width || this.canvas.height !== g.height) {
      this.canvas.width = g.width;
      this.canvas.height = g.height;
      this.staticLayer = null;
    }
    if (!this.staticLayer) this.staticLayer = this.drawStatic(g);
    const ctx = this.canvas.getContext("2d");
    ctx.drawImage(this.staticLayer, 0, 0);
    const { arena, scale } = g;
    const H = arena.height_cm;
    const px = (x, y) => [x * scale, (H - y) * scale];
    const robots = this.model.get("robots") || [];
    if (this.trailOn) {
      this.s.trails.forEach((trail, i) => {
        const robot = this.s.robots[i];
        if (!trail || trail.length < 2 || !robots[i]) return;
        ctx.strokeStyle = robots[i].colour;
        ctx.lineWidth = Math.max(2, 0.4 * scale);
        ctx.lineJoin = "round";
        ctx.beginPath();
        ctx.moveTo(...px(trail[0], trail[1]));
        for (let k = 2; k < trail.length; k += 2) ctx.lineTo(...px(trail[k], trail[k + 1]));
        if (robot) ctx.lineTo(...px(robot.x, robot.y));
        ctx.stroke();
      });
    }
    this.s.robots.forEach((r, i) => {
      const info = robots[i];
      if (!info) return;
      const c = Math.cos(r.theta), sn = Math.sin(r.theta);
      const at = ([f, l]) => [r.x + f * c - l * sn, r.y + f * sn + l * c];
      // Distance sensor ray, to what it sees.
      const [sx, sy] = at(info.distance_sensor);
      const reach = Math.min(r.distance, info.distance_max_cm);
      ctx.strokeStyle = r.distance < info.distance_max_cm ? "rgba(220,40,40,0.75)" : "rgba(220,40,40,0.25)";
      ctx.lineWidth = Math.max(1, 0.25 * scale);
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(...px(sx, sy));
      ctx.lineTo(...px(sx + reach * c, sy + reach * sn));
      ctx.stroke();
      ctx.setLineDash([]);
      // Body, outline, nose and LED.
      const [cx, cy] = px(r.x, r.y);
      const radius = Math.max(3, info.radius_cm * scale);
      ctx.fillStyle = info.colour;
      ctx.beginPath();
      ctx.arc(cx, cy, radius, 0, 2 * Math.PI);
      ctx.fill();
      ctx.strokeStyle = r.flags & FLAG_BUMPED ? "rgb(230,30,30)" : "rgb(20,20,30)";
      ctx.lineWidth = Math.max(1, radius / 6);
      ctx.stroke();
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = Math.max(2, radius / 4);
      ctx.beginPath();
      ctx.moveTo(cx, cy);
      ctx.lineTo(cx + c * radius, cy - sn * radius);
      ctx.stroke();
      ctx.fillStyle = ledColour(r.led);
      ctx.beginPath();
      ctx.arc(cx, cy, Math.max(2, radius / 3), 0, 2 * Math.PI);
      ctx.fill();
      // Line sensors: filled when they see a line.
      for (const [point, value] of [[info.line_left, r.reflLeft], [info.line_right, r.reflRight]]) {
        const [lx, ly] = px(...at(point));
        ctx.fillStyle = value < info.line_threshold ? "#111" : "#fff";
        ctx.strokeStyle = "#111";
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.arc(lx, ly, Math.max(2, 0.6 * scale), 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    });
    this.updatePanel();
  }

  dispose() {
    this.resize.disconnect();
    this.seen.disconnect();
  }
}

export default {
  initialize({ model }) {
    const s = stateFor(model);
    const onMessage = (message, buffers) => {
      if (!message || message.k !== "f" || !buffers || !buffers.length) return;
      receive(s, parseBatch(toDataView(buffers[0])));
    };
    model.on("msg:custom", onMessage);
    return () => model.off("msg:custom", onMessage);
  },

  render({ model, el }) {
    const s = stateFor(model);
    const view = new View(model, el, s);
    s.views.add(view);
    const update = () => view.update();
    const names = ["change:paused", "change:speed", "change:stopped", "change:robots",
                   "change:labels", "change:arena"];
    for (const name of names) model.on(name, update);
    start(s);
    // Tell the kernel that a browser draws views (else it shows still pictures).
    control(model, "hello");
    return () => {
      for (const name of names) model.off(name, update);
      s.views.delete(view);
      view.dispose();
    };
  },
};
