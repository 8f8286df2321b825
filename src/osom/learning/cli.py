"""``osom`` commands for the learning loop. Nothing of Django is imported at the top: the
parser is built before Django is set up.

- ``osom doctrine patterns [--group G] [--phase N]``: the forty patterns and their meanings
- ``osom doctrine meaning PATTERN (--meaning TEXT | --meaning-file F) --as EMAIL``: reword a pattern
- ``osom doctrine rounds [--service SLUG | --organisation] [--status S]``: the self-assessments
- ``osom doctrine grid [ROUND] [--service SLUG] [--patterns]``: a round's grid, groups × phases
- ``osom doctrine heat-map [--stage S] [--rated]``: services × patterns
- ``osom doctrine open [--service SLUG] [--title T] --as EMAIL``: open a self-assessment
- ``osom doctrine rate ROUND PATTERN=RATING… [--evidence PATTERN=TEXT…] --as EMAIL``: rate patterns
- ``osom doctrine close ROUND --as EMAIL``: close a self-assessment
- ``osom coes [WORDS…] [--service] [--pattern] [--effect] [--status] [--as EMAIL]``: the CoE library
- ``osom coe [show] ID [--as EMAIL]``: one Correction of Error in full
- ``osom coe export ID``: a CoE as the YAML ``coe write`` takes
- ``osom coe write (--service SLUG | --coe ID [--revision R]) --file F --as EMAIL``: start or rewrite a draft
- ``osom coe publish|discard ID --as EMAIL``: publish a draft, or discard it
- ``osom coe add-action ID --description D --owner EMAIL --due DATE --as EMAIL``: a corrective action
- ``osom coe verify-action ACTION [--note] --as EMAIL``: confirm that a done action had its effect
- ``osom coe guidance ID --category C [--title] [--body | --body-file] --as EMAIL``: draft guidance from it
- ``osom coe-action ID open|done|verified|dropped [--note] [--due] --as EMAIL``: update a corrective action
- ``osom coe-review list|agenda|show|schedule|hold``: the executive's reviews
- ``osom learning [--service SLUG]``: the learning figures
- ``osom communities [--profession P] [--status S]``: communities of practice and coverage
- ``osom community [show] ID``, ``osom community join|leave ID --as EMAIL``: one community; join or leave it
- ``osom community form|edit|endorse|withdraw-endorsement|publish-guidance|withdraw-guidance|escalate``:
  the lead's and the executive's acts
- ``osom open-roles list|post|close``: places in service teams, for the matching professions

Writes act as the person named by ``--as`` through the actions, so they are checked and
audited like any other; a refusal prints one line and exits with code 2.
"""

from __future__ import annotations

import argparse

# the table, paging and shortening helpers are the governance commands' own
from osom.governance.cli import GUIDANCE_CATEGORIES, _limit, _more, _short, _table

__all__ = ["LETTERS", "register"]

# The models' choices, repeated here so the parser needs no Django (a test keeps them equal).
GROUPS = ["communication", "development", "operation", "structure", "learning", "leading"]
RATINGS = ["good", "partly", "weak", "unknown"]
ROUND_STATUSES = ["open", "closed"]
COE_STATUSES = ["draft", "published", "reviewed"]
EFFECTS = ["helped", "hurt"]
ACTION_STATUSES = ["open", "done", "verified", "dropped"]
REVIEW_STATUSES = ["scheduled", "held"]
COMMUNITY_STATUSES = ["forming", "endorsed"]
STAGES = ["discovery", "alpha", "beta", "live"]
GUIDANCE_KINDS = ["practice", "evaluation"]
OPEN_ROLE_STATUSES = ["open", "filled", "withdrawn"]
LEVELS = ["trainee", "associate", "junior", "practitioner", "senior", "lead", "principal", "head"]
# The parts of a Correction of Error a file given to ``osom coe write`` may hold: what
# ``coe_content`` gives (a test keeps them equal).
COE_KEYS = ["title", "occurred_on", "users_affected", "problem", "impact", "root_cause", "root_cause_data",
            "trade_offs_that_led", "trade_offs_to_avoid", "lessons", "timeline", "why_chains", "pattern_effects",
            "actions"]

# One letter per colour of a doctrine cell, the same in the grid and the heat map.
LETTERS = {"good": "G", "partly": "P", "weak": "W", "unknown": "?"}
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
_LEGEND = "G good  P partly  W weak  ? unknown"


def _is_id(text) -> bool:
    return isinstance(text, str) and text.isascii() and text.isdigit()


class _ActsOrId(dict):
    """The names of a command's subcommands; an id passes too (see :class:`_SubcommandsOrId`)."""

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, key) or _is_id(key)


