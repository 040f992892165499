"""A real SMTP server for Carry's tests (aiosmtpd). Listens on a free loopback port, prints
"PORT <n>" once ready, and writes each message it receives to DIR as JSON (to, subject, text),
so tests read what actually arrived over SMTP, not what Carry meant to send."""

import argparse
import asyncio
import email
import json
import os
import time
from email import policy

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        part = message.get_body(preferencelist=("plain",))
        self.count += 1
        record = {
            "from": envelope.mail_from,
            "to": [r.lower() for r in envelope.rcpt_tos],
            "subject": str(message["subject"] or ""),
            "text": part.get_content() if part is not None else "",
            "received_at": time.time(),
        }
        name = f"{int(time.time() * 1000):015d}-{self.count:06d}.json"
        tmp = os.path.join(self.folder, name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(tmp, os.path.join(self.folder, name))
        return "250 Message accepted for delivery"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    handler = Sink(args.dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="localhost"), "127.0.0.1", args.port)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
