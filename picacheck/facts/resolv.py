"""/etc/resolv.conf → `ResolvConf` (resolv.conf(5)).

Keywords start the line: nameserver (one address per line; the resolver uses the first
three), search (the list), domain (a one-name search list: "domain" and "search" exclude
each other and the last one wins), sortlist, options (accumulate). Lines starting with
"#" or ";" are comments. Like the resolver, anything else is ignored, not fatal: it is
kept in `ResolvConf.ignored`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._text import numbered_lines

MAX_NAMESERVERS = 3  # glibc MAXNS


@dataclass(frozen=True)
class ResolvConf:
    nameservers: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    domain: str | None = None  # set when a "domain" line was the last of domain/search
    options: tuple[str, ...] = ()
    sortlist: tuple[str, ...] = ()
    ignored: tuple[str, ...] = field(default=(), compare=False)

    @property
    def effective_nameservers(self) -> tuple[str, ...]:
        """The nameservers that the resolver queries (the first three)."""
        return self.nameservers[:MAX_NAMESERVERS]

    @property
    def options_dict(self) -> dict[str, str | None]:
        """"ndots:2 rotate" → {"ndots": "2", "rotate": None}."""
        return {k: (v if sep else None) for k, sep, v in (o.partition(":") for o in self.options)}


def parse_resolv_conf(text: str) -> ResolvConf:
    values: dict = {"nameservers": [], "search": (), "domain": None, "options": [], "sortlist": (), "ignored": []}
    for _, raw in numbered_lines(text):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        keyword, *args = line.split()
        if keyword == "nameserver" and args:
            values["nameservers"].append(args[0])
        elif keyword == "search" and args:
            values.update(search=tuple(args), domain=None)
        elif keyword == "domain" and args:
            values.update(search=(args[0],), domain=args[0])
        elif keyword == "options" and args:
            values["options"].extend(args)
        elif keyword == "sortlist" and args:
            values["sortlist"] = tuple(args)
        else:
            values["ignored"].append(raw)
    return ResolvConf(
        nameservers=tuple(values["nameservers"]), search=values["search"], domain=values["domain"],
        options=tuple(values["options"]), sortlist=values["sortlist"], ignored=tuple(values["ignored"]),
    )


def render_resolv_conf(conf: ResolvConf) -> str:
    lines = []
    if conf.domain is not None:
        lines.append(f"domain {conf.domain}")
    elif conf.search:
        lines.append("search " + " ".join(conf.search))
    lines += [f"nameserver {ns}" for ns in conf.nameservers]
    if conf.sortlist:
        lines.append("sortlist " + " ".join(conf.sortlist))
    if conf.options:
        lines.append("options " + " ".join(conf.options))
    return "\n".join(lines) + ("\n" if lines else "")
