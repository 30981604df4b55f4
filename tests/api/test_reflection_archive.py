"""The archive: a PDF of every version with the Chinese text, search by scope, ZIP for a filter."""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import Any

import pytest
from pypdf import PdfReader

from tests.conftest import AppClient, app_client, login

pytestmark = pytest.mark.usefixtures("backend_name", "demo")

BODY = "地铁上写的心得：大客户关系维护的三个要点是倾听、跟进、复盘。我会在下周拜访时逐条实践。" * 3


def _pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def _zhang_submits(client: AppClient) -> int:
    await login(client, "zhang")
    mine = (await client.get("/api/v1/assignments")).json()[0]
    response = await client.post(
        f"/api/v1/assignments/{mine['id']}/submissions",
        json={"body": BODY, "photo_ids": []},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201
    return int(response.json()["id"])


async def test_the_archived_pdf_carries_the_chinese_text(client: AppClient, settings: Any) -> None:
    submission_id = await _zhang_submits(client)
    own = await client.get(f"/api/v1/submissions/{submission_id}/archive.pdf")
    assert own.status_code == 200 and own.headers["content-type"] == "application/pdf"
    assert "attachment" in own.headers["content-disposition"]
    text = _pdf_text(own.content)
    assert "倾听、跟进、复盘" in text and "张丽华" in text and "大客户关系维护" in text
    again = await client.get(f"/api/v1/submissions/{submission_id}/archive.pdf")
    assert again.content == own.content  # rendered once, then served from storage
    async with app_client(settings) as wang:
        await login(wang, "wang")
        assert (await wang.get(f"/api/v1/submissions/{submission_id}/archive.pdf")).status_code == 404
    async with app_client(settings) as manager:
        await login(manager, "manager")
        graded = await manager.put(
            f"/api/v1/reflections/{submission_id}/grade",
            json={"grade": "excellent", "feedback": "很好的复盘"},
        )
        assert graded.status_code == 204
        newest = await manager.get(f"/api/v1/submissions/{submission_id}/archive.pdf")
        assert newest.status_code == 200
        graded_text = _pdf_text(newest.content)
        assert "优秀" in graded_text and "很好的复盘" in graded_text and "倾听、跟进、复盘" in graded_text


async def test_search_is_scoped_and_the_zip_holds_every_match(client: AppClient, settings: Any) -> None:
    await _zhang_submits(client)
    assert (await client.get("/api/v1/archive")).status_code == 403
    async with app_client(settings) as hr:
        await login(hr, "hr")
        everything = (await hr.get("/api/v1/archive")).json()
        trainings = {item["training"]["name"] for item in everything["items"]}
        assert trainings == {"大客户关系维护", "代码评审实践"}
        sales_training = next(
            i["training"]["id"] for i in everything["items"] if i["training"]["name"] == "大客户关系维护"
        )
        found = (await hr.get(f"/api/v1/archive?training_id={sales_training}")).json()
        assert found["total"] >= 5 and {i["training"]["name"] for i in found["items"]} == {"大客户关系维护"}
        zipped = await hr.get(f"/api/v1/archive.zip?training_id={sales_training}")
        assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
        names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
        assert len(names) == found["total"] and all(name.endswith(".pdf") for name in names)
        nothing = await hr.get("/api/v1/archive.zip?date_from=2001-01-01&date_to=2001-01-02")
        assert nothing.status_code == 404
        bad_date = await hr.get("/api/v1/archive?date_from=yesterday")
        assert bad_date.status_code == 400
    async with app_client(settings) as manager:
        await login(manager, "manager")
        scoped = (await manager.get("/api/v1/archive")).json()
        assert {item["training"]["name"] for item in scoped["items"]} == {"大客户关系维护"}
