"""Generations across hosts: bumps travel through Redis pub/sub; a request makes no round trip.

A generation file (app.generation) is seen by every worker of one host. Workers on several
hosts each have their own FOLIO_DATA_DIR (a shared network volume caches file attributes
for seconds, too long for R-A1), so with FOLIO_REDIS_URL set a bump also goes through Redis:

- The writer, after appending to its file, PUBLISHes the generation's name on
  FOLIO_GENERATION_CHANNEL, before its request returns. If Redis cannot be reached the
  write stands (it is committed): the failure is logged as an error, and this process's
  listener publishes the name again once it reaches Redis.
- Each serving process runs one listener thread (started by the app's lifespan) subscribed
  to the channel. A message adds one to this process's count for that name; every
  (re)subscription adds one to an epoch shared by all names, since what was published
  while unsubscribed is unknown. A reader's generation is the file's stat with
  `epoch + count` appended: both only grow, so no earlier value comes back.
- While the subscription is not live (before the first one, Redis down, reconnecting, or
  no listener at all: a CLI command) every call answers a value never answered before
  (negative, where `epoch + count` is not): nothing is served from kept answers, every
  read goes to the database, and it is still correct, only slower.

Why not a Redis round trip per request: it would cost each read ~100 µs on a LAN (more than
the whole warm read) and make every read depend on Redis. Why no INCR'd counter per name:
nothing would read it. The listener's own counts cannot go back when Redis restarts and
loses its keys, where a counter read back from Redis could return to a value kept answers
were stamped with; a reconnection's epoch bump already covers whatever was missed.

What remains, honestly:
- Delivery: Redis writes the message to every subscriber before it answers the writer's
  PUBLISH, but the listener thread still has to wake, parse it and take the GIL. Measured
  on one loaded 2-core host: heard a median 80 µs (p99 140 µs) after PUBLISH returned,
  against the writer's response and the reader's next request still to travel; on a busy
  worker add up to the interpreter's switch interval (5 ms). A read that reaches another
  host within that window is answered from what it kept.
- A subscription lost silently (a network partition: no reset reaches the listener) is
  noticed by its pings: one every PING_SECONDS, and the subscription is held lost when
  nothing has come back for SILENT_SECONDS. Until then the worker serves what it kept and
  misses what is published; the epoch bump on resubscribing makes all of it stale.
- A writer cut off from Redis while the readers are not: the readers keep what they kept
  until the writer's listener reaches Redis and publishes again (logged as an error).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time

from redis import Redis
from redis.client import PubSub
from redis.exceptions import RedisError

log = logging.getLogger("folio")

CONNECT_SECONDS = 1.0  # the longest a write's PUBLISH (or a subscription) waits for Redis
PING_SECONDS = 0.5  # the listener pings Redis through its subscription this often...
SILENT_SECONDS = 2.0  # ...and holds it lost when nothing came back for this long
POLL_SECONDS = 0.1  # a listener waits this long for a message before it checks its stop flag
RETRY_SECONDS = 0.5  # between attempts to subscribe again

# This process's counts of messages heard per generation name, and its subscriptions so far.
_heard: dict[str, int] = {}
_epoch = 0
_heard_lock = threading.Lock()
# Answered while no subscription is live: negative, never answered twice.
_unheard = itertools.count(1)

Feed = tuple[str, str]  # (Redis URL, channel)


def heard(name: str, feed: Feed) -> int:
    """What this process has heard of `name` on `feed`: no I/O."""
    listener = _listeners.get(feed)
    if listener is None or not listener.live:
        return -next(_unheard)
    return _epoch + _heard.get(name, 0)


def _hear(name: str) -> None:
    with _heard_lock:
        _heard[name] = _heard.get(name, 0) + 1


def _new_epoch() -> None:
    global _epoch
    with _heard_lock:
        _epoch += 1


# Publishing ---------------------------------------------------------------------------

_publishers: dict[str, Redis] = {}
_publishers_lock = threading.Lock()
_unpublished: set[tuple[Feed, str]] = set()  # sent again by this process's listener


def _publisher(url: str) -> Redis:
    with _publishers_lock:
        client = _publishers.get(url)
        if client is None:
            client = Redis.from_url(
                url, socket_connect_timeout=CONNECT_SECONDS, socket_timeout=CONNECT_SECONDS
            )
            _publishers[url] = client
        return client


def publish(name: str, feed: Feed) -> None:
    """Tells every process listening on `feed` that `name` moved; never raises."""
    url, channel = feed
    try:
        _publisher(url).publish(channel, name)
    except RedisError as exc:
        with _publishers_lock:
            _unpublished.add((feed, name))
        # Workers on other hosts keep serving what they kept until it is published.
        log.error(
            "generation %s not published to Redis (%s): other hosts may serve stale answers "
            "until it is (retried by this process's listener)",
            name,
            exc,
        )


def _publish_pending(feed: Feed) -> None:
    with _publishers_lock:
        pending = [name for (f, name) in _unpublished if f == feed]
    for name in pending:
        _publisher(feed[0]).publish(feed[1], name)  # raises if Redis is away: retried
        with _publishers_lock:
            _unpublished.discard((feed, name))
        log.warning("generation %s published to Redis late", name)


# Listening ----------------------------------------------------------------------------


def client_name() -> str:
    """The name this process's subscriptions give Redis (CLIENT LIST shows it)."""
    return f"folio-generations-{os.getpid()}"


