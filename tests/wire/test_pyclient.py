"""The Python client (clients/python) against a real poold."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "clients", "python"))

import poold  # noqa: E402
import pooldtest  # noqa: E402


class PythonClient(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.daemon = pooldtest.Daemon(threads=2).start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.close()

    def connect(self, **kw):
        return poold.Connection(self.daemon.sock, timeout=10, **kw)

    def test_submit_and_result(self):
        with self.connect() as c:
            fid = c.call("submit", {"fn": "echo", "args": [{"k": [1, "é"]}]})
            self.assertEqual(c.call("result", {"future": fid["future"]}),
                             {"k": [1, "é"]})

    def test_error_is_raised_with_code_and_data(self):
        with self.connect() as c:
            with self.assertRaises(poold.RemoteError) as cm:
                c.call("submit", {"fn": "no_such_fn"})
            self.assertEqual(cm.exception.code, -32004)
            self.assertEqual(cm.exception.data, {"fn": "no_such_fn"})
            self.assertEqual(c.call("hello")["name"], "poold")

    def test_answers_out_of_order_are_kept(self):
        with self.connect() as c:
            slow = c.call("submit", {"fn": "sleep", "args": [0.2]})["future"]
            waiting = c.send("result", {"future": slow})
            status = c.send("status", {"future": slow})
            self.assertIn(c.answer(status)["state"], ("pending", "running"))
            self.assertEqual(c.answer(waiting), 0.2)

    def test_notifications_reach_the_callback(self):
        got = []
        with self.connect(on_notification=lambda m, p: got.append((m, p))) \
                as c:
            fid = c.call("submit", {"fn": "echo", "args": [5],
                                    "notify": True})["future"]
            c.call("result", {"future": fid})
            # future.done is written before any later answer: a hello
            # round trip guarantees it has been read.
            c.call("hello")
            self.assertEqual(got[0][0], "future.done")
            self.assertEqual(got[0][1]["future"]["result"], 5)

    def test_default_socket_path_rules(self):
        saved = dict(os.environ)
        try:
            os.environ["POOLD_SOCKET"] = "/x/y.sock"
            self.assertEqual(poold.default_socket_path(), "/x/y.sock")
            del os.environ["POOLD_SOCKET"]
            if os.getuid() == 0:
                self.assertEqual(poold.default_socket_path(),
                                 "/run/poold/poold.sock")
            else:
                os.environ["XDG_RUNTIME_DIR"] = "/run/user/7"
                self.assertEqual(poold.default_socket_path(),
                                 "/run/user/7/poold/poold.sock")
        finally:
            os.environ.clear()
            os.environ.update(saved)


if __name__ == "__main__":
    pooldtest.main()