class _SubcommandsOrId(argparse._SubParsersAction):
    """Subcommands that also take a shorter form, the id first: an id in the subcommand's
    place means ``show ID`` (``osom coe 5``), or ``ACT ID`` when one of ``acts`` follows
    it (``osom community 2 join``)."""

    def __init__(self, *args, acts: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self._name_parser_map = self.choices = _ActsOrId()
        self._acts = acts

    def __call__(self, parser, namespace, values, option_string=None):
        first, rest = values[0], list(values[1:])
        if _is_id(first) and not dict.__contains__(self._name_parser_map, first):
            act = rest.pop(0) if rest and rest[0] in self._acts else "show"
            values = [act, first, *rest]
        super().__call__(parser, namespace, values, option_string)


def _as(parser, who: str, *, required: bool = True) -> None:
    parser.add_argument("--as", dest="as_email", metavar="EMAIL", required=required, help=who)


def _text_or_file(parser, name: str, what: str) -> None:
    """``--NAME TEXT`` or ``--NAME-file FILE`` (``-`` reads standard input), not both."""
    either = parser.add_mutually_exclusive_group()
    either.add_argument(f"--{name}", metavar="TEXT", help=what)
    either.add_argument(f"--{name}-file", metavar="FILE", help="the same, read from a file (- for standard input)")


def register(sub) -> None:
    """Add this app's subcommands to the ``osom`` parser."""
    p = sub.add_parser("doctrine", help="the doctrine's patterns, self-assessments against them and the heat map")
    acts = p.add_subparsers(dest="doctrine_command", required=True, metavar="ACTION")
    q = acts.add_parser("patterns", help="the forty patterns by group and phase, with the organisation's meanings")
    q.add_argument("--group", choices=GROUPS)
    q.add_argument("--phase", type=int, choices=[1, 2, 3, 4])
    q.set_defaults(func=cmd_doctrine_patterns)
    q = acts.add_parser("meaning", help="put a pattern's meaning in the organisation's words (the executive's act)")
    q.add_argument("pattern", metavar="PATTERN", help="the pattern's short name, e.g. know-your-users")
    _text_or_file(q, "meaning", "what the pattern means to the organisation")
    q.add_argument("--revision", type=int, metavar="R", help="refuse if the meaning changed since this revision")
    _as(q, "who rewords it")
    q.set_defaults(func=cmd_doctrine_meaning)
    q = acts.add_parser("rounds", help="the self-assessments, the newest first")
    whose = q.add_mutually_exclusive_group()
    whose.add_argument("--service", metavar="SLUG", help="only this service's")
    whose.add_argument("--organisation", action="store_true", help="only the whole organisation's")
    q.add_argument("--status", choices=ROUND_STATUSES)
    q.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    q.set_defaults(func=cmd_doctrine_rounds)
    q = acts.add_parser("grid", help="a self-assessment as a grid: groups × phases, a letter per pattern")
    q.add_argument("round", type=int, nargs="?", help="the round's id (default: the latest, see `osom doctrine rounds`)")
    q.add_argument("--service", metavar="SLUG", help="the latest round of this service (default: the organisation's)")
    q.add_argument("--patterns", action="store_true", help="also list every pattern with its ratings")
    q.set_defaults(func=cmd_doctrine_grid)
    q = acts.add_parser("heat-map", help="running services × the forty patterns, by each service's latest round")
    q.add_argument("--stage", choices=STAGES)
    q.add_argument("--rated", action="store_true", help="only the services that have rated themselves")
    q.add_argument("--limit", type=int, default=50, help="at most this many services (default 50)")
    q.set_defaults(func=cmd_doctrine_heat_map)
    q = acts.add_parser("open", help="open a self-assessment of a service, or of the organisation")
    q.add_argument("--service", metavar="SLUG", help="the service assessed (default: the whole organisation)")
    q.add_argument("--title", default="")
    q.add_argument("--as", dest="as_email", metavar="EMAIL", required=True, help="who opens it")
    q.set_defaults(func=cmd_doctrine_open)
    q = acts.add_parser("rate", help="rate patterns in a self-assessment: PATTERN=good|partly|weak|unknown")
    q.add_argument("round", type=int, help="the round's id")
    q.add_argument("ratings", nargs="+", metavar="PATTERN=RATING", help="e.g. know-your-users=good")
    q.add_argument("--evidence", action="append", default=[], metavar="PATTERN=TEXT",
                   help="what a rating rests on (repeat for each pattern)")
    q.add_argument("--as", dest="as_email", metavar="EMAIL", required=True, help="who rates")
    q.set_defaults(func=cmd_doctrine_rate)
    q = acts.add_parser("close", help="close a self-assessment: it takes no more ratings")
    q.add_argument("round", type=int, help="the round's id")
    q.add_argument("--as", dest="as_email", metavar="EMAIL", required=True, help="who closes it")
    q.set_defaults(func=cmd_doctrine_close)

    p = sub.add_parser("coes", help="the library of Corrections of Error, searchable")
    p.add_argument("words", nargs="*", help="words in the title, problem, impact, root cause or lessons")
    p.add_argument("--service", metavar="SLUG")
    p.add_argument("--pattern", metavar="SLUG", help="a doctrine pattern tagged on it")
    p.add_argument("--effect", choices=EFFECTS, help="with --pattern: where it helped, or where it hurt")
    p.add_argument("--status", choices=COE_STATUSES)
    p.add_argument("--as", dest="as_email", metavar="EMAIL", help="also the drafts this person may read")
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    p.set_defaults(func=cmd_coes)

    p = sub.add_parser("coe", help="one Correction of Error: show, export, write, publish or discard it; add and "
                                   "verify corrective actions; draft guidance from it",
                       description="Corrections of Error. `osom coe ID` is short for `osom coe show ID`.")
    acts = p.add_subparsers(dest="coe_command", required=True, metavar="ACTION", action=_SubcommandsOrId)
    q = acts.add_parser("show", help="one Correction of Error in full")
    q.add_argument("id", type=int, help="the CoE's id (see `osom coes`)")
    _as(q, "who reads it (needed for a draft)", required=False)
    q.set_defaults(func=cmd_coe)
    q = acts.add_parser("export", help="print a CoE as YAML, the content `osom coe write` takes, to edit and write back")
    q.add_argument("id", type=int, help="the CoE's id")
    _as(q, "who reads it (needed for a draft)", required=False)
    q.set_defaults(func=cmd_coe_export)
    q = acts.add_parser("write", help="start a draft CoE for a service, or rewrite a draft, from a YAML or JSON file")
    q.add_argument("--service", metavar="SLUG", help="the service whose problem it was (for a new draft)")
    q.add_argument("--coe", type=int, metavar="ID", help="the draft to rewrite; what the file leaves out stays as it was")
    q.add_argument("--revision", type=int, metavar="R", help="with --coe: refuse if the draft changed since this revision")
    q.add_argument("--file", required=True, metavar="FILE",
                   help="the content, as `osom coe export` prints it (YAML, or JSON for a .json file; - for standard input)")
    _as(q, "who writes it: the service's manager or someone of its team")
    q.set_defaults(func=cmd_coe_write)
    q = acts.add_parser("publish", help="publish a draft to the whole organisation; it goes on the next review's agenda")
    q.add_argument("id", type=int, help="the draft's id")
    q.add_argument("--revision", type=int, metavar="R", help="refuse if the draft changed since this revision")
    _as(q, "who publishes it: the service's manager")
    q.set_defaults(func=cmd_coe_publish)
    q = acts.add_parser("discard", help="delete a draft that will not be published")
    q.add_argument("id", type=int, help="the draft's id")
    _as(q, "who discards it: the service's manager or someone of its team")
    q.set_defaults(func=cmd_coe_discard)
    q = acts.add_parser("add-action", help="add a corrective action to a CoE, draft or published")
    q.add_argument("id", type=int, help="the CoE's id")
    q.add_argument("--description", default="", metavar="TEXT", help="what is to be done")
    q.add_argument("--owner", default="", metavar="EMAIL", help="who owns it")
    q.add_argument("--due", default="", metavar="YYYY-MM-DD", help="when it is due")
    _as(q, "who adds it: the service's manager or someone of its team")
    q.set_defaults(func=cmd_coe_add_action)
    q = acts.add_parser("verify-action", help="confirm that a done corrective action had its effect "
                                              "(the same as `osom coe-action ID verified`)")
    q.add_argument("action", type=int, metavar="ACTION", help="the action's id (see `osom coe ID`)")
    q.add_argument("--note", default="", help="what shows it worked")
    _as(q, "who verifies it: the service's manager or the executive")
    q.set_defaults(func=cmd_coe_verify_action)
    q = acts.add_parser("guidance", help="start a draft of guidance from a published CoE, linked back to it "
                                         "(the executive's act)")
    q.add_argument("id", type=int, help="the CoE's id")
    q.add_argument("--category", required=True, choices=GUIDANCE_CATEGORIES)
    q.add_argument("--title", default="", help="default: “Learning from …” and the CoE's title")
    _text_or_file(q, "body", "default: the CoE's lessons learned and trade-offs to avoid")
    _as(q, "who drafts it")
    q.set_defaults(func=cmd_coe_guidance)

    p = sub.add_parser("coe-action", help="mark a corrective action done, dropped, reopened or verified")
    p.add_argument("id", type=int, help="the action's id (see `osom coe ID`)")
    p.add_argument("status", choices=ACTION_STATUSES)
    p.add_argument("--note", default="", help="what was done; needed to drop it")
    p.add_argument("--due", metavar="YYYY-MM-DD", help="move its due date")
    p.add_argument("--as", dest="as_email", metavar="EMAIL", required=True, help="who acts")
    p.set_defaults(func=cmd_coe_action)

    p = sub.add_parser("coe-review", help="the executive's reviews of Corrections of Error")
    acts = p.add_subparsers(dest="review_command", required=True, metavar="ACTION")
    q = acts.add_parser("list", help="every review, the latest first")
    q.add_argument("--status", choices=REVIEW_STATUSES)
    q.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    q.set_defaults(func=cmd_review_list)
    q = acts.add_parser("agenda", help="the agenda of the next review: every published CoE not yet reviewed")
    q.set_defaults(func=cmd_review_agenda)
    q = acts.add_parser("show", help="a review: its agenda, or what it reviewed")
    q.add_argument("id", type=int)
    q.set_defaults(func=cmd_review_show)
    q = acts.add_parser("schedule", help="schedule a review (the executive's act)")
    q.add_argument("date", metavar="YYYY-MM-DD")
    q.add_argument("--title", default="")
    q.add_argument("--as", dest="as_email", metavar="EMAIL", required=True)
    q.set_defaults(func=cmd_review_schedule)
    q = acts.add_parser("hold", help="record that a review was held; the CoEs gone through are marked reviewed")
    q.add_argument("id", type=int)
    q.add_argument("--notes", default="", help="the meeting's notes")
    q.add_argument("--note", action="append", default=[], metavar="COE=TEXT", help="a note on one CoE (repeat)")
    q.add_argument("--only", type=int, nargs="+", metavar="COE",
                   help="the CoEs gone through (default: the whole agenda)")
    q.add_argument("--as", dest="as_email", metavar="EMAIL", required=True)
    q.set_defaults(func=cmd_review_hold)

    p = sub.add_parser("learning", help="the learning figures: time to close actions, overdue ones, repeated problems")
    p.add_argument("--service", metavar="SLUG", help="one service's figures")
    p.set_defaults(func=cmd_learning)

    p = sub.add_parser("communities", help="communities of practice, and the professions they cover")
    p.add_argument("--profession", help="a job family of the framework")
    p.add_argument("--status", choices=COMMUNITY_STATUSES)
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    p.set_defaults(func=cmd_communities)

    p = sub.add_parser("community", help="one community of practice: show, join or leave it; form, edit or "
                                         "endorse one; its guidance and disputes",
                       description="Communities of practice. `osom community ID` is short for `osom community show "
                                   "ID`, and `osom community ID join` for `osom community join ID`.")
    acts = p.add_subparsers(dest="community_command", required=True, metavar="ACTION", action=_SubcommandsOrId,
                            acts=("show", "join", "leave"))
    for act, text in (("show", "its members, guidance and the open roles of its profession"),
                      ("join", "join it"), ("leave", "leave it (its lead hands the lead on first)")):
        q = acts.add_parser(act, help=text)
        q.add_argument("id", type=int, help="the community's id (see `osom communities`)")
        _as(q, "who joins or leaves", required=False)
        q.set_defaults(func=cmd_community, act=act)
    q = acts.add_parser("form", help="form a community around a profession: you lead it and are its first member")
    q.add_argument("--name", default="")
    q.add_argument("--profession", default="", metavar="JOB_FAMILY", help="a job family of the framework")
    q.add_argument("--purpose", default="", metavar="TEXT", help="what the community is for")
    _as(q, "who forms it")
    q.set_defaults(func=cmd_community_form)
    q = acts.add_parser("edit", help="change the name or purpose, or hand the lead to another member (the lead's act)")
    q.add_argument("id", type=int, help="the community's id")
    q.add_argument("--name", help="its new name")
    q.add_argument("--purpose", metavar="TEXT", help="its new purpose")
    q.add_argument("--lead", metavar="EMAIL", help="the member who leads it from now")
    q.add_argument("--revision", type=int, metavar="R", help="refuse if the community changed since this revision")
    _as(q, "who changes it: its lead")
    q.set_defaults(func=cmd_community_edit)
    q = acts.add_parser("endorse", help="endorse a community that has published guidance on evaluating its "
                                        "practitioners (the executive's act)")
    q.add_argument("id", type=int, help="the community's id")
    q.add_argument("--on", metavar="YYYY-MM-DD", help="the day of the endorsement (default: today)")
    _as(q, "who endorses it")
    q.set_defaults(func=cmd_community_endorse)
    q = acts.add_parser("withdraw-endorsement", help="withdraw the executive's endorsement, saying why")
    q.add_argument("id", type=int, help="the community's id")
    q.add_argument("--reason", default="", metavar="TEXT", help="why it is withdrawn; its lead is told")
    _as(q, "who withdraws it")
    q.set_defaults(func=cmd_community_unendorse)
    q = acts.add_parser("publish-guidance", help="publish guidance for the profession: on practice, or on evaluating "
                                                 "its practitioners (the lead's act)")
    q.add_argument("id", type=int, help="the community's id")
    q.add_argument("--kind", required=True, choices=GUIDANCE_KINDS,
                   help="practice, or evaluation: how managers should evaluate its practitioners")
    q.add_argument("--title", default="")
    _text_or_file(q, "body", "the guidance itself (Markdown)")
    _as(q, "who publishes it")
    q.set_defaults(func=cmd_community_publish_guidance)
    q = acts.add_parser("withdraw-guidance", help="withdraw a community's guidance (the lead's act)")
    q.add_argument("guidance", type=int, metavar="GUIDANCE", help="the guidance's id (see `osom community ID`)")
    q.add_argument("--reason", default="", metavar="TEXT")
    _as(q, "who withdraws it")
    q.set_defaults(func=cmd_community_withdraw_guidance)
    q = acts.add_parser("escalate", help="escalate an evaluation dispute the community could not settle to the "
                                         "executive, who mediates it (the lead's act)")
    q.add_argument("id", type=int, help="the community's id")
    q.add_argument("--subject", default="", help="the dispute in a line")
    _text_or_file(q, "description", "the dispute and what the community tried")
    _as(q, "who escalates it")
    q.set_defaults(func=cmd_community_escalate)

    p = sub.add_parser("open-roles", help="places in service teams their managers want filled: list, post or close them")
    acts = p.add_subparsers(dest="open_roles_command", required=True, metavar="ACTION")
    q = acts.add_parser("list", help="the newest first")
    q.add_argument("--profession", metavar="JOB_FAMILY", help="only roles of this profession")
    q.add_argument("--service", metavar="SLUG", help="only this service's")
    q.add_argument("--status", choices=OPEN_ROLE_STATUSES)
    q.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    q.set_defaults(func=cmd_open_roles_list)
    q = acts.add_parser("post", help="post a place in a service's team; the members of communities of its "
                                     "profession are told (the manager's act)")
    q.add_argument("--service", required=True, metavar="SLUG")
    q.add_argument("--role", default="", metavar="NAME", help="a role of the professional framework, e.g. "
                                                              "“User researcher”")
    q.add_argument("--level", required=True, choices=LEVELS)
    q.add_argument("--description", default="", metavar="TEXT")
    _as(q, "who posts it: the service's manager")
    q.set_defaults(func=cmd_open_roles_post)
    q = acts.add_parser("close", help="close an open role: filled, or withdrawn (the manager's act)")
    q.add_argument("id", type=int, help="the open role's id (see `osom open-roles list`)")
    q.add_argument("outcome", choices=["filled", "withdrawn"])
    _as(q, "who closes it: the service's manager")
    q.set_defaults(func=cmd_open_roles_close)


# ---------------------------------------------------------------- helpers




def _day(moment) -> str:
    from django.utils import timezone

    return f"{timezone.localtime(moment):%Y-%m-%d}" if moment else ""


def _prose(text: str, indent: str = "  ", width: int = 88) -> None:
    """Print prose indented, each long line wrapped to ``width`` (a list item's lines
    hang under its text)."""
    import textwrap

    for line in (text or "").strip().splitlines():
        stripped = line.lstrip()
        lead = indent + line[: len(line) - len(stripped)]
        hang = lead + ("  " if stripped[:2] in ("- ", "* ") else "")
        print(textwrap.fill(stripped, width=width, initial_indent=lead, subsequent_indent=hang) if stripped else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _person(email: str | None, *, needed: str | None = None):
    from osom.cli import _person as find
    from osom.core.errors import InvalidInput

    if not email:
        if needed:
            raise InvalidInput(f"Say who {needed}: --as EMAIL.", field="as")
        return None
    return find(email)


def _service(slug: str):
    from osom.core.errors import NotFound
    from osom.network.models import Service

    service = Service.objects.filter(slug=slug.strip()).first()
    if service is None:
        raise NotFound(f"There is no service “{slug}”.", field="service")
    return service


def _found(model_or_qs, pk: int, what: str, field: str = "id"):
    from osom.core.errors import NotFound

    qs = model_or_qs.objects.all() if isinstance(model_or_qs, type) else model_or_qs
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"There is no {what} with id {pk}.", field=field)
    return obj


def _someone(email: str, field: str):
    """The person an option names by email address; an unknown one is refused, naming the option."""
    from osom.core.errors import InvalidInput
    from osom.core.models import Person

    email = (email or "").strip()
    person = Person.objects.filter(email__iexact=email).first() if email else None
    if person is None:
        raise InvalidInput(f"Nobody in the organisation has the email address “{email}”." if email
                           else "Name the person by their email address.", field=field)
    return person


def _read(path: str, field: str) -> str:
    """A file's text (``-``: standard input); one that cannot be read is refused, naming ``field``."""
    import sys
    from pathlib import Path

    from osom.core.errors import InvalidInput

    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not text in UTF-8.", field=field) from None
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror or exc}.", field=field) from None


