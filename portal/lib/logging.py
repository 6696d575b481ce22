"""Log formatting: JSON lines in production (one event per line for log shippers)."""

import datetime as dt
import json
import logging

# Attributes every LogRecord has; anything else was passed with `extra=` and is kept.
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def record_extras(record: logging.LogRecord) -> dict:
    """What the caller passed with `extra=` (the record's own attributes left out)."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD_ATTRS and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        event.update(record_extras(record))
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return json.dumps(event, default=str)


class LevelFloor(logging.Filter):
    """Drop one logger's records below a level (a handler-side level for one logger).

    The security logger runs at INFO so its database handler stores every event; the
    console still shows its lines only from LOG_LEVEL up, like every other logger's.
    """

    def __init__(self, logger: str, level: str) -> None:
        super().__init__()
        self.logger, self.level = logger, logging.getLevelName(level)

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != self.logger or record.levelno >= self.level


# Django's tasks framework logs every task twice at INFO: when it starts and when it ends.
_TASK_LINE = "Task id=%s path=%s state=%s"


class OneLinePerTask(logging.Filter):
    """One line per task: the one that says how it ended.

    The "started" line is dropped (the end line names the same task and a failure is
    logged at ERROR with its traceback). Successful runs of the PERIODIC_TASKS are
    housekeeping every few seconds to minutes: they are logged only when the logger is set
    to DEBUG (`run_worker -v 2`), so they do not bury the console's useful lines.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != _TASK_LINE or not isinstance(record.args, tuple):
            return True
        _task_id, path, state = record.args
        if str(state) == "RUNNING":
            return False
        if str(state) == "SUCCESSFUL" and path in _periodic_paths():
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def _periodic_paths() -> set[str]:
    from django.conf import settings

    return set(getattr(settings, "PERIODIC_TASKS", {}))
