"""A pure simulation of the world a rollout executor drives: processes, router, metrics, clock."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from code_engine.deploy.rollout import (
    Action,
    Command,
    Decision,
    DrainAndStop,
    EnsureStable,
    InstanceState,
    Measure,
    MetricSample,
    Observations,
    ResetStats,
    RolloutSpec,
    RolloutState,
    SetWeights,
    StartCanary,
    Status,
    decide,
    new_rollout,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
READY = InstanceState.READY

Metrics = Callable[[str, datetime, datetime], MetricSample]


def steady(rps: float = 10.0, error_rate: float = 0.0, p95_ms: float = 80.0) -> Metrics:
    """Traffic proportional to the window length, with a fixed error rate and p95."""

    def sample(version: str, since: datetime, until: datetime) -> MetricSample:
        requests = rps * (until - since).total_seconds()
        return MetricSample(version, since, until, requests, requests * error_rate, p95_ms)

    return sample


@dataclass
class World:
    """Processes, router and metrics; records every breach of the routing invariants."""

    canary: str
    stable: str | None
    metrics: Metrics = field(default_factory=steady)
    now: datetime = T0
    start_delay: timedelta | None = timedelta(seconds=3)  # None: never becomes ready
    crash_on_start: bool = False
    instances: dict[str, InstanceState] = field(default_factory=dict)
    weights: dict[str, int] | None = None
    sample: MetricSample | None = None
    ready_at: datetime | None = None
    stopped_by_controller: set[str] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)
    applied: list[Action] = field(default_factory=list)
    resets: list[ResetStats] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.stable is not None:
            self.instances[self.stable] = READY
            self.weights = {self.stable: 100}
        else:
            self.weights = {}

    def state(self, version: str | None) -> InstanceState:
        if version is None:
            return InstanceState.ABSENT
        return self.instances.get(version, InstanceState.ABSENT)

    def crash(self, version: str) -> None:
        """A process dies on its own (not the controller's doing)."""
        if self.state(version) is not InstanceState.STOPPED:
            self.instances[version] = InstanceState.CRASHED

    def observe(self, commands: Iterable[Command] = ()) -> Observations:
        if self.state(self.canary) is InstanceState.STARTING and self.ready_at is not None:
            if self.now >= self.ready_at:
                crashed = self.crash_on_start
                self.instances[self.canary] = InstanceState.CRASHED if crashed else READY
        sample, self.sample = self.sample, None
        return Observations(
            canary=self.state(self.canary),
            stable=self.state(self.stable),
            weights=None if self.weights is None else dict(self.weights),
            sample=sample,
            commands=tuple(commands),
        )

    def apply(self, action: Action) -> None:
        self.applied.append(action)
        if isinstance(action, StartCanary):
            self._start(action)
        elif isinstance(action, EnsureStable):
            self.instances[action.version] = READY
        elif isinstance(action, SetWeights):
            self._route(action)
        elif isinstance(action, ResetStats):
            self.resets.append(action)
        elif isinstance(action, Measure):
            self.sample = self.metrics(action.version, action.since, action.until)
        elif isinstance(action, DrainAndStop):
            if (self.weights or {}).get(action.version, 0) > 0:
                self.violations.append(f"{self.now}: stopped {action.version} while routed")
            self.instances[action.version] = InstanceState.STOPPED
            self.stopped_by_controller.add(action.version)

    def _start(self, action: StartCanary) -> None:
        if action.version in self.stopped_by_controller:
            self.violations.append(f"{self.now}: restarted stopped {action.version}")
        if self.state(action.version) in (InstanceState.ABSENT, InstanceState.STOPPED):
            self.instances[action.version] = InstanceState.STARTING
            delay = self.start_delay
            self.ready_at = None if delay is None else self.now + delay

    def _route(self, action: SetWeights) -> None:
        for version, weight in action.weights.items():
            if weight > 0 and self.state(version) is not READY:
                self.violations.append(f"{self.now}: routed {weight}% to {version} (not ready)")
        if sum(action.weights.values()) not in (0, 100):
            self.violations.append(f"{self.now}: weights {dict(action.weights)} do not sum to 100")
        self.weights = dict(action.weights)

    def check_routing(self) -> None:
        """No traffic may be routed to a version the controller stopped."""
        for version, weight in (self.weights or {}).items():
            if weight > 0 and version in self.stopped_by_controller:
                self.violations.append(f"{self.now}: {weight}% routed to stopped {version}")


Script = Callable[[RolloutState, "World"], list[Command]]


@dataclass
class Run:
    """The outcome of a driven rollout."""

    state: RolloutState
    world: World
    decisions: list[Decision]
    persisted: list[RolloutState]

    @property
    def status(self) -> Status:
        return self.state.status


def drive(
    state: RolloutState,
    world: World,
    *,
    script: Script | None = None,
    crashes: dict[int, int] | None = None,
    world_events: dict[int, Callable[[World], None]] | None = None,
    poll: timedelta = timedelta(seconds=5),
    restart_delay: timedelta = timedelta(0),
    max_ticks: int = 3000,
) -> Run:
    """Run the executor loop: observe, decide, persist, apply; stop when done or held.

    `crashes` maps a tick to how many of its world actions were applied before the
    executor died; everything in memory but the persisted state is then lost.
    """
    persisted = state
    decisions: list[Decision] = []
    history: list[RolloutState] = [state]
    for tick in range(max_ticks):
        if world_events and tick in world_events:
            world_events[tick](world)
        commands = script(persisted, world) if script else []
        if persisted.status is Status.PAUSED and not commands and _held_for_good(decisions):
            break  # held for a person, with nothing left to watch
        decision = decide(persisted, world.observe(commands), world.now)
        decisions.append(decision)
        persisted = decision.state  # written before the world actions are applied
        history.append(persisted)
        actions = decision.world_actions
        crashed = crashes is not None and tick in crashes
        if crashed:
            assert crashes is not None
            actions = actions[: crashes[tick]]
        for action in actions:
            world.apply(action)
        world.check_routing()
        if persisted.status.terminal:
            break
        if crashed:
            world.sample = None  # the executor's memory is gone
            world.now += restart_delay
        elif decision.world_actions:
            world.now += timedelta(seconds=1)
        else:
            wakeup = decision.wakeup
            later = world.now + poll
            world.now = max(world.now + timedelta(milliseconds=1), min(wakeup or later, later))
    return Run(persisted, world, decisions, history)


def _held_for_good(decisions: list[Decision]) -> bool:
    """The last decision waits on nothing: no wakeup, no world action (an inconclusive
    pause keeps measuring the canary and rolls back at its deadline)."""
    last = decisions[-1] if decisions else None
    return last is None or (last.wakeup is None and not last.world_actions)


def rollout(spec: RolloutSpec, *, stable: str | None = "v1", canary: str = "v2") -> RolloutState:
    """A fresh rollout of `canary` over `stable`."""
    return new_rollout("dep-1", canary, stable, spec)


def resume_when_paused(times: int = 1) -> Script:
    """A person who resumes each pause, `times` times."""
    left = [times]

    def script(state: RolloutState, world: World) -> list[Command]:
        if state.status is Status.PAUSED and left[0] > 0:
            left[0] -= 1
            return [Command.RESUME]
        return []

    return script


def command_at(tick_time: datetime, command: Command) -> Script:
    """A person who gives `command` once, at the first tick at or after `tick_time`."""
    sent = [False]

    def script(state: RolloutState, world: World) -> list[Command]:
        if not sent[0] and world.now >= tick_time:
            sent[0] = True
            return [command]
        return []

    return script
