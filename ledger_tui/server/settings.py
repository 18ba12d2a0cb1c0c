"""How the HTTP face is bounded: where it listens, how big and how slow a request may be."""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Limits and defaults of ``ledger-tui serve`` (flags override some of them)."""

    host: str = "127.0.0.1"
    port: int = 8080
    #: Largest body of any request but a bulk post (one entry set is at most 200 legs).
    max_body: int = 1 * MIB
    #: Largest body of ``POST /transactions/bulk``.
    max_bulk_body: int = 32 * MIB
    #: Most entry sets in one bulk request.
    max_bulk_sets: int = 20_000
    #: Entry sets of a bulk request written together (claims share consensus rounds).
    bulk_chunk: int = 1000
    #: Chunks of one bulk request written at once.
    bulk_chunks_in_flight: int = 3
    #: Reads at once when an atomic bulk request checks its ids.
    bulk_concurrency: int = 64
    #: Seconds one request may take (a post that times out still completes its write).
    request_timeout: float = 30.0
    #: Seconds a bulk request may take.
    bulk_timeout: float = 600.0
    #: Seconds a shutdown waits for requests in flight.
    graceful_shutdown: float = 30.0
    #: Seconds ``/health`` waits for the store.
    health_timeout: float = 3.0
    #: Requests per second per key, for keys without a rate of their own (None: no limit).
    rate_limit: int | None = None
    #: Certificate chain and private key (PEM files) to serve HTTPS; None: plain HTTP.
    tls_cert: str | None = None
    tls_key: str | None = None
    #: Most rows one page of /entries or /accounts may hold.
    max_page: int = 1000
    #: Events in a page of /changes when a call names no limit (a call may ask for up to 5000).
    changes_page: int = 1000
