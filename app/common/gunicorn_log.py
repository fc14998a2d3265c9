"""gunicorn's own log lines (start-up, workers, refused requests): one line per record.

The services' records are JSON (common.logs), where json.dumps escapes every control character.
gunicorn writes its own records in its text format, and a record with a traceback spans several
lines; CloudWatch and `make up` read a line as a record, so each would look like one, and text
from a request inside an exception message could start a line of its own. This logger keeps
gunicorn's format and escapes line breaks and other control characters in every record.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    return _CONTROL.sub(lambda m: _NAMED.get(m[0]) or f"\\u{ord(m[0]):04x}", text)


class OneLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(super().format(record))


class OneLineLogger(Logger):
    """gunicorn's logger, with every record it writes on one line."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(OneLineFormatter(self.error_fmt, self.datefmt))
        for handler in self.access_log.handlers:
            handler.setFormatter(OneLineFormatter(self.access_fmt))
