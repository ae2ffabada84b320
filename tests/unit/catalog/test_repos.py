"""Which repositories a service may use: the operator's list, and values git would run."""

from __future__ import annotations

import pytest

from code_engine.catalog.repos import RepositoryNotAllowedError, address, check_repo, parse_allowed


@pytest.mark.parametrize(
    "repo",
    [
        "ext::sh -c touch% /tmp/x",
        "fd::3",
        "--upload-pack=touch /tmp/x",
        "ftp://example.com/r.git",
        "https:///no-host",
        "a\nb",
        "",
        "x" * 3000,
    ],
)
def test_command_running_and_malformed_values_are_refused_whatever_the_setting(repo: str) -> None:
    with pytest.raises(RepositoryNotAllowedError):
        check_repo(repo, ())


@pytest.mark.parametrize(
    ("repo", "scheme", "host", "path"),
    [
        ("https://Git.Example.com/acme/shop.git", "https", "git.example.com", "/acme/shop.git"),
        ("git@github.com:acme/shop.git", "ssh", "github.com", "/acme/shop.git"),
        ("/srv/git/../git/shop", "file", "", "/srv/git/shop"),
        ("file:///srv/git/shop", "file", "", "/srv/git/shop"),
    ],
)
def test_addresses(repo: str, scheme: str, host: str, path: str) -> None:
    found = address(repo)
    assert (found.scheme, found.host, found.path) == (scheme, host, path)


def test_an_empty_list_allows_any_well_formed_repository() -> None:
    check_repo("https://anywhere.example/x.git", ())
    check_repo("/home/someone/repo", ())


def test_the_list_allows_only_its_hosts_and_paths_at_a_segment_boundary() -> None:
    allowed = parse_allowed("https://git.example.com/acme, /srv/git")
    check_repo("https://git.example.com/acme/shop.git", allowed)
    check_repo("/srv/git/shop", allowed)
    check_repo("file:///srv/git/shop", allowed)
    for refused in (
        "https://git.example.com/acme-evil/shop.git",  # a longer name is not below the prefix
        "http://git.example.com/acme/shop.git",  # another scheme
        "https://evil.example/acme/shop.git",
        "git@git.example.com:acme/shop.git",  # ssh, not https
        "/srv/git/../../etc",
        "/srv/gitx/shop",
    ):
        with pytest.raises(RepositoryNotAllowedError, match="CODE_ALLOWED_REPO_URLS"):
            check_repo(refused, allowed)


def test_a_bad_entry_in_the_setting_is_refused() -> None:
    with pytest.raises(RepositoryNotAllowedError):
        parse_allowed("https://ok.example, ext::sh")
