"""Scheduled jobs. Each is a plain function ``job(app, now) -> summary`` that runs inside an app
context; the scheduler (``volunteer.scheduler``) and ``flask jobs run`` call them, and so do the
tests, with an injected ``now``. Jobs never send mail: they write outbox rows with unique
dedup keys, so a job run twice (or by two schedulers) creates no second message."""
