"""hypothesis strategies for hostile input, each built around a limit the API documents.

Everything here yields what goes on the wire: an encoded path segment, a query string, the bytes
of a body, together with what the API must answer where that is known (`Expect`). Large texts
are a short generated run repeated to the length wanted, so a 10 000-character field costs
hypothesis a few bytes of choices, not 10 000.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote, unquote

from hypothesis import strategies as st

ASCII_SPACE = " \t\n\r\f\v"
# Characters that mean something to a URL, a path, JSON, a log line, a terminal or Unicode
# normalisation: separators, escapes, controls, line separators, a BOM, a character that NFKC
# expands to 18, one that case-folds to two, a combining accent, one outside the BMP.
SPECIAL = (
    "/?#%&=+;,:@ .\\\"'<>\t\r\n\x00\x01\x08\x1b\x7f\x85\xa0\u2028\u2029\ufeff\ufffd"
    "\ufdfa\u0130\u0301\u00df\U0001f600"
)


class Expect(Enum):
    """What the API must answer: accept, refuse with a 4xx, refuse as too large, or either."""

    ACCEPT = "accept"
    REFUSE = "refuse"
    TOO_LARGE = "too large"
    EITHER = "either"


def combine(*expects: Expect) -> Expect:
    if Expect.REFUSE in expects:
        return Expect.REFUSE
    if Expect.EITHER in expects:
        return Expect.EITHER
    if Expect.TOO_LARGE in expects:
        return Expect.TOO_LARGE
    return Expect.ACCEPT


# -- text ------------------------------------------------------------------------------------
def characters() -> st.SearchStrategy[str]:
    """Any character that UTF-8 can carry, half of them from SPECIAL."""
    return st.one_of(st.sampled_from(SPECIAL), st.characters(codec="utf-8"))


def sized_text(lengths: Sequence[int]) -> st.SearchStrategy[str]:
    """Text of exactly one of `lengths` characters: a generated run repeated to that length."""

    def repeat(run: str, length: int) -> str:
        return (run * (length // len(run) + 1))[:length]

    return st.builds(
        repeat, st.text(characters(), min_size=1, max_size=6), st.sampled_from(lengths)
    )


# -- path segments -----------------------------------------------------------------------------
def decoded(segment: str) -> str:
    """What a server makes of an encoded segment: percent escapes decoded, bad UTF-8 replaced."""
    return unquote(segment, errors="replace")


def path_segments(real_ids: Sequence[str]) -> st.SearchStrategy[str]:
    """An encoded path segment: mostly a real ID with something spliced in (an encoded
    separator, control character or stray percent sign at its start, end or inside), else
    arbitrary text percent-encoded, raw escapes of any bytes (bad UTF-8 too), or a mix."""
    piece = st.one_of(
        st.sampled_from(["%0A", "%2F", "%3F", "%25", "%20", "%00", "%0D", "%23", "%7F", "%2F.."]),
        st.text(characters(), min_size=1, max_size=8).map(lambda text: quote(text, safe="")),
        st.binary(min_size=1, max_size=4).map(lambda raw: "".join(f"%{b:02X}" for b in raw)),
        st.sampled_from(["%", "%2", "%G0", "%%", "%u0041", "%2f", "%252F", "%C2%85", "%E2%80%A8"]),
        st.sampled_from(list("0123456789abcdefABCDEF-._~")),
    )

    def splice(real_id: str, inserted: str, at: int) -> str:
        at = min(at, len(real_id))
        return real_id[:at] + inserted + real_id[at:]

    def encode_one(real_id: str, at: int) -> str:
        """The same ID with one character percent-encoded: still that ID once decoded."""
        at = min(at, len(real_id) - 1)
        return real_id[:at] + f"%{ord(real_id[at]):02X}" + real_id[at + 1 :]

    ids = st.sampled_from(list(real_ids))
    where = st.one_of(st.sampled_from([36, 0]), st.integers(0, 36))
    return st.one_of(
        st.builds(splice, ids, piece, where),
        st.builds(encode_one, ids, st.integers(0, 40)),
        ids.map(str.upper),
        ids.map(lambda real_id: real_id[:-1]),
        st.lists(piece, max_size=6).map("".join),
    )


# -- cursors -----------------------------------------------------------------------------------
def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(characters())
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(characters(), max_size=4), inner, max_size=3)
        ),
        max_leaves=8,
    )


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursors(
    craft: Callable[[dict[str, Any]], str], real_cursor: str, real_ids: Sequence[str]
) -> st.SearchStrategy[str]:
    """Cursors: arbitrary JSON or bytes in base64url, text that is not base64 at all, the real
    cursor mutated, and positions of any shape wrapped with the caller's own valid scope digest
    by `craft` (a caller can always compute it), so they reach the checks behind the digest."""
    numbers = st.one_of(
        st.integers(0, 3 * 10**30).map(str),
        st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=4),
        st.sampled_from(["\u00b2", "\u0661", "\uff10", "007", "-1", "1e3", " 1", "1.0", "9" * 40]),
    )
    ids = st.one_of(
        st.sampled_from(list(real_ids)),
        st.sampled_from(list(real_ids)).map(lambda real_id: real_id + "\n"),
        st.uuids().map(str),
        st.text(characters(), max_size=40),
    )
    positions = st.dictionaries(
        st.sampled_from(["k", "id", "f", "x", ""]),
        st.one_of(numbers, ids, json_values()),
        max_size=3,
    )

    def mutate(cursor: str, at: int, char: str) -> str:
        at = min(at, len(cursor))
        return cursor[:at] + char + cursor[at + 1 :]

    return st.one_of(
        positions.map(craft),
        json_values().map(lambda value: b64url(json.dumps(value).encode())),
        st.binary(max_size=64).map(b64url),
        st.text(characters(), max_size=40),
        st.builds(mutate, st.just(real_cursor), st.integers(0, 200), st.sampled_from("A_-=+/.")),
        st.integers(1020, 1030).map(lambda length: "A" * length),
    )


# -- query strings -----------------------------------------------------------------------------
def query_string(pairs: Sequence[tuple[str, str]]) -> str:
    return "&".join(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in pairs)


LIST_PARAMETERS = ("limit", "search", "cursor")


def list_queries(
    cursor: st.SearchStrategy[str], declared: Sequence[str], max_page: int
) -> st.SearchStrategy[tuple[str, Expect]]:
    """A query string for a list route that declares `declared` and pages up to `max_page`
    items, near every documented limit, and what it must get. A known parameter the route does
    not declare is refused."""
    limit = st.one_of(
        st.sampled_from([1, max_page]).map(lambda n: (str(n), Expect.ACCEPT)),
        st.integers(1, max_page).map(lambda n: (str(n), Expect.ACCEPT)),
        st.sampled_from([0, -1, max_page + 1, 10**20]).map(lambda n: (str(n), Expect.REFUSE)),
        st.sampled_from(["", "abc", "1.5", "0x10"]).map(lambda s: (s, Expect.REFUSE)),
        st.sampled_from(["+1", " 1", "1.0", "\u0661", "\u00b2", "01"]).map(
            lambda s: (s, Expect.EITHER)
        ),
    )
    search = st.one_of(
        sized_text([1, 2, 199, 200]).map(lambda s: (s, Expect.ACCEPT)),
        sized_text([201, 202, 260]).map(lambda s: (s, Expect.REFUSE)),
    )
    values = {"limit": limit, "search": search, "cursor": cursor.map(lambda c: (c, Expect.EITHER))}
    unknown = st.text(characters(), max_size=6).filter(lambda name: name not in LIST_PARAMETERS)
    member = st.one_of(
        *(st.tuples(st.just(name), strategy) for name, strategy in values.items()),
        st.tuples(unknown, st.text(characters(), max_size=6).map(lambda s: (s, Expect.REFUSE))),
    )

    def build(members: list[tuple[str, tuple[str, Expect]]]) -> tuple[str, Expect]:
        pairs = [(name, value) for name, (value, _) in members]
        names = [name for name, _ in pairs]
        expects = [expect for _, (_, expect) in members]
        expects += [Expect.REFUSE for name in names if name not in declared]
        # A repeated name is refused: which of its values would count is a guess.
        if len(set(names)) < len(names):
            expects.append(Expect.REFUSE)
        return query_string(pairs), combine(*expects)

    return st.lists(member, max_size=4).map(build)


def any_query() -> st.SearchStrategy[str]:
    """At least one parameter of any name and value: for routes that declare none."""
    pair = st.tuples(st.text(characters(), max_size=8), st.text(characters(), max_size=8))
    return st.lists(pair, min_size=1, max_size=3).map(query_string)


# -- bodies ------------------------------------------------------------------------------------
Member = tuple[Any, Expect]


def costliest_json(value: Any) -> str:
    """JSON with every character of every string in its longest escape (6 bytes a UTF-16 unit)."""
    if isinstance(value, dict):
        members = (f"{costliest_json(k)}:{costliest_json(v)}" for k, v in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(costliest_json(v) for v in value) + "]"
    if isinstance(value, str):
        units = value.encode("utf-16-be")
        return (
            '"'
            + "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))
            + '"'
        )
    return json.dumps(value)


ENCODINGS: dict[str, Callable[[Any], str]] = {
    "compact": lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":")),
    "ascii": json.dumps,
    "pretty": lambda value: json.dumps(value, indent=2),
    "costliest": costliest_json,
}


def not_json_text() -> st.SearchStrategy[Member]:
    return st.one_of(st.none(), st.booleans(), st.integers(), st.lists(st.integers(), max_size=2))


def text_member(fits: Sequence[int], too_long: Sequence[int]) -> st.SearchStrategy[Member]:
    return st.one_of(
        sized_text(fits).map(lambda text: (text, Expect.ACCEPT)),
        sized_text(too_long).map(lambda text: (text, Expect.REFUSE)),
        not_json_text().map(lambda value: (value, Expect.REFUSE)),
    )


def title_member() -> st.SearchStrategy[Member]:
    def judged(text: str) -> Member:
        blank = all(c in ASCII_SPACE for c in text)
        return text, Expect.REFUSE if blank else Expect.ACCEPT

    return st.one_of(
        sized_text([1, 2, 199, 200]).map(judged),
        st.sampled_from(["", " ", "\t\r\n", " " * 200]).map(lambda t: (t, Expect.REFUSE)),
        sized_text([201, 300]).map(lambda text: (text, Expect.REFUSE)),
        not_json_text().map(lambda value: (value, Expect.REFUSE)),
    )


def date_member(nullable: Expect) -> st.SearchStrategy[Member]:
    return st.one_of(
        st.dates().map(lambda day: (day.isoformat(), Expect.ACCEPT)),
        st.just((None, nullable)),
        st.sampled_from(["2030-02-30", "31/01/2030", "", "2030-1-1", "20300101", "2030-13-01"]).map(
            lambda text: (text, Expect.REFUSE)
        ),
        st.integers().map(lambda n: (n, Expect.REFUSE)),
        st.sampled_from(["2030-01-01T00:00:00", "2030-01-01Z"]).map(lambda t: (t, Expect.EITHER)),
    )


def bool_member() -> st.SearchStrategy[Member]:
    return st.one_of(
        st.booleans().map(lambda b: (b, Expect.ACCEPT)),
        st.sampled_from(["true", 1, 0, None, "false"]).map(lambda v: (v, Expect.REFUSE)),
    )


def extra_member() -> st.SearchStrategy[Member]:
    return json_values().map(lambda value: (value, Expect.REFUSE))


@dataclass(frozen=True)
class Body:
    """A JSON body as sent, the members it was made of, and what the API must answer."""

    raw: bytes
    members: dict[str, Any]
    expect: Expect


def encode_body(
    members: dict[str, Member], encoding: str, pad: int | None, limit: int, expect: Expect
) -> Body:
    """The members as JSON in `encoding`, padded with whitespace to `limit` + `pad` bytes when
    `pad` is not None; `expect` becomes TOO_LARGE past `limit` (refused before it is read)."""
    values = {name: value for name, (value, _) in members.items()}
    text = ENCODINGS[encoding](values)
    size = len(text.encode())
    if pad is not None and size <= limit:
        text = text[:-1] + " " * (limit + pad - size) + "}"
        size = limit + pad
    return Body(text.encode(), values, Expect.TOO_LARGE if size > limit else expect)


def bodies(
    required: dict[str, st.SearchStrategy[Member]],
    optional: dict[str, st.SearchStrategy[Member]],
    limit: int,
    at_least_one: bool = False,
) -> st.SearchStrategy[Body]:
    """A JSON object of these members (any may be missing, refused if required), maybe an
    unknown member too, in any escaping, sometimes padded with whitespace to exactly `limit`
    bytes or one past it."""
    everything = {**required, **optional, "unknown": extra_member()}
    present = st.fixed_dictionaries({}, optional=everything)

    def build(members: dict[str, Member], encoding: str, pad: int | None) -> Body:
        expects = [expect for _, expect in members.values()]
        expects += [Expect.REFUSE for name in required if name not in members]
        if at_least_one and not members:
            expects.append(Expect.REFUSE)
        return encode_body(members, encoding, pad, limit, combine(*expects))

    return st.builds(
        build, present, st.sampled_from(sorted(ENCODINGS)), st.sampled_from([None, None, 0, 1])
    )


def at_every_limit(
    members: dict[str, st.SearchStrategy[Member]], limit: int
) -> st.SearchStrategy[Body]:
    """Every member present and valid, texts at or next to their limits, in any escaping, as
    is or padded to exactly `limit` bytes: bodies the API promises to accept."""
    return st.builds(
        lambda values, encoding, pad: encode_body(values, encoding, pad, limit, Expect.ACCEPT),
        st.fixed_dictionaries(members),
        st.sampled_from(sorted(ENCODINGS)),
        st.sampled_from([None, 0]),
    )


def fitting(lengths: Sequence[int]) -> st.SearchStrategy[Member]:
    """Text of one of these lengths, not blank: valid for any text member."""
    text = sized_text(lengths).filter(lambda t: any(c not in ASCII_SPACE for c in t))
    return text.map(lambda t: (t, Expect.ACCEPT))


def todos_at_every_limit(limit: int) -> st.SearchStrategy[Body]:
    valid_date = st.dates().map(lambda day: (day.isoformat(), Expect.ACCEPT))
    valid_bool = st.booleans().map(lambda b: (b, Expect.ACCEPT))
    return at_every_limit(
        {
            "title": fitting([199, 200]),
            "description": fitting([1999, 2000]),
            "notes": fitting([9999, 10000]),
            "dateDue": valid_date,
            "completed": valid_bool,
        },
        limit,
    )


CONTENT_TYPE = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"


def files_at_every_limit(limit: int, max_upload_bytes: int) -> st.SearchStrategy[Body]:
    name = fitting([254, 255]).filter(lambda m: "/" not in m[0] and "\x00" not in m[0])
    content_type = st.one_of(
        st.just("a" * 127 + "/" + "b" * 127), st.from_regex(CONTENT_TYPE, fullmatch=True)
    ).map(lambda t: (t, Expect.ACCEPT))
    size = st.sampled_from([1, max_upload_bytes]).map(lambda n: (n, Expect.ACCEPT))
    return at_every_limit({"name": name, "contentType": content_type, "size": size}, limit)


def todo_create_bodies(limit: int) -> st.SearchStrategy[Body]:
    return bodies(
        required={"title": title_member()},
        optional={
            "description": text_member([0, 1, 1999, 2000], [2001, 2100]),
            "dateDue": date_member(nullable=Expect.ACCEPT),
            # Not members of a create: refused like any unknown one.
            "notes": st.just(("notes", Expect.REFUSE)),
        },
        limit=limit,
    )


def todo_patch_bodies(limit: int) -> st.SearchStrategy[Body]:
    return bodies(
        required={},
        optional={
            "title": title_member(),
            "description": text_member([0, 1, 1999, 2000], [2001, 2100]),
            "notes": text_member([0, 1, 9999, 10000], [10001, 10100]),
            "dateDue": date_member(nullable=Expect.ACCEPT),
            "completed": bool_member(),
        },
        limit=limit,
        at_least_one=True,
    )


def file_register_bodies(limit: int, max_upload_bytes: int) -> st.SearchStrategy[Body]:
    def judged_name(name: str) -> Member:
        return name, Expect.REFUSE if ("/" in name or "\x00" in name) else Expect.ACCEPT

    name = st.one_of(
        sized_text([1, 2, 254, 255]).map(judged_name),
        sized_text([256, 300]).map(lambda text: (text, Expect.REFUSE)),
        st.just(("", Expect.REFUSE)),
        not_json_text().map(lambda value: (value, Expect.REFUSE)),
    )
    content_type = st.one_of(
        st.from_regex(CONTENT_TYPE, fullmatch=True).map(lambda t: (t, Expect.ACCEPT)),
        st.sampled_from(
            ["text", "text/plain; charset=utf-8", "a/b/c", "", "/x", "t\u00e9xt/plain"]
        ).map(lambda t: (t, Expect.REFUSE)),
    )
    size = st.one_of(
        st.integers(1, max_upload_bytes).map(lambda n: (n, Expect.ACCEPT)),
        st.sampled_from([1.0, float(max_upload_bytes)]).map(lambda n: (n, Expect.ACCEPT)),
        st.integers(max_upload_bytes + 1, 10**30).map(lambda n: (n, Expect.TOO_LARGE)),
        st.sampled_from([0, -1, 1.5, "12", True]).map(lambda v: (v, Expect.REFUSE)),
    )
    return bodies(
        required={"name": name, "contentType": content_type, "size": size}, optional={}, limit=limit
    )


def raw_bodies(limit: int) -> st.SearchStrategy[tuple[bytes, str | None]]:
    """Bodies that are not a JSON object, or not declared as JSON, up to past `limit`."""
    content = st.one_of(
        st.binary(max_size=64),
        st.text(characters(), max_size=32).map(str.encode),
        st.integers(1, 3000).map(lambda depth: ("[" * depth + "]" * depth).encode()),
        st.integers(1, 3000).map(lambda depth: ('{"a":' * depth + "1" + "}" * depth).encode()),
        st.sampled_from([b"", b"null", b"[]", b'"x"', b"{", b"{}", b'{"title":"\\ud800"}']),
        # At the limit, one past it, and far past it (up to API Gateway's 10 MB): the answer
        # must arrive, not a reset of a connection the service stopped reading.
        st.sampled_from([limit, limit + 1, 4 * 2**20, 10 * 10**6]).map(
            lambda size: b"{" + b" " * (size - 2) + b"}"
        ),
    )
    content_type = st.sampled_from(
        ["application/json", "text/plain", "application/json; charset=latin-1", "", None]
    )
    return st.tuples(content, content_type)
