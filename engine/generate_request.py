"""A generation request, described once: every field, bound and default.

The API body (and from it the OpenAPI document), the CLI's flags, the GUI
form, the bus payload and the agents all use this one type. It lives at
the bottom, beside the base error, so every layer can reach it without
pointing up. It is validated where it is made: ``GenerateRequest.parse``
turns the first bad field into an ``InputError`` whose message names the
field and the allowed range, word for word the same from the CLI, the
window and the API's 422.

A request that comes back off the bus is validated again
(``from_payload``): a message is data from Redis, not a promise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from engine.errors import InputError
from engine.text_input import Text, relative_path_problem

MAX_REQUIREMENTS_CHARS = 100_000  # a book's worth is a mistake: embedding megabytes stalls what waits behind it
MAX_CONVERSATION_ID_CHARS = 100  # agent_tasks.conversation_id is VARCHAR(100)
MAX_REPOSITORY_URL_CHARS = 2_000
MAX_TARGET_FILES = 500
SEARCH_TIME_MIN_S, SEARCH_TIME_MAX_S = 5, 600
MAX_ROUNDS_MAX = 20
# Beyond the search: checkout, the baseline run, the environment and the keep-per-test reruns (the estimate only).
OVERHEAD_S = 25.0
WAIT_TIMEOUT_S = 3600.0  # how long the CLI and other waiters wait for a result by default
REPOSITORY_URL_PATTERN = r"^\s*[^\s-]"  # not blank, and never read by git as an option ('--upload-pack=...')


def _in_range(low: float, high: float, unit: str = "", *, above_low: bool = False) -> Callable[[Any], Any]:
    """A check with a message that names the range, the same wherever the request is made."""
    lower = f"above {low:g}" if above_low else f"from {low:g}"
    joiner = " and at most " if above_low else " to "

    def check(value: Any) -> Any:
        low_ok = value > low if above_low else value >= low
        if isinstance(value, float) and not math.isfinite(value) or not (low_ok and value <= high):
            raise ValueError(f"must be {lower}{joiner}{high:g}{unit}, got {value:g}")
        return value

    return check


def _range_schema(low: float, high: float, *, above_low: bool = False) -> dict[str, float]:
    return {"exclusiveMinimum" if above_low else "minimum": low, "maximum": high}


CoverageTarget = Annotated[float, AfterValidator(_in_range(0, 1, above_low=True)),
                           Field(json_schema_extra=_range_schema(0, 1, above_low=True))]
Rounds = Annotated[int, AfterValidator(_in_range(1, MAX_ROUNDS_MAX)),
                   Field(json_schema_extra=_range_schema(1, MAX_ROUNDS_MAX))]
PYTHON_FILE_PATTERN = r"^(?![/\\~])(?!(.*[/\\])?\.\.([/\\]|$))[^\u0000]*\.py$"


def _python_file(name: str) -> str:
    problem = relative_path_problem(name)
    if problem:
        raise ValueError(problem)
    if not name.endswith(".py"):
        raise ValueError("is not a Python file (a name ending in .py)")
    return name


# The schema documents [] for the whole repository; ["*"] is accepted too but not advertised: a pattern allowing
# "*" let schema-made bodies put it beside file names, which is refused (tests/app/test_api_fuzz.py).
PythonFile = Annotated[str, AfterValidator(_python_file), Field(json_schema_extra={"pattern": PYTHON_FILE_PATTERN})]
"""A Python file relative to the repository (the same rules as ``RelativePath``, and ``.py``)."""
SearchSeconds = Annotated[int, AfterValidator(_in_range(SEARCH_TIME_MIN_S, SEARCH_TIME_MAX_S, " seconds")),
                          Field(json_schema_extra=_range_schema(SEARCH_TIME_MIN_S, SEARCH_TIME_MAX_S))]


class GenerateRequest(BaseModel):
    """What to generate tests for, and how. Frozen: a change is a new object (``model_copy(update=...)``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    repository_url: Text = Field(
        min_length=1, max_length=MAX_REPOSITORY_URL_CHARS, json_schema_extra={"pattern": REPOSITORY_URL_PATTERN},
        description="a folder on this machine or a git URL (file://, https://, ssh://, git@host:path)")
    target_files: list[PythonFile] = Field(
        default_factory=list, max_length=MAX_TARGET_FILES,
        description='Python files relative to the repository; each must end in .py. Empty, or ["*"]: every '
                    "module without tests (agents/whole_repository.py), the search budget split among them by "
                    "what is left to cover")
    coverage_target: CoverageTarget = Field(0.85, description="line coverage to reach, above 0 and at most 1")
    requirements: Text = Field("", max_length=MAX_REQUIREMENTS_CHARS, description="what matters to you, in words")
    conversation_id: Text | None = Field(None, min_length=1, max_length=MAX_CONVERSATION_ID_CHARS,
                                         description="continue an earlier request's conversation")
    strategy: Literal["llm", "search"] | None = Field(
        None, description="llm with a model, search (Pynguin) without; absent: llm when a model is configured")
    max_rounds: Rounds = Field(3, description="rounds of generation at most")
    search_time_s: SearchSeconds = Field(
        20, description="search budget in seconds for the whole request, shared by its target files: the "
                        "agents split what is left among the targets still below the target, the single "
                        "pass gives each target an equal share")
    generate_anyway: bool = Field(False, description="generate even when existing tests already reach the target")
    mutation_score: bool = Field(True, description="measure the kept tests' mutation score (time-boxed: a fifth "
                                                   "of the search budget, 15-120 s); false saves that time")

    @field_validator("target_files", mode="before")
    @classmethod
    def _star_is_the_whole_repository(cls, value: Any) -> Any:
        """``["*"]`` (or ``"*"``) asks for the whole repository, as an empty list does."""
        if value == "*" or (isinstance(value, list) and value == ["*"]):
            return []
        if isinstance(value, list) and "*" in value:
            raise ValueError('"*" means every module without tests: give it alone, or name the files')
        return value

    @property
    def whole_repository(self) -> bool:
        """No target named: every module without tests (agents/whole_repository.py)."""
        return not self.target_files

    @field_validator("repository_url")
    @classmethod
    def _not_an_option(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is empty; give a folder path or a git URL")
        if value.lstrip().startswith("-"):
            raise ValueError("starts with '-'; give a folder path or a git URL (a folder named so: write ./ before it)")
        return value

    @classmethod
    def parse(cls, data: dict[str, Any]) -> GenerateRequest:
        """The request these fields make; the first bad one raises ``InputError`` naming it."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InputError(*first_problem(exc)) from None

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> GenerateRequest:
        """The request inside a task payload (which carries other keys too, ignored here)."""
        return cls.parse(payload)

    @property
    def mutation_time_box_s(self) -> float:
        """The mutation score's time box: a fifth of the search budget, 15 to 120 s; 0 when not asked for."""
        return min(120.0, max(15.0, 0.2 * self.search_time_s)) if self.mutation_score else 0.0

    @property
    def estimated_s(self) -> float:
        """What a run is expected to take: the search, the mutation score and the fixed overhead."""
        return self.search_time_s + self.mutation_time_box_s + OVERHEAD_S

    def search_share_s(self, targets_left: int, spent_s: float = 0.0) -> float:
        """One target's share of what is left of the search budget."""
        return max(0.0, self.search_time_s - spent_s) / max(1, targets_left)


def first_problem(exc: ValidationError) -> tuple[str, str]:
    """(field, reason) of a validation error's first problem."""
    return problem_of(exc.errors()[0])


def problem_of(error: Any) -> tuple[str, str]:
    """(field, reason) of one pydantic error, worded the same for the CLI, the window and the API's 422.

    The field is the dotted location without list indexes or FastAPI's
    ``body``/``query``/``path`` prefix; a bad list item is named in the
    reason instead (``'../a.py' must stay inside the repository``).
    """
    loc = [str(p) for p in error.get("loc", ()) if not isinstance(p, int) and p not in ("body", "path", "query")]
    field = ".".join(loc) or "body"
    reason = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    in_list = any(isinstance(part, int) for part in error.get("loc", ()))
    if in_list and isinstance(value, str) and error["type"] == "value_error":
        reason = f"{value!r:.80} {reason}"  # which of the list's items
    if error["type"] == "missing":
        reason = "is required"
    elif error["type"] != "value_error" and "input" in error and not isinstance(value, (dict, list)):
        reason += f" (got {value!r:.80})"
    return field, reason


DEFAULT_REQUEST_FIELDS = {name: f.get_default(call_default_factory=True)
                          for name, f in GenerateRequest.model_fields.items() if not f.is_required()}
"""Every default in one dict, for forms and flags that show them before a request exists."""

__all__ = ["DEFAULT_REQUEST_FIELDS", "GenerateRequest", "InputError", "first_problem", "problem_of"]
