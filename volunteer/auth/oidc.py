"""Login through OpenID Connect providers: the municipality's own identity provider for staff
(Entra ID, ADFS) and a certified MitID broker for citizens, configured by ``SAMSKAB_OIDC_*``
(``volunteer.config.oidc_from_environment``).

Authlib runs the authorization code flow with PKCE (S256), keeps state, nonce and the code
verifier in the session, checks the ID token's signature against the provider's keys and its
claims (issuer, audience, expiry, nonce, at_hash). The discovery document is fetched at the first
login, not at import, and kept for an hour.

What Samskab keeps of an identity is the provider's stable subject (``sub``) in ``oidc_links``;
nothing else from the token is stored or logged, so a CPR number a broker might send never
reaches the database, the audit trail or the log. Roles are Samskab's own: a provider may log in
only the roles it is configured for (``_ROLES``), and changes an account's role only through an
explicit mapping (``_ROLE_CLAIM`` + ``_ROLE_MAP``) into those roles.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError
from sqlalchemy import exists, false, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash

from volunteer import audit
from volunteer.auth.models import OidcLink, Role, User
from volunteer.clock import local_today
from volunteer.extensions import db
from volunteer.volunteers.models import VolunteerProfile, organisation_volunteers

# Seconds of clock difference allowed between the provider and us (exp, iat).
LEEWAY_S = 60
METADATA_MAX_AGE_S = 3600
HTTP_TIMEOUT_S = 10
# The order in which a mapped role wins when a person has several.
ROLE_RANK = (Role.ADMIN, Role.COORDINATOR, Role.CENTRE, Role.VOLUNTEER)


@dataclass(frozen=True)
class Provider:
    """One configured provider (``SAMSKAB_OIDC_<NAME>_*``)."""

    name: str
    kind: str  # "staff" or "mitid"
    label: str
    issuer: str
    scopes: str
    roles: tuple[str, ...]
    role_claim: str
    role_map: dict[str, str]
    adult_claim: str
    # The municipality's own provider vouches for its staff's addresses (Entra ID sends no
    # ``email_verified``); the address is still only a hint: linking needs the password or an
    # administrator.
    trust_email: bool = False

    @property
    def is_mitid(self) -> bool:
        return self.kind == "mitid"


class LoginRefused(Exception):
    """The provider's answer is not accepted. ``reason`` picks the Danish page:
    state, expired, token, issuer, provider, unreachable, role, no_account, pending, inactive,
    taken."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Identity:
    """What a login proved: the provider, the subject, and the few claims Samskab reads."""

    provider: str
    subject: str
    email: str | None  # only a verified address
    roles: tuple[str, ...]  # the mapped Samskab roles the provider asserts
    adult: bool | None


def init_app(app: Flask) -> None:
    """Register every configured provider with its own Authlib client (no network here)."""
    oauth = OAuth(app)
    providers: dict[str, Provider] = {}
    for name, settings in app.config["OIDC_PROVIDERS"].items():
        providers[name] = Provider(
            name=name,
            kind=settings["kind"],
            label=settings["label"],
            issuer=settings["issuer"],
            scopes=settings["scopes"],
            roles=tuple(settings["roles"]),
            role_claim=settings["role_claim"],
            role_map=dict(settings["role_map"]),
            adult_claim=settings["adult_claim"],
            trust_email=settings["trust_email"],
        )
        oauth.register(
            name=name,
            client_id=settings["client_id"],
            client_secret=settings["client_secret"] or None,
            server_metadata_url=f"{settings['issuer']}/.well-known/openid-configuration",
            client_kwargs={
                "scope": settings["scopes"],
                "code_challenge_method": "S256",
                "default_timeout": HTTP_TIMEOUT_S,
            },
        )
    app.extensions["samskab_oidc"] = (providers, oauth)
    app.jinja_env.globals["oidc_providers"] = providers_for_login


