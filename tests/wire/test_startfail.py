"""Workers that die at start-up: back off, fail what waits, recover.

The testing plugin's initializer fails while the file named by
POOLD_TESTING_INIT_FAIL exists, which stands for a broken initializer.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pooldtest import (Daemon, assert_alive, main,  # noqa: E402
                       plugin_args, plugin_path, wait_until)


class StartupFailures(unittest.TestCase):

    def setUp(self):
        self.d = Daemon(threads=2, processes=1,
                        extra_args=plugin_args("testing"),
                        env={"POOLD_TESTING_INIT_FAIL": "@DIR@/fail-init"})
        self.d.start()
        self.addCleanup(self.d.close)
        self.flag = os.path.join(self.d.dir, "fail-init")
        self.c = self.d.client()
        self.addCleanup(self.c.close)

    def getpid(self):
        return self.c.submit("getpid", [])

    def test_broken_pool_fails_waiting_tasks_and_recovers(self):
        first = self.c.ok("result", {"future": self.getpid()})
        open(self.flag, "w").close()
        crashed = self.c.submit("crash", [])
        self.assertEqual(self.c.ok("exception", {"future": crashed})["type"],
                         "WorkerCrashed")
        # The replacement dies in its initializer, again and again: what
        # waits for a worker fails with the reason, rather than hanging.
        err = self.c.err("result", {"future": self.getpid(), "timeout": 30},
                         -32003)["data"]
        self.assertEqual(err["type"], "WorkerCrashed")
        self.assertIn("init failed", err["message"])
        # Forks are spaced out, not a loop: in the time the failures took,
        # only a handful of workers were tried.
        log = self.d.log_text()
        self.assertLess(log.count("died before it was ready"), 10, log)
        os.unlink(self.flag)
        pid = wait_until(
            lambda: self.c.call("result", {"future": self.getpid(),
                                           "timeout": 30}).get("result"),
            timeout=30, what="a worker starts again")
        self.assertNotEqual(pid, first)
        workers = self.c.ok("workers")
        self.assertEqual([w["state"] for w in workers], ["idle"])
        assert_alive(self.d.sock)


if __name__ == "__main__":
    if plugin_path("testing") is None or \
            not os.path.exists(plugin_path("testing")):
        print("needs $POOLD_PLUGIN_DIR with testing.so: skipped",
              file=sys.stderr)
        sys.exit(77)
    main()
