"""Configuration: defaults in code, secrets and URLs from the environment (``SAMSKAB_*``).

``create_app(config)`` applies, in order: these defaults, the environment, then the mapping
passed in (which is how tests configure the app).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

ENVIRONMENTS = ("production", "development", "testing")


# The exit status of a process that refused its configuration. 4 is what gunicorn's arbiter reads
# as "App failed to load": it stops, instead of restarting the failed workers for ever.
EXIT_CONFIG_ERROR = 4


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the app refuses to start.

    The message names the variable to set. ``app.py`` (the entry point of ``flask --app app`` and
    gunicorn) prints it as one line on stderr and exits with ``EXIT_CONFIG_ERROR``.
    """

    def one_line(self) -> str:
        return "Samskab cannot start: " + " ".join(str(self).split())


DEFAULTS: dict[str, Any] = {
    # "production" is the default so that a forgotten variable fails safe (secure cookies, a
    # SECRET_KEY is required); `make run` and the tests choose "development"/"testing" explicitly.
    "SAMSKAB_ENV": "production",
    "SQLALCHEMY_DATABASE_URI": None,  # None → sqlite:///<instance>/samskab.db
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "BABEL_DEFAULT_LOCALE": "da",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Copenhagen",
    "LANGUAGES": ("da", "en"),
    "BOOTSTRAP_SERVE_LOCAL": True,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # Seconds an anonymous visitor's copy of a public page is reused (0 turns it off).
    "ANONYMOUS_PAGE_CACHE_S": 30,
    # The CSRF token lives as long as the session, so a form left open for an hour still works.
    "WTF_CSRF_TIME_LIMIT": None,
    # Rate-limit counters. With several web nodes point this at Redis so the counters are shared
    # (redis://host:6379/0); if Redis is unreachable each node falls back to its own memory.
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_KEY_PREFIX": "samskab",
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_HEADERS_ENABLED": True,
    "LOGIN_RATE_LIMIT": "10 per minute",
    "RESET_RATE_LIMIT": "5 per hour",
    "REGISTER_RATE_LIMIT": "20 per hour",
    # The account page's forms (change password, change email) and the email-change link.
    "ACCOUNT_RATE_LIMIT": "10 per hour",
    # "I am interested" messages to a need's contact (each is sent once per volunteer and need).
    "INTEREST_RATE_LIMIT": "30 per hour",
    # The public referral form (henvisning), per client address.
    "REFERRAL_RATE_LIMIT": "5 per hour",
    # Claiming a managed account (/konto/aktiver): the claim letter's code, per client address.
    "CLAIM_RATE_LIMIT": "10 per hour",
    "PASSWORD_RESET_MAX_AGE_S": 3600,
    # An invitation to claim a managed account, and a claim letter's one-time code.
    "CLAIM_LINK_MAX_AGE_S": 14 * 24 * 3600,
    "CLAIM_CODE_MAX_AGE_S": 30 * 24 * 3600,
    "EMAIL_CHANGE_MAX_AGE_S": 24 * 3600,
    "EMAIL_CONFIRM_MAX_AGE_S": 7 * 24 * 3600,
    "CANNOT_COME_MAX_AGE_S": 14 * 24 * 3600,  # a reminder's "Kan ikke komme" link
    "PASSWORD_MIN_LENGTH": 10,
    "MAIL_FROM": "Samskab <noreply@samskab.example.org>",
    # The public address for links in emails and calendar feeds. Unset: in development and
    # testing, the address of the local web server (``site_url_for``: WEB_HOST and WEB_PORT, which
    # `make run` passes, so `make run PORT=5101` links to port 5101); in production the old
    # placeholder (production sets SAMSKAB_SITE_URL).
    "SITE_URL": None,
    "WEB_HOST": "127.0.0.1",
    "WEB_PORT": 5000,
    # How many reverse proxies stand in front of the web nodes (X-Forwarded-For/-Proto/-Host are
    # trusted from that many hops). 0: none, the headers are ignored (they could be forged).
    "PROXY_HOPS": 0,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 60 * 60 * 24 * 14,
    # Email delivery. Without SMTP_HOST, dispatch writes messages to the log and marks them sent
    # (development); they stay readable on the admin outbox page.
    "SMTP_HOST": None,
    "SMTP_PORT": 25,
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": False,
    "SMTP_SSL": False,
    "SMTP_TIMEOUT_S": 30,
    # SMS delivery (GatewayAPI.com style JSON REST). Without SMS_URL, dispatch writes SMS to the
    # log and marks them sent (development), as for email.
    "SMS_URL": None,  # e.g. https://gatewayapi.com/rest/mtsms
    "SMS_TOKEN": None,
    "SMS_SENDER": "Samskab",  # at most 11 letters/digits, as the phone shows it
    "SMS_TIMEOUT_S": 10,
    # Delivery reports are POSTed to /sms/status signed with this secret (HMAC-SHA256 of the
    # body, hex, in X-Samskab-Signature); without it every report is refused.
    "SMS_WEBHOOK_SECRET": None,
    "SMS_WEBHOOK_RATE_LIMIT": "600 per minute",
    "SHORT_LINK_MAX_AGE_S": 14 * 24 * 3600,  # the /s/<code> links in SMS
    "SHORT_LINK_RATE_LIMIT": "30 per minute",
    "OUTBOX_BATCH_SIZE": 100,
    "OUTBOX_MAX_ATTEMPTS": 8,
    "OUTBOX_BACKOFF_S": 120,  # doubles after every failed attempt: 2, 4, 8 … 128 min
    "OUTBOX_CLAIM_S": 300,
    "OUTBOX_MAX_BATCHES_PER_RUN": 20,
    # Scheduler and jobs.
    "SCHEDULER_MISFIRE_GRACE_S": 15 * 60,
    "SCHEDULER_STANDBY_POLL_S": 15,
    "SCHEDULER_LOCK_FILE": None,  # None → <sqlite database>.scheduler-lock
    "VISIT_REMINDER_HOURS": (24,),  # e.g. (24, 2) for a second reminder two hours before
    "CERTIFICATE_NOTICE_DAYS": 30,  # a børneattest's renewal is announced this long before
    "RETENTION_SENT_OUTBOX_DAYS": 180,
    # Days a proposal (forslag) waits for its official answer, counted in local days from the
    # day it was sent.
    "PROPOSAL_ANSWER_DAYS": 14,
    "RETENTION_INACTIVE_YEARS": 3,
    # A person we help whose registration ended this many months ago is anonymised; a declined
    # referral too.
    "RETENTION_ENDED_PERSON_MONTHS": 12,
    # OpenID Connect providers by name (``oidc_from_environment``: SAMSKAB_OIDC_PROVIDERS and
    # SAMSKAB_OIDC_<NAME>_*). Empty: password login only.
    "OIDC_PROVIDERS": {},
    # The second step after the password (a TOTP code or a recovery code), per client address.
    "TWO_FACTOR_RATE_LIMIT": "10 per minute",
}

