"""Kombo's official Python SDK against the sandbox, alone and mounted in the gateway, method by method.

Every method the SDK exposes, and its ``_async`` twin, is called with valid and with invalid input; every
answer must parse into the SDK's own models, or into the Kombo error type the method declares with the
expected code and status, never ``SDKDefaultError`` or ``ResponseValidationError`` (what the framework's
own 404 turned into). ``test_every_sdk_method_is_exercised`` enumerates the SDK, so a release that adds a
method fails until a case here exercises it.
"""

from __future__ import annotations

import asyncio
import collections.abc
import datetime as dt
import functools
import inspect
import ssl
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import httpx
import msgspec
import pydantic
import pytest
from kombo import Kombo, errors, models

from agtest.sandbox_support import SandboxHandle
from core.kombo import ResultBody
from sandbox import schema

UNKNOWN_INTEGRATION = "sandbox:UnknownIntegration1234567"
#: One TLS context for every HTTP client here: building one per client (httpx's default, and the SDK's when
#: it makes its own clients) costs ~35 ms, which over ~1000 calls was most of this module's run time.
TLS = ssl.create_default_context()
ATS_METHODS = (
    "get_applications",
    "move_application_to_stage",
    "add_application_result_link",
    "add_application_note",
    "get_application_attachments",
    "add_application_attachment",
    "reject_application",
    "get_candidates",
    "create_candidate",
    "get_candidate_attachments",
    "add_candidate_attachment",
    "add_candidate_result_link",
    "add_candidate_tag",
    "remove_candidate_tag",
    "get_tags",
    "get_application_stages",
    "get_jobs",
    "create_application",
    "get_users",
    "get_roles",
    "get_offers",
    "get_rejection_reasons",
    "get_interviews",
    "get_notes",
    "get_ats_scorecards",
    "get_ats_attachments",
    "import_tracked_application",
)
HRIS_METHODS = (
    "get_employees",
    "get_employee_form",
    "create_employee_with_form",
    "add_employee_document",
    "get_employee_document_categories",
    "get_groups",
    "get_employments",
    "get_locations",
    "get_absence_types",
    "get_time_off_balances",
    "get_absences",
    "create_absence",
    "delete_absence",
    "get_legal_entities",
    "get_timesheets",
    "get_performance_review_cycles",
    "get_performance_reviews",
    "get_staffing_entities",
    "get_hris_pay_runs",
    "get_hris_payslips",
)


# --------------------------------------------------------------------------- what a call is expected to do
@dataclass(frozen=True)
class Refused:
    error: type[errors.SDKError]
    status: int
    code: str
    contains: str = ""


class Ctx:
    """One target and the fixtures a case needs, created on first use (so each case starts afresh)."""

    def __init__(self, target: SandboxHandle, http: httpx.Client) -> None:
        self.target = target
        self.http = http
        self.sent_before: dict[str, int] = {}  # webhooks of a type sent before the call

    def sdk(
        self, integration_id: str | None = None, api_key: str | None = None, http: httpx.AsyncClient | None = None
    ) -> Kombo:
        return Kombo(
            api_key=api_key or self.target.settings.api_key,
            integration_id=integration_id,
            server_url=self.target.api_url,
            client=self.http,
            # Never used by a synchronous call (so never opened), but the SDK would build its own otherwise.
            async_client=http or httpx.AsyncClient(verify=TLS),
        )

    @cached_property
    def integration(self) -> str:
        return self.target.new_integration(origin_id="tenant-1")

    @cached_property
    def order(self) -> str:
        order: str = self.target.place_order(self.integration, "pkg-java")["id"]
        return order

    def publish(self) -> None:
        self.sdk(self.integration).assessment.set_packages(packages=[PACKAGE])

    @cached_property
    def exchange(self) -> tuple[str, str]:
        """A finished connect flow: (the exchange token, the integration it created)."""
        link = self.sdk().connect.create_connection_link(
            end_user_email="it@acme.example",
            end_user_organization_name="Acme",
            end_user_origin_id="tenant-2",
            integration_category="ASSESSMENT",
        )
        token = link.data.link.split("token=")[1]
        done = self.target.control.post(f"/_sandbox/connect/{token}/complete").json()
        return done["token"], done["integration"]["id"]

    def deliveries(self) -> list[str]:
        return [d["event_type"] for d in self.target.control.get("/_sandbox/state").json()["deliveries"]]

    def count_sent(self, event_type: str) -> None:
        self.sent_before[event_type] = self.deliveries().count(event_type)

    def sent_since(self, event_type: str) -> int:
        return self.deliveries().count(event_type) - self.sent_before[event_type]


