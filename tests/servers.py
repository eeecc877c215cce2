"""Throwaway PostgreSQL and Redis servers, on free ports in temporary directories.

Used twice: by ``bin/test`` when no server answers and no URL is set (issue 14),
and by the fault tests, which stop and restart their own servers — never the
machine's (tests/test_faults.py). Process management is pytest-postgresql's and
pytest-redis's executors (mirakuru); this module finds the binaries, picks the
ports and directories, and cleans up.

    python -m tests.servers -- bin/test -q     # run a command with throwaway servers as needed
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

APT_PACKAGES = {"postgres": "postgresql", "redis": "redis-server"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def find_pg_ctl() -> str | None:
    """``pg_ctl`` from PATH or from Debian's ``postgresql`` package (not on PATH), newest first."""
    override = os.environ.get("DAMANE_PG_CTL")
    if override is not None:
        return override if os.access(override, os.X_OK) else None
    found = shutil.which("pg_ctl")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return candidates[-1] if candidates else None


def find_redis_server() -> str | None:
    override = os.environ.get("DAMANE_REDIS_SERVER")
    if override is not None:
        return override if os.access(override, os.X_OK) else None
    return shutil.which("redis-server")


def install_hint(missing: list[str]) -> str:
    packages = " ".join(APT_PACKAGES[name] for name in missing)
    return (
        f"bin/test needs PostgreSQL and Redis: none answers and {', '.join(missing)} cannot be started here. "
        f"Run: sudo apt-get install -y {packages}   "
        "(or: cp -n .env.example .env && docker compose up -d db redis, then "
        "DATABASE_URL=postgres://damane:damane@127.0.0.1:5432/damane REDIS_URL=redis://127.0.0.1:6379/15 bin/test)"
    )


# --- PostgreSQL ------------------------------------------------------------------------


def _as_postgres_user(pg_ctl: str, directory: Path) -> str:
    """PostgreSQL refuses to run as root: as root, a wrapper runs pg_ctl as the ``postgres`` user."""
    if os.geteuid() != 0:
        return pg_ctl
    try:
        account = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise RuntimeError("running as root needs a 'postgres' user (Debian's postgresql package creates it)") from exc
    os.chown(directory, account.pw_uid, account.pw_gid)
    wrapper = directory / "pg_ctl"
    wrapper.write_text(f'#!/bin/sh\nexec runuser -u postgres -- "{pg_ctl}" "$@"\n')
    wrapper.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return str(wrapper)


