"""Entry point: `flask --app app …` and `gunicorn 'app:app'`.

A configuration error (volunteer/config.py refuses an unsafe or broken setting) ends the process
with one line on stderr that names the variable to set, no traceback, and exit status
``EXIT_CONFIG_ERROR`` (gunicorn then stops instead of restarting its workers).
"""

import sys

from volunteer import create_app
from volunteer.config import EXIT_CONFIG_ERROR, ConfigError

try:
    app = create_app()
except ConfigError as error:
    print(error.one_line(), file=sys.stderr)
    raise SystemExit(EXIT_CONFIG_ERROR) from None