Check = Callable[[Ctx, Any], None]


def _own_integration(ctx: Ctx) -> str | None:
    return ctx.integration


@dataclass(frozen=True)
class Case:
    valid: bool
    kwargs: Callable[[Ctx], dict[str, Any]]
    expect: Check | Refused
    integration: Callable[[Ctx], str | None] = _own_integration
    api_key: str | None = None


def unknown_integration(_ctx: Ctx) -> str | None:
    return UNKNOWN_INTEGRATION


def no_args(_ctx: Ctx) -> dict[str, Any]:
    return {}


# --------------------------------------------------------------------------- minimal valid input from the SDK's types
def example(tp: Any) -> Any:  # noqa: PLR0911 - one return per kind of type
    """A value of type ``tp`` with every required field filled (empty lists, nulls where allowed)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if hasattr(origin, "__value__"):  # the SDK's Nullable[X] / OptionalNullable[X]: null is valid
        return None
    if origin is typing.Annotated:
        return example(args[0])
    if origin is typing.Literal:
        return args[0]
    if origin in (typing.Union, types.UnionType):
        arms = [a for a in args if a is not type(None)]
        built = [a for a in arms if isinstance(a, type) and issubclass(a, pydantic.BaseModel)]
        return example((built or arms)[0])
    if origin in (list, tuple, collections.abc.Iterable, collections.abc.Sequence):
        return []
    if origin in (dict, collections.abc.Mapping):
        return {}
    if tp is Any:
        return "x"
    return _example_of_class(tp)


def _example_of_class(tp: type[Any]) -> Any:
    if issubclass(tp, pydantic.BaseModel):
        return tp(**{name: example(f.annotation) for name, f in tp.model_fields.items() if f.is_required()})
    if issubclass(tp, datetime):
        return datetime.now(UTC)
    if issubclass(tp, dt.date):
        return dt.date(2026, 7, 1)
    for kind, value in ((bool, True), (str, "x"), (int, 1), (float, 1.0)):
        if issubclass(tp, kind):
            return value
    raise TypeError(f"no example for {tp!r}")


def required_kwargs(sub: str, name: str) -> Callable[[Ctx], dict[str, Any]]:
    def build(_ctx: Ctx) -> dict[str, Any]:
        parameters = inspect.signature(getattr(sub_sdk(sub), name)).parameters.values()
        return {
            p.name: example(p.annotation)
            for p in parameters
            if p.default is inspect.Parameter.empty and p.name != "self"
        }

    return build


# --------------------------------------------------------------------------- the cases, per SDK method
PACKAGE: models.PutAssessmentPackagesRequestBodyPackageTypedDict = {
    "id": "pkg-java",
    "type": "SKILLS_TEST",
    "name": "",  # Kombo's schema sets no minimum length
    "description": "",
}
ATS, GENERAL, HRIS = errors.KomboAtsError, errors.KomboGeneralError, errors.KomboHrisError
INPUT_INVALID, NOT_FOUND = "PLATFORM.INPUT_INVALID", "PLATFORM.INTEGRATION_NOT_FOUND"


def packages_replaced(ctx: Ctx, result: Any) -> None:
    assert result.warnings == []
    listed = ctx.sdk(ctx.integration).assessment.get_packages().data.packages
    assert [(p.id, p.name, p.type) for p in listed] == [("pkg-java", "", "SKILLS_TEST")]


def packages_listed(ctx: Ctx, result: Any) -> None:
    assert [p.id for p in result.data.packages] == ["pkg-java"]


def orders_listed(ctx: Ctx, result: Any) -> None:
    assert result is not None
    assert [(o.id, o.status, o.candidate.email) for o in result.result.data.results] == [
        (ctx.order, "OPEN", "cand@example.org")
    ]
    assert result.result.data.next is None


def result_written(ctx: Ctx, result: Any) -> None:
    assert isinstance(result.warnings, list)
    order = ctx.target.control.get(f"/_sandbox/orders/{ctx.order}").json()
    assert order["status"] == "COMPLETED"
    assert order["result"]["remote_fields"] == {"smartrecruiters": {"scoreLabel": "78 / 100"}}


def link_made(_ctx: Ctx, result: Any) -> None:
    assert "/_sandbox/connect?token=" in result.data.link


def token_exchanged(ctx: Ctx, result: Any) -> None:
    assert (result.data.id, result.data.end_user_origin_id) == (ctx.exchange[1], "tenant-2")
    assert result.data.setup_status == "COMPLETED"


def key_checked(_ctx: Ctx, result: Any) -> None:
    assert result.data.environment_id


def integration_deleted(ctx: Ctx, result: Any) -> None:
    assert isinstance(result, models.DeleteIntegrationsIntegrationIDPositiveResponse)
    with pytest.raises(errors.KomboGeneralError) as gone:
        ctx.sdk().general.get_integration_details(integration_id=ctx.integration)
    assert gone.value.data.error.code == NOT_FOUND
    assert ctx.sent_since("integration-deleted") == 1


def integration_described(ctx: Ctx, result: Any) -> None:
    data = result.data
    assert (data.id, data.status, data.category, data.end_user.origin_id) == (
        ctx.integration,
        "ACTIVE",
        "ASSESSMENT",
        "tenant-1",
    )


def disabled_then_enabled(ctx: Ctx, result: Any) -> None:
    """Disabled: details say INACTIVE and assessment calls fail with INTEGRATION.INACTIVE; enabled: they work."""
    assert isinstance(result, models.PutIntegrationsIntegrationIDEnabledPositiveResponse)
    client = ctx.sdk(ctx.integration)
    assert client.general.get_integration_details(integration_id=ctx.integration).data.status == "INACTIVE"
    with pytest.raises(errors.KomboAtsError) as refused:
        client.assessment.get_packages()
    assert refused.value.data.error.code == "INTEGRATION.INACTIVE"
    client.general.set_integration_enabled(integration_id=ctx.integration, value=True)
    assert client.assessment.get_packages().data.packages == []
    assert ctx.sent_since("integration-state-changed") == 2


def empty_field_page(_ctx: Ctx, result: Any) -> None:
    assert result is not None
    assert (result.result.data.results, result.result.data.next) == ([], None)


def sandbox_tool_listed(_ctx: Ctx, result: Any) -> None:
    assert [t.id for t in result.data.tools] == ["sandbox"]


def no_tools(_ctx: Ctx, result: Any) -> None:
    assert result.data.tools == []


def _set_packages(ctx: Ctx) -> dict[str, Any]:
    ctx.publish()
    return {}


def _orders(ctx: Ctx) -> dict[str, Any]:
    return {
        "ids": [ctx.order],
        "statuses": ["OPEN"],
        "page_size": 10,
        "created_after": datetime.now(UTC) - timedelta(days=1),
    }


def _result(ctx: Ctx, **change: Any) -> dict[str, Any]:
    return {
        "assessment_order_id": ctx.order,
        "status": "COMPLETED",
        "result_url": "https://vendor.example/report",
        "completed_at": datetime.now(UTC),
        "score": 78,
        "max_score": 100,
        "attributes": [{"type": "TEXT", "label": "Recommendation", "value": "Proceed"}],
        "remote_fields": {"smartrecruiters": {"score_label": "78 / 100"}},
        **change,
    }


def _link(**change: Any) -> Callable[[Ctx], dict[str, Any]]:
    def build(_ctx: Ctx) -> dict[str, Any]:
        return {
            "end_user_email": "it@acme.example",
            "end_user_organization_name": "Acme",
            "end_user_origin_id": "tenant-2",
            "integration_category": "ASSESSMENT",
            **change,
        }

    return build


def _on_integration(**more: Any) -> Callable[[Ctx], dict[str, Any]]:
    def build(ctx: Ctx) -> dict[str, Any]:
        return {"integration_id": ctx.integration, **more}

    return build


def _on_unknown_integration(**more: Any) -> Callable[[Ctx], dict[str, Any]]:
    def build(_ctx: Ctx) -> dict[str, Any]:
        return {"integration_id": UNKNOWN_INTEGRATION, **more}

    return build


def _counting(event_type: str, **more: Any) -> Callable[[Ctx], dict[str, Any]]:
    """On the case's own integration, counting the webhooks of ``event_type`` sent before the call."""

    def build(ctx: Ctx) -> dict[str, Any]:
        kwargs = {"integration_id": ctx.integration, **more}
        ctx.count_sent(event_type)
        return kwargs

    return build


