"""Framing, pipelining, batches and request shapes (PROTOCOL.md, "Transport
and framing")."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pooldtest import (  # noqa: E402
    SharedDaemon, assert_alive, check_response, encode,
    error_of, main, request, result_of)


def line(obj):
    return encode(obj)


def by_id(responses):
    """Batch responses keyed by id (None for id null, kept as a list)."""
    out = {}
    for r in responses:
        check_response(r, any_id=True)
        out.setdefault(repr(r["id"]), []).append(r)
    return out


class Framing(SharedDaemon):
    DAEMON = dict(threads=4)

    # -- newline framing --

    def test_two_requests_in_one_write(self):
        self.c.send_raw(line(request("hello", id=1)) +
                        line(request("stats", id=2)))
        self.assertEqual(result_of(self.c.response(1))["name"], "poold")
        self.assertIn("uptime", result_of(self.c.response(2)))

    def test_request_split_across_writes(self):
        data = line(request("submit", {"fn": "echo", "args": ["split"]},
                            id=7))
        self.c.send_raw(data[:10])
        # A round trip elsewhere lets the daemon read the first piece alone.
        assert_alive(self.d.sock)
        self.c.send_raw(data[10:25])
        assert_alive(self.d.sock)
        self.c.send_raw(data[25:-1])
        assert_alive(self.d.sock)
        self.c.send_raw(b"\n")
        fid = result_of(self.c.response(7))["future"]
        self.assertEqual(self.c.ok("result", {"future": fid}), "split")

    def test_request_one_byte_at_a_time(self):
        for b in line(request("hello", id="slow")):
            self.c.send_raw(bytes([b]))
        self.assertEqual(result_of(self.c.response("slow"))["name"],
                         "poold")

    def test_crlf_terminated_line_is_whitespace(self):
        self.c.send_raw(b'{"jsonrpc":"2.0","method":"hello","id":3}\r\n')
        self.assertEqual(result_of(self.c.response(3))["name"], "poold")

    def test_response_is_one_line_with_escaped_newlines(self):
        value = {"text": "two\nlines\r\n\tand \u2603 \U0001f600",
                 "nested": [1, [2, [3, {"k": None}]], True, 1.5]}
        fid = self.c.submit("echo", [value])
        self.c.send_raw(line(request("result", {"future": fid}, id=4)))
        raw = self.c.recv_line()
        self.assertNotIn(b"\n", raw)
        msg = check_response(json.loads(raw), 4)
        self.assertEqual(msg["result"], value)

    def test_ids_are_echoed_exactly(self):
        for rid in ("abc", "", "a\nb\"c", "\u0438\u0434-\u2713", 0, -1,
                    2 ** 53 + 1,
                    2 ** 62, None):
            with self.subTest(id=rid):
                self.c.send(request("hello", id=rid))
                msg = self.c.recv()
                check_response(msg, rid)
                self.assertIn("result", msg)
                # 1 and true and "1" are different ids.
                self.assertIs(type(msg["id"]), type(rid))

    # -- pipelining --

    def test_waiting_result_does_not_hold_up_later_status(self):
        fid = self.c.submit("sleep", [1.0])
        self.c.send_raw(line(request("result", {"future": fid}, id=10)) +
                        line(request("status", {"future": fid}, id=11)))
        first = self.c.recv()
        check_response(first, 11)
        self.assertIn(result_of(first)["state"], ("pending", "running"))
        second = self.c.recv()
        check_response(second, 10)
        self.assertEqual(result_of(second), 1.0)

    def test_waiting_wait_and_as_completed_do_not_hold_up_hello(self):
        fid = self.c.submit("sleep", [1.0])
        self.c.send_raw(
            line(request("wait", {"futures": [fid]}, id="w")) +
            line(request("as_completed", {"futures": [fid]}, id="a")) +
            line(request("result", {"future": fid}, id="r")) +
            line(request("hello", id="h")))
        first = self.c.recv()
        check_response(first, "h")
        rest = [self.c.recv() for _ in range(4)]
        notes = [m for m in rest if "method" in m]
        self.assertEqual(len(notes), 1)
        self.assertEqual(notes[0]["method"], "as_completed")
        self.assertEqual(notes[0]["params"]["request"], "a")
        got = {m["id"]: m for m in rest if "id" in m}
        self.assertEqual(sorted(got), ["a", "r", "w"])
        self.assertEqual(result_of(got["w"]),
                         {"done": [fid], "not_done": []})
        self.assertEqual(result_of(got["a"]), {"done": 1})
        self.assertEqual(result_of(got["r"]), 1.0)

    def test_many_pipelined_requests_in_one_write(self):
        n = 200
        data = b"".join(
            line(request("submit", {"fn": "echo", "args": [i]}, id=i))
            for i in range(1, n + 1))
        self.c.send_raw(data)
        fids = {}
        for _ in range(n):
            msg = self.c.recv()
            check_response(msg, any_id=True)
            fids[msg["id"]] = result_of(msg)["future"]
        self.assertEqual(sorted(fids), list(range(1, n + 1)))
        self.assertEqual(len(set(fids.values())), n)
        self.assertEqual(self.c.ok("result", {"future": fids[n]}), n)

    def test_repeated_id_is_answered_twice(self):
        a = self.c.submit("sleep", [0.1])
        b = self.c.submit("echo", ["b"])
        self.c.send_raw(line(request("result", {"future": a}, id=5)) +
                        line(request("result", {"future": b}, id=5)))
        got = sorted(str(result_of(self.c.response(5))) for _ in range(2))
        self.assertEqual(got, ["0.1", "b"])

    def test_many_connections_pipelining(self):
        clients = [self.d.client() for _ in range(20)]
        try:
            for n, c in enumerate(clients):
                c.send_raw(b"".join(
                    line(request("submit", {"fn": "echo",
                                            "args": [[n, i]]}, id=i))
                    for i in range(25)))
            fids = []
            for c in clients:
                fids.append([result_of(c.response(i))["future"]
                             for i in range(25)])
            for n, c in enumerate(clients):
                c.send_raw(b"".join(
                    line(request("result", {"future": f}, id=100 + i))
                    for i, f in enumerate(fids[n])))
            for n, c in enumerate(clients):
                for i in range(25):
                    self.assertEqual(result_of(c.response(100 + i)), [n, i])
        finally:
            for c in clients:
                c.close()

    # -- batches --

    def test_empty_batch_is_one_invalid_request(self):
        self.c.send_raw(b"[]\n")
        msg = self.c.recv()
        self.assertIsInstance(msg, dict)
        error_of(msg, -32600, None, any_id=False)
        assert_alive(self.d.sock)

    def test_batch_of_requests(self):
        self.c.send([request("hello", id=1),
                     request("submit", {"fn": "echo", "args": [5]}, id=2),
                     request("functions", id=3)])
        msg = self.c.recv()
        self.assertIsInstance(msg, list)
        got = by_id(msg)
        self.assertEqual(sorted(got), ["1", "2", "3"])
        self.assertEqual(result_of(got["1"][0])["name"], "poold")
        fid = result_of(got["2"][0])["future"]
        self.assertIsInstance(result_of(got["3"][0]), list)
        self.assertEqual(self.c.ok("result", {"future": fid}), 5)

    def test_batch_of_only_notifications_is_not_answered(self):
        before = self.c.ok("stats")["submitted"]
        self.c.send([request("hello", notification=True),
                     request("submit", {"fn": "echo", "args": [1]},
                             notification=True)])
        self.assertEqual(self.c.quiet(), [])
        # The notifications were carried out.
        self.assertEqual(self.c.ok("stats")["submitted"], before + 1)

    def test_batch_mixed_valid_and_invalid(self):
        self.c.send([
            request("hello", id=1),
            request("hello", notification=True),
            {"foo": "boo"},
            request("nope", id="x"),
            1,
            request("status", [1], id=2),
            request("nope", notification=True),
        ])
        msg = self.c.recv()
        self.assertIsInstance(msg, list)
        self.assertEqual(len(msg), 5)
        got = by_id(msg)
        self.assertEqual(sorted(got), ["'x'", "1", "2", "None"])
        self.assertEqual(result_of(got["1"][0])["name"], "poold")
        error_of(got["'x'"][0], -32601)
        e = error_of(got["2"][0], -32602)
        self.assertEqual(e["data"]["param"], "params")
        self.assertEqual(len(got["None"]), 2)
        for r in got["None"]:
            error_of(r, -32600)
        self.assertEqual(self.c.quiet(), [])

    def test_batch_of_non_objects(self):
        self.c.send_raw(b"[1,2,3]\n")
        msg = self.c.recv()
        self.assertIsInstance(msg, list)
        self.assertEqual(len(msg), 3)
        for r in msg:
            error_of(r, -32600, None, any_id=False)
        self.c.send_raw(b"[[]]\n")
        msg = self.c.recv()
        self.assertIsInstance(msg, list)
        self.assertEqual(len(msg), 1)
        error_of(msg[0], -32600, None, any_id=False)
        assert_alive(self.d.sock)

    def test_batch_that_is_not_json_is_one_parse_error(self):
        self.c.send_raw(b'[{"jsonrpc":"2.0","method":"hello","id":1},'
                        b'{"jsonrpc"\n')
        msg = self.c.recv()
        self.assertIsInstance(msg, dict)
        error_of(msg, -32700, None, any_id=False)
        assert_alive(self.d.sock)

    def test_batch_notification_elements_get_no_entry(self):
        self.c.send([request("nope", notification=True),
                     request("hello", id=9)])
        msg = self.c.recv()
        self.assertIsInstance(msg, list)
        self.assertEqual(len(msg), 1)
        check_response(msg[0], 9)

    def test_batch_with_waiting_result(self):
        fid = self.c.submit("sleep", [0.8])
        self.c.send_raw(
            line([request("result", {"future": fid}, id="r"),
                  request("hello", id="h")]) +
            line(request("status", {"future": fid}, id="s")))
        first = self.c.recv()
        self.assertIsInstance(first, dict, "the later status waited for "
                              "the batch")
        check_response(first, "s")
        batch = self.c.recv()
        self.assertIsInstance(batch, list)
        got = by_id(batch)
        self.assertEqual(sorted(got), ["'h'", "'r'"])
        self.assertEqual(result_of(got["'r'"][0]), 0.8)
        self.assertEqual(result_of(got["'h'"][0])["name"], "poold")

    def test_batch_waits_for_all_its_results(self):
        a = self.c.submit("sleep", [0.2])
        b = self.c.submit("sleep", [0.4])
        self.c.send([request("result", {"future": a}, id="a"),
                     request("result", {"future": b}, id="b")])
        batch = self.c.recv()
        self.assertIsInstance(batch, list)
        got = by_id(batch)
        self.assertEqual(result_of(got["'a'"][0]), 0.2)
        self.assertEqual(result_of(got["'b'"][0]), 0.4)

    def test_batched_as_completed_notifies_before_the_batch_answer(self):
        a = self.c.submit("sleep", [0.2])
        self.c.send([request("as_completed", {"futures": [a]}, id="ac"),
                     request("hello", id="h")])
        note = self.c.recv()
        self.assertEqual(note.get("method"), "as_completed", note)
        self.assertEqual(note["params"]["request"], "ac")
        batch = self.c.recv()
        self.assertIsInstance(batch, list)
        got = by_id(batch)
        self.assertEqual(result_of(got["'ac'"][0]), {"done": 1})

    def test_large_batch(self):
        n = 1000
        self.c.send([request("hello", id=i) for i in range(n)])
        batch = self.c.recv()
        self.assertEqual(sorted(r["id"] for r in batch), list(range(n)))

    # -- notifications --

    def test_notifications_are_never_answered(self):
        fid = self.c.submit("echo", [1])
        cases = [
            ("hello", None),
            ("stats", {}),
            ("nope", {}),
            ("hello", [1]),
            ("hello", {"bogus": 1}),
            ("status", {"future": 5}),
            ("status", {}),
            ("status", {"future": "f-0000000000000000"}),
            ("submit", {"fn": "nope"}),
            ("submit", {"fn": "echo", "args": [1, 2]}),
            ("result", {"future": fid, "timeout": -1}),
            ("wait", {"futures": [fid], "return_when": "SOMETIMES"}),
            ("map", {}),
        ]
        for method, params in cases:
            self.c.notify(method, params)
        self.assertEqual(self.c.quiet(), [])
        assert_alive(self.d.sock)

    def test_notification_is_carried_out(self):
        before = self.c.ok("stats")["submitted"]
        self.c.notify("submit", {"fn": "echo", "args": ["n"]})
        self.assertEqual(self.c.quiet(), [])
        self.assertEqual(self.c.ok("stats")["submitted"], before + 1)
        listed = self.c.ok("list", {"limit": 1})
        self.assertEqual(listed[0]["fn"], "echo")

    def test_invalid_object_without_id_is_answered(self):
        # Not a well-formed notification, so not silent.
        for raw in (b'{"jsonrpc":"2.0","method":5}',
                    b'{"jsonrpc":"2.0","method":null}',
                    b'{"jsonrpc":"1.0","method":"hello"}',
                    b'{"method":"hello"}',
                    b'{"jsonrpc":"2.0","method":"hello","params":3}'):
            with self.subTest(raw=raw):
                self.c.send_raw(raw + b"\n")
                error_of(self.c.recv(), -32600, None, any_id=False)
        assert_alive(self.d.sock)

    # -- shapes --

    def test_parse_errors(self):
        for raw in (b"not json", b"{", b"nul", b'"unterminated',
                    b"[1,]", b"{'a':1}", b'{"a" 1}',
                    b'{"jsonrpc":"2.0","method":"hello","id":1} x',
                    b"{}{}", b"1 2", b"\x00",
                    b'\x00{"jsonrpc":"2.0","method":"hello","id":1}',
                    b'{"jsonrpc":"2.0","method":"hello","id":1}\x00x',
                    b'{"jsonrpc":"2.0","method":"hel\x00lo","id":1}'):
            with self.subTest(raw=raw):
                self.c.send_raw(raw + b"\n")
                error_of(self.c.recv(), -32700, None, any_id=False)
        self.assertEqual(self.c.ok("hello")["name"], "poold")
        assert_alive(self.d.sock)

    def test_invalid_requests_without_usable_id(self):
        for raw in (b"1", b'"x"', b"null", b"true", b"{}",
                    b'{"jsonrpc":"2.0"}',
                    b'{"jsonrpc":"2.0","method":"hello","id":{}}',
                    b'{"jsonrpc":"2.0","method":"hello","id":[1]}',
                    b'{"jsonrpc":"2.0","method":"hello","id":true}',
                    b'{"jsonrpc":"2.0","method":"hello","id":false}',
                    b'{"jsonrpc":"2.0","method":"hello","id":{"a":1}}'):
            with self.subTest(raw=raw):
                self.c.send_raw(raw + b"\n")
                error_of(self.c.recv(), -32600, None, any_id=False)
        self.assertEqual(self.c.ok("hello")["name"], "poold")
        assert_alive(self.d.sock)

    def test_invalid_requests_with_an_id(self):
        # PROTOCOL.md answers these with id null; echoing the id, which is
        # itself valid, is what JSON-RPC 2.0 allows too.
        for raw in (b'{"jsonrpc":"2.0","id":7}',
                    b'{"jsonrpc":"2.0","method":5,"id":7}',
                    b'{"jsonrpc":"2.0","method":null,"id":7}',
                    b'{"jsonrpc":"2.0","method":["hello"],"id":7}',
                    b'{"jsonrpc":"1.0","method":"hello","id":7}',
                    b'{"jsonrpc":2.0,"method":"hello","id":7}',
                    b'{"jsonrpc":"2","method":"hello","id":7}',
                    b'{"method":"hello","id":7}',
                    b'{"jsonrpc":"2.0","method":"hello","params":5,"id":7}',
                    b'{"jsonrpc":"2.0","method":"hello","params":"x",'
                    b'"id":7}',
                    b'{"jsonrpc":"2.0","method":"hello","params":true,'
                    b'"id":7}',
                    b'{"jsonrpc":"2.0","method":"hello","params":null,'
                    b'"id":7}'):
            with self.subTest(raw=raw):
                self.c.send_raw(raw + b"\n")
                msg = self.c.recv()
                error_of(msg, -32600)
                self.assertIn(msg["id"], (None, 7))
        assert_alive(self.d.sock)

    def test_params_array_is_invalid_params(self):
        fid = self.c.submit("echo", [1])
        for method, params in (("status", [fid]), ("hello", []),
                               ("submit", ["echo", [1]])):
            with self.subTest(method=method):
                e = self.c.err(method, params, -32602)
                self.assertEqual(e["data"]["param"], "params")
        assert_alive(self.d.sock)

    def test_params_absent_or_empty_object(self):
        self.assertEqual(self.c.ok("hello")["name"], "poold")
        self.assertEqual(self.c.ok("hello", {})["name"], "poold")

    def test_default_limit_allows_a_two_megabyte_line(self):
        value = "x" * (2 << 20)
        fid = self.c.submit("echo", [value])
        self.assertEqual(self.c.ok("result", {"future": fid}), value)


class LineLimit(SharedDaemon):
    """max_request_bytes = 1024."""

    DAEMON = dict(threads=2, config="max_request_bytes = 1024\n")

    def test_line_under_the_limit_is_served(self):
        fid = self.c.submit("echo", ["y" * 500])
        self.assertEqual(self.c.ok("result", {"future": fid}), "y" * 500)

    def sized(self, n):
        """A submit line of exactly N bytes before its newline."""
        base = len(line(request("submit", {"fn": "echo", "args": [""]},
                                id=1))) - 1
        data = line(request("submit", {"fn": "echo",
                                       "args": ["s" * (n - base)]}, id=1))
        self.assertEqual(len(data), n + 1)
        return data

    def test_limit_boundary(self):
        # Whether the newline counts or not, limit-1 bytes are served and
        # limit+1 are too long.
        self.c.send_raw(self.sized(1023))
        result_of(self.c.response(1))
        self.c.send_raw(self.sized(1025))
        error_of(self.c.recv(), -32600, None, any_id=False)
        self.c.expect_eof()
        assert_alive(self.d.sock)

    def test_overlong_line_is_invalid_request_then_close(self):
        long = line(request("submit", {"fn": "echo", "args": ["z" * 4000]},
                            id=2))
        self.c.send_raw(line(request("hello", id=1)) + long +
                        line(request("hello", id=3)))
        check_response(self.c.recv(), 1)
        error_of(self.c.recv(), -32600, None, any_id=False)
        # Nothing after the over-long line is served.
        self.c.expect_eof()
        assert_alive(self.d.sock)

    def test_overlong_line_without_newline(self):
        self.c.send_raw(b'{"jsonrpc":"2.0","method":"hello","params":{"x":"'
                        + b"a" * 8192)
        error_of(self.c.recv(), -32600, None, any_id=False)
        self.c.expect_eof()
        assert_alive(self.d.sock)

    def test_overlong_garbage_line(self):
        self.c.send_raw(b"\x01" * 3000 + b"\n")
        error_of(self.c.recv(), -32600, None, any_id=False)
        self.c.expect_eof()
        assert_alive(self.d.sock)


if __name__ == "__main__":
    main()
