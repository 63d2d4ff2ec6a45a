"""Samskab: the Flask application. ``create_app`` builds every process (web, scheduler, CLI)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from volunteer import config as config_module
from volunteer.config import PROJECT_ROOT


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config → extensions → blueprints → CLI → error pages."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    settings = dict(config_module.DEFAULTS)
    # Flask takes DEBUG from FLASK_DEBUG (also set by `flask run --debug`): let the production
    # check in ``finalise`` see it, not only SAMSKAB_DEBUG.
    settings["DEBUG"] = app.config["DEBUG"]
    settings.update(config_module.from_environment())
    settings.update(config or {})
    app.config.update(config_module.finalise(settings, Path(app.instance_path)))
    _configure_logging(app)

    import volunteer.models  # noqa: F401  (the whole schema, for Alembic)
    from volunteer import i18n, security
    from volunteer.extensions import bootstrap, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    i18n.init_app(app)
    security.init_app(app)

    from volunteer.auth import loader, oidc

    login_manager.init_app(app)
    loader.init_login(login_manager)
    oidc.init_app(app)

    from volunteer.urls import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route is added
    _register_blueprints(app)

    from volunteer import caching, cli, errors, urls
    from volunteer.needs import contact, place

    caching.init_app(app)
    urls.init_app(app)
    place.init_app(app)
    contact.init_app(app)
    cli.init_app(app)
    errors.init_app(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind ``PROXY_HOPS`` reverse proxies, take the client's address, scheme and host from
    their X-Forwarded-* headers (rate limits count per client, redirects keep https)."""
    hops = app.config["PROXY_HOPS"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def _register_blueprints(app: Flask) -> None:
    from volunteer.admin.views import bp as admin_bp
    from volunteer.auth.views import bp as auth_bp
    from volunteer.centres.views import bp as centres_bp
    from volunteer.coordination.views import bp as coordination_bp
    from volunteer.main.views import bp as main_bp
    from volunteer.needs.views import bp as needs_bp
    from volunteer.notifications.sms_views import bp as sms_bp
    from volunteer.notifications.views import bp as notifications_bp
    from volunteer.pairs.views import bp as pairs_bp
    from volunteer.persons.views import bp as persons_bp
    from volunteer.proposals.views import bp as proposals_bp
    from volunteer.reports.views import bp as reports_bp
    from volunteer.volunteers.views import bp as volunteers_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(pairs_bp)
    app.register_blueprint(auth_bp, url_prefix="/konto")
    app.register_blueprint(volunteers_bp, url_prefix="/min-side")
    app.register_blueprint(needs_bp, url_prefix="/opgaver")
    app.register_blueprint(coordination_bp, url_prefix="/koordinator")
    app.register_blueprint(centres_bp, url_prefix="/center")
    app.register_blueprint(reports_bp, url_prefix="/rapporter")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(notifications_bp, url_prefix="/admin")
    app.register_blueprint(sms_bp)  # /sms/status (delivery reports), /s/<code> (short links)
    app.register_blueprint(persons_bp)  # /henvisning (public) and /koordinator/borgere, …
    app.register_blueprint(proposals_bp)  # /forslag (public) and /koordinator/forslag


def _configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing and not logging.getLogger().handlers:
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
