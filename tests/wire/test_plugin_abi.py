"""Plugins of ABI version 1 load and run unchanged beside version 2 ones
(tests/plugins/abi1.c, whose poold_plugin has version 1's layout)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pooldtest import (EXIT_SKIP, SharedDaemon, assert_alive,  # noqa: E402
                       main, plugin_args)

ABI1 = os.environ.get("POOLD_ABI1_PLUGIN")


class Abi1(SharedDaemon):
    DAEMON = dict(threads=2, processes=1,
                  extra_args=["--plugin", ABI1] + plugin_args("examples"))

    def test_its_functions_run_on_both_executors(self):
        for executor in ("process", "thread"):
            fid = self.c.submit("abi1_double", [21], executor=executor)
            self.assertEqual(self.c.ok("result", {"future": fid,
                                                  "timeout": 30}), 42)
        fid = self.c.submit("abi1_double", ["x"])
        e = self.c.ok("exception", {"future": fid, "timeout": 30})
        self.assertEqual(e, {"type": "TaskError",
                             "message": "abi1_double takes one integer"})

    def test_a_star_is_part_of_a_version_1_name(self):
        names = {f["name"]: f for f in self.c.ok("functions")}
        self.assertIn("abi1_double", names)
        self.assertEqual(names["v1:*"]["default_executor"], "process")
        fid = self.c.submit("v1:*", [])
        self.assertEqual(self.c.ok("result", {"future": fid, "timeout": 30}),
                         "an ordinary name")
        self.c.err("submit", {"fn": "v1:anything"}, -32004)
        assert_alive(self.d.sock)

    def test_version_2_plugins_load_beside_it(self):
        fid = self.c.submit("is_prime", [97])
        self.assertIs(self.c.ok("result", {"future": fid, "timeout": 30}),
                      True)


if __name__ == "__main__":
    if not ABI1 or not os.path.exists(ABI1):
        print("test_plugin_abi.py needs $POOLD_ABI1_PLUGIN: skipped",
              file=sys.stderr)
        sys.exit(EXIT_SKIP)
    main()
