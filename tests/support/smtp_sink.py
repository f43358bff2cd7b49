#!/usr/bin/env python3
"""A real SMTP server for the end-to-end tests (Debian: python3-aiosmtpd).

Usage: smtp_sink.py --dir DIR [--port PORT]

Listens on 127.0.0.1:PORT (0 = any free port), prints "PORT <n>" on stdout once it accepts
connections, and writes every message it receives to DIR as three kinds of files, each
renamed into place only when complete:

  <n>.eml          the message exactly as received (DATA)
  <n>.json         {"mail_from", "rcpt_tos", "message_id", "dispatch_key", "subject",
                    "text", "attachments": [{"filename", "content_type", "file"}]}
  <n>.att<i>       the i-th attachment, decoded (base64 undone) by Python's own MIME parser

so the Rust tests compare attachments byte for byte without a MIME parser of their own.
It stops on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


class Sink:
    def __init__(self, directory):
        self.dir = directory
        # Continue numbering after files a previous run left (a restarted sink).
        existing = [int(n.split(".")[0]) for n in os.listdir(directory) if n.endswith(".json")]
        self.seq = itertools.count(max(existing, default=0) + 1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.seq)
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        attachments = []
        text = ""
        for i, part in enumerate(msg.walk()):
            if part.is_multipart():
                continue
            if part.get_content_disposition() == "attachment":
                name = f"{n}.att{i}"
                write_atomic(os.path.join(self.dir, name), part.get_payload(decode=True) or b"")
                attachments.append(
                    {
                        "filename": part.get_filename(),
                        "content_type": part.get_content_type(),
                        "file": name,
                    }
                )
            elif part.get_content_type() == "text/plain":
                text += part.get_content()
        summary = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "message_id": msg.get("Message-ID"),
            "dispatch_key": msg.get("X-Callrec-Dispatch-Key"),
            "subject": msg.get("Subject"),
            "to": msg.get("To"),
            "text": text,
            "attachments": attachments,
        }
        write_atomic(os.path.join(self.dir, f"{n}.eml"), raw)
        # The summary last: a test that sees it sees everything else too.
        write_atomic(os.path.join(self.dir, f"{n}.json"), json.dumps(summary).encode())
        return "250 OK"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    sink = Sink(args.dir)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(
            lambda: SMTP(sink, data_size_limit=None, enable_SMTPUTF8=True, decode_data=False),
            host="127.0.0.1",
            port=args.port,
            reuse_address=True,
        )
    )
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
    return 0


if __name__ == "__main__":
    sys.exit(main())