def providers() -> dict[str, Provider]:
    return current_app.extensions["samskab_oidc"][0]


def providers_for_login() -> list[Provider]:
    """The providers the login page offers: staff ones first, then MitID."""
    return sorted(providers().values(), key=lambda p: (p.is_mitid, p.label))


def staff_provider_roles() -> set[str]:
    """The roles some staff provider may log in (whose password login may be switched off)."""
    return {role for p in providers().values() if not p.is_mitid for role in p.roles}


def get_provider(name: str) -> Provider | None:
    return providers().get(name)


def _client(provider: Provider) -> Any:
    client = current_app.extensions["samskab_oidc"][1].create_client(provider.name)
    loaded = client.server_metadata.get("_loaded_at")
    if loaded is not None and time.time() - loaded > METADATA_MAX_AGE_S:
        client.server_metadata.clear()  # fetched again, keys too
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        client.server_metadata.clear()
        raise LoginRefused("unreachable") from exc
    # The discovery document must be the configured issuer's own (not a redirect elsewhere).
    if str(metadata.get("issuer", "")).rstrip("/") != provider.issuer:
        client.server_metadata.clear()
        raise LoginRefused("issuer")
    return client


def authorize_redirect(provider: Provider, redirect_uri: str) -> Any:
    """The redirect to the provider's login (state, nonce and PKCE verifier in the session)."""
    client = _client(provider)
    try:
        return client.authorize_redirect(redirect_uri)
    except requests.RequestException as exc:
        raise LoginRefused("unreachable") from exc


def finish(provider: Provider, now: datetime) -> Identity:
    """Check the provider's answer on the callback request: state, code exchange (with the PKCE
    verifier), ID token signature and claims. LoginRefused says what was wrong."""
    client = _client(provider)
    try:
        token = client.authorize_access_token(leeway=LEEWAY_S)
    except MismatchingStateError as exc:
        raise LoginRefused("state") from exc
    except OAuthError as exc:
        raise LoginRefused("provider") from exc
    except ExpiredTokenError as exc:
        raise LoginRefused("expired") from exc
    except ClaimError as exc:
        raise LoginRefused("issuer" if exc.claim == "iss" else "token") from exc
    except JoseError as exc:
        raise LoginRefused("token") from exc
    except requests.RequestException as exc:
        raise LoginRefused("unreachable") from exc
    except ValueError as exc:  # a token response that is not JSON, a malformed ID token
        raise LoginRefused("token") from exc
    claims = token.get("userinfo")
    if not claims or not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise LoginRefused("token")
    return _identity(provider, claims, now)


def _identity(provider: Provider, claims: dict[str, Any], now: datetime) -> Identity:
    verified = claims.get("email_verified") is True or provider.trust_email
    email = claims.get("email") if verified else None
    asserted: tuple[str, ...] = ()
    if provider.role_claim and provider.role_map:
        values = claims.get(provider.role_claim) or []
        values = [values] if isinstance(values, str) else list(values)
        asserted = tuple(
            dict.fromkeys(provider.role_map[v] for v in values if provider.role_map.get(v))
        )
    return Identity(
        provider=provider.name,
        subject=claims["sub"][:255],
        email=email.strip().lower() if isinstance(email, str) else None,
        roles=asserted,
        adult=_adult(provider, claims, now),
    )


def _adult(provider: Provider, claims: dict[str, Any], now: datetime) -> bool | None:
    """The broker's age assurance: a boolean claim (e.g. over 18), or 18 years since a
    ``birthdate`` claim; None when the provider says nothing."""
    if not provider.adult_claim:
        return None
    value = claims.get(provider.adult_claim)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and provider.adult_claim == "birthdate":
        try:
            born = date.fromisoformat(value)
        except ValueError:
            return None
        today = local_today(now)
        return (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) >= 18
    return None