# Environment variable → config key. Values are strings; see ``_coerce`` for the typed ones.
ENV_VARS = {
    "SAMSKAB_ENV": "SAMSKAB_ENV",
    "SAMSKAB_SECRET_KEY": "SECRET_KEY",
    "SAMSKAB_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SAMSKAB_RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "SAMSKAB_SITE_URL": "SITE_URL",
    # The local web server's port (else PORT, see ``from_environment``). honcho gives every
    # process its own PORT (the scheduler's is the web port + 100), so `make run` also passes the
    # web port as SAMSKAB_WEB_PORT, which wins.
    "SAMSKAB_WEB_PORT": "WEB_PORT",
    "SAMSKAB_PROXY_HOPS": "PROXY_HOPS",
    "SAMSKAB_MAIL_FROM": "MAIL_FROM",
    "SAMSKAB_DEBUG": "DEBUG",
    "SAMSKAB_SMTP_HOST": "SMTP_HOST",
    "SAMSKAB_SMTP_PORT": "SMTP_PORT",
    "SAMSKAB_SMTP_USER": "SMTP_USER",
    "SAMSKAB_SMTP_PASSWORD": "SMTP_PASSWORD",
    "SAMSKAB_SMTP_STARTTLS": "SMTP_STARTTLS",
    "SAMSKAB_SMTP_SSL": "SMTP_SSL",
    "SAMSKAB_SMS_URL": "SMS_URL",
    "SAMSKAB_SMS_TOKEN": "SMS_TOKEN",
    "SAMSKAB_SMS_SENDER": "SMS_SENDER",
    "SAMSKAB_SMS_TIMEOUT_S": "SMS_TIMEOUT_S",
    "SAMSKAB_SMS_WEBHOOK_SECRET": "SMS_WEBHOOK_SECRET",
    "SAMSKAB_VISIT_REMINDER_HOURS": "VISIT_REMINDER_HOURS",
    "SAMSKAB_CERTIFICATE_NOTICE_DAYS": "CERTIFICATE_NOTICE_DAYS",
    "SAMSKAB_PROPOSAL_ANSWER_DAYS": "PROPOSAL_ANSWER_DAYS",
    "SAMSKAB_SCHEDULER_LOCK_FILE": "SCHEDULER_LOCK_FILE",
    "SAMSKAB_SCHEDULER_STANDBY_POLL_S": "SCHEDULER_STANDBY_POLL_S",
    "SAMSKAB_ANONYMOUS_PAGE_CACHE_S": "ANONYMOUS_PAGE_CACHE_S",
}

