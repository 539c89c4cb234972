"""Photo attachments: checked by content, size-limited, stripped of metadata, stored under
generated names, recorded on the timeline, and served only to people who may see the case."""
# Fixtures are imported from pages_support and then requested by name.
# ruff: noqa: F811

import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from PIL import Image

from civicgrid.cases import actions
from civicgrid.cases.models import Attachment, AttachmentKind, CaseEvent
from civicgrid.cases.tests.builders import lead_of
from civicgrid.org.permissions import PermissionDenied

from .pages_support import city, image_bytes, new_case, report, sla_rules, town, upload  # noqa: F401


def _signed_task(town, case=None):
    case = case or new_case(town)
    case = actions.file_case(case, town.dispatcher)
    case = actions.dispatch_case(case, town.city_management, [], town.dispatcher)
    task = lead_of(case)
    return case, actions.sign_for(task, town.cm_handler)


def test_a_phone_photo_is_stored_under_a_generated_name_without_exif(town):
    # given a JPEG whose EXIF holds the camera make and a GPS position, named after the reporter
    data = image_bytes()
    assert b"PhoneMakerX" in data and Image.open(io.BytesIO(data)).getexif()
    case = new_case(town)
    # when the reporter attaches it
    photo = actions.add_attachment(case, upload("张三家门口.jpg", data), AttachmentKind.REPORT)
    # then it is kept under cases/YYYY/MM/<uuid4>.jpg, re-encoded with no metadata left
    assert re.fullmatch(r"cases/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", photo.file.name)
    stored = photo.file.open("rb").read()
    assert b"PhoneMakerX" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and not image.getexif() and (image.width, image.height) == (64, 48)
    assert (photo.content_type, photo.size) == ("image/jpeg", len(stored))
    # and the timeline records it
    event = CaseEvent.objects.get(case=case, action="attach")
    assert event.data == {"attachment": photo.pk, "kind": "report"} and event.actor is None


@pytest.mark.parametrize("fmt,ext", [("PNG", "png"), ("WEBP", "webp")])
def test_png_and_webp_keep_their_format(town, fmt, ext):
    # given a PNG or WebP named as if it were a JPEG
    case = new_case(town)
    # when it is attached
    photo = actions.add_attachment(case, upload("x.jpg", image_bytes(fmt)), AttachmentKind.REPORT)
    # then its real type decides the extension and content type
    assert photo.file.name.endswith("." + ext) and photo.content_type == f"image/{ext}"


@pytest.mark.parametrize("data", [
    b"%PDF-1.4 not a picture at all",
    b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    image_bytes("GIF"),  # a real image, but not one of ours
    image_bytes()[:200],  # a truncated JPEG
])
def test_anything_but_a_jpeg_png_or_webp_is_refused_whatever_its_name(town, data):
    # given a file named photo.jpg with the wrong content
    case = new_case(town)
    # when it is attached
    with pytest.raises(ValidationError) as refused:
        actions.add_attachment(case, upload("photo.jpg", data), AttachmentKind.REPORT)
    # then it is refused on the file field, in Chinese by default, and nothing is stored
    assert refused.value.error_dict["file"][0].code == "not_an_image"
    assert str(refused.value.error_dict["file"][0].message) == "只能上传图片（JPEG/PNG/WebP）"
    assert not Attachment.objects.exists()


def test_a_photo_over_the_size_limit_is_refused(town, settings):
    # given a limit of 2 KB and a 3 KB photo
    settings.CIVICGRID_MAX_UPLOAD_BYTES = 2048
    data = image_bytes(size=(300, 300))
    assert len(data) > 2048
    case = new_case(town)
    # when it is attached
    with pytest.raises(ValidationError) as refused:
        actions.add_attachment(case, upload(data=data), AttachmentKind.REPORT)
    # then it is refused as too large
    assert refused.value.error_dict["file"][0].code == "too_large"


def test_the_default_limit_is_10_mb_and_says_so(town):
    # given the default setting and a file just over 10 MB
    case = new_case(town)
    data = image_bytes() + b"\0" * (10 * 1024 * 1024)
    # when it is attached
    with pytest.raises(ValidationError) as refused:
        actions.add_attachment(case, upload(data=data), AttachmentKind.REPORT)
    # then the message names the limit
    assert str(refused.value.error_dict["file"][0].message) == "图片不能超过 10 MB"


def test_result_photos_belong_to_a_signed_task_of_the_actors_department(town):
    # given a task signed for by 城管
    case, task = _signed_task(town)
    # when 城管 adds a result photo to it
    photo = actions.add_attachment(case, upload(), AttachmentKind.RESULT, town.cm_handler, task)
    # then it is linked to the task and the uploader
    assert (photo.assignment_id, photo.uploaded_by) == (task.pk, town.cm_handler)
    # but the police (no task on this case) cannot see the case at all
    with pytest.raises(Http404):
        actions.add_attachment(case, upload(), AttachmentKind.RESULT, town.police_handler, task)
    # and a reporter without an account cannot add result photos
    with pytest.raises(Exception) as refused:
        actions.add_attachment(case, upload(), AttachmentKind.RESULT, None, task)
    assert refused.value.get_codes() == "actor_required"


def test_a_dispatcher_cannot_add_verification_photos_before_resolution(town):
    # given a case in progress
    case, _task = _signed_task(town)
    # when a dispatcher adds a verification photo
    with pytest.raises(Exception) as refused:
        actions.add_attachment(case, upload(), AttachmentKind.VERIFICATION, town.dispatcher)
    # then the step is illegal in this state
    assert refused.value.get_codes() == "illegal_transition"
    # and a department handler may not verify at all
    with pytest.raises(PermissionDenied):
        actions.add_attachment(case, upload(), AttachmentKind.VERIFICATION, town.cm_handler)


def test_a_refused_photo_reports_no_result(town):
    # given a signed task
    case, task = _signed_task(town)
    # when the result comes with one good photo and one that is not an image
    with pytest.raises(ValidationError):
        actions.report_result_with_photos(task, "已修复", town.cm_handler,
                                          photos=[upload(), upload("b.jpg", b"not an image")])
    # then neither the result nor any photo was recorded
    task.refresh_from_db()
    assert task.state == "signed" and not Attachment.objects.exists()


def test_staff_get_photos_only_of_cases_they_may_see(town, client):
    # given a report photo on a case in 集美区 dispatched to 城管
    case = new_case(town)
    photo = actions.add_attachment(case, upload(), AttachmentKind.REPORT)
    _signed_task(town, case)
    url = f"/attachments/{photo.pk}/"
    # when 城管 asks for it
    client.force_login(town.cm_handler)
    response = client.get(url)
    # then it is served as an image that browsers must not sniff
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    # but the police and 思明 dispatchers get 404, anonymous visitors a login page
    for user in (town.police_handler, town.siming_dispatcher):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
    # and there is no public media URL for it
    assert client.get("/media/" + photo.file.name).status_code == 404