def _static(**kwargs: Any) -> Callable[[Ctx], dict[str, Any]]:
    def build(_ctx: Ctx) -> dict[str, Any]:
        return dict(kwargs)

    return build


def _unknown_on(error: type[errors.SDKError], build: Callable[[Ctx], dict[str, Any]]) -> Case:
    return Case(False, build, Refused(error, 404, NOT_FOUND), integration=unknown_integration)


CASES: dict[str, dict[str, list[Case]]] = {
    "assessment": {
        "set_packages": [
            Case(True, _static(packages=[PACKAGE]), packages_replaced),
            Case(False, _static(packages=[PACKAGE, PACKAGE]), Refused(ATS, 400, INPUT_INVALID, "unique")),
        ],
        "get_packages": [
            Case(True, _set_packages, packages_listed),
            _unknown_on(ATS, no_args),
        ],
        "get_assessment_orders": [
            Case(True, _orders, orders_listed),
            Case(False, _static(page_size=251), Refused(ATS, 400, INPUT_INVALID, "page_size")),
        ],
        "update_order_result": [
            Case(True, _result, result_written),
            Case(
                False, lambda ctx: _result(ctx, result_url="not a url"), Refused(ATS, 400, INPUT_INVALID, "result_url")
            ),
            Case(
                False,
                lambda ctx: _result(ctx, assessment_order_id="NoSuchOrder"),
                Refused(ATS, 404, INPUT_INVALID, "No assessment order"),
            ),
        ],
    },
    "connect": {
        "create_connection_link": [
            Case(True, _link(), link_made),
            Case(False, _link(end_user_email="not-an-email"), Refused(GENERAL, 400, INPUT_INVALID, "end_user_email")),
            Case(False, _link(integration_category="HRIS"), Refused(GENERAL, 400, INPUT_INVALID, "ASSESSMENT")),
        ],
        "get_integration_by_token": [
            Case(True, lambda ctx: {"token": ctx.exchange[0]}, token_exchanged),
            Case(False, _static(token="NoSuchToken"), Refused(GENERAL, 404, INPUT_INVALID, "token")),
        ],
    },
    "general": {
        "check_api_key": [
            Case(True, no_args, key_checked),
            Case(False, no_args, Refused(GENERAL, 401, "PLATFORM.AUTHENTICATION_INVALID"), api_key="wrong-key"),
        ],
        "trigger_sync": [
            Case(True, _static(type_="DELTA"), Refused(GENERAL, 400, INPUT_INVALID, "no data to sync")),
            _unknown_on(GENERAL, no_args),
        ],
        "send_passthrough_request": [
            Case(
                True,
                _static(tool="sandbox", api="ats", method="GET", path="/jobs"),
                Refused(GENERAL, 400, INPUT_INVALID, "no passthrough API"),
            ),
            Case(
                False,
                _static(tool="greenhouse", api="harvest", method="GET", path="/jobs"),
                Refused(GENERAL, 400, INPUT_INVALID, "does not match"),
            ),
        ],
        "delete_integration": [
            Case(True, _counting("integration-deleted", body={}), integration_deleted),
            _unknown_on(GENERAL, _on_unknown_integration(body={})),
        ],
        "get_integration_details": [
            Case(True, _on_integration(), integration_described),
            _unknown_on(GENERAL, _on_unknown_integration()),
        ],
        "set_integration_enabled": [
            Case(True, _counting("integration-state-changed", value=False), disabled_then_enabled),
            _unknown_on(GENERAL, _on_unknown_integration(value=False)),
        ],
        "create_reconnection_link": [
            Case(True, _on_integration(link_type="MAGIC_LINK", language="de"), link_made),
            _unknown_on(GENERAL, _on_unknown_integration()),
        ],
        "create_setup_link": [
            Case(
                True, _on_integration(link_type="EMBEDDED"), Refused(GENERAL, 400, INPUT_INVALID, "no setup flow steps")
            ),
            _unknown_on(GENERAL, _on_unknown_integration(link_type="EMBEDDED")),
        ],
        "get_integration_fields": [
            Case(True, _on_integration(page_size=50), empty_field_page),
            Case(False, _on_integration(page_size=0), Refused(GENERAL, 400, INPUT_INVALID, "page_size")),
        ],
        "update_integration_field": [
            Case(
                True,
                _on_integration(integration_field_id="field-1", enable_passthrough=True),
                Refused(GENERAL, 404, INPUT_INVALID, "No integration field"),
            ),
            _unknown_on(GENERAL, _on_unknown_integration(integration_field_id="field-1", enable_passthrough=None)),
        ],
        "get_custom_fields": [
            Case(True, _on_integration(), empty_field_page),
            Case(False, _on_integration(cursor="NoSuchCursor"), Refused(GENERAL, 400, INPUT_INVALID, "cursor")),
        ],
        "update_custom_field_mapping": [
            Case(
                True,
                _on_integration(custom_field_id="custom-1", integration_field_id=None),
                Refused(GENERAL, 404, INPUT_INVALID, "No custom field"),
            ),
            _unknown_on(GENERAL, _on_unknown_integration(custom_field_id="custom-1", integration_field_id="f")),
        ],
        "get_tools": [
            Case(True, _static(category="assessment"), sandbox_tool_listed),
            Case(True, _static(category="hris"), no_tools),
            Case(False, _static(category="ats"), Refused(GENERAL, 401, "PLATFORM.AUTHENTICATION_INVALID"), api_key="x"),
        ],
    },
    "ats": {
        name: [
            Case(True, required_kwargs("ats", name), Refused(ATS, 400, "INTEGRATION.MODEL_NOT_AVAILABLE")),
            _unknown_on(ATS, required_kwargs("ats", name)),
        ]
        for name in ATS_METHODS
    },
    "hris": {
        name: [
            Case(True, required_kwargs("hris", name), Refused(HRIS, 400, "INTEGRATION.MODEL_NOT_AVAILABLE")),
            _unknown_on(HRIS, required_kwargs("hris", name)),
        ]
        for name in HRIS_METHODS
    },
}