BOOLEAN_KEYS = {"DEBUG", "SMTP_STARTTLS", "SMTP_SSL"}


def _coerce(key: str, value: str) -> Any:
    if key in BOOLEAN_KEYS:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if key in (
        "SMTP_PORT",
        "SCHEDULER_STANDBY_POLL_S",
        "ANONYMOUS_PAGE_CACHE_S",
        "PROXY_HOPS",
        "WEB_PORT",
        "CERTIFICATE_NOTICE_DAYS",
        "SMS_TIMEOUT_S",
        "PROPOSAL_ANSWER_DAYS",
    ):
        return int(value)
    if key == "VISIT_REMINDER_HOURS":  # "24,2"
        return tuple(int(hours) for hours in value.split(",") if hours.strip())
    return value


def from_environment(environ: os._Environ[str] | dict[str, str] | None = None) -> dict[str, Any]:
    """The settings given by ``SAMSKAB_*`` environment variables."""
    environ = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    # The plain HOST and PORT a development server is started with (the Procfile's web line).
    if environ.get("HOST"):
        settings["WEB_HOST"] = environ["HOST"]
    if (environ.get("PORT") or "").isdigit():
        settings["WEB_PORT"] = int(environ["PORT"])
    for var, key in ENV_VARS.items():
        if var in environ:
            try:
                settings[key] = _coerce(key, environ[var])
            except ValueError:
                what = "a whole number"
                if key == "VISIT_REMINDER_HOURS":
                    what = "whole hours, comma-separated (e.g. 24,2)"
                raise ConfigError(f"{var} must be {what}, not {environ[var]!r}.") from None
    providers = oidc_from_environment(environ)
    if providers:
        settings["OIDC_PROVIDERS"] = providers
    return settings


# --- OpenID Connect providers ---------------------------------------------------------------

