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


def mapped(fragment):
    """The files mapped in this process whose path holds FRAGMENT."""
    found = set()
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 5 and fragment in fields[5]:
                found.add(fields[5])
    return sorted(found)


def startup():
    """How this interpreter was started, and what its start left."""
    import sys
    return {"orig_argv": getattr(sys, "orig_argv", None),
            "argv": sys.argv,
            "no_site": sys.flags.no_site,
            "site": "site" in sys.modules,
            "path": sys.path,
            "main": sorted(k for k in vars(sys.modules["__main__"])
                           if not k.startswith("__"))}


def environment():
    """What Python here thinks of its process: its environment (as
    os.environ has it and as the C library does), working directory,
    user and site directories."""
    import site
    import sys
    libc = ctypes.CDLL(None)
    libc.getenv.restype = ctypes.c_char_p
    return {"environ": dict(os.environ),
            "c_home": (libc.getenv(b"HOME") or b"").decode(),
            "cwd": os.getcwd(),
            "uid": os.getuid(),
            "expanduser": os.path.expanduser("~"),
            "user_site": site.getusersitepackages(),
            "site_packages": [p for p in site.getsitepackages()
                              if os.path.isdir(p)],
            "path": sys.path,
            "pid": os.getpid()}


def signals():
    """This process's blocked, ignored and caught signals, from the
    kernel's view (/proc/self/status), as sets of numbers."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("SigBlk", "SigIgn", "SigCgt"):
                mask = int(value, 16)
                out[key] = [n for n in range(1, 65) if mask >> (n - 1) & 1]
    return out
