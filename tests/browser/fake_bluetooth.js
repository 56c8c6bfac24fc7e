// An injected navigator.bluetooth for the browser tests (fake_bluetooth.py installs it).
//
// The page gets Web Bluetooth objects that behave as Chrome's do (promises, events, the
// DOMExceptions Chrome raises), and every GATT operation is carried out by the Python test
// process through the exposed binding window.__robotlabBluetooth(op, session, args): there
// bleak connects to a virtual robot on a Bumble radio. Values the robot notifies and links
// that drop come back through a long poll ("events").
//
// installFakeBluetooth(config) -- config.mode: "robots" (default), "missing" (no
// navigator.bluetooth, as in Firefox or on http://), or "reject" (requestDevice and, with
// config.availability_error, getAvailability reject with config.error {name, message}, as
// Chrome does when a policy blocks Web Bluetooth or the pupil cancels the chooser).
// config.available: what getAvailability() answers (default true).
// window.__robotlabFakeBluetooth.configure(config) changes it for what the page does next.

function installFakeBluetooth(config) {
  if (window !== window.top) return;
  const BINDING = "__robotlabBluetooth";
  const session = Math.random().toString(36).slice(2) + Date.now().toString(36);
  const BASE = "-0000-1000-8000-00805f9b34fb";
  const NAMES = {
    battery_service: 0x180f, battery_level: 0x2a19, device_information: 0x180a,
    generic_access: 0x1800, generic_attribute: 0x1801,
  };
  const log = [];                          // for the tests: what the page asked for
  const devices = new Map();               // id -> FakeDevice

  function call(op, args = {}) {
    return window[BINDING](op, session, args).then((reply) => {
      if (reply && reply.error) throw new DOMException(reply.error.message, reply.error.name);
      return reply;
    });
  }

  function canonical(uuid) {
    if (typeof uuid === "number") return (uuid >>> 0).toString(16).padStart(8, "0") + BASE;
    if (typeof uuid === "string") {
      if (uuid in NAMES) return canonical(NAMES[uuid]);
      if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid)) return uuid;
    }
    throw new TypeError(`Failed to execute 'requestDevice' on 'Bluetooth': Invalid Service name: '${uuid}'.`);
  }

  const disconnectedError = () => new DOMException(
    "GATT Server is disconnected. Cannot perform GATT operations. (Re)connect first with `device.gatt.connect`.",
    "NetworkError");

  class FakeCharacteristic extends EventTarget {
    constructor(service, info) {
      super();
      this.service = service;
      this.uuid = info.uuid;
      this.properties = Object.freeze({ ...info.properties });
      this.value = null;
      this.busy = false;
    }

    // Chrome runs one GATT operation per characteristic at a time.
    async operate(op, args) {
      const server = this.service.device.gatt;
      if (!server.connected || server.link !== this.service.link) throw disconnectedError();
      if (this.busy) throw new DOMException("GATT operation already in progress.", "NetworkError");
      this.busy = true;
      try {
        return await call(op, { device: this.service.device.id, link: this.service.link,
                                characteristic: this.uuid, ...args });
      } finally {
        this.busy = false;
      }
    }

    async readValue() {
      const reply = await this.operate("read");
      this.value = new DataView(new Uint8Array(reply.data).buffer);
      return this.value;
    }

    writeValueWithoutResponse(data) {
      if (!this.properties.writeWithoutResponse) {
        return Promise.reject(new DOMException("GATT operation not permitted.", "NotSupportedError"));
      }
      return this.write(data, false);
    }

    writeValueWithResponse(data) {
      if (!this.properties.write) {
        return Promise.reject(new DOMException("GATT operation not permitted.", "NotSupportedError"));
      }
      return this.write(data, true);
    }

    writeValue(data) { return this.writeValueWithResponse(data); }

    async write(data, response) {
      const bytes = ArrayBuffer.isView(data)
        ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        : new Uint8Array(data);
      await this.operate("write", { data: Array.from(bytes), response });
    }

    async startNotifications() {
      if (!this.properties.notify && !this.properties.indicate) {
        throw new DOMException("GATT operation not permitted.", "NotSupportedError");
      }
      await this.operate("notify", { on: true });
      return this;
    }

    async stopNotifications() {
      await this.operate("notify", { on: false });
      return this;
    }

    receive(data) {
      this.value = new DataView(new Uint8Array(data).buffer);
      this.dispatchEvent(new Event("characteristicvaluechanged", { bubbles: true }));
    }
  }

  class FakeService {
    constructor(device, link, info) {
      this.device = device;
      this.link = link;
      this.uuid = info.uuid;
      this.isPrimary = true;
      this.characteristics = info.characteristics.map((c) => new FakeCharacteristic(this, c));
    }

    check() {
      const server = this.device.gatt;
      if (!server.connected || server.link !== this.link) throw disconnectedError();
    }

    async getCharacteristic(uuid) {
      this.check();
      const wanted = canonical(uuid);
      const found = this.characteristics.find((c) => c.uuid === wanted);
      if (!found) {
        throw new DOMException(`No Characteristics matching UUID ${wanted} found in Service with UUID ${this.uuid}.`,
                               "NotFoundError");
      }
      return found;
    }

    async getCharacteristics() {
      this.check();
      return this.characteristics.slice();
    }
  }

  class FakeServer {
    constructor(device) {
      this.device = device;
      this.connected = false;
      this.link = 0;
      this.services = [];
    }

    async connect() {
      poll();
      // Chrome: a device this page holds connected already resolves at once, on the same link.
      if (this.connected) return this;
      const reply = await call("connect", { device: this.device.id });
      log.push(["connect", this.device.name]);
      this.link = reply.link;
      this.services = reply.services.map((info) => new FakeService(this.device, reply.link, info));
      this.connected = true;
      return this;
    }

    disconnect() {
      if (!this.connected) return;
      log.push(["disconnect", this.device.name]);
      this.lost(this.link);
      call("disconnect", { device: this.device.id }).catch(() => {});
    }

    lost(link) {
      if (!this.connected || link !== this.link) return;
      this.connected = false;
      this.device.dispatchEvent(new Event("gattserverdisconnected", { bubbles: true }));
    }

    async getPrimaryService(uuid) {
      if (!this.connected) {
        throw new DOMException(
          "GATT Server is disconnected. Cannot retrieve services. (Re)connect first with `device.gatt.connect`.",
          "NetworkError");
      }
      const wanted = canonical(uuid);
      if (!this.device.allowed.has(wanted)) {
        throw new DOMException(
          "Origin is not allowed to access the service. Tip: Add the service UUID to 'optionalServices' in requestDevice() options. https://goo.gl/HxfxSQ",
          "SecurityError");
      }
      const found = this.services.find((s) => s.uuid === wanted);
      if (!found) throw new DOMException(`No Services matching UUID ${wanted} found in Device.`, "NotFoundError");
      return found;
    }
  }

  class FakeDevice extends EventTarget {
    constructor(id, name, allowed) {
      super();
      this.id = id;
      this.name = name;
      this.allowed = allowed;
      this.gatt = new FakeServer(this);
    }
  }

  class FakeBluetooth extends EventTarget {
    async getAvailability() {
      if (config.mode === "reject" && config.availability_error) {
        throw new DOMException(config.error.message, config.error.name);
      }
      return config.available !== false;
    }

    async requestDevice(options) {
      log.push(["requestDevice", JSON.parse(JSON.stringify(options || {}))]);
      if (!navigator.userActivation.isActive) {
        throw new DOMException("Must be handling a user gesture to show a permission request.",
                               "SecurityError");
      }
      options = options || {};
      const hasFilters = Array.isArray(options.filters);
      if (hasFilters === !!options.acceptAllDevices) {
        throw new TypeError("Failed to execute 'requestDevice' on 'Bluetooth': Either 'filters' " +
                            "should be present or 'acceptAllDevices' should be true, but not both.");
      }
      const filters = (options.filters || []).map((f) => ({
        name: f.name === undefined ? null : f.name,
        namePrefix: f.namePrefix === undefined ? null : f.namePrefix,
        services: (f.services || []).map(canonical),
      }));
      const optional = (options.optionalServices || []).map(canonical);
      if (config.mode === "reject") throw new DOMException(config.error.message, config.error.name);
      const reply = await call("requestDevice", { filters, acceptAll: !!options.acceptAllDevices });
      let device = devices.get(reply.id);
      if (!device) {
        device = new FakeDevice(reply.id, reply.name, new Set());
        devices.set(reply.id, device);
      }
      for (const f of filters) for (const s of f.services) device.allowed.add(s);
      for (const s of optional) device.allowed.add(s);
      return device;
    }
  }

  // Values and lost links, pushed by Python as answers to a long poll, from the first connect
  // on (an init script may run before the binding is there).
  let polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    for (;;) {
      let events;
      try {
        events = await call("events");
      } catch (error) {
        return;                       // the page is going away
      }
      if (events === null) return;    // Python ended this page's session
      for (const event of events) {
        const device = devices.get(event.device);
        if (!device) continue;
        const server = device.gatt;
        if (event.type === "disconnected") {
          server.lost(event.link);
        } else if (event.type === "value" && server.connected && server.link === event.link) {
          for (const service of server.services) {
            for (const c of service.characteristics) if (c.uuid === event.characteristic) c.receive(event.data);
          }
        }
      }
    }
  }

  const bluetooth = new FakeBluetooth();
  Object.defineProperty(Navigator.prototype, "bluetooth", {
    get: () => (config.mode === "missing" ? undefined : bluetooth), configurable: true });
  window.__robotlabFakeBluetooth = {
    log, devices, session,
    configure(changes) { config = { ...config, ...changes }; },
  };
  // Say hello as soon as the binding is there: Python then ends the links of the document
  // this one replaced (a reloaded tab loses its Bluetooth connections).
  const hello = () => (typeof window[BINDING] === "function"
    ? call("hello").catch(() => {}) : setTimeout(hello, 10));
  hello();
}
