"""The Celery side shared by the coordinator and the workers: one app, queues, messages.

Every worker and the coordinator build the app with :func:`make_app`, because on Redis any
consumer's redelivery sweep uses its own settings (the smallest visibility timeout wins).
Messages are JSON only and carry no secret (:mod:`.celery_messages`).

* Redelivery: late acknowledgement with a prefetch of one, so a worker killed mid-task
  leaves its devices unacknowledged and the broker hands them to another worker of the
  queue — at once on RabbitMQ (the connection closes), after the visibility timeout on
  Redis (``VCOLLECTOR_REDIS_VISIBILITY_TIMEOUT``, default 1,800 s: longer than any device
  task, or a live worker's task would be handed out twice).
* Results: each run has its own reply queue (durable, expiring), which the coordinator
  reads and acknowledges once it has written the device's files; nothing stays behind.
* A redelivered task keeps its id: the coordinator counts each device once.
"""

from __future__ import annotations

import os
import re
import ssl
from typing import Any
from urllib.parse import urlsplit

from celery import Celery
from kombu.entity import Exchange, Queue
from kombu.utils.url import maybe_sanitize_url

from vcollector.errors import VCollectorError
from vcollector.transport.failures import one_line

TASK_NAME = "vcollector.collect_device.v1"
CANCEL_COMMAND = "vcollector_cancel_run"
QUEUE_PREFIX_ENV = "VCOLLECTOR_QUEUE_PREFIX"
DEFAULT_PREFIX = "vcollector"
VISIBILITY_ENV = "VCOLLECTOR_REDIS_VISIBILITY_TIMEOUT"
BROKER_CA_ENV = "VCOLLECTOR_BROKER_CA"
DEFAULT_VISIBILITY_SECONDS = 1800
REPLY_EXPIRES_SECONDS = 2 * 3600  # unused that long (Redis: since its last reply): gone
_PASSWORD = re.compile(r"(//[^:/@\s]*:)[^@\s]*@")
_QUERY_SECRET = re.compile(r"((?:password|passwd|pwd)=)[^&\s]*", re.IGNORECASE)


def prefix() -> str:
    """The queue name prefix (``vcollector``; tests and shared brokers may set their own)."""
    return os.environ.get(QUEUE_PREFIX_ENV) or DEFAULT_PREFIX


def default_queue() -> str:
    """The queue of devices whose site no worker serves (served by workers without --site)."""
    return f"{prefix()}.default"


def site_queue(code: str) -> str:
    """The queue of one site's devices."""
    return f"{prefix()}.site.{code.upper()}"


def task_queue(name: str) -> Queue:
    """A queue of device tasks, declared alike by the coordinator and the workers."""
    return Queue(name, Exchange(name, type="direct"), routing_key=name, durable=True)


def reply_queue(run_id: str) -> Queue:
    """A run's reply queue: durable and expiring, so a reply is never lost or left behind."""
    return reply_queue_named(f"{prefix()}.reply.{run_id}")


def reply_queue_named(name: str) -> Queue:
    """The reply queue called ``name`` (a worker declares it as the coordinator did)."""
    return Queue(
        name, exchange="", routing_key=name, durable=True, auto_delete=False, expires=REPLY_EXPIRES_SECONDS
    )


def safe_url(url: str) -> str:
    """The broker URL with its password shown as ``**`` (never print the raw one)."""
    shown = []
    for part in url.split(";"):
        try:
            cleaned = str(maybe_sanitize_url(part))
        except (ValueError, TypeError):
            cleaned = part
        shown.append(_QUERY_SECRET.sub(r"\1**", _PASSWORD.sub(r"\1**@", cleaned)))
    return ";".join(shown)


def tls_options(broker_url: str) -> dict[str, Any] | None:
    """Certificate checks for ``rediss://`` and ``amqps://`` (kombu alone would not verify a
    Redis server's certificate): required, against the system's CAs or
    ``$VCOLLECTOR_BROKER_CA``. A URL that sets ``ssl_cert_reqs`` itself decides."""
    ca = os.environ.get(BROKER_CA_ENV)
    if broker_url.startswith("rediss://"):
        if "ssl_cert_reqs=" in broker_url:
            return None
        return {"ssl_cert_reqs": ssl.CERT_REQUIRED, **({"ssl_ca_certs": ca} if ca else {})}
    if broker_url.startswith("amqps://"):
        context = ssl.create_default_context(cafile=ca)  # hostname and chain checked
        return {"context": context, "server_hostname": urlsplit(broker_url).hostname}
    return None


def make_app(broker_url: str) -> Celery:
    """The Celery app of vcollector for ``broker_url`` (Redis or RabbitMQ, TLS or not)."""
    app = Celery("vcollector", broker=broker_url, set_as_current=False)
    redis = broker_url.startswith(("redis://", "rediss://", "sentinel://"))
    visibility = int(os.environ.get(VISIBILITY_ENV, DEFAULT_VISIBILITY_SECONDS))
    transport: dict[str, Any] = (
        {
            "visibility_timeout": visibility,
            "unacked_restore_interval": min(5, max(1, visibility // 4)),
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": 5,
            "socket_timeout": 10,
            "health_check_interval": 10,
            # Every key of this deployment under its prefix, the unacknowledged set included:
            # two deployments (or test runs) on one Redis database never touch each other's.
            **({"global_keyprefix": f"{prefix()}:"} if prefix() != DEFAULT_PREFIX else {}),
        }
        if redis
        else {"confirm_publish": True}
    )
    app.conf.update(
        broker_use_ssl=tls_options(broker_url),
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        broker_connection_timeout=5,
        broker_connection_retry_on_startup=False,
        broker_connection_max_retries=3,
        broker_heartbeat=10,
        broker_transport_options=transport,
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 1,
        },
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_enable_remote_control=True,
        task_default_queue=default_queue(),
    )
    return app


class BrokerUnreachable(VCollectorError):
    """The broker does not answer (one line, the URL shown without its password)."""


def one_line_reason(exc: BaseException) -> str:
    """An exception as one line (its type when it says nothing)."""
    return one_line(str(exc) or type(exc).__name__)


def check_broker(url: str) -> None:
    """Connect once, within seconds; :class:`BrokerUnreachable` otherwise."""
    app = make_app(url)
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=5)
    except Exception as exc:
        raise BrokerUnreachable(f"cannot reach the broker {safe_url(url)}: {one_line_reason(exc)}") from None


def served_queues(app: Celery, timeout: float = 1.0) -> dict[str, set[str]]:
    """Which workers consume each queue, by the workers' own answer (``{}``: none answered)."""
    answers = app.control.inspect(timeout=timeout).active_queues() or {}
    served: dict[str, set[str]] = {}
    for worker, queues in answers.items():
        for queue in queues or ():
            served.setdefault(str(queue.get("name")), set()).add(str(worker))
    return served


def redelivery_seconds(url: str) -> float:
    """How long a broker may take to hand a dead worker's task to another worker."""
    if url.startswith(("redis://", "rediss://", "sentinel://")):
        visibility = int(os.environ.get(VISIBILITY_ENV, DEFAULT_VISIBILITY_SECONDS))
        return visibility + min(5, max(1, visibility // 4)) + 15
    return 45  # RabbitMQ: the connection closes, or three missed heartbeats