def wait_for_postgres(port: int, timeout: float = 60) -> None:
    """Until the server takes queries: it accepts connections a moment before ("starting up")."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@dataclass
class PostgresServer:
    executor: object
    port: int
    directory: Path

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/test"

    def stop(self) -> None:
        self.executor.stop()

    def start(self) -> None:
        self.executor.start()
        wait_for_postgres(self.port)

    def restart(self) -> None:
        self.stop()
        self.start()


@contextlib.contextmanager
def throwaway_postgres(pg_ctl: str | None = None) -> Iterator[PostgresServer]:
    """A PostgreSQL server (trust authentication, user ``postgres``) for as long as the block runs."""
    from pytest_postgresql.executors.proc import PostgreSQLExecutor

    pg_ctl = pg_ctl or find_pg_ctl()
    if not pg_ctl:
        raise FileNotFoundError(install_hint(["postgres"]))
    directory = Path(tempfile.mkdtemp(prefix="damane-pg-"))
    port = free_port()
    executable = _as_postgres_user(pg_ctl, directory)
    executor = PostgreSQLExecutor(
        executable=executable,
        host="127.0.0.1",
        port=port,
        datadir=str(directory / "data"),
        unixsocketdir=str(directory),
        logfile=str(directory / "postgresql.log"),
        startparams="-w",
        dbname="test",
        # Durability is not what a throwaway server is for: the suite runs faster.
        postgres_options="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
    )
    server = PostgresServer(executor, port, directory)
    try:
        if os.geteuid() == 0:
            # initdb runs as postgres: it must be able to create the data directory.
            (directory / "data").mkdir()
            account = pwd.getpwnam("postgres")
            os.chown(directory / "data", account.pw_uid, account.pw_gid)
            (directory / "data").chmod(0o700)
        server.start()
        yield server
    finally:
        with contextlib.suppress(Exception):
            executor.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _postgres_tool(pg_ctl: str, name: str) -> str:
    """Another binary of the same PostgreSQL version as ``pg_ctl`` (pg_basebackup must match its server)."""
    sibling = Path(pg_ctl).parent / name
    return str(sibling) if sibling.exists() else (shutil.which(name) or name)


@dataclass
class StandbyServer:
    """A hot standby streaming from a primary (``pg_basebackup -R``), started with ``pg_ctl``."""

    pg_ctl: str
    port: int
    directory: Path

    @property
    def datadir(self) -> Path:
        return self.directory / "data"

    def _ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [self.pg_ctl, "-D", str(self.datadir), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> None:
        self._ctl("-l", str(self.directory / "standby.log"), "-w", "-t", "60", "start")
        wait_for_postgres(self.port)

    def stop(self) -> None:
        self._ctl("-m", "immediate", "-w", "stop", check=False)


class ReplicationRefused(RuntimeError):
    """The primary does not allow replication connections from here (pg_hba.conf)."""


@contextlib.contextmanager
def throwaway_standby(
    *, host: str, port: int, user: str = "postgres", password: str = "", pg_ctl: str | None = None
) -> Iterator[StandbyServer]:
    """A hot standby of the PostgreSQL at ``host:port`` for as long as the block runs.

    A base backup with ``-R`` (standby.signal and primary_conninfo), WAL streamed
    during the backup, its own postgresql.conf and pg_hba.conf (a Debian cluster
    keeps them outside its data directory), on a free port. No replication slot:
    nothing is left on the primary when the block ends, even after a crash.
    """
    import psycopg

    pg_ctl = pg_ctl or find_pg_ctl()
    if not pg_ctl:
        raise FileNotFoundError(install_hint(["postgres"]))
    env = {**os.environ, "PGPASSWORD": password} if password else dict(os.environ)
    with psycopg.connect(host=host, port=port, user=user, dbname="postgres", password=password or None) as conn:
        # A hot standby refuses to start with less of these than its primary has.
        primary = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in (
                "max_connections",
                "max_worker_processes",
                "max_wal_senders",
                "max_prepared_transactions",
                "max_locks_per_transaction",
            )
        }
    directory = Path(tempfile.mkdtemp(prefix="damane-standby-"))
    standby_port = free_port()
    server = StandbyServer(pg_ctl, standby_port, directory)
    basebackup = [
        _postgres_tool(pg_ctl, "pg_basebackup"),
        *("-h", host, "-p", str(port), "-U", user, "-D", str(server.datadir)),
        *("-R", "-X", "stream", "-c", "fast", "--no-sync"),
    ]
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(directory, account.pw_uid, account.pw_gid)
        basebackup = ["runuser", "-u", "postgres", "--", *basebackup]
    try:
        result = subprocess.run(basebackup, capture_output=True, text=True, env=env, timeout=300)
        if result.returncode != 0:
            if "replication connection" in result.stderr and "pg_hba.conf" in result.stderr:
                raise ReplicationRefused(result.stderr.strip())
            raise RuntimeError(f"pg_basebackup failed: {result.stderr.strip()}")
        settings = {
            **primary,
            "port": standby_port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{directory}'",
            "hot_standby": "on",
            # Replay waits at most this long for a query in its way, so the lag stays small.
            "max_standby_streaming_delay": "'1s'",
            "fsync": "off",
            "logging_collector": "off",
        }
        (server.datadir / "postgresql.conf").write_text("".join(f"{k} = {v}\n" for k, v in settings.items()))
        (server.datadir / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        if os.geteuid() == 0:
            for name in ("postgresql.conf", "pg_hba.conf"):
                os.chown(server.datadir / name, account.pw_uid, account.pw_gid)
        server.start()
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)


# --- PgBouncer -------------------------------------------------------------------------


@dataclass
class PgBouncerServer:
    process: subprocess.Popen
    port: int
    directory: Path

    def admin(self, command: str) -> list[dict]:
        """A command of PgBouncer's console (SHOW POOLS, SHOW STATS…), as rows."""
        import psycopg
        from psycopg.rows import dict_row

        # The console speaks the simple query protocol only: a client-side cursor.
        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname="pgbouncer",
            autocommit=True,
            cursor_factory=psycopg.ClientCursor,
            row_factory=dict_row,
        ) as conn:
            return conn.execute(command).fetchall()