# --------------------------------------------------------------------------- running them
def run(target: SandboxHandle, sub: str, name: str, case: Case, mode: str) -> str | None:
    """Call one method once; ``None`` if it did what the case expects, else what went wrong."""
    with httpx.Client(timeout=30, verify=TLS) as http:
        return _run(Ctx(target, http), sub, name, case, mode)


def _run(ctx: Ctx, sub: str, name: str, case: Case, mode: str) -> str | None:
    kwargs = case.kwargs(ctx)

    async def call_async() -> Any:
        async with httpx.AsyncClient(timeout=30, verify=TLS) as http:
            client = ctx.sdk(case.integration(ctx), case.api_key, http)
            return await getattr(getattr(client, sub), f"{name}_async")(**kwargs)

    try:
        if mode == "async":
            result = asyncio.run(call_async())
        else:
            result = getattr(getattr(ctx.sdk(case.integration(ctx), case.api_key), sub), name)(**kwargs)
    except errors.SDKError as exc:
        return _refusal_problem(case.expect, exc)
    if isinstance(case.expect, Refused):
        return f"accepted, expected {case.expect.code}: {result!r:.200}"
    try:
        case.expect(ctx, result)
    except Exception as failed:  # noqa: BLE001 - reported with the method's name, like the other problems
        return f"answer not as expected: {type(failed).__name__} {failed}"
    return None


