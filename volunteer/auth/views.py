from __future__ import annotations

import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from volunteer.auth import managed, oidc, services
from volunteer.auth import two_factor as second_factor
from volunteer.auth.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ClaimCodeForm,
    ClaimForm,
    ConfirmEmailForm,
    ContactForm,
    LoginForm,
    PasswordProofForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
    TwoFactorForm,
    TwoFactorProofForm,
)
from volunteer.auth.loader import load_user
from volunteer.auth.models import Role
from volunteer.db import utcnow
from volunteer.extensions import limiter
from volunteer.i18n import select_locale
from volunteer.notifications import services as notifications
from volunteer.notifications.sms import BadPhone
from volunteer.security import is_safe_redirect
from volunteer.urls import external_url

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _reset_limit() -> str:
    return current_app.config["RESET_RATE_LIMIT"]


def _register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config["ACCOUNT_RATE_LIMIT"]


def _claim_limit() -> str:
    return current_app.config["CLAIM_RATE_LIMIT"]


def _two_factor_limit() -> str:
    return current_app.config["TWO_FACTOR_RATE_LIMIT"]


# How long a half-done login (password given, code not yet; identity proved, not yet linked)
# waits in the session.
PENDING_LOGIN_S = 10 * 60


# Where each role starts after logging in, unless it came from a page that asked for a login.
START_PAGES = {
    Role.VOLUNTEER: "volunteers.home",
    Role.COORDINATOR: "coordination.index",
    Role.ADMIN: "coordination.index",
    Role.CENTRE: "centres.index",
}


def start_page(user: services.User) -> str:
    """The page ``user``'s role starts on: "Min side", the coordinators' start page, or the
    centre's visits."""
    return url_for(START_PAGES.get(Role(user.role), "volunteers.home"))


def _next_url(user: services.User) -> str:
    target = request.values.get("next")
    return target if is_safe_redirect(target) else start_page(user)


def _start_session(user: services.User, remember: bool = False) -> None:
    # A fresh session at login (no fixation): keep only the language the visitor chose.
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(user, remember=remember)