def _given(args, name: str) -> str:
    """What ``--NAME TEXT`` or ``--NAME-file FILE`` gave, or "" when neither did."""
    path = getattr(args, f"{name}_file", None)
    if path is not None:
        return _read(path, name)
    return getattr(args, name, None) or ""


def _pairs(items: list[str], field: str) -> list[tuple[str, str]]:
    """``NAME=VALUE`` arguments as pairs; one without ``=`` is refused, naming it."""
    from osom.core.errors import InvalidInput

    out = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"“{item}” is not NAME=VALUE.", field=field)
        out.append((name.strip(), value.strip()))
    return out


# ---------------------------------------------------------------- the doctrine


def cmd_doctrine_patterns(args) -> int:
    from .doctrine import PHASES
    from .models import DoctrinePattern

    qs = DoctrinePattern.objects.order_by("position", "pk")
    if args.group:
        qs = qs.filter(group=args.group)
    if args.phase:
        qs = qs.filter(phase=args.phase)
    group = phase = None
    for p in qs:
        if (p.group, p.phase) != (group, phase):
            group, phase = p.group, p.phase
            print(f"{p.group} — {ROMAN[p.phase]} {PHASES[p.phase]}")
        print(f"  {p.name} ({p.slug})")
        _prose(p.meaning, indent="      ")
    return 0


