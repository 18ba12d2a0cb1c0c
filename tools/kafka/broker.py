#!/usr/bin/env python3
"""Run ONE local Apache Kafka 4.1.1 broker (KRaft: broker and controller in one JVM) for ledger-tui.

Why: the ingest/publish commands and their tests need a real broker, and not every machine has
Docker; like tools/cassandra/node.py, the broker is a plain JVM process whose jars come from Maven
Central (fetched once with Maven into a cache dir), with its server.properties and log4j2.xml
written into a run dir of its own (one per port, so brokers on different ports can coexist). It
listens on 127.0.0.1 only and counts as ready when it answers a Kafka Metadata request that lists
itself (registered and unfenced), not merely when its port accepts.

Subcommands:
  up      fetch jars if needed, format the data dir, start the broker, wait until it answers
  down    stop the broker started by `up` (SIGTERM, then SIGKILL after 60 s; by pid file only)
  status  say whether the broker runs and answers (exit 0 if answering, 1 otherwise)
  logs    print the tail of the broker's log

Standard library only (Python 3.11+).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any

KAFKA_VERSION = "4.1.1"
KAFKA_ARTIFACT = "kafka_2.13"
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies"
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
READY_LINE = "Kafka Server started"
DEFAULT_JAVA_HOME = Path("/usr/lib/jvm/java-17-openjdk-amd64")
MIN_JAVA = 17
ADDRESS = "127.0.0.1"
DEFAULT_PORT = 9092
NODE_ID = 1
DEFAULT_HEAP = "512m"
MIN_HEAP = "256m"
START_BUDGET_S = 120.0
STOP_BUDGET_S = 60.0
FORMAT_BUDGET_S = 120.0
PROGRESS_EVERY_S = 5.0
TAIL_LINES = 60
KEEP_LOGS = 5

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

ENV_HELP = f"""\
environment:
  LEDGER_KAFKA_PORT             client (PLAINTEXT) port on {ADDRESS}; default {DEFAULT_PORT}
  LEDGER_KAFKA_CONTROLLER_PORT  KRaft controller port on {ADDRESS}; default LEDGER_KAFKA_PORT + 1
  LEDGER_KAFKA_RUN_DIR          run dir (conf, data, logs, pid file); default <repo>/.run/kafka/<port>
  LEDGER_KAFKA_HEAP             JVM maximum heap (-Xmx; -Xms is {MIN_HEAP} or less); default {DEFAULT_HEAP}
  LEDGER_KAFKA_LIB_DIR          jar cache dir; default
                                ${{XDG_CACHE_HOME:-~/.cache}}/ledger-tui/kafka-{KAFKA_VERSION}/lib
  JAVA_HOME                     used if it is a Java {MIN_JAVA}+, else {DEFAULT_JAVA_HOME}
  XDG_CACHE_HOME                base of the default jar cache dir

files in the jar cache's parent dir:
  cds/broker-<key>.jsa, cds/format-<key>.jsa   class-data archives (AppCDS) that halve the JVMs'
                                               start; made by the first run, keyed by Java and jars

files in the run dir:
  conf/server.properties, conf/log4j2.xml   written by `up` (log4j2.xml from tools/kafka/)
  data/                                     the KRaft metadata log and the topics' logs
  logs/server.log                           the broker's log (INFO+); logs/previous/ keeps 5 runs
  kafka.out                                 the JVM's stdout/stderr (WARN+ only)
  kafka.pid, broker.json                    pid file and the settings the broker was started with
