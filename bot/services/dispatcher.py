"""The routing table built from the features' declarations, checked once at start-up.

Two features claiming one command, button family, flow, content kind or
deep-link prefix is a wiring mistake: :func:`Routes.build` refuses it with :class:`DuplicateRoute`
instead of letting the later feature silently win.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.services.callbacks import CallbackData
from bot.services.feature import Command, Content, DeepLink, Feature, Flow, Press


class DuplicateRoute(RuntimeError):
    """Two features (or two parts of one) claim the same entry point."""


@dataclass(frozen=True)
class PressRoute:
    press: Press[Any]
    flow: Flow[Any] | None = None  # set: only valid while the person is in this flow
    step: str | None = None  # set: only at this step of it


@dataclass
class Routes:
    commands: dict[str, Command] = field(default_factory=dict)
    presses: dict[type[CallbackData], PressRoute] = field(default_factory=dict)
    flows: dict[str, Flow[Any]] = field(default_factory=dict)
    content: dict[tuple[str | None, str | None, str], Content] = field(default_factory=dict)
    deep_links: dict[str, DeepLink] = field(default_factory=dict)
    menu: tuple[str, ...] = ()

    @classmethod
    def build(cls, features: tuple[Feature, ...]) -> Routes:
        routes = cls()
        owners: dict[object, str] = {}
        for feature in features:
            routes._add_feature(feature, owners)
        routes.menu = tuple(name for feature in features for name in feature.menu)
        unknown = [name for name in routes.menu if name not in routes.commands and name != "help"]
        if unknown:
            raise DuplicateRoute(f"the menu lists commands nobody declares: {', '.join(unknown)}")
        return routes

    def _add_feature(self, feature: Feature, owners: dict[object, str]) -> None:
        def claim(key: object, what: str) -> None:
            if key in owners:
                raise DuplicateRoute(f"{what} is claimed by both {owners[key]} and {feature.name}")
            owners[key] = feature.name

        for command in feature.commands:
            claim(("command", command.name), f"/{command.name}")
            self.commands[command.name] = command
        for press in feature.presses:
            claim(press.family, f"the button {press.family.prefix}:{press.family.action}")
            self.presses[press.family] = PressRoute(press)
        for flow in feature.flows:
            claim(("flow", flow.name), f"the flow {flow.name}")
            self.flows[flow.name] = flow
            self._add_flow(flow, claim)
        for content in feature.content:
            claim(("content", None, None, content.kind) if content.flow is None
                  else ("content", content.flow, None, content.kind), f"{content.kind} content")
            self.content[(content.flow, None, content.kind)] = content
        for link in feature.deep_links:
            claim(("deep-link", link.prefix), f"the deep link /start {link.prefix}…")
            self.deep_links[link.prefix] = link

    def _add_flow(self, flow: Flow[Any], claim: Any) -> None:
        for press in flow.anytime:
            claim(press.family, f"the button {press.family.prefix}:{press.family.action}")
            self.presses[press.family] = PressRoute(press, flow)
        for step in flow.steps:
            for press in step.presses:
                claim(press.family, f"the button {press.family.prefix}:{press.family.action}")
                self.presses[press.family] = PressRoute(press, flow, step.name)
            for content in step.content:
                claim(("content", flow.name, step.name, content.kind), f"{content.kind} content in {flow.name}")
                self.content[(flow.name, step.name, content.kind)] = content

    def takes(self, kind: str) -> bool:
        """Does any feature take this kind of content, in some flow or outside any?"""
        return any(key[2] == kind for key in self.content)

    def content_for(self, flow: str | None, step: str | None, kind: str) -> Content | None:
        """The most specific taker: this step of the current flow, then the flow, then anyone."""
        keys: list[tuple[str | None, str | None, str]]
        keys = [(flow, step, kind), (flow, None, kind)] if flow is not None else []
        keys.append((None, None, kind))
        return next((self.content[key] for key in keys if key in self.content), None)
