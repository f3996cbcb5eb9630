"""The systemd units as built: systemd-analyze verify accepts them, and
they hold what running poold as a service depends on.

The built poold.service names the installed binary; the copy verified
here names the one just built, since verify checks that ExecStart= can
run. Skipped (77) without systemd-analyze or the units' paths
($POOLD_SERVICE_UNIT, $POOLD_SOCKET_UNIT, set by make check)."""

import os
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pooldtest import EXIT_SKIP, Case, main, poold_argv  # noqa: E402

SERVICE = os.environ.get("POOLD_SERVICE_UNIT")
SOCKET = os.environ.get("POOLD_SOCKET_UNIT")
ANALYZE = shutil.which("systemd-analyze")


def read_unit(path):
    """A unit file as {section: [(key, value), ...]}, comments dropped."""
    sections = {}
    current = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                current = sections.setdefault(line[1:-1], [])
                continue
            key, sep, value = line.partition("=")
            if not sep or current is None:
                raise AssertionError("%s: not a unit line: %r"
                                     % (path, line))
            current.append((key.strip(), value.strip()))
    return sections


def values(unit, section, key):
    return [v for k, v in unit.get(section, []) if k == key]


def value(unit, section, key):
    found = values(unit, section, key)
    if len(found) != 1:
        raise AssertionError("[%s] %s= is set %d times"
                             % (section, key, len(found)))
    return found[0]


class Units(Case):
    def setUp(self):
        super().setUp()
        self.service = read_unit(SERVICE)
        self.socket = read_unit(SOCKET)

    def built_poold(self):
        """The daemon just built: the last word of $POOLD."""
        path = poold_argv()[-1]
        self.assertTrue(os.access(path, os.X_OK), path)
        return os.path.abspath(path)

    def test_systemd_analyze_verify(self):
        tmp = tempfile.mkdtemp(prefix="poold-units-")
        self.addCleanup(shutil.rmtree, tmp, True)
        exec_start = shlex.split(value(self.service, "Service", "ExecStart"))
        with open(SERVICE) as f:
            text = f.read()
        text = text.replace("ExecStart=%s " % exec_start[0],
                            "ExecStart=%s " % self.built_poold(), 1)
        with open(os.path.join(tmp, "poold.service"), "w") as f:
            f.write(text)
        shutil.copy(SOCKET, os.path.join(tmp, "poold.socket"))
        # Documentation=man:poold(8) is checked against the page in the
        # tree, when there is one and man to read it.
        page = os.path.join(os.path.dirname(SOCKET), "..", "src", "poold.8")
        argv = [ANALYZE, "verify"]
        env = dict(os.environ)
        if os.path.exists(page) and shutil.which("man"):
            os.makedirs(os.path.join(tmp, "man", "man8"))
            shutil.copy(page, os.path.join(tmp, "man", "man8"))
            env["MANPATH"] = os.path.join(tmp, "man")
        else:
            argv.append("--man=no")
        r = subprocess.run(argv + ["poold.service", "poold.socket"],
                           cwd=tmp, env=env, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # verify only warns about unknown keys and bad values: any word
        # about the units is a failure.
        complaints = [line for line in (r.stdout + r.stderr).splitlines()
                      if "poold." in line]
        self.assertEqual(complaints, [])

    def test_service(self):
        s = self.service
        self.assertEqual(value(s, "Service", "Type"), "notify")
        start = shlex.split(value(s, "Service", "ExecStart"))
        self.assertTrue(os.path.isabs(start[0]), start)
        self.assertEqual(os.path.basename(start[0]), "poold")
        self.assertEqual(start[1], "-c")
        self.assertTrue(os.path.isabs(start[2]), start)
        self.assertNotIn("@", value(s, "Service", "ExecStart"))
        self.assertEqual(shlex.split(value(s, "Service", "ExecReload"))[1:],
                         ["-HUP", "$MAINPID"])
        self.assertEqual(value(s, "Service", "RuntimeDirectory"), "poold")
        self.assertEqual(value(s, "Service", "RuntimeDirectoryPreserve"),
                         "yes")
        self.assertGreater(int(value(s, "Service", "WatchdogSec")), 0)
        # SIGTERM must reach poold alone, or running tasks die with it.
        self.assertEqual(value(s, "Service", "KillMode"), "mixed")
        self.assertIn("poold.socket", values(s, "Unit", "Requires"))
        # Tasks run as the users who submit them, in their homes and /tmp.
        for key in ("ProtectHome", "PrivateTmp", "NoNewPrivileges",
                    "PrivateDevices", "ProtectClock", "User"):
            self.assertEqual(values(s, "Service", key), [], key)

    def test_socket(self):
        s = self.socket
        self.assertEqual(value(s, "Socket", "ListenStream"),
                         "/run/poold/poold.sock")
        self.assertEqual(value(s, "Socket", "SocketMode"), "0660")
        self.assertTrue(value(s, "Socket", "SocketGroup"))
        self.assertIn("sockets.target", values(s, "Install", "WantedBy"))


if __name__ == "__main__":
    if ANALYZE is None:
        print("systemd-analyze is not installed: skipped", file=sys.stderr)
        sys.exit(EXIT_SKIP)
    if not SERVICE or not SOCKET or not os.path.exists(SERVICE):
        print("POOLD_SERVICE_UNIT and POOLD_SOCKET_UNIT name no built "
              "units: skipped", file=sys.stderr)
        sys.exit(EXIT_SKIP)
    main()
