"""alembic.ini and its [schemactl] sections: what is accepted, what is refused, and that no
password ever reaches a message."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from tools.config import Environment, load_project, redact
from tools.core.errors import ConfigError, MissingDatabaseUrl, UnknownEnvironment

SECRET = "s3cr%t@pa:ss"
ENCODED = "s3cr%25t%40pa%3Ass"


def ini(tmp_path, body: str, name: str = "alembic.ini"):
    path = tmp_path / name
    path.write_text("[alembic]\nscript_location = %(here)s/migrations\n" + body)
    return path


def test_environments_settings_and_defaults(tmp_path):
    project = load_project(
        ini(
            tmp_path,
            "[schemactl]\ndefault_env = live\n"
            "[schemactl.env.live]\ndialect = postgresql\nurl_env = LIVE_URL\nlock_timeout = 2s\n"
            "[schemactl.env.local]\ndialect = sqlite\ndefault_url = sqlite:///%(here)s/x.db\n",
        )
    )
    assert project.default_env == "live"
    assert sorted(project.environments) == ["live", "local"]
    live = project.environment()
    assert (live.dialect, live.url_env, dict(live.settings)) == (
        "postgresql",
        "LIVE_URL",
        {"lock_timeout": "2s"},
    )
    assert project.sql_out == tmp_path / "sql_out" and project.template is None
    with pytest.raises(UnknownEnvironment, match="choose one of: live, local"):
        project.environment("prod")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("[schemactl.env.9bad]\ndialect = sqlite\n", "an environment name is a letter"),
        ("[schemactl.env.bad\\nname]\ndialect = sqlite\n", "an environment name is a letter"),
        ("[schemactl.env.x]\ndialect = oracle\n", "dialect oracle is not one schemactl"),
        ("[schemactl.env.x]\n", r"dialect \(missing\)"),
        ("[schemactl]\ndefault_env = y\n[schemactl.env.x]\ndialect = sqlite\n", "default_env = y"),
        (
            "[schemactl]\ntemplate = /nonexistent.mako\n[schemactl.env.x]\ndialect = sqlite\n",
            "is not a file",
        ),
        ("", "has neither \\[schemactl.env.NAME\\] sections nor sqlalchemy.url"),
        ("sqlalchemy.url = oracle://u@h/db\n", "is for oracle, which schemactl does not support"),
        ("sqlalchemy.url = ::not a url::\n", "is not a valid URL"),
        ("[schemactl\n", "cannot be read"),
        # PostgreSQL folds Billing to billing; pg_temp "works" and keeps nothing.
        ("[schemactl.env.x]\ndialect = postgresql\nschema = Billing\n", "schema = 'Billing'"),
        ("[schemactl.env.x]\ndialect = postgresql\nschema = pg_temp\n", "schema = 'pg_temp'"),
        (
            "version_table = v; DROP TABLE users\n[schemactl.env.x]\ndialect = sqlite\n",
            "version_table 'v; DROP TABLE users' in \\[alembic\\] of alembic.ini is not a plain",
        ),
    ],
    ids=[
        "name",
        "name-newline",
        "dialect",
        "no-dialect",
        "default-env",
        "template",
        "nothing",
        "implicit-dialect",
        "implicit-url",
        "unparsable",
        "schema-upper-case",
        "schema-pg-temp",
        "version-table",
    ],
)
def test_bad_configs_are_one_line_errors(tmp_path, body, error):
    if body.startswith("[schemactl\n"):
        path = tmp_path / "alembic.ini"
        path.write_text("[alembic]\nscript_location = x\n" + body)
    else:
        path = ini(tmp_path, body)
    with pytest.raises(ConfigError, match=error) as err:
        load_project(path)
    assert "\n" not in str(err.value)


def test_a_missing_config_names_the_fix(tmp_path):
    with pytest.raises(ConfigError, match=r"pass -c PATH/TO/alembic\.ini"):
        load_project(tmp_path / "nope.ini")


def test_a_plain_alembic_project_gets_one_environment(tmp_path):
    project = load_project(ini(tmp_path, "sqlalchemy.url = postgresql://u@h/db\n"))
    assert list(project.environments) == ["default"]
    assert project.environment().dialect == "postgresql"


def test_urls_get_the_driver_and_must_fit_the_dialect(tmp_path):
    pg = Environment("prod", "postgresql", url_env="PROD_URL")
    url = pg.url({"PROD_URL": "postgres://u@h/db"})
    assert url.drivername == "postgresql+psycopg"
    maria = Environment("m", "mariadb", url_env="M_URL")
    assert maria.url({"M_URL": "mysql://u@h/db"}).drivername == "mysql+pymysql"
    assert maria.url({"M_URL": "mariadb+pymysql://u@h/db"}).drivername == "mariadb+pymysql"
    with pytest.raises(ConfigError, match="is postgresql but the URL in \\$PROD_URL is for sqlite"):
        pg.url({"PROD_URL": "sqlite:///x.db"})


def test_an_sqlite_file_gets_its_folder_when_written_only(tmp_path):
    env = Environment("dev", "sqlite", default_url=f"sqlite:///{tmp_path}/deep/er/dev.db")
    url = env.url({})
    assert url.drivername == "sqlite+pysqlite"
    assert not (tmp_path / "deep").exists() and not env.kind.exists(url)
    env.kind.prepare(url)  # what a command that writes does first
    assert (tmp_path / "deep" / "er").is_dir()


def test_missing_urls_say_what_to_export():
    with pytest.raises(MissingDatabaseUrl) as err:
        Environment("prod", "postgresql", url_env="PROD_URL").url({})
    assert str(err.value) == (
        "environment 'prod' takes its database URL from $PROD_URL, which is not set; "
        "export PROD_URL=postgresql://USER@HOST:5432/DBNAME"
    )
    with pytest.raises(ConfigError, match="has no database URL"):
        Environment("x", "sqlite").url({})


@pytest.mark.parametrize(
    "raw",
    [
        f"postgresql://user:{ENCODED}@host:notaport/db",
        f"postgresql://user:{SECRET}@host/db?x",
        f"::postgresql://user:{SECRET}@host/db",
    ],
)
def test_an_invalid_url_never_shows_its_password(raw):
    env = Environment("prod", "postgresql", url_env="PROD_URL")
    try:
        url = env.url({"PROD_URL": raw})
    except ConfigError as err:
        message = str(err)
    else:
        message = redact(url)
    for secret in (SECRET, ENCODED, "s3cr", "pa:ss"):
        assert secret not in message


def test_redact_hides_any_password():
    url = make_url(f"postgresql+psycopg://user:{ENCODED}@host/db")
    assert url.password == SECRET
    assert redact(url) == "postgresql://user:***@host/db"


@pytest.mark.parametrize("parameter", ["password", "PASSWORD", "passfile", "sslpassword"])
def test_redact_hides_a_secret_given_as_a_url_parameter(parameter):
    url = make_url(f"postgresql+psycopg://user@host/db?{parameter}={ENCODED}&sslmode=require")
    shown = redact(url)
    assert shown.startswith("postgresql://user@host/db?") and "sslmode=require" in shown
    assert f"{parameter}=redacted" in shown
    for secret in (SECRET, ENCODED, "s3cr"):
        assert secret not in shown


def test_psql_gets_a_url_parameter_password_in_its_environment_not_its_arguments(tmp_path):
    from tools.dialects import script_dialect

    url = make_url(f"postgresql+psycopg://user@host/db?password={ENCODED}&passfile=/p/f")
    command = script_dialect("postgresql").client_command(url, tmp_path / "upgrade.sql")
    assert command.env == {"PGPASSWORD": SECRET, "PGPASSFILE": "/p/f"}
    assert not any("s3cr" in arg or "passfile" in arg for arg in command.args)


def test_the_mariadb_client_gets_a_url_parameter_password_in_its_environment(tmp_path):
    from tools.dialects import script_dialect

    url = make_url(f"mariadb+pymysql://user@host/db?password={ENCODED}")
    command = script_dialect("mariadb").client_command(url, tmp_path / "upgrade.sql")
    assert command.env == {"MYSQL_PWD": SECRET}
    assert not any("s3cr" in arg for arg in command.args)


def test_the_one_config_builder_escapes_percent_for_the_ini_parser(tmp_path):
    project = load_project(ini(tmp_path, "[schemactl.env.x]\ndialect = sqlite\n"))
    url = make_url(f"sqlite:///{tmp_path}/a%b/x.db")
    cfg = project.alembic_config(project.environment(), url=url, quiet=True, plain_operations=True)
    assert make_url(cfg.get_main_option("sqlalchemy.url")).database == f"{tmp_path}/a%b/x.db"
    assert cfg.attributes["schemactl.url"] is url
    assert cfg.attributes["schemactl.render_as_batch"] is False
    assert cfg.attributes["configure_logger"] is False


@pytest.mark.parametrize(
    ("setting", "expected"), [("", 3), ("proof_rows = 0\n", 0), ("proof_rows = 250\n", 250)]
)
def test_rows_per_table_for_proofs(tmp_path, setting, expected):
    project = load_project(
        ini(tmp_path, "[schemactl]\n" + setting + "[schemactl.env.dev]\ndialect = sqlite\n")
    )
    assert project.proof_rows == expected


@pytest.mark.parametrize("value", ["-1", "many", "10001", "٣"])
def test_rows_per_table_that_are_no_number_are_refused(tmp_path, value):
    path = ini(
        tmp_path, f"[schemactl]\nproof_rows = {value}\n[schemactl.env.dev]\ndialect = sqlite\n"
    )
    with pytest.raises(ConfigError, match=r"proof_rows in alembic.ini: .* is not a number of rows"):
        load_project(path)


def test_the_rows_option_says_the_default_it_has():
    from typer.testing import CliRunner

    from tools.cli import app
    from tools.config import MAX_PROOF_ROWS, PROOF_ROWS

    shown = " ".join(CliRunner().invoke(app, ["check", "--help"]).stdout.split())
    assert f"(0 to {MAX_PROOF_ROWS})" in shown and f"({PROOF_ROWS} unless set)" in shown


@pytest.mark.parametrize(
    ("location", "other", "named"),
    [
        ("%(here)s/migrations", "reporting", "migrations"),  # after its script folder
        ("myapp:migrations", "reporting", "migrations"),  # a package resource
        ("%(here)s/db/alembic/", "reporting", "alembic"),
        ("%(here)s/reporting", "reporting", "alembic"),  # another database's name: the section
        ("%(here)s/1 bad", "reporting", "alembic"),  # no name: the section
    ],
)
def test_the_first_database_is_named_after_its_script_folder(tmp_path, location, other, named):
    """Issue 31: without display_name, the first database goes by its script_location's
    folder; -n takes that name and the section's alike."""
    path = tmp_path / "alembic.ini"
    path.write_text(
        f"[alembic]\nscript_location = {location}\nsqlalchemy.url = sqlite://\n"
        f"[{other}]\nscript_location = %(here)s/r\nsqlalchemy.url = sqlite://\n"
    )
    assert load_project(path).display_name == named
    assert load_project(path, named).database == "alembic"
    assert load_project(path, "alembic").display_name == named
    assert load_project(path, other).display_name == other
