"""How many bytes this process may still allocate, and which limit says so.

Four limits can stop an allocation, and the tightest one decides:

* ``MemAvailable`` of ``/proc/meminfo``: memory the kernel can hand out without
  swapping;
* the address-space limit ``RLIMIT_AS`` (``ulimit -v``), less the address space
  already mapped (``VmSize`` of ``/proc/self/status``): numpy raises
  ``MemoryError`` as soon as a mapping would cross it, whatever memory is free;
* a cgroup v2 ``memory.max`` less ``memory.current`` (containers, systemd
  slices, batch schedulers), for the process's cgroup and every ancestor;
* a cgroup v1 ``memory.limit_in_bytes`` less ``memory.usage_in_bytes``.

Reclaimable page cache (``inactive_file``) is counted as free in the cgroup
limits, as the kernel reclaims it before it kills. Every reader returns ``None``
when its limit is absent, unlimited or unreadable, so an unknown limit never
blocks a fit. The paths are module attributes so that tests can point them at
fake files.
"""

from pathlib import Path

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None

PROC = Path("/proc")
CGROUP = Path("/sys/fs/cgroup")
# cgroup v1 reports "no limit" as a huge page-aligned number (about 2**63).
_V1_UNLIMITED = 2**60


def meminfo_available():
    """``MemAvailable`` in bytes (``None`` if unknown)."""
    value = _field(PROC / "meminfo", "MemAvailable:")
    return None if value is None else value * 1024


def address_space_available():
    """``RLIMIT_AS`` (soft) minus the mapped address space ``VmSize``."""
    if resource is None:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    used = _field(PROC / "self" / "status", "VmSize:")
    return soft - (0 if used is None else used * 1024)


def cgroup_v2_available():
    """Tightest ``memory.max - memory.current`` over the cgroup and its ancestors."""
    path = _cgroup_path("")
    if path is None:
        return None
    best = None
    directory = CGROUP / path.lstrip("/")
    # Walk up to the mount root: a parent's limit binds its children too.
    while True:
        limit = _read_int(directory / "memory.max")
        usage = _read_int(directory / "memory.current")
        if limit is not None and usage is not None:
            free = limit - usage + _stat(directory / "memory.stat", "inactive_file")
            best = free if best is None else min(best, free)
        if directory == CGROUP or CGROUP not in directory.parents:
            return best
        directory = directory.parent


def cgroup_v1_available():
    """``memory.limit_in_bytes - memory.usage_in_bytes`` of the memory cgroup.

    Inside a container the path in ``/proc/self/cgroup`` is often the host's
    while the container's own cgroup is mounted at the root, so the root is the
    fallback.
    """
    path = _cgroup_path("memory")
    if path is None:
        return None
    base = CGROUP / "memory"
    for directory in (base / path.lstrip("/"), base):
        limit = _read_int(directory / "memory.limit_in_bytes")
        usage = _read_int(directory / "memory.usage_in_bytes")
        if limit is None or usage is None:
            continue
        if limit >= _V1_UNLIMITED:
            return None
        return limit - usage + _stat(directory / "memory.stat", "total_inactive_file")
    return None


#: ``(source, reader)`` pairs, in the order the sources are reported.
READERS = (
    ("MemAvailable (/proc/meminfo)", meminfo_available),
    ("address-space limit RLIMIT_AS (ulimit -v) minus VmSize", address_space_available),
    ("cgroup v2 memory.max minus memory.current", cgroup_v2_available),
    ("cgroup v1 memory.limit_in_bytes minus usage", cgroup_v1_available),
)


def memory_limit():
    """``(bytes, source)`` of the tightest known limit, or ``(None, None)``."""
    best, source = None, None
    for name, reader in READERS:
        try:
            value = reader()
        except (OSError, ValueError):
            value = None
        if value is not None and (best is None or value < best):
            best, source = max(int(value), 0), name
    return best, source


def _cgroup_path(controller):
    """Path of this process's cgroup for ``controller`` ("" is the v2 hierarchy)."""
    try:
        lines = (PROC / "self" / "cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controller == "" and parts[0] == "0" and controllers == "":
            return path
        if controller and controller in controllers.split(","):
            return path
    return None


def _field(path, key):
    """Integer after ``key`` in a ``key value [unit]`` file such as meminfo."""
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _read_int(path):
    """Integer content of a cgroup file; ``None`` if absent or ``max``."""
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return None if text == "max" or not text else int(text)


def _stat(path, key):
    """Counter ``key`` of a cgroup ``memory.stat`` file (0 if absent)."""
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0