def _refusal_problem(expect: Check | Refused, exc: errors.SDKError) -> str | None:
    if not isinstance(expect, Refused):
        return f"refused: {type(exc).__name__} {exc.status_code} {exc.body[:200]}"
    if type(exc) is not expect.error:
        return f"{type(exc).__name__} (expected {expect.error.__name__}): {exc.status_code} {exc.body[:200]}"
    error = exc.data.error  # type: ignore[attr-defined]  # every Kombo error type has data.error
    if (exc.status_code, error.code) != (expect.status, expect.code) or expect.contains not in error.message:
        got = f"{exc.status_code} {error.code} {error.message!r}"
        return f"{got}, expected {expect.status} {expect.code} {expect.contains!r}"
    return None


def problems(target: SandboxHandle, sub: str) -> list[str]:
    return [
        f"{sub}.{name}{'_async' if mode == 'async' else ''} ({'valid' if case.valid else 'invalid'} #{i}): {problem}"
        for name, cases in CASES[sub].items()
        for i, case in enumerate(cases)
        for mode in ("sync", "async")
        if (problem := run(target, sub, name, case, mode)) is not None
    ]


# --------------------------------------------------------------------------- the tests
@functools.cache
def sub_sdk(sub: str) -> type[Any]:
    """The class of one of the client's sub-SDKs (``general``, ``assessment`` ...)."""
    with httpx.Client(verify=TLS) as http:
        return type(getattr(Kombo(api_key="unused", client=http, async_client=httpx.AsyncClient(verify=TLS)), sub))


