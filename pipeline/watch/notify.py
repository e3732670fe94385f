"""Delivering an alert: e-mail over SMTP and a JSON POST to a webhook.

Both channels are configured in pipeline.core.config (COOPWATCH_SMTP_*, COOPWATCH_WEBHOOK_*);
a channel whose settings are empty is off. Every failure is raised as DeliveryError with a
short reason, which the caller records against the alert and retries later.
"""
from __future__ import annotations

import json
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import requests

from pipeline.core.config import ConfigError, Settings

SMTP_SECURITY = ("starttls", "ssl", "none")
TIMEOUT_SECONDS = 20


class DeliveryError(RuntimeError):
    """A message could not be delivered on one channel; the text says why."""


@dataclass(frozen=True)
class Message:
    """One alert as it is sent: e-mail subject and plain-text body, and the webhook JSON."""

    subject: str
    body: str
    payload: dict[str, Any]


def email_enabled(settings: Settings) -> bool:
    """E-mail is on when an SMTP host and at least one recipient are configured."""
    return bool(settings.smtp_host and settings.smtp_to)


def webhook_enabled(settings: Settings) -> bool:
    """The webhook is on when its URL is configured."""
    return bool(settings.webhook_url)


def send_email(settings: Settings, message: Message) -> None:
    """Send the message to every configured recipient in one SMTP session."""
    if settings.smtp_security not in SMTP_SECURITY:
        raise DeliveryError(
            f"COOPWATCH_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, "
            f"got {settings.smtp_security!r}"
        )
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = settings.smtp_from
    email["To"] = ", ".join(settings.smtp_to)
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain="coopwatch")
    email.set_content(message.body, charset="utf-8")
    try:
        password = settings.smtp_password()
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if settings.smtp_security == "ssl":
            smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port,
                                    timeout=TIMEOUT_SECONDS, context=context)
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS)
        with smtp:
            if settings.smtp_security == "starttls":
                smtp.starttls(context=context)
            if settings.smtp_user:
                smtp.login(settings.smtp_user, password)
            refused = smtp.send_message(email)
    except (OSError, smtplib.SMTPException, ConfigError) as exc:
        raise DeliveryError(f"SMTP {settings.smtp_host}:{settings.smtp_port}: {_reason(exc)}") from exc
    if refused:
        # Some recipients took it: not retried, or those would get it twice.
        raise DeliveryError(f"SMTP refused recipients: {', '.join(sorted(refused))}")


def post_webhook(settings: Settings, message: Message) -> None:
    """POST the payload as JSON; any status other than 2xx is a failure."""
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "CoopWatch alerts"}
    try:
        if token := settings.webhook_token():
            headers["Authorization"] = f"Bearer {token}"
        body = json.dumps(message.payload, ensure_ascii=False).encode("utf-8")
        response = requests.post(settings.webhook_url, data=body, headers=headers,
                                 timeout=TIMEOUT_SECONDS)
    except (requests.RequestException, ConfigError) as exc:
        raise DeliveryError(f"webhook: {_reason(exc)}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook: HTTP {response.status_code} {response.reason or ''}".rstrip())


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]