def _rounds():
    from django.db.models import Count

    from .models import DoctrineRound

    return DoctrineRound.objects.select_related("service", "opened_by").annotate(
        respondent_count=Count("ratings__respondent", distinct=True), rating_count=Count("ratings"))


def _whose(rnd) -> str:
    return f"{rnd.service.name} ({rnd.service.slug})" if rnd.service_id else "the organisation"


def cmd_doctrine_rounds(args) -> int:
    qs = _rounds().order_by("-opened_at", "-pk")
    if args.service:
        qs = qs.filter(service=_service(args.service))
    elif args.organisation:
        qs = qs.filter(service__isnull=True)
    if args.status:
        qs = qs.filter(status=args.status)
    total = qs.count()
    if not total:
        print("No self-assessment matches." if (args.service or args.organisation or args.status)
              else "No self-assessment against the doctrine has been opened yet.")
        return 0
    rows = [[str(r.pk), _day(r.opened_at), r.status, _whose(r), str(r.respondent_count), str(r.rating_count),
             _short(r.title, 50)] for r in qs[: _limit(args.limit)]]
    _table(rows, ["ID", "OPENED", "STATUS", "OF", "RESPONDENTS", "RATINGS", "TITLE"])
    _more(total, len(rows))
    return 0


def _latest_round(service):
    """The latest round of a service (or of the organisation) that has ratings; else the latest."""
    qs = _rounds().filter(service=service).order_by("-opened_at", "-pk")
    return qs.filter(rating_count__gt=0).first() or qs.first()


def _grid_lines(patterns, colours: dict[str, str]) -> list[str]:
    """The grid as text: a row per group, a column per phase, a letter per pattern."""
    from .doctrine import PHASES

    cells = {(g, n): [LETTERS[colours[p.slug]] for p in patterns if p.group == g and p.phase == n]
             for g in GROUPS for n in PHASES}
    widths = {n: max(len(ROMAN[n]), *(len(" ".join(cells[(g, n)])) for g in GROUPS)) for n in PHASES}
    label = max(len(g) for g in GROUPS)
    lines = [(" " * label + "  " + "  ".join(ROMAN[n].ljust(widths[n]) for n in PHASES)).rstrip()]
    for g in GROUPS:
        lines.append((g.ljust(label) + "  " + "  ".join(" ".join(cells[(g, n)]).ljust(widths[n]) for n in PHASES)).rstrip())
    return lines


def _tally(counts: dict[str, int]) -> str:
    parts = [f"{counts[r]} {r}" for r in RATINGS if counts.get(r)]
    return ", ".join(parts) if parts else "not rated"


def cmd_doctrine_grid(args) -> int:
    from collections import Counter

    from . import queries
    from .doctrine import PHASES
    from .models import DoctrinePattern, Rating

    if args.round is not None:
        rnd = _found(_rounds(), args.round, "doctrine self-assessment")
    else:
        service = _service(args.service) if args.service else None
        rnd = _latest_round(service)
        if rnd is None:
            whose = service.name if service else "The organisation"
            print(f"{whose} has no self-assessment against the doctrine yet.")
            return 0
    patterns = list(DoctrinePattern.objects.order_by("position", "pk"))
    cells = queries.round_cells(rnd)
    colours = {p.slug: cells.get(p.pk, {}).get("colour", Rating.UNKNOWN) for p in patterns}
    tally = Counter(colours.values())
    print(f"Self-assessment #{rnd.pk}: {rnd.title} ({rnd.get_status_display().lower()})")
    print(f"  Of {_whose(rnd)}; opened {_day(rnd.opened_at)} by {rnd.opened_by.name}; "
          f"{_plural(rnd.respondent_count, 'respondent')}, {_plural(rnd.rating_count, 'rating')}")
    print()
    for line in _grid_lines(patterns, colours):
        print(line)
    print()
    print(f"  {_LEGEND}; each letter a pattern, in the table's order")
    print("  Phases: " + " · ".join(f"{ROMAN[n]} {name}" for n, name in PHASES.items()))
    print("  " + ", ".join(f"{tally[r]} {r}" for r in RATINGS))
    if args.patterns:
        print()
        for p in patterns:
            cell = cells.get(p.pk)
            print(f"  {LETTERS[colours[p.slug]]}  {p.name} ({p.slug}): {_tally(cell['counts']) if cell else 'not rated'}")
            for item in (cell or {}).get("evidence", []):
                print(f"       {item['by']} ({item['rating']}): {_short(item['text'], 80)}")
    todo = queries.work_on_next(rnd)
    if todo:
        print()
        print("Work on next (the earliest phase first):")
        for item in todo:
            p = item["pattern"]
            print(f"  {LETTERS[item['colour']]}  {ROMAN[p.phase]:<3} {p.name} ({p.slug})")
    before = queries.previous_round(rnd)
    if before is not None:
        changes = queries.round_change(rnd, before)
        print()
        if not changes:
            print(f"No colour changed since #{before.pk} ({_day(before.opened_at)}).")
        else:
            print(f"Changed since #{before.pk} ({_day(before.opened_at)}):")
            for c in changes:
                print(f"  {c['direction']:<7} {c['pattern'].name}: {c['before']} → {c['after']}")
    return 0


