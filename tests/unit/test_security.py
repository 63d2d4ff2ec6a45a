import pytest

from volunteer.security import is_safe_redirect


@pytest.mark.parametrize("target", ["/", "/min-side/", "/opgaver/?side=2", "/opgaver/4#datoer"])
def test_paths_on_this_site_are_safe(target):
    assert is_safe_redirect(target)


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "//evil.example",
        "//evil.example/min-side",
        "https://evil.example/",
        "http:/evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "min-side",
        "/ok\r\nLocation: https://evil.example",
    ],
)
def test_other_hosts_and_odd_urls_are_refused(target):
    assert not is_safe_redirect(target)