OIDC_KINDS = ("staff", "mitid")
ROLES = ("volunteer", "coordinator", "centre", "admin")
# Which roles a provider may log in (and, with a role mapping, grant) unless _ROLES says.
OIDC_DEFAULT_ROLES = {"staff": ("coordinator", "centre", "admin"), "mitid": ("volunteer",)}
OIDC_DEFAULT_SCOPES = {"staff": "openid email profile", "mitid": "openid"}
OIDC_FIELDS = (
    "ISSUER",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "SCOPES",
    "KIND",
    "LABEL",
    "ROLES",
    "ROLE_CLAIM",
    "ROLE_MAP",
    "ADULT_CLAIM",
    "TRUST_EMAIL",
)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def oidc_from_environment(environ: os._Environ[str] | dict[str, str] | None = None) -> dict:
    """The providers named by ``SAMSKAB_OIDC_PROVIDERS=entra,mitid``, each from its
    ``SAMSKAB_OIDC_<NAME>_ISSUER``, ``_CLIENT_ID``, ``_CLIENT_SECRET``, ``_SCOPES``, ``_KIND``
    (staff or mitid), ``_LABEL``, ``_ROLES``, ``_ROLE_CLAIM``, ``_ROLE_MAP`` and
    ``_ADULT_CLAIM`` and ``_TRUST_EMAIL``. ``finalise`` checks them."""
    environ = os.environ if environ is None else environ
    providers: dict[str, dict[str, Any]] = {}
    for name in _split(environ.get("SAMSKAB_OIDC_PROVIDERS", "")):
        prefix = f"SAMSKAB_OIDC_{name.upper().replace('-', '_')}_"
        settings: dict[str, Any] = {}
        for field in OIDC_FIELDS:
            value = environ.get(prefix + field)
            if value is None or not value.strip():
                continue
            if field == "ROLES":
                settings["roles"] = tuple(_split(value))
            elif field == "TRUST_EMAIL":
                settings["trust_email"] = value.strip().lower() in {"1", "true", "yes", "on"}
            elif field == "ROLE_MAP":  # "Samskab.Koordinator=coordinator,Samskab.Center=centre"
                pairs = [item.partition("=") for item in _split(value)]
                settings["role_map"] = {k.strip(): v.strip() for k, _, v in pairs}
            else:
                settings[field.lower()] = value.strip()
        providers[name] = settings
    return providers


def check_oidc_providers(providers: dict[str, dict[str, Any]], production: bool) -> dict:
    """Fill each provider's defaults and refuse an incomplete or unsafe one (ConfigError naming
    the variable to set)."""
    checked: dict[str, dict[str, Any]] = {}
    for name, given in providers.items():
        var = f"SAMSKAB_OIDC_{name.upper().replace('-', '_')}_"
        if not name.replace("-", "").replace("_", "").isalnum() or len(name) > 40:
            raise ConfigError(
                f"SAMSKAB_OIDC_PROVIDERS names {name!r}: use letters, digits and dashes."
            )
        settings = dict(given)
        kind = settings.setdefault("kind", "staff")
        if kind not in OIDC_KINDS:
            raise ConfigError(f"{var}KIND must be staff or mitid, not {kind!r}.")
        for field in ("issuer", "client_id"):
            if not settings.get(field):
                raise ConfigError(f"{var}{field.upper()} is not set.")
        issuer = str(settings["issuer"]).rstrip("/")
        if production and not issuer.startswith("https://"):
            raise ConfigError(f"{var}ISSUER must be an https:// address in production.")
        settings["issuer"] = issuer
        settings.setdefault("client_secret", "")
        settings.setdefault("scopes", OIDC_DEFAULT_SCOPES[kind])
        if "openid" not in str(settings["scopes"]).split():
            raise ConfigError(f"{var}SCOPES must include openid.")
        settings["roles"] = tuple(settings.get("roles") or OIDC_DEFAULT_ROLES[kind])
        settings.setdefault("role_map", {})
        settings.setdefault("role_claim", "")
        settings.setdefault("adult_claim", "")
        settings["trust_email"] = bool(settings.get("trust_email")) and kind == "staff"
        settings.setdefault("label", "MitID" if kind == "mitid" else name)
        unknown = [
            r for r in (*settings["roles"], *settings["role_map"].values()) if r not in ROLES
        ]
        if unknown:
            raise ConfigError(
                f"{var}ROLES and {var}ROLE_MAP may name only {', '.join(ROLES)}, not "
                f"{', '.join(map(repr, unknown))}."
            )
        if settings["role_map"] and not settings["role_claim"]:
            raise ConfigError(f"{var}ROLE_MAP needs {var}ROLE_CLAIM (the claim to read).")
        checked[name] = settings
    return checked