"""


class BrokerError(Exception):
    """A failure to report to the user (message printed, exit status 1)."""


def say(msg: str) -> None:
    print(f"[kafka] {msg}", flush=True)


# --------------------------------------------------------------------------------------------
# Settings and paths
# --------------------------------------------------------------------------------------------


def _env_port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise BrokerError(f"{name}={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise BrokerError(f"{name}={raw!r} is out of range")
    return port


def ports() -> tuple[int, int]:
    """(client port, controller port) from the environment."""
    port = _env_port("LEDGER_KAFKA_PORT", DEFAULT_PORT)
    default_controller = port + 1 if port < 65535 else port - 1
    controller = _env_port("LEDGER_KAFKA_CONTROLLER_PORT", default_controller)
    if controller == port:
        raise BrokerError(f"the client port and the controller port are both {port}")
    return port, controller


def _size_mb(size: str) -> float:
    """Megabytes in a JVM size like 512m, 1G or 268435456."""
    number, unit = int(size[:-1] if size[-1].isalpha() else size), size[-1].lower()
    scale = {"k": 1 / 1024, "m": 1.0, "g": 1024.0}.get(unit, 1 / (1024 * 1024))
    return number * scale


def heap_sizes() -> tuple[str, str]:
    """(-Xms, -Xmx) values: the maximum from LEDGER_KAFKA_HEAP, the initial one at most MIN_HEAP."""
    heap = os.environ.get("LEDGER_KAFKA_HEAP", "").strip() or DEFAULT_HEAP
    if not re.fullmatch(r"[1-9]\d*[kKmMgG]?", heap):
        raise BrokerError(f"LEDGER_KAFKA_HEAP={heap!r} is not a JVM size like 512m or 1g")
    if _size_mb(heap) < 64:
        raise BrokerError(f"LEDGER_KAFKA_HEAP={heap!r} is too small for a broker (64m at least)")
    initial = heap if _size_mb(heap) < _size_mb(MIN_HEAP) else MIN_HEAP
    return initial, heap


class Paths:
    def __init__(self, port: int) -> None:
        run = os.environ.get("LEDGER_KAFKA_RUN_DIR", "").strip()
        self.run_dir = Path(run).expanduser().resolve() if run else REPO / ".run" / "kafka" / str(port)
        lib = os.environ.get("LEDGER_KAFKA_LIB_DIR", "").strip()
        if lib:
            self.lib_dir = Path(lib).expanduser().resolve()
        else:
            cache = os.environ.get("XDG_CACHE_HOME", "").strip()
            cache_root = Path(cache).expanduser() if cache else Path.home() / ".cache"
            self.lib_dir = (cache_root / "ledger-tui" / f"kafka-{KAFKA_VERSION}" / "lib").resolve()
        self.lib_marker = self.lib_dir / ".complete.json"
        self.conf_dir = self.run_dir / "conf"
        self.properties = self.conf_dir / "server.properties"
        self.log4j2 = self.conf_dir / "log4j2.xml"
        self.data_dir = self.run_dir / "data"
        self.meta_file = self.data_dir / "meta.properties"
        self.log_dir = self.run_dir / "logs"
        self.log_file = self.log_dir / "server.log"
        self.out_file = self.run_dir / "kafka.out"
        self.pid_file = self.run_dir / "kafka.pid"
        self.state_file = self.run_dir / "broker.json"


# --------------------------------------------------------------------------------------------
# Java
# --------------------------------------------------------------------------------------------


def _java_major(java_home: Path) -> int | None:
    """Major version of the JDK/JRE at java_home, or None if it is not one."""
    java = java_home / "bin" / "java"
    if not (java.is_file() and os.access(java, os.X_OK)):
        return None
    release = java_home / "release"
    if release.is_file():
        m = re.search(r'^JAVA_VERSION="(\d+)', release.read_text(errors="replace"), re.M)
        if m:
            return int(m.group(1))
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r'version "(\d+)', out.stderr + out.stdout)
    return int(m.group(1)) if m else None


def find_java_home() -> Path:
    env = os.environ.get("JAVA_HOME", "").strip()
    if env:
        major = _java_major(Path(env))
        if major is not None and major >= MIN_JAVA:
            return Path(env)
        say(
            f"ignoring JAVA_HOME={env} (Java {major or 'not found'}; Kafka {KAFKA_VERSION} needs "
            f"Java {MIN_JAVA}+); trying {DEFAULT_JAVA_HOME}"
        )
    major = _java_major(DEFAULT_JAVA_HOME)
    if major is not None and major >= MIN_JAVA:
        return DEFAULT_JAVA_HOME
    raise BrokerError(f"no Java {MIN_JAVA}+ found: set JAVA_HOME to one or install {DEFAULT_JAVA_HOME}")


# --------------------------------------------------------------------------------------------
# Jars
# --------------------------------------------------------------------------------------------


def _pom_digest() -> str:
    """The pom's SHA-256: a cache fetched from another pom is fetched again."""
    return hashlib.sha256((HERE / "pom.xml").read_bytes()).hexdigest()


