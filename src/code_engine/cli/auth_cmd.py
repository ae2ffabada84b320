"""`codectl users|clients|auth ...` (act on the database) and `codectl login` (over HTTP)."""

from __future__ import annotations

import time
from datetime import timedelta

import typer

from code_engine.auth import principals
from code_engine.auth.keys import KeyRing
from code_engine.auth.roles import Binding
from code_engine.cli.client import DEFAULT_SERVER, Login, request_token, save_login
from code_engine.cli.context import load_settings, open_database
from code_engine.cli.output import OutputFormat, console, print_json, render_rows
from code_engine.cli.role_policy import role_check
from code_engine.clock import utc_now
from code_engine.errors import UserError

users_app = typer.Typer(help="Human users (password grant).", no_args_is_help=True)
clients_app = typer.Typer(help="Machine clients (client_credentials grant).", no_args_is_help=True)
auth_app = typer.Typer(help="Signing keys.", no_args_is_help=True)

ROLE_HELP = "Role, optionally scoped: admin, deployer:staging ... (repeatable)."
OUTPUT = typer.Option(OutputFormat.table, "--output", "-o", help="table or json.")


def _bindings(roles: list[str]) -> frozenset[Binding]:
    return frozenset(Binding.parse(r) for r in roles)


def _rows(kind: str) -> list[dict[str, object]]:
    db = open_database(load_settings())
    return [
        {
            "name": a.name,
            "kind": a.kind,
            "disabled": a.disabled,
            "roles": " ".join(sorted(b.render() for b in a.bindings)),
        }
        for a in principals.list_accounts(db, kind)
    ]


@users_app.command("create")
def users_create(
    name: str,
    role: list[str] = typer.Option(["viewer"], "--role", "-r", help=ROLE_HELP),
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="CODE_NEW_USER_PASSWORD",
        help="At least 12 characters.",
    ),
) -> None:
    """Create a user who logs in with a password."""
    settings = load_settings()
    db = open_database(settings)
    check = role_check(settings)
    account = principals.create_user(db, utc_now, name, password, _bindings(role), check=check)
    console().print(f"created user {account.name}")


@users_app.command("list")
def users_list(output: OutputFormat = OUTPUT) -> None:
    """List users and their roles."""
    render_rows(_rows("user"), ["name", "roles", "disabled"], output)


@users_app.command("grant")
def users_grant(name: str, role: str) -> None:
    """Grant ROLE (e.g. deployer:staging) to a user or client."""
    settings = load_settings()
    principals.grant(open_database(settings), name, Binding.parse(role), role_check(settings))
    console().print(f"granted {role} to {name}")


@users_app.command("revoke")
def users_revoke(name: str, role: str) -> None:
    """Revoke ROLE from a user or client."""
    settings = load_settings()
    principals.revoke(open_database(settings), name, Binding.parse(role), role_check(settings))
    console().print(f"revoked {role} from {name}")


@users_app.command("disable")
def users_disable(name: str, enable: bool = typer.Option(False, help="Enable instead.")) -> None:
    """Disable (or re-enable) a user or client; its tokens stop working within seconds."""
    principals.set_disabled(open_database(load_settings()), name, not enable)
    console().print(f"{'enabled' if enable else 'disabled'} {name}")


@clients_app.command("create")
def clients_create(
    name: str,
    role: list[str] = typer.Option(["viewer"], "--role", "-r", help=ROLE_HELP),
    output: OutputFormat = OUTPUT,
) -> None:
    """Create a client; its secret is printed once."""
    settings = load_settings()
    db = open_database(settings)
    check = role_check(settings)
    creds = principals.create_client(db, utc_now, name, _bindings(role), check=check)
    if output is OutputFormat.json:
        print_json({"client_id": creds.client_id, "client_secret": creds.client_secret})
        return
    console().print(f"client id:     {creds.client_id}\nclient secret: {creds.client_secret}")


@clients_app.command("list")
def clients_list(output: OutputFormat = OUTPUT) -> None:
    """List clients and their roles."""
    render_rows(_rows("client"), ["name", "roles", "disabled"], output)


@clients_app.command("disable")
def clients_disable(name: str, enable: bool = typer.Option(False, help="Enable instead.")) -> None:
    """Disable (or re-enable) a client; its tokens stop working within seconds."""
    db = open_database(load_settings())
    if not any(a.name == name for a in principals.list_accounts(db, "client")):
        raise UserError(f"no client named {name!r}")
    principals.set_disabled(db, name, not enable)
    console().print(f"{'enabled' if enable else 'disabled'} client {name}")


@auth_app.command("rotate-keys")
def rotate_keys(
    publish_for: int = typer.Option(
        60,
        "--publish-for",
        min=0,
        max=86_400,
        help="Seconds the new key is published in the JWKS before it signs.",
    ),
) -> None:
    """Rotate in a new signing key; old keys verify until their tokens expire.

    Running servers re-read the key ring on their own: no restart is needed.
    """
    settings = load_settings()
    longest = max(settings.access_token_ttl_seconds, settings.user_token_ttl_seconds)
    ring = KeyRing(
        settings.keys_dir,
        settings.jwt_key_passphrase.get_secret_value(),
        utc_now,
        timedelta(seconds=longest),
    ).load_or_create()
    key = ring.rotate(timedelta(seconds=publish_for))
    console().print(
        f"new signing key {key.kid}: published now, signs from {key.signs_from:%Y-%m-%d %H:%M:%S}Z"
    )


@auth_app.command("jwks")
def show_jwks() -> None:
    """Print the JWKS document (public keys)."""
    settings = load_settings()
    longest = max(settings.access_token_ttl_seconds, settings.user_token_ttl_seconds)
    ring = KeyRing(
        settings.keys_dir,
        settings.jwt_key_passphrase.get_secret_value(),
        utc_now,
        timedelta(seconds=longest),
    ).load_or_create()
    print_json(ring.jwks())


def login(
    server: str = typer.Option(DEFAULT_SERVER, envvar="CODE_SERVER", help="CODE server URL."),
    client_id: str = typer.Option(None, envvar="CODE_CLIENT_ID"),
    client_secret: str = typer.Option(None, envvar="CODE_CLIENT_SECRET"),
    username: str = typer.Option(None, "--username", "-u"),
    password: str = typer.Option(None, envvar="CODE_PASSWORD"),
) -> None:
    """Get a token (client credentials or user password) and store it for later commands.

    A client login also stores the client credentials (owner-only file), so that later
    commands renew the token when it expires; a user logs in again after the token's lifetime.
    """
    if client_id:
        form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret or typer.prompt("client secret", hide_input=True),
        }
    else:
        user = username or typer.prompt("username")
        form = {
            "grant_type": "password",
            "username": user,
            "password": password or typer.prompt("password", hide_input=True),
        }
    body = request_token(server, form)
    machine = form["grant_type"] == "client_credentials"
    path = save_login(
        Login(
            server=server,
            token=body["access_token"],
            expires_at=time.time() + int(body.get("expires_in", 0)),
            # a machine login renews its token by itself; a person's password is never kept
            client_id=form["client_id"] if machine else "",
            client_secret=form["client_secret"] if machine else "",
        )
    )
    console().print(f"logged in to {server}; token stored in {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(clients_app, name="clients")
    app.add_typer(auth_app, name="auth")
    app.command("login")(login)
