import re
from pathlib import Path

import pytest

from volunteer import create_app
from volunteer.config import (
    DEFAULTS,
    PROJECT_ROOT,
    ConfigError,
    check_oidc_providers,
    finalise,
    from_environment,
    normalise_database_url,
)


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SAMSKAB_SECRET_KEY"):
        create_app({"SAMSKAB_ENV": "production", "SECRET_KEY": None})


def test_production_refuses_debug_mode():
    with pytest.raises(ConfigError, match="Debug"):
        create_app({"SAMSKAB_ENV": "production", "SECRET_KEY": "x" * 40, "DEBUG": True})


def test_production_uses_secure_cookies():
    app = create_app({"SAMSKAB_ENV": "production", "SECRET_KEY": "x" * 40})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"]


def test_development_generates_one_secret_per_instance_and_keeps_it(tmp_path):
    settings = {"SAMSKAB_ENV": "development", "SECRET_KEY": None}
    first = finalise(dict(DEFAULTS, **settings), tmp_path)["SECRET_KEY"]
    second = finalise(dict(DEFAULTS, **settings), tmp_path)["SECRET_KEY"]
    assert first == second and len(first) >= 40
    assert (tmp_path / "secret_key").read_text() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert not finalise(dict(DEFAULTS, **settings), tmp_path)["SESSION_COOKIE_SECURE"]


def test_unknown_environment_name_is_refused():
    with pytest.raises(ConfigError, match="SAMSKAB_ENV"):
        create_app({"SAMSKAB_ENV": "staging", "SECRET_KEY": "x"})


def test_environment_variables_are_read():
    env = {
        "SAMSKAB_DATABASE_URL": "postgresql://u@h/db",
        "SAMSKAB_SECRET_KEY": "s",
        "SAMSKAB_DEBUG": "true",
        "UNRELATED": "x",
    }
    assert from_environment(env) == {
        "SQLALCHEMY_DATABASE_URI": "postgresql://u@h/db",
        "SECRET_KEY": "s",
        "DEBUG": True,
    }


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SAMSKAB_PROXY_HOPS", "one"),
        ("SAMSKAB_SMTP_PORT", "25a"),
        ("SAMSKAB_VISIT_REMINDER_HOURS", "24,x"),
    ],
)
def test_a_number_that_is_none_names_its_variable(variable, value):
    with pytest.raises(ConfigError, match=variable) as refused:
        from_environment({variable: value})
    assert repr(value) in str(refused.value)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("nonsense", "is not a database URL"),
        ("mongodb://u@h/db", "does not know ('mongodb')"),
        ("mysql://u@h/db", "needs the Python package"),
    ],
)
def test_an_unusable_database_url_is_refused_without_repeating_it(url, says, tmp_path):
    settings = dict(
        DEFAULTS, SAMSKAB_ENV="development", SECRET_KEY="k", SQLALCHEMY_DATABASE_URI=url
    )
    with pytest.raises(ConfigError, match="SAMSKAB_DATABASE_URL") as refused:
        finalise(settings, tmp_path)
    assert says in str(refused.value) and url not in str(refused.value)


def test_a_configuration_error_reads_as_one_line():
    error = ConfigError("SAMSKAB_ENV must be one of\n production,   development.")
    assert (
        error.one_line()
        == "Samskab cannot start: SAMSKAB_ENV must be one of production, development."
    )


@pytest.mark.parametrize(
    "url",
    ["postgres://u@h/db", "postgresql://u@h/db", "postgresql+psycopg://u@h/db"],
)
def test_postgres_urls_use_psycopg_3(url):
    assert normalise_database_url(url) == "postgresql+psycopg://u@h/db"


def _site_url(environ: dict[str, str], env: str = "development") -> str:
    settings = dict(DEFAULTS, SAMSKAB_ENV=env, SECRET_KEY="x" * 40)
    settings.update(from_environment(environ))
    return finalise(settings, Path("/nonexistent"))["SITE_URL"]


