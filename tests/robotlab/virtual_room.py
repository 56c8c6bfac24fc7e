"""A virtual radio with virtual robots for the Bluetooth tests, torn down in order."""

from __future__ import annotations

from ble_bridge.transport import RobotLink
from ble_bridge.virtual import VirtualRadio, backends
from robotlab import Robot
from robotlab.backends import bluetooth
from robotlab.emulate import start_virtual_robots, stop_virtual_robots


class Room:
    """A virtual radio with virtual robots, and the clients made in a test, torn down in order."""

    def __init__(self, monkeypatch):
        self.radio = VirtualRadio()
        self.robots = []
        self.closables = []
        bluetooth.use_bleak_backends(*backends(self.radio))
        # Virtual robots advertise every 0.1 s: short scans find them all.
        monkeypatch.setattr(bluetooth, "SCAN_S", 0.5)
        monkeypatch.setattr(bluetooth, "FIND_S", 1.0)
        monkeypatch.setattr(bluetooth, "RECONNECT_WITHIN_S", 1.5)

    def start(self, count=1, **options):
        options.setdefault("noise", False)
        robots = start_virtual_robots(self.radio, count, **options)
        self.robots += robots
        return robots

    def robot(self, *args, **kwargs) -> Robot:
        robot = Robot(*args, **kwargs)
        self.closables.append(robot)
        return robot

    def link(self, **options) -> RobotLink:
        scanner, client = backends(self.radio)
        link = RobotLink(scanner_backend=scanner, client_backend=client, **options)
        self.closables.append(link)
        return link

    def on_radio(self, function):
        """``function()`` on the radio's loop, where the virtual robots live."""
        async def run():
            return function()
        return self.radio.call(run())

    def close(self):
        for closable in self.closables:
            closable.close()
        stop_virtual_robots(self.robots)
        self.radio.close()
        bluetooth.use_bleak_backends(None, None)
