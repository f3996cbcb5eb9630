"""The daemon as a program: command line, configuration file, socket file
and signals."""

import os
import resource
import shutil
import signal
import socket
import stat
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pooldtest import (Case, Daemon, assert_alive, main,  # noqa: E402
                       result_of, run_poold)


class TempDir:
    """A scratch directory for runs that are expected to fail."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="poold-wire-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)
        return False


class CommandLine(Case):
    def test_help(self):
        r = run_poold(["--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("usage", (r.stdout + r.stderr).lower())

    def test_version_matches_hello(self):
        r = run_poold(["--version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        with Daemon(threads=1) as d, d.client() as c:
            version = c.ok("hello")["version"]
        self.assertIn(version, r.stdout + r.stderr)

    def test_bad_flag(self):
        with TempDir() as tmp:
            sock = os.path.join(tmp, "poold.sock")
            for args in (["--bogus"], ["-x"], ["-t"], ["-s"]):
                with self.subTest(args=args):
                    r = run_poold(["-s", sock] + args if args != ["-s"]
                                  else args)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertIn("usage", r.stderr.lower())
                    self.assertFalse(os.path.exists(sock))

    def test_bad_thread_count(self):
        with TempDir() as tmp:
            sock = os.path.join(tmp, "poold.sock")
            for value in ("abc", "", "1x", "-1"):
                with self.subTest(value=value):
                    r = run_poold(["-s", sock, "-t", value])
                    self.assertNotEqual(r.returncode, 0)
                    self.assertTrue(r.stderr)
                    self.assertFalse(os.path.exists(sock))


class Config(Case):
    def run_config(self, text):
        """Run poold with TEXT as its config; (result, config path)."""
        tmp = tempfile.mkdtemp(prefix="poold-wire-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "bad.conf")
        with open(path, "w") as f:
            f.write(text)
        r = run_poold(["-s", os.path.join(tmp, "poold.sock"), "-t", "1",
                       "-c", path])
        self.assertFalse(os.path.exists(os.path.join(tmp, "poold.sock")))
        return r, path

    def test_unknown_key_names_file_and_line(self):
        r, path = self.run_config("# settings\n\nthreads = 2\n"
                                  "bogus_key = 1\n")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%s:4" % path, r.stderr)

    def test_bad_values_name_file_and_line(self):
        for key, value in (("threads", "abc"), ("threads", "-1"),
                           ("threads", "2x"), ("max_pending", "x"),
                           ("max_pending", "-1"),
                           ("max_request_bytes", "-5"),
                           ("max_connections", "1.5"),
                           ("result_ttl", "soon"), ("result_ttl", "-1"),
                           ("verbose", "maybe"),
                           ("shutdown_timeout", "-1"),
                           ("shutdown_timeout", "never")):
            with self.subTest(key=key, value=value):
                r, path = self.run_config("# settings\n\n%s = %s\n"
                                          % (key, value))
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn("%s:3" % path, r.stderr)

    def test_unknown_admin_group_names_file_and_line(self):
        r, path = self.run_config("threads = 1\n"
                                  "admin_group = no-such-group-poold\n")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%s:2" % path, r.stderr)

    def test_line_without_equals(self):
        r, path = self.run_config("threads 2\n")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%s:1" % path, r.stderr)

    def test_missing_config_file(self):
        with TempDir() as tmp:
            missing = os.path.join(tmp, "missing.conf")
            r = run_poold(["-s", os.path.join(tmp, "poold.sock"),
                           "-c", missing])
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(missing, r.stderr)

    def test_comments_and_blank_lines(self):
        conf = "# poold\n\n   threads   =   3  \n\n# more\nverbose = true\n"
        with Daemon(threads=None, config=conf) as d, d.client() as c:
            self.assertEqual(c.ok("hello")["executors"]["thread"],
                             {"workers": 3})

    def test_every_key(self):
        conf = ("socket = @DIR@/cfg.sock\n"
                "threads = 2\n"
                "verbose = false\n"
                "max_request_bytes = 4096\n"
                "max_pending = 10\n"
                "max_connections = 10\n"
                "result_ttl = 60\n"
                "admin_group = root\n"
                "shutdown_timeout = 5\n")
        with Daemon(config=conf, socket="@DIR@/cfg.sock",
                    args=["-c", "@DIR@/poold.conf"]) as d, \
                d.client() as c:
            self.assertEqual(c.ok("hello")["executors"]["thread"],
                             {"workers": 2})
            fid = c.submit("echo", ["cfg"])
            self.assertEqual(c.ok("result", {"future": fid}), "cfg")

    def test_flags_win_over_config(self):
        conf = "threads = 2\nsocket = @DIR@/other.sock\n"
        with Daemon(threads=5, config=conf) as d, d.client() as c:
            self.assertEqual(c.ok("hello")["executors"]["thread"],
                             {"workers": 5})
            self.assertFalse(os.path.exists(
                os.path.join(d.dir, "other.sock")))

    def test_max_request_bytes_flagless_default_is_large(self):
        # Without a setting, a 1 MiB line is fine (the default is 16 MiB).
        with Daemon(threads=1) as d, d.client() as c:
            fid = c.submit("echo", ["q" * (1 << 20)])
            self.assertEqual(len(c.ok("result", {"future": fid})), 1 << 20)


class SocketFile(Case):
    def test_mode_0660(self):
        with Daemon(threads=1) as d:
            st = os.stat(d.sock)
            self.assertTrue(stat.S_ISSOCK(st.st_mode))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)

    def test_parent_directory_is_created(self):
        with Daemon(threads=1, socket="@DIR@/a/b/poold.sock") as d:
            self.assertTrue(os.path.isdir(os.path.join(d.dir, "a", "b")))
            assert_alive(d.sock)

    def test_socket_from_environment(self):
        with Daemon(threads=1, socket="@DIR@/env.sock",
                    env={"POOLD_SOCKET": "@DIR@/env.sock"},
                    args=["-t", "1"]) as d:
            assert_alive(d.sock)

    def test_socket_from_config(self):
        with Daemon(config="socket = @DIR@/cfg.sock\n",
                    socket="@DIR@/cfg.sock",
                    args=["-t", "1", "-c", "@DIR@/poold.conf"]) as d:
            assert_alive(d.sock)

    def test_second_daemon_on_a_live_socket_refuses(self):
        with Daemon(threads=1) as d:
            r = run_poold(["-s", d.sock, "-t", "1"])
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("already", r.stderr)
            # The first one keeps its socket and serves.
            self.assertTrue(stat.S_ISSOCK(os.stat(d.sock).st_mode))
            with d.client() as c:
                self.assertEqual(c.ok("hello")["pid"], d.pid)

    def test_stale_socket_is_replaced(self):
        with TempDir() as tmp:
            os.chmod(tmp, 0o755)
            path = os.path.join(tmp, "poold.sock")
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.close()
            self.assertTrue(stat.S_ISSOCK(os.stat(path).st_mode))
            with Daemon(threads=1, socket=path) as d, d.client() as c:
                self.assertEqual(c.ok("hello")["pid"], d.pid)

    def test_path_that_is_not_a_socket_is_refused(self):
        with TempDir() as tmp:
            path = os.path.join(tmp, "poold.sock")
            with open(path, "w") as f:
                f.write("keep me\n")
            r = run_poold(["-s", path, "-t", "1"])
            self.assertNotEqual(r.returncode, 0)
            self.assertTrue(r.stderr)
            with open(path) as f:
                self.assertEqual(f.read(), "keep me\n")


class Limits(Case):
    def test_out_of_file_descriptors(self):
        def few_fds():
            resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))

        with Daemon(threads=1, preexec_fn=few_fds) as d:
            clients = []
            try:
                for _ in range(100):
                    clients.append(d.client())
                for c in clients:
                    c.request("hello", id=1)
                # The first were accepted before the descriptors ran out.
                result_of(clients[0].response(1))
            finally:
                for c in clients:
                    c.close()
            # Accepting resumes once descriptors are free again.
            deadline = time.monotonic() + 10
            while True:
                try:
                    assert_alive(d.sock, timeout=2)
                    break
                except (AssertionError, OSError):
                    self.assertLess(time.monotonic(), deadline,
                                    "no connection served after the "
                                    "descriptors were freed")
            self.assertTrue(d.running)


class Signals(Case):
    def test_sigterm_when_idle(self):
        d = Daemon(threads=1).start()
        self.addCleanup(d.close)
        self.assertEqual(d.stop(signal.SIGTERM), 0)
        self.assertFalse(os.path.exists(d.sock))

    def test_sigint_when_idle(self):
        d = Daemon(threads=1).start()
        self.addCleanup(d.close)
        self.assertEqual(d.stop(signal.SIGINT), 0)
        self.assertFalse(os.path.exists(d.sock))

    def test_sigterm_lets_running_and_pending_finish(self):
        d = Daemon(threads=1).start()
        self.addCleanup(d.close)
        c = d.client()
        self.addCleanup(c.close)
        occ = c.occupy(1.0)
        p = c.submit("echo", ["p"])
        r_p = c.request("result", {"future": p})
        d.send_signal(signal.SIGTERM)
        # The signal is handled asynchronously: submissions are accepted
        # until it is.
        deadline = time.monotonic() + 5
        while True:
            r = c.call("submit", {"fn": "echo", "args": [1]})
            if "error" in r:
                break
            self.assertLess(time.monotonic(), deadline,
                            "submit still accepted 5 s after SIGTERM")
        self.assertError(r, -32006, any_id=True)
        # Queries are answered while it drains, on new connections too.
        self.assertEqual(c.status(occ)["state"], "running")
        with d.client() as late:
            self.assertEqual(late.status(occ)["state"], "running")
            late.err("submit", {"fn": "echo", "args": [1]}, -32006)
        self.assertEqual(c.ok("result", {"future": occ}), 1.0)
        self.assertEqual(result_of(c.response(r_p)), "p")
        self.assertEqual(d.wait_exit(), 0)
        self.assertFalse(os.path.exists(d.sock))

    def test_shutdown_timeout_bounds_the_drain(self):
        d = Daemon(threads=1, config="shutdown_timeout = 0.3\n").start()
        self.addCleanup(d.close)
        c = d.client()
        self.addCleanup(c.close)
        occ = c.occupy(30)
        p = c.submit("echo", ["p"])
        r_occ = c.request("result", {"future": occ})
        r_p = c.request("result", {"future": p})
        r_ac = c.request("as_completed", {"futures": [occ, p]})
        t0 = time.monotonic()
        d.send_signal(signal.SIGTERM)
        e = self.assertError(c.response(r_occ), -32003, r_occ)
        self.assertEqual(e["data"]["type"], "Interrupted")
        self.assertIsInstance(e["data"]["message"], str)
        self.assertError(c.response(r_p), -32002, r_p)
        self.assertEqual(result_of(c.response(r_ac)), {"done": 2})
        states = {n["params"]["future"]["future"]:
                  n["params"]["future"]["state"] for n in c.notifications}
        self.assertEqual(states, {occ: "failed", p: "cancelled"})
        self.assertEqual(d.wait_exit(), 0)
        self.assertTiming(time.monotonic() - t0, 0.25, 10)
        self.assertFalse(os.path.exists(d.sock))

    def test_sigterm_answers_a_waiting_wait(self):
        d = Daemon(threads=2).start()
        self.addCleanup(d.close)
        c = d.client()
        self.addCleanup(c.close)
        a = c.submit("sleep", [0.3])
        b = c.submit("sleep", [0.5])
        rid = c.request("wait", {"futures": [a, b]})
        aid = c.request("as_completed", {"futures": [a, b]})
        d.send_signal(signal.SIGTERM)
        self.assertEqual(result_of(c.response(rid)),
                         {"done": [a, b], "not_done": []})
        self.assertEqual(result_of(c.response(aid)), {"done": 2})
        self.assertEqual(len(c.notifications), 2)
        self.assertEqual(d.wait_exit(), 0)


if __name__ == "__main__":
    main()