def test_in_development_the_site_url_follows_the_port(monkeypatch):
    """`make run PORT=5101`: honcho gives the web process PORT=5101 and the scheduler 5201, and
    make passes SAMSKAB_WEB_PORT=5101 to both, so every email link points at 5101."""
    assert _site_url({}) == "http://127.0.0.1:5000"
    assert _site_url({"PORT": "5101"}) == "http://127.0.0.1:5101"
    assert _site_url({"PORT": "5201", "SAMSKAB_WEB_PORT": "5101"}) == "http://127.0.0.1:5101"
    assert _site_url({"PORT": "5101", "HOST": "0.0.0.0"}) == "http://127.0.0.1:5101"
    assert _site_url({"PORT": "5101", "HOST": "::1"}) == "http://[::1]:5101"
    assert _site_url({"PORT": "5101", "SAMSKAB_SITE_URL": "https://frivillig.example"}) == (
        "https://frivillig.example"
    )
    assert _site_url({"PORT": "8000"}, env="production") == "http://127.0.0.1:5000"
    for var, value in {"PORT": "5101", "SAMSKAB_WEB_PORT": "5101", "HOST": "127.0.0.1"}.items():
        monkeypatch.setenv(var, value)
    app = create_app({"SAMSKAB_ENV": "development", "SECRET_KEY": "x" * 40, "SITE_URL": None})
    assert app.config["SITE_URL"] == "http://127.0.0.1:5101"


def test_make_run_passes_the_web_port_to_every_process():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    run = makefile[makefile.index("\nrun:") :].split("\n\n")[0]
    assert "SAMSKAB_WEB_PORT=$(PORT)" in run and "--port $(PORT)" in run
    assert "--port ${PORT:-5000}" in (PROJECT_ROOT / "Procfile").read_text()


def test_a_bad_web_port_is_refused():
    with pytest.raises(ConfigError, match="SAMSKAB_WEB_PORT"):
        from_environment({"SAMSKAB_WEB_PORT": "51o1"})


def test_openid_providers_are_read_from_the_environment():
    env = {
        "SAMSKAB_OIDC_PROVIDERS": "entra, mitid",
        "SAMSKAB_OIDC_ENTRA_ISSUER": "https://login.microsoftonline.com/t/v2.0/",
        "SAMSKAB_OIDC_ENTRA_CLIENT_ID": "app-id",
        "SAMSKAB_OIDC_ENTRA_CLIENT_SECRET": "secret",
        "SAMSKAB_OIDC_ENTRA_ROLES": "coordinator,centre",
        "SAMSKAB_OIDC_ENTRA_ROLE_CLAIM": "roles",
        "SAMSKAB_OIDC_ENTRA_ROLE_MAP": "Samskab.Koordinator=coordinator, Samskab.Center=centre",
        "SAMSKAB_OIDC_MITID_KIND": "mitid",
        "SAMSKAB_OIDC_MITID_ISSUER": "https://broker.example/",
        "SAMSKAB_OIDC_MITID_CLIENT_ID": "samskab",
    }
    settings = from_environment(env)
    checked = check_oidc_providers(settings["OIDC_PROVIDERS"], production=True)
    assert checked["entra"]["issuer"] == "https://login.microsoftonline.com/t/v2.0"
    assert checked["entra"]["roles"] == ("coordinator", "centre")
    assert checked["entra"]["role_map"] == {
        "Samskab.Koordinator": "coordinator",
        "Samskab.Center": "centre",
    }
    assert checked["mitid"]["roles"] == ("volunteer",)
    assert checked["mitid"]["scopes"] == "openid" and checked["mitid"]["label"] == "MitID"


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"client_id": "c"}, "SAMSKAB_OIDC_ENTRA_ISSUER"),
        ({"issuer": "https://i"}, "SAMSKAB_OIDC_ENTRA_CLIENT_ID"),
        ({"issuer": "http://i", "client_id": "c"}, "https:// address in production"),
        ({"issuer": "https://i", "client_id": "c", "kind": "bank"}, "staff or mitid"),
        ({"issuer": "https://i", "client_id": "c", "roles": ("boss",)}, "'boss'"),
        ({"issuer": "https://i", "client_id": "c", "scopes": "email"}, "openid"),
        ({"issuer": "https://i", "client_id": "c", "role_map": {"x": "admin"}}, "ROLE_CLAIM"),
    ],
)
def test_an_incomplete_or_unsafe_provider_is_refused(settings, says):
    with pytest.raises(ConfigError, match=re.escape(says)):
        check_oidc_providers({"entra": settings}, production=True)


def test_creating_the_app_contacts_no_provider():
    # An unreachable issuer: the discovery document is fetched at the first login, not here.
    app = create_app(
        {
            "SAMSKAB_ENV": "testing",
            "SECRET_KEY": "x",
            "OIDC_PROVIDERS": {"entra": {"issuer": "http://127.0.0.1:9", "client_id": "c"}},
        }
    )
    assert "entra" in app.extensions["samskab_oidc"][0]
