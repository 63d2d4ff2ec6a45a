from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from volunteer.auth import services
from volunteer.auth.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ConfirmEmailForm,
    ContactForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from volunteer.auth.models import Role
from volunteer.extensions import limiter
from volunteer.i18n import select_locale
from volunteer.notifications import services as notifications
from volunteer.notifications.sms import BadPhone
from volunteer.security import is_safe_redirect

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _reset_limit() -> str:
    return current_app.config["RESET_RATE_LIMIT"]


def _register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config["ACCOUNT_RATE_LIMIT"]


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
        else:
            target = _next_url(user)
            _start_session(user, remember=form.remember.data)
            flash(_("You are logged in."), "success")
            return redirect(target)
    return render_template("auth/login.html", form=form, next=request.args.get("next", ""))


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
        _start_session(user)
        flash(_("Your password has been changed."), "success")
        return redirect(start_page(user))
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
    return render_template(
        "auth/account.html",
        password_form=password_form or _password_form(),
        email_form=email_form or ChangeEmailForm(),
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
