"""Sending one mail over SMTP (the standard library's ``smtplib`` and ``email``): the I/O of notifications.

Knows nothing of naskah: ``pipeline.inbox.notifications`` decides who gets what and when, and hands each
message here.  A failure says whether it is worth retrying (:class:`MailError` ``temporary``): a server
that is down, refuses for now (4xx) or times out is; a recipient the server refuses for good (5xx on
that address) is not.  The password is never logged nor put in an error message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Literal

__all__ = ["MailError", "Mailer", "SmtpConfig"]

log = logging.getLogger(__name__)

TlsMode = Literal["none", "starttls", "ssl"]


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send: ``host`` empty means no server is configured (mail stays queued)."""

    host: str = ""
    port: int = 25
    tls: TlsMode = "none"
    user: str = ""
    password: str = field(default="", repr=False)
    sender: str = "naskah@localhost"
    sender_name: str = "Naskah Kerja Sama Daerah"
    timeout: float = 10.0

    @property
    def configured(self) -> bool:
        return bool(self.host.strip())

    def describe(self) -> str:
        """Where mail goes, for logs and the monitoring page (never the password)."""
        return f"{self.host}:{self.port} ({self.tls})" if self.configured else "tidak dikonfigurasi"


class MailError(Exception):
    """A mail not delivered; ``temporary``: the same mail may succeed later (retry with backoff)."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


class Mailer:
    """One SMTP connection per :meth:`send_many` batch (a server is not reconnected for every mail)."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        try:
            if cfg.tls == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=cfg.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
                if cfg.tls == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if cfg.user:
                smtp.login(cfg.user, cfg.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"SMTP login refused ({exc.smtp_code})", temporary=True) from None
        except (OSError, smtplib.SMTPException) as exc:  # refused, unreachable, timed out, TLS failed
            raise MailError(f"SMTP server {cfg.host}:{cfg.port} unavailable: {_short(exc)}", temporary=True) from None
        return smtp

    def message(self, to: str, subject: str, text: str, html: str, *, date: dt.datetime | None = None) -> EmailMessage:
        """The mail: plain text with an HTML alternative, from the configured sender, no attachment.

        ``date`` is its Date header (RFC 5322 requires one; ``smtplib`` does not add it): now unless
        given (``naskah demo`` writes queued mail to files dated when it was queued; naive means UTC)."""
        msg = EmailMessage()
        msg["From"] = formataddr((self.config.sender_name, self.config.sender))
        msg["To"] = to
        msg["Subject"] = subject
        when = date or dt.datetime.now(dt.UTC)
        msg["Date"] = format_datetime(when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC))
        msg["Message-ID"] = make_msgid(domain=self.config.sender.rpartition("@")[2] or "localhost")
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to notifications
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        return msg

    def open(self) -> _Connection:
        return _Connection(self, self._connect())


class _Connection:
    """An open SMTP session; ``send`` one message at a time, ``close`` at the end."""

    def __init__(self, mailer: Mailer, smtp: smtplib.SMTP) -> None:
        self.mailer = mailer
        self.smtp: smtplib.SMTP | None = smtp

    def send(self, to: str, subject: str, text: str, html: str) -> None:
        if self.smtp is None:
            self.smtp = self.mailer._connect()
        msg = self.mailer.message(to, subject, text, html)
        try:
            refused = self.smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise MailError(
                f"recipient refused ({', '.join(map(str, codes))})", temporary=all(400 <= c < 500 for c in codes)
            ) from None
        except smtplib.SMTPResponseException as exc:
            self._drop()
            raise MailError(f"SMTP {exc.smtp_code}: {_short(exc)}", temporary=exc.smtp_code < 500) from None
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise MailError(f"SMTP connection lost: {_short(exc)}", temporary=True) from None
        if refused:
            raise MailError(f"recipient refused: {refused}", temporary=False)

    def _drop(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(OSError):
                self.smtp.close()
        self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.smtp.quit()
        self._drop()


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, socket.timeout):
        text = "timed out"
    return text[:200]
