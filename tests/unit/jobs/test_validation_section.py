"""The job file's ``validation`` section: typed, with the real files' values and extra keys."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO
from vcollector.errors import JobFileError
from vcollector.jobs.model import Validation, load_job, parse_job

REAL_JOBS = REPO / "tests" / "fixtures" / "jobs_v2_original"


def _job(validation: object) -> dict[str, object]:
    return {"job_id": 1, "commands": {"command": "show version"}, "validation": validation}


def test_every_real_job_files_validation_is_read_as_written() -> None:
    files = sorted(REAL_JOBS.glob("*.json"))
    assert len(files) == 102
    asking = 0
    for path in files:
        written = json.loads(path.read_text())["validation"]
        validation = load_job(path).validation
        assert validation.use_tfsm is written["use_tfsm"], path.name
        assert validation.tfsm_filter == written.get("tfsm_filter")
        assert validation.min_score == written["min_score"] == 1
        assert validation.store_failures is written["store_failures"] is True
        asking += validation.use_tfsm
    assert asking == 59


def test_a_job_without_the_section_does_not_validate() -> None:
    assert parse_job({"job_id": 1, "commands": {"command": "show version"}}).validation == Validation()
    assert parse_job(_job(None)).validation == Validation()
    assert Validation().use_tfsm is False and Validation().min_score == 1 and not Validation().store_failures


def test_extra_keys_are_kept_and_listed_like_elsewhere() -> None:
    job = parse_job(_job({"use_tfsm": False, "min_score": 1, "store_failures": True, "skip": True}))
    assert job.validation.model_extra == {"skip": True}
    assert job.unknown_keys() == ["validation.skip"]


def test_min_score_may_be_a_fraction_or_zero() -> None:
    assert parse_job(_job({"use_tfsm": True, "min_score": 0})).validation.min_score == 0
    assert parse_job(_job({"use_tfsm": True, "min_score": 2.5})).validation.min_score == 2.5


@pytest.mark.parametrize(
    ("validation", "message"),
    [
        ({"min_score": -1}, "validation.min_score: must be ≥ 0"),
        ({"min_score": "1"}, "validation.min_score: wrong type (str)"),
        ({"min_score": True}, "validation.min_score: wrong type (bool)"),
        ({"min_score": float("inf")}, "validation.min_score: must be a finite number"),
        ({"use_tfsm": "yes"}, "validation.use_tfsm: input should be a valid boolean"),
        ({"tfsm_filter": 3}, "validation.tfsm_filter: wrong type (int)"),
        ({"store_failures": 1}, "validation.store_failures: input should be a valid boolean"),
        ([], "validation: wrong type (list)"),
    ],
)
def test_a_wrong_value_is_one_error_naming_the_field(validation: object, message: str) -> None:
    with pytest.raises(JobFileError) as raised:
        parse_job(_job(validation), "job.json")
    assert str(raised.value).startswith(f"job.json: {message}")
