"""One virtual Bluetooth LE radio: a Bumble ``LocalLink`` owned by one event loop in its own thread.

Nothing in Bumble's in-process stack is thread-safe: the link, the emulated
controllers and the hosts move every packet with ``loop.call_soon`` on the
loop they were created in and keep plain dicts. Used from a second loop, they
do not fail loudly, they stall (a future completed from the wrong thread never
wakes its loop). So every Bumble object of a radio is created and used only on
the radio's loop, and other threads reach it through ``call``, ``submit`` and
``call_soon``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from bumble import hci
from bumble.controller import Controller
from bumble.device import Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

_T = TypeVar("_T")

# A cancelled task may start new ones while it unwinds (Bumble restarts
# advertising on a disconnection, for instance), so shutdown cancels in rounds.
_SHUTDOWN_ROUNDS = 5

# Loop iterations to wait at shutdown for HCI commands in flight to be answered.
_SETTLE_ROUNDS = 1000

_radio_numbers = itertools.count(1)


class VirtualRadio:
    """A virtual radio shared by virtual robots and virtual adapters.

    The radio starts a daemon thread running its own asyncio loop at once.
    Close it with ``close()`` (or use it as a context manager); several radios
    may exist in one process, each with its own link, loop and thread, and
    devices on different radios cannot see each other.

    ``debug=True`` turns on asyncio's debug mode in the radio loop, which
    makes any use of a Bumble object from another thread raise instead of
    stalling.
    """

    def __init__(self, *, debug: bool = False) -> None:
        self.number = next(_radio_numbers)
        self._loop = asyncio.new_event_loop()
        self._loop.set_debug(debug)
        self._closed = False
        self._device_numbers = itertools.count(1)
        self._controllers: dict[Device, Controller] = {}
        #: The link; like every Bumble object of the radio, for the radio loop only.
        self.link = LocalLink()
        self._thread = threading.Thread(
            target=self._run, name=f"virtual-radio-{self.number}", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<VirtualRadio {self.number} {state}, {len(self._controllers)} devices>"

    def __enter__(self) -> VirtualRadio:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop that owns every Bumble object of this radio."""
        return self._loop

    @property
    def closed(self) -> bool:
        return self._closed

    def in_radio_thread(self) -> bool:
        """True when called from the radio loop's own thread."""
        return threading.current_thread() is self._thread

    # -- reaching the radio loop from other threads ---------------------------

    def submit(self, coro: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        """Run ``coro`` on the radio loop; any thread, including the radio's own.

        Cancelling the returned future cancels the task on the radio loop.
        """
        self._require_open(coro)
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def call(self, coro: Coroutine[Any, Any, _T], timeout: float | None = 10.0) -> _T:
        """Run ``coro`` on the radio loop and wait for its result, at most ``timeout`` s.

        Blocks the calling thread, so it refuses to run in the radio thread
        (it would wait for itself). On a timeout the task is cancelled and
        TimeoutError is raised.
        """
        if self.in_radio_thread():
            coro.close()
            raise RuntimeError("VirtualRadio.call() would deadlock in the radio's own thread; "
                               "await the coroutine there instead")
        future = self.submit(coro)
        # Not future.result(timeout): it would confuse the coroutine's own TimeoutError with ours.
        done, _ = concurrent.futures.wait([future], timeout)
        if not done:
            future.cancel()
            raise TimeoutError(f"the virtual radio did not finish within {timeout} s")
        return future.result()

    def call_soon(self, fn: Callable[..., object], *args: object) -> asyncio.Handle:
        """Schedule ``fn(*args)`` on the radio loop; any thread. Calls run in order."""
        self._require_open()
        return self._loop.call_soon_threadsafe(fn, *args)

    # -- on the radio loop ----------------------------------------------------

    async def create_device(self, name: str) -> Device:
        """A powered-on Bumble Device with its own emulated controller on this radio.

        Radio loop only (the emulated controller binds itself to the running
        loop). The device gets a random static address ``C0:00:00:00:xx:yy``,
        numbered in creation order.
        """
        self.require_radio_loop()
        number = next(self._device_numbers)
        # LocalLink also routes by public address, so the controllers' default
        # public address 00:00:00:00:00:00 must not be shared.
        public = hci.Address(f"00:AA:00:00:{number >> 8:02X}:{number & 0xFF:02X}",
                             hci.Address.PUBLIC_DEVICE_ADDRESS)
        # A random static address has its two most significant bits set.
        static = hci.Address(f"C0:00:00:00:{number >> 8:02X}:{number & 0xFF:02X}",
                             hci.Address.RANDOM_DEVICE_ADDRESS)
        controller = Controller(name, link=self.link, public_address=public)
        host = Host(controller_source=controller, controller_sink=AsyncPipeSink(controller))
        device = Device(name=name, address=static, host=host)
        self._controllers[device] = controller
        await device.power_on()
        return device

    async def remove_device(self, device: Device) -> None:
        """Power ``device`` off and take its controller off the link (radio loop only).

        Disconnect its links first: a removed controller no longer answers.
        """
        self.require_radio_loop()
        await device.power_off()
        self.link.remove_controller(self._controllers.pop(device))

    def controller_of(self, device: Device) -> Controller:
        """The emulated controller under ``device`` (radio loop only)."""
        return self._controllers[device]

    def require_radio_loop(self) -> None:
        """Raise RuntimeError unless running on the radio loop."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not self._loop:
            raise RuntimeError("Bumble objects of a VirtualRadio may only be used on its loop; "
                               "use radio.call(), radio.submit() or radio.call_soon()")

    # -- shutting down --------------------------------------------------------

    def close(self, timeout: float = 5.0) -> None:
        """Cancel the radio's tasks, stop its loop and join its thread. Idempotent."""
        if self._closed:
            return
        if self.in_radio_thread():
            raise RuntimeError("a VirtualRadio cannot be closed from its own thread")
        self._closed = True
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError(f"the virtual radio thread did not stop within {timeout} s")
        self._loop.close()
        self._controllers.clear()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    async def _shutdown(self) -> None:
        await self._let_commands_finish()
        this_task = asyncio.current_task()
        for _ in range(_SHUTDOWN_ROUNDS):
            tasks = [task for task in asyncio.all_tasks() if task is not this_task]
            if not tasks:
                break
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._loop.shutdown_asyncgens()
        await self._loop.shutdown_default_executor()

    async def _let_commands_finish(self) -> None:
        # Bumble's Host raises InvalidStateError (logged by the loop) when the
        # answer to a command arrives after its task was cancelled; an answer
        # takes a few loop iterations.
        for _ in range(_SETTLE_ROUNDS):
            if all(device.host.pending_command is None for device in self._controllers):
                return
            await asyncio.sleep(0)

    def _require_open(self, coro: Coroutine[Any, Any, Any] | None = None) -> None:
        if self._closed:
            if coro is not None:
                coro.close()  # no "coroutine was never awaited" warning for the caller's coro
            raise RuntimeError("this VirtualRadio is closed")
