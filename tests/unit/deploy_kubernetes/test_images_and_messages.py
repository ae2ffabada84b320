"""Setting the release's image in a kustomization, and the GitOps commit message."""

from __future__ import annotations

import pytest

from code_engine.deploy.kubernetes.images import image_reference, repository_of, set_image
from code_engine.deploy.kubernetes.message import Author, DeployMessage, trailers

DIGEST = "sha256:" + "0" * 64


def test_an_existing_entry_is_replaced_keeping_its_new_name() -> None:
    kustomization = {
        "resources": ["../../base"],
        "images": [
            {"name": "other", "newTag": "1"},
            {"name": "ghcr.io/acme/shop", "newName": "mirror.local/shop", "newTag": "0.1"},
        ],
    }
    edited = set_image(kustomization, "ghcr.io/acme/shop", "2.0.0", DIGEST)
    assert edited["images"] == [
        {"name": "other", "newTag": "1"},
        {
            "name": "ghcr.io/acme/shop",
            "newTag": "2.0.0",
            "digest": DIGEST,
            "newName": "mirror.local/shop",
        },
    ]
    assert kustomization["images"][1]["newTag"] == "0.1"  # the input is not changed
    assert edited["resources"] == ["../../base"]


def test_a_missing_entry_is_added() -> None:
    assert set_image({}, "shop", "1.0.0+build.7", None)["images"] == [
        {"name": "shop", "newTag": "1.0.0-build.7"}
    ]


@pytest.mark.parametrize(
    ("version", "digest"), [("1.0 beta", None), ("-x", None), ("1", "sha1:ab")]
)
def test_bad_versions_and_digests_are_refused(version: str, digest: str | None) -> None:
    with pytest.raises(ValueError, match="cannot be an image tag|is not sha256"):
        set_image({}, "shop", version, digest)


@pytest.mark.parametrize(
    ("reference", "repository"),
    [
        ("ghcr.io/acme/shop:1.0", "ghcr.io/acme/shop"),
        ("localhost:5000/shop", "localhost:5000/shop"),
        ("localhost:5000/shop:2@" + DIGEST, "localhost:5000/shop"),
        ("shop", "shop"),
    ],
)
def test_the_repository_of_a_reference(reference: str, repository: str) -> None:
    assert repository_of(reference) == repository


def test_image_reference() -> None:
    assert image_reference("shop", "1.0", DIGEST) == f"shop:1.0@{DIGEST}"


def test_a_deploy_message_carries_the_trailers() -> None:
    message = DeployMessage.deploy("shop", "prod", "17", "1.2.0", "abc123")
    text = message.text()
    assert text == (
        "deploy(prod): shop 1.2.0\n\n"
        "Code-Deployment: 17\nCode-Release: 1.2.0\nCode-Commit: abc123\n"
    )
    assert trailers(text) == {
        "Code-Deployment": "17",
        "Code-Release": "1.2.0",
        "Code-Commit": "abc123",
    }
    body = DeployMessage("fix(prod): x", "1", "1", "c", body="why").text()
    assert body.startswith("fix(prod): x\n\nwhy\n\nCode-Deployment: 1")
    assert (
        DeployMessage.rollback("shop", "prod", "17", "1.2.0", "c").subject
        == "revert(prod): shop 1.2.0"
    )


@pytest.mark.parametrize(("name", "email"), [("", "a@b"), ("Eve <x>", "a@b"), ("Eve", "a b@c")])
def test_an_author_must_be_a_git_identity(name: str, email: str) -> None:
    with pytest.raises(ValueError, match="cannot be a git identity"):
        Author(name, email)