def _lib_complete(paths: Paths) -> bool:
    try:
        marker = json.loads(paths.lib_marker.read_text())
    except (OSError, ValueError):
        return False
    jars = marker.get("jars") or []
    if marker.get("version") != KAFKA_VERSION or marker.get("pom_sha256") != _pom_digest() or not jars:
        return False
    return all((paths.lib_dir / j).is_file() for j in jars)


def ensure_jars(paths: Paths, java_home: Path) -> None:
    """Copy kafka_2.13 and its run-time dependencies into the jar cache (once)."""
    if _lib_complete(paths):
        return
    mvn = shutil.which("mvn")
    if not mvn:
        raise BrokerError("Maven (`mvn`) is needed once to fetch the Kafka jars; it is not on PATH")
    paths.lib_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = paths.lib_dir.with_name(f"{paths.lib_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(HERE / "pom.xml"),
        MAVEN_DEPENDENCY_PLUGIN,
        "-DincludeScope=runtime",
        f"-DoutputDirectory={tmp}",
    ]
    say(f"fetching {KAFKA_ARTIFACT} {KAFKA_VERSION} jars from Maven into {paths.lib_dir} (first run)")
    say("  " + " ".join(cmd))
    env = dict(os.environ, JAVA_HOME=str(java_home))
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as mvn_out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=mvn_out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        next_report = t0 + PROGRESS_EVERY_S
        while True:
            try:
                proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() >= next_report:
                say(f"  still fetching jars ... {time.monotonic() - t0:.0f}s")
                next_report += PROGRESS_EVERY_S
        mvn_out.seek(0)
        output = mvn_out.read().decode(errors="replace")
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        detail = "\n".join(output.splitlines()[-TAIL_LINES:])
        raise BrokerError(f"Maven failed (exit {proc.returncode}):\n{detail}")
    jars = sorted(p.name for p in tmp.glob("*.jar"))
    needed = (f"{KAFKA_ARTIFACT}-{KAFKA_VERSION}.jar", f"kafka-server-{KAFKA_VERSION}.jar")
    missing = [j for j in needed if j not in jars]
    for prefix in ("log4j-core-", "log4j-slf4j-impl-"):
        if not any(j.startswith(prefix) for j in jars):
            missing.append(f"{prefix}*.jar")
    if missing:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BrokerError(f"Maven finished but {', '.join(missing)} is missing from {tmp}")
    shutil.rmtree(paths.lib_dir, ignore_errors=True)
    tmp.rename(paths.lib_dir)
    paths.lib_marker.write_text(
        json.dumps(
            {
                "version": KAFKA_VERSION,
                "pom_sha256": _pom_digest(),
                "jars": jars,
                "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
            indent=1,
        )
        + "\n"
    )
    size = sum((paths.lib_dir / j).stat().st_size for j in jars)
    say(f"fetched {len(jars)} jars ({size / 1e6:.0f} MB) in {time.monotonic() - t0:.1f}s")


# --------------------------------------------------------------------------------------------
# Config and command lines
# --------------------------------------------------------------------------------------------


def render_conf(paths: Paths, port: int, controller_port: int) -> None:
    """Write server.properties (one KRaft broker+controller on ADDRESS) and log4j2.xml."""
    paths.conf_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{ADDRESS}:{controller_port}",
        "listeners": f"PLAINTEXT://{ADDRESS}:{port},CONTROLLER://{ADDRESS}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{ADDRESS}:{port}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(paths.data_dir),
        # One broker: every internal topic has one replica.
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # A test broker: no wait before the first group rebalance, few threads on a small box;
        # a member may ask for a session timeout from 1 s (a test that kills an ingester need not
        # wait 10 s for its partitions) to 10 min (so a longer one is refused, as it can be).
        "group.initial.rebalance.delay.ms": "0",
        "group.min.session.timeout.ms": "1000",
        "group.max.session.timeout.ms": "600000",
        "num.partitions": "1",
        "num.network.threads": "2",
        "num.io.threads": "4",
        "num.recovery.threads.per.data.dir": "1",
        "offsets.topic.num.partitions": "10",
        "auto.create.topics.enable": "false",
    }
    lines = [f"# written by tools/kafka/broker.py up ({time.strftime('%Y-%m-%dT%H:%M:%S%z')})"]
    lines += [f"{key}={value}" for key, value in settings.items()]
    paths.properties.write_text("\n".join(lines) + "\n")
    shutil.copyfile(HERE / "log4j2.xml", paths.log4j2)


