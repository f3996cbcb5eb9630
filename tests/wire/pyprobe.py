"""Functions test_pyworker.py runs in poold, as py:pyprobe:NAME: where
the Python that runs them lives."""

import ctypes
import os


def _mapping_of(address):
    """The file mapped at ADDRESS in this process, or None."""
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split()
            low, high = (int(x, 16) for x in fields[0].split("-"))
            if low <= address < high:
                return fields[5] if len(fields) > 5 else None
    return None


def interpreter():
    """This process's program, and the file holding the machine code of
    the builtin len(): the interpreter that runs Python here. A builtin
    function object holds its PyMethodDef after the object header (two
    words), and the def holds its C function after its name."""
    method_def = ctypes.c_void_p.from_address(id(len) + 16).value
    code = ctypes.c_void_p.from_address(method_def + 8).value
    return {"exe": os.readlink("/proc/self/exe"),
            "len_code_in": _mapping_of(code),
            "pid": os.getpid()}


def open_fds():
    """The fds open in this process, but those of the listing itself."""
    own = "/proc/%d/fd" % os.getpid()
    fds = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + name) != own:
                fds.append(int(name))
        except FileNotFoundError:
            pass
    return sorted(fds)
