"""pytest fixtures for kehu and for plugin authors (registered through the ``pytest11`` entry point).

Every test that uses a database fixture runs once per selected backend:

* ``--kehu-db=sqlite`` (default), ``postgresql``, or ``both`` (also ``KEHU_TEST_DB``).
* PostgreSQL: a throwaway cluster on 127.0.0.1 is started once per session with ``initdb``
  and ``pg_ctl``; each test gets a fresh database. Set ``KEHU_TEST_DATABASE_URL`` to an
  existing server's admin URL to use that instead.

Fixtures:

* ``kehu_db_url``: the URL of a new database for this test, holding the core schema (cloned
  from a template built once per session: migrations run once, not per test).
* ``kehu_app``: a :class:`~kehu_core.Kehu` on it, schema created, every available plugin loaded
  (installed in the database only through ``kehu_install``).
* ``kehu_plugins``: the plugins ``kehu_app`` loads; override it in your ``conftest.py`` to load
  only yours: ``return discover(strict=True, allow={"name"})``.
* ``kehu_install``: ``kehu_install("tiering", ...)`` installs plugins into the test database.
* ``kehu_cli``: ``kehu_cli("customer", "list", "--json")`` runs the CLI on the test database
  and returns click's ``Result`` (``.exit_code``, ``.output``, ``.stderr``, ``.json``).
* ``kehu_register_plugin``: ``kehu_register_plugin(obj, "name")`` registers a plugin object
  (a module or class with hook implementations) for this test only, installed by default.
* ``kehu_nobody``: no ``$KEHU_USER`` and no OS login, so each command says who acts with
  ``--as`` (for tests of users and their rules).
* ``kehu_distributions``: ``kehu_distributions.add("name", source)`` writes a fake
  pip-installed distribution (``dist-info`` with a ``kehu.plugins`` entry point, and the
  plugin's package) on ``sys.path`` for this test; ``.discover("name", ...)`` loads it.
  For testing plugins that depend on one another, broken plugins, and upgrades.

Helpers: :func:`module_from_file` loads a plugin written as one file (a guide's example kept
beside the tests) as a fresh module, for ``kehu_register_plugin``.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import json
import os
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url

from kehu_core import access, installer
from kehu_core.access import ENV_USER
from kehu_core.app import Kehu
from kehu_core.cli import create_cli
from kehu_core.db import resolve_url
from kehu_core.manifest import Manifest
from kehu_core.models import InstalledPlugin
from kehu_core.pgcluster import PgCluster
from kehu_core.plugins import PluginInfo, Plugins, discover
from kehu_core.validation import local_zone

BACKENDS = ("sqlite", "postgresql")
_counter = itertools.count(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kehu")
    group.addoption(
        "--kehu-db",
        choices=("sqlite", "postgresql", "both"),
        default=None,
        help="database backend(s) for kehu fixtures (default: $KEHU_TEST_DB or sqlite)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Tests read English messages unless they ask for another language: the suite does not
    change with the machine's locale (a test sets ``KEHU_LANG`` or uses ``i18n.using``)."""
    os.environ["KEHU_LANG"] = "en"
    config.addinivalue_line(
        "markers",
        "core_alone: the app loads no plugin (the core's rules alone, and no plugin's import cost)",
    )


def _selected(config: pytest.Config) -> tuple[str, ...]:
    choice = config.getoption("--kehu-db") or os.environ.get("KEHU_TEST_DB", "sqlite")
    return BACKENDS if choice == "both" else (choice,)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "kehu_backend" in metafunc.fixturenames:
        metafunc.parametrize("kehu_backend", _selected(metafunc.config), scope="function")