def cluster_id() -> str:
    """A new cluster id as Kafka writes one (a random UUID, URL-safe base64 without padding, never
    starting with '-'), made here so that formatting needs no extra JVM start for `random-uuid`."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def class_archive(paths: Paths, java_home: Path, role: str) -> Path:
    """Where the class-data archive (AppCDS) of ``role`` ("broker" or "format") lives: next to the
    jar cache, keyed by the Java and the jars it was made from (a JVM refuses an archive made by
    another JVM or from another class path, and then just starts without it)."""
    key = hashlib.sha256(str(java_home.resolve()).encode())
    for part in (java_home / "release", paths.lib_marker):
        with contextlib.suppress(OSError):
            key.update(part.read_bytes())
    return paths.lib_dir.parent / "cds" / f"{role}-{key.hexdigest()[:16]}.jsa"


def class_archive_flags(archive: Path, use: bool) -> tuple[list[str], Path | None]:
    """JVM flags that use ``archive``, or, if there is none yet, dump one at exit into a temporary
    file (returned; settle_class_dump moves it into place once the JVM exited cleanly)."""
    if not use:
        return [], None
    if archive.is_file():
        return [f"-XX:SharedArchiveFile={archive}"], None
    archive.parent.mkdir(parents=True, exist_ok=True)
    dump = archive.with_name(f"{archive.name}.tmp-{secrets.token_hex(4)}")
    return [f"-XX:ArchiveClassesAtExit={dump}"], dump


def settle_class_dump(dump: Path | None, archive: Path | None, *, clean_exit: bool) -> None:
    """Move a dumped archive into place after a clean exit; throw it away after a kill."""
    if dump is None or not dump.exists():
        return
    if clean_exit and archive is not None and dump.stat().st_size > 0:
        dump.replace(archive)
    else:
        dump.unlink(missing_ok=True)


def _jvm_flags(paths: Paths, java_home: Path, *, quick_jit: bool) -> list[str]:
    flags = [
        str(java_home / "bin" / "java"),
        "-XX:+UseSerialGC" if quick_jit else "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError",
        "-XX:+ExplicitGCInvokesConcurrent",
        f"-XX:ErrorFile={paths.log_dir}/hs_err_pid%p.log",
        "-Djava.awt.headless=true",
        "-Djava.net.preferIPv4Stack=true",
        f"-Dlog4j2.configurationFile={paths.log4j2}",
        f"-Dkafka.logs.dir={paths.log_dir}",
    ]
    if quick_jit:
        flags.append("-XX:TieredStopAtLevel=1")
    return flags


def format_command(paths: Paths, java_home: Path, cluster: str, cds: list[str]) -> list[str]:
    """StorageTool format of the data dir (KRaft needs it before the first start)."""
    return [
        *_jvm_flags(paths, java_home, quick_jit=True),
        *cds,
        "-Xms64m",
        "-Xmx256m",
        "-cp",
        f"{paths.lib_dir}/*",
        STORAGE_TOOL,
        "format",
        "-t",
        cluster,
        "-c",
        str(paths.properties),
        "--ignore-formatted",
    ]


def java_command(
    paths: Paths, java_home: Path, heap: tuple[str, str], *, quick_jit: bool, cds: list[str]
) -> list[str]:
    """The broker's JVM command line. ``quick_jit`` compiles with the JVM's quick compiler only (C1)
    and collects with the serial collector: fewer compiler and GC threads on a 2-core box shared
    with the tests, at a lower peak speed, so never for a benchmark."""
    initial, maximum = heap
    return [
        *_jvm_flags(paths, java_home, quick_jit=quick_jit),
        *cds,
        f"-Xms{initial}",
        f"-Xmx{maximum}",
        "-cp",
        f"{paths.lib_dir}/*",
        MAIN_CLASS,
        str(paths.properties),
    ]


def rotate_logs(paths: Paths, keep: int = KEEP_LOGS) -> None:
    """Move the previous run's logs to logs/previous/<time>-<name> and keep the newest ``keep`` runs,
    so a fresh log never matches an old readiness line and a crash's log survives a restart."""
    previous = paths.log_dir / "previous"
    stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{time.monotonic_ns() % 1000000:06d}"
    moved = False
    for f in (paths.log_file, paths.out_file):
        if f.exists():
            previous.mkdir(parents=True, exist_ok=True)
            f.replace(previous / f"{stamp}-{f.name}")
            moved = True
    for rolled in paths.log_dir.glob("server.log.*"):
        rolled.unlink(missing_ok=True)
    if not moved:
        return
    runs = sorted({"-".join(p.name.split("-", 2)[:2]) for p in previous.iterdir()})
    for old in runs[:-keep]:
        for p in previous.glob(f"{old}-*"):
            p.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# Process and port inspection