def finalise(config: dict[str, Any], instance_path: Path) -> dict[str, Any]:
    """Fill derived values and refuse unsafe combinations. Returns the final settings."""
    env = config["SAMSKAB_ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigError(f"SAMSKAB_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}.")
    production = env == "production"
    if production and config.get("DEBUG"):
        raise ConfigError(
            "Debug mode must never be on in production (unset SAMSKAB_DEBUG and FLASK_DEBUG)."
        )
    if not config.get("SECRET_KEY"):
        if production:
            raise ConfigError(
                "SAMSKAB_SECRET_KEY is not set, and SAMSKAB_ENV is production (the default). "
                "Production needs a long random secret, e.g. "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'. For a local run "
                "set SAMSKAB_ENV=development (`make` writes it to .flaskenv, which flask reads)."
            )
        config["SECRET_KEY"] = _instance_secret(instance_path)
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance_path / 'samskab.db'}"
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    _check_database_url(config["SQLALCHEMY_DATABASE_URI"])
    if not config.get("SITE_URL"):
        config["SITE_URL"] = PRODUCTION_SITE_URL if production else site_url_for(config)
    config["OIDC_PROVIDERS"] = check_oidc_providers(config.get("OIDC_PROVIDERS") or {}, production)
    config.setdefault("SESSION_COOKIE_SECURE", production)
    config.setdefault("REMEMBER_COOKIE_SECURE", production)
    config["TESTING"] = config.get("TESTING", env == "testing")
    return config


PRODUCTION_SITE_URL = "http://127.0.0.1:5000"


def site_url_for(config: dict[str, Any]) -> str:
    """The local web server's address: 'http://127.0.0.1:5101' for WEB_PORT 5101."""
    host = str(config.get("WEB_HOST") or "").strip()
    if host in ("", "0.0.0.0", "::"):  # listening everywhere: link to this machine
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{int(config.get('WEB_PORT') or 5000)}"


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whichever spelling of the URL was given."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _check_database_url(url: str) -> None:
    """Refuse a URL SQLAlchemy cannot parse or has no dialect for (the message never repeats the
    URL: it may hold a password)."""
    example = "e.g. postgresql+psycopg://user@host:5432/samskab or sqlite:///path/to/samskab.db"
    try:
        dialect = make_url(url).get_dialect()
    except NoSuchModuleError:  # (a subclass of ArgumentError)
        scheme = url.partition(":")[0]
        raise ConfigError(
            f"SAMSKAB_DATABASE_URL names a database SQLAlchemy does not know ({scheme!r}); "
            f"use SQLite or PostgreSQL ({example})."
        ) from None
    except ArgumentError:
        raise ConfigError(f"SAMSKAB_DATABASE_URL is not a database URL ({example}).") from None
    try:
        dialect.import_dbapi()
    except ImportError as missing:
        raise ConfigError(
            f"SAMSKAB_DATABASE_URL needs the Python package {missing.name or dialect.driver!r}, "
            "which is not installed; Samskab runs on SQLite or PostgreSQL (pip install "
            "'.[postgres]')."
        ) from None


def _instance_secret(instance_path: Path) -> str:
    """A per-instance key for local runs, generated once, kept in ``instance/`` (not in git)."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process (web, scheduler) wrote it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