def _link(provider: str, subject: str) -> OidcLink | None:
    return db.session.scalar(
        select(OidcLink).where(OidcLink.provider == provider, OidcLink.subject == subject)
    )


def _apply_roles(provider: Provider, user: User, identity: Identity) -> None:
    """Refuse a role the provider may not log in or grant; apply a mapped role."""
    if any(role not in provider.roles for role in identity.roles):
        audit.record(
            "account.oidc_role_refused",
            "user",
            user.id,
            actor_id=None,
            provider=provider.name,
            roles=sorted(identity.roles),
        )
        db.session.commit()
        raise LoginRefused("role")
    if identity.roles:
        granted = next(r for r in ROLE_RANK if r in identity.roles)
        if user.role != granted:
            audit.record(
                "account.role_from_provider",
                "user",
                user.id,
                actor_id=None,
                provider=provider.name,
                old=user.role,
                new=str(granted),
            )
            user.role = granted
    elif user.role not in provider.roles:
        raise LoginRefused("role")


def login(provider: Provider, identity: Identity, now: datetime) -> User | int:
    """The account an identity logs in: the user (commits the login), or the id of the account
    whose verified address matches and which must be linked first (``link_with_password`` or
    ``request_link``). LoginRefused: pending approval, no account, a role not allowed."""
    link = _link(provider.name, identity.subject)
    if link is not None:
        user = link.user
        if not link.approved:
            raise LoginRefused("pending")
        if not user.is_active:
            raise LoginRefused("inactive")
        _apply_roles(provider, user, identity)
        link.last_login_at = now
        link.adult = identity.adult
        user.last_login_at = now
        audit.record(
            "account.oidc_login", "user", user.id, actor_id=user.id, provider=provider.name
        )
        db.session.commit()
        return user
    if identity.email:
        user = db.session.scalar(select(User).where(User.email == identity.email))
        if user is not None and user.is_active:
            if any(lk.provider == provider.name for lk in user.oidc_links):
                raise LoginRefused("taken")
            if identity.roles:
                if any(role not in provider.roles for role in identity.roles):
                    raise LoginRefused("role")
            elif user.role not in provider.roles:
                raise LoginRefused("role")
            return user.id
    raise LoginRefused("no_account")


def _new_link(
    provider: Provider, user: User, identity: Identity, approved_at: datetime | None
) -> OidcLink:
    link = OidcLink(
        provider=provider.name,
        subject=identity.subject,
        user=user,
        approved_at=approved_at,
        adult=identity.adult,
    )
    db.session.add(link)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise LoginRefused("taken") from exc
    return link


class WrongPassword(Exception):
    """The password given to prove the account is not the account's."""


def link_with_password(
    provider: Provider, identity: Identity, user_id: int, password: str, now: datetime
) -> User:
    """Link the identity to the account after its owner proved the password, and log in.
    WrongPassword otherwise (nothing stored). Commits."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        raise LoginRefused("no_account")
    if user.password_hash is None or not check_password_hash(user.password_hash, password):
        raise WrongPassword
    _new_link(provider, user, identity, now)
    audit.record(
        "account.oidc_linked",
        "user",
        user.id,
        actor_id=user.id,
        provider=provider.name,
        by="password",
    )
    db.session.commit()
    return login(provider, identity, now)  # type: ignore[return-value]


def link_current_user(provider: Provider, identity: Identity, user: User, now: datetime) -> None:
    """Link the identity to the logged-in account (from the account page). Commits."""
    if _link(provider.name, identity.subject) is not None:
        raise LoginRefused("taken")
    if any(lk.provider == provider.name for lk in user.oidc_links):
        raise LoginRefused("taken")
    if user.role not in provider.roles:
        raise LoginRefused("role")
    _new_link(provider, user, identity, now)
    audit.record(
        "account.oidc_linked",
        "user",
        user.id,
        actor_id=user.id,
        provider=provider.name,
        by="session",
    )
    db.session.commit()


def request_link(provider: Provider, identity: Identity, user_id: int) -> None:
    """Store the link as waiting for an administrator's approval. Commits."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        raise LoginRefused("no_account")
    _new_link(provider, user, identity, None)
    audit.record(
        "account.oidc_link_requested", "user", user.id, actor_id=None, provider=provider.name
    )
    db.session.commit()


