"""A real SMTP server for the test suites, on aiosmtpd, that keeps every
message it accepts as one JSON file in a folder.

Run it through tests/support/smtp-sink, which makes sure aiosmtpd is
installed:

    smtp-sink --dir DIR [--port N] [--delay-data SECONDS]
              [--tls-cert CERT --tls-key KEY]

It listens on 127.0.0.1:N (N = 0, the default, picks a free port), prints
exactly one line, `listening on PORT`, once it accepts connections, and runs
until SIGTERM or SIGINT.

Each accepted message becomes DIR/<counter>-<random>.json (written under a
temporary name, then renamed, so a reader never sees half a file; the
zero-padded counter sorts in arrival order) with the keys:

- mail_from, rcpt_tos: the envelope (MAIL FROM, every RCPT TO);
- message_id, from, to, subject: those headers, decoded ("" when absent);
- text: the text/plain part, its transfer encoding and charset undone and
  its lines ending in "\n" ("" when there is none);
- html: the text/html part, likewise, or null;
- raw: the whole message as text, as it came (lines ending in CRLF);
- auth_user: the user name given with AUTH PLAIN or LOGIN, or null;
- auth_password: the password given with it, or null;
- received_at: when it was accepted, seconds since the epoch.

Authentication is not required, but a client that authenticates (PLAIN or
LOGIN, with or without TLS) is accepted whatever its credentials. With
--tls-cert and --tls-key the server offers STARTTLS and requires it before
anything else. With --delay-data it waits that many seconds after the
message's final dot before recording the message and answering 250: a
client that goes away meanwhile has its message dropped, as a real server
drops a message it never acknowledged.
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import logging
import os
import secrets
import signal
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def header(message, name):
    value = message.get(name)
    return "" if value is None else str(value).strip()


def body(message, subtype):
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    content = part.get_content()
    if isinstance(content, bytes):  # an unknown charset
        content = content.decode("utf-8", errors="replace")
    # Lines end in CRLF on the wire; tests compare with "\n".
    return content.replace("\r\n", "\n")


class Sink:
    def __init__(self, directory, delay_data):
        self.directory = directory
        self.delay_data = delay_data
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        if self.delay_data > 0:
            await asyncio.sleep(self.delay_data)
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", errors="surrogateescape")
        message = email.message_from_bytes(content, policy=email.policy.default)
        auth_user = None
        auth_password = None
        if isinstance(session.auth_data, LoginPassword):
            auth_user = session.auth_data.login.decode("utf-8", errors="replace")
            auth_password = session.auth_data.password.decode("utf-8", errors="replace")
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "message_id": header(message, "Message-ID"),
            "from": header(message, "From"),
            "to": header(message, "To"),
            "subject": header(message, "Subject"),
            "text": body(message, "plain") or "",
            "html": body(message, "html"),
            "raw": content.decode("utf-8", errors="replace"),
            "auth_user": auth_user,
            "auth_password": auth_password,
            # After STARTTLS or on an SMTPS socket alike, the transport
            # has an SSL context.
            "tls": server.transport.get_extra_info("sslcontext") is not None,
            "received_at": time.time(),
        }
        name = f"{next(self.counter):08d}-{secrets.token_hex(4)}.json"
        temporary = os.path.join(self.directory, f".{name}.tmp")
        with open(temporary, "w", encoding="utf-8") as out:
            json.dump(record, out, ensure_ascii=False, indent=1)
        os.replace(temporary, os.path.join(self.directory, name))
        return "250 OK"


def accept_any(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=True, handled=False, auth_data=auth_data)


async def serve(args):
    os.makedirs(args.dir, exist_ok=True)
    tls_context = None
    if args.tls_cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)
    handler = Sink(args.dir, args.delay_data)
    loop = asyncio.get_running_loop()

    # With --implicit-tls the socket speaks TLS from the first byte (SMTPS,
    # RFC 8314); otherwise a certificate is offered through STARTTLS, which
    # is then required.
    implicit = tls_context is not None and args.implicit_tls
    starttls = None if implicit else tls_context

    def protocol():
        return SMTP(
            handler,
            hostname="gatehouse-smtp-sink",
            enable_SMTPUTF8=True,
            tls_context=starttls,
            require_starttls=starttls is not None,
            auth_require_tls=False,
            authenticator=accept_any,
            loop=loop,
        )

    server = await loop.create_server(protocol, host="127.0.0.1", port=args.port,
                                      ssl=tls_context if implicit else None)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on {port}", flush=True)
    await stop.wait()
    server.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, help="where messages are written")
    parser.add_argument("--port", type=int, default=0, help="0: a free one")
    parser.add_argument("--delay-data", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--tls-cert", help="PEM certificate (chain) for STARTTLS")
    parser.add_argument("--tls-key", help="PEM private key for STARTTLS")
    parser.add_argument("--implicit-tls", action="store_true",
                        help="TLS from the first byte instead of STARTTLS")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    # aiosmtpd logs every command at INFO; keep only its warnings and errors.
    # Its warning that Session.login_data is deprecated comes with every
    # successful AUTH (aiosmtpd sets it itself): drop that one.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="smtp-sink: %(levelname)s %(name)s: %(message)s")
    logging.getLogger("mail.log").addFilter(
        lambda record: "login_data is deprecated" not in record.getMessage())
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