def cmd_doctrine_heat_map(args) -> int:
    from osom.network.models import Service
    from osom.network.stages import Lifecycle

    from . import queries
    from .models import DoctrineRating

    qs = Service.objects.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED).order_by("name", "pk")
    if args.stage:
        qs = qs.filter(lifecycle_stage=args.stage)
    if args.rated:
        qs = qs.filter(pk__in=DoctrineRating.objects.filter(round__service__isnull=False).values("round__service"))
    total = qs.count()
    if not total:
        print("No running service matches.")
        return 0
    data = queries.heat_map(qs[: _limit(args.limit)])
    patterns = data["patterns"]
    spans: list[tuple[str, int]] = []
    for p in patterns:
        if spans and spans[-1][0] == p.group:
            spans[-1] = (p.group, spans[-1][1] + 1)
        else:
            spans.append((p.group, 1))
    label = max(len("SERVICE"), *(len(row["service"].name) for row in data["rows"]))
    print("SERVICE".ljust(label) + "  " + " ".join(group[:n].ljust(n) for group, n in spans) + "  ROUND")
    for row in data["rows"]:
        letters, start = [], 0
        for _, n in spans:
            letters.append("".join(LETTERS[c] for c in row["cells"][start:start + n]))
            start += n
        print(f"{row['service'].name.ljust(label)}  {' '.join(letters)}  {('#' + str(row['round_id'])) if row['round_id'] else 'none'}")
    print(f"  {_LEGEND}; each column a pattern, in the table's order (see `osom doctrine patterns`)")
    _more(total, len(data["rows"]))
    return 0


def cmd_doctrine_open(args) -> int:
    from . import actions

    service = _service(args.service) if args.service else None
    rnd = actions.open_doctrine_round(actor=_person(args.as_email), service=service, title=args.title)
    print(f"Opened self-assessment #{rnd.pk}: {rnd.title}. Rate it with `osom doctrine rate {rnd.pk} PATTERN=RATING …`.")
    return 0


def cmd_doctrine_rate(args) -> int:
    from osom.core.errors import InvalidInput

    from . import actions
    from .models import DoctrineRound

    rnd = _found(DoctrineRound, args.round, "doctrine self-assessment")
    ratings = [{"pattern": slug, "rating": rating.lower()} for slug, rating in _pairs(args.ratings, "ratings")]
    for slug, text in _pairs(args.evidence, "evidence"):
        rated = [r for r in ratings if r["pattern"] == slug]
        if not rated:
            raise InvalidInput(f"Evidence for “{slug}”, which this command does not rate.", field="evidence")
        rated[0]["evidence"] = text
    written = actions.rate_doctrine(actor=_person(args.as_email), round=rnd, ratings=ratings)
    print(f"Recorded {_plural(written, 'rating')} in “{rnd.title}”." if written
          else "Those ratings were already recorded; nothing changed.")
    return 0


def cmd_doctrine_close(args) -> int:
    from . import actions
    from .models import DoctrineRound

    rnd = actions.close_doctrine_round(actor=_person(args.as_email),
                                       round=_found(DoctrineRound, args.round, "doctrine self-assessment"))
    print(f"Closed self-assessment #{rnd.pk}: {rnd.title}.")
    return 0


def cmd_doctrine_meaning(args) -> int:
    from osom.core.errors import NotFound

    from . import actions
    from .models import DoctrinePattern

    slug = args.pattern.strip()
    pattern = DoctrinePattern.objects.filter(slug=slug).first()
    if pattern is None:
        raise NotFound(f"There is no doctrine pattern “{slug}”: `osom doctrine patterns` lists them.", field="pattern")
    before = pattern.revision
    pattern = actions.edit_doctrine_meaning(actor=_person(args.as_email), pattern=pattern,
                                            meaning=_given(args, "meaning"), expected_revision=args.revision)
    if pattern.revision == before:
        print(f"That is what “{pattern.name}” means already; nothing changed.")
        return 0
    print(f"“{pattern.name}” ({pattern.slug}) now means, at revision {pattern.revision}:")
    _prose(pattern.meaning)
    return 0


# ---------------------------------------------------------------- Corrections of Error


def _with_action_counts(qs):
    from django.db.models import Count, Q
    from django.utils import timezone

    from .models import CorrectiveAction

    open_ = Q(actions__status=CorrectiveAction.Status.OPEN)
    return qs.select_related("service", "author").annotate(
        action_count=Count("actions", distinct=True), open_actions=Count("actions", filter=open_, distinct=True),
        overdue_actions=Count("actions", filter=open_ & Q(actions__due_date__lt=timezone.localdate()), distinct=True))


def _coe_rows(coes) -> list[list[str]]:
    return [[str(c.pk), f"{c.occurred_on:%Y-%m-%d}", c.status, c.service.name, f"{c.open_actions}/{c.action_count}",
             str(c.overdue_actions) if c.overdue_actions else "", _short(c.title, 50)] for c in coes]


_COE_HEADER = ["ID", "OCCURRED", "STATUS", "SERVICE", "OPEN", "OVERDUE", "TITLE"]


def cmd_coes(args) -> int:
    from . import queries

    viewer = _person(args.as_email)
    if args.service:
        _service(args.service)
    qs = queries.coe_library(q=" ".join(args.words), service=(args.service or "").strip(),
                             pattern=(args.pattern or "").strip(), effect=args.effect or "", status=args.status or "",
                             viewer=viewer)
    qs = _with_action_counts(qs)
    total = qs.count()
    if not total:
        print("No Correction of Error matches.")
        return 0
    rows = _coe_rows(qs[: _limit(args.limit)])
    _table(rows, _COE_HEADER)
    _more(total, len(rows))
    return 0


def _readable(coe, email: str | None) -> None:
    """A draft is read only by the people who may write it: its service's manager and team."""
    from osom.core.errors import NotAllowed
    from osom.core.policy import refusal

    if not coe.is_draft:
        return
    if not email:
        raise NotAllowed("This Correction of Error is still a draft, read only by its service's manager and "
                         "team: say who you are with --as EMAIL.")
    refused = refusal(_person(email), "write_coe", service=coe.service)
    if refused:
        raise NotAllowed(f"This Correction of Error is still a draft. {refused}")