class Listener:
    """One subscription to a feed, kept live by a thread; `live` only while it is."""

    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.live = False
        self.users = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="folio-generation-listener", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=CONNECT_SECONDS + SILENT_SECONDS + 1)

    def _run(self) -> None:
        url, channel = self.feed
        lost_logged = False
        while not self._stop.is_set():
            client = Redis.from_url(
                url,
                socket_connect_timeout=CONNECT_SECONDS,
                socket_timeout=SILENT_SECONDS,
                client_name=client_name(),
            )
            pubsub = client.pubsub()
            try:
                pubsub.subscribe(channel)
                self._await_subscription(pubsub)
                lost_logged = False
                self._listen(pubsub)
            except (RedisError, OSError) as exc:
                if not lost_logged:  # once an outage: every retry would say the same
                    log.error(
                        "generation channel %s not heard (%s): serving without kept answers "
                        "until it is",
                        channel,
                        exc,
                    )
                    lost_logged = True
            finally:
                self.live = False
                pubsub.close()
                client.close()
            self._stop.wait(RETRY_SECONDS)

    def _await_subscription(self, pubsub: PubSub) -> None:
        deadline = time.monotonic() + SILENT_SECONDS
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=POLL_SECONDS)
            if message is not None and message["type"] == "subscribe":
                return
        raise TimeoutError("Redis did not confirm the subscription")

    def _listen(self, pubsub: PubSub) -> None:
        # Whatever was published while this process was not subscribed is unknown.
        _new_epoch()
        self.live = True
        log.info("generation channel %s heard", self.feed[1])
        last_answer = last_ping = time.monotonic()
        while not self._stop.is_set():
            message = pubsub.get_message(timeout=POLL_SECONDS)
            now = time.monotonic()
            if message is not None:
                last_answer = now
                if message["type"] == "message":
                    _hear(message["data"].decode())
            if now - last_answer > SILENT_SECONDS:
                raise TimeoutError(f"Redis did not answer for {SILENT_SECONDS} s")
            if now - last_ping >= PING_SECONDS:
                pubsub.ping()
                last_ping = now
            if _unpublished:
                _publish_pending(self.feed)


_listeners: dict[Feed, Listener] = {}
_listeners_lock = threading.Lock()


def start_listening(feed: Feed) -> None:
    """Subscribes this process to `feed` (the app's lifespan calls this; counted)."""
    with _listeners_lock:
        listener = _listeners.get(feed)
        if listener is None:
            listener = _listeners[feed] = Listener(feed)
            listener.start()
        listener.users += 1


def stop_listening(feed: Feed) -> None:
    """Ends the subscription once every start has been matched."""
    with _listeners_lock:
        listener = _listeners.get(feed)
        if listener is None:
            return
        listener.users -= 1
        if listener.users > 0:
            return
        del _listeners[feed]
    listener.stop()
