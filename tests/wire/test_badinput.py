"""Hostile and careless clients. Each test ends by checking the daemon still
serves a fresh connection: bad input costs the sender one error (or its
connection), nothing else."""

import collections
import json
import os
import random
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pooldtest import (Case, Daemon, assert_alive, check_response,  # noqa
                       encode, error_of, main, request, result_of)


class BadInput(Case):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(threads=4, config="shutdown_timeout = 0.2\n").start()
        with cls.d.client() as c:
            cls.fid = c.submit("echo", ["done"])
            c.ok("result", {"future": cls.fid})

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def setUp(self):
        super().setUp()
        self.c = self.d.client()
        self.addCleanup(self.c.close)

    def tearDown(self):
        # Every test here ends with the daemon still serving.
        assert_alive(self.d.sock)
        super().tearDown()

    def until(self, rid):
        """Messages before the response to RID, and that response."""
        before = []
        while True:
            m = self.c.recv()
            if isinstance(m, dict) and "id" in m and m["id"] == rid:
                return before, m
            before.append(m)

    def assert_errors_only(self, msgs, codes=(-32700, -32600)):
        for m in msgs:
            for r in (m if isinstance(m, list) else [m]):
                e = error_of(r, r.get("error", {}).get("code"), None,
                             any_id=False)
                self.assertIn(e["code"], codes, r)

    # -- bytes --

    def test_random_bytes(self):
        rng = random.Random(20240601)
        data = bytes(rng.randrange(256) for _ in range(1 << 16))
        self.c.send_raw(data + b"\n")
        self.c.send(request("hello", id="after"))
        before, resp = self.until("after")
        self.assertEqual(result_of(resp)["name"], "poold")
        self.assert_errors_only(before)

    def test_random_bytes_then_disconnect(self):
        rng = random.Random(7)
        data = bytes(rng.randrange(1, 256) for _ in range(4096))
        self.c.send_raw(data.replace(b"\n", b" "))
        self.c.close()

    def test_100000_open_brackets(self):
        self.c.send_raw(b"[" * 100000 + b"\n")
        error_of(self.c.recv(), -32700, None, any_id=False)
        self.assertEqual(self.c.ok("hello")["name"], "poold")

    def test_100000_nested_arrays(self):
        self.c.send_raw(b"[" * 100000 + b"]" * 100000 + b"\n")
        m = self.c.recv()
        # Too deep to parse, or a batch of one element that is not a
        # request: either way an error, not a crash.
        if isinstance(m, list):
            self.assertEqual(len(m), 1)
            error_of(m[0], -32600, None, any_id=False)
        else:
            error_of(m, -32700, None, any_id=False)
        self.assertEqual(self.c.ok("hello")["name"], "poold")

    def test_100000_nested_objects(self):
        self.c.send_raw(b'{"a":' * 100000 + b"\n")
        error_of(self.c.recv(), -32700, None, any_id=False)

    def test_deep_but_reasonable_value_round_trips(self):
        value = 1
        for _ in range(200):
            value = [value]
        fid = self.c.submit("echo", [value])
        self.assertEqual(self.c.ok("result", {"future": fid}), value)

    def test_non_utf8(self):
        head = b'{"jsonrpc":"2.0","method":"submit","params":{"fn":"echo",' \
               b'"args":["'
        tail = b'"]},"id":1}\n'
        for bad in (b"\xff", b"\xfe\xff", b"\x80", b"\xc0\x80",
                    b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80",
                    b"\xf4\x90\x80\x80", b"\xe2\x82", b"a\xc3"):
            with self.subTest(bytes=bad):
                self.c.send_raw(head + bad + tail)
                error_of(self.c.recv(), -32700, None, any_id=False)
        self.c.send_raw(b"\xff\xfe" + encode(request("hello", id=2)))
        error_of(self.c.recv(), -32700, None, any_id=False)
        self.assertEqual(self.c.ok("hello")["name"], "poold")

    def test_valid_utf8_round_trips(self):
        value = "\u00e9\u4e2d\U0001f600\u2028\u2029\x7f"
        fid = self.c.submit("echo", [value])
        self.assertEqual(self.c.ok("result", {"future": fid}), value)

    def test_escaped_nul_and_lone_surrogate(self):
        # Valid JSON text that a C daemon may refuse: either refused as
        # unparsable/invalid or echoed intact, never mangled.
        for raw, value in ((b'"a\\u0000b"', "a\x00b"),
                           (b'"\\ud800"', "\ud800")):
            with self.subTest(raw=raw):
                self.c.send_raw(
                    b'{"jsonrpc":"2.0","method":"submit","params":'
                    b'{"fn":"echo","args":[' + raw + b']},"id":1}\n')
                m = self.c.recv()
                check_response(m, any_id=True)
                if "error" in m:
                    self.assertIn(m["error"]["code"], (-32700, -32602), m)
                    continue
                fid = result_of(m)["future"]
                r = self.c.call("result", {"future": fid})
                if "result" in r:
                    self.assertEqual(r["result"], value)

    def test_numbers_out_of_range(self):
        for raw in (b"1e400", b"-1e400", b"18446744073709551616",
                    b"-99999999999999999999999"):
            with self.subTest(raw=raw):
                self.c.send_raw(
                    b'{"jsonrpc":"2.0","method":"submit","params":'
                    b'{"fn":"echo","args":[' + raw + b']},"id":1}\n')
                m = self.c.recv()
                check_response(m, any_id=True)
                if "error" in m:
                    self.assertIn(m["error"]["code"], (-32700, -32602), m)
                    continue
                fid = result_of(m)["future"]
                r = self.c.ok("result", {"future": fid})
                self.assertEqual(r, float(raw))

    def test_json_extensions_are_rejected(self):
        for raw in (b"[NaN]", b"[Infinity]", b"[-Infinity]", b"[0x10]",
                    b"[01]", b"[.5]", b"['a']", b"[1,]", b"[true false]"):
            with self.subTest(raw=raw):
                self.c.send_raw(
                    b'{"jsonrpc":"2.0","method":"submit","params":'
                    b'{"fn":"echo","args":' + raw + b'},"id":1}\n')
                error_of(self.c.recv(), -32700, None, any_id=False)

    def test_empty_and_blank_lines(self):
        self.c.send_raw(b"\n\n \t \n\r\n")
        self.c.send(request("hello", id="after"))
        before, resp = self.until("after")
        result_of(resp)
        # Whether blank lines are answered is not specified; if they are,
        # it is with an error.
        self.assert_errors_only(before)

    def test_many_garbage_lines_then_a_request(self):
        garbage = [(b"x", -32700), (b"{", -32700), (b"[]", -32600),
                   (b"1", -32600), (b'{"jsonrpc":"2.0"}', -32600),
                   (b'{"jsonrpc":"2.0","method":"hello","id":{}}', -32600),
                   (b"\xff\xff", -32700), (b"}", -32700)]
        data = b"".join(g + b"\n" for g, _ in garbage) * 125
        self.c.send_raw(data)
        self.c.send(request("hello", id="end"))
        before, resp = self.until("end")
        self.assertEqual(result_of(resp)["name"], "poold")
        for m in before:
            error_of(m, m["error"]["code"], None, any_id=False)
        got = collections.Counter(m["error"]["code"] for m in before)
        want = collections.Counter(code for _, code in garbage * 125)
        self.assertEqual(got, want)

    def test_huge_method_name_and_id(self):
        self.c.send(request("m" * 100000, {}, id=1))
        error_of(self.c.recv(), -32601, 1, any_id=False)
        rid = "i" * 100000
        self.c.send(request("hello", id=rid))
        check_response(self.c.recv(), rid)

    def test_many_unknown_params(self):
        params = {"p%d" % i: i for i in range(10000)}
        e = self.c.err("hello", params, -32602)
        self.assertIn(e["data"]["param"], params)

    # -- wrong types --

    def assert_param_error(self, method, params, param):
        r = self.c.call(method, params)
        e = error_of(r, -32602)
        self.assertEqual(e["data"]["param"], param, (method, params, r))

    def check_table(self, method, base, table):
        for param, bad_values in table.items():
            for bad in bad_values:
                params = dict(base)
                params[param] = bad
                with self.subTest(method=method, param=param, value=bad):
                    self.assert_param_error(method, params, param)

    def test_submit_wrong_types(self):
        self.check_table("submit", {"fn": "echo", "args": [1]}, {
            "fn": [1, None, [], {}, True, 1.5],
            "args": ["x", 1, {}, None, True],
            "kwargs": [[], "x", 1, None, True],
            "executor": ["bogus", 1, True, [], {}, "", "THREAD", "PROCESS"],
            "timeout": [-1, -0.001, "1", True, False, [], {}],
            "priority": [1.5, "1", True, None, [], {}],
            "retries": [-1, 1.5, "1", True, None],
            "notify": ["true", 1, 0, None, [], {}],
        })

    def test_submit_wrong_function_arguments(self):
        for fn, args in (("echo", []), ("echo", [1, 2]), ("sleep", []),
                         ("sleep", ["1"]), ("sleep", [-1]),
                         ("sleep", [True]), ("sleep", [None]),
                         ("sleep", [[1]]), ("sleep", [1, 2])):
            with self.subTest(fn=fn, args=args):
                self.assert_param_error("submit", {"fn": fn, "args": args},
                                        "args")
        for fn in ("echo", "sleep"):
            with self.subTest(fn=fn, kwargs=True):
                self.assert_param_error(
                    "submit", {"fn": fn, "args": [1], "kwargs": {"a": 1}},
                    "kwargs")
        # No args at all is the empty array.
        self.assert_param_error("submit", {"fn": "echo"}, "args")

    def test_future_methods_wrong_types(self):
        bad_future = [1, None, [], {}, True, ["f-0000000000000000"]]
        bad_timeout = [-1, -1e-9, "1", "null", True, False, [], {}]
        for method in ("status", "result", "exception", "cancel"):
            self.check_table(method, {"future": self.fid},
                             {"future": bad_future})
        for method in ("result", "exception"):
            self.check_table(method, {"future": self.fid},
                             {"timeout": bad_timeout})
        self.check_table("cancel", {"future": self.fid},
                         {"force": ["yes", 1, 0, None, [], {}]})

    def test_list_methods_wrong_types(self):
        bad_futures = [self.fid, 1, {}, None, True, [1], [None], [[]],
                       [self.fid, 2], [{}]]
        bad_timeout = [-1, "1", True, [], {}]
        self.check_table("wait", {"futures": [self.fid]}, {
            "futures": bad_futures,
            "timeout": bad_timeout,
            "return_when": [1, None, True, "first_completed", "BOGUS", "",
                            [], "ALL_COMPLETED "],
        })
        self.check_table("as_completed", {"futures": [self.fid]}, {
            "futures": bad_futures,
            "timeout": bad_timeout,
        })
        self.check_table("forget", {"futures": []},
                         {"futures": bad_futures[1:]})

    def test_list_wrong_types(self):
        self.check_table("list", {}, {
            "state": ["bogus", 1, True, "done", "PENDING", [], {}],
            "limit": [-1, 1.5, "1", True, None, [], {}],
        })

    def test_missing_required_params(self):
        for method, param in (("submit", "fn"), ("status", "future"),
                              ("result", "future"), ("exception", "future"),
                              ("cancel", "future"), ("wait", "futures"),
                              ("as_completed", "futures"),
                              ("forget", "futures")):
            with self.subTest(method=method):
                self.assert_param_error(method, {}, param)
                r = self.c.call(method)
                self.assertEqual(error_of(r, -32602)["data"]["param"], param)

    def test_unknown_param_on_every_method(self):
        base = {"hello": {}, "functions": {}, "stats": {}, "list": {},
                "submit": {"fn": "echo", "args": [1]},
                "status": {"future": self.fid},
                "result": {"future": self.fid},
                "exception": {"future": self.fid},
                "cancel": {"future": self.fid},
                "wait": {"futures": [self.fid]},
                "as_completed": {"futures": [self.fid]},
                "forget": {"futures": []}}
        for method, params in base.items():
            with self.subTest(method=method):
                p = dict(params, bogus_param=1)
                self.assert_param_error(method, p, "bogus_param")

    def test_large_valid_timeouts(self):
        for t in (1e300, 2 ** 62, 1e9):
            with self.subTest(timeout=t):
                self.assertEqual(self.c.ok("result", {"future": self.fid,
                                                      "timeout": t}), "done")
                self.assertEqual(self.c.ok("wait", {"futures": [self.fid],
                                                    "timeout": t}),
                                 {"done": [self.fid], "not_done": []})
                fid = self.c.submit("echo", [1], timeout=t)
                self.assertEqual(self.c.ok("result", {"future": fid}), 1)

    def test_huge_timeouts_do_not_fire_early(self):
        for t in (1e300, 1e18, 2 ** 62):
            with self.subTest(timeout=t):
                fid = self.c.submit("sleep", [0.1], timeout=t)
                self.assertEqual(self.c.ok("result", {"future": fid,
                                                      "timeout": t}), 0.1)
                fid = self.c.submit("sleep", [0.1])
                self.assertEqual(self.c.ok("wait", {"futures": [fid],
                                                    "timeout": t}),
                                 {"done": [fid], "not_done": []})
                fid = self.c.submit("sleep", [0.1])
                self.assertEqual(self.c.ok("as_completed",
                                           {"futures": [fid], "timeout": t}),
                                 {"done": 1})
                self.c.wait_notification("as_completed")

    def test_tiny_timeouts(self):
        fid = self.c.submit("sleep", [0.5])
        for t in (0.0, 1e-9, 5e-324):
            with self.subTest(timeout=t):
                e = self.c.err("result", {"future": fid, "timeout": t},
                               -32001)
                self.assertIn(e["data"]["state"], ("pending", "running"))

    def test_huge_sleep_is_bounded_by_its_timeout(self):
        for seconds in (1e300, 1e18, 2 ** 62):
            with self.subTest(seconds=seconds):
                t0 = time.monotonic()
                fid = self.c.submit("sleep", [seconds], timeout=0.1)
                e = self.c.err("result", {"future": fid}, -32003)
                self.assertEqual(e["data"]["type"], "TimeoutError")
                self.assertLess(time.monotonic() - t0, 5)

    def test_large_priorities(self):
        for p in (2 ** 31 - 1, -2 ** 31):
            with self.subTest(priority=p):
                fid = self.c.submit("echo", [p], priority=p)
                self.assertEqual(self.c.ok("result", {"future": fid}), p)
        # Beyond 32 bits the daemon may refuse, but only as a parameter
        # error, never by wrapping around.
        for p in (2 ** 62, -2 ** 62, 2 ** 31, -2 ** 31 - 1):
            with self.subTest(priority=p):
                r = self.c.call("submit", {"fn": "echo", "args": [p],
                                           "priority": p})
                if "error" in r:
                    e = error_of(r, -32602)
                    self.assertEqual(e["data"]["param"], "priority")
                    continue
                fid = result_of(r)["future"]
                self.assertEqual(self.c.ok("result", {"future": fid}), p)

    # -- careless clients --

    def test_disconnect_mid_result(self):
        fid = self.c.submit("sleep", [0.3])
        self.c.request("result", {"future": fid})
        self.c.request("exception", {"future": fid})
        self.c.close()
        with self.d.client() as other:
            self.assertEqual(other.ok("result", {"future": fid}), 0.3)

    def test_disconnect_mid_as_completed(self):
        a = self.c.submit("sleep", [0.2])
        b = self.c.submit("sleep", [0.4])
        e = self.c.submit("echo", [1])
        self.c.ok("result", {"future": e})
        self.c.request("as_completed", {"futures": [a, b, e]})
        self.c.close()
        with self.d.client() as other:
            self.assertEqual(other.ok("wait", {"futures": [a, b]}),
                             {"done": [a, b], "not_done": []})

    def test_disconnect_mid_wait_and_notify(self):
        a = self.c.submit("sleep", [0.3], notify=True)
        self.c.request("wait", {"futures": [a]})
        self.c.close()
        with self.d.client() as other:
            self.assertEqual(other.ok("result", {"future": a}), 0.3)

    def test_disconnect_mid_batch(self):
        a = self.c.submit("sleep", [0.2])
        self.c.send([request("result", {"future": a}, id=1),
                     request("hello", id=2)])
        self.c.close()
        with self.d.client() as other:
            self.assertEqual(other.ok("result", {"future": a}), 0.2)

    def test_disconnect_while_a_large_answer_is_written(self):
        fid = self.c.submit("echo", ["w" * (4 << 20)])
        self.c.ok("wait", {"futures": [fid]})
        for i in range(4):
            self.c.request("result", {"future": fid})
        self.c.close()

    def test_disconnect_without_reading_many_responses(self):
        self.c.send_raw(b"".join(encode(request("hello", id=i))
                                 for i in range(2000)))
        self.c.close()

    def test_client_that_reads_late(self):
        n = 10000
        data = b"".join(encode(request("hello", id=i)) for i in range(n))
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(self.d.sock)
        self.addCleanup(sock.close)
        failure = []

        def write():
            try:
                sock.sendall(data)
            except OSError as e:
                failure.append(e)

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        # While this client is not reading, others are served.
        assert_alive(self.d.sock)
        buf = bytearray()
        seen = 0
        sock.settimeout(10)
        deadline = time.monotonic() + 30
        while seen < n:
            self.assertLess(time.monotonic(), deadline)
            chunk = sock.recv(1 << 16)
            self.assertTrue(chunk, "closed after %d of %d responses"
                            % (seen, n))
            buf += chunk
            seen = buf.count(b"\n")
        writer.join(10)
        self.assertEqual(failure, [])
        ids = sorted(json.loads(x)["id"]
                     for x in bytes(buf).split(b"\n") if x)
        self.assertEqual(ids, list(range(n)))


class BadShutdownParams(Case):
    """Wrong shutdown parameters must not shut the daemon down."""

    def test_shutdown_wrong_types(self):
        with Daemon(threads=1) as d, d.client() as c:
            for param, bad in (("wait", "yes"), ("wait", 1), ("wait", None),
                               ("cancel_futures", "yes"),
                               ("cancel_futures", 0),
                               ("cancel_futures", None), ("bogus", True)):
                with self.subTest(param=param, value=bad):
                    e = c.err("shutdown", {param: bad}, -32602)
                    self.assertEqual(e["data"]["param"], param)
            c.err("shutdown", [True], -32602)
            fid = c.submit("echo", [1])
            self.assertEqual(c.ok("result", {"future": fid}), 1)
            assert_alive(d.sock)
            self.assertTrue(d.running)


if __name__ == "__main__":
    main()