def cmd_coe(args) -> int:
    from django.utils import timezone

    from osom.governance.models import Guidance

    from .models import CorrectionOfError

    coe = _found(CorrectionOfError.objects.select_related("service", "author", "published_by", "review"), args.id,
                 "Correction of Error")
    _readable(coe, args.as_email)
    print(f"Correction of Error #{coe.pk}: {coe.title} ({coe.get_status_display().lower()})")
    print(f"  {coe.service.name} ({coe.service.slug}); occurred {coe.occurred_on:%Y-%m-%d}; "
          f"users affected: {'yes' if coe.users_affected else 'no'}")
    line = f"  Written by {coe.author.name}"
    if coe.published_at:
        line += f"; published {_day(coe.published_at)} by {coe.published_by.name}"
    print(line)
    sections = [("The problem", coe.problem), ("Its impact", coe.impact), ("The root cause", coe.root_cause),
                ("Data supporting the root cause", coe.root_cause_data),
                ("The trade-offs that led to it", coe.trade_offs_that_led),
                ("Trade-offs to avoid in future", coe.trade_offs_to_avoid), ("Lessons learned", coe.lessons)]
    for heading, text in sections:
        if text.strip():
            print()
            print(heading)
            _prose(text)
    timeline = list(coe.timeline.all())
    if timeline:
        print()
        print("Timeline")
        for e in timeline:
            print(f"  {timezone.localtime(e.at):%Y-%m-%d %H:%M}  {e.description}")
    chains = list(coe.why_chains.all())
    if chains:
        print()
        print("5 whys")
        for chain in chains:
            print(f"  {chain.question}")
            for n, why in enumerate(chain.whys, start=1):
                print(f"    {n}. {why}")
    effects = list(coe.pattern_effects.select_related("pattern"))
    if effects:
        print()
        print("Doctrine patterns")
        for e in effects:
            print(f"  {e.effect:<6} {e.pattern.name} ({e.pattern.slug})" + (f": {e.note}" if e.note else ""))
    today = timezone.localdate()
    corrective = list(coe.actions.select_related("owner"))
    print()
    print("Corrective actions" if corrective else "No corrective action yet.")
    for a in corrective:
        flag = " OVERDUE" if a.is_overdue(today) else ""
        print(f"  #{a.pk} {a.status}{flag}, due {a.due_date:%Y-%m-%d}, {a.owner.name}: {_short(a.description, 70)}")
        if a.dropped_reason:
            print(f"      dropped: {a.dropped_reason}")
        elif a.note:
            print(f"      {a.note}")
    if coe.review_id:
        print()
        print(f"Reviewed in #{coe.review.pk} “{coe.review.title}” ({coe.review.scheduled_for:%Y-%m-%d})"
              + (f": {coe.review_note}" if coe.review_note else ""))
    drawn = list(Guidance.objects.filter(coe=coe).order_by("created_at", "pk"))
    if drawn:
        print()
        print("Guidance drawn from it")
        for g in drawn:
            print(f"  #{g.pk} {g.status}: {g.title}")
    return 0


def cmd_coe_action(args) -> int:
    from . import actions
    from .models import CorrectiveAction

    action = _found(CorrectiveAction.objects.select_related("coe"), args.id, "corrective action")
    actor = _person(args.as_email)
    if args.status == CorrectiveAction.Status.VERIFIED:
        action = actions.verify_corrective_action(actor=actor, action=action, note=args.note)
    else:
        action = actions.update_corrective_action(actor=actor, action=action, status=args.status, note=args.note,
                                                  due_date=args.due)
    _print_action(action)
    return 0


def _print_action(action) -> None:
    print(f"Corrective action #{action.pk} of “{action.coe.title}” is {action.get_status_display().lower()}, "
          f"due {action.due_date:%Y-%m-%d}.")


