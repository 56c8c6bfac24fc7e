"""The pupils' spawner: a local process per pupil, as the pupil's Unix user, in a memory cgroup.

JupyterHub's ``LocalProcessSpawner`` only passes ``mem_limit`` on as an environment
variable. Here it is enforced: before the server starts, a cgroup is made for the pupil
with that limit, and the forked child joins it before it drops to the pupil's user, so the
server and every kernel it starts share one limit. A kernel that allocates beyond it is
killed by the kernel's OOM killer (the notebook then shows "kernel died"), and neither the
other pupils nor the hub notice.

Both cgroup versions work: v2 (``memory.max``; modern Debian and Ubuntu) and v1
(``memory.limit_in_bytes``; some containers). The pupils' cgroups live under
``cgroup_parent`` (default: a ``robotlab-pupils`` group beside the hub's own).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Unicode

CGROUP_ROOT = Path("/sys/fs/cgroup")


def cgroup_version() -> int:
    """2 for the unified hierarchy, 1 when only a v1 memory controller is mounted, else 0."""
    if (CGROUP_ROOT / "cgroup.controllers").is_file():
        return 2
    if (CGROUP_ROOT / "memory" / "memory.limit_in_bytes").exists() or \
            (CGROUP_ROOT / "memory").is_dir():
        return 1
    return 0


def default_parent() -> Path | None:
    """Where the pupils' cgroups go: ``robotlab-pupils`` beside the hub's own cgroup (v1),
    or at the top of the unified hierarchy (v2, where the root may hold both)."""
    version = cgroup_version()
    if version == 2:
        return CGROUP_ROOT / "robotlab-pupils"
    if version == 1:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _id, controllers, path = line.split(":", 2)
            if "memory" in controllers.split(","):
                return CGROUP_ROOT / "memory" / path.lstrip("/") / "robotlab-pupils"
    return None


class RobotLabSpawner(LocalProcessSpawner):
    """``LocalProcessSpawner`` with ``mem_limit`` enforced by a cgroup per pupil.

    Example (``jupyterhub_config.py``)::

        c.JupyterHub.spawner_class = RobotLabSpawner
        c.Spawner.mem_limit = "1G"      # the pupil's server and kernels together
    """

    cgroup_parent = Unicode(
        "", config=True,
        help="The cgroup directory under which each pupil gets one; empty: chosen by itself.")

    @property
    def cgroup_path(self) -> Path | None:
        parent = Path(self.cgroup_parent) if self.cgroup_parent else default_parent()
        return parent / self.user.name if parent else None

    def _make_cgroup(self) -> Path | None:
        path = self.cgroup_path
        if not self.mem_limit or path is None:
            return None
        path.parent.mkdir(exist_ok=True)
        if cgroup_version() == 2:
            # Children may only use controllers their parent hands down.
            (path.parent.parent / "cgroup.subtree_control").write_text("+memory")
            (path.parent / "cgroup.subtree_control").write_text("+memory")
            path.mkdir(exist_ok=True)
            (path / "memory.max").write_text(str(int(self.mem_limit)))
            swap = path / "memory.swap.max"
            if swap.exists():
                swap.write_text("0")    # a limit that swaps is no limit on a shared server
        else:
            path.mkdir(exist_ok=True)
            (path / "memory.limit_in_bytes").write_text(str(int(self.mem_limit)))
        self.log.info("Memory limit for %s: %d MiB (%s)", self.user.name,
                      int(self.mem_limit) // 2**20, path)
        return path

    def make_preexec_fn(self, name):
        drop_to_user = super().make_preexec_fn(name)
        path = self._make_cgroup()
        procs = str(path / "cgroup.procs") if path else None

        def preexec():
            # Runs in the forked child, still as root: join the cgroup, then become the pupil.
            if procs:
                with open(procs, "w") as f:
                    f.write(str(os.getpid()))
            drop_to_user()

        return preexec

    async def stop(self, now=False):
        await super().stop(now=now)
        path = self.cgroup_path
        if path is not None and path.is_dir():
            try:
                path.rmdir()
            except OSError as error:      # a kernel that outlived its server still sits in it
                self.log.warning("Could not remove %s: %s", path, error)


def proxy_command(deploy_dir: Path) -> str:
    """configurable-http-proxy installed by ``npm install --prefix deploy/node``, else on PATH."""
    local = deploy_dir / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
    return str(local) if local.exists() else (shutil.which("configurable-http-proxy") or
                                              "configurable-http-proxy")