@contextlib.contextmanager
def throwaway_pgbouncer(
    *, host: str, port: int, user: str = "postgres", password: str = "", pool_size: int = 2
) -> Iterator[PgBouncerServer]:
    """Debian's ``pgbouncer`` in transaction mode in front of ``host:port``, on a free port.

    Every database of the server is reachable through it (``*``); at most
    ``pool_size`` server connections per database and user, whatever the number
    of clients, which is what transaction mode is for (docs/scaling.md, "PgBouncer").
    """
    binary = os.environ.get("DAMANE_PGBOUNCER") or shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not os.access(binary, os.X_OK):
        raise FileNotFoundError("pgbouncer is not installed (apt-get install pgbouncer)")
    directory = Path(tempfile.mkdtemp(prefix="damane-pgbouncer-"))
    listen = free_port()
    server = f"host={host} port={port} user={user}" + (f" password={password}" if password else "")
    (directory / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = {server}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {listen}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {directory}/userlist.txt\nadmin_users = {user}\n"
        f"pool_mode = transaction\ndefault_pool_size = {pool_size}\nmax_client_conn = 200\n"
        f"logfile = {directory}/pgbouncer.log\n"
    )
    (directory / "userlist.txt").write_text(f'"{user}" ""\n')
    command = [binary, str(directory / "pgbouncer.ini")]
    if os.geteuid() == 0:
        # PgBouncer refuses to run as root.
        account = pwd.getpwnam("postgres")
        for path in (directory, directory / "pgbouncer.ini", directory / "userlist.txt"):
            os.chown(path, account.pw_uid, account.pw_gid)
        command = ["runuser", "-u", "postgres", "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not answers("127.0.0.1", listen, timeout=0.2):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pgbouncer did not start: {process.stderr.read().decode(errors='replace')}")
            time.sleep(0.05)
        yield PgBouncerServer(process, listen, directory)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)


# --- Redis ----------------------------------------------------------------------------


@dataclass
class RedisServer:
    executor: object
    port: int
    directory: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.executor.stop()

    def start(self) -> None:
        self.executor.start()


@contextlib.contextmanager
def throwaway_redis(redis_server: str | None = None) -> Iterator[RedisServer]:
    """A Redis server that writes nothing to disk, for as long as the block runs."""
    from pytest_redis.executor.process import RedisExecutor

    redis_server = redis_server or find_redis_server()
    if not redis_server:
        raise FileNotFoundError(install_hint(["redis"]))
    directory = Path(tempfile.mkdtemp(prefix="damane-redis-"))
    port = free_port()
    executor = RedisExecutor(
        executable=redis_server,
        databases=16,
        redis_timeout=30,
        loglevel="warning",
        host="127.0.0.1",
        port=port,
        save="",
        appendonly="no",
        datadir=directory,
    )
    try:
        executor.start()
        yield RedisServer(executor, port, directory)
    finally:
        with contextlib.suppress(Exception):
            executor.stop()
        shutil.rmtree(directory, ignore_errors=True)


# --- An S3-compatible object store ---------------------------------------------------------

S3_ACCESS_KEY = "damane-test-access"
S3_SECRET_KEY = "damane-test-secret"  # moto accepts any key; the client must still sign with one


