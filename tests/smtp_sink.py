"""A local SMTP server for tests: it keeps every message it is sent."""

import email
import email.policy
import socketserver
import threading


class SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, text: str):
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        server = self.server
        self.reply("220 sink ESMTP")
        recipients = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode(errors="replace").strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb == "MAIL":
                if server.hold.is_set():
                    # Keep the sender waiting for an answer, then hang up: a message in
                    # flight that is never accepted.
                    server.holding.set()
                    server.released.wait()
                    return
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip().strip("<>")
                if address in server.refuse:
                    self.reply("550 No such user")
                else:
                    recipients.append(address)
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while (part := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(part[1:] if part.startswith(b"..") else part)
                message = email.message_from_bytes(b"".join(data), policy=email.policy.default)
                server.messages.append((recipients, message))
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            elif verb in ("RSET", "NOOP", "HELO"):
                self.reply("250 OK")
            else:
                self.reply("502 Not implemented")


class SmtpSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.messages = []
        self.refuse = set()
        self.hold = threading.Event()  # set: MAIL FROM is never answered
        self.holding = threading.Event()  # a sender is being held
        self.released = threading.Event()
