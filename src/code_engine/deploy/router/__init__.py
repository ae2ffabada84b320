"""Traffic routers: split a service's traffic between versions by weight.

`TrafficRouter` is the interface; `BuiltinRouter` drives CODE's own proxy process (start it
with `ensure_router`), `HAProxyRouter` a real HAProxy through its runtime API, and
`InProcessRouter` runs the builtin proxy on a thread of the calling process.
"""

from code_engine.deploy.router.client import BuiltinRouter
from code_engine.deploy.router.config import ProxyConfig
from code_engine.deploy.router.errors import RouterError
from code_engine.deploy.router.haproxy import HAProxyRouter
from code_engine.deploy.router.haproxy_config import HAProxySettings
from code_engine.deploy.router.inprocess import InProcessRouter
from code_engine.deploy.router.launch import RouterLaunch, ensure_router, stop_router
from code_engine.deploy.router.protocol import TrafficRouter
from code_engine.deploy.router.stats import VersionStats

__all__ = [
    "BuiltinRouter",
    "HAProxyRouter",
    "HAProxySettings",
    "InProcessRouter",
    "ProxyConfig",
    "RouterError",
    "RouterLaunch",
    "TrafficRouter",
    "VersionStats",
    "ensure_router",
    "stop_router",
]