# --------------------------------------------------------------------------------------------


def _read_pid(paths: Paths) -> int | None:
    try:
        return int(paths.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _read_state(paths: Paths) -> dict[str, Any]:
    try:
        state = json.loads(paths.state_file.read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        state = stat.rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


def _is_our_broker(paths: Paths, pid: int) -> bool:
    """True if pid is alive and is the Kafka JVM we started with this run dir's config."""
    if not _is_alive(pid):
        return False
    args = _cmdline(pid)
    if args is None:
        return False
    return MAIN_CLASS in args and str(paths.properties) in args


def our_pid(paths: Paths) -> int | None:
    """Pid of our running broker from the pid file, or None (removing a stale pid file)."""
    pid = _read_pid(paths)
    if pid is None:
        if paths.pid_file.exists():
            paths.pid_file.unlink(missing_ok=True)
        return None
    if _is_our_broker(paths, pid):
        return pid
    say(f"removing stale pid file {paths.pid_file} (pid {pid} is not our Kafka broker)")
    paths.pid_file.unlink(missing_ok=True)
    return None


def port_open(port: int, host: str = ADDRESS, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _listener_pids(port: int) -> list[tuple[int, str]]:
    """Best effort: (pid, command) of processes listening on TCP `port` (Linux /proc only)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 9 and parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    found: list[tuple[int, str]] = []
    if not inodes:
        return found
    targets = {f"socket:[{i}]" for i in inodes}
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            for fd in (proc_dir / "fd").iterdir():
                if os.readlink(fd) in targets:
                    args = _cmdline(int(proc_dir.name)) or []
                    found.append((int(proc_dir.name), re.sub(r"\s+", " ", " ".join(args))[:160]))
                    break
        except OSError:
            continue
    return found


def _describe_listener(port: int) -> str:
    who = _listener_pids(port)
    if not who:
        return "(owner unknown)"
    return "; ".join(f"pid {pid}: {cmd}" for pid, cmd in who)


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = conn.recv(min(size, 65536))
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def metadata_brokers(port: int, host: str = ADDRESS, timeout: float = 2.0) -> list[int] | None:
    """Node ids of the brokers a Metadata request (v4, no topics) lists, or None if the listener
    does not answer one. A KRaft broker lists itself only once it is registered and unfenced, that
    is when it takes clients' requests."""
    correlation = 0x4C54  # "LT"
    client = b"ledger-tui-broker-py"
    # Request header v1 (api_key 3 = Metadata, version 4, correlation id, client id), then the body:
    # topics = empty array (no topics), allow_auto_topic_creation = false.
    request = struct.pack(">hhih", 3, 4, correlation, len(client)) + client + struct.pack(">ib", 0, 0)
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            conn.sendall(struct.pack(">i", len(request)) + request)
            (size,) = struct.unpack(">i", _recv_exact(conn, 4))
            if not 8 <= size <= 1 << 20:
                return None
            body = _recv_exact(conn, size)
    except (OSError, ConnectionError, struct.error):
        return None
    try:
        # Response header v0 (correlation id); body v4: throttle_time_ms, brokers [node_id, host,
        # port, rack], cluster_id, controller_id, topics.
        got_correlation, _throttle, count = struct.unpack_from(">iii", body, 0)
        if got_correlation != correlation or not 0 <= count <= 10000:
            return None
        offset, nodes = 12, []
        for _ in range(count):
            (node_id, host_len) = struct.unpack_from(">ih", body, offset)
            offset += 6 + host_len + 4
            (rack_len,) = struct.unpack_from(">h", body, offset)
            offset += 2 + max(rack_len, 0)
            nodes.append(node_id)
        return nodes
    except struct.error:
        return None


def answering(port: int, host: str = ADDRESS) -> bool:
    """The broker answers Kafka requests and lists itself (see metadata_brokers)."""
    return NODE_ID in (metadata_brokers(port, host) or [])


def log_has_ready_line(paths: Paths) -> bool:
    try:
        with paths.log_file.open("rb") as f:
            return READY_LINE.encode() in f.read()
    except OSError:
        return False


def tail(path: Path, n: int) -> list[str]:
    try:
        with path.open("r", errors="replace") as f:
            return list(deque(f, maxlen=n))
    except OSError:
        return []


def print_tails(paths: Paths, n: int = TAIL_LINES) -> None:
    lines = tail(paths.log_file, n)
    print(f"----- last {len(lines)} lines of {paths.log_file} -----", file=sys.stderr)
    sys.stderr.write("".join(lines) or "(empty or missing)\n")
    out = tail(paths.out_file, n)
    if out:
        print(f"----- last {len(out)} lines of {paths.out_file} (JVM stdout/stderr) -----", file=sys.stderr)
        sys.stderr.write("".join(out))
    sys.stderr.flush()


# --------------------------------------------------------------------------------------------
# Stop
# --------------------------------------------------------------------------------------------


def stop_pid(pid: int, budget: float = STOP_BUDGET_S) -> bool:
    """SIGTERM pid, wait up to `budget` s, then SIGKILL that pid only; returns once it is gone,
    True if it exited on SIGTERM (cleanly)."""
    say(f"stopping broker (pid {pid}) with SIGTERM")
    t0 = time.monotonic()
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    next_report = t0 + PROGRESS_EVERY_S
    while _is_alive(pid) and time.monotonic() - t0 < budget:
        time.sleep(0.1)
        if time.monotonic() >= next_report:
            say(f"  waiting for pid {pid} to exit ... {time.monotonic() - t0:.0f}s")
            next_report += PROGRESS_EVERY_S
    if _is_alive(pid):
        say(f"pid {pid} still alive after {budget:.0f}s; sending SIGKILL")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        t1 = time.monotonic()
        while _is_alive(pid) and time.monotonic() - t1 < 10:
            time.sleep(0.1)
        if _is_alive(pid):
            raise BrokerError(f"pid {pid} survived SIGKILL")
        say(f"broker killed after {time.monotonic() - t0:.1f}s")
        return False
    say(f"broker stopped in {time.monotonic() - t0:.1f}s")
    return True


def settle_state_dump(paths: Paths, *, clean_exit: bool) -> None:
    """settle_class_dump for the archive the broker of this run dir was told to dump at exit."""
    state = _read_state(paths)
    dump, archive = state.get("class_archive_dump"), state.get("class_archive")
    if dump:
        settle_class_dump(Path(dump), Path(archive) if archive else None, clean_exit=clean_exit)


# --------------------------------------------------------------------------------------------
# Subcommands
# --------------------------------------------------------------------------------------------


def wait_ready(
    paths: Paths, port: int, pid: int, budget: float, proc: subprocess.Popen[bytes] | None
) -> float:
    """Wait until the broker answers; returns seconds waited. Raises BrokerError on death or timeout."""
    t0 = time.monotonic()
    next_report = t0 + PROGRESS_EVERY_S
    while True:
        if answering(port):
            return time.monotonic() - t0
        exited = proc.poll() is not None if proc is not None else not _is_alive(pid)
        if exited:
            code = f" with exit status {proc.returncode}" if proc is not None else ""
            paths.pid_file.unlink(missing_ok=True)
            settle_state_dump(paths, clean_exit=False)
            print_tails(paths)
            raise BrokerError(f"the broker (pid {pid}) exited{code} before it answered on {ADDRESS}:{port}")
        elapsed = time.monotonic() - t0
        if elapsed >= budget:
            print_tails(paths)
            try:
                stop_pid(pid, budget=30)
            finally:
                paths.pid_file.unlink(missing_ok=True)
                settle_state_dump(paths, clean_exit=False)
            raise BrokerError(f"the broker did not answer on {ADDRESS}:{port} within {budget:.0f}s; stopped")
        if time.monotonic() >= next_report:
            port_state = "open" if port_open(port, timeout=0.5) else "closed"
            last = tail(paths.log_file, 1)
            last_msg = last[0].strip()[:100] if last else "(no log yet)"
            say(f"  waiting for {ADDRESS}:{port} ... {elapsed:.0f}s (port {port_state}; log: {last_msg})")
            next_report += PROGRESS_EVERY_S
        time.sleep(0.1)


def format_storage(paths: Paths, java_home: Path, *, use_cds: bool) -> None:
    """Format the KRaft data dir with a new cluster id (one short JVM run)."""
    archive = class_archive(paths, java_home, "format")
    cds, dump = class_archive_flags(archive, use_cds)
    cmd = format_command(paths, java_home, cluster_id(), cds)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=FORMAT_BUDGET_S, cwd=paths.run_dir)
    except subprocess.TimeoutExpired:
        settle_class_dump(dump, None, clean_exit=False)
        raise BrokerError(f"formatting {paths.data_dir} took over {FORMAT_BUDGET_S:.0f}s") from None
    settle_class_dump(dump, archive, clean_exit=done.returncode == 0)
    if done.returncode != 0 or not paths.meta_file.is_file():
        detail = "\n".join((done.stdout + done.stderr).splitlines()[-TAIL_LINES:])
        raise BrokerError(f"formatting {paths.data_dir} failed (exit {done.returncode}):\n{detail}")


def cmd_up(args: argparse.Namespace) -> int:
    t_start = time.monotonic()
    port, controller_port = ports()
    heap = heap_sizes()
    paths = Paths(port)

    pid = our_pid(paths)
    if pid is not None:
        if answering(port):
            say(f"broker already running (pid {pid}) and answering on {ADDRESS}:{port}")
            return 0
        say(f"broker already running (pid {pid}) but not answering yet; waiting")
        waited = wait_ready(paths, port, pid, args.timeout, proc=None)
        say(f"broker (pid {pid}) answering on {ADDRESS}:{port} after {waited:.1f}s more")
        return 0

    for p, what in ((port, "client"), (controller_port, "controller")):
        if port_open(p):
            raise BrokerError(
                f"something else already listens on {ADDRESS}:{p} (the {what} port) and it is not a broker "
                f"started from {paths.run_dir}: {_describe_listener(p)}. Stop it, or pick other ports "
                f"with LEDGER_KAFKA_PORT / LEDGER_KAFKA_CONTROLLER_PORT."
            )

    paths.run_dir.mkdir(parents=True, exist_ok=True)  # first: a run dir that cannot be made fails at once
    java_home = find_java_home()
    ensure_jars(paths, java_home)

    settle_state_dump(paths, clean_exit=False)  # a broker that exited on its own, unwatched
    if args.keep_data and paths.meta_file.is_file():
        say(f"keeping data in {paths.data_dir}")
    elif paths.data_dir.exists():
        shutil.rmtree(paths.data_dir)
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    rotate_logs(paths)
    render_conf(paths, port, controller_port)
    t_format = time.monotonic()
    if not paths.meta_file.is_file():
        format_storage(paths, java_home, use_cds=not args.no_cds)
    format_s = time.monotonic() - t_format

    archive = class_archive(paths, java_home, "broker")
    cds, dump = class_archive_flags(archive, not args.no_cds)
    cmd = java_command(paths, java_home, heap, quick_jit=args.quick_jit, cds=cds)
    env = dict(os.environ, JAVA_HOME=str(java_home), MALLOC_ARENA_MAX="4")
    say(
        f"starting Kafka {KAFKA_VERSION} on {ADDRESS}:{port} (controller :{controller_port}, "
        f"heap {heap[0]}-{heap[1]}, java {java_home})"
    )
    with paths.out_file.open("ab") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=paths.run_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    paths.pid_file.write_text(f"{proc.pid}\n")
    paths.state_file.write_text(
        json.dumps(
            {
                "pid": proc.pid,
                "address": ADDRESS,
                "port": port,
                "controller_port": controller_port,
                "heap": list(heap),
                "quick_jit": args.quick_jit,
                "class_archive": str(archive) if cds else None,
                "class_archive_dump": str(dump) if dump else None,
                "java_home": str(java_home),
                "lib_dir": str(paths.lib_dir),
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "command": cmd,
            },
            indent=1,
        )
        + "\n"
    )
    say(f"pid {proc.pid}; log {paths.log_file}")
    try:
        waited = wait_ready(paths, port, proc.pid, args.timeout, proc)
    except KeyboardInterrupt:
        say("interrupted; stopping the broker")
        stop_pid(proc.pid, budget=30)
        paths.pid_file.unlink(missing_ok=True)
        settle_state_dump(paths, clean_exit=False)
        return 130
    say(
        f"ready: answering on {ADDRESS}:{port} (pid {proc.pid}); format {format_s:.1f}s, "
        f"broker start {waited:.1f}s, total {time.monotonic() - t_start:.1f}s"
        + (" (class-data archive made at `down`)" if dump else "")
    )
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    port, _ = ports()
    paths = Paths(port)
    pid = our_pid(paths)
    if pid is None:
        say(f"no broker running from {paths.run_dir} (nothing to stop)")
        return 0
    clean = stop_pid(pid, budget=args.timeout)
    paths.pid_file.unlink(missing_ok=True)
    settle_state_dump(paths, clean_exit=clean)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    port, _ = ports()
    paths = Paths(port)
    pid = our_pid(paths)
    if pid is None:
        extra = ""
        if port_open(port):
            extra = f"; but something else listens on {ADDRESS}:{port}: {_describe_listener(port)}"
        say(f"not running (run dir {paths.run_dir}){extra}")
        return 1
    if answering(port):
        say(f"running (pid {pid}), answering on {ADDRESS}:{port}")
        return 0
    say(f"running (pid {pid}) but NOT answering on {ADDRESS}:{port} (starting, or unhealthy: see `logs`)")
    return 1


def cmd_logs(args: argparse.Namespace) -> int:
    port, _ = ports()
    paths = Paths(port)
    path = paths.out_file if args.out else paths.log_file
    if not path.exists():
        say(f"no log at {path}")
        return 1
    sys.stdout.write("".join(tail(path, args.lines)))
    sys.stdout.flush()
    if args.follow:
        try:
            with path.open("r", errors="replace") as f:
                f.seek(0, os.SEEK_END)
                while True:
                    line = f.readline()
                    if line:
                        sys.stdout.write(line)
                        sys.stdout.flush()
                    else:
                        time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not positive")
    return value


def _lines(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    common: dict[str, Any] = {"epilog": ENV_HELP, "formatter_class": argparse.RawDescriptionHelpFormatter}
    parser = argparse.ArgumentParser(
        prog="broker.py",
        description=f"Run one local Apache Kafka {KAFKA_VERSION} broker (KRaft) on {ADDRESS} "
        f"(plain JVM process, jars from Maven Central; no Docker).",
        **common,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{up,down,status,logs}")

    up = sub.add_parser(
        "up", help="start the broker (fetching jars on first use) and wait until it answers", **common
    )
    up.add_argument(
        "--keep-data",
        action="store_true",
        help="reuse the previous data dir (default: start from an empty, freshly formatted one)",
    )
    up.add_argument(
        "--timeout",
        type=_positive,
        default=START_BUDGET_S,
        help=f"seconds to wait for the broker to answer (default {START_BUDGET_S:.0f})",
    )
    up.add_argument(
        "--quick-jit",
        action="store_true",
        help="the JVM's quick compiler only (C1) and the serial collector: less CPU for a test broker "
        "on a small box, lower peak speed; never for benchmarks",
    )
    up.add_argument(
        "--no-cds",
        action="store_true",
        help="start the JVMs without a class-data archive and make none (by default the first run "
        "makes one at exit, and later starts take about half the time and CPU)",
    )
    up.set_defaults(func=cmd_up)

    down = sub.add_parser(
        "down", help="stop the broker started by `up` (by pid file; exit 0 if none)", **common
    )
    down.add_argument(
        "--timeout",
        type=_positive,
        default=STOP_BUDGET_S,
        help=f"seconds to wait after SIGTERM before SIGKILL (default {STOP_BUDGET_S:.0f})",
    )
    down.set_defaults(func=cmd_down)

    status = sub.add_parser("status", help="exit 0 if the broker runs and answers, 1 otherwise", **common)
    status.set_defaults(func=cmd_status)

    logs = sub.add_parser("logs", help="print the tail of the broker's log", **common)
    logs.add_argument("-n", "--lines", type=_lines, default=TAIL_LINES, help=f"lines (default {TAIL_LINES})")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines (Ctrl-C to stop)")
    logs.add_argument(
        "--out", action="store_true", help="show the JVM stdout/stderr file instead of server.log"
    )
    logs.set_defaults(func=cmd_logs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokerError as exc:
        print(f"[kafka] error: {exc}", file=sys.stderr, flush=True)
        return 1
    except OSError as exc:  # a run dir or cache dir that cannot be written, a full disk, ...
        print(f"[kafka] error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("[kafka] interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
