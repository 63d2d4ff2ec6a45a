"""Danish first: every string the code shows has a Danish translation."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_message_in_the_code_is_translated_to_danish(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            "--omit-header",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    with (ROOT / "volunteer/translations/da/LC_MESSAGES/messages.po").open("rb") as fh:
        danish = read_po(fh, locale="da")
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in danish
        if m.id
        and m.string
        and (all(m.string) if isinstance(m.string, tuple) else True)
        and not m.fuzzy
    }
    assert len(extracted) > 100
    missing = sorted(extracted - translated)
    assert not missing, f"untranslated (run `make messages` and translate): {missing}"