class _PgServer:
    """A cluster we started, or a server named by ``KEHU_TEST_DATABASE_URL``."""

    def __init__(self) -> None:
        self.cluster: PgCluster | None = None
        self.admin_url = os.environ.get("KEHU_TEST_DATABASE_URL")
        if not self.admin_url:
            self.cluster = PgCluster.start()
            self.admin_url = self.cluster.url()

    def create(self, name: str, template: str | None = None) -> str:
        admin = make_url(resolve_url(self.admin_url))
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            clause = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        engine.dispose()
        return admin.set(database=name).render_as_string(hide_password=False)

    def drop(self, name: str) -> None:
        engine = create_engine(make_url(resolve_url(self.admin_url)), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    def stop(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()


@pytest.fixture(scope="session")
def kehu_pg_server() -> Iterator[_PgServer]:
    """The PostgreSQL server for this test session (started on first use)."""
    server = _PgServer()
    yield server
    server.stop()


def _init_core(url: str) -> None:
    """Create the core schema at ``url`` (no plugin loaded: only the core's branch runs)."""
    app = Kehu(url, plugins=discover(strict=False, allow=set()))
    app.init()
    app.dispose()


@pytest.fixture(scope="session")
def kehu_template(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Callable[[str], str]:
    """A database with the core schema, built once per session and backend, that tests clone.

    Running the core's migrations costs about half a second; copying a SQLite file or
    ``CREATE DATABASE ... TEMPLATE`` costs milliseconds.
    """
    built: dict[str, str] = {}

    def template(backend: str) -> str:
        if backend not in built:
            if backend == "sqlite":
                path = tmp_path_factory.mktemp("kehu-template") / "template.db"
                _init_core(f"sqlite:///{path}")
                with sqlite3.connect(path) as conn:  # fold the WAL into the file: a copy is then complete
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                built[backend] = str(path)
            else:
                server: _PgServer = request.getfixturevalue("kehu_pg_server")
                name = f"kehu_template_{os.getpid()}"
                _init_core(server.create(name))
                built[backend] = name
        return built[backend]

    return template


@pytest.fixture
def kehu_db_url(
    kehu_backend: str, tmp_path: Path, request: pytest.FixtureRequest, kehu_template: Callable[[str], str]
) -> Iterator[str]:
    """URL of a new database for this test holding the core schema (at head), on the backend under test."""
    if kehu_backend == "sqlite":
        path = tmp_path / "kehu.db"
        shutil.copyfile(kehu_template("sqlite"), path)
        yield f"sqlite:///{path}"
        return
    template = kehu_template("postgresql")
    server: _PgServer = request.getfixturevalue("kehu_pg_server")
    name = f"kehu_test_{os.getpid()}_{next(_counter)}"
    url = server.create(name, template=template)
    yield url
    server.drop(name)


@pytest.fixture
def kehu_plugins(request: pytest.FixtureRequest) -> Plugins:
    """The plugins available in this environment (``KEHU_PLUGINS`` is honoured), discovered afresh;
    none for a test marked ``core_alone`` (``pytestmark = pytest.mark.core_alone`` in a module)."""
    if request.node.get_closest_marker("core_alone"):
        return discover(strict=True, allow=set())
    return discover(strict=False)


@pytest.fixture
def kehu_app(kehu_db_url: str, kehu_plugins: Plugins) -> Iterator[Kehu]:
    """A :class:`~kehu_core.Kehu` on a new database with the core schema; no plugin installed yet."""
    app = Kehu(kehu_db_url, plugins=kehu_plugins)  # the template is at head already: no init needed
    yield app
    app.dispose()


@pytest.fixture
def kehu_install(kehu_app: Kehu) -> Callable[..., list[str]]:
    """``kehu_install("tiering")``: install plugins (and dependencies) into the test database."""

    def install(*names: str) -> list[str]:
        with kehu_app.session() as session:
            return installer.install(kehu_app, session, list(names))

    return install


class CliResult:
    """click's result plus ``.json``, the parsed standard output."""

    def __init__(self, result: Result):
        self._result = result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._result, name)

    @property
    def json(self) -> Any:
        """Standard output parsed as JSON."""
        return json.loads(self._result.stdout)

    def error_line(self, *words: str) -> str:
        """The one line a refused command printed (exit code 1, a single line on standard
        error), checked to hold each of ``words``: how kehu refuses bad input."""
        assert self._result.exit_code == 1, self
        lines = self._result.stderr.strip().splitlines()
        assert len(lines) == 1, self
        for word in words:
            assert word in lines[0], (word, lines[0])
        return str(lines[0])

    def __repr__(self) -> str:
        raised = self._result.exception
        # An unexpected exception leaves stdout and stderr empty: name it, or the failure says nothing.
        escaped = f" raised={raised!r}" if raised is not None and not isinstance(raised, SystemExit) else ""
        return (
            f"<CliResult exit={self._result.exit_code} stdout={self._result.stdout[:500]!r} "
            f"stderr={self._result.stderr[:500]!r}{escaped}>"
        )


@pytest.fixture
def kehu_cli(kehu_app: Kehu) -> Callable[..., CliResult]:
    """Run ``kehu ARGS`` against the test database; ``input=`` feeds standard input."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> CliResult:
        cli = create_cli(plugins=kehu_app.plugins)
        runner = CliRunner()
        url = kehu_app.engine.url.render_as_string(hide_password=False)
        result = runner.invoke(cli, ["--db", url, *args], input=input, env=env, catch_exceptions=True)
        kehu_app.forget_installed_cache()  # the command may have installed or uninstalled plugins
        return CliResult(result)

    return run


@pytest.fixture
def kehu_nobody(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``$KEHU_USER`` and no OS login for this test: every command names who acts with
    ``--as``, as on a server where the OS account is nobody's kehu login."""
    monkeypatch.delenv(ENV_USER, raising=False)
    monkeypatch.setattr(access, "os_login", lambda: None)


@pytest.fixture
def company_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """``company_zone("Europe/Berlin")``: the company calendar's time zone for this test only.

    The zone (``KEHU_TIMEZONE``) is read once per process, so the cache is cleared on the way
    in and out.
    """

    def use(name: str) -> None:
        monkeypatch.setenv("KEHU_TIMEZONE", name)
        local_zone.cache_clear()

    yield use
    local_zone.cache_clear()  # the environment is restored after this: the next use reads it


def walk_commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command and group under ``group`` (loading lazy ones), as (path of names, command),
    the way ``kehu --help`` and its groups list them."""
    ctx = click.Context(group, info_name=path[-1] if path else "kehu")
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None:
            raise LookupError(f"{' '.join((*path, name))} is listed but cannot be loaded")
        here = (*path, name)
        yield here, command
        if isinstance(command, click.Group):
            yield from walk_commands(command, here)


def module_from_file(path: Path, name: str) -> ModuleType:
    """The Python file ``path`` as a new module called ``name`` (a fresh one each call, so it
    keeps nothing from another test; not put in ``sys.modules``)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def kehu_register_plugin(kehu_app: Kehu) -> Iterator[Callable[..., PluginInfo]]:
    """Register a plugin object for this test only; ``install=True`` marks it installed here."""
    registered: list[str] = []

    def register(
        plugin: object, name: str, *, install: bool = True, manifest: Manifest | None = None
    ) -> PluginInfo:
        info = kehu_app.plugins.register(plugin, name, manifest)
        registered.append(name)
        if install and info.loaded:
            with kehu_app.session() as session:
                session.add(InstalledPlugin(name=name, version=info.version or "0.0.0"))
        kehu_app.forget_installed_cache()
        return info

    yield register
    for name in registered:
        kehu_app.plugins.unregister(name)
        with kehu_app.session() as session:
            session.execute(delete(InstalledPlugin).where(InstalledPlugin.name == name))
    kehu_app.forget_installed_cache()


class FakeDistributions:
    """Fake pip-installed plugin distributions for one test (see ``kehu_distributions``).

    Each :meth:`add` writes ``<dist>-<version>.dist-info/{METADATA,entry_points.txt}`` and the
    plugin's files into a directory of its own, put first on ``sys.path``, where
    ``importlib.metadata`` finds it exactly like a real ``pip install``.
    """

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch):
        self.root = root
        self._monkeypatch = monkeypatch
        self._dirs: dict[str, Path] = {}
        self._modules: dict[str, str] = {}
        self._serial = itertools.count(1)

    def add(
        self,
        name: str,
        source: str | None = None,
        *,
        files: Mapping[str, str] | None = None,
        version: str = "1.0",
        module: str | None = None,
        entry_point: str | None = None,
        tree: Path | None = None,
    ) -> Path:
        """Make plugin ``name`` available, replacing any earlier version of it.

        Parameters:
            source: the text of the plugin's ``__init__.py`` (package ``module``, default
                ``kehu_<name>``).
            files: more files, by path relative to the package (``migrations/x0001.py``).
            tree: a directory copied as the package first (``source`` and ``files`` then
                replace or add files in it).
            entry_point: the entry point's value (default: the package), e.g. a module
                that does not exist, to test broken plugins.

        Returns: the package directory.
        """
        self.remove(name)
        module = module or f"kehu_{name}"
        directory = self.root / f"{name}-{next(self._serial)}"
        info = directory / f"kehu_{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: kehu-{name.replace('_', '-')}\nVersion: {version}\n",
            encoding="utf-8",
        )
        (info / "entry_points.txt").write_text(
            f"[kehu.plugins]\n{name} = {entry_point or module}\n", encoding="utf-8"
        )
        package = directory / module
        if tree is not None:
            shutil.copytree(tree, package, ignore=shutil.ignore_patterns("__pycache__"))
        if source is not None or files:
            package.mkdir(exist_ok=True)
        if source is not None:
            (package / "__init__.py").write_text(source, encoding="utf-8")
        if files:
            for relative, text in (files or {}).items():
                path = package / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
        self._dirs[name], self._modules[name] = directory, module
        self._monkeypatch.syspath_prepend(str(directory))
        return package

    def remove(self, name: str) -> None:
        """Make plugin ``name`` unavailable again (as ``pip uninstall`` would)."""
        directory = self._dirs.pop(name, None)
        if directory is None:
            return
        if str(directory) in sys.path:
            sys.path.remove(str(directory))
        self._forget_modules(self._modules.pop(name))
        shutil.rmtree(directory, ignore_errors=True)
        importlib.invalidate_caches()

    def discover(self, *names: str, strict: bool = False) -> Plugins:
        """Discover plugins, loading only ``names`` (default: only the fake ones)."""
        return discover(strict=strict, allow=set(names or self._dirs))

    @staticmethod
    def _forget_modules(module: str) -> None:
        for loaded in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
            del sys.modules[loaded]

    def cleanup(self) -> None:
        """Remove every fake distribution and forget its modules."""
        for name in list(self._dirs):
            self.remove(name)


@pytest.fixture
def kehu_distributions(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeDistributions]:
    """Fake pip-installed plugins for this test: ``kehu_distributions.add("name", source)``."""
    fakes = FakeDistributions(tmp_path_factory.mktemp("kehu-dists"), monkeypatch)
    yield fakes
    fakes.cleanup()