def _yaml(data) -> str:
    """``data`` as YAML to read and edit: keys in their order, texts of several lines as blocks."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper, value: str):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    Dumper.add_representer(str, text)
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def _coe_file(path: str) -> dict:
    """The content of a CoE from a YAML file (JSON for a ``.json`` one): named parts,
    each one ``write_coe`` takes; a misspelt part is refused rather than left out."""
    import json

    import yaml

    from osom.core.errors import InvalidInput

    text = _read(path, "file")
    try:
        content = json.loads(text) if path.lower().endswith(".json") else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}.", field="file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InvalidInput(f"{path} is not valid YAML: {getattr(exc, 'problem', None) or exc}{where}.",
                           field="file") from None
    if not isinstance(content, dict):
        raise InvalidInput(f"{path} does not hold a Correction of Error: give its parts by name, as "
                           "`osom coe export` prints them.", field="file")
    unknown = [str(key) for key in content if key not in COE_KEYS]
    if unknown:
        raise InvalidInput(f"“{unknown[0]}” is not a part of a Correction of Error; the parts are "
                           f"{', '.join(COE_KEYS)}.", field=unknown[0])
    return content


def _coe(pk: int, field: str = "id"):
    from .models import CorrectionOfError

    return _found(CorrectionOfError.objects.select_related("service"), pk, "Correction of Error", field=field)


def cmd_coe_export(args) -> int:
    from . import actions

    coe = _coe(args.id)
    _readable(coe, args.as_email)
    print(f"# Correction of Error #{coe.pk} of {coe.service.name} ({coe.service.slug}), "
          f"{coe.get_status_display().lower()}, revision {coe.revision}.")
    if coe.is_draft:
        print(f"# Edit it, then write it back: osom coe write --coe {coe.pk} --revision {coe.revision} --file FILE "
              "--as EMAIL")
    else:
        print("# Its account is fixed once published: start a new draft from it with osom coe write --service SLUG "
              "--file FILE --as EMAIL")
    print(_yaml(actions.coe_content(coe)), end="")
    return 0


def cmd_coe_write(args) -> int:
    from osom.core.errors import InvalidInput

    from . import actions

    actor = _person(args.as_email)
    coe = None
    if args.coe is not None:
        coe = _coe(args.coe, field="coe")
        service = coe.service
        if args.service and args.service.strip() != service.slug:
            raise InvalidInput(f"Correction of Error #{coe.pk} is of {service.name} ({service.slug}), "
                               f"not of “{args.service.strip()}”.", field="service")
    elif args.revision is not None:
        raise InvalidInput("A revision goes with --coe ID, the draft it is a revision of.", field="revision")
    elif not (args.service or "").strip():
        raise InvalidInput("Name the service with --service SLUG, or the draft to rewrite with --coe ID.",
                           field="service")
    else:
        service = _service(args.service)
    content = _coe_file(args.file)
    written = actions.write_coe(actor=actor, service=service, content=content, coe=coe,
                                expected_revision=args.revision)
    if coe is None:
        print(f"Started draft Correction of Error #{written.pk} for {service.name}: “{written.title}”. "
              f"Publish it with `osom coe publish {written.pk} --as EMAIL`.")
    else:
        print(f"Rewrote draft Correction of Error #{written.pk}: “{written.title}”, now at revision {written.revision}.")
    return 0


def cmd_coe_publish(args) -> int:
    from . import actions

    coe = actions.publish_coe(actor=_person(args.as_email), coe=_coe(args.id), expected_revision=args.revision)
    print(f"Published Correction of Error #{coe.pk}: “{coe.title}”. It is on the agenda of the executive's next review.")
    return 0


def cmd_coe_discard(args) -> int:
    from . import actions

    coe = _coe(args.id)
    actions.discard_coe(actor=_person(args.as_email), coe=coe)
    print(f"Discarded the draft Correction of Error #{coe.pk}: “{coe.title}”.")
    return 0


def cmd_coe_add_action(args) -> int:
    from . import actions

    coe = _coe(args.id)
    action = actions.add_corrective_action(actor=_person(args.as_email), coe=coe, description=args.description,
                                           owner=args.owner, due_date=args.due)
    print(f"Added corrective action #{action.pk} to “{coe.title}”: owned by {action.owner.name}, "
          f"due {action.due_date:%Y-%m-%d}.")
    return 0


def cmd_coe_verify_action(args) -> int:
    from . import actions
    from .models import CorrectiveAction

    action = _found(CorrectiveAction.objects.select_related("coe"), args.action, "corrective action", field="action")
    _print_action(actions.verify_corrective_action(actor=_person(args.as_email), action=action, note=args.note))
    return 0


def cmd_coe_guidance(args) -> int:
    from osom.governance import actions as governance_actions
    from osom.governance.models import Guidance

    from .queries import guidance_seed

    coe = _coe(args.id)
    title, body = guidance_seed(coe)
    guidance = governance_actions.draft_guidance(
        actor=_person(args.as_email), title=(args.title or "").strip() or title,
        body=_given(args, "body").strip() or body, source=Guidance.Source.COE, category=args.category, coe=coe)
    print(f"Drafted guidance #{guidance.pk}: “{guidance.title}” ({guidance.category}), drawn from Correction of "
          f"Error #{coe.pk}.")
    print("It is a draft: read it with `osom guidance list --status draft`; edit and publish it on its page or "
          "through the API.")
    return 0


# ---------------------------------------------------------------- reviews


def _reviews():
    from django.db.models import Count

    from .models import CoEReview

    return CoEReview.objects.select_related("scheduled_by", "held_by").annotate(reviewed_count=Count("reviewed"))


def cmd_review_list(args) -> int:
    qs = _reviews().order_by("-scheduled_for", "-pk")
    if args.status:
        qs = qs.filter(status=args.status)
    total = qs.count()
    if not total:
        print("No review matches." if args.status else "No review of Corrections of Error has been scheduled yet.")
        return 0
    rows = [[str(r.pk), f"{r.scheduled_for:%Y-%m-%d}", r.status, str(r.reviewed_count), _short(r.title, 60)]
            for r in qs[: _limit(args.limit)]]
    _table(rows, ["ID", "DATE", "STATUS", "REVIEWED", "TITLE"])
    _more(total, len(rows))
    return 0


def _print_agenda() -> None:
    from . import actions

    agenda = list(_with_action_counts(actions.review_agenda()))
    if not agenda:
        print("Nothing on the agenda: every published Correction of Error has been reviewed.")
        return
    print(f"Agenda: {_plural(len(agenda), 'published Correction')} of Error not yet reviewed, the oldest first")
    _table(_coe_rows(agenda), _COE_HEADER)


def cmd_review_agenda(args) -> int:
    from django.utils import timezone

    from .models import CoEReview

    upcoming = (CoEReview.objects.filter(status=CoEReview.Status.SCHEDULED, scheduled_for__gte=timezone.localdate())
                .order_by("scheduled_for", "pk").first())
    if upcoming:
        print(f"Next review: #{upcoming.pk} {upcoming.title} ({upcoming.scheduled_for:%Y-%m-%d})")
    else:
        print("No review is scheduled: the executive schedules one with `osom coe-review schedule DATE`.")
    _print_agenda()
    return 0


def cmd_review_show(args) -> int:
    from .models import CoEReview, CorrectionOfError

    review = _found(_reviews(), args.id, "review of Corrections of Error")
    print(f"Review #{review.pk}: {review.title} ({review.get_status_display().lower()})")
    print(f"  {review.scheduled_for:%Y-%m-%d}; scheduled by {review.scheduled_by.name}")
    if review.status == CoEReview.Status.SCHEDULED:
        print()
        _print_agenda()
        return 0
    print(f"  Held {_day(review.held_at)} by {review.held_by.name}; {_plural(review.reviewed_count, 'CoE')} reviewed")
    if review.notes:
        print()
        _prose(review.notes)
    reviewed = _with_action_counts(CorrectionOfError.objects.filter(review=review)).order_by("published_at", "pk")
    print()
    for c in reviewed:
        print(f"  #{c.pk} {c.service.name}: {c.title}" + (f"\n      {c.review_note}" if c.review_note else ""))
    return 0


def cmd_review_schedule(args) -> int:
    from . import actions

    review = actions.schedule_coe_review(actor=_person(args.as_email), scheduled_for=args.date, title=args.title)
    print(f"Scheduled review #{review.pk}: {review.title}. Every service manager is invited.")
    return 0


def cmd_review_hold(args) -> int:
    from . import actions
    from .models import CoEReview

    review = _found(CoEReview, args.id, "review of Corrections of Error")
    notes = dict(_pairs(args.note, "coe_notes"))
    review = actions.hold_coe_review(actor=_person(args.as_email), review=review, notes=args.notes, coe_notes=notes,
                                     reviewed=args.only)
    count = review.reviewed.count()
    print(f"Held “{review.title}”: {_plural(count, 'Correction')} of Error marked reviewed.")
    return 0


# ---------------------------------------------------------------- the learning figures


def cmd_learning(args) -> int:
    from django.utils import timezone

    from . import queries

    service = _service(args.service) if args.service else None
    f = queries.learning_figures(service=service)
    print(f"Learning figures: {service.name if service else 'the whole organisation'}")
    if f["closed"]:
        print(f"  Corrective actions closed: {f['closed']}, a median of {f['median_days_to_close']:g} days to close; "
              f"{f['closed_on_time']} of {f['closed']} ({f['share_on_time']}%) by their due date")
    else:
        print("  No corrective action closed yet.")
    print(f"  Open: {f['open']}, of which {f['open_overdue']} past their due date; dropped: {f['dropped']}")
    print(f"  Published CoEs awaiting review: {f['unreviewed']}")
    overdue = list(queries.overdue_actions(services=[service] if service else None))
    today = timezone.localdate()
    if overdue:
        print()
        print(f"Overdue corrective actions ({len(overdue)}{'+' if len(overdue) >= 50 else ''})")
        for a in overdue:
            print(f"  #{a.pk} due {a.due_date:%Y-%m-%d} ({_plural((today - a.due_date).days, 'day')} overdue), "
                  f"{a.owner.name}, {a.coe.service.name}: {_short(a.description, 60)} [CoE #{a.coe_id}]")
    if f["repeated"]:
        print()
        print(f"Problems that repeat ({len(f['repeated'])}): CoEs of one service with similar root causes")
        for group in f["repeated"]:
            print(f"  {group['service'].name}: " + "; ".join(f"#{c.pk} {c.title} ({c.occurred_on:%Y-%m-%d})"
                                                            for c in group["coes"]))
    return 0


# ---------------------------------------------------------------- communities of practice


def cmd_communities(args) -> int:
    from django.db.models import Count, Q

    from . import queries
    from .models import Community

    current = Q(memberships__left_at__isnull=True, memberships__person__is_active=True)
    qs = (Community.objects.select_related("lead").annotate(members=Count("memberships", filter=current))
          .order_by("name", "pk"))
    if args.profession:
        qs = qs.filter(profession=args.profession.strip())
    if args.status:
        qs = qs.filter(status=args.status)
    total = qs.count()
    if not total:
        print("No community matches." if (args.profession or args.status)
              else "No community of practice has been formed yet.")
    else:
        rows = [[str(c.pk), c.name, c.profession, f"endorsed {c.endorsed_on:%Y-%m-%d}" if c.endorsed_on else c.status,
                 str(c.members), c.lead.name] for c in qs[: _limit(args.limit)]]
        _table(rows, ["ID", "NAME", "PROFESSION", "STATUS", "MEMBERS", "LEAD"])
        _more(total, len(rows))
    rows = queries.coverage()
    print()
    if not rows:
        print("Coverage: no profession is present in service teams yet.")
        return 0
    endorsed = sum(1 for r in rows if r["state"] == "endorsed")
    print(f"Coverage: {endorsed} of {_plural(len(rows), 'profession')} in service teams have an endorsed community")
    _table([[r["profession"], str(r["people"]), str(r["services"]), r["state"],
             ", ".join(c.name for c in r["communities"]) or "—"] for r in rows],
           ["PROFESSION", "PEOPLE", "SERVICES", "COVERED", "COMMUNITIES"])
    return 0


def cmd_community(args) -> int:
    from . import communities
    from .models import Community, CommunityMembership, OpenRole

    community = _found(Community.objects.select_related("lead", "endorsed_by"), args.id, "community of practice")
    if args.act in ("join", "leave"):
        actor = _person(args.as_email, needed=f"{args.act}s")
        act = communities.join_community if args.act == "join" else communities.leave_community
        act(actor=actor, community=community)
        print(f"{actor.name} {'joined' if args.act == 'join' else 'left'} {community.name}.")
        return 0
    status = (f"endorsed on {community.endorsed_on:%Y-%m-%d} by {community.endorsed_by.name}" if community.endorsed_on
              else community.get_status_display().lower())
    print(f"Community #{community.pk}: {community.name} ({status})")
    print(f"  Profession: {community.profession}; led by {community.lead.name}")
    _prose(community.purpose)
    members = list(CommunityMembership.objects.filter(community=community, left_at__isnull=True, person__is_active=True)
                   .select_related("person").order_by("person__name", "pk"))
    print()
    print(f"Members ({len(members)}): " + ", ".join(m.person.name for m in members))
    guidance = list(community.guidance.all())
    if guidance:
        print()
        print("Guidance")
        for g in guidance:
            withdrawn = f", withdrawn {_day(g.withdrawn_at)}" if g.withdrawn_at else ""
            print(f"  #{g.pk} {g.get_kind_display().lower()}{withdrawn}: {g.title}")
    roles = list(OpenRole.objects.filter(status=OpenRole.Status.OPEN, role__job_family=community.profession)
                 .select_related("service", "role").order_by("-posted_at", "-pk"))
    print()
    if not roles:
        print(f"No open role in {community.profession} just now.")
    else:
        print(f"Open roles in {community.profession}")
        for r in roles:
            print(f"  #{r.pk} {r.role.name} ({r.get_level_display().lower()}) in {r.service.name}, posted {_day(r.posted_at)}"
                  + (f": {_short(r.description, 60)}" if r.description else ""))
    return 0


def _community(pk: int):
    from .models import Community

    return _found(Community.objects.select_related("lead"), pk, "community of practice")


def cmd_community_form(args) -> int:
    from . import communities

    actor = _person(args.as_email)
    community = communities.form_community(actor=actor, name=args.name, profession=args.profession,
                                           purpose=args.purpose)
    print(f"Formed community #{community.pk}: {community.name}, for {community.profession}, led by {actor.name}. "
          "The executive endorses it once it has published guidance on evaluating its practitioners.")
    return 0


def cmd_community_edit(args) -> int:
    from osom.core.errors import InvalidInput

    from . import communities

    community = _community(args.id)
    if args.name is None and args.purpose is None and args.lead is None:
        raise InvalidInput("Say what to change: --name, --purpose or --lead.")
    lead = _someone(args.lead, "lead") if args.lead is not None else None
    community = communities.edit_community(
        actor=_person(args.as_email), community=community,
        name=community.name if args.name is None else args.name,
        purpose=community.purpose if args.purpose is None else args.purpose,
        lead=lead, expected_revision=args.revision)
    print(f"Changed community #{community.pk}: {community.name}, led by {community.lead.name}; "
          f"now at revision {community.revision}.")
    return 0


def cmd_community_endorse(args) -> int:
    from . import communities

    community = communities.endorse_community(actor=_person(args.as_email), community=_community(args.id), on=args.on)
    print(f"Endorsed {community.name} on {community.endorsed_on:%Y-%m-%d}. Its members are told.")
    return 0


def cmd_community_unendorse(args) -> int:
    from . import communities

    community = communities.withdraw_endorsement(actor=_person(args.as_email), community=_community(args.id),
                                                 reason=args.reason)
    print(f"Withdrew the endorsement of {community.name}. Its lead is told why.")
    return 0


def cmd_community_publish_guidance(args) -> int:
    from . import communities

    community = _community(args.id)
    item = communities.publish_community_guidance(actor=_person(args.as_email), community=community, kind=args.kind,
                                                  title=args.title, body=_given(args, "body"))
    print(f"{community.name} published guidance #{item.pk} on {item.get_kind_display().lower()}: “{item.title}”.")
    return 0


def cmd_community_withdraw_guidance(args) -> int:
    from . import communities
    from .models import CommunityGuidance

    item = _found(CommunityGuidance.objects.select_related("community"), args.guidance, "community guidance",
                  field="guidance")
    communities.withdraw_community_guidance(actor=_person(args.as_email), guidance=item, reason=args.reason)
    print(f"{item.community.name} withdrew its guidance #{item.pk}: “{item.title}”.")
    return 0


def cmd_community_escalate(args) -> int:
    from . import communities

    community = _community(args.id)
    dispute = communities.escalate_evaluation_dispute(actor=_person(args.as_email), community=community,
                                                      subject=args.subject, description=_given(args, "description"))
    print(f"{community.name} escalated dispute #{dispute.pk} to the executive, who mediates it: {dispute.subject}")
    return 0


# ---------------------------------------------------------------- open roles


def _framework_role(name: str):
    """A role of the professional framework, by name (any case) or id; an unknown one is
    refused naming ``role``, with the names it may have meant."""
    from difflib import get_close_matches

    from osom.core.errors import InvalidInput
    from osom.network.models import ProfessionalRole

    name = " ".join((name or "").split())
    if not name:
        return None  # the action asks for one
    qs = ProfessionalRole.objects.order_by("pk")
    role = qs.filter(pk=int(name)).first() if _is_id(name) else qs.filter(name__iexact=name).first()
    if role is None:
        names = {n.lower(): n for n in qs.values_list("name", flat=True)}
        close = [names[n] for n in get_close_matches(name.lower(), list(names), n=3, cutoff=0.75)]
        hint = f"; did you mean {' or '.join(f'“{n}”' for n in close)}?" if close else "."
        raise InvalidInput(f"“{name}” is not a role of the professional framework{hint}", field="role")
    return role


def cmd_open_roles_list(args) -> int:
    from .models import OpenRole

    qs = OpenRole.objects.select_related("service", "role").order_by("-posted_at", "-pk")
    if args.profession:
        qs = qs.filter(role__job_family=args.profession.strip())
    if args.service:
        qs = qs.filter(service=_service(args.service))
    if args.status:
        qs = qs.filter(status=args.status)
    total = qs.count()
    if not total:
        print("No open role matches." if (args.profession or args.service or args.status)
              else "No manager has posted an open role yet.")
        return 0
    rows = [[str(r.pk), _day(r.posted_at), r.status, r.service.name, r.role.name, r.get_level_display(),
             r.role.job_family, _short(r.description, 40)] for r in qs[: _limit(args.limit)]]
    _table(rows, ["ID", "POSTED", "STATUS", "SERVICE", "ROLE", "LEVEL", "PROFESSION", "DESCRIPTION"])
    _more(total, len(rows))
    return 0


def cmd_open_roles_post(args) -> int:
    from . import communities

    service = _service(args.service)
    opening = communities.post_open_role(actor=_person(args.as_email), service=service,
                                         role=_framework_role(args.role), level=args.level,
                                         description=args.description)
    print(f"Posted open role #{opening.pk}: {opening.role.name} ({opening.get_level_display().lower()}) in "
          f"{service.name}. The members of communities of {opening.role.job_family} are told.")
    return 0


def cmd_open_roles_close(args) -> int:
    from . import communities
    from .models import OpenRole

    opening = _found(OpenRole.objects.select_related("service", "role"), args.id, "open role")
    opening = communities.close_open_role(actor=_person(args.as_email), opening=opening,
                                          filled=args.outcome == "filled")
    print(f"Open role #{opening.pk}, {opening.role.name} in {opening.service.name}, is "
          f"{opening.get_status_display().lower()}.")
    return 0
