"""The generation request: one description of every field, validated wherever it is made."""

import pytest

from app.api import V1GenerateBody
from engine.errors import InputError
from engine.generate_request import DEFAULT_REQUEST_FIELDS, GenerateRequest


def test_every_entry_point_takes_its_defaults_from_the_request() -> None:
    body = V1GenerateBody(repository_url="/repo")
    request = GenerateRequest(repository_url="/repo")
    for name, default in DEFAULT_REQUEST_FIELDS.items():
        assert getattr(body, name) == default == getattr(request, name), name


def test_a_bad_request_off_the_bus_names_its_field() -> None:
    with pytest.raises(InputError, match="coverage_target: must be above 0 and at most 1, got 8.5"):
        GenerateRequest.from_payload({"repository_url": "/r", "coverage_target": 8.5})
    with pytest.raises(InputError, match="search_time_s.*valid integer"):
        GenerateRequest.from_payload({"repository_url": "/r", "search_time_s": "forever"})
    # other keys (the step's own facts) are ignored
    assert GenerateRequest.from_payload({"repository_url": "/r", "max_rounds": 2, "repository": "/x"}).max_rounds == 2


@pytest.mark.parametrize(("field", "value", "message"), [
    ("search_time_s", 2, "search_time_s: must be from 5 to 600 seconds, got 2"),
    ("search_time_s", 601, "search_time_s: must be from 5 to 600 seconds, got 601"),
    ("coverage_target", 0, "coverage_target: must be above 0 and at most 1, got 0"),
    ("coverage_target", float("nan"), "coverage_target: must be above 0 and at most 1, got nan"),
    ("max_rounds", 0, "max_rounds: must be from 1 to 20, got 0"),
    ("repository_url", "--upload-pack=touch x", "repository_url: starts with '-'"),
    ("repository_url", "   ", "repository_url: is empty"),
    ("target_files", ["../etc/passwd.py"], "target_files: '../etc/passwd.py' must stay inside the repository"),
    ("target_files", ["notes.txt"], "target_files: 'notes.txt' is not a Python file (a name ending in .py)"),
    ("requirements", "a\x00b", "requirements: contains a NUL character"),
])
def test_each_bound_is_refused_with_the_field_and_the_range(field: str, value: object, message: str) -> None:
    with pytest.raises(InputError) as refused:
        GenerateRequest.parse({"repository_url": "/repo", field: value})
    assert str(refused.value).startswith(message)
    assert refused.value.field == field


def test_the_search_time_has_one_meaning_the_whole_request() -> None:
    request = GenerateRequest(repository_url="/r", target_files=["a.py", "b.py"], search_time_s=60)
    assert request.search_share_s(targets_left=2) == 30  # each of two files gets half
    assert request.search_share_s(targets_left=1, spent_s=45) == 15  # the last one gets what is left
    assert request.mutation_time_box_s == 15.0 and request.estimated_s == 60 + 15 + 25
    assert GenerateRequest(repository_url="/r", mutation_score=False).mutation_time_box_s == 0.0


def test_the_openapi_document_shows_the_bounds() -> None:
    schema = GenerateRequest.model_json_schema()["properties"]
    assert (schema["search_time_s"]["minimum"], schema["search_time_s"]["maximum"]) == (5, 600)
    assert (schema["coverage_target"]["exclusiveMinimum"], schema["coverage_target"]["maximum"]) == (0, 1)
    assert schema["repository_url"]["maxLength"] == 2000 and "pattern" in schema["repository_url"]
    assert "every module without tests" in schema["target_files"]["description"]  # [] is the whole repository


@pytest.mark.parametrize("files", [[], ["*"], "*"])
def test_no_file_or_a_star_asks_for_the_whole_repository(files: object) -> None:
    request = GenerateRequest.parse({"repository_url": "/r", "target_files": files})
    assert request.whole_repository and request.target_files == []
    assert not GenerateRequest.parse({"repository_url": "/r", "target_files": ["a.py"]}).whole_repository
    with pytest.raises(InputError, match='target_files: "\\*" means every module without tests: give it alone'):
        GenerateRequest.parse({"repository_url": "/r", "target_files": ["*", "a.py"]})