def pending_links() -> list[OidcLink]:
    return list(
        db.session.scalars(
            select(OidcLink).where(OidcLink.approved_at.is_(None)).order_by(OidcLink.created_at)
        )
    )


def _links_decidable_by(actor: User) -> Any:
    """The waiting links ``actor`` may decide: an administrator all of them; a coordinator those
    of volunteer accounts in one of the coordinator's organisations (never their own, never a
    staff account's: those stay with an administrator)."""
    query = select(OidcLink).join(OidcLink.user).where(OidcLink.approved_at.is_(None))
    if actor.role == Role.ADMIN:
        return query
    if actor.role != Role.COORDINATOR:
        return query.where(false())
    mine = [o.id for o in actor.organisations]
    return query.where(
        User.role == Role.VOLUNTEER,
        User.id != actor.id,
        exists().where(
            VolunteerProfile.user_id == User.id,
            organisation_volunteers.c.profile_id == VolunteerProfile.id,
            organisation_volunteers.c.organisation_id.in_(mine),
        ),
    )


def links_waiting_for(actor: User, limit: int | None = None) -> tuple[list[OidcLink], int]:
    """Up to ``limit`` first logins waiting for ``actor``'s decision, the oldest first, and how
    many there are in all (the coordinators' start page and queue)."""
    query = _links_decidable_by(actor)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.options(joinedload(OidcLink.user))
        .order_by(OidcLink.created_at, OidcLink.id)
        .limit(limit)
    ).all()
    return list(rows), total


def waiting_link_for(actor: User, link_id: int) -> OidcLink | None:
    """The waiting link ``link_id`` if ``actor`` may decide it, else None (shown as 404)."""
    return db.session.scalar(_links_decidable_by(actor).where(OidcLink.id == link_id))


def decide_link(actor: User, link: OidcLink, approve: bool, now: datetime) -> None:
    """Approve (the identity logs the account in from now on) or reject (the row goes) a link
    waiting for approval. Commits."""
    if link.approved:
        return
    if approve:
        link.approved_at = now
        link.approved_by_id = actor.id
    else:
        db.session.delete(link)
    audit.record(
        "account.oidc_link_approved" if approve else "account.oidc_link_rejected",
        "user",
        link.user_id,
        actor_id=actor.id,
        provider=link.provider,
    )
    db.session.commit()


class OnlyWayIn(Exception):
    """Disconnecting the login would leave the account without a way to log in."""


def disconnect(user: User, provider_name: str, password_login: bool) -> bool:
    """Remove the account's link to a provider (waiting or approved); audited. Refused
    (OnlyWayIn) when it is the only way in: no other approved link, and no password the account
    may use (``password_login``: the role's policy allows it). Returns whether a link went.
    Commits."""
    link = next((lk for lk in user.oidc_links if lk.provider == provider_name), None)
    if link is None:
        return False
    others = [lk for lk in user.oidc_links if lk is not link and lk.approved]
    if link.approved and not others and not (user.password_hash and password_login):
        raise OnlyWayIn
    user.oidc_links.remove(link)
    db.session.delete(link)
    audit.record(
        "account.oidc_disconnected", "user", user.id, actor_id=user.id, provider=provider_name
    )
    db.session.commit()
    return True


def age_assured(user: User) -> bool | None:
    """What a MitID broker said about the person's age at the last login: True (adult), False,
    or None (no broker said anything). For rules such as the lektiecafé's."""
    answers = [link.adult for link in user.oidc_links if link.approved and link.adult is not None]
    return any(answers) if answers else None
