"""``osom search``: looking things up and rebuilding the index from the command line."""

from __future__ import annotations

__all__ = ["register"]


def cmd_reindex(args) -> int:
    from django.core.management import call_command

    from .index import rebuild

    call_command("migrate", interactive=False, verbosity=0)
    written = rebuild()
    print(f"The search index holds {written:,} document{'s' if written != 1 else ''}.")
    return 0


def cmd_find(args) -> int:
    from .queries import search
    from .views import address

    qs = search(" ".join(args.words))
    total = qs.count()
    for d in qs[: args.limit]:
        print(f"{d.get_kind_display():<20} {d.title}  {address(d)}")
    print(f"{total:,} result{'s' if total != 1 else ''}.")
    return 0


def register(sub) -> None:
    """Add ``osom search reindex`` and ``osom search find WORDS`` to the ``osom`` parser."""
    p = sub.add_parser("search", help="search the organisation, or rebuild the search index")
    search_sub = p.add_subparsers(dest="search_command", required=True)
    q = search_sub.add_parser("reindex", help="rebuild the search index from the data (after a bulk load)")
    q.set_defaults(func=cmd_reindex)
    q = search_sub.add_parser("find", help="print what matches every word")
    q.add_argument("words", nargs="+", help="the words to find")
    q.add_argument("--limit", type=int, default=25, help="how many results to print (default 25)")
    q.set_defaults(func=cmd_find)