@dataclass
class S3Server:
    process: subprocess.Popen
    port: int

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
            aws_access_key_id=S3_ACCESS_KEY, aws_secret_access_key=S3_SECRET_KEY,
        )  # fmt: skip

    def create_bucket(self, name: str) -> None:
        """A private bucket (no public access) whose objects are encrypted by default, as the fund's."""
        client = self.client()
        client.create_bucket(Bucket=name)
        client.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )  # fmt: skip
        client.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )

    def env(self, bucket: str) -> dict:
        """The settings' environment for a portal process that stores its uploads here."""
        return {
            "DAMANE_S3_BUCKET": bucket,
            "DAMANE_S3_ENDPOINT_URL": self.endpoint_url,
            "DAMANE_S3_REGION": "us-east-1",
            "DAMANE_S3_ACCESS_KEY_ID": S3_ACCESS_KEY,
            "DAMANE_S3_SECRET_ACCESS_KEY": S3_SECRET_KEY,
        }

    def kill(self) -> None:
        """The store goes away at once (its objects with it: moto keeps them in memory)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # its own session: the server and any child
            self.process.wait(timeout=10)


@contextlib.contextmanager
def throwaway_s3(log: Path | None = None) -> Iterator[S3Server]:
    """moto's S3 server (a real HTTP S3 API, objects in memory) on a free port, as a separate process."""
    port = free_port()
    out = log.open("wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    server = S3Server(process, port)
    try:
        deadline = time.monotonic() + 60
        while not answers("127.0.0.1", port, timeout=0.5):
            if process.poll() is not None:
                raise RuntimeError(f"moto's S3 server exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError("moto's S3 server did not answer within 60 s")
            time.sleep(0.1)
        yield server
    finally:
        server.kill()
        if log:
            out.close()


# --- bin/test: servers as needed, then the command ---------------------------------------


def _probe(name: str, default: str) -> tuple[str, int]:
    host, port = os.environ.get(name, default).rsplit(":", 1)
    return host, int(port)


def needed(environ: dict) -> list[str]:
    """Which throwaway servers a run needs: no URL set and nothing answering on the default port."""
    wanted = []
    if not environ.get("DATABASE_URL") and not answers(*_probe("DAMANE_PROBE_POSTGRES", "127.0.0.1:5432")):
        wanted.append("postgres")
    if not environ.get("REDIS_URL") and not answers(*_probe("DAMANE_PROBE_REDIS", "127.0.0.1:6379")):
        wanted.append("redis")
    return wanted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run, after --")
    args = parser.parse_args(argv)
    command = [c for c in args.command if c != "--"] or ["true"]
    wanted = needed(os.environ)
    missing = [
        name
        for name in wanted
        if (name == "postgres" and not find_pg_ctl()) or (name == "redis" and not find_redis_server())
    ]
    if missing:
        print(install_hint(missing), file=sys.stderr)
        return 2
    env = dict(os.environ)
    # Ctrl-C, a kill or a closed terminal: the servers stop and their directories go,
    # quietly (no traceback). A signal the caller ignores (nohup, a background job of
    # a script) stays ignored.
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _raise_stopped)
    try:
        with contextlib.ExitStack() as stack:
            if "postgres" in wanted:
                postgres = stack.enter_context(throwaway_postgres())
                env["DATABASE_URL"] = postgres.url
                print(f"==> throwaway PostgreSQL on port {postgres.port} (stops with the run)", file=sys.stderr)
            if "redis" in wanted:
                redis = stack.enter_context(throwaway_redis())
                env["REDIS_URL"] = redis.url.removesuffix("/0") + "/15"
                print(f"==> throwaway Redis on port {redis.port} (stops with the run)", file=sys.stderr)
            child = subprocess.Popen(command, env=env)
            try:
                return child.wait()
            except Stopped as stopped:
                # Ctrl-C reaches the whole foreground group, the child included; a
                # SIGTERM or SIGHUP sent to this process alone is passed on. The child
                # gets a moment to finish its own cleanup (pytest drops its databases).
                if stopped.signum != signal.SIGINT:
                    child.send_signal(stopped.signum)
                try:
                    child.wait(timeout=30)
                except (subprocess.TimeoutExpired, Stopped):
                    child.kill()
                    child.wait()
                return 128 + stopped.signum
    except Stopped as stopped:
        # Stopped while a server was starting: the ExitStack has stopped what ran.
        return 128 + stopped.signum


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(Exception):
    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_stopped(signum, frame):
    raise Stopped(signum)


if __name__ == "__main__":
    sys.exit(main())
