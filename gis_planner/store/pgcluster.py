"""A private PostgreSQL + PostGIS cluster from the system packages, in a directory of its own.

For a workstation, the demo and the tests: ``start_cluster(directory)`` creates the cluster on
first use (a superuser with a random password kept in a libpq password file beside it, listening
on 127.0.0.1 only) and starts it. PostgreSQL refuses to run as root: run as root, the cluster's
files belong to the ``postgres`` system user and its programs run as that user (``runuser``).
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from gis_planner.errors import StoreError

#: The system user a root process runs the cluster as.
SYSTEM_USER = "postgres"
SUPERUSER = "postgres"
DEFAULT_DATABASE = "gis_planner"
INSTALL_HINT = "install PostgreSQL and PostGIS, e.g. apt-get install postgresql postgresql-postgis"


@dataclass(frozen=True)
class Cluster:
    """A cluster made by ``start_cluster``: its directory and port."""

    directory: Path
    port: int

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def passfile(self) -> Path:
        return self.directory / "pgpass"

    @property
    def log_file(self) -> Path:
        return self.directory / "postgres.log"

    def url(self, database: str = DEFAULT_DATABASE) -> str:
        """A libpq URL of ``database`` as the superuser; the password stays in ``passfile``."""
        passfile = quote(str(self.passfile), safe="/")
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}?passfile={passfile}"


def postgres_bindir() -> Path:
    """The programs of the newest installed PostgreSQL that has PostGIS next to it."""
    versions = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        version = bindir.parent.name
        control = Path("/usr/share/postgresql") / version / "extension" / "postgis.control"
        if (bindir / "initdb").exists() and control.exists() and version.isdigit():
            versions.append((int(version), bindir))
    if versions:
        return max(versions)[1]
    found = shutil.which("pg_config")
    if found:
        bindir = Path(subprocess.run([found, "--bindir"], capture_output=True,
                                     text=True, check=True).stdout.strip())  # fmt: skip
        if (bindir / "initdb").exists():
            return bindir
    raise StoreError(f"no PostgreSQL server with PostGIS found: {INSTALL_HINT}")


def _as_cluster_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", SYSTEM_USER, "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], what: str) -> str:
    done = subprocess.run(_as_cluster_user(command), capture_output=True, text=True)
    if done.returncode != 0:
        raise StoreError(f"{what} failed: {(done.stderr or done.stdout).strip()}")
    return done.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _give_to_cluster_user(directory: Path) -> None:
    if os.geteuid() != 0:
        return
    try:
        user = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise StoreError(
            f"PostgreSQL does not run as root and there is no {SYSTEM_USER!r} user: {INSTALL_HINT}"
        ) from None
    for path in (directory, *directory.rglob("*")):
        os.chown(path, user.pw_uid, user.pw_gid)


def _port_of(data_dir: Path) -> int:
    found = re.findall(r"^port = (\d+)", (data_dir / "postgresql.conf").read_text(), re.M)
    if not found:
        raise StoreError(f"{data_dir}: not a cluster made by gis-planner (no port setting)")
    return int(found[-1])


def _create(directory: Path, bindir: Path, settings: Mapping[str, str]) -> None:
    data_dir = directory / "data"
    password = secrets.token_urlsafe(24)
    pwfile = directory / "initdb.pw"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    _give_to_cluster_user(directory)
    try:
        _run(
            [str(bindir / "initdb"), "-D", str(data_dir), "-U", SUPERUSER, "-E", "UTF8",
             "--locale=C", "--auth=scram-sha-256", f"--pwfile={pwfile}"],
            "initdb",
        )  # fmt: skip
    finally:
        pwfile.unlink(missing_ok=True)
    port = _free_port()
    lines = {
        "port": str(port),
        "listen_addresses": "'127.0.0.1'",
        # The socket stays in the cluster's own directory, never in a shared /var/run.
        "unix_socket_directories": f"'{directory}'",
        **{key: str(value) for key, value in settings.items()},
    }
    with (data_dir / "postgresql.conf").open("a") as conf:
        conf.write("\n# gis-planner\n")
        conf.writelines(f"{key} = {value}\n" for key, value in lines.items())
    passfile = directory / "pgpass"
    passfile.write_text(f"*:*:*:{SUPERUSER}:{password}\n")
    passfile.chmod(0o600)


def start_cluster(directory: Path, settings: Mapping[str, str] | None = None) -> Cluster:
    """Start the cluster in ``directory``, creating it (and an empty ``gis_planner`` database)
    on first use; nothing happens to a cluster already running. ``settings`` are
    ``postgresql.conf`` lines for a new cluster (e.g. ``{"fsync": "off"}`` for tests)."""
    directory = Path(directory).resolve()
    bindir = postgres_bindir()
    directory.mkdir(parents=True, exist_ok=True)
    data_dir = directory / "data"
    created = not (data_dir / "PG_VERSION").exists()
    if created:
        _create(directory, bindir, settings or {})
    cluster = Cluster(directory, _port_of(data_dir))
    if not is_running(directory):
        _run(
            [str(bindir / "pg_ctl"), "-D", str(data_dir), "-l", str(cluster.log_file),
             "-w", "-t", "120", "start"],
            f"starting PostgreSQL (log: {cluster.log_file})",
        )  # fmt: skip
    if created:
        _create_database(cluster, DEFAULT_DATABASE)
    return cluster


def _create_database(cluster: Cluster, name: str) -> None:
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as con:
        exists = con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def is_running(directory: Path) -> bool:
    """Whether the cluster in ``directory`` runs (``pg_ctl status``)."""
    data_dir = Path(directory).resolve() / "data"
    if not (data_dir / "PG_VERSION").exists():
        return False
    command = [str(postgres_bindir() / "pg_ctl"), "-D", str(data_dir), "status"]
    return subprocess.run(_as_cluster_user(command), capture_output=True).returncode == 0


def stop_cluster(directory: Path, *, immediate: bool = False) -> None:
    """Stop the cluster in ``directory`` (nothing if it is not running). ``immediate`` skips
    the shutdown checkpoint, for a cluster about to be deleted."""
    directory = Path(directory).resolve()
    if not is_running(directory):
        return
    mode = "immediate" if immediate else "fast"
    _run(
        [str(postgres_bindir() / "pg_ctl"), "-D", str(directory / "data"), "-m", mode, "-w",
         "stop"],
        "stopping PostgreSQL",
    )  # fmt: skip
