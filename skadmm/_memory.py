"""Size check of the auxiliary state before it is allocated."""

import os


def available_memory():
    """Bytes of memory available to a new allocation, or ``None`` if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_state_fits(nbytes, *, n_samples, width, n_hidden, splitting):
    """Raise ``MemoryError`` with a remedy if ``nbytes`` cannot be allocated."""
    available = available_memory()
    if available is None or nbytes <= available:
        return
    raise MemoryError(
        f"The ADMM state needs about {nbytes / 2**30:.2f} GiB "
        f"({n_samples} samples x width {width} x {n_hidden} hidden layers, "
        f"splitting={splitting!r}) but only {available / 2**30:.2f} GiB is "
        "available. Reduce `width` or `n_blocks`, use splitting='two' (one "
        "array less per layer), fit on fewer samples, or pass float32 data."
    )
