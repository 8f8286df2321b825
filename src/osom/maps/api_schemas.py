"""Request and response shapes of the maps API: each service's Wardley map as the text
its people wrote (its versions, rendered as SVG), the network map drawn from the
contracts, and the dependency graph seen from one service or as a whole (model 5.4).

The conventions are those of :mod:`osom.api.schemas`: lists answer ``{"items", "count"}``
and take ``limit`` and ``offset``; services are ``{"slug", "name", "lifecycle_stage"}``.
A map's text is the source of truth: it is kept exactly as written, and what the parser
did not understand comes back as ``warnings``, each naming its line.
"""

from __future__ import annotations

from typing import Literal

from ninja import Field, Schema

from osom.api.schemas import Moment, NextCursor, PersonRef, ServiceRef, WholeNumber
from osom.network.stages import Evolution, Lifecycle

__all__ = [
    "MapWarningOut", "ServiceMapOut", "MapVersionRow", "MapVersionPage", "MapIn", "MapSvgQuery", "RenderIn",
    "RenderOut", "NetworkMapQuery", "HopsQuery", "GraphNodeOut", "EdgeOut", "NeighbourhoodOut", "AffectedOut",
    "ImpactOut", "CycleOut", "CyclePage",
]

Relation = Literal["centre", "consumer", "provider", "related"]


class MapWarningOut(Schema):
    line: WholeNumber = Field(description="The line of the text, from 1")
    message: str = Field(description="What was not understood, or not drawn as written")


class ServiceMapOut(Schema):
    """A version of the service's map: the text as it was saved, and what the parser made
    of it. Version 0 is no map yet: empty text; send ``expected_number: 0`` to save the first."""

    service: ServiceRef
    number: WholeNumber = Field(description="The version's number; 0 when the service has no map yet")
    text: str
    note: str = Field(description="What changed in this version")
    saved_by: PersonRef | None
    saved_at: Moment | None
    warnings: list[MapWarningOut] = Field(description="Each line not understood, with its number")


class MapVersionRow(Schema):
    number: WholeNumber
    note: str
    warnings: WholeNumber = Field(description="How many lines were not understood")
    saved_by: PersonRef
    saved_at: Moment


class MapVersionPage(Schema):
    items: list[MapVersionRow] = Field(description="The newest first")
    count: WholeNumber
    next_cursor: NextCursor


class MapIn(Schema):
    text: str = Field(description="The map in the OnlineWardleyMaps text language, kept exactly as written")
    note: str = Field("", description="What changed")
    expected_number: WholeNumber | None = Field(
        None, description="The version the editor started from (0 for a first map); 409 if someone saved since")


class MapSvgQuery(Schema):
    number: WholeNumber | None = Field(None, ge=1, description="A version to draw; the current one when left out")


class RenderIn(Schema):
    text: str = Field(description="Map text to draw; nothing is saved")


class RenderOut(Schema):
    svg: str = Field(description="The map drawn as a standalone SVG document")
    warnings: list[MapWarningOut]


class NetworkMapQuery(Schema):
    around: str = Field("", description="A service's slug: only it and what it depends on, directly or through others")
    stage: Lifecycle | None = Field(None, description="Only the services at this lifecycle stage")
    evolution: Evolution | None = Field(None, description="Only the services at this evolution stage")
    q: str = Field("", description="Only the services whose names contain these words")
    format: Literal["text", "svg"] = Field("text", description="text: map text (.owm); svg: a drawing")


class HopsQuery(Schema):
    hops: WholeNumber = Field(1, ge=1, le=6, description="How many dependencies away, either way (1 to 6)")


class GraphNodeOut(Schema):
    service: ServiceRef
    distance: WholeNumber = Field(description="Dependencies away from the centre, either way")
    relation: Relation = Field(description="consumer (reached by its consumers' side), provider, related (reached "
                                           "both ways) or the centre itself")


class EdgeOut(Schema):
    consumer: str = Field(description="The consuming service's slug")
    provider: str = Field(description="The slug of the service it consumes")


class NeighbourhoodOut(Schema):
    """The running services within ``hops`` dependencies of a service, with the
    dependencies among them. A hub's neighbourhood is cut at 400 services (``truncated``)."""

    centre: ServiceRef
    hops: WholeNumber
    truncated: bool
    nodes: list[GraphNodeOut] = Field(description="The centre first, then its consumers' side, then its providers'")
    edges: list[EdgeOut]


class AffectedOut(Schema):
    service: ServiceRef
    hops: WholeNumber = Field(description="1 for a direct consumer, 2 for a consumer of one, and so on")
    chain: list[ServiceRef] = Field(description="One shortest chain from this service down to the one that failed")


class ImpactOut(Schema):
    """Who is affected if the service fails: every running service that consumes it,
    directly or through others. ``limit`` and ``offset`` page ``items``."""

    failed: ServiceRef
    direct: list[ServiceRef] = Field(description="Its direct consumers")
    items: list[AffectedOut] = Field(description="Every service affected, the nearest first, then by name")
    count: WholeNumber
    next_cursor: NextCursor
    deepest: WholeNumber = Field(description="The longest of the shortest chains, in hops")
    external_reached: WholeNumber = Field(description="How many of the services affected meet external users")


class CycleOut(Schema):
    services: list[ServiceRef] = Field(description="One cycle through all of a strongly connected part of the "
                                                   "network, starting and ending with the same service")


class CyclePage(Schema):
    items: list[CycleOut] = Field(description="The largest first")
    count: WholeNumber
    next_cursor: NextCursor
    services_in_cycles: WholeNumber = Field(description="How many services are in a cycle")