@bp.route("/opret", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("volunteers.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register_volunteer(
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                postcode=form.postcode.data,
                locale=select_locale(),
            )
        except services.EmailTaken:
            form.email.errors.append(
                _(
                    "There is already an account with this email. "
                    "Log in, or reset your password if you have forgotten it."
                )
            )
        else:
            _start_session(user)
            flash(
                _(
                    "Welcome to Samskab, %(name)s! Your account is ready. We have emailed you a "
                    "link: open it to confirm your address before you sign up for activities.",
                    name=user.first_name,
                ),
                "success",
            )
            return redirect(url_for("volunteers.home"))
    return render_template("auth/register.html", form=form)


@bp.route("/log-ind", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(_next_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong email or password."))
        elif not second_factor.password_login_allowed(user, oidc.staff_provider_roles()):
            form.password.errors.append(
                _("Staff log in with the municipality's login. Use the button below.")
            )
        elif second_factor.second_step_needed(user):
            return _begin_second_step(user, remember=form.remember.data)
        else:
            target = _next_url(user)
            _start_session(user, remember=form.remember.data)
            flash(_("You are logged in."), "success")
            return redirect(target)
    return render_template("auth/login.html", form=form, next=request.args.get("next", ""))


# --- The second step after the password (two-factor) -------------------------------------


def _begin_second_step(user: services.User, remember: bool) -> Response:
    """The password was right; the code comes next. The session holds the account's session
    token (logging out everywhere ends the half-done login too), not a login."""
    target = _next_url(user)
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    session["second_step"] = {
        "t": user.session_token,
        "r": bool(remember),
        "n": target,
        "at": int(time.time()),
    }
    if user.two_factor_enabled:
        return redirect(url_for("auth.two_factor"))
    flash(_("Your role needs a second step at login. Set it up now: it takes two minutes."), "info")
    return redirect(url_for("auth.two_factor_setup"))


def _pending_second_step() -> tuple[services.User, dict] | None:
    data = session.get("second_step")
    if not isinstance(data, dict) or time.time() - data.get("at", 0) > PENDING_LOGIN_S:
        return None
    user = load_user(str(data.get("t", "")))
    return (user, data) if user is not None else None


def _finish_second_step(user: services.User, data: dict) -> str:
    target = data.get("n") if is_safe_redirect(data.get("n")) else start_page(user)
    _start_session(user, remember=bool(data.get("r")))
    return target


def _login_again() -> Response:
    if current_user.is_authenticated:
        return redirect(start_page(current_user))
    flash(_("Your login has expired. Log in again."), "warning")
    return redirect(url_for("auth.login"))


@bp.route("/to-faktor/kode", methods=["GET", "POST"])
@limiter.limit(_two_factor_limit, methods=["POST"])
def two_factor() -> str | Response:
    """The second step of a password login: a code from the app, or a recovery code."""
    pending = _pending_second_step()
    if pending is None:
        return _login_again()
    user, data = pending
    if not user.two_factor_enabled:
        return redirect(url_for("auth.two_factor_setup"))
    form = TwoFactorForm()
    if form.validate_on_submit():
        if second_factor.verify(user, form.code.data, utcnow()):
            target = _finish_second_step(user, data)
            flash(_("You are logged in."), "success")
            return redirect(target)
        form.code.errors.append(
            _("The code does not fit. Write the newest code from the app (each works once).")
        )
    return render_template("auth/two_factor.html", form=form)


@bp.route("/to-faktor", methods=["GET", "POST"])
@limiter.limit(_two_factor_limit, methods=["POST"])
def two_factor_setup() -> str | Response:
    """Set up the second step: scan the QR code (or type the key), confirm with a first code,
    write down the recovery codes. For a logged-in account, or a login whose role requires it."""
    pending = None if current_user.is_authenticated else _pending_second_step()
    if current_user.is_authenticated:
        user = current_user._get_current_object()
    elif pending is not None:
        user = pending[0]
    else:
        return _login_again()
    if user.two_factor_enabled:
        if pending is not None:
            return redirect(url_for("auth.two_factor"))
        return _two_factor_on(user)
    secret = second_factor.begin_enrolment(user)
    form = TwoFactorForm()
    if form.validate_on_submit():
        codes = second_factor.confirm_enrolment(user, form.code.data, utcnow())
        if codes is not None:
            target = _finish_second_step(user, pending[1]) if pending else url_for("auth.account")
            return _no_store(
                render_template("auth/recovery_codes.html", codes=codes, target=target)
            )
        form.code.errors.append(_("The code does not fit. Check the phone's clock and try again."))
    uri = second_factor.provisioning_uri(user)
    return _no_store(
        render_template(
            "auth/two_factor_setup.html",
            form=form,
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            qr=second_factor.qr_svg(uri, _("QR code for your authenticator app")),
        )
    )


def _two_factor_on(
    user: services.User,
    renew_form: TwoFactorProofForm | None = None,
    off_form: TwoFactorProofForm | None = None,
) -> str:
    return render_template(
        "auth/two_factor_on.html",
        unused=second_factor.unused_recovery_codes(user),
        renew_form=renew_form or TwoFactorProofForm(formdata=None, prefix="renew"),
        off_form=off_form or TwoFactorProofForm(formdata=None, prefix="off"),
        may_switch_off=second_factor.may_switch_off(user),
    )


_WRONG_PROOF = _l("That is neither a current code from the app nor your password.")


@bp.post("/to-faktor/nye-koder")
@login_required
@limiter.limit(_two_factor_limit)
def new_recovery_codes() -> str | Response:
    """New recovery codes (the old ones stop working), shown once."""
    user = current_user._get_current_object()
    if not user.two_factor_enabled:
        return redirect(url_for("auth.two_factor_setup"))
    form = TwoFactorProofForm(prefix="renew")
    if form.validate_on_submit():
        codes = second_factor.renew_recovery_codes(user, form.proof.data, utcnow())
        if codes is not None:
            return _no_store(
                render_template(
                    "auth/recovery_codes.html", codes=codes, target=url_for("auth.account")
                )
            )
        form.proof.errors.append(str(_WRONG_PROOF))
    return _two_factor_on(user, renew_form=form)


@bp.post("/to-faktor/slaa-fra")
@login_required
@limiter.limit(_two_factor_limit)
def two_factor_off() -> str | Response:
    """Switch one's own two-factor login off, where the role does not require it."""
    user = current_user._get_current_object()
    if not user.two_factor_enabled:
        return redirect(url_for("auth.account"))
    form = TwoFactorProofForm(prefix="off")
    if form.validate_on_submit():
        try:
            done = second_factor.switch_off(user, form.proof.data, utcnow())
        except second_factor.Required:
            flash(_("Your role requires two-factor login, so it stays on."), "warning")
            return redirect(url_for("auth.two_factor_setup"))
        if done:
            flash(_("Two-factor login is off."), "success")
            return redirect(url_for("auth.account"))
        form.proof.errors.append(str(_WRONG_PROOF))
    return _two_factor_on(user, off_form=form)


def _no_store(page: str) -> Response:
    """The shared secret and the recovery codes stay out of every cache and the history."""
    response = make_response(page)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- Single sign-on (OpenID Connect) ---------------------------------------------------------

# Why a login through a provider was refused, as the person should read it.
REFUSALS = {
    "state": _l(
        "The login could not be completed: the answer did not belong to this browser's login. "
        "Start again from the login page."
    ),
    "expired": _l("The login has expired. Start again from the login page."),
    "token": _l(
        "The login could not be verified: the identity provider's answer was not valid. "
        "Start again; if it keeps happening, contact Samskab."
    ),
    "issuer": _l(
        "The login came from an identity provider Samskab does not know, so it was refused."
    ),
    "provider": _l("The login was cancelled or refused at the identity provider."),
    "unreachable": _l("The identity provider cannot be reached just now. Try again later."),
    "role": _l(
        "This login may not be used for your kind of account. Use the login your "
        "organisation has told you to use, or contact an administrator."
    ),
    "no_account": _l(
        "We found no Samskab account for this login. Staff: ask an administrator to invite "
        "you. Volunteers: sign up, then connect the login on your account page."
    ),
    "pending": _l(
        "Your login is waiting for approval by a coordinator or an administrator. You can log "
        "in when it has been approved."
    ),
    "inactive": _l("The account is deactivated. Contact an administrator."),
    "taken": _l("This login is already connected to a Samskab account."),
}


def _refused(reason: str, provider: oidc.Provider | None = None) -> tuple[str, int]:
    # For the operator: which provider and why, never a claim (a CPR number must not reach
    # the log).
    current_app.logger.warning(
        "Login through %s refused: %s", provider.name if provider else "-", reason
    )
    message = REFUSALS.get(reason, REFUSALS["token"])
    return render_template("auth/oidc_refused.html", message=message), 400


def _provider(name: str) -> oidc.Provider:
    provider = oidc.get_provider(name)
    if provider is None:
        abort(404)
    return provider


def _redirect_to_provider(provider: oidc.Provider, intent: dict) -> Response | tuple[str, int]:
    # One login under way per browser: an earlier attempt's state (Authlib's "_state_…" keys)
    # goes, so a session cookie cannot grow with every click on the button.
    for key in [key for key in session if key.startswith("_state_")]:
        session.pop(key)
    session["oidc_intent"] = intent
    try:
        return oidc.authorize_redirect(
            provider, external_url("auth.oidc_callback", name=provider.name)
        )
    except oidc.LoginRefused as refused:
        return _refused(refused.reason, provider)


@bp.get("/oidc/<name>")
@limiter.limit(_login_limit)
def oidc_start(name: str) -> Response | tuple[str, int]:
    """Go to the provider's login (Entra ID, MitID …)."""
    provider = _provider(name)
    if current_user.is_authenticated:
        return redirect(_next_url(current_user))
    target = request.args.get("next")
    return _redirect_to_provider(
        provider, {"next": target if is_safe_redirect(target) else None, "link": False}
    )


@bp.post("/oidc/<name>/forbind")
@login_required
@limiter.limit(_account_limit)
def oidc_connect(name: str) -> Response | tuple[str, int]:
    """From the account page: log in at the provider once to connect that login."""
    provider = _provider(name)
    form = ConfirmEmailForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.account"))
    return _redirect_to_provider(provider, {"next": None, "link": True})


@bp.post("/oidc/<name>/afbryd")
@login_required
@limiter.limit(_account_limit)
def oidc_disconnect(name: str) -> Response:
    """From the account page: stop using a provider's login (not the only way in)."""
    form = ConfirmEmailForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.account"))
    user = current_user._get_current_object()
    allowed = second_factor.password_login_allowed(user, oidc.staff_provider_roles())
    try:
        removed = oidc.disconnect(user, name, password_login=allowed)
    except oidc.OnlyWayIn:
        flash(
            _(
                "This login is your only way in, so it stays connected. Set a password first "
                "(or connect another login), then disconnect it."
            ),
            "warning",
        )
    else:
        if removed:
            flash(
                _("The login is disconnected. It can no longer be used for your account."),
                "success",
            )
    return redirect(url_for("auth.account"))


@bp.get("/oidc/<name>/retur")
@limiter.limit(_login_limit)
def oidc_callback(name: str) -> str | Response | tuple[str, int]:
    """The provider's answer: checked, then the linked account is logged in, or a first login
    is asked to prove the account (``oidc_link``)."""
    provider = _provider(name)
    intent = session.pop("oidc_intent", None) or {}
    now = utcnow()
    try:
        identity = oidc.finish(provider, now)
        if intent.get("link"):
            if not current_user.is_authenticated:
                raise oidc.LoginRefused("state")
            oidc.link_current_user(provider, identity, current_user, now)
            flash(_("The login is connected. You can use it next time."), "success")
            return redirect(url_for("auth.account"))
        result = oidc.login(provider, identity, now)
    except oidc.LoginRefused as refused:
        return _refused(refused.reason, provider)
    if isinstance(result, int):
        session["oidc_pending"] = {
            "p": provider.name,
            "s": identity.subject,
            "e": identity.email,
            "r": list(identity.roles),
            "a": identity.adult,
            "u": result,
            "n": intent.get("next"),
            "at": int(time.time()),
        }
        return redirect(url_for("auth.oidc_link"))
    target = intent.get("next") if is_safe_redirect(intent.get("next")) else start_page(result)
    _start_session(result)
    flash(_("You are logged in."), "success")
    return redirect(target)


def _pending_link() -> tuple[oidc.Provider, oidc.Identity, int, dict] | None:
    data = session.get("oidc_pending")
    if not isinstance(data, dict) or time.time() - data.get("at", 0) > PENDING_LOGIN_S:
        return None
    provider = oidc.get_provider(str(data.get("p")))
    if provider is None:
        return None
    identity = oidc.Identity(
        provider=provider.name,
        subject=str(data["s"]),
        email=data.get("e"),
        roles=tuple(data.get("r") or ()),
        adult=data.get("a"),
    )
    return provider, identity, int(data["u"]), data


@bp.route("/oidc/forbind", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def oidc_link() -> str | Response | tuple[str, int]:
    """A first login whose verified address is an account's: "Bekræft med din adgangskode",
    or ask a coordinator (a volunteer's) or an administrator to approve. Nothing is linked
    silently."""
    pending = _pending_link()
    if pending is None:
        return _login_again()
    provider, identity, user_id, data = pending
    form = PasswordProofForm()
    if form.validate_on_submit():
        try:
            user = oidc.link_with_password(
                provider, identity, user_id, form.password.data, utcnow()
            )
        except oidc.WrongPassword:
            form.password.errors.append(_("That is not the account's password."))
        except oidc.LoginRefused as refused:
            session.pop("oidc_pending", None)
            return _refused(refused.reason, provider)
        else:
            target = data.get("n") if is_safe_redirect(data.get("n")) else start_page(user)
            _start_session(user)
            flash(_("The login is connected to your account. You are logged in."), "success")
            return redirect(target)
    return render_template(
        "auth/oidc_link.html",
        form=form,
        request_form=ConfirmEmailForm(),
        provider=provider,
        email=identity.email,
    )


@bp.post("/oidc/forbind/godkendelse")
@limiter.limit(_login_limit)
def oidc_request_link() -> Response | tuple[str, int]:
    pending = _pending_link()
    if pending is None:
        return _login_again()
    provider, identity, user_id, _data = pending
    form = ConfirmEmailForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.oidc_link"))
    session.pop("oidc_pending", None)
    try:
        oidc.request_link(provider, identity, user_id)
    except oidc.LoginRefused as refused:
        return _refused(refused.reason, provider)
    flash(
        _(
            "We have asked a coordinator or an administrator to approve the login. You can use "
            "it when it has been approved; until then, log in with your password."
        ),
        "info",
    )
    return redirect(url_for("auth.login"))


@bp.post("/log-ud")
@login_required
def logout() -> Response:
    services.end_all_sessions(current_user)
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/glemt-adgangskode", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def forgot_password() -> str | Response:
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        flash(
            _(
                "If there is an account with that email, we have sent a link to choose a new "
                "password. The link works for one hour."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/nulstil/<token>", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def reset_password(token: str) -> str | Response:
    try:
        services.user_for_reset_token(token)
    except services.InvalidResetToken:
        flash(_("The link has expired or has been used. Ask for a new one."), "warning")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(token, form.password.data)
        except services.InvalidResetToken:
            flash(_("The link has expired or has been used. Ask for a new one."), "warning")
            return redirect(url_for("auth.forgot_password"))
        # The link proves the mailbox, not the second factor: the same rules as a login. The
        # notice comes after any fresh session (starting one empties the old, flashes too).
        if not second_factor.password_login_allowed(user, oidc.staff_provider_roles()):
            response = redirect(url_for("auth.login"))
        elif second_factor.second_step_needed(user):
            response = _begin_second_step(user, remember=False)
        else:
            _start_session(user)
            response = redirect(start_page(user))
        flash(_("Your password has been changed."), "success")
        return response
    return render_template("auth/reset_password.html", form=form)


def _password_form() -> ChangePasswordForm:
    form = ChangePasswordForm()
    form.account_email = current_user.email
    return form


def _contact_form() -> ContactForm:
    return ContactForm(
        data={"contact_channel": current_user.contact_channel, "phone": current_user.phone or ""}
    )


def _account_page(
    password_form: ChangePasswordForm | None = None,
    email_form: ChangeEmailForm | None = None,
    contact_form: ContactForm | None = None,
) -> str:
    user = current_user._get_current_object()
    linked = {link.provider: link for link in user.oidc_links}
    return render_template(
        "auth/account.html",
        password_form=password_form or _password_form(),
        email_form=email_form or ChangeEmailForm(),
        connect_form=ConfirmEmailForm(),
        linked=linked,
        connectable=[
            p for p in oidc.providers_for_login() if user.role in p.roles and p.name not in linked
        ],
        staff=user.role in second_factor.STAFF_ROLES,
        contact_form=contact_form or _contact_form(),
    )


@bp.get("/")
@login_required
def account() -> str:
    """The account page, for every role: change the password or the email address."""
    return _account_page()


@bp.post("/adgangskode")
@login_required
@limiter.limit(_account_limit)
def change_password() -> str | Response:
    form = _password_form()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except services.WrongPassword:
            form.current_password.errors.append(_("That is not your current password."))
        else:
            # Every session ended with the old token; this browser gets a fresh one (and a
            # fresh "keep me logged in" cookie if it had one: the old one carries the old token).
            cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
            _start_session(current_user._get_current_object(), remember=cookie in request.cookies)
            flash(
                _("Your password has been changed. You have been logged out everywhere else."),
                "success",
            )
            return redirect(url_for("auth.account"))
    return _account_page(password_form=form)


@bp.post("/email")
@login_required
@limiter.limit(_account_limit)
def change_email() -> str | Response:
    form = ChangeEmailForm()
    if form.validate_on_submit():
        try:
            services.request_email_change(
                current_user, form.email_password.data, form.new_email.data
            )
        except services.WrongPassword:
            form.email_password.errors.append(_("That is not your current password."))
        except services.SameEmail:
            form.new_email.errors.append(_("That is already your email address."))
        except services.EmailTaken:
            form.new_email.errors.append(
                _("Another account already uses this email address. Choose another one.")
            )
        else:
            flash(
                _(
                    "We have sent a link to %(email)s. Your email address changes when you "
                    "open the link; until then it stays %(old)s.",
                    email=services.normalise_email(form.new_email.data),
                    old=current_user.email,
                ),
                "info",
            )
            return redirect(url_for("auth.account"))
    return _account_page(email_form=form)


@bp.post("/kontakt")
@login_required
@limiter.limit(_account_limit)
def change_contact() -> str | Response:
    """Email, SMS or both for reminders and invitations, and the mobile number."""
    form = ContactForm()
    if form.validate_on_submit():
        try:
            notifications.set_contact(
                current_user._get_current_object(), form.contact_channel.data, form.phone.data
            )
        except BadPhone:
            form.phone.errors.append(
                _("Write a Danish phone number with 8 digits, e.g. 20 30 40 50.")
            )
        except notifications.PhoneRequired:
            form.phone.errors.append(_("Write your mobile number to get SMS."))
        except notifications.EmailRequired:
            form.contact_channel.errors.append(_("Your account has no email address. Choose SMS."))
        else:
            flash(_("We will contact you the way you chose."), "success")
            return redirect(url_for("auth.account"))
    return _account_page(contact_form=form)


def _bad_email_link() -> Response:
    flash(
        _(
            "The link has expired, has been used or is no longer valid. "
            "Ask for a new one on your account page."
        ),
        "warning",
    )
    return redirect(url_for("auth.account"))


@bp.route("/ny-email/<token>", methods=["GET", "POST"])
@limiter.limit(_account_limit, methods=["POST"])
def confirm_email(token: str) -> str | Response:
    """No login needed: the signed link is the permission. GET only asks; the POST changes."""
    try:
        user, new_email = services.read_email_change_token(token)
    except services.InvalidEmailToken:
        return _bad_email_link()
    form = ConfirmEmailForm()
    if form.validate_on_submit():
        try:
            services.confirm_email_change(token)
        except services.InvalidEmailToken:
            return _bad_email_link()
        except services.EmailTaken:
            flash(
                _("Another account already uses this email address. Choose another one."),
                "warning",
            )
            return redirect(url_for("auth.account"))
        flash(_("Your email address is now %(email)s.", email=new_email), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/confirm_email.html", form=form, user=user, new_email=new_email)


def _bad_confirm_link() -> Response:
    flash(
        _(
            "The link has expired or is for another address. "
            "Log in and ask for a new one with the button at the top of the page."
        ),
        "warning",
    )
    return redirect(
        start_page(current_user) if current_user.is_authenticated else url_for("auth.login")
    )


@bp.route("/bekraeft/<token>", methods=["GET", "POST"])
@limiter.limit(_account_limit, methods=["POST"])
def confirm_address(token: str) -> str | Response:
    """Confirm the account's address from the link mailed to it. No login needed (the mail may
    be read on another device); GET only asks, so a mail scanner opening links proves nothing."""
    try:
        user = services.read_email_confirm_token(token)
    except services.InvalidEmailToken:
        return _bad_confirm_link()
    form = ConfirmEmailForm()
    if form.validate_on_submit():
        try:
            user = services.confirm_email_address(token)
        except services.InvalidEmailToken:
            return _bad_confirm_link()
        flash(
            _(
                "Thank you! %(email)s is confirmed. You can sign up for activities now.",
                email=user.email,
            ),
            "success",
        )
        if current_user.is_authenticated and current_user.id == user.id:
            return redirect(start_page(user))
        return redirect(url_for("auth.login"))
    return render_template("auth/confirm_address.html", form=form, user=user)


@bp.post("/bekraeft-igen")
@login_required
@limiter.limit(_account_limit)
def resend_confirmation() -> Response:
    if services.send_email_confirmation(current_user):
        flash(
            _(
                "We have sent a new link to %(email)s. It can take a few minutes to arrive.",
                email=current_user.email,
            ),
            "info",
        )
    else:
        flash(_("Your email address is already confirmed."), "info")
    return redirect(start_page(current_user))


# Taking over an account a coordinator kept (``managed``): from an invitation link, or with
# the code of a printed letter.

EMAIL_TAKEN_ON_CLAIM = _l("Another account has this email address. Choose another, or log in.")


def _claimed(user: services.User) -> Response:
    _start_session(user)
    if user.email_confirmed:
        flash(_("Welcome, %(name)s! The account is yours now.", name=user.first_name), "success")
    else:
        flash(
            _(
                "Welcome, %(name)s! The account is yours now. We have emailed you a link: "
                "open it to confirm your address.",
                name=user.first_name,
            ),
            "success",
        )
    return redirect(url_for("volunteers.home"))


@bp.route("/aktiver/<token>", methods=["GET", "POST"])
@limiter.limit(_claim_limit, methods=["POST"])
def claim_account(token: str) -> str | Response:
    try:
        user, _channel = managed.read_claim_token(token)
    except managed.InvalidClaim:
        flash(
            _(
                "The link has expired or has been used. Ask your coordinator for a new one, "
                "or log in if the account is yours already."
            ),
            "warning",
        )
        return redirect(url_for("auth.claim_with_code"))
    form = ClaimForm()
    if form.validate_on_submit():
        try:
            user = managed.claim_with_link(
                token, password=form.password.data, email=form.email.data, now=utcnow()
            )
        except managed.InvalidClaim:
            flash(_("The link has expired or has been used."), "warning")
            return redirect(url_for("auth.claim_with_code"))
        except managed.EmailNeeded:
            form.email.errors.append(_("Write your email address."))
        except services.EmailTaken:
            form.email.errors.append(str(EMAIL_TAKEN_ON_CLAIM))
        else:
            return _claimed(user)
    return render_template("auth/claim.html", form=form, user=user)


@bp.route("/aktiver", methods=["GET", "POST"])
@limiter.limit(_claim_limit, methods=["POST"])
def claim_with_code() -> str | Response:
    form = ClaimCodeForm()
    if form.validate_on_submit():
        try:
            user = managed.claim_with_code(
                form.code.data, email=form.email.data, password=form.password.data, now=utcnow()
            )
        except managed.InvalidClaim:
            form.code.errors.append(
                _(
                    "We do not know that code, or it has expired or been used. Check it, or "
                    "ask your coordinator for a new letter."
                )
            )
        except services.EmailTaken:
            form.email.errors.append(str(EMAIL_TAKEN_ON_CLAIM))
        else:
            return _claimed(user)
    return render_template("auth/claim_code.html", form=form)