def sdk_methods() -> set[tuple[str, str]]:
    """Every public method of every sub-SDK the client exposes, with the ``_async`` twins."""
    found = set()
    for sub in inspect.get_annotations(Kombo):
        own = vars(sub_sdk(sub))
        found |= {(sub, name) for name, member in own.items() if callable(member) and not name.startswith("_")}
    return found


def test_every_sdk_method_is_exercised_valid_and_invalid() -> None:
    exercised = {(sub, n) for sub, methods in CASES.items() for name in methods for n in (name, f"{name}_async")}
    assert sdk_methods() - exercised == set(), "SDK methods no case exercises (a new SDK release?)"
    assert exercised - sdk_methods() == set(), "cases for methods the SDK no longer has"
    for sub, methods in CASES.items():
        for name, cases in methods.items():
            assert {c.valid for c in cases} == {True, False}, f"{sub}.{name} needs a valid and an invalid case"


def test_the_sandbox_knows_every_key_the_sdk_sends() -> None:
    """Unknown keys are refused, so each request body the sandbox decodes must have exactly the SDK's keys."""
    pairs: dict[type[Any], type[pydantic.BaseModel]] = {
        schema.PutPackages: models.PutAssessmentPackagesRequestBody,
        schema.Package: models.PutAssessmentPackagesRequestBodyPackage,
        ResultBody: models.PutAssessmentOrdersAssessmentOrderIDResultRequestBody,
        schema.CreateLink: models.PostConnectCreateLinkRequestBody,
        schema.Relink: models.PostIntegrationsIntegrationIDRelinkRequestBody,
        schema.SetupLink: models.PostIntegrationsIntegrationIDSetupLinkRequestBody,
        schema.SetEnabled: models.PutIntegrationsIntegrationIDEnabledRequestBody,
        schema.ForceSync: models.PostForceSyncRequestBody,
        schema.Passthrough: models.PostPassthroughToolAPIRequestBody,
        schema.UpdateIntegrationField: (
            models.PatchIntegrationsIntegrationIDIntegrationFieldsIntegrationFieldIDRequestBody
        ),
        schema.UpdateCustomField: models.PutIntegrationsIntegrationIDCustomFieldsCustomFieldIDRequestBody,
    }
    for ours, theirs in pairs.items():
        sdk_keys = {f.alias or n for n, f in theirs.model_fields.items()}
        sdk_required = {f.alias or n for n, f in theirs.model_fields.items() if f.is_required()}
        assert set(ours.__struct_encode_fields__) == sdk_keys, ours.__name__
        assert {f.encode_name for f in msgspec.structs.fields(ours) if f.required} == sdk_required, ours.__name__


SUBS = list(CASES)


@pytest.mark.parametrize("sub", SUBS)
def test_every_method_against_the_standalone_sandbox(sandbox: SandboxHandle, sub: str) -> None:
    assert problems(sandbox, sub) == []


@pytest.mark.parametrize("sub", SUBS)
def test_every_method_against_the_sandbox_mounted_in_the_gateway(mounted: SandboxHandle, sub: str) -> None:
    assert problems(mounted, sub) == []
